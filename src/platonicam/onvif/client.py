"""The async ONVIF client.

Strategy: a connection is three unauthenticated-or-cheap calls, then typed calls.

1. ``GetSystemDateAndTime`` (the Core spec lets it answer without credentials):
   the camera's clock minus ours, measured at the midpoint of the exchange, is
   added to every WS-Security ``Created`` stamp we write.
2. ``GetServices`` (``GetCapabilities`` for cameras that fault on it) gives the
   service addresses, each rewritten to the host and port we reached the device
   on (cameras behind NAT or a port forward advertise their private address).
3. Media2 present means Profile T: the media facade prefers it.

Authentication is chosen per device and remembered (:attr:`OnvifClient.auth_mode`):
``auto`` first sends a UsernameToken; an HTTP 401 switches to HTTP Digest (then
Digest with the token, for devices that want both); a ``NotAuthorized`` fault
makes us re-read the camera's clock and try once more before giving up, since
skew is the most common reason a correct password is refused.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from platonicam.clock import Clock, SystemClock
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    HttpStatusError,
    InvalidArgValue,
    NotAuthorized,
    OnvifError,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
)
from platonicam.onvif.facades import (
    AnalyticsService,
    DeviceService,
    EventService,
    ImagingService,
    MediaService,
    PTZService,
)
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.models.device import Capabilities, Service, SystemDateAndTime
from platonicam.onvif.services import device as device_ops
from platonicam.onvif.soap.envelope import action_of, build_envelope_bytes, parse_envelope
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.wssecurity import username_token_bytes
from platonicam.onvif.transport import (
    AsyncioSoapTransport,
    HttpCredentials,
    SoapHttpResponse,
    SoapTransport,
    TlsOptions,
)

# The per-call timeout travels to every retry of one call (auth probing, clock
# re-read) without threading it through each helper's signature.
_REQUEST_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "platonicam_onvif_request_timeout", default=None
)

AuthMode = Literal["auto", "ws-security", "digest", "both", "none"]


@dataclass(frozen=True, slots=True)
class ServiceEndpoint:
    """Where one service answers, after NAT rewriting, and its version."""

    kind: ServiceKind | None
    namespace: str
    url: str
    advertised_url: str
    version: Version | None


def rewrite_xaddr(advertised: str, base_url: str) -> str:
    """Put the scheme, host and port of ``base_url`` on an advertised address.

    Tolerates what cameras advertise: a private or link-local host behind NAT,
    an empty host, a duplicated port (``http://10.0.0.5:80:80/onvif/...``) and
    paths with a query string. The path and query are kept.
    """
    base = urlsplit(base_url)
    raw = advertised.strip()
    scheme_end = raw.find("://")
    remainder = raw[scheme_end + 3 :] if scheme_end >= 0 else raw
    slash = remainder.find("/")
    path_and_query = remainder[slash:] if slash >= 0 else "/"
    path, _, query = path_and_query.partition("?")
    return urlunsplit((base.scheme, base.netloc, path or "/", query, ""))


class OnvifClient:
    """An ONVIF device reached over HTTP(S).

    Use it as an async context manager; entering it connects (clock, services)::

        async with OnvifClient("192.0.2.10", 80, "admin", password) as camera:
            info = await camera.device.get_device_information()
            profiles = await camera.media.get_profiles()

    ``transport`` replaces the HTTP layer (tests, in-process devices). ``tls``
    sets certificate trust for ``scheme="https"``; verification is on unless
    ``TlsOptions(verify=False)`` says otherwise. ``rewrite_xaddrs=False`` keeps
    the service addresses the camera advertises.
    """

    def __init__(
        self,
        host: str,
        port: int = 80,
        username: str | None = None,
        password: str | None = None,
        *,
        scheme: Literal["http", "https"] = "http",
        device_path: str = "/onvif/device_service",
        transport: SoapTransport | None = None,
        tls: TlsOptions | None = None,
        timeout: float = 10.0,
        clock: Clock | None = None,
        auth_mode: AuthMode = "auto",
        rewrite_xaddrs: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        host_in_url = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.base_url = f"{scheme}://{host_in_url}:{port}"
        self.device_url = self.base_url + (
            device_path if device_path.startswith("/") else "/" + device_path
        )
        self._transport: SoapTransport = transport or AsyncioSoapTransport(timeout=timeout, tls=tls)
        self._owns_transport = transport is None
        self._clock: Clock = clock or SystemClock()
        self._auth_mode: AuthMode = auth_mode if (username is not None) else "none"
        self._rewrite = rewrite_xaddrs
        self._clock_offset = timedelta()
        self._services: dict[str, ServiceEndpoint] = {}
        self._capabilities: Capabilities | None = None
        self._camera_time: SystemDateAndTime | None = None
        self._connected = False
        self._offset_lock = asyncio.Lock()

        self.device = DeviceService(self)
        self.media = MediaService(self)
        self.imaging = ImagingService(self)
        self.ptz = PTZService(self)
        self.events = EventService(self)
        self.analytics = AnalyticsService(self)

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        try:
            await self.connect()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_transport:
            await self._transport.aclose()

    async def connect(self) -> None:
        """Read the camera's clock and its services. Idempotent."""
        await self.refresh_clock_offset()
        await self._load_services()
        self._connected = True

    # ----------------------------------------------------------------- state

    @property
    def auth_mode(self) -> AuthMode:
        """How this device is authenticated (settled after the first authenticated call)."""
        return self._auth_mode

    @property
    def clock_offset(self) -> timedelta:
        """Camera time minus local time, as last measured."""
        return self._clock_offset

    @property
    def camera_time(self) -> SystemDateAndTime | None:
        return self._camera_time

    @property
    def services(self) -> Mapping[str, ServiceEndpoint]:
        """Service endpoints by namespace URI."""
        return dict(self._services)

    @property
    def capabilities(self) -> Capabilities | None:
        """The GetCapabilities answer, when the client had to fall back to it."""
        return self._capabilities

    def has_service(self, kind: ServiceKind) -> bool:
        return kind.namespace in self._services

    @property
    def is_profile_t(self) -> bool:
        """Whether the device offers Media2 (the Profile T media service)."""
        return self.has_service(ServiceKind.MEDIA2)

    def service_url(self, kind: ServiceKind | str) -> str:
        """The address of a service, by kind or namespace URI.

        Raises :class:`ServiceNotSupported` when the device does not offer it.
        The device service is always reachable at the address we connected to.
        """
        namespace = kind.namespace if isinstance(kind, ServiceKind) else kind
        endpoint = self._services.get(namespace)
        if endpoint is not None:
            return endpoint.url
        if namespace == ServiceKind.DEVICE.namespace:
            return self.device_url
        name = kind.value if isinstance(kind, ServiceKind) else namespace
        raise ServiceNotSupported(
            f"the device at {self.base_url} does not offer the {name} service"
        )

    def rewrite(self, url: str) -> str:
        """An address the device gave us, pointed at the host we actually reach it on."""
        return rewrite_xaddr(url, self.base_url) if self._rewrite else url

    # ----------------------------------------------------------------- calls

    async def call(
        self,
        service: ServiceKind | str,
        payload: etree._Element,
        *,
        url: str | None = None,
        authenticated: bool = True,
        headers: Iterable[etree._Element] = (),
        timeout: float | None = None,
    ) -> etree._Element:
        """Send one request and return the response element (the body's first child).

        The escape hatch for operations without a typed method: ``service`` is a
        :class:`ServiceKind` or a namespace URI, ``payload`` the request element.
        ``url`` overrides the service address (subscription managers).
        ``timeout`` (seconds) replaces the read timeout for this request, for
        operations the camera answers late on purpose (long-polled PullMessages).
        Faults raise :class:`SoapFaultError` subclasses.
        """
        target = url or self.service_url(service)
        token = _REQUEST_TIMEOUT.set(timeout)
        try:
            return await self._exchange(
                target, payload, authenticated=authenticated, headers=list(headers)
            )
        finally:
            _REQUEST_TIMEOUT.reset(token)

    async def _exchange(
        self,
        url: str,
        payload: etree._Element,
        *,
        authenticated: bool,
        headers: list[etree._Element],
    ) -> etree._Element:
        operation = local_name(payload.tag)
        action = action_of(payload)
        if not authenticated or self._auth_mode == "none":
            response = await self._post(
                url, payload, operation, action, headers, token=False, digest=False
            )
            if response.status_code == 401 and self._username is not None:
                # Some firmware protects even the "open" operations with Digest.
                response = await self._post(
                    url, payload, operation, action, headers, token=False, digest=True
                )
            return self._read(response, operation, url)

        mode = self._auth_mode
        if mode == "auto":
            return await self._exchange_auto(url, payload, operation, action, headers)
        token = mode in ("ws-security", "both")
        digest = mode in ("digest", "both")
        try:
            response = await self._post(
                url, payload, operation, action, headers, token=token, digest=digest
            )
            return self._read(response, operation, url)
        except NotAuthorized:
            if not token:
                raise self._wrong_credentials(operation) from None
            await self.refresh_clock_offset()
            response = await self._post(
                url, payload, operation, action, headers, token=token, digest=digest
            )
            try:
                return self._read(response, operation, url)
            except NotAuthorized:
                raise self._wrong_credentials(operation) from None

    async def _exchange_auto(
        self,
        url: str,
        payload: etree._Element,
        operation: str,
        action: str,
        headers: list[etree._Element],
    ) -> etree._Element:
        # A reply that is neither 401 nor NotAuthorized means the camera accepted
        # the credentials in that form, even when it then faulted on the request
        # itself (ActionNotSupported, InvalidArgVal ...): the mode is settled then,
        # so one unsupported operation does not make every later call probe again.
        response = await self._post(
            url, payload, operation, action, headers, token=True, digest=False
        )
        if response.status_code == 401:
            return await self._exchange_digest(url, payload, operation, action, headers, response)
        try:
            result = self._read(response, operation, url)
        except NotAuthorized:
            # Token refused: the camera's clock may have moved since connect.
            await self.refresh_clock_offset()
            response = await self._post(
                url, payload, operation, action, headers, token=True, digest=False
            )
            if response.status_code == 401:
                return await self._exchange_digest(
                    url, payload, operation, action, headers, response
                )
            try:
                result = self._read(response, operation, url)
            except NotAuthorized:
                raise self._wrong_credentials(operation) from None
            except SoapFaultError:
                self._auth_mode = "ws-security"
                raise
        except SoapFaultError:
            self._auth_mode = "ws-security"
            raise
        self._auth_mode = "ws-security"
        return result

    async def _exchange_digest(
        self,
        url: str,
        payload: etree._Element,
        operation: str,
        action: str,
        headers: list[etree._Element],
        challenge: SoapHttpResponse,
    ) -> etree._Element:
        """After a 401: HTTP Digest alone, then Digest plus the token."""
        del challenge  # the transport's DigestAuth answers the challenge itself
        response = await self._post(
            url, payload, operation, action, headers, token=False, digest=True
        )
        if response.status_code == 401:
            raise self._wrong_credentials(operation, http=True)
        try:
            result = self._read(response, operation, url)
        except NotAuthorized:
            response = await self._post(
                url, payload, operation, action, headers, token=True, digest=True
            )
            try:
                result = self._read(response, operation, url)
            except NotAuthorized:
                raise self._wrong_credentials(operation) from None
            except SoapFaultError:
                self._auth_mode = "both"
                raise
            self._auth_mode = "both"
            return result
        except SoapFaultError:
            self._auth_mode = "digest"
            raise
        self._auth_mode = "digest"
        return result

    async def _post(
        self,
        url: str,
        payload: etree._Element,
        operation: str,
        action: str,
        headers: list[etree._Element],
        *,
        token: bool,
        digest: bool,
    ) -> SoapHttpResponse:
        header_parts = [etree.tostring(header) for header in headers]
        if token and self._username is not None:
            header_parts.append(
                username_token_bytes(
                    self._username,
                    self._password or "",
                    created=self._clock.now() + self._clock_offset,
                )
            )
        envelope = build_envelope_bytes(etree.tostring(payload), headers=header_parts)
        credentials = (
            HttpCredentials(self._username, self._password or "")
            if digest and self._username is not None
            else None
        )
        return await self._transport.post(
            url, envelope, action=action, credentials=credentials, timeout=_REQUEST_TIMEOUT.get()
        )

    def _read(self, response: SoapHttpResponse, operation: str, url: str) -> etree._Element:
        if response.status_code == 401:
            raise self._wrong_credentials(operation, http=True)
        looks_like_xml = response.content.lstrip()[:1] == b"<"
        if response.status_code >= 300 and not looks_like_xml:
            raise HttpStatusError(
                f"{operation} at {url} answered HTTP {response.status_code}",
                status_code=response.status_code,
            )
        try:
            envelope = parse_envelope(response.content, operation=operation)
        except RemoteProtocolError:
            if response.status_code >= 300:
                raise HttpStatusError(
                    f"{operation} at {url} answered HTTP {response.status_code}",
                    status_code=response.status_code,
                ) from None
            raise
        if response.status_code >= 300:
            raise HttpStatusError(
                f"{operation} at {url} answered HTTP {response.status_code} without a SOAP fault",
                status_code=response.status_code,
            )
        return envelope.payload

    def _wrong_credentials(self, operation: str, *, http: bool = False) -> OnvifError:
        user = self._username or "(none)"
        if http:
            return AuthenticationError(
                f"the device at {self.base_url} refused user {user!r} over HTTP Digest "
                f"({operation}): wrong username or password"
            )
        return NotAuthorized(
            f"the device refused user {user!r}: wrong username or password, or a user "
            f"without the rights for {operation} (the clock offset of "
            f"{self._clock_offset.total_seconds():+.0f} s was re-read and is not the cause)",
            code="Sender",
            subcodes=("NotAuthorized",),
            operation=operation,
        )

    # ----------------------------------------------------------------- connect steps

    async def refresh_clock_offset(self) -> timedelta:
        """Read the camera's clock again and store the offset (used by every token)."""
        async with self._offset_lock:
            before = self._clock.now()
            payload = await self._exchange(
                self.device_url,
                device_ops.build_get_system_date_and_time(),
                authenticated=False,
                headers=[],
            )
            after = self._clock.now()
            camera = device_ops.parse_get_system_date_and_time(payload)
            self._camera_time = camera
            if camera.utc is not None:
                midpoint = before + (after - before) / 2
                self._clock_offset = camera.utc - midpoint
            return self._clock_offset

    async def _load_services(self) -> None:
        try:
            payload = await self.call(ServiceKind.DEVICE, device_ops.build_get_services())
            services = device_ops.parse_get_services(payload)
        except (ActionNotSupported, InvalidArgValue, HttpStatusError, SoapFaultError) as exc:
            if isinstance(exc, NotAuthorized):
                raise
            # Older firmware (TRENDnet TV-IP320PI, Hikvision DS-2CD2012-I: corpus
            # faults/*_GetServices.xml) faults on GetServices; GetCapabilities is
            # the Profile S way to the same addresses.
            services = []
        if not services:
            capabilities = device_ops.parse_get_capabilities(
                await self.call(ServiceKind.DEVICE, device_ops.build_get_capabilities())
            )
            self._capabilities = capabilities
            services = [
                Service(namespace=kind.namespace, xaddr=address, version=None)
                for kind, address in capabilities.xaddrs.items()
            ]
        self._services = {}
        for service in services:
            self._services[service.namespace] = ServiceEndpoint(
                kind=service.kind,
                namespace=service.namespace,
                url=self.rewrite(service.xaddr),
                advertised_url=service.xaddr,
                version=service.version,
            )
