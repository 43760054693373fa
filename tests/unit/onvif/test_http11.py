"""The sans-IO HTTP/1.1 request writer and response parser: bytes in, values out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platonicam.onvif.http11 import (
    BodyTooLarge,
    ConnectionClosed,
    HttpError,
    Response,
    ResponseParser,
    build_request,
)

SOAP_BODY = b"<?xml version='1.0'?><env:Envelope>...</env:Envelope>"
OK_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/soap+xml; charset=utf-8\r\n"
    b"Content-Length: " + str(len(SOAP_BODY)).encode() + b"\r\n"
    b"\r\n" + SOAP_BODY
)
CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n"
    b"5;name=value\r\nhello\r\n"
    b"7\r\n, world\r\n"
    b"0;last\r\n"
    b"X-Checksum: abc\r\n"
    b"X-Other: 1\r\n"
    b"\r\n"
)


def parse(data: bytes, *, eof: bool = False, **limits: int) -> ResponseParser:
    parser = ResponseParser(**limits)
    parser.receive_data(data)
    if eof:
        parser.receive_eof()
    return parser


def complete(parser: ResponseParser) -> Response:
    assert parser.response is not None, "response not complete"
    return parser.response


# ----------------------------------------------------------------------------- requests


def test_build_request_writes_host_headers_and_length() -> None:
    request = build_request(
        "POST",
        "/onvif/device_service?x=1",
        host="[::1]:8080",
        headers=[("Content-Type", 'application/soap+xml; action="urn:a"')],
        body=b"<e/>",
    )
    assert request == (
        b"POST /onvif/device_service?x=1 HTTP/1.1\r\n"
        b"Host: [::1]:8080\r\n"
        b'Content-Type: application/soap+xml; action="urn:a"\r\n'
        b"Content-Length: 4\r\n"
        b"\r\n"
        b"<e/>"
    )


def test_empty_body_still_sends_content_length() -> None:
    assert build_request("POST", "/", host="h").endswith(b"Content-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("method", "target", "headers", "message"),
    [
        ("POST", "/", [("X-Action", "a\r\nInjected: 1")], "X-Action contains a line break"),
        ("POST", "/a b\r\n", [], "request target contains a line break"),
        ("POST", "/", [("Bad Name", "v")], "invalid header name 'Bad Name'"),
        ("PO ST", "/", [], "invalid HTTP method 'PO ST'"),
        ("POST", "/", [("X", "snow ☃")], "X is not Latin-1"),
    ],
)
def test_build_request_refuses_injection(
    method: str, target: str, headers: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_request(method, target, host="h", headers=headers)


# ----------------------------------------------------------------------------- framing


def test_content_length_response() -> None:
    response = complete(parse(OK_RESPONSE))
    assert response.http_version == "HTTP/1.1"
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.body == SOAP_BODY
    assert response.header("content-type") == "application/soap+xml; charset=utf-8"
    assert response.keep_alive is True


def test_fed_byte_by_byte_gives_the_same_response() -> None:
    for data in (OK_RESPONSE, CHUNKED_RESPONSE):
        parser = ResponseParser()
        for index in range(len(data)):
            assert parser.response is None
            parser.receive_data(data[index : index + 1])
        assert parser.response == complete(parse(data))
        assert parser.bytes_received == len(data)


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED_RESPONSE)), max_size=8))
def test_any_split_gives_the_same_response(cuts: list[int]) -> None:
    for data in (OK_RESPONSE, CHUNKED_RESPONSE):
        points = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
        parser = ResponseParser()
        for start, end in itertools.pairwise(points):
            parser.receive_data(data[start:end])
        assert parser.response == complete(parse(data))


def test_chunked_with_extensions_and_trailers() -> None:
    response = complete(parse(CHUNKED_RESPONSE))
    assert response.body == b"hello, world"
    assert response.trailers == (("x-checksum", "abc"), ("x-other", "1"))
    assert response.keep_alive is True


def test_chunked_without_trailers_and_with_uppercase_hex() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"
    parser = parse(data)
    assert complete(parser).body == b"0123456789"
    assert complete(parser).trailers == ()
    assert parser.trailing_data == b""


def test_chunked_body_split_across_reads() -> None:
    parser = ResponseParser()
    parser.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1")
    parser.receive_data(b"0\r\n0123456789")
    parser.receive_data(b"abcdef\r")
    assert parser.response is None
    parser.receive_data(b"\n0\r\n\r\n")
    assert complete(parser).body == b"0123456789abcdef"


def test_body_split_across_reads() -> None:
    parser = ResponseParser()
    parser.receive_data(OK_RESPONSE[:40])
    parser.receive_data(OK_RESPONSE[40:-10])
    assert parser.response is None
    parser.receive_data(OK_RESPONSE[-10:])
    assert complete(parser).body == SOAP_BODY


def test_http10_close_delimited_body() -> None:
    parser = parse(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<a>")
    parser.receive_data(b"</a>")
    assert parser.response is None  # only the close ends this body
    parser.receive_eof()
    response = complete(parser)
    assert response.body == b"<a></a>"
    assert response.http_version == "HTTP/1.0"
    assert response.keep_alive is False


def test_http10_keep_alive_needs_the_header_and_a_length() -> None:
    response = complete(
        parse(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok")
    )
    assert response.keep_alive is True
    assert complete(parse(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")).keep_alive is False


def test_connection_close_ends_keep_alive() -> None:
    data = b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"
    response = complete(parse(data))
    assert response.keep_alive is False
    assert response.body == b""


def test_http11_without_framing_reads_until_close() -> None:
    parser = parse(b"HTTP/1.1 200 OK\r\n\r\nbody", eof=True)
    assert complete(parser).body == b"body"
    assert complete(parser).keep_alive is False


def test_both_transfer_encoding_and_length_uses_chunked_and_never_reuses() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n"
    )
    response = complete(parse(data))
    assert response.body == b"ok"
    assert response.keep_alive is False


@pytest.mark.parametrize("status", [204, 304])
def test_statuses_without_body(status: int) -> None:
    response = complete(parse(f"HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n".encode()))
    assert response.status_code == status
    assert response.body == b""


def test_interim_100_continue_is_skipped() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + OK_RESPONSE
    response = complete(parse(data))
    assert response.status_code == 200
    assert response.body == SOAP_BODY


def test_camera_habits_bare_lf_no_reason_folded_header_repeated_length() -> None:
    data = (
        b"HTTP/1.1 401\n"
        b'WWW-Authenticate: Digest realm="a",\n'
        b'\tnonce="n"\n'
        b'WWW-Authenticate: Basic realm="a"\n'
        b"Content-Length: 2, 2\n"
        b"Content-Length: 2\n"
        b"\n"
        b"no"
    )
    response = complete(parse(data))
    assert response.status_code == 401
    assert response.reason == ""
    assert response.header_values("WWW-Authenticate") == [
        'Digest realm="a", nonce="n"',
        'Basic realm="a"',
    ]
    assert (
        response.header_map()["www-authenticate"] == 'Digest realm="a", nonce="n", Basic realm="a"'
    )
    assert response.body == b"no"


def test_pipelined_junk_is_kept_apart() -> None:
    parser = parse(OK_RESPONSE + b"HTTP/1.1 200 OK\r\n")
    assert complete(parser).body == SOAP_BODY
    assert parser.trailing_data == b"HTTP/1.1 200 OK\r\n"
    parser.receive_data(b"more")
    assert parser.trailing_data == b"HTTP/1.1 200 OK\r\nmore"


# ----------------------------------------------------------------------------- broken peers


def test_missing_status_line_fails_on_the_first_bytes() -> None:
    with pytest.raises(HttpError, match=r"no HTTP status line; the answer starts with b'<\?xml"):
        parse(b"<?xml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "unsupported HTTP version"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "invalid status code"),
        (b"HTTP/1.1 abc OK\r\n\r\n", "invalid status code"),
        (b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", "starts with a continuation line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "conflicting Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length '-1'"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid chunk size b'zz'",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
            "chunk data longer than its declared size",
        ),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
    ],
)
def test_malformed_responses(data: bytes, message: str) -> None:
    with pytest.raises(HttpError, match=message):
        parse(data)


def test_oversized_head_is_refused_before_it_ends() -> None:
    parser = ResponseParser(max_head_bytes=1024)
    parser.receive_data(b"HTTP/1.1 200 OK\r\n")
    for _ in range(31):  # 17 + 31 * 32 = 1009 bytes: under the limit, no blank line yet
        parser.receive_data(b"X-Filler: " + b"a" * 20 + b"\r\n")
    assert parser.response is None
    with pytest.raises(HttpError, match="response head exceeds 1024 bytes"):
        parser.receive_data(b"X-Filler: " + b"a" * 20 + b"\r\n")


def test_too_many_header_fields() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 200 + b"\r\n"
    with pytest.raises(HttpError, match="more than 128 header fields"):
        parse(data)


def test_oversized_trailers() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"X: y\r\n" * 100
    with pytest.raises(HttpError, match="trailers exceed 256 bytes"):
        parse(data, max_head_bytes=256)


def test_body_limit_content_length_refused_before_the_body() -> None:
    with pytest.raises(BodyTooLarge, match="exceeds 10 bytes") as caught:
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", max_body_bytes=10)
    assert caught.value.limit == 10


def test_body_limit_chunked_and_close_delimited() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n6\r\n"
    with pytest.raises(BodyTooLarge, match="exceeds 10 bytes"):
        parse(chunked, max_body_bytes=10)
    parser = parse(b"HTTP/1.0 200 OK\r\n\r\n12345", max_body_bytes=10)
    with pytest.raises(BodyTooLarge):
        parser.receive_data(b"678901")


def test_exactly_at_the_body_limit_passes() -> None:
    response = complete(
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", max_body_bytes=10)
    )
    assert response.body == b"0123456789"


def test_eof_before_any_byte_is_connection_closed() -> None:
    parser = ResponseParser()
    with pytest.raises(ConnectionClosed, match="before any response byte"):
        parser.receive_eof()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-", "closed in the middle of the response head"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123",
            "closed after 4 of 10 body bytes",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            "closed inside the chunked body after 2 bytes",
        ),
    ],
)
def test_eof_mid_response(data: bytes, message: str) -> None:
    parser = parse(data)
    with pytest.raises(HttpError, match=message) as caught:
        parser.receive_eof()
    assert not isinstance(caught.value, ConnectionClosed)
