"""``create_app(settings)``: the service's one composition root.

Everything the routes use is built here, in the lifespan, in this order:

1. the data folder (0700) and its secrets: the credentials key and the
   token-signing secret (each from the environment/settings, else from a file
   created 0600 on first start);
2. the database, migrated to the current schema (``store.database``);
3. the repositories, the SQL job store, and jobs a previous process left
   ``pending``/``in_progress`` marked failed ("interrupted by a service restart");
4. the first admin: when no user exists, one named ``admin`` is created with a
   random password that is written once to ``console`` (stderr by default) and
   nowhere else: not to the log, not to the database in clear;
5. the camera manager (cached, bounded connections to registered cameras),
   the apply runner that connects through it, discovery as the settings say,
   and the optimize recommender;
6. with ``demo=True``, the embedded reference device on loopback, registered
   as "Demo camera" (``service.demo``), and discovery limited to it;
7. the routes, with every error leaving as ``application/problem+json``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TextIO

from fastapi import FastAPI

from platonicam import __version__
from platonicam.clock import Clock, SystemClock
from platonicam.config import Settings
from platonicam.service.auth import LoginRateLimiter, Passwords, Tokens, generate_password
from platonicam.service.cameras import CameraManager, Discovery, TransportFactory
from platonicam.service.demo import DemoDevice
from platonicam.service.deps import ServiceContext
from platonicam.service.errors import install_error_handlers
from platonicam.service.events import EventsSupervisor, notify_route
from platonicam.service.hls_app import HlsFastPath
from platonicam.service.jobs.runner import ApplyRunner
from platonicam.service.jobs.sql_store import SqlJobStore
from platonicam.service.metadata import MetadataService
from platonicam.service.optimize import Recommender, RuleBasedRecommender
from platonicam.service.restream import rtsp_restream
from platonicam.service.routers import (
    apply,
    audit,
    auth,
    cameras,
    discover,
    events,
    health,
    media,
    metadata,
    optimize,
    ptz,
    streams,
    users,
)
from platonicam.store.database import Database
from platonicam.store.records import Role
from platonicam.store.repositories import (
    AuditRepository,
    CameraRepository,
    RefreshTokenRepository,
    UserRepository,
)
from platonicam.store.repositories.errors import ConflictError
from platonicam.store.secrets import (
    JWT_SECRET_FILE,
    CredentialCipher,
    ensure_data_dir,
    generate_token_secret,
    read_or_create_secret,
)

logger = logging.getLogger(__name__)

FIRST_ADMIN_NAME = "admin"


async def ensure_first_admin(
    users: UserRepository, passwords: Passwords, console: TextIO
) -> str | None:
    """Create the ``admin`` user when there is no user at all; return its name.

    The generated password goes to ``console`` only. ``None`` when users exist
    (another process may have just created them: that is not an error).
    """
    if await users.count() > 0:
        return None
    password = generate_password()
    try:
        await users.create(FIRST_ADMIN_NAME, Role.ADMIN, passwords.hash(password))
    except ConflictError:
        return None
    console.write(
        "\n"
        "PlatoniCam: there were no users, so an administrator was created:\n"
        f"    user:     {FIRST_ADMIN_NAME}\n"
        f"    password: {password}\n"
        "This password is shown only this once. Log in and change it\n"
        f"(PATCH /api/users/{FIRST_ADMIN_NAME}), or create your own admin with\n"
        "`platonicam users create NAME --role admin --password-env VAR`.\n\n"
    )
    console.flush()
    logger.info("created the first admin user %r (password shown on the console)", "admin")
    return FIRST_ADMIN_NAME


async def build_context(
    settings: Settings,
    *,
    clock: Clock,
    passwords: Passwords,
    console: TextIO,
    camera_transport: TransportFactory | None = None,
    recommender: Recommender | None = None,
) -> ServiceContext:
    """Open and prepare everything (steps 1 to 4 above). The caller disposes the database."""
    data_dir = ensure_data_dir(settings.data_dir)
    key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    cipher = CredentialCipher.from_data_dir(data_dir, key)
    if settings.auth.secret is not None:
        secret = settings.auth.secret.get_secret_value().encode("utf-8")
    else:
        secret = read_or_create_secret(data_dir / JWT_SECRET_FILE, generate_token_secret)

    database = Database(settings.database.url, echo=settings.database.echo)
    try:
        await database.migrate()
        user_repo = UserRepository(database.sessions, clock)
        jobs = SqlJobStore(database.sessions, clock)
        interrupted = await jobs.mark_interrupted_on_start()
        if interrupted:
            logger.warning(
                "%d job(s) were interrupted by the restart and are now failed: %s",
                len(interrupted),
                ", ".join(job.job_id for job in interrupted),
            )
        await ensure_first_admin(user_repo, passwords, console)
        refresh_tokens = RefreshTokenRepository(database.sessions, clock)
        await refresh_tokens.purge_expired()
    except BaseException:
        await database.dispose()
        raise
    camera_repo = CameraRepository(database.sessions, cipher, clock)
    manager = CameraManager(
        camera_repo,
        data_dir=data_dir,
        tls=settings.tls,
        transport_factory=camera_transport,
        # Cameras live in real time: their clock offset (and the skew a refused
        # password is checked for) is measured against the host's clock, even
        # when tests drive token expiry with a fake one.
        clock=SystemClock(),
    )
    return ServiceContext(
        settings=settings,
        clock=clock,
        database=database,
        cipher=cipher,
        users=user_repo,
        cameras=camera_repo,
        jobs=jobs,
        audit=AuditRepository(database.sessions, clock),
        passwords=passwords,
        tokens=Tokens(
            secret=secret,
            clock=clock,
            users=user_repo,
            refresh_tokens=refresh_tokens,
            access_seconds=settings.auth.access_token_seconds,
            refresh_seconds=settings.auth.refresh_token_seconds,
        ),
        login_limiter=LoginRateLimiter(
            clock=clock,
            per_user=settings.auth.login_failures_per_user,
            per_address=settings.auth.login_failures_per_address,
            window_seconds=settings.auth.login_window_seconds,
        ),
        camera_manager=manager,
        runner=ApplyRunner(jobs, manager.link, clock=clock),
        discovery=Discovery(settings.discovery, clock),
        recommender=recommender or RuleBasedRecommender(),
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
    console: TextIO | None = None,
    camera_transport: TransportFactory | None = None,
    recommender: Recommender | None = None,
    demo: bool = False,
) -> FastAPI:
    """The PlatoniCam REST API for ``settings``.

    ``clock`` (default: the system's) drives token expiry and timestamps;
    ``passwords`` replaces the argon2 parameters (tests use cheaper ones);
    ``console`` receives the one-time first-admin password (default stderr).
    ``camera_transport`` builds the HTTP transport to cameras (tests restrict
    it to loopback); ``recommender`` replaces the rule-based one behind
    ``POST /api/optimize``; ``demo`` starts the embedded demo device.
    Nothing is opened until the app's lifespan starts.
    """
    used_clock: Clock = clock or SystemClock()
    used_passwords = passwords or Passwords()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = await build_context(
            settings,
            clock=used_clock,
            passwords=used_passwords,
            console=console or sys.stderr,
            camera_transport=camera_transport,
            recommender=recommender,
        )
        app.state.context = context
        try:
            async with AsyncExitStack() as stack:
                if demo:
                    app.state.demo = await stack.enter_async_context(DemoDevice(context))
                # After the demo device registered itself, so it is subscribed at once.
                app.state.events = await stack.enter_async_context(
                    EventsSupervisor.for_context(context)
                )
                app.state.media = await stack.enter_async_context(streams.media_gateway(context))
                # Camera routes announce changes, so subscriptions and feeds follow at once
                # (both also re-read the camera table on their own every few seconds).
                context.camera_listeners.append(app.state.events.camera_changed)
                gateway = app.state.media.gateway
                context.camera_listeners.append(lambda _camera_id: gateway.cameras_changed())
                app.state.metadata = await stack.enter_async_context(
                    MetadataService(app.state.media.gateway, bus=app.state.events.bus)
                )
                # rtsp://host:port/cameras/{id}, fed by the gateway (closed before it).
                app.state.restream = await stack.enter_async_context(
                    rtsp_restream(context, app.state.media.gateway, app.state.media.tokens)
                )
                yield
        finally:
            await context.runner.aclose()
            await context.camera_manager.aclose()
            await context.database.dispose()

    app = FastAPI(
        title="PlatoniCam",
        version=__version__,
        summary="Find ONVIF cameras, apply verified settings, guard them with users and grants.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # LL-HLS GETs answered before routing (hls_app); the streams router documents them.
    app.add_middleware(HlsFastPath)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(discover.router)
    app.include_router(cameras.router)
    app.include_router(apply.router)
    app.include_router(optimize.router)
    app.include_router(ptz.router)
    app.include_router(media.router)
    app.include_router(events.router)
    # Cameras in push mode POST wsnt:Notify here (authenticated by the token in the path).
    app.router.routes.append(notify_route())
    app.include_router(streams.router)
    app.include_router(metadata.router)
    app.include_router(streams.pages)
    return app
