"""The whole service with its camera routes, against real reference devices on loopback.

``running_api`` builds the app exactly as ``platonicam serve`` does
(``create_app``), with a camera transport that refuses every destination
outside loopback *before* resolving or connecting (it answers ``ConnectError``,
as an unreachable camera would, and records the attempt), and discovery with
multicast off. Devices are the real reference device: :class:`DeviceRuntime`
(with RTSP and WS-Discovery) or the lighter in-process app of the device tests.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvicorn

from platonicam.clock import SystemClock
from platonicam.config import Settings
from platonicam.device.app import create_device_app
from platonicam.device.core import DeviceOptions
from platonicam.device.runtime import DeviceRuntime
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams
from platonicam.onvif.errors import ConnectError
from platonicam.onvif.models.device import User, UserLevel
from platonicam.onvif.transport import (
    AsyncioSoapTransport,
    HttpCredentials,
    SoapHttpResponse,
    TlsOptions,
)
from platonicam.service.app import create_app
from platonicam.service.cameras import CameraTransport
from tests.conftest import FakeClock
from tests.integration.device.conftest import serve
from tests.integration.service.foundation import FAST_PASSWORDS, Service, settings_for

DEVICE_USER = "admin"
DEVICE_PASSWORD = "device-pass-7Xq2"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class LoopbackCameraTransport:
    """The real transport, for loopback destinations only; others are refused
    without a DNS lookup or a packet, recorded in ``refused``."""

    tls: TlsOptions
    timeout: float
    refused: list[str]
    inner: AsyncioSoapTransport = field(init=False)

    def __post_init__(self) -> None:
        self.inner = AsyncioSoapTransport(timeout=self.timeout, tls=self.tls)

    def _check(self, url: str) -> None:
        if not is_loopback(url):
            self.refused.append(url)
            raise ConnectError(f"test transport: {urlsplit(url).hostname} is not loopback")

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        self._check(url)
        return await self.inner.post(
            url, envelope, action=action, credentials=credentials, timeout=timeout
        )

    async def get(
        self, url: str, *, credentials: HttpCredentials | None = None, timeout: float | None = None
    ) -> SoapHttpResponse:
        self._check(url)
        return await self.inner.get(url, credentials=credentials, timeout=timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Api(Service):
    refused: list[str] = field(default_factory=list)

    async def admin_headers(self) -> dict[str, str]:
        return await self.headers_for("admin")

    async def wait_job(self, job_id: str, timeout: float = 30.0) -> dict[str, object]:
        """Poll the job until it finished; its JSON."""
        headers = await self.admin_headers()
        async with asyncio.timeout(timeout):
            while True:
                response = await self.client.get(f"/api/apply/status/{job_id}", headers=headers)
                assert response.status_code == 200, response.text
                body: dict[str, object] = response.json()
                if body["status"] in ("completed", "failed", "partial"):
                    return body
                await asyncio.sleep(0.05)


def api_settings(data_dir: Path, database_url: str = "", **overrides: object) -> Settings:
    """Settings with discovery kept off the network (no multicast, no targets).

    ``database_url`` empty keeps the default SQLite file in ``data_dir``; the
    ``database_url`` fixture (conftest) gives one on each backend.
    """
    discovery = {"multicast": False, "unicast_targets": [], "timeout": 1.0}
    # Every registered camera is subscribed for events at once; a device fixture stopping
    # first waits for the service's PullMessages in flight, so keep those short.
    events = overrides.get("events")
    overrides = {
        **overrides,
        "events": {"pull_timeout": 1.0, **(events if isinstance(events, dict) else {})},
    }
    if database_url:
        overrides = {**overrides, "database": {"url": database_url}}
    return settings_for(data_dir, discovery=discovery, **overrides)


@asynccontextmanager
async def running_api(
    settings: Settings, *, clock: FakeClock | None = None, demo: bool = False
) -> AsyncIterator[Api]:
    """The app with its lifespan, an httpx client over ASGI, loopback-only cameras."""
    refused: list[str] = []
    console = io.StringIO()

    def transport(tls: TlsOptions, timeout: float) -> CameraTransport:
        return LoopbackCameraTransport(tls, timeout, refused)

    # Tokens expire by the fake clock; cameras see real time (WS-Security).
    used_clock = clock or FakeClock()
    app = create_app(
        settings,
        clock=used_clock,
        passwords=FAST_PASSWORDS,
        console=console,
        camera_transport=transport,
        demo=demo,
    )
    transport_asgi = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport_asgi, base_url="http://platonicam") as client,
    ):
        api = Api(app=app, client=client, clock=used_clock, console=console, refused=refused)
        # The backend a test was parametrised with is the one the service uses.
        assert api.context.database.display_url == settings.database.url
        yield api


# ---------------------------------------------------------------------- devices


@dataclass
class LightDevice:
    """The device's SOAP app on 127.0.0.1 (no video, no discovery)."""

    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def light_device(
    data_dir: Path, wrap: object = None, password: str = DEVICE_PASSWORD
) -> LightDevice:
    """A reference device app with the admin ``DEVICE_USER``; ``wrap`` (an ASGI
    middleware factory) may stand between the server and the app."""
    state = DeviceState.load(data_dir)
    app = create_device_app(
        state, NullStreams(rtsp_port=8554), DeviceOptions(clock=SystemClock(), reboot_delay=0.0)
    )
    if not state.users.users:
        app.device.users.create([User(DEVICE_USER, UserLevel.ADMINISTRATOR, password)])
    await app.device.start()
    served = wrap(app) if callable(wrap) else app
    server, task, port = await serve(served)  # type: ignore[arg-type]
    return LightDevice(port, server, task)


def runtime_device(data_dir: Path) -> DeviceRuntime:
    """The whole device (RTSP, discovery on a free loopback port, multicast off)."""
    return DeviceRuntime(
        data_dir,
        "127.0.0.1",
        0,
        0,
        discovery=True,
        discovery_port=0,
        multicast=False,
        admin_password=DEVICE_PASSWORD,
    )


class FailingImaging:
    """An ASGI middleware in front of a real device: SetImagingSettings answers a
    SOAP Receiver fault, everything else reaches the device. Makes an apply fail
    half-way (the stream change takes, the imaging change does not)."""

    FAULT = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        b'xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault>'
        b"<env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>"
        b"ter:Action</env:Value></env:Subcode></env:Code>"
        b'<env:Reason><env:Text xml:lang="en">imaging is broken</env:Text></env:Reason>'
        b"</env:Fault></env:Body></env:Envelope>"
    )

    def __init__(self, app: object) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        app = self.app
        assert callable(app)
        assert callable(receive)
        assert callable(send)
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
        if b"SetImagingSettings" in body:
            self.refused += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/soap+xml; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": self.FAULT})
            return
        sent = False

        async def replay() -> dict[str, object]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: dict[str, object] = await receive()
            return message

        await app(scope, replay, send)
