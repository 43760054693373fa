"""The ONVIF metadata track's RTP framing: packetize, depacketize, loss, and its SDP section."""

from __future__ import annotations

import pytest

from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.metadata import (
    MAX_DOCUMENT_SIZE,
    METADATA_PAYLOAD_TYPE,
    CompletedDocument,
    MetadataDepacketizer,
    describe_metadata_media,
    is_metadata_media,
    packetize,
)
from platonicam.rtsp.rtp import RtpPacket
from platonicam.rtsp.sdp import MediaDescription, SessionDescription

DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">'
    + b"<tt:VideoAnalytics/>" * 200
    + b"</tt:MetadataStream>"
)

#: Packets of :data:`DOCUMENT` at 100-byte payloads (4123 bytes).
COUNT = 42


def packets(document: bytes, *, seq: int, ts: int, size: int = 100) -> list[RtpPacket]:
    """Wire packets of one document, parsed back as a receiver sees them."""
    payloads = packetize(document, size)
    return [
        RtpPacket.parse(
            bytes(
                RtpPacket(
                    METADATA_PAYLOAD_TYPE,
                    (seq + i) & 0xFFFF,
                    ts,
                    0x1234,
                    payload,
                    marker=i == len(payloads) - 1,
                )
            )
        )
        for i, payload in enumerate(payloads)
    ]


def feed(depacketizer: MetadataDepacketizer, items: list[RtpPacket]) -> list[CompletedDocument]:
    return [done for p in items if (done := depacketizer.push(p)) is not None]


def test_packetize_splits_into_bounded_payloads_in_order() -> None:
    payloads = packetize(DOCUMENT, 1400)
    assert len(DOCUMENT) == 4123
    assert [len(p) for p in payloads] == [1400, 1400, 1323]
    assert b"".join(payloads) == DOCUMENT
    assert packetize(b"", 1400) == [b""]
    with pytest.raises(RtpError, match="not positive"):
        packetize(DOCUMENT, 0)


def test_round_trip_across_packets_and_sequence_wrap() -> None:
    depacketizer = MetadataDepacketizer()
    first = packets(DOCUMENT, seq=65500, ts=1000)
    assert len(first) == COUNT  # wraps the 16-bit sequence number mid-document
    second = packets(b"<tt:MetadataStream/>", seq=(65500 + COUNT) & 0xFFFF, ts=19000)
    done = feed(depacketizer, first + second)
    assert done == [
        CompletedDocument(DOCUMENT, 1000),
        CompletedDocument(b"<tt:MetadataStream/>", 19000),
    ]
    assert depacketizer.dropped == 0


def test_a_gap_drops_that_document_and_the_next_one_is_whole() -> None:
    depacketizer = MetadataDepacketizer()
    first = packets(DOCUMENT, seq=10, ts=0)
    del first[5]
    second = packets(DOCUMENT, seq=10 + COUNT, ts=9000)
    assert feed(depacketizer, first + second) == [CompletedDocument(DOCUMENT, 9000)]
    assert depacketizer.dropped == 1


def test_a_lost_marker_packet_drops_the_document_without_its_end() -> None:
    depacketizer = MetadataDepacketizer()
    first = packets(DOCUMENT, seq=0, ts=0)[:-1]
    # The lost marker was the last packet: the gap lands on the next document's
    # first packet, which cannot be told from a continuation, so it goes too.
    second = packets(DOCUMENT, seq=COUNT, ts=9000)
    third = packets(b"<tt:MetadataStream/>", seq=2 * COUNT, ts=18000)
    assert feed(depacketizer, first + second + third) == [
        CompletedDocument(b"<tt:MetadataStream/>", 18000)
    ]
    assert depacketizer.dropped == 2


def test_a_new_timestamp_without_a_marker_abandons_the_partial_document() -> None:
    depacketizer = MetadataDepacketizer()
    partial = packets(DOCUMENT, seq=0, ts=0)[:3]
    whole = packets(b"<tt:MetadataStream/>", seq=3, ts=4500)
    assert feed(depacketizer, partial + whole) == [CompletedDocument(b"<tt:MetadataStream/>", 4500)]
    assert depacketizer.dropped == 1


def test_an_endless_document_is_refused_not_buffered() -> None:
    depacketizer = MetadataDepacketizer()
    chunk = b"x" * 60_000
    count = MAX_DOCUMENT_SIZE // len(chunk) + 2
    endless = [RtpPacket(METADATA_PAYLOAD_TYPE, i, 0, 1, chunk) for i in range(count)]
    closing = RtpPacket(METADATA_PAYLOAD_TYPE, count, 0, 1, b"</end>", marker=True)
    after = packets(b"<ok/>", seq=count + 1, ts=90)
    assert feed(depacketizer, [*endless, closing, *after]) == [CompletedDocument(b"<ok/>", 90)]
    assert depacketizer.dropped == 1


def test_sdp_section_round_trips_and_is_recognised() -> None:
    media = describe_metadata_media(control="trackID=1")
    sdp = SessionDescription("- 1 0 IN IP4 127.0.0.1", "x", media=(media,))
    text = str(sdp)
    assert "m=application 0 RTP/AVP 107\r\n" in text
    assert "a=rtpmap:107 vnd.onvif.metadata/90000\r\n" in text
    (parsed,) = SessionDescription.parse(text).media
    assert is_metadata_media(parsed)
    assert parsed.control == "trackID=1"
    # Cameras pick other payload types and spell the name in other cases.
    other = MediaDescription(
        "application", 0, "RTP/AVP", ("98",), (("rtpmap", "98 VND.ONVIF.METADATA/90000"),)
    )
    assert is_metadata_media(other)
    not_ours = MediaDescription(
        "application", 0, "RTP/AVP", ("99",), (("rtpmap", "99 x-something/1000"),)
    )
    assert not is_metadata_media(not_ours)
    assert not is_metadata_media(
        MediaDescription("application", 0, "RTP/AVP", ("98",), (("rtpmap", "98 bad/x"),))
    )
