"""AsyncioSoapTransport over real sockets: TLS trust, pooling, digest, limits, broken servers.

Two kinds of peer, both on loopback: the replay camera (real captured answers,
real WS-Security and HTTP Digest checks), and :class:`RawServer`, a few lines
of asyncio in this file that answer exactly the bytes a test needs (chunked
bodies, closed connections, silence) and record what arrived on which
connection. TLS uses a throwaway ``trustme`` CA, so verification stays on in
every test that does not turn it off on purpose. Warnings are errors: an
unclosed socket or SSL transport fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from platonicam.onvif import (
    ConnectError,
    LocalProtocolError,
    OnvifClient,
    ReadTimeout,
    RemoteProtocolError,
    TlsOptions,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.digest import parse_challenges
from platonicam.onvif.services import device as device_ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import action_of, build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import TDS
from platonicam.onvif.soap.xmlread import text
from platonicam.onvif.transport import AsyncioSoapTransport, HttpCredentials, SoapHttpResponse
from platonicam.testing import ReplayAuth, ReplayCamera
from tests.conftest import LoopbackOnlyTransport
from tests.corpus import CORPUS

HIKVISION = "hikvision_DS-2DF7276-AEL"
PASSWORD = "correct horse 42"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "camera-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def tls_camera(server_cert: trustme.LeafCert) -> AsyncIterator[ReplayCamera]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    async with ReplayCamera(CORPUS, HIKVISION, ssl_context=context) as camera:
        yield camera


def _device_information_request() -> tuple[bytes, str]:
    payload = element(TDS, "GetDeviceInformation")
    action = action_of(payload)
    return build_envelope(payload), action


async def _get_model(tls: TlsOptions | None, url: str, **options: int) -> str | None:
    transport = LoopbackOnlyTransport(AsyncioSoapTransport(timeout=5.0, tls=tls, **options))
    try:
        envelope, action = _device_information_request()
        response = await transport.post(url, envelope, action=action)
        assert response.status_code == 200
        return text(parse_envelope(response.content).payload, "Model")
    finally:
        await transport.aclose()


def _fingerprint(cert: trustme.LeafCert) -> str:
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode("ascii"))
    return hashlib.sha256(der).hexdigest()


# ----------------------------------------------------------------------------- TLS


async def test_untrusted_certificate_is_refused_by_default(tls_camera: ReplayCamera) -> None:
    with pytest.raises(TLSVerificationError, match="did not verify") as caught:
        await _get_model(None, tls_camera.device_url)
    assert f"https://127.0.0.1:{tls_camera.port}" in str(caught.value)
    # The request never reached the camera: the handshake failed first.
    assert sum(tls_camera.requests.values()) == 0


async def test_trusted_ca_file(tls_camera: ReplayCamera, ca_file: str) -> None:
    assert await _get_model(TlsOptions(ca_file=ca_file), tls_camera.device_url) == (
        "DS-2DF7276-AEL"
    )


async def test_verification_off_on_purpose(tls_camera: ReplayCamera) -> None:
    assert await _get_model(TlsOptions(verify=False), tls_camera.device_url) == "DS-2DF7276-AEL"


async def test_pinned_certificate(tls_camera: ReplayCamera, server_cert: trustme.LeafCert) -> None:
    pin = _fingerprint(server_cert)
    colon_form = ":".join(pin[i : i + 2] for i in range(0, len(pin), 2)).upper()
    assert await _get_model(TlsOptions(pinned_sha256=colon_form), tls_camera.device_url) == (
        "DS-2DF7276-AEL"
    )


async def test_wrong_pin_is_refused(tls_camera: ReplayCamera) -> None:
    with pytest.raises(TLSVerificationError, match="not the pinned one"):
        await _get_model(TlsOptions(pinned_sha256="ab" * 32), tls_camera.device_url)


async def test_https_replay_rewrites_to_https(tls_camera: ReplayCamera, ca_file: str) -> None:
    transport = LoopbackOnlyTransport(
        AsyncioSoapTransport(timeout=5.0, tls=TlsOptions(ca_file=ca_file))
    )
    try:
        payload = device_ops.build_get_services()
        response = await transport.post(
            tls_camera.device_url, build_envelope(payload), action=action_of(payload)
        )
        services = device_ops.parse_get_services(parse_envelope(response.content).payload)
        assert {s.xaddr.split("/onvif/")[0] for s in services} == {tls_camera.base_url}
    finally:
        await transport.aclose()


# ----------------------------------------------------------------------------- limits and breakage


async def test_oversized_response_is_refused() -> None:
    async with ReplayCamera(CORPUS, HIKVISION) as camera:
        size = len(
            (CORPUS / "device/hikvision_DS-2DF7276-AEL_GetDeviceInformation.xml").read_bytes()
        )
        assert size > 1024
        with pytest.raises(RemoteProtocolError, match="exceeds 1024 bytes"):
            await _get_model(None, camera.device_url, max_response_bytes=1024)
        # The limit is a ceiling, not a cut: the same answer passes under a larger one.
        assert await _get_model(None, camera.device_url, max_response_bytes=size + 100) == (
            "DS-2DF7276-AEL"
        )


async def test_server_closing_mid_response_is_a_transport_error() -> None:
    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
            b"Content-Length: 4096\r\n\r\n<?xml version='1.0'?><env:Envelope"
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TransportError, match="broke the HTTP exchange") as caught:
            await _get_model(None, f"http://127.0.0.1:{port}/onvif/device_service")
        assert type(caught.value) is TransportError
    finally:
        server.close()
        await server.wait_closed()


async def test_wrong_pin_fails_before_the_request_is_sent(tls_camera: ReplayCamera) -> None:
    transport = AsyncioSoapTransport(timeout=5.0, tls=TlsOptions(pinned_sha256="ab" * 32))
    try:
        envelope, action = _device_information_request()
        with pytest.raises(TLSVerificationError, match="not the pinned one") as caught:
            await transport.post(tls_camera.device_url, envelope, action=action)
        assert f"certificate of https://127.0.0.1:{tls_camera.port} has SHA-256" in str(
            caught.value
        )
        # The handshake completed, but not one request reached the camera.
        assert sum(tls_camera.requests.values()) == 0
    finally:
        await transport.aclose()


async def test_hostname_mismatch_is_refused_unless_told(ca: trustme.CA, ca_file: str) -> None:
    other_name = ca.issue_cert("camera.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other_name.configure_cert(context)
    async with ReplayCamera(CORPUS, HIKVISION, ssl_context=context) as camera:
        with pytest.raises(TLSVerificationError, match=r"did not verify: .*IP address mismatch"):
            await _get_model(TlsOptions(ca_file=ca_file), camera.device_url)
        relaxed = TlsOptions(ca_file=ca_file, check_hostname=False)
        assert await _get_model(relaxed, camera.device_url) == "DS-2DF7276-AEL"


# ----------------------------------------------------------------------------- a raw peer

DEVICE_INFORMATION = (
    CORPUS / "device/hikvision_DS-2DF7276-AEL_GetDeviceInformation.xml"
).read_bytes()


class Exchange:
    """One request as the raw server saw it."""

    def __init__(
        self, connection: int, head: bytes, body: bytes, reader: asyncio.StreamReader
    ) -> None:
        self.connection = connection
        self.reader = reader
        self.head = head
        self.body = body
        lines = head.decode("latin-1").split("\r\n")
        self.request_line = lines[0]
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }


Handler = Callable[["RawServer", int, int, Exchange, asyncio.StreamWriter], Awaitable[bool]]


async def answer(
    writer: asyncio.StreamWriter, body: bytes = DEVICE_INFORMATION, head: str = ""
) -> bool:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
        + head.encode("latin-1")
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    return True


class RawServer:
    """An HTTP/1.1 server whose every answer a test writes itself.

    ``handler(server, connection_number, request_number_on_it, exchange, writer)``
    returns ``True`` to keep the connection for another request. ``exchanges``
    records every request; ``connections`` counts accepted connections and
    ``closed_by_client`` those the client ended.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.exchanges: list[Exchange] = []
        self.connections = 0
        self.closed_by_client = 0
        self.client_closed = asyncio.Event()
        self.request_seen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/onvif/device_service"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        number = self.connections
        try:
            for index in itertools.count(1):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.closed_by_client += 1
                    self.client_closed.set()
                    return
                exchange = Exchange(number, head, b"", reader)
                exchange.body = await reader.readexactly(
                    int(exchange.headers.get("content-length", "0"))
                )
                self.exchanges.append(exchange)
                self.request_seen.set()
                if not await self.handler(self, number, index, exchange, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def post(
    transport: AsyncioSoapTransport,
    url: str,
    *,
    credentials: HttpCredentials | None = None,
    timeout: float | None = None,
) -> SoapHttpResponse:
    envelope, action = _device_information_request()
    return await LoopbackOnlyTransport(transport).post(
        url, envelope, action=action, credentials=credentials, timeout=timeout
    )


@pytest.fixture
async def transport() -> AsyncIterator[AsyncioSoapTransport]:
    instance = AsyncioSoapTransport(timeout=5.0)
    yield instance
    await instance.aclose()


async def keep_alive(
    server: RawServer, connection: int, index: int, exchange: Exchange, writer: asyncio.StreamWriter
) -> bool:
    return await answer(writer)


def model_of(response: SoapHttpResponse) -> str | None:
    assert response.status_code == 200
    return text(parse_envelope(response.content).payload, "Model")


# ----------------------------------------------------------------------------- requests and pooling


async def test_request_bytes_and_connection_reuse(transport: AsyncioSoapTransport) -> None:
    async with RawServer(keep_alive) as server:
        for _ in range(10):
            assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        # One TCP connection served all ten requests.
        assert server.connections == 1
        assert [e.connection for e in server.exchanges] == [1] * 10
        first = server.exchanges[0]
        port = server.url.split(":")[2].split("/")[0]
        assert first.request_line == "POST /onvif/device_service HTTP/1.1"
        assert first.headers["host"] == f"127.0.0.1:{port}"
        envelope, action = _device_information_request()
        assert first.headers["content-type"] == (
            f'application/soap+xml; charset=utf-8; action="{action}"'
        )
        assert first.headers["content-length"] == str(len(envelope))
        assert first.body == envelope
        assert "authorization" not in first.headers


async def test_concurrent_requests_use_a_few_connections(transport: AsyncioSoapTransport) -> None:
    async def slow(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        await asyncio.sleep(0.05)
        return await answer(writer)

    async with RawServer(slow) as server:
        results = await asyncio.gather(*(post(transport, server.url) for _ in range(10)))
        assert {model_of(r) for r in results} == {"DS-2DF7276-AEL"}
        assert server.connections == 4  # the per-origin limit
        assert len(server.exchanges) == 10


async def test_chunked_reply_with_trailers(transport: AsyncioSoapTransport) -> None:
    async def chunked(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Camera: raw\r\n\r\n")
        for start in range(0, len(DEVICE_INFORMATION), 100):
            piece = DEVICE_INFORMATION[start : start + 100]
            writer.write(f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        await writer.drain()
        return True

    async with RawServer(chunked) as server:
        first = await post(transport, server.url)
        second = await post(transport, server.url)
        assert model_of(first) == model_of(second) == "DS-2DF7276-AEL"
        assert first.content == DEVICE_INFORMATION
        assert first.headers["x-camera"] == "raw"
        assert server.connections == 1


async def test_idle_connection_closed_by_the_server_is_replaced(
    transport: AsyncioSoapTransport,
) -> None:
    async def one_then_close(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        await answer(writer)
        return False  # close right after answering, without saying so

    async with RawServer(one_then_close) as server:
        assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle
        assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        assert server.connections == 2
        assert len(server.exchanges) == 2


async def test_close_racing_the_next_request_is_retried_once(
    transport: AsyncioSoapTransport,
) -> None:
    async def drop_second(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if index == 2:
            return False  # read the request, close without a byte: the keep-alive race
        return await answer(writer)

    async with RawServer(drop_second) as server:
        assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        assert [e.connection for e in server.exchanges] == [1, 1, 2]


async def test_no_retry_once_response_bytes_arrived(transport: AsyncioSoapTransport) -> None:
    async def half_second(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if index == 2:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n<?xml")
            await writer.drain()
            return False
        return await answer(writer)

    async with RawServer(half_second) as server:
        await post(transport, server.url)
        with pytest.raises(
            TransportError, match="broke the HTTP exchange: connection closed after 5 of 4096"
        ):
            await post(transport, server.url)
        assert len(server.exchanges) == 2  # not sent again


async def test_fresh_connection_closed_without_answer_is_not_retried(
    transport: AsyncioSoapTransport,
) -> None:
    async def drop(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        return False

    async with RawServer(drop) as server:
        with pytest.raises(
            TransportError, match="broke the HTTP exchange: connection closed before any"
        ):
            await post(transport, server.url)
        assert len(server.exchanges) == 1


async def test_junk_after_the_response_retires_the_connection(
    transport: AsyncioSoapTransport,
) -> None:
    async def junk(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
        await writer.drain()
        return True

    async with RawServer(junk) as server:
        assert (await post(transport, server.url)).content == b"ok"
        assert (await post(transport, server.url)).content == b"ok"
        assert server.connections == 2
        await asyncio.wait_for(server.client_closed.wait(), 2)


async def test_not_http_at_all(transport: AsyncioSoapTransport) -> None:
    async def bare_xml(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        writer.write(DEVICE_INFORMATION)
        await writer.drain()
        return True

    async with RawServer(bare_xml) as server:
        with pytest.raises(TransportError, match="broke the HTTP exchange: no HTTP status line"):
            await post(transport, server.url)


async def test_ipv6_literal_host(transport: AsyncioSoapTransport) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("::1 is not configured")
    async with RawServer(keep_alive, host="::1") as server:
        assert model_of(await post(transport, server.url)) == "DS-2DF7276-AEL"
        port = server.url.split("]:")[1].split("/")[0]
        assert server.exchanges[0].headers["host"] == f"[::1]:{port}"


# ------------------------------------------------------------------------- timeouts and failures


async def never_answer(
    server: RawServer, connection: int, index: int, exchange: Exchange, writer: asyncio.StreamWriter
) -> bool:
    """Read on, answer nothing, and note when the client gives up and closes."""
    while await exchange.reader.read(4096):
        pass
    server.closed_by_client += 1
    server.client_closed.set()
    return False


async def test_hang_is_a_read_timeout_within_the_timeout() -> None:
    transport = AsyncioSoapTransport(timeout=0.3)
    try:
        async with RawServer(never_answer) as server:
            started = time.monotonic()
            with pytest.raises(
                ReadTimeout, match="accepted the connection but did not answer in time"
            ) as caught:
                await post(transport, server.url)
            assert 0.25 <= time.monotonic() - started < 1.0
            assert server.url.split("/onvif")[0] in str(caught.value)
            await asyncio.wait_for(server.client_closed.wait(), 2)  # the socket was closed
    finally:
        await transport.aclose()


async def test_per_request_timeout_override(transport: AsyncioSoapTransport) -> None:
    async def late(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        await asyncio.sleep(0.4)
        return await answer(writer)

    short = AsyncioSoapTransport(timeout=0.1)
    try:
        async with RawServer(late) as server:
            # A long-polled request may wait longer than the transport's default ...
            assert model_of(await post(short, server.url, timeout=2.0)) == "DS-2DF7276-AEL"
            # ... and a shorter one gives up sooner than the default.
            started = time.monotonic()
            with pytest.raises(ReadTimeout):
                await post(transport, server.url, timeout=0.1)
            assert time.monotonic() - started < 0.35
    finally:
        await short.aclose()


async def test_refused_is_a_connect_error(transport: AsyncioSoapTransport) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectError, match=f"cannot connect to http://127.0.0.1:{port}: "):
        await post(transport, f"http://127.0.0.1:{port}/onvif/device_service")


async def test_cancellation_closes_the_socket(transport: AsyncioSoapTransport) -> None:
    async with RawServer(never_answer) as server:
        task = asyncio.create_task(post(transport, server.url))
        await asyncio.wait_for(server.request_seen.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.client_closed.wait(), 2)


async def test_aclose_closes_idle_connections() -> None:
    transport = AsyncioSoapTransport(timeout=5.0)
    async with RawServer(keep_alive) as server:
        await post(transport, server.url)
        assert server.closed_by_client == 0
        await transport.aclose()
        await asyncio.wait_for(server.client_closed.wait(), 2)
        with pytest.raises(TransportError, match="is closed"):
            await post(transport, server.url)


async def test_unsupported_scheme_is_refused_locally(transport: AsyncioSoapTransport) -> None:
    envelope, action = _device_information_request()
    with pytest.raises(LocalProtocolError, match="only http and https"):
        await transport.post("ftp://127.0.0.1/x", envelope, action=action)


# ----------------------------------------------------------------------------- HTTP Digest

REALM = "raw camera"


def expected_response(exchange: Exchange, nonce: str, nc: str, cnonce: str) -> str:
    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    ha1 = md5(f"admin:{REALM}:{PASSWORD}")
    ha2 = md5("POST:/onvif/device_service")
    return md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


def authorization_of(exchange: Exchange) -> dict[str, str]:
    (challenge,) = parse_challenges(exchange.headers["authorization"])
    return dict(challenge.params)


async def test_digest_is_answered_then_sent_pre_emptively_and_refreshed_when_stale(
    transport: AsyncioSoapTransport,
) -> None:
    nonces = iter(["n1", "n2"])
    state = {"nonce": ""}

    async def digest_camera(
        server: RawServer,
        connection: int,
        index: int,
        exchange: Exchange,
        writer: asyncio.StreamWriter,
    ) -> bool:
        stale = len(server.exchanges) == 4  # the third call's pre-emptive answer: nonce expired
        if "authorization" in exchange.headers and not stale:
            params = authorization_of(exchange)
            ok = params["nonce"] == state["nonce"] and params["response"] == expected_response(
                exchange, params["nonce"], params["nc"], params["cnonce"]
            )
            if ok:
                return await answer(writer)
        state["nonce"] = next(nonces)
        challenge = f'Digest realm="{REALM}", qop="auth", nonce="{state["nonce"]}", opaque="o"'
        if stale:
            challenge += ", stale=true"
        writer.write(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
            + f"WWW-Authenticate: {challenge}\r\n\r\n".encode()
        )
        await writer.drain()
        return True

    credentials = HttpCredentials("admin", PASSWORD)
    async with RawServer(digest_camera) as server:
        for _ in range(3):
            assert model_of(await post(transport, server.url, credentials=credentials)) == (
                "DS-2DF7276-AEL"
            )
        sent = [
            (authorization_of(e)["nonce"], authorization_of(e)["nc"])
            if "authorization" in e.headers
            else None
            for e in server.exchanges
        ]
        # 401, answer; pre-emptive nc=2; pre-emptive nc=3 refused as stale; new nonce nc=1.
        assert sent == [
            None,
            ("n1", "00000001"),
            ("n1", "00000002"),
            ("n1", "00000003"),
            ("n2", "00000001"),
        ]
        assert authorization_of(server.exchanges[1])["opaque"] == "o"
        assert server.connections == 1  # 401s keep the connection too


@pytest.mark.parametrize("auth", ["digest", "ws-security", "both"])
async def test_client_over_replay_camera(auth: ReplayAuth) -> None:
    transport = LoopbackOnlyTransport(AsyncioSoapTransport(timeout=5.0))
    async with (
        ReplayCamera(CORPUS, HIKVISION, auth=auth, password=PASSWORD) as camera,
        OnvifClient("127.0.0.1", camera.port, "admin", PASSWORD, transport=transport) as client,
    ):
        for _ in range(3):
            info = await client.device.get_device_information()
            assert info.model == "DS-2DF7276-AEL"
        assert client.auth_mode == auth
        # Connecting settled the mode on GetServices: the token probe (401 for
        # Digest cameras), the bare request that fetches the challenge, its
        # answer, and for "both" the answer plus token after the 400 fault.
        assert camera.requests["GetServices"] == {"digest": 3, "ws-security": 1, "both": 4}[auth]
        # Digest was learnt once: every later call carried the answer straight away.
        assert camera.requests["GetDeviceInformation"] == 3
    await transport.aclose()


async def test_wrong_digest_password_gives_the_401_back(transport: AsyncioSoapTransport) -> None:
    async with ReplayCamera(CORPUS, HIKVISION, auth="digest", password=PASSWORD) as camera:
        response = await post(
            transport, camera.device_url, credentials=HttpCredentials("admin", "wrong")
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Digest realm="PlatoniCam replay')
        assert camera.requests["GetDeviceInformation"] == 2  # the 401, one answer, no loop


def test_importing_the_client_does_not_import_httpx() -> None:
    code = "import sys, platonicam.onvif; print('httpx' in sys.modules, 'anyio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
