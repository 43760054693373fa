"""The incremental RTSP parser and message serialisation."""

from __future__ import annotations

import re

import pytest

from platonicam.rtsp.errors import RtspProtocolError
from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Event,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
    TransportSpec,
    parse_session,
    parse_transport,
)

DESCRIBE = (
    b"DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\n"
    b"CSeq: 2\r\n"
    b"Accept: application/sdp\r\n"
    b"User-Agent: Lavf60\r\n"
    b"\r\n"
)
SDP_BODY = b"v=0\r\no=- 1 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"
RESPONSE = (
    b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP_BODY)).encode() + b"\r\n\r\n" + SDP_BODY
)


def drain(parser: RtspParser) -> list[Event]:
    events: list[Event] = []
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return events
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)
        if isinstance(event, ConnectionClosed):
            return events


def test_request_is_parsed_with_case_insensitive_headers() -> None:
    parser = RtspParser()
    parser.receive_data(DESCRIBE)
    [request] = drain(parser)
    assert isinstance(request, RtspRequest)
    assert request.method == "DESCRIBE"
    assert request.uri == "rtsp://127.0.0.1:8554/cam"
    assert request.cseq == 2
    assert request.headers.get("cseq") == "2"
    assert request.headers.get("ACCEPT") == "application/sdp"
    assert "user-agent" in request.headers
    assert request.headers.get("Session") is None
    assert request.body == b""


def test_byte_by_byte_gives_the_same_events_as_one_read() -> None:
    stream = DESCRIBE + RESPONSE + bytes(InterleavedData(1, b"\x80\xc8rtcp")) + DESCRIBE
    whole = RtspParser()
    whole.receive_data(stream)
    expected = drain(whole)
    split = RtspParser()
    events: list[Event] = []
    for byte in stream:
        split.receive_data(bytes((byte,)))
        events.extend(drain(split))
    assert events == expected
    assert [type(e).__name__ for e in events] == [
        "RtspRequest",
        "RtspResponse",
        "InterleavedData",
        "RtspRequest",
    ]
    response = events[1]
    assert isinstance(response, RtspResponse)
    assert response.status == 200
    assert response.reason == "OK"
    assert response.body == SDP_BODY


def test_pipelined_requests_come_out_in_order() -> None:
    parser = RtspParser()
    requests = [
        RtspRequest("OPTIONS", "*", Headers.of({"CSeq": "1"})),
        RtspRequest("GET_PARAMETER", "rtsp://h/cam", Headers.of({"CSeq": "2", "Session": "ab"})),
        RtspRequest("SET_PARAMETER", "rtsp://h/cam", Headers.of({"CSeq": "3"}), b"a: b\r\n"),
    ]
    parser.receive_data(b"".join(bytes(r) for r in requests))
    events = drain(parser)
    assert [e.cseq for e in events if isinstance(e, RtspRequest)] == [1, 2, 3]
    last = events[2]
    assert isinstance(last, RtspRequest)
    assert last.body == b"a: b\r\n"
    assert last.headers.get("Content-Length") == "6"


def test_interleaved_data_between_messages() -> None:
    parser = RtspParser()
    rtp = bytes(range(200)) * 3
    parser.receive_data(bytes(InterleavedData(0, rtp)) + RESPONSE[:10])
    [frame] = drain(parser)
    assert frame == InterleavedData(0, rtp)
    parser.receive_data(RESPONSE[10:])
    [response] = drain(parser)
    assert isinstance(response, RtspResponse)
    assert response.cseq == 2


def test_clean_close_between_messages() -> None:
    parser = RtspParser()
    parser.receive_data(DESCRIBE + b"\r\n")
    parser.receive_data(b"")
    events = drain(parser)
    assert isinstance(events[0], RtspRequest)
    assert events[1] == ConnectionClosed()


def test_bare_lf_line_ends_are_accepted() -> None:
    parser = RtspParser()
    parser.receive_data(b"RTSP/1.0 401 Unauthorized\nCSeq: 3\nWWW-Authenticate: Digest x\n\n")
    [response] = drain(parser)
    assert isinstance(response, RtspResponse)
    assert response.status == 401
    assert response.headers.get("www-authenticate") == "Digest x"


def test_folded_header_is_joined() -> None:
    parser = RtspParser()
    parser.receive_data(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Long: a\r\n b\r\n\r\n")
    [request] = drain(parser)
    assert isinstance(request, RtspRequest)
    assert request.headers.get("X-Long") == "a b"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"DESCRIBE rtsp://h/cam\r\n\r\n", "malformed request line 'DESCRIBE rtsp://h/cam'"),
        (b"DESCRIBE rtsp://h/cam HTTP/1.1\r\n\r\n", "unknown protocol version 'HTTP/1.1'"),
        (b"DE(SCRIBE rtsp://h/cam RTSP/1.0\r\n\r\n", "malformed method 'DE(SCRIBE'"),
        (b"RTSP/1.0 2000 OK\r\n\r\n", "malformed status code '2000'"),
        (b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n", "malformed header line 'no colon here'"),
        (b"OPTIONS * RTSP/1.0\r\n continued\r\n\r\n", "continuation line ' continued'"),
        (b"OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n", "Content-Length '-1'"),
        (b"OPTIONS * RTSP/1.0\r\nX: \xff\r\n\r\n", "message head is not UTF-8"),
    ],
)
def test_malformed_input_raises_a_clear_error(data: bytes, message: str) -> None:
    parser = RtspParser()
    parser.receive_data(data)
    with pytest.raises(RtspProtocolError, match=re.escape(message)):
        drain(parser)


def test_header_size_limit() -> None:
    parser = RtspParser(max_header_bytes=100)
    parser.receive_data(b"OPTIONS * RTSP/1.0\r\nX-Pad: " + b"a" * 200)
    with pytest.raises(RtspProtocolError, match="longer than the limit of 100 bytes"):
        parser.next_event()


def test_body_size_limit() -> None:
    parser = RtspParser(max_body_bytes=10)
    parser.receive_data(b"ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 11\r\n\r\n")
    with pytest.raises(RtspProtocolError, match="Content-Length 11 is over the limit of 10"):
        parser.next_event()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", "in the middle of a message head"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nab", "after 2 of 5 body bytes"),
        (b"$\x00\x00\x10abc", "in the middle of interleaved data"),
    ],
)
def test_truncated_stream_raises(data: bytes, message: str) -> None:
    parser = RtspParser()
    parser.receive_data(data)
    assert parser.next_event() is NEED_DATA
    parser.receive_data(b"")
    with pytest.raises(RtspProtocolError, match=message):
        parser.next_event()


def test_serialisation_round_trips() -> None:
    request = RtspRequest(
        "SETUP",
        "rtsp://127.0.0.1/cam/trackID=0",
        Headers.of([("CSeq", "3"), ("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]),
    )
    assert bytes(request) == (
        b"SETUP rtsp://127.0.0.1/cam/trackID=0 RTSP/1.0\r\n"
        b"CSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
    )
    response = RtspResponse(454, Headers.of({"CSeq": "9"}))
    assert bytes(response) == b"RTSP/1.0 454 Session Not Found\r\nCSeq: 9\r\n\r\n"
    parser = RtspParser()
    parser.receive_data(RESPONSE)
    [parsed] = drain(parser)
    assert isinstance(parsed, RtspResponse)
    assert bytes(parsed) == RESPONSE


def test_header_injection_is_refused() -> None:
    with pytest.raises(RtspProtocolError, match="line break"):
        bytes(RtspResponse(200, Headers.of({"X": "a\r\nEvil: 1"})))


def test_with_field_replaces_every_occurrence() -> None:
    headers = Headers.of([("CSeq", "1"), ("cseq", "2"), ("A", "b")])
    assert headers.get_all("CSEQ") == ["1", "2"]
    assert headers.with_field("CSeq", "3").items == (("A", "b"), ("CSeq", "3"))


def test_transport_header() -> None:
    specs = parse_transport(
        "RTP/AVP/TCP;unicast;interleaved=2-3,RTP/AVP/UDP;unicast;client_port=5000-5001;"
        'ssrc=0000ABCD;mode="PLAY";ttl=3'
    )
    assert specs == [
        TransportSpec("RTP/AVP/TCP", interleaved=(2, 3)),
        TransportSpec(
            "RTP/AVP", client_port=(5000, 5001), ssrc=0xABCD, mode="PLAY", extra=("ttl=3",)
        ),
    ]
    assert specs[0].is_tcp
    assert not specs[1].is_tcp
    assert str(specs[1]) == (
        'RTP/AVP;unicast;client_port=5000-5001;ssrc=0000ABCD;mode="PLAY";ttl=3'
    )
    assert parse_transport("RTP/AVP;multicast;client_port=6000")[0] == TransportSpec(
        "RTP/AVP", unicast=False, client_port=(6000, 6001)
    )
    with pytest.raises(RtspProtocolError, match="malformed transport parameter"):
        parse_transport("RTP/AVP;client_port=a-b")


def test_session_header() -> None:
    assert parse_session("12ab;timeout=60") == ("12ab", 60)
    assert parse_session(" 12ab ") == ("12ab", None)
