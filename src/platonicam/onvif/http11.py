"""Sans-IO HTTP/1.1 for the SOAP transport: request bytes out, one response in.

Strategy: the client side of HTTP/1.1 as an ONVIF client needs it, and no more.
One request is written, then :class:`ResponseParser` is fed whatever bytes
arrive (:meth:`~ResponseParser.receive_data`, :meth:`~ResponseParser.receive_eof`)
until :attr:`~ResponseParser.response` is set. No sockets, no event loop: the
asyncio shell in ``transport.py`` owns those, and maps :class:`HttpError` into
the client's error tree.

What the parser accepts (RFC 9112), and the camera habits it tolerates:

* A status line ``HTTP/1.x SP 3DIGIT [SP reason]``; a missing reason phrase is
  accepted (embedded servers send ``HTTP/1.1 200\\r\\n``). Anything that does
  not start with ``HTTP/`` is refused as soon as five bytes show it, so an
  HTTP/0.9-style bare XML answer fails fast instead of waiting for a blank line.
* Header lines ending in CRLF or a bare LF (some camera web servers write LF
  only); obsolete line folding is unfolded into one space.
* Interim ``1xx`` responses (``100 Continue``) are skipped.
* Body framing in RFC order: no body for 1xx/204/304; ``Transfer-Encoding``
  ending in ``chunked`` (chunk extensions ignored, trailers kept); otherwise
  ``Content-Length`` (repeated identical values merged, differing ones
  refused); otherwise the body runs until the server closes the connection.
* Keep-alive: HTTP/1.1 unless ``Connection: close``; HTTP/1.0 only with
  ``Connection: keep-alive`` and a length-delimited body. A close-delimited
  body, or a response that carries both ``Transfer-Encoding`` and
  ``Content-Length`` (a framing conflict RFC 9112 §6.1 says to close after),
  never leaves a reusable connection.

Limits are checked while bytes arrive, not after: ``max_head_bytes`` for the
status line plus headers (and for trailers), ``max_body_bytes`` for the
decoded body (a ``Content-Length`` above it is refused before any body byte).
Bytes that follow a complete response are kept in
:attr:`ResponseParser.trailing_data`; since this client never pipelines, they
can only be junk, and the connection must not be reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The largest status line plus header block we accept (and likewise trailers).
MAX_HEAD_BYTES: Final = 64 * 1024
#: Header fields per response: a real camera sends about ten.
MAX_HEADER_FIELDS: Final = 128
#: A chunk-size line (size, extensions, CRLF).
_MAX_CHUNK_LINE: Final = 4096
_NO_BODY_STATUSES: Final = frozenset({204, 304})
_TOKEN_CHARS: Final = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")


class HttpError(Exception):
    """The peer broke HTTP/1.1 framing (or a limit); the message says how."""


class BodyTooLarge(HttpError):
    """The response body exceeds the parser's ``max_body_bytes``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response body exceeds {limit} bytes")
        self.limit = limit


class ConnectionClosed(HttpError):
    """The peer closed the connection before sending a single response byte.

    The one failure after which a request may be retried on a fresh connection
    (a keep-alive connection the server closed while it sat idle).
    """


@dataclass(frozen=True, slots=True)
class Response:
    """One complete HTTP response.

    ``headers`` and ``trailers`` keep the fields in arrival order with their
    names lower-cased. ``keep_alive`` says whether the connection may carry
    another request afterwards (framing and ``Connection`` both allow it).
    """

    http_version: str
    status_code: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    trailers: tuple[tuple[str, str], ...] = ()
    keep_alive: bool = True

    def header(self, name: str) -> str | None:
        """The field's value (repeated fields joined with ``", "``), or ``None``."""
        values = self.header_values(name)
        return ", ".join(values) if values else None

    def header_values(self, name: str) -> list[str]:
        """Every value of one field, in order (``WWW-Authenticate`` may repeat)."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    def header_map(self) -> dict[str, str]:
        """Lower-cased names to values, repeated fields joined with ``", "``."""
        joined: dict[str, str] = {}
        for key, value in self.headers:
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return joined


def build_request(
    method: str,
    target: str,
    *,
    host: str,
    headers: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """The bytes of one request: request line, ``Host``, ``headers``, ``Content-Length``, body.

    ``target`` is the origin-form path and query; ``host`` the ``Host`` value
    (``example:8080``, ``[::1]:8080``). ``Content-Length`` is always written,
    even for an empty body. Raises :class:`ValueError` for a method or field
    name that is not a token, or any CR, LF or NUL in a target or value
    (header injection).
    """
    if not method or not _is_token(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    lines = [
        f"{method} {_checked(target, 'request target')} HTTP/1.1",
        f"Host: {_checked(host, 'Host')}",
    ]
    for name, value in headers:
        if not name or not _is_token(name):
            raise ValueError(f"invalid header name {name!r}")
        lines.append(f"{name}: {_checked(value, name)}")
    lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + body


def _is_token(text: str) -> bool:
    return all(ord(char) < 128 and ord(char) in _TOKEN_CHARS for char in text)


def _checked(value: str, what: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError(f"{what} contains a line break or NUL: {value!r}")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not Latin-1: {value!r}") from None
    return value


# The parser's states, in the order a response passes through them.
_HEAD: Final = 0
_BODY_LENGTH: Final = 1
_CHUNK_SIZE: Final = 2
_CHUNK_DATA: Final = 3
_CHUNK_DATA_END: Final = 4
_TRAILERS: Final = 5
_BODY_UNTIL_CLOSE: Final = 6
_DONE: Final = 7


class ResponseParser:
    """Parses one response to one request, from bytes fed in any split.

    Feed with :meth:`receive_data` and, when the peer closes, :meth:`receive_eof`;
    both raise :class:`HttpError` (or its subclasses :class:`BodyTooLarge`,
    :class:`ConnectionClosed`) and then leave the parser unusable. ``response``
    is set once the response is complete; further data goes to
    ``trailing_data``. ``bytes_received`` counts every byte fed.
    """

    def __init__(
        self,
        *,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_body_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.max_head_bytes = max_head_bytes
        self.max_body_bytes = max_body_bytes
        self.response: Response | None = None
        self.trailing_data = b""
        self.bytes_received = 0
        self._buffer = bytearray()
        self._state = _HEAD
        self._scan_from = 0  # where the search for a field block's end resumes
        self._blank_end = 0  # just past the blank line that ended the last field block
        self._version = ""
        self._status = 0
        self._reason = ""
        self._headers: tuple[tuple[str, str], ...] = ()
        self._trailers: tuple[tuple[str, str], ...] = ()
        self._keep_alive = True
        self._remaining = 0  # bytes left of a Content-Length body or the current chunk
        self._body: list[bytes] = []
        self._body_size = 0

    @property
    def is_complete(self) -> bool:
        return self.response is not None

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the connection. Raises :class:`HttpError` on broken framing."""
        self.bytes_received += len(data)
        if self._state == _DONE:
            self.trailing_data += data
            return
        self._buffer += data
        self._advance()

    def receive_eof(self) -> None:
        """The peer closed its side. Completes a close-delimited body, else raises
        :class:`ConnectionClosed` (nothing received) or :class:`HttpError`."""
        if self._state == _DONE:
            return
        if self._state == _BODY_UNTIL_CLOSE:
            self._finish()
            return
        if self.bytes_received == 0:
            raise ConnectionClosed("connection closed before any response byte")
        if self._state == _HEAD:
            raise HttpError("connection closed in the middle of the response head")
        if self._state == _BODY_LENGTH:
            raise HttpError(
                f"connection closed after {self._body_size} of "
                f"{self._body_size + self._remaining} body bytes"
            )
        raise HttpError(f"connection closed inside the chunked body after {self._body_size} bytes")

    # ------------------------------------------------------------------ states

    def _advance(self) -> None:
        while self._state != _DONE:
            before = self._state
            if before == _HEAD:
                if not self._parse_head():
                    return
            elif before == _BODY_LENGTH:
                self._take_body(min(self._remaining, len(self._buffer)))
                if self._remaining:
                    return
                self._finish()
            elif before == _BODY_UNTIL_CLOSE:
                self._take_body(len(self._buffer))
                return
            elif before == _CHUNK_SIZE:
                if not self._parse_chunk_size():
                    return
            elif before == _CHUNK_DATA:
                self._take_body(min(self._remaining, len(self._buffer)))
                if self._remaining:
                    return
                self._state = _CHUNK_DATA_END
            elif before == _CHUNK_DATA_END:
                if not self._parse_chunk_end():
                    return
            elif before == _TRAILERS and not self._parse_trailers():
                return

    def _take_body(self, count: int) -> None:
        if not count:
            return
        self._body_size += count
        if self._body_size > self.max_body_bytes:
            raise BodyTooLarge(self.max_body_bytes)
        self._body.append(bytes(self._buffer[:count]))
        del self._buffer[:count]
        if self._state != _BODY_UNTIL_CLOSE:
            self._remaining -= count

    def _finish(self) -> None:
        self.response = Response(
            http_version=self._version,
            status_code=self._status,
            reason=self._reason,
            headers=self._headers,
            body=b"".join(self._body),
            trailers=self._trailers,
            keep_alive=self._keep_alive,
        )
        self.trailing_data = bytes(self._buffer)
        self._buffer.clear()
        self._body = []
        self._state = _DONE

    def _find_block_end(self) -> int | None:
        """Length of the field block at the buffer's start, up to and including
        its last field line's LF, once the blank line after it has arrived
        (``None`` before). The blank line's own bytes follow at that offset.
        CRLF and bare-LF endings are both accepted."""
        buffer = self._buffer
        start = self._scan_from  # the first line not yet known to be a field line
        while True:
            newline = buffer.find(b"\n", start)
            if newline < 0:
                self._scan_from = start
                return None
            if newline == start or (newline == start + 1 and buffer[start] == 0x0D):
                self._scan_from = 0
                self._blank_end = newline + 1
                return start
            start = newline + 1

    def _parse_head(self) -> bool:
        if not b"HTTP/".startswith(bytes(self._buffer[:5])):
            raise HttpError(
                f"no HTTP status line; the answer starts with {bytes(self._buffer[:20])!r}"
            )
        end = self._find_block_end()
        if end is None:
            if len(self._buffer) > self.max_head_bytes:
                raise HttpError(f"response head exceeds {self.max_head_bytes} bytes")
            return False
        if self._blank_end > self.max_head_bytes:
            raise HttpError(f"response head exceeds {self.max_head_bytes} bytes")
        lines = _split_lines(bytes(self._buffer[:end]))
        del self._buffer[: self._blank_end]
        if not lines or not lines[0]:
            raise HttpError("empty status line")
        self._version, self._status, self._reason = _parse_status_line(lines[0])
        headers = _parse_fields(lines[1:])
        if 100 <= self._status < 200 and self._status != 101:
            return True  # interim response (100 Continue, 103 Early Hints): the real one follows
        if self._status == 101:
            raise HttpError(
                "the server switched protocols (101), which a SOAP request never asks for"
            )
        self._headers = headers
        self._choose_framing()
        return True

    def _choose_framing(self) -> None:
        connection = {
            token.strip().lower()
            for key, value in self._headers
            if key == "connection"
            for token in value.split(",")
        }
        if self._version == "HTTP/1.0":
            self._keep_alive = "keep-alive" in connection
        else:
            self._keep_alive = "close" not in connection
        transfer_codings = [
            token.strip().lower()
            for key, value in self._headers
            if key == "transfer-encoding"
            for token in value.split(",")
            if token.strip()
        ]
        lengths = [value for key, value in self._headers if key == "content-length"]
        if self._status in _NO_BODY_STATUSES:
            self._finish()
        elif transfer_codings:
            if lengths:
                self._keep_alive = False  # conflicting framing: never reuse (RFC 9112 §6.1)
            if transfer_codings[-1] == "chunked":
                self._state = _CHUNK_SIZE
            else:
                self._keep_alive = False
                self._state = _BODY_UNTIL_CLOSE
        elif lengths:
            self._remaining = _content_length(lengths)
            if self._remaining > self.max_body_bytes:
                raise BodyTooLarge(self.max_body_bytes)
            self._state = _BODY_LENGTH
            if self._remaining == 0:
                self._finish()
        else:
            self._keep_alive = False
            self._state = _BODY_UNTIL_CLOSE

    def _parse_chunk_size(self) -> bool:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > _MAX_CHUNK_LINE:
                raise HttpError("chunk-size line too long")
            return False
        line = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[: end + 1]
        size_text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
        if not size_text or len(size_text) > 16 or not all(c in _HEX_DIGITS for c in size_text):
            raise HttpError(f"invalid chunk size {line[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            self._state = _TRAILERS
            return True
        if self._body_size + size > self.max_body_bytes:
            raise BodyTooLarge(self.max_body_bytes)
        self._remaining = size
        self._state = _CHUNK_DATA
        return True

    def _parse_chunk_end(self) -> bool:
        if len(self._buffer) < 1:
            return False
        if self._buffer[:1] == b"\n":
            del self._buffer[:1]
        elif self._buffer[:1] == b"\r":
            if len(self._buffer) < 2:
                return False
            if self._buffer[1:2] != b"\n":
                raise HttpError("chunk data not followed by CRLF")
            del self._buffer[:2]
        else:
            raise HttpError("chunk data longer than its declared size")
        self._state = _CHUNK_SIZE
        return True

    def _parse_trailers(self) -> bool:
        end = self._find_block_end()
        if end is None:
            if len(self._buffer) > self.max_head_bytes:
                raise HttpError(f"trailers exceed {self.max_head_bytes} bytes")
            return False
        self._trailers = _parse_fields(_split_lines(bytes(self._buffer[:end])))
        del self._buffer[: self._blank_end]
        self._finish()
        return True


def _split_lines(block: bytes) -> list[bytes]:
    return [line[:-1] if line.endswith(b"\r") else line for line in block.split(b"\n")]


def _parse_status_line(line: bytes) -> tuple[str, int, str]:
    version, _, rest = line.partition(b" ")
    code, _, reason = rest.lstrip(b" ").partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HttpError(f"unsupported HTTP version in status line {line[:60]!r}")
    if len(code) != 3 or not code.isdigit():
        raise HttpError(f"invalid status code in status line {line[:60]!r}")
    return version.decode("ascii"), int(code), reason.strip().decode("latin-1")


def _parse_fields(lines: list[bytes]) -> tuple[tuple[str, str], ...]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            # Obsolete line folding (RFC 9112 §5.2): a user agent may unfold it.
            if not fields:
                raise HttpError("header block starts with a continuation line")
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip().decode('latin-1')}".strip())
            continue
        raw_name, colon, raw_value = line.partition(b":")
        if not colon or not raw_name or any(c not in _TOKEN_CHARS for c in raw_name):
            raise HttpError(f"malformed header line {line[:60]!r}")
        fields.append((raw_name.decode("ascii").lower(), raw_value.strip().decode("latin-1")))
        if len(fields) > MAX_HEADER_FIELDS:
            raise HttpError(f"more than {MAX_HEADER_FIELDS} header fields")
    return tuple(fields)


def _content_length(values: list[str]) -> int:
    # "Content-Length: 12, 12" and two identical fields are one length (RFC 9110 §8.6).
    found = {part.strip() for value in values for part in value.split(",")}
    if len(found) != 1:
        raise HttpError(f"conflicting Content-Length values {sorted(found)}")
    text = found.pop()
    if not text.isdigit() or len(text) > 18:
        raise HttpError(f"invalid Content-Length {text!r}")
    return int(text)
