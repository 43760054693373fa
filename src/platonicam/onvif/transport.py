"""The HTTP seam between the ONVIF client and a camera.

:class:`SoapTransport` is one method: post an envelope, get the status and the
bytes back. :class:`AsyncioSoapTransport` is the real one: HTTP/1.1 on asyncio
protocols (framing in :mod:`platonicam.onvif.http11`, Digest in
:mod:`platonicam.onvif.digest`), with keep-alive pooling, timeouts, TLS
verified by default and certificate pinning. Tests wrap it to refuse any
destination that is not loopback, or replace it altogether.

Strategy: a SOAP exchange is one small POST and one answer, so the transport
writes the whole request at once and feeds every received byte to a
:class:`~platonicam.onvif.http11.ResponseParser` straight from
``data_received``: no stream buffering, no per-read awaits, no task per
connection. It replaced httpx, which cost ~50 ms of lazy imports on the first
request, ~1 ms per request and ~14 MB (benchmarks/README.md).

Every OS, ssl and framing failure is translated here into the client's error
tree (``platonicam.onvif.errors``); nothing else escapes.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol, cast
from urllib.parse import urlsplit

from platonicam.onvif.digest import (
    DigestError,
    DigestSession,
    choose_challenge,
    parse_challenges,
)
from platonicam.onvif.errors import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.http11 import (
    BodyTooLarge,
    ConnectionClosed,
    HttpError,
    Response,
    ResponseParser,
    build_request,
)
from platonicam.onvif.soap.xml import MAX_DOCUMENT_BYTES

SOAP12_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"
_USER_AGENT: Final = "PlatoniCam"
# How long aclose() waits for sockets (and TLS close_notify) before aborting them.
_CLOSE_GRACE_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class HttpCredentials:
    """Username and password for HTTP Digest. ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SoapHttpResponse:
    """A camera's answer: HTTP status, body, and headers (names lower-cased,
    repeated fields joined with ``", "``)."""

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
    that fingerprint, whatever signed it; :class:`AsyncioSoapTransport` checks
    the pin right after the TLS handshake of every connection, before a single
    request byte (and so before any credentials) is sent.
    ``check_hostname=False`` keeps chain verification but accepts a certificate
    issued for another name (cameras reached by IP with a name-only certificate).
    """

    verify: bool = True
    ca_file: str | None = None
    pinned_sha256: str | None = None
    check_hostname: bool = True

    def ssl_context(self) -> ssl.SSLContext:
        """A client context for these options. Verifying contexts load the CA
        store (system or ``ca_file``); unverified and pinned ones load nothing,
        since the pin, not a CA, is what they trust."""
        if self.pinned_sha256 or not self.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        context = ssl.create_default_context(cafile=self.ca_file)
        context.check_hostname = self.check_hostname
        return context


def _normalised_pin(pin: str) -> str:
    return pin.replace(":", "").strip().lower()


def _short(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return message.splitlines()[0][:200]


def _is_certificate_failure(exc: BaseException) -> bool:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    return isinstance(exc, ssl.SSLError) and "CERTIFICATE" in str(exc).upper()


# ----------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class _Target:
    """One URL, taken apart once (the same few service URLs repeat all day)."""

    scheme: str
    host: str  # no brackets: what the resolver and SNI get
    port: int
    host_header: str  # brackets for IPv6, the port when the URL names one
    path: str  # origin-form request target: path and query
    origin: str  # scheme://host[:port], for messages


@functools.lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LocalProtocolError(f"invalid camera URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise LocalProtocolError(f"cannot post SOAP to {url!r}: only http and https are supported")
    host = parts.hostname
    if not host:
        raise LocalProtocolError(f"camera URL {url!r} names no host")
    shown = f"[{host}]" if ":" in host else host
    authority = f"{shown}:{port}" if port is not None else shown
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        host_header=authority,
        path=path,
        origin=f"{scheme}://{authority}",
    )


# ----------------------------------------------------------------------------- connections


class _ReadTimedOut(Exception):
    """No byte arrived within the read timeout (internal; becomes ReadTimeout)."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection carrying one request at a time.

    Received bytes go straight into the current request's parser. Bytes that
    arrive while no request is outstanding, an EOF or a lost connection mark
    it dead, so the pool never hands it out again.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.dead = False
        self.idle_since = 0.0
        self.lost: asyncio.Future[None] = loop.create_future()
        self._parser: ResponseParser | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timeout = 0.0
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_connection always hands a protocol an asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None or parser.is_complete:
            # Nothing may arrive unasked (we never pipeline): this connection
            # is out of step with the server and must not carry another request.
            self.dead = True
            if parser is not None:
                parser.receive_data(data)  # kept as trailing data
            return
        self._last_activity = self._loop.time()
        try:
            parser.receive_data(data)
        except HttpError as exc:
            self._wake(exc)
            return
        if parser.response is not None:
            self._wake(None)

    def eof_received(self) -> bool:
        self.dead = True
        self._end_of_stream(None)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.dead = True
        self._end_of_stream(exc)
        if not self.lost.done():
            self.lost.set_result(None)

    # -- requests

    async def exchange(self, request: bytes, parser: ResponseParser, timeout: float) -> Response:
        """Write ``request`` and wait for the complete response.

        Raises :class:`HttpError` (framing, limits, a closed connection) or
        :class:`_ReadTimedOut` after ``timeout`` seconds without a byte.
        """
        transport = self.transport
        self._parser = parser
        waiter = self._waiter = self._loop.create_future()
        self._timeout = timeout
        self._last_activity = self._loop.time()
        self._timer = self._loop.call_at(self._last_activity + timeout, self._check_timeout)
        try:
            if self.dead or transport is None:
                raise ConnectionClosed("connection closed before the request was sent")
            transport.write(request)
            await waiter
        finally:
            self._timer.cancel()
            self._timer = None
            self._waiter = None
        if parser.response is None:  # the waiter is only ever set for a complete response
            raise HttpError("response incomplete")
        return parser.response

    @property
    def reusable(self) -> bool:
        parser = self._parser
        return (
            not self.dead
            and parser is not None
            and parser.response is not None
            and parser.response.keep_alive
            and not parser.trailing_data
        )

    def release(self) -> None:
        """Back to idle: the next bytes belong to no request."""
        self._parser = None

    def close(self) -> None:
        self.dead = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.dead = True
        if self.transport is not None:
            self.transport.abort()

    # -- internals

    def _check_timeout(self) -> None:
        deadline = self._last_activity + self._timeout
        if self._loop.time() >= deadline:
            self._wake(_ReadTimedOut())
        else:  # bytes arrived meanwhile: the timeout counts from the last one
            self._timer = self._loop.call_at(deadline, self._check_timeout)

    def _end_of_stream(self, exc: Exception | None) -> None:
        parser = self._parser
        if parser is None or parser.is_complete or self._waiter is None:
            return
        try:
            if exc is not None and parser.bytes_received:
                raise HttpError(f"connection lost mid-response: {_short(exc)}")
            parser.receive_eof()
        except HttpError as error:
            self._wake(error)
            return
        self._wake(None)

    def _wake(self, exc: BaseException | None) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(exc)


class _Pool:
    """The connections to one origin: at most ``limit`` at a time, idle ones reused LIFO."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.slots = asyncio.Semaphore(limit)
        self.idle: list[_Connection] = []
        self.all: set[_Connection] = set()


# ----------------------------------------------------------------------------- the transport


class AsyncioSoapTransport:
    """The real transport: HTTP/1.1 over asyncio, standard library only.

    * ``timeout`` (seconds) is the read timeout: the longest silence between
      sending a request and its last response byte, counted from the latest
      byte; ``post(..., timeout=)`` replaces it for one request.
      ``connect_timeout`` bounds TCP connect plus TLS handshake (default
      ``min(timeout, 5)``).
    * Up to ``max_connections`` connections per origin (scheme, host, port);
      finished ones stay open for reuse, newest first, unless idle for more
      than ``keepalive_expiry`` seconds. A reused connection that turns out to
      have been closed by the camera before it sent any byte of the answer is
      replaced and the request sent once more. (SOAP POSTs are not idempotent
      in general, but a camera that closed an idle connection did not read the
      request; httpcore retries the same case.)
    * ``tls`` for ``https://`` URLs: see :class:`TlsOptions`; SNI and hostname
      checks use the URL's host. No proxies, no redirects, no cookies.
    * ``credentials`` on :meth:`post`: a 401 with a Digest challenge is answered;
      the challenge is then kept per origin and credentials, so later requests
      carry ``Authorization`` straight away (``nc`` counting up). A 401 to such
      a pre-emptive answer, or ``stale=true``, takes the new challenge.
    * Answers larger than ``max_response_bytes`` raise
      :class:`~platonicam.onvif.errors.RemoteProtocolError` while they arrive.

    Errors: :class:`ConnectError` (refused, unreachable, unresolvable),
    :class:`ConnectTimeout`, :class:`TLSVerificationError` (chain, hostname or
    pin), :class:`ReadTimeout`, :class:`TransportError` (the camera broke HTTP),
    :class:`RemoteProtocolError` (too large), :class:`LocalProtocolError` (a URL
    or action that cannot be sent). A failed or cancelled request closes its
    connection.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        tls: TlsOptions | None = None,
        max_response_bytes: int = MAX_DOCUMENT_BYTES,
        max_connections: int = 4,
        keepalive_expiry: float = 15.0,
    ) -> None:
        self._tls = tls or TlsOptions()
        self._timeout = timeout
        self._connect_timeout = connect_timeout or min(timeout, 5.0)
        self._max_response_bytes = max_response_bytes
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        # Built on first https use: loading the system CA store costs ~25 ms of
        # CPU and some memory (benchmarks/README.md), which a camera spoken to
        # over plain HTTP never needs.
        self._ssl: ssl.SSLContext | None = None
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._digest: dict[tuple[str, HttpCredentials], DigestSession] = {}
        self._closed = False

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        """See :meth:`SoapTransport.post`."""
        target = _target(url)
        if '"' in action:
            raise LocalProtocolError(f"SOAP action {action!r} contains a quote")
        headers = [
            ("Content-Type", f'{SOAP12_CONTENT_TYPE}; action="{action}"'),
            ("User-Agent", _USER_AGENT),
        ]
        read_timeout = self._timeout if timeout is None else timeout
        digest_key = (target.origin, credentials) if credentials is not None else None
        session = self._digest.get(digest_key) if digest_key is not None else None
        answered_fresh_challenge = False
        for _ in range(3):
            request_headers = headers
            if session is not None:
                authorization = session.authorization("POST", target.path, envelope)
                request_headers = [*headers, ("Authorization", authorization)]
            try:
                request = build_request(
                    "POST",
                    target.path,
                    host=target.host_header,
                    headers=request_headers,
                    body=envelope,
                )
            except ValueError as exc:
                raise LocalProtocolError(f"cannot send to {target.origin}: {exc}") from None
            response = await self._send(target, request, read_timeout, url)
            if response.status_code != 401 or credentials is None or digest_key is None:
                break
            try:
                challenge = choose_challenge(
                    parse_challenges(response.header_values("www-authenticate"))
                )
            except DigestError:
                challenge = None
            if challenge is None or (answered_fresh_challenge and not challenge.stale):
                break  # no Digest on offer, or our answer to a fresh one was refused
            session = self._digest[digest_key] = DigestSession(
                challenge, credentials.username, credentials.password
            )
            answered_fresh_challenge = True
        return SoapHttpResponse(
            status_code=response.status_code,
            content=response.body,
            headers=response.header_map(),
        )

    async def get(
        self,
        url: str,
        *,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        """``GET url`` (a camera's snapshot URI), answering a Digest challenge
        with ``credentials`` as :meth:`post` does. Same errors as :meth:`post`;
        any status is returned."""
        target = _target(url)
        headers = [("User-Agent", _USER_AGENT)]
        read_timeout = self._timeout if timeout is None else timeout
        session: DigestSession | None = None
        for _ in range(2):
            request_headers = headers
            if session is not None:
                authorization = session.authorization("GET", target.path, b"")
                request_headers = [*headers, ("Authorization", authorization)]
            try:
                request = build_request(
                    "GET", target.path, host=target.host_header, headers=request_headers
                )
            except ValueError as exc:
                raise LocalProtocolError(f"cannot send to {target.origin}: {exc}") from None
            response = await self._send(target, request, read_timeout, url)
            if response.status_code != 401 or credentials is None or session is not None:
                break
            try:
                challenge = choose_challenge(
                    parse_challenges(response.header_values("www-authenticate"))
                )
            except DigestError:
                challenge = None
            if challenge is None:
                break
            session = DigestSession(challenge, credentials.username, credentials.password)
        return SoapHttpResponse(
            status_code=response.status_code,
            content=response.body,
            headers=response.header_map(),
        )

    async def aclose(self) -> None:
        """Close every connection (TLS ones politely, within a short grace period)."""
        self._closed = True
        connections = [c for pool in self._pools.values() for c in pool.all]
        self._pools.clear()
        for connection in connections:
            connection.close()
        pending = [c.lost for c in connections if not c.lost.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=_CLOSE_GRACE_SECONDS)
            if late:
                for connection in connections:
                    if not connection.lost.done():
                        connection.abort()
                await asyncio.wait(late, timeout=_CLOSE_GRACE_SECONDS)

    # ------------------------------------------------------------------ one exchange

    async def _send(
        self, target: _Target, request: bytes, read_timeout: float, url: str
    ) -> Response:
        if self._closed:
            raise TransportError(f"the transport to {target.origin} is closed")
        key = (target.scheme, target.host, target.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._max_connections)
        if pool.slots.locked():
            try:
                async with asyncio.timeout(read_timeout):
                    await pool.slots.acquire()
            except TimeoutError:
                raise ReadTimeout(
                    f"{target.origin} accepted the connection but did not answer in time "
                    f"(all {pool.limit} connections stayed busy)"
                ) from None
        else:
            await pool.slots.acquire()
        try:
            connection = self._idle_connection(pool)
            if connection is not None:
                try:
                    return await self._exchange(
                        pool, connection, request, read_timeout, target, url, reused=True
                    )
                except ConnectionClosed:
                    pass  # closed by the camera while idle: once more on a fresh connection
            connection = await self._connect(pool, target)
            return await self._exchange(
                pool, connection, request, read_timeout, target, url, reused=False
            )
        finally:
            pool.slots.release()

    def _idle_connection(self, pool: _Pool) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        while pool.idle:
            connection = pool.idle.pop()
            if not connection.dead and now - connection.idle_since <= self._keepalive_expiry:
                return connection
            pool.all.discard(connection)
            connection.close()
        return None

    async def _exchange(
        self,
        pool: _Pool,
        connection: _Connection,
        request: bytes,
        read_timeout: float,
        target: _Target,
        url: str,
        *,
        reused: bool,
    ) -> Response:
        """One request on ``connection``. Raises :class:`ConnectionClosed` only
        when ``reused`` (the caller retries); everything else is translated."""
        parser = ResponseParser(max_body_bytes=self._max_response_bytes)
        try:
            response = await connection.exchange(request, parser, read_timeout)
        except BaseException as exc:
            # Whatever went wrong (cancellation included), the connection is
            # mid-exchange and useless: close it now rather than leak it.
            pool.all.discard(connection)
            connection.abort()
            if isinstance(exc, ConnectionClosed) and reused:
                raise
            if isinstance(exc, _ReadTimedOut):
                raise ReadTimeout(
                    f"{target.origin} accepted the connection but did not answer in time"
                ) from None
            if isinstance(exc, BodyTooLarge):
                raise RemoteProtocolError(
                    f"answer from {url} exceeds {self._max_response_bytes} bytes"
                ) from None
            if isinstance(exc, HttpError):
                raise TransportError(
                    f"{target.origin} broke the HTTP exchange: {_short(exc)}"
                ) from None
            raise
        if connection.reusable and not self._closed:
            connection.release()
            connection.idle_since = asyncio.get_running_loop().time()
            pool.idle.append(connection)
        else:
            pool.all.discard(connection)
            connection.close()
        return response

    async def _connect(self, pool: _Pool, target: _Target) -> _Connection:
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if target.scheme == "https":
            if self._ssl is None:
                self._ssl = self._tls.ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    target.host,
                    target.port,
                    ssl=context,
                    server_hostname=target.host if context is not None else None,
                )
        except TimeoutError:
            raise ConnectTimeout(f"timed out connecting to {target.origin}") from None
        except OSError as exc:  # ssl.SSLError is an OSError too
            if _is_certificate_failure(exc):
                raise TLSVerificationError(
                    f"TLS certificate of {target.origin} did not verify: {_short(exc)}"
                ) from None
            raise ConnectError(f"cannot connect to {target.origin}: {_short(exc)}") from None
        if context is not None and self._tls.pinned_sha256:
            try:
                self._check_pin(connection, target)
            except BaseException:
                connection.abort()
                raise
        pool.all.add(connection)
        return connection

    def _check_pin(self, connection: _Connection, target: _Target) -> None:
        """Before any request byte: the peer's certificate must hash to the pin."""
        transport = connection.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            raise TLSVerificationError(
                f"{target.origin} presented no certificate to check the pin against"
            )
        actual = hashlib.sha256(der).hexdigest()
        if actual != _normalised_pin(self._tls.pinned_sha256 or ""):
            raise TLSVerificationError(
                f"certificate of {target.origin} has SHA-256 {actual}, not the pinned one"
            )
