"""The latency SEI: build, parse and emulation prevention, for H.264 and H.265."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platonicam.rtsp.sei import (
    LATENCY_SEI_UUID,
    add_emulation_prevention,
    build_latency_sei,
    build_latency_sei_micros,
    parse_latency_sei,
    parse_latency_sei_micros,
    remove_emulation_prevention,
)
from platonicam.rtsp.stream import VideoCodec

CODECS = [VideoCodec.H264, VideoCodec.H265]


def test_h264_layout_is_header_payload_type_size_uuid_time_stop_bit() -> None:
    nal = build_latency_sei_micros(0x0102_0304_0506_0708, VideoCodec.H264)
    assert nal == (
        b"\x06\x05\x18" + LATENCY_SEI_UUID.bytes + bytes.fromhex("0102030405060708") + b"\x80"
    )


def test_h265_layout_uses_prefix_sei_header() -> None:
    nal = build_latency_sei_micros(0x0102_0304_0506_0708, VideoCodec.H265)
    # nal_unit_type 39 << 1 = 0x4E; layer 0, temporal id plus 1 = 1.
    assert nal[:2] == b"\x4e\x01"
    assert nal[2:] == (
        b"\x05\x18" + LATENCY_SEI_UUID.bytes + bytes.fromhex("0102030405060708") + b"\x80"
    )


@pytest.mark.parametrize("codec", CODECS)
def test_zero_runs_in_the_time_get_emulation_prevention(codec: VideoCodec) -> None:
    # 1 µs is seven zero bytes then 0x01: "00 00 00" and "00 00 01" must be escaped.
    nal = build_latency_sei_micros(1, codec)
    tail = nal[-12:]
    assert b"\x00\x00\x00" not in nal
    assert b"\x00\x00\x01" not in nal
    assert tail.count(b"\x03") == 3
    assert parse_latency_sei_micros(nal, codec) == 1


def test_emulation_prevention_known_vectors() -> None:
    assert add_emulation_prevention(b"\x00\x00\x00\x00\x01") == b"\x00\x00\x03\x00\x00\x03\x01"
    assert add_emulation_prevention(b"\x00\x00\x04\x00\x00\x03") == b"\x00\x00\x04\x00\x00\x03\x03"
    assert remove_emulation_prevention(b"\x00\x00\x03\x00\x00\x03\x01") == b"\x00\x00\x00\x00\x01"


@given(st.binary(max_size=200))
def test_emulation_prevention_round_trips_and_leaves_no_start_code(data: bytes) -> None:
    escaped = add_emulation_prevention(data)
    assert remove_emulation_prevention(escaped) == data
    for code in (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02"):
        assert code not in escaped


@given(micros=st.integers(min_value=0, max_value=2**64 - 1), codec=st.sampled_from(CODECS))
def test_round_trip_any_time(micros: int, codec: VideoCodec) -> None:
    nal = build_latency_sei_micros(micros, codec)
    assert parse_latency_sei_micros(nal, codec) == micros


@given(
    seconds=st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
    codec=st.sampled_from(CODECS),
)
def test_round_trip_seconds_to_the_microsecond(seconds: float, codec: VideoCodec) -> None:
    parsed = parse_latency_sei(build_latency_sei(seconds, codec), codec)
    assert parsed is not None
    assert parsed == pytest.approx(seconds, abs=1e-6)


def test_other_nal_units_and_codecs_are_not_ours() -> None:
    h264 = build_latency_sei(1_700_000_000.25, VideoCodec.H264)
    h265 = build_latency_sei(1_700_000_000.25, VideoCodec.H265)
    assert parse_latency_sei(h264, VideoCodec.H264) == 1_700_000_000.25
    assert parse_latency_sei(h265, VideoCodec.H265) == 1_700_000_000.25
    # The same bytes read as the other codec's NAL header are not an SEI.
    assert parse_latency_sei(h264, VideoCodec.H265) is None
    assert parse_latency_sei(h265, VideoCodec.H264) is None
    # An IDR slice header, an empty NAL.
    assert parse_latency_sei(b"\x65\x88\x84", VideoCodec.H264) is None
    assert parse_latency_sei(b"", VideoCodec.H264) is None


def test_foreign_user_data_is_skipped_and_ours_found_after_it() -> None:
    # x264 writes its version banner as user_data_unregistered with its own UUID.
    banner = bytes(16) + b"x264 - core 164"
    ours = LATENCY_SEI_UUID.bytes + (1_234_567).to_bytes(8, "big")
    rbsp = b"\x05" + bytes([len(banner)]) + banner + b"\x05\x18" + ours + b"\x80"
    nal = b"\x06" + add_emulation_prevention(rbsp)
    assert parse_latency_sei_micros(nal, VideoCodec.H264) == 1_234_567
    only_banner = b"\x06" + add_emulation_prevention(
        b"\x05" + bytes([len(banner)]) + banner + b"\x80"
    )
    assert parse_latency_sei_micros(only_banner, VideoCodec.H264) is None


def test_payload_size_above_255_uses_ff_bytes() -> None:
    big = bytes(300)
    rbsp = b"\x05\xff" + bytes([300 - 255]) + big + b"\x05\x18"
    rbsp += LATENCY_SEI_UUID.bytes + (42).to_bytes(8, "big") + b"\x80"
    nal = b"\x4e\x01" + add_emulation_prevention(rbsp)
    assert parse_latency_sei_micros(nal, VideoCodec.H265) == 42


def test_truncated_message_is_none() -> None:
    nal = build_latency_sei_micros(99, VideoCodec.H264)
    assert parse_latency_sei_micros(nal[:-5], VideoCodec.H264) is None
    assert parse_latency_sei_micros(nal[:2], VideoCodec.H264) is None


@pytest.mark.parametrize("micros", [-1, 2**64])
def test_out_of_range_time_is_refused(micros: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        build_latency_sei_micros(micros, VideoCodec.H264)
