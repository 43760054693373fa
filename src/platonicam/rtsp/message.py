"""RTSP/1.0 messages (RFC 2326) and an incremental, sans-IO parser for one connection.

Strategy (after h11): the parser owns a byte buffer and never touches a socket.
The I/O layer hands it whatever arrived (:meth:`RtspParser.receive_data`, ``b""``
for end of stream) and pulls events (:meth:`RtspParser.next_event`) until it says
:data:`NEED_DATA`. Events are requests, responses, ``$``-framed interleaved
binary data (RFC 2326 §10.12, how RTP rides on the RTSP connection) and, once
the peer has closed cleanly between messages, :class:`ConnectionClosed`.

The same parser serves both ends: a server mostly reads requests and a client
mostly responses, but either side may send either (a server may send
GET_PARAMETER or ANNOUNCE to its client), so the start line decides which one a
message is.

Leniency: bare ``LF`` line ends and blank lines between messages are accepted,
because some camera firmware writes them; everything else that does not parse
is a :class:`~platonicam.rtsp.errors.RtspProtocolError` with a message that says
what was wrong, after which the connection is unusable (we cannot know where
the next message starts).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from platonicam.rtsp.errors import RtspProtocolError

RTSP_VERSION: Final = "RTSP/1.0"

#: Default cap on a message's start line plus headers (bytes).
MAX_HEADER_BYTES: Final = 64 * 1024
#: Default cap on a message body (bytes); SDP and parameter bodies are small.
MAX_BODY_BYTES: Final = 1024 * 1024

#: Reason phrases of the status codes we send (RFC 2326 §7.1.1).
REASONS: Final[Mapping[int, str]] = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    451: "Parameter Not Understood",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    457: "Invalid Range",
    459: "Aggregate Operation Not Allowed",
    460: "Only Aggregate Operation Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VERSION = re.compile(r"^RTSP/\d\.\d$")
_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered list of header fields; look-ups ignore the case of names.

    Order and repeated names are kept as received, so a message serialises back
    to the same header block.
    """

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, fields: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> Headers:
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        return cls(tuple((str(name), str(value)) for name, value in pairs))

    def get(self, name: str) -> str | None:
        """The first value of ``name``, or ``None`` when absent."""
        lowered = name.lower()
        for key, value in self.items:
            if key.lower() == lowered:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.items if key.lower() == lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __len__(self) -> int:
        return len(self.items)

    def with_field(self, name: str, value: str) -> Headers:
        """A copy with every ``name`` field replaced by one ``name: value`` at the end."""
        lowered = name.lower()
        kept = tuple((k, v) for k, v in self.items if k.lower() != lowered)
        return Headers((*kept, (name, value)))

    def _serialise(self, body: bytes) -> bytes:
        lines = []
        has_length = False
        for name, value in self.items:
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise RtspProtocolError(f"header {name!r} contains a line break")
            if name.lower() == "content-length":
                has_length = True
            lines.append(f"{name}: {value}\r\n")
        if body and not has_length:
            lines.append(f"Content-Length: {len(body)}\r\n")
        return "".join(lines).encode()


@dataclass(frozen=True, slots=True)
class RtspRequest:
    """A request; ``bytes(request)`` is its wire form (Content-Length added for a body)."""

    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = RTSP_VERSION

    @property
    def cseq(self) -> int | None:
        """The ``CSeq`` as a number, or ``None`` when absent or not a number."""
        return _int_or_none(self.headers.get("CSeq"))

    def __bytes__(self) -> bytes:
        if not _TOKEN.match(self.method) or not self.uri or " " in self.uri:
            raise RtspProtocolError(f"cannot send request line {self.method!r} {self.uri!r}")
        start = f"{self.method} {self.uri} {self.version}\r\n".encode()
        return start + self.headers._serialise(self.body) + b"\r\n" + self.body


@dataclass(frozen=True, slots=True)
class RtspResponse:
    """A response; ``reason`` defaults to the standard phrase of ``status``."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    reason: str = ""
    version: str = RTSP_VERSION

    @property
    def cseq(self) -> int | None:
        return _int_or_none(self.headers.get("CSeq"))

    def __bytes__(self) -> bytes:
        reason = self.reason or REASONS.get(self.status, "Unknown")
        start = f"{self.version} {self.status:03d} {reason}\r\n".encode()
        return start + self.headers._serialise(self.body) + b"\r\n" + self.body


@dataclass(frozen=True, slots=True)
class InterleavedData:
    """One ``$``-framed binary packet on the RTSP connection (RTP or RTCP over TCP)."""

    channel: int
    payload: bytes

    def __bytes__(self) -> bytes:
        return interleaved_header(self.channel, len(self.payload)) + self.payload


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its sending side cleanly, between two messages."""


class _Need(enum.Enum):
    DATA = "NEED_DATA"


#: :meth:`RtspParser.next_event` returns this when it needs more bytes.
NEED_DATA: Final = _Need.DATA

Event = RtspRequest | RtspResponse | InterleavedData | ConnectionClosed


def interleaved_header(channel: int, length: int) -> bytes:
    """The 4-byte ``$``, channel, big-endian length prefix of an interleaved packet.

    Raises :class:`RtspProtocolError` when ``channel`` is not 0–255 or ``length``
    does not fit 16 bits.
    """
    if not 0 <= channel <= 255 or not 0 <= length <= 0xFFFF:
        raise RtspProtocolError(f"cannot frame {length} bytes on channel {channel}")
    return bytes((0x24, channel, length >> 8, length & 0xFF))


class RtspParser:
    """Turns the bytes of one RTSP connection into events, however they are split.

    Feed bytes with :meth:`receive_data` (``b""`` once the peer closed), then call
    :meth:`next_event` until it returns :data:`NEED_DATA`. Malformed input raises
    :class:`RtspProtocolError`; the parser must not be used after that.
    """

    def __init__(
        self, *, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes
        # A parsed head waiting for its body: (event without body, body length).
        self._pending: tuple[RtspRequest | RtspResponse, int] | None = None

    def receive_data(self, data: bytes) -> None:
        """Append bytes from the peer; ``b""`` means the peer closed its side."""
        if self._eof and data:
            raise RtspProtocolError("data received after the end of the stream")
        if data:
            self._buffer += data
        else:
            self._eof = True

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as events."""
        return len(self._buffer)

    def next_event(self) -> Event | _Need:
        """The next complete event, or :data:`NEED_DATA`.

        Raises :class:`RtspProtocolError` for a malformed start line or header,
        a head over ``max_header_bytes``, a body over ``max_body_bytes``, or a
        stream that ends inside a message.
        """
        if self._pending is not None:
            return self._body()
        buffer = self._buffer
        # Empty lines between messages are tolerated (RFC 2326 §15.1 says a
        # receiver should ignore them; some cameras send one after a body).
        start = 0
        while start < len(buffer) and buffer[start] in (0x0D, 0x0A):
            start += 1
        if start:
            del buffer[:start]
        if not buffer:
            return ConnectionClosed() if self._eof else NEED_DATA
        if buffer[0] == 0x24:
            return self._interleaved()
        match = _HEAD_END.search(buffer, 0, self._max_header + 4)
        if match is None:
            if len(buffer) > self._max_header:
                raise RtspProtocolError(
                    f"message head is longer than the limit of {self._max_header} bytes"
                )
            if self._eof:
                raise RtspProtocolError("connection closed in the middle of a message head")
            return NEED_DATA
        if match.start() > self._max_header:
            raise RtspProtocolError(
                f"message head is longer than the limit of {self._max_header} bytes"
            )
        head = bytes(buffer[: match.start()])
        del buffer[: match.end()]
        message, length = self._parse_head(head)
        if length > self._max_body:
            raise RtspProtocolError(
                f"Content-Length {length} is over the limit of {self._max_body} bytes"
            )
        self._pending = (message, length)
        return self._body()

    def _interleaved(self) -> InterleavedData | _Need:
        buffer = self._buffer
        if len(buffer) < 4:
            if self._eof:
                raise RtspProtocolError("connection closed in the middle of interleaved data")
            return NEED_DATA
        length = (buffer[2] << 8) | buffer[3]
        if len(buffer) < 4 + length:
            if self._eof:
                raise RtspProtocolError("connection closed in the middle of interleaved data")
            return NEED_DATA
        event = InterleavedData(buffer[1], bytes(buffer[4 : 4 + length]))
        del buffer[: 4 + length]
        return event

    def _body(self) -> RtspRequest | RtspResponse | _Need:
        assert self._pending is not None
        message, length = self._pending
        if len(self._buffer) < length:
            if self._eof:
                raise RtspProtocolError(
                    f"connection closed after {len(self._buffer)} of {length} body bytes"
                )
            return NEED_DATA
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._pending = None
        if isinstance(message, RtspRequest):
            return RtspRequest(message.method, message.uri, message.headers, body, message.version)
        return RtspResponse(message.status, message.headers, body, message.reason, message.version)

    def _parse_head(self, head: bytes) -> tuple[RtspRequest | RtspResponse, int]:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RtspProtocolError(
                f"message head is not UTF-8 (byte {exc.start}: {head[exc.start : exc.start + 1]!r})"
            ) from None
        lines = text.replace("\r\n", "\n").split("\n")
        start_line, header_lines = lines[0], lines[1:]
        headers = Headers(_parse_fields(header_lines))
        length_text = headers.get("Content-Length")
        length = 0
        if length_text is not None:
            stripped = length_text.strip()
            if not stripped.isdigit():
                raise RtspProtocolError(f"Content-Length {length_text!r} is not a number")
            length = int(stripped)
        return _parse_start_line(start_line, headers), length


def _parse_start_line(line: str, headers: Headers) -> RtspRequest | RtspResponse:
    if line.startswith("RTSP/"):
        parts = line.split(" ", 2)
        if len(parts) < 2 or not _VERSION.match(parts[0]):
            raise RtspProtocolError(f"malformed status line {line!r}")
        code = parts[1]
        if len(code) != 3 or not code.isdigit():
            raise RtspProtocolError(f"malformed status code {code!r} in {line!r}")
        reason = parts[2] if len(parts) == 3 else ""
        return RtspResponse(int(code), headers, b"", reason, parts[0])
    parts = line.split(" ")
    if len(parts) != 3:
        raise RtspProtocolError(f"malformed request line {line!r}")
    method, uri, version = parts
    if not _TOKEN.match(method):
        raise RtspProtocolError(f"malformed method {method!r} in {line!r}")
    if not uri:
        raise RtspProtocolError(f"empty request URI in {line!r}")
    if not _VERSION.match(version):
        raise RtspProtocolError(f"unknown protocol version {version!r} in {line!r}")
    return RtspRequest(method, uri, headers, b"", version)


def _parse_fields(lines: list[str]) -> tuple[tuple[str, str], ...]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            # Obsolete line folding (RFC 2326 inherits it from HTTP/1.1).
            if not fields:
                raise RtspProtocolError(f"continuation line {line!r} before any header")
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name):
            raise RtspProtocolError(f"malformed header line {line!r}")
        fields.append((name, value.strip()))
    return tuple(fields)


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else None


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """One alternative of a ``Transport`` header (RFC 2326 §12.39).

    ``protocol`` is ``"RTP/AVP"`` (UDP) or ``"RTP/AVP/TCP"``; the ``/UDP`` suffix
    some clients write is folded into ``"RTP/AVP"``. Port and channel pairs are
    ``(rtp, rtcp)``. Parameters we do not model are kept in ``extra``.
    """

    protocol: str
    unicast: bool = True
    interleaved: tuple[int, int] | None = None
    client_port: tuple[int, int] | None = None
    server_port: tuple[int, int] | None = None
    ssrc: int | None = None
    mode: str | None = None
    extra: tuple[str, ...] = ()

    @property
    def is_tcp(self) -> bool:
        return self.protocol == "RTP/AVP/TCP"

    def __str__(self) -> str:
        parts = [self.protocol, "unicast" if self.unicast else "multicast"]
        if self.interleaved is not None:
            parts.append(f"interleaved={self.interleaved[0]}-{self.interleaved[1]}")
        if self.client_port is not None:
            parts.append(f"client_port={self.client_port[0]}-{self.client_port[1]}")
        if self.server_port is not None:
            parts.append(f"server_port={self.server_port[0]}-{self.server_port[1]}")
        if self.ssrc is not None:
            parts.append(f"ssrc={self.ssrc:08X}")
        if self.mode is not None:
            parts.append(f'mode="{self.mode}"')
        parts.extend(self.extra)
        return ";".join(parts)


def parse_transport(value: str) -> list[TransportSpec]:
    """The comma-separated alternatives of a ``Transport`` header, in the client's order.

    Raises :class:`RtspProtocolError` for a pair that is not ``a-b`` numbers (a
    lone number ``a`` means ``a-(a+1)``, as RFC 2326 allows for ports).
    """
    specs = []
    for alternative in value.split(","):
        params = [p.strip() for p in alternative.split(";") if p.strip()]
        if not params:
            continue
        protocol = params[0].upper()
        if protocol == "RTP/AVP/UDP":
            protocol = "RTP/AVP"
        unicast = True
        interleaved = client_port = server_port = None
        ssrc = None
        mode = None
        extra: list[str] = []
        for param in params[1:]:
            key, _, raw = param.partition("=")
            key = key.strip().lower()
            if key == "unicast":
                unicast = True
            elif key == "multicast":
                unicast = False
            elif key == "interleaved":
                interleaved = _pair(raw, param)
            elif key == "client_port":
                client_port = _pair(raw, param)
            elif key == "server_port":
                server_port = _pair(raw, param)
            elif key == "ssrc":
                try:
                    ssrc = int(raw.strip(), 16)
                except ValueError:
                    raise RtspProtocolError(f"malformed transport parameter {param!r}") from None
            elif key == "mode":
                mode = raw.strip().strip('"')
            else:
                extra.append(param)
        specs.append(
            TransportSpec(
                protocol, unicast, interleaved, client_port, server_port, ssrc, mode, tuple(extra)
            )
        )
    return specs


def _pair(raw: str, param: str) -> tuple[int, int]:
    first, dash, second = raw.strip().partition("-")
    try:
        low = int(first)
        high = int(second) if dash else low + 1
    except ValueError:
        raise RtspProtocolError(f"malformed transport parameter {param!r}") from None
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        raise RtspProtocolError(f"transport parameter out of range: {param!r}")
    return low, high


def parse_session(value: str) -> tuple[str, int | None]:
    """``Session: id[;timeout=N]`` as ``(id, timeout seconds or None)``."""
    session_id, _, rest = value.partition(";")
    timeout = None
    for param in rest.split(";"):
        key, _, raw = param.partition("=")
        if key.strip().lower() == "timeout" and raw.strip().isdigit():
            timeout = int(raw.strip())
    return session_id.strip(), timeout
