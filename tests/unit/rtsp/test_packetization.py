"""H.264 (RFC 6184) and H.265 (RFC 7798) packetizers and depacketizers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platonicam.rtsp import h264, h265
from platonicam.rtsp._nal import DepacketizedUnit
from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.rtp import RtpPacket

Codec = type(h264)


def rtp(payloads: list[bytes], first_seq: int, timestamp: int) -> list[RtpPacket]:
    last = len(payloads) - 1
    return [
        RtpPacket(96, (first_seq + i) & 0xFFFF, timestamp, 1, p, marker=i == last)
        for i, p in enumerate(payloads)
    ]


def h264_nal() -> st.SearchStrategy[bytes]:
    header = st.sampled_from([0x65, 0x41, 0x01, 0x67, 0x68, 0x06, 0x25])
    return st.builds(
        lambda h, body: bytes((h,)) + body, header, st.binary(min_size=1, max_size=5000)
    )


def h265_nal() -> st.SearchStrategy[bytes]:
    types = st.sampled_from([1, 19, 20, 21, 32, 33, 34, 39])
    return st.builds(
        lambda t, tid, body: bytes((t << 1, tid)) + body,
        types,
        st.integers(1, 7),
        st.binary(min_size=1, max_size=5000),
    )


@settings(max_examples=150, deadline=None)
@given(
    codec_and_units=st.one_of(
        st.tuples(st.just("h264"), st.lists(h264_nal(), min_size=1, max_size=6)),
        st.tuples(st.just("h265"), st.lists(h265_nal(), min_size=1, max_size=6)),
    ),
    max_payload=st.integers(20, 1500),
    aggregate=st.booleans(),
    first_seq=st.integers(0, 0xFFFF),
)
def test_round_trip(
    codec_and_units: tuple[str, list[bytes]], max_payload: int, aggregate: bool, first_seq: int
) -> None:
    name, units = codec_and_units
    codec = h264 if name == "h264" else h265
    depacketizer = h264.H264Depacketizer() if name == "h264" else h265.H265Depacketizer()
    payloads = codec.packetize(units, max_payload, aggregate=aggregate)
    assert all(len(p) <= max_payload for p in payloads)
    # Two access units back to back, the sequence numbers wrapping as they will.
    out = []
    for packet in rtp(payloads, first_seq, 1000) + rtp(payloads, first_seq + len(payloads), 4600):
        out.extend(depacketizer.push(packet))
    assert out == [
        DepacketizedUnit(tuple(units), 1000, True),
        DepacketizedUnit(tuple(units), 4600, True),
    ]


def test_h264_fu_a_headers() -> None:
    nal = bytes((0x65,)) + bytes(range(250))
    payloads = h264.packetize([nal], 102)
    assert [len(p) for p in payloads] == [102, 102, 52]
    assert [p[:2].hex() for p in payloads] == ["7c85", "7c05", "7c45"]
    assert b"".join(p[2:] for p in payloads) == nal[1:]


def test_h265_fu_headers_keep_layer_and_tid() -> None:
    nal = bytes((19 << 1, 0x01)) + bytes(range(201))
    payloads = h265.packetize([nal], 103)
    assert [p[:3].hex() for p in payloads] == ["620193", "620113", "620153"]
    assert b"".join(p[3:] for p in payloads) == nal[2:]


def test_small_units_aggregate_into_stap_a_and_ap() -> None:
    sps, pps = bytes.fromhex("6742c01e"), bytes.fromhex("68cb83")
    [stap] = h264.packetize([sps, pps], aggregate=True)
    assert stap.hex() == "78" + "0004" + sps.hex() + "0003" + pps.hex()
    vps, sps5 = bytes.fromhex("40010c01"), bytes.fromhex("42010101")
    [ap] = h265.packetize([vps, sps5], aggregate=True)
    assert ap.hex() == "6001" + "0004" + vps.hex() + "0004" + sps5.hex()


def test_lost_fragment_marks_the_unit_incomplete() -> None:
    nal = bytes((0x65,)) + bytes(300)
    small = bytes((0x41, 1, 2, 3))
    payloads = h264.packetize([small, nal], 100)
    packets = rtp(payloads, 10, 3000)
    del packets[2]  # a middle fragment of the IDR slice
    depacketizer = h264.H264Depacketizer()
    out = [unit for packet in packets for unit in depacketizer.push(packet)]
    # The damaged NAL is dropped, never handed on with a hole in it.
    assert out == [DepacketizedUnit((small,), 3000, False)]
    after = depacketizer.push(RtpPacket(96, len(payloads) + 10, 6000, 1, small, marker=True))
    assert after == [DepacketizedUnit((small,), 6000, True)]


def test_lost_marker_packet_is_noticed_at_the_next_timestamp() -> None:
    depacketizer = h265.H265Depacketizer()
    unit = bytes((1 << 1, 1, 9, 9))
    assert depacketizer.push(RtpPacket(96, 1, 100, 1, unit)) == []
    # Packet 2 (the marked end of timestamp 100) is lost; 3 starts the next unit.
    assert depacketizer.push(RtpPacket(96, 3, 200, 1, unit, marker=True)) == [
        DepacketizedUnit((unit,), 100, False),
        DepacketizedUnit((unit,), 200, False),
    ]


def test_duplicates_and_late_packets_are_dropped() -> None:
    depacketizer = h264.H264Depacketizer()
    unit = bytes((0x41, 5))
    assert depacketizer.push(RtpPacket(96, 5, 1, 1, unit, marker=True)) == [
        DepacketizedUnit((unit,), 1, True)
    ]
    assert depacketizer.push(RtpPacket(96, 5, 1, 1, unit, marker=True)) == []
    assert depacketizer.push(RtpPacket(96, 4, 1, 1, unit, marker=True)) == []


@pytest.mark.parametrize(
    ("depacketizer", "payload", "message"),
    [
        (h264.H264Depacketizer(), b"\x19abc", "unsupported H.264 RTP payload type 25"),
        (h264.H264Depacketizer(), b"\x78\x00\x09ab", "STAP-A NAL size 9 runs past"),
        (h264.H264Depacketizer(), b"\x7c\x85", "FU-A packet of 2 bytes carries no data"),
        (h265.H265Depacketizer(), b"\x64\x01abc", "unsupported H.265 RTP payload type 50"),
        (h265.H265Depacketizer(), b"\x60\x01\x00", "AP ends inside a NAL size field"),
    ],
)
def test_malformed_payloads(
    depacketizer: h264.H264Depacketizer | h265.H265Depacketizer, payload: bytes, message: str
) -> None:
    with pytest.raises(RtpError, match=message):
        depacketizer.push(RtpPacket(96, 1, 1, 1, payload, marker=True))


def test_keyframe_detection() -> None:
    assert h264.is_keyframe([bytes((0x67, 0)), bytes((0x65, 0))])
    assert not h264.is_keyframe([bytes((0x41, 0))])
    assert h265.is_keyframe([bytes((21 << 1, 1))])  # CRA
    assert h265.is_keyframe([bytes((19 << 1, 1))])  # IDR_W_RADL
    assert not h265.is_keyframe([bytes((1 << 1, 1))])
    with pytest.raises(RtpError, match="too small to carry any data"):
        h264.packetize([bytes((0x65, 1))], 4)
