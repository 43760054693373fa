"""A camera on loopback that answers from captured real-camera responses.

Strategy: the corpus (``<kind>/<vendor>_<model>_<Operation>.xml``) already holds
what one camera said to each request, so a "camera" is an index from the request
body's local name to a file, plus the parts of a camera a client must cope with
that a file cannot show: authentication (WS-Security UsernameToken, HTTP Digest,
or both), a clock that may be far from ours, private addresses in every reply,
faults, and a camera that accepts a connection and never answers.

The HTTP/1.1 server is a small asyncio stream handler (keep-alive, Content-Length
and chunked request bodies) rather than a framework: the benchmark measures the
client against it, so the server's own cost has to stay negligible. Requests are
parsed only as far as routing and authentication need (the body's first element
and the ``wsse:Security`` header); replies are read, address-rewritten and
classified once and then served from a cache.

Address rewriting: captures name the cameras' LAN addresses (``10.10.1.67``,
``http://192.168.0.209/onvif/services``). With ``rewrite_addresses=True`` (the
default) every such address in a reply is replaced by the replay camera's own
``127.0.0.1:PORT``, so nothing a client follows leaves loopback; with ``False``
replies go out verbatim and the *client's* NAT rewrite has to do that job.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import re
import secrets
import ssl
import threading
import time
from collections import Counter
from collections.abc import Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Self

from lxml import etree

from platonicam.onvif.errors import OnvifError
from platonicam.onvif.models.device import SystemDateAndTime
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.envelope import build_envelope, envelope_from_root
from platonicam.onvif.soap.namespaces import (
    SOAP11,
    SOAP12,
    TAN,
    TDS,
    TEV,
    TIMG,
    TMD,
    TPTZ,
    TR2,
    TRT,
    TT,
    WSNT,
    local_name,
    namespace_of,
    qn,
)
from platonicam.onvif.soap.wssecurity import parse_username_token
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import child, text

ReplayAuth = Literal["none", "ws-security", "digest", "both"]

#: Corpus folders in the order an operation name is looked up when the request's
#: namespace does not settle it.
_KINDS: Final = ("device", "media", "media2", "imaging", "ptz", "events", "analytics")
_KIND_BY_NAMESPACE: Final = {
    TDS: "device",
    TRT: "media",
    TR2: "media2",
    TIMG: "imaging",
    TPTZ: "ptz",
    TEV: "events",
    WSNT: "events",
    TAN: "analytics",
    TMD: "device",
}
_OPERATION_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_MAX_HEAD_BYTES: Final = 64 * 1024
_MAX_BODY_BYTES: Final = 4 * 1024 * 1024
_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
}

# ----------------------------------------------------------------------------- rewriting

# A URL authority we treat as "the camera": an IPv4 literal, a bracketed IPv6
# literal, or a LAN-style name (one label, or *.local / *.lan). Dotted public
# names are left alone: they are namespace URIs (www.onvif.org ...), not hosts.
# ``(?::\d*)*`` swallows duplicated ports (``10.1.2.3:80:80``, seen in the wild).
_URL: Final = re.compile(
    rb"(?P<scheme>https?|rtsp)://"
    rb"(?P<host>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.local|\.lan)?)"
    rb"(?P<ports>(?::\d*)*)"
    rb"(?=[/?#<\"'\s&]|$)"
)
_IPV4: Final = re.compile(rb"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def _is_camera_address(raw: bytes) -> bool:
    """Whether an IPv4/IPv6 literal names a unicast host (multicast groups,
    0.0.0.0, netmasks and loopback stay as they are)."""
    try:
        address = ipaddress.ip_address(raw.decode("ascii").strip("[]"))
    except ValueError:
        return False
    return not (
        address.is_multicast
        or address.is_unspecified
        or address.is_loopback
        or address.is_reserved
        or (address.version == 4 and raw.startswith(b"255."))
    )


def rewrite_private_addresses(data: bytes, *, port: int, scheme: str = "http") -> bytes:
    """Point every camera address in ``data`` at ``127.0.0.1``.

    HTTP(S) URLs become ``<scheme>://127.0.0.1:<port>`` (any duplicated port
    dropped); RTSP URLs keep their scheme and first port and get ``127.0.0.1``;
    remaining unicast IPv4 literals (interface addresses, gateways, DNS servers)
    become ``127.0.0.1``. Namespace URIs, multicast groups, ``0.0.0.0`` and
    netmasks are untouched.
    """
    own_http = f"{scheme}://127.0.0.1:{port}".encode()

    def url(match: re.Match[bytes]) -> bytes:
        host = match.group("host")
        is_literal = host[:1].isdigit() or host.startswith(b"[")
        if is_literal and not _is_camera_address(host):
            return match.group(0)
        if match.group("scheme") == b"rtsp":
            first_port = next((p for p in match.group("ports").split(b":") if p), b"")
            return b"rtsp://127.0.0.1" + (b":" + first_port if first_port else b"")
        return own_http

    def bare(match: re.Match[bytes]) -> bytes:
        return b"127.0.0.1" if _is_camera_address(match.group(1)) else match.group(0)

    return _IPV4.sub(bare, _URL.sub(url, data))


# ----------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes
    extra_headers: tuple[tuple[str, str], ...] = ()


def _fault_envelope(code: str, subcode: str, reason: str) -> bytes:
    envelope = etree.Element(
        qn(SOAP12, "Envelope"), nsmap={"s": SOAP12, "ter": "http://www.onvif.org/ver10/error"}
    )
    fault = etree.SubElement(etree.SubElement(envelope, qn(SOAP12, "Body")), qn(SOAP12, "Fault"))
    code_node = etree.SubElement(fault, qn(SOAP12, "Code"))
    etree.SubElement(code_node, qn(SOAP12, "Value")).text = f"s:{code}"
    subcode_node = etree.SubElement(code_node, qn(SOAP12, "Subcode"))
    etree.SubElement(subcode_node, qn(SOAP12, "Value")).text = f"ter:{subcode}"
    reason_node = etree.SubElement(fault, qn(SOAP12, "Reason"))
    text_node = etree.SubElement(reason_node, qn(SOAP12, "Text"))
    text_node.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text_node.text = reason
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


_NOT_AUTHORIZED: Final = _Reply(
    400, _fault_envelope("Sender", "NotAuthorized", "Sender not Authorized")
)


def _classify(body: bytes) -> int:
    """HTTP status for a stored reply: faults get 400 (Sender/Client) or 500,
    anything else (including non-XML overrides) 200."""
    try:
        root = parse_xml(body)
        envelope_from_root(root)
    except OnvifError as exc:
        code = getattr(exc, "code", None)
        if code is None:
            return 200  # not SOAP at all: served as is, the client has to cope
        return 400 if code in ("Sender", "Client") else 500
    return 200


def _write_date_time(parent: etree._Element, name: str, value: datetime) -> None:
    node = sub(parent, TT, name)
    clock = sub(node, TT, "Time")
    sub(clock, TT, "Hour", str(value.hour))
    sub(clock, TT, "Minute", str(value.minute))
    sub(clock, TT, "Second", str(value.second))
    date = sub(node, TT, "Date")
    sub(date, TT, "Year", str(value.year))
    sub(date, TT, "Month", str(value.month))
    sub(date, TT, "Day", str(value.day))


# ----------------------------------------------------------------------------- digest

_DIGEST_PARAM: Final = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5 is what cameras use


def _digest_params(header: str) -> dict[str, str] | None:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _DIGEST_PARAM.finditer(rest)
    }


# ----------------------------------------------------------------------------- the camera


class ReplayCamera:
    """An ONVIF camera on ``127.0.0.1`` replaying one captured device.

    ``corpus`` is a directory in the tests/corpus layout, ``vendor_model`` the
    file prefix of one device (``"hikvision_DS-2DF7276-AEL"``). A request is
    answered, in this order, from ``responses`` (operation name -> envelope
    bytes, served as given after address rewriting; faults get HTTP 400/500),
    the capture for the request's service, a capture of the same operation in
    another service folder, ``faults/`` (HTTP 400 for Sender faults, 500 for
    Receiver), and otherwise an ``ActionNotSupported`` SOAP 1.2 fault.

    Authentication (``auth``), as real firmware does it:

    * ``"none"``: everything open.
    * ``"ws-security"``: a token-only device; a request without a valid
      UsernameToken (PasswordDigest, nonce not seen before, ``Created`` within
      ``token_window`` of the camera's clock) gets HTTP 400 with ``ter:NotAuthorized``.
    * ``"digest"``: HTTP 401 with an RFC 7616 MD5 ``qop=auth`` challenge until
      the request carries a valid answer.
    * ``"both"``: Digest first (401), then the token (400).

    ``GetSystemDateAndTime`` always answers without credentials: verbatim from
    the capture while the camera's clock is the captured one, generated from the
    camera's clock once ``camera_time`` is given or :meth:`set_camera_time` is
    called, or when there is no capture. The camera's clock runs from that
    starting point at the speed of the machine's monotonic clock.

    ``hang`` names operations the camera accepts and never answers.
    ``prefer_faults`` names operations answered from ``faults/`` even when a
    response is captured too (the TRENDnet TV-IP320PI corpus holds both a
    GetServices answer and the fault the same firmware gave another time).
    ``requests`` counts every HTTP request by operation name (rejected ones too).
    Use it as an async context manager, or :class:`ReplayCameraThread` from
    synchronous code.
    """

    def __init__(
        self,
        corpus: Path | str,
        vendor_model: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        responses: Mapping[str, bytes] | None = None,
        auth: ReplayAuth = "none",
        username: str = "admin",
        password: str | None = None,
        camera_time: datetime | None = None,
        token_window: timedelta = timedelta(seconds=60),
        rewrite_addresses: bool = True,
        hang: Collection[str] = (),
        prefer_faults: Collection[str] = (),
        ssl_context: ssl.SSLContext | None = None,
        realm: str = "PlatoniCam replay camera",
    ) -> None:
        if auth != "none" and password is None:
            raise ValueError(f"auth={auth!r} needs a password")
        self.corpus = Path(corpus)
        self.vendor_model = vendor_model
        self.host = host
        self._requested_port = port
        self.auth: ReplayAuth = auth
        self.username = username
        self._password = password or ""
        self.token_window = token_window
        self.rewrite_addresses = rewrite_addresses
        self.hang = frozenset(hang)
        self.prefer_faults = frozenset(prefer_faults)
        self._ssl = ssl_context
        self.realm = realm
        self.requests: Counter[str] = Counter()
        self._overrides = dict(responses or {})
        self._files = self._index()
        self._cache: dict[str, _Reply] = {}
        self._server: asyncio.Server | None = None
        self._closing = asyncio.Event()
        self._port = 0
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._issued_nonces: set[str] = set()
        self._seen_token_nonces: set[bytes] = set()
        self._captured_fields: dict[str, str] = {}
        self._captured_time = self._read_captured_time()
        self._generate_time = camera_time is not None or self._captured_time is None
        start = camera_time or (
            self._captured_time.utc
            if self._captured_time is not None and self._captured_time.utc is not None
            else datetime.now(UTC)
        )
        self._clock_base = start
        self._clock_mark = _monotonic()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen (on an ephemeral port unless one was given)."""
        self._closing = asyncio.Event()
        self._server = await asyncio.start_server(
            self._serve_connection, self.host, self._requested_port, ssl=self._ssl
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening, drop every open connection and hung request."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        self._closing.set()  # releases hung requests
        for writer in list(self._writers):
            writer.close()
        handlers = list(self._handlers)
        if handlers:
            _, pending = await asyncio.wait(handlers, timeout=2.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the replay camera is not started")
        return self._port

    @property
    def scheme(self) -> str:
        return "https" if self._ssl is not None else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def device_url(self) -> str:
        return self.base_url + "/onvif/device_service"

    # ------------------------------------------------------------------ clock

    def camera_now(self) -> datetime:
        """The camera's clock (UTC, aware)."""
        return self._clock_base + timedelta(seconds=_monotonic() - self._clock_mark)

    def set_camera_time(self, value: datetime) -> None:
        """Set the camera's clock (a jump, as when NTP corrects it); from now on
        GetSystemDateAndTime reports it."""
        if value.tzinfo is None:
            raise ValueError("camera time must be timezone-aware")
        self._clock_base = value.astimezone(UTC)
        self._clock_mark = _monotonic()
        self._generate_time = True

    # ------------------------------------------------------------------ corpus

    def _index(self) -> dict[tuple[str, str], Path]:
        prefix = self.vendor_model + "_"
        files: dict[tuple[str, str], Path] = {}
        for kind in (*_KINDS, "faults"):
            folder = self.corpus / kind
            if not folder.is_dir():
                continue
            for path in folder.glob(prefix + "*.xml"):
                operation = path.stem[len(prefix) :]
                if _OPERATION_NAME.match(operation):
                    files[(kind, operation)] = path
        if not files:
            raise ValueError(f"no captures for {self.vendor_model!r} under {self.corpus}")
        return files

    def _read_captured_time(self) -> SystemDateAndTime | None:
        path = self._files.get(("device", "GetSystemDateAndTime"))
        if path is None:
            return None
        payload = envelope_from_root(parse_xml(path.read_bytes())).payload
        node = child(payload, "SystemDateAndTime")
        if node is None:
            return None
        for name, value in (
            ("DateTimeType", text(node, "DateTimeType")),
            ("DaylightSavings", text(node, "DaylightSavings")),
            ("TZ", text(node, "TimeZone", "TZ")),
        ):
            if value:
                self._captured_fields[name] = value
        return SystemDateAndTime.from_xml(node)

    def _stored_reply(self, operation: str, namespace: str | None) -> _Reply:
        kind = _KIND_BY_NAMESPACE.get(namespace or "")
        key = f"{kind}:{operation}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        data: bytes | None = self._overrides.get(operation)
        if data is None and operation in self.prefer_faults:
            fault_path = self._files.get(("faults", operation))
            data = fault_path.read_bytes() if fault_path is not None else None
        if data is None:
            path = self._files.get((kind, operation)) if kind else None
            if path is None:
                path = next(
                    (self._files[(k, operation)] for k in _KINDS if (k, operation) in self._files),
                    None,
                )
            if path is None:
                path = self._files.get(("faults", operation))
            data = path.read_bytes() if path is not None else None
        if data is None:
            reply = _Reply(
                500,
                _fault_envelope(
                    "Receiver",
                    "ActionNotSupported",
                    f"{self.vendor_model} replay has no answer to {operation}",
                ),
            )
        else:
            if self.rewrite_addresses:
                data = rewrite_private_addresses(data, port=self.port, scheme=self.scheme)
            reply = _Reply(_classify(data), data)
        self._cache[key] = reply
        return reply

    def _time_reply(self) -> _Reply:
        if not self._generate_time or "GetSystemDateAndTime" in self._overrides:
            # An override wins even over camera_time: that is how a test builds
            # a camera whose reported clock is not the one it checks tokens with.
            return self._stored_reply("GetSystemDateAndTime", TDS)
        now = self.camera_now()
        captured = self._captured_time
        local_offset = (
            captured.local - captured.utc.replace(tzinfo=None)
            if captured is not None and captured.local is not None and captured.utc is not None
            else timedelta()
        )
        # Written here rather than with the model's to_xml: the replay must
        # keep answering while the models evolve.
        response = element(TDS, "GetSystemDateAndTimeResponse")
        node = sub(response, TDS, "SystemDateAndTime")
        sub(node, TT, "DateTimeType", self._captured_fields.get("DateTimeType", "Manual"))
        sub(node, TT, "DaylightSavings", self._captured_fields.get("DaylightSavings", "false"))
        if "TZ" in self._captured_fields:
            sub(sub(node, TT, "TimeZone"), TT, "TZ", self._captured_fields["TZ"])
        _write_date_time(node, "UTCDateTime", now)
        _write_date_time(node, "LocalDateTime", now + local_offset)
        return _Reply(200, build_envelope(response))

    # ------------------------------------------------------------------ authentication

    def _challenge(self) -> _Reply:
        nonce = secrets.token_hex(16)
        if len(self._issued_nonces) > 1024:
            self._issued_nonces.clear()
        self._issued_nonces.add(nonce)
        header = (
            f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, '
            f'nonce="{nonce}", opaque="{secrets.token_hex(8)}"'
        )
        return _Reply(401, b"", (("WWW-Authenticate", header),))

    def _digest_ok(self, method: str, target: str, authorization: str | None) -> bool:
        params = _digest_params(authorization or "")
        if params is None:
            return False
        if params.get("nonce") not in self._issued_nonces:
            return False
        if params.get("username") != self.username or params.get("uri") != target:
            return False
        if params.get("qop", "auth") != "auth" or params.get("algorithm", "MD5").upper() != "MD5":
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self._password}")
        ha2 = _md5(f"{method}:{target}")
        expected = _md5(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
        )
        return hmac.compare_digest(expected, params.get("response", ""))

    def _token_ok(self, header: etree._Element | None) -> bool:
        try:
            token = parse_username_token(header)
        except OnvifError:
            return False
        if token is None or token.username != self.username or token.created is None:
            return False
        if abs(token.created - self.camera_now()) > self.token_window:
            return False
        if token.nonce in self._seen_token_nonces:
            return False  # a replayed token
        if not token.matches(self._password):
            return False
        if len(self._seen_token_nonces) > 4096:
            self._seen_token_nonces.clear()
        self._seen_token_nonces.add(token.nonce)
        return True

    # ------------------------------------------------------------------ dispatch

    def _answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply | None:
        """The reply to one HTTP request, or ``None`` for "never answer"."""
        if method != "POST":
            return _Reply(405, b"", (("Allow", "POST"),))
        try:
            root = parse_xml(body)
        except OnvifError:
            return _Reply(400, _fault_envelope("Sender", "WellFormed", "request is not XML"))
        envelope_ns = namespace_of(root.tag)
        body_node = root.find(qn(envelope_ns or SOAP12, "Body"))
        if local_name(root.tag) != "Envelope" or envelope_ns not in (SOAP12, SOAP11):
            body_node = None
        payload = (
            next((c for c in body_node if isinstance(c.tag, str)), None)
            if body_node is not None
            else None
        )
        if payload is None:
            return _Reply(400, _fault_envelope("Sender", "InvalidArgs", "no SOAP body"))
        operation = local_name(payload.tag)
        self.requests[operation] += 1
        if operation in self.hang:
            return None
        if operation == "GetSystemDateAndTime":
            return self._time_reply()
        if self.auth in ("digest", "both") and not self._digest_ok(
            method, target, headers.get("authorization")
        ):
            return self._challenge()
        if self.auth in ("ws-security", "both") and not self._token_ok(
            root.find(qn(envelope_ns or SOAP12, "Header"))
        ):
            return _NOT_AUTHORIZED
        return self._stored_reply(operation, namespace_of(payload.tag))

    # ------------------------------------------------------------------ HTTP/1.1

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._writers.add(writer)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away or sent garbage: close quietly, like a camera
        except asyncio.CancelledError:
            # Only close() cancels a connection task, and asyncio's stream
            # callback logs a cancelled handler as an error: end it normally.
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; ``False`` when the connection should end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        if len(head) > _MAX_HEAD_BYTES:
            return False
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return False
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(reader)
        else:
            length = int(headers.get("content-length", "0") or "0")
            if length > _MAX_BODY_BYTES:
                await _write(writer, _Reply(413, b""), keep_alive=False)
                return False
            body = await reader.readexactly(length) if length else b""
        try:
            reply = self._answer(method, target, headers, body)
        except Exception as exc:  # a bug here must show as a 500, not a dropped connection
            reply = _Reply(
                500, _fault_envelope("Receiver", "InternalError", f"replay camera failed: {exc!r}")
            )
        if reply is None:
            await self._closing.wait()  # hang until the camera is closed
            return False
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        await _write(writer, reply, keep_alive=keep_alive)
        return keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent to a camera
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY_BYTES:
            raise ConnectionError("request body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _write(writer: asyncio.StreamWriter, reply: _Reply, *, keep_alive: bool) -> None:
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Error')}"]
    if reply.body:
        head.append("Content-Type: application/soap+xml; charset=utf-8")
    head.append(f"Content-Length: {len(reply.body)}")
    head.extend(f"{name}: {value}" for name, value in reply.extra_headers)
    if not keep_alive:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
    await writer.drain()


def _monotonic() -> float:
    return time.monotonic()


# ----------------------------------------------------------------------------- threads


class ReplayCameraThread:
    """Runs a :class:`ReplayCamera` on its own event loop in a daemon thread,
    for synchronous callers (CLI tests that start ``platonicam`` as a subprocess)::

        with ReplayCameraThread(ReplayCamera(corpus, "axis_Q6045-E")) as camera:
            subprocess.run([..., "--port", str(camera.port)])
    """

    def __init__(self, camera: ReplayCamera) -> None:
        self.camera = camera
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="replay-camera", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def __enter__(self) -> ReplayCamera:
        self._thread.start()
        started: Future[None] = asyncio.run_coroutine_threadsafe(self.camera.start(), self._loop)
        started.result(timeout=10)
        return self.camera

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        closed: Future[None] = asyncio.run_coroutine_threadsafe(self.camera.close(), self._loop)
        closed.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
