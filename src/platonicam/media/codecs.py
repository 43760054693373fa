"""What a muxer needs from H.264 and H.265 parameter sets, and the RFC 6381 codec strings.

Strategy: parameter sets are read only as far as the fields a container and a
player need: for H.264 the profile, constraint flags and level, the chroma
format and bit depths (for ``avcC``), the picture size after cropping, and the
VUI frame rate when the encoder wrote one; for H.265 the general
profile/tier/level block (for ``hvcC`` and the codec string), the chroma format
and bit depths, and the picture size after the conformance window. Parsing
stops there, so the long tails we do not need (H.265 reference picture sets, the
rest of the VUI) cannot make us reject a stream.

Every reader works on the RBSP: emulation-prevention bytes (``00 00 03``) are
removed first, since a bit position in the escaped NAL unit is meaningless.
Input NAL units carry no start code or length prefix.

Codec strings follow RFC 6381 for ``avc1`` (``avc1.PPCCLL``, hex of profile,
constraint byte and level) and ISO/IEC 14496-15 Annex E for ``hvc1``
(``hvc1.<space><profile>.<compat>.<tier><level>.<constraints>``), which is what
Media Source Extensions and HLS ``CODECS`` attributes expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from platonicam.media.errors import BitstreamError
from platonicam.rtsp.stream import StreamDescription, VideoCodec

__all__ = [
    "BitReader",
    "H264Sps",
    "H265ProfileTierLevel",
    "H265Sps",
    "H265Vps",
    "avc1_codec_string",
    "codec_string",
    "find_parameter_set",
    "hvc1_codec_string",
    "parse_h264_sps",
    "parse_h265_sps",
    "parse_h265_vps",
    "unescape_rbsp",
]

H264_NAL_SPS: Final = 7
H265_NAL_VPS: Final = 32
H265_NAL_SPS: Final = 33

# H.264 profiles whose SPS carries chroma_format_idc, bit depths and scaling
# matrices (H.264 7.3.2.1.1: the list of profile_idc values in that `if`).
_H264_HIGH_PROFILES: Final = frozenset(
    {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
)


def unescape_rbsp(nal: bytes) -> bytes:
    """The RBSP of a NAL unit: every ``03`` that follows ``00 00`` removed."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class BitReader:
    """Reads big-endian bit fields and Exp-Golomb codes from an RBSP.

    Raises :class:`BitstreamError` (naming ``what``) when a read runs past the end.
    """

    __slots__ = ("_data", "_position", "_what")

    def __init__(self, data: bytes, what: str = "bitstream") -> None:
        self._data = data
        self._position = 0
        self._what = what

    @property
    def position(self) -> int:
        """Bits consumed so far."""
        return self._position

    def bits(self, count: int) -> int:
        """The next ``count`` bits as an unsigned integer (``u(n)``)."""
        end = self._position + count
        if end > len(self._data) * 8:
            raise BitstreamError(f"{self._what} ends inside a field (bit {self._position})")
        value = 0
        for position in range(self._position, end):
            value = (value << 1) | ((self._data[position >> 3] >> (7 - (position & 7))) & 1)
        self._position = end
        return value

    def flag(self) -> bool:
        return self.bits(1) == 1

    def skip(self, count: int) -> None:
        self.bits(count)

    def ue(self) -> int:
        """An unsigned Exp-Golomb code (``ue(v)``)."""
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise BitstreamError(f"{self._what} has an Exp-Golomb code over 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        """A signed Exp-Golomb code (``se(v)``)."""
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


@dataclass(frozen=True, slots=True)
class H264Sps:
    """The fields of an H.264 sequence parameter set a muxer needs.

    ``width`` and ``height`` are the displayed size in luma samples (cropping
    applied). ``frame_rate`` is frames per second from the VUI timing info
    (``time_scale / (2 * num_units_in_tick)``, the frame rate of progressive
    video), or ``None`` when the SPS has none.
    """

    profile_idc: int
    constraint_flags: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int
    frame_rate: Fraction | None


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    # H.264 7.3.2.1.1.1: delta-coded until next_scale reaches 0.
    last = 8
    following = 8
    for _ in range(size):
        if following != 0:
            following = (last + reader.se() + 256) % 256
        last = following if following != 0 else last


def parse_h264_sps(nal: bytes) -> H264Sps:
    """Parse an H.264 SPS NAL unit (header byte included, no start code).

    Raises :class:`BitstreamError` when the unit is not an SPS, is truncated, or
    holds values outside the ranges H.264 allows.
    """
    if not nal or nal[0] & 0x1F != H264_NAL_SPS:
        raise BitstreamError("not an H.264 SPS NAL unit")
    reader = BitReader(unescape_rbsp(nal[1:]), "H.264 SPS")
    profile_idc = reader.bits(8)
    constraint_flags = reader.bits(8)
    level_idc = reader.bits(8)
    reader.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    separate_colour_plane = False
    bit_depth_luma = bit_depth_chroma = 8
    if profile_idc in _H264_HIGH_PROFILES:
        chroma_format_idc = reader.ue()
        if chroma_format_idc > 3:
            raise BitstreamError(f"H.264 SPS has chroma_format_idc {chroma_format_idc}")
        if chroma_format_idc == 3:
            separate_colour_plane = reader.flag()
        bit_depth_luma = reader.ue() + 8
        bit_depth_chroma = reader.ue() + 8
        reader.skip(1)  # qpprime_y_zero_transform_bypass_flag
        if reader.flag():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format_idc != 3 else 12):
                if reader.flag():
                    _skip_scaling_list(reader, 16 if index < 6 else 64)
    reader.ue()  # log2_max_frame_num_minus4
    poc_type = reader.ue()
    if poc_type == 0:
        reader.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        reader.skip(1)  # delta_pic_order_always_zero_flag
        reader.se()  # offset_for_non_ref_pic
        reader.se()  # offset_for_top_to_bottom_field
        for _ in range(reader.ue()):  # num_ref_frames_in_pic_order_cnt_cycle
            reader.se()
    elif poc_type != 2:
        raise BitstreamError(f"H.264 SPS has pic_order_cnt_type {poc_type}")
    reader.ue()  # max_num_ref_frames
    reader.skip(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = reader.ue() + 1
    height_map_units = reader.ue() + 1
    frame_mbs_only = reader.flag()
    if not frame_mbs_only:
        reader.skip(1)  # mb_adaptive_frame_field_flag
    reader.skip(1)  # direct_8x8_inference_flag
    crop_left = crop_right = crop_top = crop_bottom = 0
    if reader.flag():  # frame_cropping_flag
        crop_left, crop_right, crop_top, crop_bottom = (reader.ue() for _ in range(4))
    # H.264 7.4.2.1.1 (frame_crop_*): crop units depend on ChromaArrayType and field coding.
    field_factor = 1 if frame_mbs_only else 2
    if separate_colour_plane or chroma_format_idc == 0:
        crop_x, crop_y = 1, field_factor
    else:
        sub_width = 1 if chroma_format_idc == 3 else 2
        sub_height = 2 if chroma_format_idc == 1 else 1
        crop_x, crop_y = sub_width, sub_height * field_factor
    width = width_mbs * 16 - crop_x * (crop_left + crop_right)
    height = field_factor * height_map_units * 16 - crop_y * (crop_top + crop_bottom)
    if width <= 0 or height <= 0:
        raise BitstreamError(f"H.264 SPS crops the picture to {width}x{height}")
    frame_rate = _h264_vui_frame_rate(reader) if reader.flag() else None
    return H264Sps(
        profile_idc=profile_idc,
        constraint_flags=constraint_flags,
        level_idc=level_idc,
        chroma_format_idc=chroma_format_idc,
        bit_depth_luma=bit_depth_luma,
        bit_depth_chroma=bit_depth_chroma,
        width=width,
        height=height,
        frame_rate=frame_rate,
    )


def _h264_vui_frame_rate(reader: BitReader) -> Fraction | None:
    # H.264 E.1.1, read up to and including timing_info.
    # aspect_ratio_info_present_flag, then aspect_ratio_idc 255 (Extended_SAR) adds two u16.
    if reader.flag() and reader.bits(8) == 255:
        reader.skip(32)
    if reader.flag():  # overscan_info_present_flag
        reader.skip(1)
    if reader.flag():  # video_signal_type_present_flag
        reader.skip(4)  # video_format, video_full_range_flag
        if reader.flag():  # colour_description_present_flag
            reader.skip(24)
    if reader.flag():  # chroma_loc_info_present_flag
        reader.ue()
        reader.ue()
    if not reader.flag():  # timing_info_present_flag
        return None
    num_units_in_tick = reader.bits(32)
    time_scale = reader.bits(32)
    if num_units_in_tick == 0 or time_scale == 0:
        # Some encoders write the flag with zero fields; there is no rate to report.
        return None
    return Fraction(time_scale, 2 * num_units_in_tick)


@dataclass(frozen=True, slots=True)
class H265ProfileTierLevel:
    """The general part of an H.265 ``profile_tier_level()`` (H.265 7.3.3).

    ``compatibility_flags`` is the 32-bit field as written (flag 0 is the most
    significant bit); ``constraint_flags`` the 48 bits that follow it, from
    ``general_progressive_source_flag`` on.
    """

    profile_space: int
    tier_flag: bool
    profile_idc: int
    compatibility_flags: int
    constraint_flags: int
    level_idc: int


@dataclass(frozen=True, slots=True)
class H265Vps:
    """The fields of an H.265 video parameter set that ``hvcC`` needs."""

    max_sub_layers: int
    temporal_id_nesting: bool
    profile_tier_level: H265ProfileTierLevel


@dataclass(frozen=True, slots=True)
class H265Sps:
    """The fields of an H.265 sequence parameter set a muxer needs.

    ``width`` and ``height`` are in luma samples with the conformance window
    applied (the size a player displays).
    """

    max_sub_layers: int
    temporal_id_nesting: bool
    profile_tier_level: H265ProfileTierLevel
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int


def _h265_profile_tier_level(reader: BitReader, max_sub_layers_minus1: int) -> H265ProfileTierLevel:
    general = H265ProfileTierLevel(
        profile_space=reader.bits(2),
        tier_flag=reader.flag(),
        profile_idc=reader.bits(5),
        compatibility_flags=reader.bits(32),
        constraint_flags=reader.bits(48),
        level_idc=reader.bits(8),
    )
    # The sub-layer entries are read only to get past them.
    present = [(reader.flag(), reader.flag()) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1 > 0:
        reader.skip(2 * (8 - max_sub_layers_minus1))  # reserved_zero_2bits
    for profile_present, level_present in present:
        if profile_present:
            reader.skip(88)
        if level_present:
            reader.skip(8)
    return general


def _h265_nal_type(nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F


def parse_h265_vps(nal: bytes) -> H265Vps:
    """Parse an H.265 VPS NAL unit (2-byte header included, no start code).

    Raises :class:`BitstreamError` when the unit is not a VPS or is truncated.
    """
    if len(nal) < 2 or _h265_nal_type(nal) != H265_NAL_VPS:
        raise BitstreamError("not an H.265 VPS NAL unit")
    reader = BitReader(unescape_rbsp(nal[2:]), "H.265 VPS")
    reader.skip(4 + 1 + 1 + 6)  # vps id, base layer internal/available, max_layers_minus1
    max_sub_layers_minus1 = reader.bits(3)
    nesting = reader.flag()
    reader.skip(16)  # vps_reserved_0xffff_16bits
    ptl = _h265_profile_tier_level(reader, max_sub_layers_minus1)
    return H265Vps(max_sub_layers_minus1 + 1, nesting, ptl)


def parse_h265_sps(nal: bytes) -> H265Sps:
    """Parse an H.265 SPS NAL unit (2-byte header included, no start code).

    Raises :class:`BitstreamError` when the unit is not an SPS, is truncated, or
    its conformance window leaves no picture.
    """
    if len(nal) < 2 or _h265_nal_type(nal) != H265_NAL_SPS:
        raise BitstreamError("not an H.265 SPS NAL unit")
    reader = BitReader(unescape_rbsp(nal[2:]), "H.265 SPS")
    reader.skip(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = reader.bits(3)
    nesting = reader.flag()
    ptl = _h265_profile_tier_level(reader, max_sub_layers_minus1)
    reader.ue()  # sps_seq_parameter_set_id
    chroma_format_idc = reader.ue()
    if chroma_format_idc > 3:
        raise BitstreamError(f"H.265 SPS has chroma_format_idc {chroma_format_idc}")
    separate_colour_plane = chroma_format_idc == 3 and reader.flag()
    width = reader.ue()
    height = reader.ue()
    if reader.flag():  # conformance_window_flag
        left, right, top, bottom = (reader.ue() for _ in range(4))
        # H.265 7.4.3.2.1: offsets count chroma samples (SubWidthC/SubHeightC, Table 6-1).
        chroma_array_type = 0 if separate_colour_plane else chroma_format_idc
        sub_width = 2 if chroma_array_type in (1, 2) else 1
        sub_height = 2 if chroma_array_type == 1 else 1
        width -= sub_width * (left + right)
        height -= sub_height * (top + bottom)
    if width <= 0 or height <= 0:
        raise BitstreamError(f"H.265 SPS gives a {width}x{height} picture")
    bit_depth_luma = reader.ue() + 8
    bit_depth_chroma = reader.ue() + 8
    return H265Sps(
        max_sub_layers=max_sub_layers_minus1 + 1,
        temporal_id_nesting=nesting,
        profile_tier_level=ptl,
        chroma_format_idc=chroma_format_idc,
        bit_depth_luma=bit_depth_luma,
        bit_depth_chroma=bit_depth_chroma,
        width=width,
        height=height,
    )


def avc1_codec_string(sps: H264Sps) -> str:
    """``avc1.PPCCLL``: profile_idc, constraint byte and level_idc in upper-case hex."""
    return f"avc1.{sps.profile_idc:02X}{sps.constraint_flags:02X}{sps.level_idc:02X}"


def hvc1_codec_string(ptl: H265ProfileTierLevel) -> str:
    """``hvc1.<space><profile>.<compat>.<tier><level>[.<constraint bytes>]`` (14496-15 Annex E).

    The compatibility flags are written bit-reversed in hex without leading
    zeros; the six constraint bytes in hex, dot-separated, with trailing zero
    bytes left out.
    """
    space = ("", "A", "B", "C")[ptl.profile_space]
    compat = int(f"{ptl.compatibility_flags:032b}"[::-1], 2)
    tier = "H" if ptl.tier_flag else "L"
    constraint_bytes = list(ptl.constraint_flags.to_bytes(6, "big"))
    while constraint_bytes and constraint_bytes[-1] == 0:
        constraint_bytes.pop()
    constraints = "".join(f".{byte:X}" for byte in constraint_bytes)
    return f"hvc1.{space}{ptl.profile_idc}.{compat:X}.{tier}{ptl.level_idc}{constraints}"


def _nal_kind(nal: bytes, codec: VideoCodec) -> int:
    return nal[0] & 0x1F if codec is VideoCodec.H264 else _h265_nal_type(nal)


def find_parameter_set(description: StreamDescription, nal_type: int) -> bytes:
    """The first of ``description.parameter_sets`` with ``nal_type`` (the codec's own numbering).

    Raises :class:`BitstreamError` when there is none.
    """
    for nal in description.parameter_sets:
        if nal and _nal_kind(nal, description.codec) == nal_type:
            return nal
    raise BitstreamError(f"the {description.codec} stream has no parameter set of type {nal_type}")


def codec_string(description: StreamDescription) -> str:
    """The RFC 6381 codec string of a stream, read from its SPS (H.264) or VPS/SPS (H.265).

    H.265 takes the profile/tier/level of the SPS (the VPS carries the same
    general block in single-layer streams). Raises :class:`BitstreamError` when
    the parameter set is missing or unreadable.
    """
    if description.codec is VideoCodec.H264:
        return avc1_codec_string(parse_h264_sps(find_parameter_set(description, H264_NAL_SPS)))
    sps = parse_h265_sps(find_parameter_set(description, H265_NAL_SPS))
    return hvc1_codec_string(sps.profile_tier_level)
