"""The reference device as a process: the composition root of ``platonicam device``.

::

    async with DeviceRuntime(data_dir, "127.0.0.1", 0, 0) as device:
        print(device.port, device.rtsp_port)   # ONVIF HTTP and RTSP ports
        await device.serve_forever()            # until SIGTERM/SIGINT or "stop"

:class:`DeviceRuntime` loads the state (:meth:`DeviceState.load`), creates the
first administrator when there is no user, and starts the *services*:

* the RTSP server (:class:`~platonicam.rtsp.server.RtspServer`, HTTP Digest
  against the device's users) with one test-pattern stream per encoder
  configuration (with its AAC beep unless ``audio`` is off, see
  :mod:`platonicam.device.audio`, and its simulated analytics as an ONVIF
  metadata track),
  mounted at ``/profile/<token>`` for every media profile (kept
  in step with CreateProfile/DeleteProfile/Add...Configuration through the
  state's change notifications);
* the SOAP app (:func:`create_device_app`) served by uvicorn on a socket we
  bind ourselves, so a port in use is a clear error before anything starts;
* the WS-Discovery responder, which reads scopes and the discovery mode live
  from the state (SetScopes and SetDiscoveryMode take effect at the next probe;
  a change of scopes, or becoming discoverable, sends a Hello);
* in demo mode, motion that starts every 20 s and stops 10 s later.

Around them, for the whole process: the control socket
(:mod:`platonicam.device.control`) that ``platonicam device trigger`` and
``users`` use, and a supervisor that handles SystemReboot by stopping the
services (Bye sent, sockets closed) and starting them again from the files on
the same ports, as a rebooted camera comes back. Leaving the ``async with``
block stops everything and waits until every socket is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final, Self
from urllib.parse import quote

import uvicorn

from platonicam.clock import Clock, SystemClock
from platonicam.device.app import DeviceApp, create_device_app
from platonicam.device.audio import AudioSettings
from platonicam.device.control import ControlServer, JsonObject, user_command
from platonicam.device.core import Device, DeviceOptions
from platonicam.device.paths import SERVICE_PATHS
from platonicam.device.security import SecurityPolicy
from platonicam.device.state import DeviceState, FileName, StateFileError
from platonicam.device.streams import StreamError, TestPatternStreams
from platonicam.discovery.errors import DiscoveryError
from platonicam.discovery.messages import DEVICE, NETWORK_VIDEO_TRANSMITTER, PORT, TargetService
from platonicam.discovery.responder import DiscoveryResponder
from platonicam.errors import PlatonicamError
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.device import DiscoveryMode
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import LiveStream
from platonicam.tasks import cancel_and_wait

log = logging.getLogger(__name__)

ADMIN_USER: Final = "admin"
#: Demo mode: motion starts every ``DEMO_PERIOD`` seconds and lasts ``DEMO_MOTION``.
DEMO_PERIOD: Final = 20.0
DEMO_MOTION: Final = 10.0
#: A trigger without a state is a pulse: on now, off after this many seconds.
PULSE_SECONDS: Final = 5.0
#: How long open HTTP requests (long-polling PullMessages) may delay a stop.
SHUTDOWN_GRACE: Final = 2.0
_WILDCARDS: Final = frozenset({"0.0.0.0", "::", ""})  # noqa: S104


class DeviceRuntimeError(PlatonicamError):
    """The device cannot start or run: one line for people (port in use, a folder
    that is not writable, a bad state file naming the file and field)."""


@dataclass(frozen=True, slots=True)
class IdentityOverrides:
    """Identity set from the command line; ``None`` keeps what the state holds.

    ``name`` and ``location`` replace the configurable ``name/`` and
    ``location/`` scopes; ``manufacturer`` and ``model`` the device information.
    """

    name: str | None = None
    location: str | None = None
    manufacturer: str | None = None
    model: str | None = None


def onvif_scope(category: str, value: str) -> str:
    """``onvif://www.onvif.org/<category>/<value>`` with the value percent-encoded."""
    return f"onvif://www.onvif.org/{category}/{quote(value, safe='/')}"


def discovery_scopes(state: DeviceState) -> tuple[str, ...]:
    """The scopes the device announces: the fixed ones GetScopes lists (types,
    profiles, hardware, manufacturer) and the configurable ones (name, location,
    and whatever SetScopes set).

    ONVIF Core defines no manufacturer scope, but many cameras announce
    ``onvif://www.onvif.org/manufacturer/...`` and discovery tools (ours too)
    read it: a probe can then name the maker without a single SOAP call."""
    identity = state.device.identity
    fixed = (
        "onvif://www.onvif.org/type/video_encoder",
        "onvif://www.onvif.org/type/ptz",
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/Profile/T",
        onvif_scope("hardware", identity.model),
        onvif_scope("manufacturer", identity.manufacturer),
    )
    return (*fixed, *state.device.scopes)


def apply_identity(state: DeviceState, identity: IdentityOverrides) -> None:
    """Write command-line identity into the state (saved only when something changed)."""
    device = state.device
    changed = False
    if identity.manufacturer is not None and identity.manufacturer != device.identity.manufacturer:
        device.identity.manufacturer = identity.manufacturer
        changed = True
    if identity.model is not None and identity.model != device.identity.model:
        device.identity.model = identity.model
        changed = True
    for category, value in (("name", identity.name), ("location", identity.location)):
        if value is None:
            continue
        prefix = f"onvif://www.onvif.org/{category}/"
        scopes = [s for s in device.scopes if not s.lower().startswith(prefix.lower())]
        scopes.append(onvif_scope(category, value))
        if scopes != device.scopes:
            device.scopes = scopes
            changed = True
    if changed:
        state.save("device")


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the runtime owns SIGTERM and SIGINT
    (a reboot stops and starts the HTTP server without ending the process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listen(host: str, port: int, what: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted sockets only
    # when the listening socket's proto is IPPROTO_TCP, and with proto 0 Nagle
    # held each keep-alive response body until the client's delayed ACK
    # (40 ms per request; benchmarks/device_soap.py measured 21 requests/s).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise _bind_error(exc, host, port, what) from None
    return sock


def _bind_error(exc: OSError, host: str, port: int, what: str) -> DeviceRuntimeError:
    if exc.errno == errno.EADDRINUSE:
        return DeviceRuntimeError(f"{what} port {port} on {host} is in use")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DeviceRuntimeError(f"{what} port {port} on {host}: permission denied")
    if exc.errno == errno.EADDRNOTAVAIL:
        return DeviceRuntimeError(f"{host} is not an address of this host ({what})")
    return DeviceRuntimeError(f"cannot listen on {host}:{port} ({what}): {exc.strerror}")


@dataclass
class _Services:
    """What one boot of the device runs (stopped and rebuilt by a reboot)."""

    state: DeviceState
    app: DeviceApp
    streams: TestPatternStreams
    rtsp: RtspServer
    server: _Server | None = None
    serve_task: asyncio.Task[None] | None = None
    responder: DiscoveryResponder | None = None
    mounts: dict[str, tuple[str, LiveStream]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    mount_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    announced: tuple[DiscoveryMode, tuple[str, ...]] | None = None

    @property
    def device(self) -> Device:
        return self.app.device


class DeviceRuntime:
    """The whole reference device in this process (see the module docstring).

    ``port``/``rtsp_port`` 0 pick free ports (read them back after start; a
    reboot keeps them). ``discovery`` off runs no responder; ``multicast``
    defaults to off when ``bind`` is a loopback address and on otherwise.
    ``admin_password`` is used when the data folder has no user yet; without
    it a password is generated and available once as :attr:`generated_password`.
    ``audio`` off makes the streams silent (no AAC track).
    """

    def __init__(
        self,
        data_dir: Path | str,
        bind: str = "127.0.0.1",
        port: int = 0,
        rtsp_port: int = 0,
        *,
        discovery: bool = True,
        discovery_port: int = PORT,
        multicast: bool | None = None,
        demo: bool = False,
        channels: int = 1,
        identity: IdentityOverrides | None = None,
        admin_password: str | None = None,
        clock: Clock | None = None,
        reboot_delay: float = 0.5,
        audio: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.bind = bind
        self._port = port
        self._rtsp_port = rtsp_port
        self.discovery = discovery
        self._discovery_port = discovery_port
        self.multicast = (
            multicast
            if multicast is not None
            else not (bind.startswith("127.") or bind in ("::1", "localhost"))
        )
        self.demo = demo
        self.channels = channels
        self.identity = identity or IdentityOverrides()
        self._admin_password = admin_password
        self.clock = clock or SystemClock()
        self.reboot_delay = reboot_delay
        self.audio = audio
        self.generated_password: str | None = None
        self.boots = 0
        self._services: _Services | None = None
        self._control: ControlServer | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._reboot_requested = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._metadata_version = 1
        self.rebooted = asyncio.Event()

    # -------------------------------------------------------------- properties

    @property
    def port(self) -> int:
        """The ONVIF HTTP port."""
        return self._port

    @property
    def rtsp_port(self) -> int:
        return self._rtsp_port

    @property
    def discovery_port(self) -> int | None:
        """The WS-Discovery port answered on (``None`` without discovery)."""
        services = self._services
        if services is None or services.responder is None:
            return None
        return services.responder.port

    @property
    def running(self) -> bool:
        return self._services is not None

    def _live(self) -> _Services:
        if self._services is None:
            raise DeviceRuntimeError("the device is not running")
        return self._services

    @property
    def device(self) -> Device:
        """The live device (changes after a reboot)."""
        return self._live().device

    @property
    def state(self) -> DeviceState:
        return self._live().state

    @property
    def endpoint_reference(self) -> str:
        return f"urn:uuid:{self.state.device.identity.endpoint_uuid}"

    def url(self, host: str | None = None) -> str:
        """The device service address (``host`` defaults to the bind address)."""
        chosen = host or ("127.0.0.1" if self.bind in _WILDCARDS else self.bind)
        shown = f"[{chosen}]" if ":" in chosen else chosen
        return f"http://{shown}:{self._port}{SERVICE_PATHS[ServiceKind.DEVICE]}"

    # -------------------------------------------------------------- life cycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Load the state and start everything. Raises :class:`DeviceRuntimeError`
        with one line for people; nothing is left open when it does."""
        if self._supervisor is not None:
            return
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.data_dir, os.W_OK | os.X_OK):
                raise DeviceRuntimeError(f"data folder {self.data_dir} is not writable")
            control = ControlServer(self.data_dir, self._control_request)
            await control.start()
        except OSError as exc:
            raise DeviceRuntimeError(
                f"data folder {self.data_dir} is not usable: {exc.strerror or exc}"
            ) from None
        except PlatonicamError as exc:
            raise DeviceRuntimeError(str(exc)) from None
        self._control = control
        try:
            await self._start_services(first=True)
        except BaseException:
            await control.close()
            self._control = None
            raise
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name="device-supervisor"
        )

    async def stop(self) -> None:
        """Stop everything (Bye sent, sockets closed, state flushed). Idempotent."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            await cancel_and_wait(supervisor)
        await self._stop_services()
        control, self._control = self._control, None
        if control is not None:
            await control.close()

    def request_stop(self) -> None:
        """Ask :meth:`serve_forever` to return (signal handlers and ``stop`` call this)."""
        self._stop_requested.set()

    def request_reboot(self) -> None:
        """Restart the services soon (what SystemReboot does)."""
        self._reboot_requested.set()

    async def serve_forever(self, *, handle_signals: bool = True) -> None:
        """Serve until SIGTERM/SIGINT (with ``handle_signals``) or :meth:`request_stop`."""
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, self.request_stop)
                    installed.append(sig)
        try:
            await self._stop_requested.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    async def _supervise(self) -> None:
        while True:
            await self._reboot_requested.wait()
            self._reboot_requested.clear()
            log.info("rebooting: restarting the device's services")
            self.rebooted.clear()
            await self._stop_services()
            await asyncio.sleep(0.2)  # a reboot is seen as a gap, not as a blink
            try:
                await self._start_services(first=False)
            except DeviceRuntimeError as exc:
                log.error("the device could not come back after a reboot: %s", exc)
                self.request_stop()
                return
            self.rebooted.set()

    async def _reboot_hook(self) -> None:
        # Runs inside the app's own task, which the app cancels while shutting
        # down: only signal the supervisor, which does the work.
        self.request_reboot()

    # -------------------------------------------------------------- services

    def _load_state(self) -> DeviceState:
        try:
            loaded = DeviceState.load(self.data_dir, channels=self.channels)
            if self.boots == 0:
                apply_identity(loaded, self.identity)
        except StateFileError as exc:
            raise DeviceRuntimeError(str(exc)) from None
        except OSError as exc:
            raise DeviceRuntimeError(
                f"data folder {self.data_dir} is not writable: {exc.strerror or exc}"
            ) from None
        # The same files, with a change listener (media changes re-mount streams,
        # scope and mode changes announce).
        return DeviceState(
            loaded.data_dir,
            device=loaded.device,
            media=loaded.media,
            imaging=loaded.imaging,
            ptz=loaded.ptz,
            users=loaded.users,
            io=loaded.io,
            events=loaded.events,
            on_change=self._state_changed,
        )

    async def _start_services(self, *, first: bool) -> None:
        state = self._load_state()
        policy = SecurityPolicy()
        rtsp = RtspServer(
            self.bind if self.bind not in _WILDCARDS else "0.0.0.0",  # noqa: S104
            self._rtsp_port,
            self._rtsp_password,
            realm=policy.realm,
        )
        try:
            await rtsp.start()
        except OSError as exc:
            raise _bind_error(exc, self.bind, self._rtsp_port, "RTSP") from None
        http_socket: socket.socket | None = None
        audio = AudioSettings() if self.audio else None
        streams = TestPatternStreams(rtsp.port, clock=self.clock, audio=audio)
        try:
            http_socket = _listen(self.bind, self._port, "ONVIF HTTP")
            app = create_device_app(
                state,
                streams,
                DeviceOptions(
                    clock=self.clock,
                    security=policy,
                    reboot=self._reboot_hook,
                    reboot_delay=self.reboot_delay,
                    audio=audio,
                ),
            )
            services = _Services(state=state, app=app, streams=streams, rtsp=rtsp)
            self._services = services
            self._rtsp_port = rtsp.port
            self._port = int(http_socket.getsockname()[1])
            if first:
                self.generated_password = app.device.users.ensure_admin(
                    ADMIN_USER, self._admin_password
                )
            try:
                await app.device.start()
            except StreamError as exc:
                raise DeviceRuntimeError(f"cannot start the video: {exc}") from None
            await self._sync_mounts(services)
            await self._serve_http(services, http_socket)
            http_socket = None
            if self.discovery:
                await self._start_responder(services)
            if self.demo:
                self._spawn(services, self._demo_motion(services), "device-demo")
        except BaseException:
            if http_socket is not None:
                http_socket.close()
            if self._services is None:
                await rtsp.close()
                streams.close()
            await self._stop_services()
            raise
        self.boots += 1

    async def _serve_http(self, services: _Services, sock: socket.socket) -> None:
        config = uvicorn.Config(
            services.app,
            lifespan="on",
            log_level="warning",
            access_log=False,
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
        )
        server = _Server(config)
        services.server = server
        services.serve_task = asyncio.get_running_loop().create_task(
            server.serve(sockets=[sock]), name="device-http"
        )
        while not server.started:
            if services.serve_task.done():
                raise DeviceRuntimeError("the ONVIF HTTP server did not start")
            await asyncio.sleep(0.01)

    async def _start_responder(self, services: _Services) -> None:
        responder = DiscoveryResponder(
            self._describe,
            bind=self.bind if self.bind not in _WILDCARDS else "0.0.0.0",  # noqa: S104
            port=self._discovery_port,
            interfaces=None if self.bind in _WILDCARDS or not self.multicast else [self.bind],
            multicast=self.multicast,
        )
        try:
            await responder.start()
        except DiscoveryError as exc:
            raise DeviceRuntimeError(str(exc)) from None
        services.responder = responder
        self._discovery_port = responder.port  # a reboot answers on the same port
        services.announced = (
            services.state.device.discovery_mode,
            discovery_scopes(services.state),
        )

    async def _stop_services(self) -> None:
        services = self._services
        if services is None:
            return
        if services.responder is not None:
            # Bye first, while the state that describes the device is still live.
            await services.responder.stop()
        self._services = None
        for task in list(services.tasks):
            task.cancel()
        if services.tasks:
            await asyncio.gather(*services.tasks, return_exceptions=True)
        if services.server is not None and services.serve_task is not None:
            services.server.should_exit = True
            with contextlib.suppress(Exception):
                await services.serve_task
        await services.rtsp.close()
        services.streams.close()

    def _spawn(
        self, services: _Services, coroutine: Coroutine[object, object, None], name: str
    ) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=name)
        services.tasks.add(task)
        task.add_done_callback(services.tasks.discard)

    # -------------------------------------------------------------- live state

    def _rtsp_password(self, username: str) -> str | None:
        services = self._services
        if services is None:
            return None
        users = services.device.users
        record = users.find(username)
        return None if record is None else users.password(record)

    def _describe(self, local: str) -> TargetService | None:
        services = self._services
        if services is None:
            return None
        state = services.state
        if state.device.discovery_mode is DiscoveryMode.NON_DISCOVERABLE:
            return None
        return TargetService(
            endpoint_reference=f"urn:uuid:{state.device.identity.endpoint_uuid}",
            types=(NETWORK_VIDEO_TRANSMITTER, DEVICE),
            scopes=discovery_scopes(state),
            xaddrs=(self.url(local),),
            metadata_version=self._metadata_version,
        )

    def _state_changed(self, name: FileName) -> None:
        services = self._services
        if services is None:
            return
        if name == "media":
            self._spawn(services, self._sync_mounts(services), "device-mounts")
        elif name == "device" and services.responder is not None:
            now = (services.state.device.discovery_mode, discovery_scopes(services.state))
            before, services.announced = services.announced, now
            if before is not None and now[1] != before[1]:
                self._metadata_version += 1
            # WS-Discovery: announce a change of metadata, and coming back into view.
            if before != now and now[0] is DiscoveryMode.DISCOVERABLE:
                services.responder.hello()

    async def _sync_mounts(self, services: _Services) -> None:
        """Mount every profile's stream at its path; drop mounts of profiles gone
        or pointed at another encoder configuration."""
        async with services.mount_lock:
            state, streams, rtsp = services.state, services.streams, services.rtsp
            wanted: dict[str, str] = {}
            for profile in state.media.profiles:
                encoder = profile.video_encoder_configuration
                if encoder is not None:
                    wanted[profile.token] = encoder.token
            for token, (encoder_token, stream) in list(services.mounts.items()):
                if (
                    wanted.get(token) != encoder_token
                    or streams.stream(encoder_token) is not stream
                ):
                    await rtsp.unmount(streams.rtsp_path(token))
                    del services.mounts[token]
            for token, encoder_token in wanted.items():
                if token in services.mounts:
                    continue
                live = streams.stream(encoder_token)
                configuration = state.encoder(encoder_token)
                if live is None and configuration is not None:
                    try:
                        await streams.configure(configuration)
                    except StreamError as exc:
                        log.warning("profile %s has no video: %s", token, exc)
                        continue
                    live = streams.stream(encoder_token)
                if live is None:
                    continue
                rtsp.mount(streams.rtsp_path(token), live, streams.metadata(encoder_token))
                services.mounts[token] = (encoder_token, live)

    # -------------------------------------------------------------- events

    async def _demo_motion(self, services: _Services) -> None:
        while True:
            await asyncio.sleep(DEMO_PERIOD - DEMO_MOTION)
            self._fire_motion(services, True, 1)
            await asyncio.sleep(DEMO_MOTION)
            self._fire_motion(services, False, 1)

    @staticmethod
    def _fire_motion(services: _Services, active: bool, channel: int) -> list[str]:
        hub = services.device.events
        fired = []
        for kind, source in (
            ("motion", f"VideoSource_{channel}"),
            ("cell_motion", f"VideoSourceConfig_{channel}"),
        ):
            if hub.fire(kind, active, source=source) is not None:
                fired.append(kind)
        return fired

    def trigger(
        self, event: str, state: bool | None = None, number: int | None = None
    ) -> list[str]:
        """Raise ``event`` (``motion``, ``tamper`` or ``input``) on channel or input
        ``number`` (default 1). ``state`` ``None`` is a pulse: on now, off after
        :data:`PULSE_SECONDS`. Returns the event kinds that changed. Raises
        :class:`DeviceRuntimeError` for an unknown event or number."""
        services = self._live()
        index = 1 if number is None else number
        active = True if state is None else state
        fired = self._fire(services, event, active, index)
        if state is None:

            async def release() -> None:
                await asyncio.sleep(PULSE_SECONDS)
                self._fire(services, event, False, index)

            self._spawn(services, release(), f"device-pulse-{event}")
        return fired

    def _fire(self, services: _Services, event: str, active: bool, index: int) -> list[str]:
        state = services.state
        if event == "motion":
            if not 1 <= index <= state.channels:
                raise DeviceRuntimeError(f"no channel {index} (the device has {state.channels})")
            return self._fire_motion(services, active, index)
        if event == "tamper":
            if not 1 <= index <= state.channels:
                raise DeviceRuntimeError(f"no channel {index} (the device has {state.channels})")
            fired = services.device.events.fire("tamper", active, source=f"VideoSource_{index}")
            return ["tamper"] if fired is not None else []
        if event == "input":
            inputs = state.io.inputs
            if not 1 <= index <= len(inputs):
                raise DeviceRuntimeError(f"no digital input {index} (the device has {len(inputs)})")
            record = inputs[index - 1]
            fired = services.device.events.fire("digital_input", active, source=record.token)
            if record.active != active:
                record.active = active
                state.save("io")
            return ["digital_input"] if fired is not None else []
        raise DeviceRuntimeError(f"unknown event {event!r} (motion, tamper or input)")

    # -------------------------------------------------------------- control

    async def _control_request(self, request: JsonObject) -> JsonObject:
        command = request.get("command")
        if command == "ping":
            return {
                "ok": True,
                "pid": os.getpid(),
                "port": self._port,
                "rtsp_port": self._rtsp_port,
                "boots": self.boots,
            }
        if command == "stop":
            self.request_stop()
            return {"ok": True}
        if command == "reboot":
            self.request_reboot()
            return {"ok": True}
        services = self._services
        if services is None:
            return {"ok": False, "error": "the device is rebooting; try again in a moment"}
        if command == "trigger":
            event, state, number = request.get("event"), request.get("state"), request.get("number")
            if not isinstance(event, str) or not isinstance(state, bool | None):
                return {"ok": False, "error": "trigger needs an event and a state"}
            if number is not None and not isinstance(number, int):
                return {"ok": False, "error": "trigger's number must be an integer"}
            try:
                fired = self.trigger(event, state, number)
            except DeviceRuntimeError as exc:
                return {"ok": False, "error": str(exc)}
            return {"ok": True, "fired": list(fired)}
        if isinstance(command, str) and command.startswith("users."):
            return user_command(services.device.users, request)
        return {"ok": False, "error": f"unknown command {command!r}"}
