"""One table: every error the API can meet -> HTTP status + an RFC 9457 problem.

Every failure leaves the API as ``application/problem+json``::

    {"type": "urn:platonicam:problem:camera-unreachable", "title": "...",
     "status": 502, "detail": "what happened. What to do.", "code": "camera-unreachable"}

plus ``errors`` (a list of ``{"field", "message"}``) where fields are at fault.
``detail`` is written here from the error's *type* and the camera id, never
copied from text that may have seen a password: ONVIF errors are described,
not echoed. Our own errors (store, auth, jobs) carry messages written for
people and containing no secrets, so those are passed through.

Camera errors go to 5xx statuses (502 and 504: the camera, behind us, failed),
never to 401/403: a wrong *camera* password must not look to a client like its
own login expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from platonicam.errors import PlatonicamError
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HttpStatusError,
    InvalidArgValue,
    LocalProtocolError,
    NotAuthorized,
    OnvifError,
    OperationProhibited,
    ReadTimeout,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
    TLSVerificationError,
    TransportError,
)
from platonicam.service.auth import InvalidCredentials, InvalidToken, LoginRateLimited, WeakPassword
from platonicam.service.jobs.errors import (
    CameraBusyError,
    DesiredSettingsError,
    JobError,
    JobNotFoundError,
    PlanError,
    RollbackError,
)
from platonicam.store.database import DatabaseError
from platonicam.store.repositories.errors import ConflictError, NotFoundError
from platonicam.store.secrets import SecretsError

logger = logging.getLogger(__name__)

PROBLEM_JSON: Final = "application/problem+json"

#: A camera clock further than this from ours makes a refused request more likely
#: to be clock skew (WS-Security timestamps) than a wrong password.
SKEW_THRESHOLD: Final = timedelta(minutes=5)


class PermissionDenied(PlatonicamError):
    """The user is known but their role or grants do not allow this."""


class CameraOperationError(PlatonicamError):
    """An ONVIF error met on a registered camera, with what is known about it.

    Routers raise this (``from`` the original) so the problem can name the camera
    and tell clock skew from a wrong password (``clock_offset``: camera minus us).
    """

    def __init__(
        self, camera_id: str, error: OnvifError, *, clock_offset: timedelta | None = None
    ) -> None:
        super().__init__(f"camera {camera_id}: {type(error).__name__}")
        self.camera_id = camera_id
        self.error = error
        self.clock_offset = clock_offset


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem: ``code`` is the stable slug clients switch on."""

    status: int
    code: str
    title: str
    detail: str
    errors: tuple[FieldProblem, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": f"urn:platonicam:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body(),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=dict(self.headers),
        )


@dataclass(frozen=True, slots=True)
class _CameraRow:
    status: int
    code: str
    title: str
    what: str  # "{camera}" is replaced with "camera <id>" or "the camera"
    hint: str


# Most specific first: the first matching type wins.
CAMERA_ERRORS: Final[tuple[tuple[type[OnvifError], _CameraRow], ...]] = (
    (
        TLSVerificationError,
        _CameraRow(
            502,
            "camera-tls",
            "Camera certificate not trusted",
            "the TLS certificate of {camera} did not verify",
            "Give the camera's CA or certificate (caCertPem), or turn verifyTls off for this "
            "camera on a network you trust",
        ),
    ),
    (
        ConnectTimeout,
        _CameraRow(
            504,
            "camera-timeout",
            "Camera timed out",
            "connecting to {camera} timed out",
            "Check that the camera is powered, on this network, and at the registered address",
        ),
    ),
    (
        ConnectError,
        _CameraRow(
            502,
            "camera-unreachable",
            "Camera unreachable",
            "nothing answers at the address of {camera}",
            "Check the host and port (ONVIF is often on 80, 8000 or 8080) and that the camera "
            "is on",
        ),
    ),
    (
        ReadTimeout,
        _CameraRow(
            504,
            "camera-timeout",
            "Camera timed out",
            "{camera} accepted the connection but did not answer in time",
            "Check that the port is the ONVIF port; a busy camera may need a retry",
        ),
    ),
    (
        AuthenticationError,
        _CameraRow(
            502,
            "camera-auth",
            "Camera refused the credentials",
            "{camera} refused the stored user name or password",
            "Update the camera's username and password; the ONVIF user needs operator or "
            "administrator rights on the camera",
        ),
    ),
    (
        NotAuthorized,
        _CameraRow(
            502,
            "camera-auth",
            "Camera refused the credentials",
            "{camera} refused the stored user name or password",
            "Update the camera's username and password; the ONVIF user needs operator or "
            "administrator rights on the camera",
        ),
    ),
    (
        HttpStatusError,
        _CameraRow(
            502,
            "camera-http",
            "Camera answered with an HTTP error",
            "{camera} answered with an HTTP error instead of ONVIF",
            "Check the port, and that ONVIF is enabled in the camera's web settings",
        ),
    ),
    (
        RemoteProtocolError,
        _CameraRow(
            502,
            "camera-protocol",
            "Camera sent an unreadable answer",
            "{camera} did not answer like an ONVIF device",
            "Check the port: something other than an ONVIF service may be listening there",
        ),
    ),
    (
        ServiceNotSupported,
        _CameraRow(
            501,
            "camera-unsupported",
            "Not supported by the camera",
            "{camera} does not offer the ONVIF service this needs",
            "This camera cannot do that over ONVIF",
        ),
    ),
    (
        ActionNotSupported,
        _CameraRow(
            501,
            "camera-unsupported",
            "Not supported by the camera",
            "{camera} does not support the ONVIF operation this needs",
            "This camera cannot do that over ONVIF",
        ),
    ),
    (
        InvalidArgValue,
        _CameraRow(
            422,
            "camera-rejected-value",
            "Camera rejected a value",
            "{camera} rejected a value in the request",
            "Read the camera's capabilities and choose values among the ones it offers",
        ),
    ),
    (
        OperationProhibited,
        _CameraRow(
            409,
            "camera-prohibited",
            "Camera refused in its current state",
            "{camera} refuses this operation in its current state or configuration",
            "Check the camera's settings (another client may hold it) and try again",
        ),
    ),
    (
        SoapFaultError,
        _CameraRow(
            502,
            "camera-fault",
            "Camera refused the request",
            "{camera} answered with a SOAP fault",
            "Check the camera's settings and the rights of its ONVIF user",
        ),
    ),
    (
        LocalProtocolError,
        _CameraRow(
            422,
            "camera-impossible-request",
            "Not possible on this camera",
            "the request cannot be valid for {camera}, so nothing was sent",
            "Read the camera's capabilities and choose values among the ones it offers",
        ),
    ),
    (
        TransportError,
        _CameraRow(
            502,
            "camera-unreachable",
            "Camera unreachable",
            "the HTTP exchange with {camera} failed",
            "Check the network between this server and the camera, then try again",
        ),
    ),
    (
        OnvifError,
        _CameraRow(
            502,
            "camera-error",
            "Camera error",
            "talking to {camera} failed",
            "Check the camera and try again",
        ),
    ),
)

_CLOCK_SKEW = _CameraRow(
    502,
    "camera-clock-skew",
    "Camera clock differs from ours",
    "{camera} refused the request, and its clock is {offset} {direction} ours: it probably "
    "rejects our WS-Security timestamps",
    "Set the camera's time (enable NTP on it); if the clock is right, check its username and "
    "password",
)


def camera_problem(
    error: OnvifError, *, camera_id: str | None = None, clock_offset: timedelta | None = None
) -> Problem:
    """The problem for an ONVIF error met on ``camera_id`` (text built from the type only)."""
    camera = f"camera {camera_id}" if camera_id else "the camera"
    if (
        isinstance(error, (NotAuthorized, AuthenticationError))
        and clock_offset is not None
        and abs(clock_offset) > SKEW_THRESHOLD
    ):
        seconds = clock_offset.total_seconds()
        what = _CLOCK_SKEW.what.format(
            camera=camera,
            offset=_human(seconds),
            direction="ahead of" if seconds > 0 else "behind",
        )
        return _camera(_CLOCK_SKEW, what)
    for error_type, row in CAMERA_ERRORS:
        if isinstance(error, error_type):
            return _camera(row, row.what.format(camera=camera))
    raise AssertionError("unreachable: OnvifError is the table's last row")  # pragma: no cover


def _camera(row: _CameraRow, what: str) -> Problem:
    return Problem(row.status, row.code, row.title, f"{what[:1].upper()}{what[1:]}. {row.hint}.")


def _human(seconds: float) -> str:
    value = abs(seconds)
    if value >= 86400:
        return f"{value / 86400:.0f} days"
    if value >= 3600:
        return f"{value / 3600:.1f} hours"
    return f"{value / 60:.0f} minutes"


def _plan(error: PlanError) -> Problem:
    return Problem(
        422,
        "plan-refused",
        "The camera cannot take these settings",
        f"Nothing was sent: {'; '.join(p.message for p in error.problems)}.",
        tuple(FieldProblem(p.field, p.message) for p in error.problems),
    )


def _rate_limited(error: LoginRateLimited) -> Problem:
    return Problem(
        429,
        "login-rate-limited",
        "Too many failed logins",
        f"{str(error)[:1].upper()}{str(error)[1:]}.",
        headers={"Retry-After": str(error.retry_after)},
    )


def _simple(status: int, code: str, title: str) -> Callable[[PlatonicamError], Problem]:
    def build(error: PlatonicamError) -> Problem:
        text = str(error)
        detail = f"{text[:1].upper()}{text[1:]}" if text else title
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return Problem(status, code, title, detail, headers=headers)

    return build


# Our own errors, most specific first. Their messages are written for people and hold no secrets.
DOMAIN_ERRORS: Final[tuple[tuple[type[PlatonicamError], Callable[..., Problem]], ...]] = (
    (PlanError, _plan),
    (
        DesiredSettingsError,
        lambda e: Problem(
            422,
            "invalid-settings",
            "Invalid settings",
            f"{str(e)[:1].upper()}{str(e)[1:]}.",
            tuple(FieldProblem(p.split(":", 1)[0], p) for p in e.problems),
        ),
    ),
    (CameraBusyError, _simple(409, "camera-busy", "Camera busy")),
    (JobNotFoundError, _simple(404, "not-found", "Not found")),
    (RollbackError, _simple(409, "rollback-impossible", "Cannot roll back")),
    (JobError, _simple(422, "job-error", "Job refused")),
    (LoginRateLimited, _rate_limited),
    (InvalidCredentials, _simple(401, "invalid-credentials", "Login failed")),
    (InvalidToken, _simple(401, "not-authenticated", "Not authenticated")),
    (WeakPassword, _simple(422, "weak-password", "Password too weak")),
    (PermissionDenied, _simple(403, "forbidden", "Forbidden")),
    (NotFoundError, _simple(404, "not-found", "Not found")),
    (ConflictError, _simple(409, "conflict", "Conflict")),
    (
        SecretsError,
        _simple(500, "credentials-key", "Stored credentials cannot be read"),
    ),
    (DatabaseError, _simple(503, "database-unavailable", "Database unavailable")),
)


def problem_for(error: BaseException, *, camera_id: str | None = None) -> Problem:
    """The problem for any error; unknown ones become a bare 500 that reveals nothing."""
    if isinstance(error, CameraOperationError):
        return camera_problem(
            error.error, camera_id=error.camera_id, clock_offset=error.clock_offset
        )
    if isinstance(error, OnvifError):
        return camera_problem(error, camera_id=camera_id)
    for error_type, build in DOMAIN_ERRORS:
        if isinstance(error, error_type):
            return build(error)
    return Problem(
        500,
        "internal-error",
        "Internal error",
        "The server failed unexpectedly; the server log has the details.",
    )


_STATUS_CODES: Final = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    422: "invalid-request",
    429: "rate-limited",
}


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leave ``app`` as ``application/problem+json``."""

    async def on_platonicam(request: Request, error: Exception) -> JSONResponse:
        camera_id = request.path_params.get("camera_id")
        problem = problem_for(error, camera_id=camera_id if isinstance(camera_id, str) else None)
        if problem.status >= 500 and not isinstance(error, OnvifError | CameraOperationError):
            logger.error("%s %s: %s", request.method, request.url.path, type(error).__name__)
        return problem.response()

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = _STATUS_CODES.get(error.status_code, "http-error")
        detail = error.detail if isinstance(error.detail, str) else code
        headers = dict(error.headers or {})
        if error.status_code == 404 and detail == "Not Found":
            detail = f"There is no {request.url.path} in this API; /docs lists the routes."
        return Problem(
            error.status_code, code, code.replace("-", " ").capitalize(), detail, headers=headers
        ).response()

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = tuple(
            FieldProblem(
                ".".join(str(part) for part in item.get("loc", ())),
                str(item.get("msg", "invalid value")),
            )
            for item in error.errors()
        )
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return Problem(
            422,
            "invalid-request",
            "Invalid request",
            f"The request does not match the API: {listed}.",
            problems,
        ).response()

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem_for(error).response()

    app.add_exception_handler(PlatonicamError, on_platonicam)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
