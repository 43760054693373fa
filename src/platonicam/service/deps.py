"""FastAPI dependencies: the service's parts, and who may call a route.

Every route but ``/health`` and login declares what it needs::

    @router.get("/api/cameras/{camera_id}")
    async def get_camera(
        camera_id: str,
        user: Annotated[UserRecord, Depends(requires(Role.VIEWER, camera="camera_id"))],
    ): ...

or takes the principal to decide itself (lists filtered by grants)::

    async def list_cameras(user: Annotated[UserRecord, Depends(requires(Role.VIEWER))]): ...

:func:`requires` answers 401 (problem+json, ``WWW-Authenticate: Bearer``) with
no token or a bad, expired or revoked one, and 403 when the role is too low or,
for a camera route, the user holds no grant on that camera. Admins need no
grants. The camera id is read from the path parameter the route names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from platonicam.clock import Clock
from platonicam.config import Settings
from platonicam.service.auth import InvalidToken, LoginRateLimiter, Passwords, Tokens
from platonicam.service.cameras import CameraManager, Discovery
from platonicam.service.errors import PermissionDenied
from platonicam.service.jobs.runner import ApplyRunner
from platonicam.service.jobs.sql_store import SqlJobStore
from platonicam.service.optimize import Recommender
from platonicam.store.database import Database
from platonicam.store.records import Role, UserRecord
from platonicam.store.repositories import AuditRepository, CameraRepository, UserRepository
from platonicam.store.secrets import CredentialCipher


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """Everything routes use, built once by ``create_app``'s lifespan."""

    settings: Settings
    clock: Clock
    database: Database
    cipher: CredentialCipher
    users: UserRepository
    cameras: CameraRepository
    jobs: SqlJobStore
    audit: AuditRepository
    passwords: Passwords
    tokens: Tokens
    login_limiter: LoginRateLimiter
    #: Connected clients for registered cameras (cached, bounded).
    camera_manager: CameraManager
    #: The apply engine, connecting through ``camera_manager``.
    runner: ApplyRunner
    discovery: Discovery
    recommender: Recommender
    #: Called with a camera id when a route added, changed or deleted that camera (the
    #: events supervisor and the media gateway register here to react at once).
    camera_listeners: list[Callable[[str], None]] = field(default_factory=list)

    def camera_changed(self, camera_id: str) -> None:
        """Tell every listener that ``camera_id`` was added, changed or deleted."""
        for listener in self.camera_listeners:
            listener(camera_id)


async def get_context(request: Request) -> ServiceContext:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, one hop per request.
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, ServiceContext):  # pragma: no cover - only outside the lifespan
        raise RuntimeError("the service is not started (create_app's lifespan has not run)")
    return context


Context = Annotated[ServiceContext, Depends(get_context)]

# auto_error=False: a missing token must become our problem+json 401, not FastAPI's plain one.
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def current_user(
    context: Context, token: Annotated[str | None, Depends(bearer)]
) -> UserRecord:
    """The user the bearer token speaks for; :class:`InvalidToken` (401) otherwise."""
    if not token:
        raise InvalidToken(
            "this endpoint needs a bearer token: log in with POST /api/auth/token and send "
            "'Authorization: Bearer <access_token>'"
        )
    return await context.tokens.user_for_access(token)


CurrentUser = Annotated[UserRecord, Depends(current_user)]


def may_use_camera(user: UserRecord, camera_id: str) -> bool:
    """Admins use every camera; others those they hold a grant for."""
    return user.role is Role.ADMIN or camera_id in user.grants


def check_camera(user: UserRecord, camera_id: str) -> None:
    """:class:`PermissionDenied` (403) unless ``user`` may use ``camera_id``.

    For routes that name the camera in the body rather than the path.
    """
    if not may_use_camera(user, camera_id):
        raise PermissionDenied(
            f"user {user.name!r} has no grant for camera {camera_id!r}: an admin can grant it "
            f"with PUT /api/users/{user.name}/grants/{camera_id}"
        )


def requires(
    role: Role, *, camera: str | None = None
) -> Callable[[Request, UserRecord], Awaitable[UserRecord]]:
    """A dependency: the current user if their role includes ``role`` and, when
    ``camera`` names a path parameter, they may use that camera."""

    async def dependency(request: Request, user: CurrentUser) -> UserRecord:
        if not user.role.includes(role):
            raise PermissionDenied(
                f"this needs the {role.value} role; user {user.name!r} is {user.role.value}"
            )
        if camera is not None:
            camera_id = request.path_params.get(camera)
            if not isinstance(camera_id, str):  # pragma: no cover - a route wiring mistake
                raise RuntimeError(f"route has no path parameter {camera!r}")
            check_camera(user, camera_id)
        return user

    return dependency


Viewer = Annotated[UserRecord, Depends(requires(Role.VIEWER))]
Operator = Annotated[UserRecord, Depends(requires(Role.OPERATOR))]
Admin = Annotated[UserRecord, Depends(requires(Role.ADMIN))]
