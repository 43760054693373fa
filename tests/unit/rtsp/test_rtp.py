"""RTP packets and RTCP sender reports: parse, serialise, round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.rtp import (
    NTP_UNIX_OFFSET,
    ReceptionReport,
    RtcpSenderReport,
    RtpPacket,
    ntp_from_unix,
    random_ssrc,
    seq_add,
    seq_diff,
    unix_from_ntp,
)

# A packet as FFmpeg's RTP muxer writes it: V=2, M=1, PT=96, seq 0x1234, ts 0x01020304.
WIRE = bytes.fromhex("80e0123401020304deadbeef") + b"\x65\x88payload"


def test_parse_known_packet() -> None:
    packet = RtpPacket.parse(WIRE)
    assert packet == RtpPacket(96, 0x1234, 0x01020304, 0xDEADBEEF, b"\x65\x88payload", True)
    assert bytes(packet) == WIRE


def test_padding_is_removed() -> None:
    padded = bytes.fromhex("a0601234010203040000000a") + b"abc" + b"\x00\x00\x03"
    assert RtpPacket.parse(padded).payload == b"abc"
    bad = bytes.fromhex("a0601234010203040000000a") + b"\x09"
    with pytest.raises(RtpError, match="RTP padding length 9 is invalid"):
        RtpPacket.parse(bad)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x60\x00", "RTP packet is 3 bytes, shorter than its 12-byte header"),
        (bytes.fromhex("40601234010203040000000a"), "RTP version is 1, not 2"),
        (bytes.fromhex("83601234010203040000000a"), "too short for its CSRC list"),
        (bytes.fromhex("90601234010203040000000a"), "too short for its header extension"),
    ],
)
def test_malformed_packets(data: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        RtpPacket.parse(data)


@given(
    payload_type=st.integers(0, 127),
    seq=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.tuples(
        st.integers(0, 0xFFFF), st.binary(max_size=12).map(lambda b: b + bytes(-len(b) % 4))
    ),
)
def test_rtp_round_trip(
    payload_type: int,
    seq: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    marker: bool,
    csrc: tuple[int, ...],
    extension: tuple[int, bytes] | None,
) -> None:
    packet = RtpPacket(payload_type, seq, timestamp, ssrc, payload, marker, csrc, extension)
    data = bytes(packet)
    assert RtpPacket.parse(data) == packet
    assert bytes(RtpPacket.parse(data)) == data


def test_sender_report_wire_format_and_round_trip() -> None:
    report = RtcpSenderReport(
        ssrc=0x11223344,
        ntp_timestamp=0x0102030405060708,
        rtp_timestamp=90000,
        packet_count=7,
        octet_count=7000,
    )
    data = bytes(report)
    assert data.hex() == ("80c8000611223344010203040506070800015f900000000700001b58")
    assert RtcpSenderReport.parse(data) == report
    with_block = RtcpSenderReport(
        1, 2, 3, 4, 5, (ReceptionReport(9, 12, -3, 70000, 11, 0xAABBCCDD, 655),)
    )
    assert RtcpSenderReport.parse(bytes(with_block)) == with_block
    assert len(bytes(with_block)) == 52


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(20), "RTCP sender report is 20 bytes, shorter than 28"),
        (bytes.fromhex("80c9000611223344") + bytes(20), "not a sender report \\(200\\)"),
        (bytes.fromhex("81c8000611223344") + bytes(20), "RTCP sender report length is invalid"),
    ],
)
def test_malformed_sender_reports(data: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        RtcpSenderReport.parse(data)


def test_ntp_time() -> None:
    assert ntp_from_unix(0) == NTP_UNIX_OFFSET << 32
    assert ntp_from_unix(1.5) == ((NTP_UNIX_OFFSET + 1) << 32) | (1 << 31)
    assert unix_from_ntp(ntp_from_unix(1_700_000_000.25)) == pytest.approx(1_700_000_000.25)


def test_sequence_arithmetic() -> None:
    assert seq_add(65535, 1) == 0
    assert seq_add(3, -4) == 65535
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(100, 90) == 10
    assert seq_diff(0x8000 + 5, 5) == -32768
    assert 0 < random_ssrc() <= 0xFFFFFFFF
