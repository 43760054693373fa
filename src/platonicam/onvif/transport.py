"""The HTTP seam between the ONVIF client and a camera.

:class:`SoapTransport` is one method: post an envelope, get the status and the
bytes back. :class:`HttpxSoapTransport` is the real one (connection reuse,
timeouts, TLS verified by default, HTTP Digest when asked). Tests wrap it to
refuse any destination that is not loopback, or replace it altogether.

Every httpx and ssl exception is translated here into the client's error tree.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

import httpx

from platonicam.onvif.errors import (
    ConnectError,
    ConnectTimeout,
    ReadTimeout,
    RemoteProtocolError,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.soap.xml import MAX_DOCUMENT_BYTES

SOAP12_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class HttpCredentials:
    """Username and password for HTTP Digest. ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SoapHttpResponse:
    status_code: int
    content: bytes
    headers: Mapping[str, str]


class SoapTransport(Protocol):
    """Posts SOAP envelopes. Implementations translate their failures into
    :class:`~platonicam.onvif.errors.TransportError` subclasses."""

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        """Send ``envelope`` to ``url``; with ``credentials``, answer a 401 digest
        challenge with them. ``timeout`` (seconds) replaces the transport's read
        timeout for this request (long-polling PullMessages needs more). Returns
        whatever status the camera answered."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """How to trust a camera's certificate.

    ``verify=False`` turns verification off (say so deliberately: the default is
    on). ``ca_file`` trusts a CA bundle or one camera's self-signed certificate.
    ``pinned_sha256`` (hex, colons allowed) accepts exactly the certificate with
    that fingerprint, whatever signed it; the pin is checked on every response,
    and the first request of every connection is the unauthenticated
    GetSystemDateAndTime, so no credentials precede the first check.
    """

    verify: bool = True
    ca_file: str | None = None
    pinned_sha256: str | None = None
    check_hostname: bool = True

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.pinned_sha256:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if not self.verify:
            return False
        context = ssl.create_default_context(cafile=self.ca_file)
        context.check_hostname = self.check_hostname
        return context


def _normalised_pin(pin: str) -> str:
    return pin.replace(":", "").strip().lower()


def _is_certificate_failure(exc: BaseException) -> bool:
    node: BaseException | None = exc
    while node is not None:
        if isinstance(node, ssl.SSLCertVerificationError):
            return True
        if isinstance(node, ssl.SSLError) and "CERTIFICATE" in str(node).upper():
            return True
        node = node.__cause__ or node.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


class HttpxSoapTransport:
    """The real transport: one pooled ``httpx.AsyncClient`` per camera connection."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        tls: TlsOptions | None = None,
        max_response_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self._tls = tls or TlsOptions()
        self._max_response_bytes = max_response_bytes
        self._connect_timeout = connect_timeout or min(timeout, 5.0)
        self._timeout = httpx.Timeout(timeout, connect=self._connect_timeout)
        # Built on first use, one per scheme: loading the system CA store for a
        # verifying SSL context costs ~25 ms of CPU and some memory per transport
        # (benchmarks/README.md), which a camera spoken to over plain HTTP never needs.
        self._plain_client: httpx.AsyncClient | None = None
        self._tls_client: httpx.AsyncClient | None = None
        # One DigestAuth per credential pair: it keeps the last challenge, so
        # later requests answer it pre-emptively instead of taking a 401 each time.
        self._digest: dict[HttpCredentials, httpx.DigestAuth] = {}

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        headers = {"Content-Type": f'{SOAP12_CONTENT_TYPE}; action="{action}"'}
        auth: httpx.Auth | None = None
        if credentials is not None:
            auth = self._digest.get(credentials)
            if auth is None:
                auth = self._digest[credentials] = httpx.DigestAuth(
                    credentials.username, credentials.password
                )
        try:
            request_timeout = (
                httpx.Timeout(timeout, connect=self._connect_timeout)
                if timeout is not None
                else httpx.USE_CLIENT_DEFAULT
            )
            async with self._client_for(url).stream(
                "POST", url, content=envelope, headers=headers, auth=auth, timeout=request_timeout
            ) as response:
                self._check_pin(response, url)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_response_bytes:
                        raise RemoteProtocolError(
                            f"answer from {url} exceeds {self._max_response_bytes} bytes"
                        )
                    chunks.append(chunk)
                return SoapHttpResponse(
                    status_code=response.status_code,
                    content=b"".join(chunks),
                    headers=dict(response.headers),
                )
        except httpx.ConnectTimeout:
            raise ConnectTimeout(f"timed out connecting to {_origin(url)}") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            raise ReadTimeout(
                f"{_origin(url)} accepted the connection but did not answer in time"
            ) from None
        except httpx.ConnectError as exc:
            if _is_certificate_failure(exc):
                raise TLSVerificationError(
                    f"TLS certificate of {_origin(url)} did not verify: {_short(exc)}"
                ) from None
            raise ConnectError(f"cannot connect to {_origin(url)}: {_short(exc)}") from None
        except httpx.RemoteProtocolError as exc:
            raise TransportError(f"{_origin(url)} broke the HTTP exchange: {_short(exc)}") from None
        except httpx.HTTPError as exc:
            raise TransportError(
                f"HTTP exchange with {_origin(url)} failed: {_short(exc)}"
            ) from None

    def _check_pin(self, response: httpx.Response, url: str) -> None:
        if not self._tls.pinned_sha256 or not url.lower().startswith("https:"):
            return
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None:
            raise TLSVerificationError(
                f"{_origin(url)} presented no certificate to check the pin against"
            )
        actual = hashlib.sha256(der).hexdigest()
        if actual != _normalised_pin(self._tls.pinned_sha256):
            raise TLSVerificationError(
                f"certificate of {_origin(url)} has SHA-256 {actual}, not the pinned one"
            )

    def _client_for(self, url: str) -> httpx.AsyncClient:
        if url[:6].lower() == "https:":
            if self._tls_client is None:
                self._tls_client = self._new_client(self._tls.ssl_context())
            return self._tls_client
        if self._plain_client is None:
            # This client only ever gets http:// URLs and never follows redirects
            # or proxies, so it never opens TLS: no context needs verifying.
            self._plain_client = self._new_client(False)
        return self._plain_client

    def _new_client(self, verify: ssl.SSLContext | bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout,
            verify=verify,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            follow_redirects=False,
            trust_env=False,  # a camera on the LAN is never reached through the user's proxy
        )

    async def aclose(self) -> None:
        for client in (self._plain_client, self._tls_client):
            if client is not None:
                await client.aclose()


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def _short(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return message.splitlines()[0][:200]
