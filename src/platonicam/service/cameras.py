"""The camera manager: connected ONVIF clients for the cameras the service knows.

Strategy:

- A registered camera is reached with its stored (decrypted) credentials; the
  password lives only in the :class:`OnvifClient` and its transport, never in a
  record, a log line or an error this module raises.
- Connected clients are cached per camera and reused by every route: a
  connection costs the camera two requests (its clock and its service list),
  which a browser polling current settings should not pay each time. An entry
  idle for longer than ``idle_seconds`` is closed the next time the manager is
  used; :meth:`CameraManager.forget` drops one at once (the camera's address or
  password changed, or it was deleted).
- At most ``max_concurrent`` camera operations run at once across all cameras
  (a page listing 50 cameras must not open 50 sockets at the same moment).
- Every :class:`OnvifError` met while talking to a registered camera leaves as
  :class:`CameraOperationError`, which carries the camera id and the clock
  offset so the problem table can tell clock skew from a wrong password.
- The apply engine gets *unconnected* clients from :meth:`link`, which it
  connects and closes itself (one per job): a job must not share a connection
  with the routes, whose cached entry may expire in the middle of it.
- Apply requests may name an unregistered camera by address with credentials
  (the original REST contract). Those credentials are kept in memory only, under
  an id of the form ``addr:HOST:PORT``, until the service stops.

Transports are built by ``transport_factory`` (tests pass one that refuses every
destination outside loopback); by default the real
:class:`~platonicam.onvif.transport.AsyncioSoapTransport`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

from platonicam.clock import Clock, SystemClock
from platonicam.config import DiscoverySettings, TlsSettings
from platonicam.discovery import (
    Candidate,
    DiscoveryError,
    InvalidQuery,
    discover_iter,
    probe_unicast_iter,
)
from platonicam.discovery.messages import PORT as DISCOVERY_PORT
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import (
    AuthenticationError,
    HttpStatusError,
    NotAuthorized,
    OnvifError,
    RemoteProtocolError,
)
from platonicam.onvif.models.device import DeviceInformation
from platonicam.onvif.models.media import MediaProfile
from platonicam.onvif.transport import (
    AsyncioSoapTransport,
    HttpCredentials,
    SoapHttpResponse,
    TlsOptions,
)
from platonicam.service.errors import CameraOperationError
from platonicam.service.jobs.runner import CameraLink
from platonicam.store.records import CameraRecord
from platonicam.store.repositories import CameraRepository
from platonicam.store.repositories.errors import NotFoundError

logger = logging.getLogger(__name__)

#: Seconds a cached client may stay unused before it is closed.
DEFAULT_IDLE_SECONDS: Final = 120.0
#: Camera operations in flight at once, across all cameras.
DEFAULT_MAX_CONCURRENT: Final = 8
#: A snapshot is served from memory for this many seconds (viewers poll).
SNAPSHOT_MAX_AGE: Final = 1.0
#: The id prefix of unregistered cameras named by address in an apply request.
ADDRESS_PREFIX: Final = "addr:"


class CameraTransport(Protocol):
    """What the manager needs from an HTTP transport: SOAP posts and snapshot GETs."""

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse: ...

    async def get(
        self,
        url: str,
        *,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse: ...

    async def aclose(self) -> None: ...


TransportFactory = Callable[[TlsOptions, float], CameraTransport]


def default_transport(tls: TlsOptions, timeout: float) -> CameraTransport:
    return AsyncioSoapTransport(timeout=timeout, tls=tls)


@dataclass(frozen=True, slots=True)
class CameraAddress:
    """Where a camera answers ONVIF and how its certificate is trusted."""

    host: str
    port: int = 80
    use_https: bool = False
    verify_tls: bool = True
    ca_cert_pem: str | None = None

    @property
    def label(self) -> str:
        """``host:port``, as errors name an unregistered camera."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def of(cls, camera: CameraRecord) -> CameraAddress:
        return cls(
            camera.host, camera.port, camera.use_https, camera.verify_tls, camera.ca_cert_pem
        )


@dataclass(frozen=True, slots=True)
class CameraLogin:
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def address_id(address: CameraAddress) -> str:
    """The id an unregistered camera's jobs carry (``addr:192.0.2.10:80``)."""
    return f"{ADDRESS_PREFIX}{address.host}:{address.port}"


def main_profile(profiles: list[MediaProfile]) -> MediaProfile | None:
    """The profile the service shows and changes: the first with a video encoder."""
    return next((p for p in profiles if p.video_encoder_configuration is not None), None)


class _JobClient(OnvifClient):
    """A client that closes the transport it was given (the runner closes the client)."""

    def __init__(
        self,
        address: CameraAddress,
        login: CameraLogin,
        transport: CameraTransport,
        *,
        timeout: float,
        clock: Clock,
    ) -> None:
        super().__init__(
            address.host,
            address.port,
            login.username,
            login.password,
            scheme="https" if address.use_https else "http",
            transport=transport,
            timeout=timeout,
            clock=clock,
        )
        self._owned = transport

    async def aclose(self) -> None:
        await super().aclose()
        await self._owned.aclose()


@dataclass(slots=True)
class _Entry:
    client: OnvifClient
    transport: CameraTransport
    credentials: HttpCredentials | None
    last_used: float
    users: int = 0
    snapshot_uri: str | None = None
    snapshot: tuple[float, bytes] | None = None


class CameraManager:
    """Connected clients for registered cameras (see the module docstring)."""

    def __init__(
        self,
        cameras: CameraRepository,
        *,
        data_dir: Path,
        tls: TlsSettings | None = None,
        transport_factory: TransportFactory | None = None,
        clock: Clock | None = None,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        timeout: float = 10.0,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        self._cameras = cameras
        self._data_dir = data_dir
        self._tls = tls or TlsSettings()
        self._factory: TransportFactory = transport_factory or default_transport
        self._clock: Clock = clock or SystemClock()
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self._gate = asyncio.Semaphore(max_concurrent)
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._by_address: dict[str, tuple[CameraAddress, CameraLogin]] = {}
        self._closed = False

    # ------------------------------------------------------------------ building clients

    def _tls_options(self, address: CameraAddress) -> TlsOptions:
        if not (self._tls.verify_cameras and address.verify_tls):
            return TlsOptions(verify=False)
        if address.ca_cert_pem:
            return TlsOptions(ca_file=str(self._ca_file(address.ca_cert_pem)))
        if self._tls.ca_file is not None:
            return TlsOptions(ca_file=str(self._tls.ca_file))
        return TlsOptions()

    def _ca_file(self, pem: str) -> Path:
        """The camera's trusted certificate as a file (TLS contexts load files),
        named by its hash so two cameras with the same CA share one."""
        folder = self._data_dir / "camera-ca"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(pem.encode('utf-8')).hexdigest()[:24]}.pem"
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(pem)
        return path

    def _client(
        self, address: CameraAddress, login: CameraLogin, transport: CameraTransport
    ) -> OnvifClient:
        return OnvifClient(
            address.host,
            address.port,
            login.username,
            login.password,
            scheme="https" if address.use_https else "http",
            transport=transport,
            timeout=self.timeout,
            clock=self._clock,
        )

    async def _address_and_login(self, camera_id: str) -> tuple[CameraAddress, CameraLogin]:
        if camera_id.startswith(ADDRESS_PREFIX):
            known = self._by_address.get(camera_id)
            if known is None:
                raise NotFoundError("camera", camera_id)
            return known
        camera = await self._cameras.require(camera_id)
        credentials = await self._cameras.credentials(camera_id)
        return CameraAddress.of(camera), CameraLogin(credentials.username, credentials.password)

    # ------------------------------------------------------------------ public

    def remember_address(self, address: CameraAddress, login: CameraLogin) -> str:
        """Keep the credentials of an unregistered camera (in memory) for apply
        jobs and their rollbacks; returns its id (:func:`address_id`)."""
        camera_id = address_id(address)
        self._by_address[camera_id] = (address, login)
        return camera_id

    async def identify(self, address: CameraAddress, login: CameraLogin) -> DeviceInformation:
        """Connect once to a camera that is not registered yet and read who it is.

        Proves the address and the credentials (GetDeviceInformation needs a
        user). Raises :class:`CameraOperationError` naming ``host:port``.
        """
        transport = self._factory(self._tls_options(address), self.timeout)
        client = self._client(address, login, transport)
        try:
            async with self._gate:
                await client.connect()
                return await client.device.get_device_information()
        except OnvifError as error:
            raise CameraOperationError(
                address.label, error, clock_offset=client.clock_offset
            ) from error
        finally:
            await client.aclose()
            await transport.aclose()

    @asynccontextmanager
    async def client(self, camera_id: str) -> AsyncIterator[OnvifClient]:
        """A connected client for ``camera_id`` for the duration of the block.

        Raises :class:`NotFoundError` for an unknown camera and
        :class:`CameraOperationError` for any ONVIF failure, in connecting or in
        the block. A refused password drops the cached client, so new
        credentials are used at the next call.
        """
        await self._expire_idle()
        async with self._gate:
            entry = await self._entry(camera_id)
            entry.users += 1
            try:
                yield entry.client
            except OnvifError as error:
                if isinstance(error, AuthenticationError | NotAuthorized):
                    await self.forget(camera_id)
                raise CameraOperationError(
                    camera_id, error, clock_offset=entry.client.clock_offset
                ) from error
            finally:
                entry.users -= 1
                entry.last_used = self._clock.monotonic()

    async def link(self, camera_id: str) -> CameraLink:
        """An unconnected client of its own for an apply job (the apply engine's
        connector); its password is listed as a secret to scrub from records."""
        address, login = await self._address_and_login(camera_id)
        transport = self._factory(self._tls_options(address), self.timeout)
        client = _JobClient(address, login, transport, timeout=self.timeout, clock=self._clock)
        return CameraLink(client, secrets=(login.password,) if login.password else ())

    async def snapshot(self, camera_id: str) -> bytes:
        """A JPEG of the camera's main profile, fetched from its snapshot URI with
        its credentials (Digest), kept for :data:`SNAPSHOT_MAX_AGE` seconds.

        Raises :class:`CameraOperationError` when the camera has no snapshot or
        answers with anything but a JPEG.
        """
        async with self.client(camera_id) as client:
            entry = self._entries[camera_id]
            now = self._clock.monotonic()
            if entry.snapshot is not None and now - entry.snapshot[0] < SNAPSHOT_MAX_AGE:
                return entry.snapshot[1]
            if entry.snapshot_uri is None:
                profile = main_profile(await client.media.get_profiles())
                if profile is None:
                    raise RemoteProtocolError("the camera has no video profile to snapshot")
                entry.snapshot_uri = (await client.media.get_snapshot_uri(profile.token)).uri
            response = await entry.transport.get(
                entry.snapshot_uri, credentials=entry.credentials, timeout=self.timeout
            )
            if response.status_code == 401:
                raise AuthenticationError("the camera refused the credentials for its snapshot")
            if response.status_code != 200:
                raise HttpStatusError(
                    f"the snapshot URI answered HTTP {response.status_code}",
                    status_code=response.status_code,
                )
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "image/jpeg" or not response.content.startswith(b"\xff\xd8"):
                raise RemoteProtocolError(
                    f"the snapshot URI answered {kind or 'no type'}, not JPEG"
                )
            entry.snapshot = (self._clock.monotonic(), response.content)
            return response.content

    async def forget(self, camera_id: str) -> None:
        """Close and drop the cached client (after a change of address or password)."""
        entry = self._entries.pop(camera_id, None)
        if entry is not None:
            await self._close(entry)

    async def aclose(self) -> None:
        """Close every cached client; the manager refuses work afterwards."""
        self._closed = True
        entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            await self._close(entry)

    @property
    def cached(self) -> frozenset[str]:
        """Ids of the cameras with a connected client now."""
        return frozenset(self._entries)

    # ------------------------------------------------------------------ cache

    async def _entry(self, camera_id: str) -> _Entry:
        if self._closed:
            raise RuntimeError("the camera manager is closed")
        lock = self._locks.setdefault(camera_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(camera_id)
            if entry is not None:
                return entry
            address, login = await self._address_and_login(camera_id)
            transport = self._factory(self._tls_options(address), self.timeout)
            client = self._client(address, login, transport)
            try:
                await client.connect()
            except OnvifError as error:
                await transport.aclose()
                raise CameraOperationError(
                    camera_id, error, clock_offset=client.clock_offset
                ) from error
            except BaseException:
                await transport.aclose()
                raise
            credentials = (
                HttpCredentials(login.username, login.password or "")
                if login.username is not None
                else None
            )
            entry = _Entry(client, transport, credentials, self._clock.monotonic())
            self._entries[camera_id] = entry
            return entry

    async def _expire_idle(self) -> None:
        now = self._clock.monotonic()
        stale = [
            camera_id
            for camera_id, entry in self._entries.items()
            if entry.users == 0 and now - entry.last_used > self.idle_seconds
        ]
        for camera_id in stale:
            logger.debug("closing the idle connection to camera %s", camera_id)
            await self.forget(camera_id)

    @staticmethod
    async def _close(entry: _Entry) -> None:
        await entry.client.aclose()
        await entry.transport.aclose()


# ---------------------------------------------------------------------- discovery


@dataclass(frozen=True, slots=True)
class Sighting:
    """A camera that answered a discovery scan, and when (``discovered_at`` UTC)."""

    candidate: Candidate
    discovered_at: datetime

    @property
    def id(self) -> str:
        """The device's endpoint reference without ``urn:uuid:`` (stable across scans)."""
        reference = self.candidate.endpoint_reference
        return reference.removeprefix("urn:uuid:")


def parse_target(target: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` -> ``(host, port)`` (WS-Discovery's 3702
    by default); :class:`ValueError` for a port that is not a number."""
    text = target.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DISCOVERY_PORT
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, DISCOVERY_PORT


class _Enough(Exception):
    """Enough cameras were found: stops the other probes of a scan."""


class Discovery:
    """Scans as the settings say: multicast from ``interfaces`` (unless off) and
    a unicast probe to each of ``unicast_targets``; remembers the last answers
    so a camera can be added by its discovery id.

    Demo mode turns multicast off and adds the embedded device's loopback
    discovery port as the only target (:meth:`only_unicast`).
    """

    def __init__(self, settings: DiscoverySettings, clock: Clock | None = None) -> None:
        self.multicast = settings.multicast
        self.interfaces: tuple[str, ...] = tuple(settings.interfaces)
        self.unicast_targets: tuple[str, ...] = tuple(settings.unicast_targets)
        self.default_timeout = settings.timeout
        self._clock: Clock = clock or SystemClock()
        self._seen: dict[str, Sighting] = {}

    def only_unicast(self, *targets: str) -> None:
        """No multicast from now on; probe exactly ``targets``."""
        self.multicast = False
        self.unicast_targets = tuple(targets)

    def seen(self, sighting_id: str) -> Sighting | None:
        """A camera from an earlier scan by its id, if this process saw it."""
        return self._seen.get(sighting_id)

    async def scan(self, timeout: float, max_cameras: int | None = None) -> list[Sighting]:
        """Probe for ``timeout`` seconds; each device once, in the order they
        answered, at most ``max_cameras``. Raises :class:`DiscoveryError` when
        no socket can be opened or a target is invalid."""
        streams: list[AsyncGenerator[Candidate, None]] = []
        for target in self.unicast_targets:
            try:
                host, port = parse_target(target)
            except ValueError:
                raise InvalidQuery(f"unicast target {target!r} is not host or host:port") from None
            streams.append(probe_unicast_iter(host, port=port, timeout=timeout, repeat=2))
        if self.multicast:
            streams.append(discover_iter(timeout, interfaces=self.interfaces or None))
        found: dict[str, Sighting] = {}

        async def drain(stream: AsyncGenerator[Candidate, None]) -> None:
            async with aclosing(stream):
                async for candidate in stream:
                    if candidate.endpoint_reference in found:
                        continue
                    found[candidate.endpoint_reference] = Sighting(candidate, self._clock.now())
                    if max_cameras is not None and len(found) >= max_cameras:
                        raise _Enough

        try:
            async with asyncio.TaskGroup() as group:
                for stream in streams:
                    group.create_task(drain(stream))
        except* _Enough:
            pass  # the caller asked for no more: the other probes are cancelled
        except* DiscoveryError as failures:
            raise failures.exceptions[0] from None
        sightings = list(found.values())[: max_cameras if max_cameras is not None else None]
        for sighting in sightings:
            self._seen[sighting.id] = sighting
        return sightings
