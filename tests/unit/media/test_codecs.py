"""Parameter-set parsing and RFC 6381 codec strings, on real libx264/libx265 output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platonicam.media import codecs
from platonicam.media.errors import BitstreamError
from platonicam.rtsp.stream import VideoCodec
from tests.unit.media.encoded import encode

H264_CASES = {
    # (width, height, fps, profile, preset): (codec string, chroma, bit depth)
    "baseline-320x180": ((320, 180, 25, None, "ultrafast"), "avc1.42C00C"),
    "main-640x360": ((640, 360, 30, "main", "veryfast"), "avc1.4D401E"),
    "high-1920x1080": ((1920, 1080, 30, "high", "veryfast"), "avc1.640028"),
}


@pytest.mark.parametrize("case", H264_CASES.values(), ids=H264_CASES.keys())
def test_h264_sps_from_libx264(case: tuple[tuple[int, int, int, str | None, str], str]) -> None:
    (width, height, fps, profile, preset), expected = case
    description, _ = encode(VideoCodec.H264, width, height, fps, 2, fps, profile, preset=preset)
    sps = codecs.parse_h264_sps(description.parameter_sets[0])
    # 180 and 1080 are not multiples of 16: the size only comes out right with cropping.
    assert (sps.width, sps.height) == (width, height)
    assert sps.frame_rate == Fraction(fps)
    assert (sps.chroma_format_idc, sps.bit_depth_luma, sps.bit_depth_chroma) == (1, 8, 8)
    assert codecs.avc1_codec_string(sps) == expected
    assert codecs.codec_string(description) == expected


H265_CASES = {
    "main-320x180": ((320, 180, None, "yuv420p"), "hvc1.1.6.L60.90", 1, 8),
    "main10-320x180": ((320, 180, "main10", "yuv420p10le"), "hvc1.2.4.L60.90", 2, 10),
    "main-1280x720": ((1280, 720, None, "yuv420p"), "hvc1.1.6.L93.90", 1, 8),
}


@pytest.mark.parametrize("case", H265_CASES.values(), ids=H265_CASES.keys())
def test_h265_vps_and_sps_from_libx265(
    case: tuple[tuple[int, int, str | None, str], str, int, int],
) -> None:
    (width, height, profile, pix_fmt), expected, profile_idc, depth = case
    description, _ = encode(VideoCodec.H265, width, height, 25, 2, 25, profile, pix_fmt)
    vps_nal, sps_nal, _ = description.parameter_sets
    vps = codecs.parse_h265_vps(vps_nal)
    sps = codecs.parse_h265_sps(sps_nal)
    # 180 is not a multiple of the minimum coding block: the conformance window crops it.
    assert (sps.width, sps.height) == (width, height)
    assert (sps.chroma_format_idc, sps.bit_depth_luma, sps.bit_depth_chroma) == (1, depth, depth)
    assert sps.profile_tier_level.profile_idc == profile_idc
    assert sps.profile_tier_level.tier_flag is False
    assert vps.profile_tier_level == sps.profile_tier_level
    assert (vps.max_sub_layers, sps.max_sub_layers, sps.temporal_id_nesting) == (1, 1, True)
    assert codecs.hvc1_codec_string(sps.profile_tier_level) == expected
    assert codecs.codec_string(description) == expected


def test_avc1_string_matches_rfc6381_example() -> None:
    # RFC 6381 3.3: Baseline (0x42), constraint_set0+1 (0xE0), level 3.0 (0x1E).
    sps = codecs.H264Sps(66, 0xE0, 30, 1, 8, 8, 720, 576, None)
    assert codecs.avc1_codec_string(sps) == "avc1.42E01E"


@pytest.mark.parametrize(
    ("ptl", "expected"),
    [
        # ISO/IEC 14496-15 Annex E examples.
        (codecs.H265ProfileTierLevel(0, False, 1, 0x6000_0000, 0xB000_0000_0000, 93),
         "hvc1.1.6.L93.B0"),
        (codecs.H265ProfileTierLevel(1, True, 4, 0x8200_0000, 0xB023_0000_0000, 120),
         "hvc1.A4.41.H120.B0.23"),
        # No constraint flags at all: nothing after the level.
        (codecs.H265ProfileTierLevel(0, False, 2, 0x2000_0000, 0, 150), "hvc1.2.4.L150"),
    ],
)  # fmt: skip
def test_hvc1_string_annex_e(ptl: codecs.H265ProfileTierLevel, expected: str) -> None:
    assert codecs.hvc1_codec_string(ptl) == expected


def test_rbsp_unescaping_removes_only_emulation_prevention() -> None:
    assert codecs.unescape_rbsp(b"\x00\x00\x03\x01\x00\x00\x03\x00\x03") == (
        b"\x00\x00\x01\x00\x00\x00\x03"
    )
    assert codecs.unescape_rbsp(b"\x00\x03\x00") == b"\x00\x03\x00"


def _exp_golomb(values: list[int]) -> bytes:
    bits = "".join("0" * (len(f"{v + 1:b}") - 1) + f"{v + 1:b}" for v in values)
    bits += "1" + "0" * (-(len(bits) + 1) % 8)  # stop bit, as an RBSP trailer
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


@given(st.lists(st.integers(min_value=0, max_value=2**31), min_size=1, max_size=20))
def test_exp_golomb_codes_read_back(values: list[int]) -> None:
    reader = codecs.BitReader(_exp_golomb(values))
    assert [reader.ue() for _ in values] == values


def test_signed_exp_golomb_mapping() -> None:
    # H.264 Table 9-3: codeNum 0, 1, 2, 3, 4 are 0, 1, -1, 2, -2.
    reader = codecs.BitReader(_exp_golomb([0, 1, 2, 3, 4]))
    assert [reader.se() for _ in range(5)] == [0, 1, -1, 2, -2]


def test_truncated_sps_is_a_bitstream_error() -> None:
    description, _ = encode(VideoCodec.H264)
    with pytest.raises(BitstreamError, match=r"^H\.264 SPS ends inside a field \(bit \d+\)$"):
        codecs.parse_h264_sps(description.parameter_sets[0][:6])


@pytest.mark.parametrize(
    ("parser", "nal", "message"),
    [
        (codecs.parse_h264_sps, b"\x68\xce\x38\x80", "not an H.264 SPS NAL unit"),
        (codecs.parse_h265_sps, b"\x40\x01\x0c", "not an H.265 SPS NAL unit"),
        (codecs.parse_h265_vps, b"\x42\x01\x01", "not an H.265 VPS NAL unit"),
        (codecs.parse_h265_vps, b"", "not an H.265 VPS NAL unit"),
    ],
)
def test_wrong_nal_type_is_refused(
    parser: Callable[[bytes], object], nal: bytes, message: str
) -> None:
    with pytest.raises(BitstreamError, match=f"^{message}$"):
        parser(nal)


def test_missing_parameter_set_is_named() -> None:
    description, _ = encode(VideoCodec.H265)
    without_sps = replace(description, parameter_sets=(description.parameter_sets[0],))
    with pytest.raises(BitstreamError, match=r"^the H265 stream has no parameter set of type 33$"):
        codecs.codec_string(without_sps)
