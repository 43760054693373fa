"""Fragmented MP4 (ISO/IEC 14496-12 and -15): init segments and ``moof``/``mdat`` fragments.

Strategy: one init segment per stream generation describes every track (an
empty sample table plus ``mvex``/``trex``, so all samples live in fragments);
each fragment is a ``moof`` with one ``traf`` per track followed by a single
``mdat``. The same bytes serve Media Source Extensions (init segment, then
fragments in order) and HLS (``EXT-X-MAP`` plus parts and segments, where a
segment is its parts' fragments concatenated), so a part is muxed once and
handed to every viewer.

Choices made here, and why:

* Video uses the 90 kHz RTP clock as its timescale, so access-unit timestamps
  become decode times without rounding. Audio uses its sample rate.
* Parameter sets are dropped from samples and live only in ``avcC``/``hvcC``.
  ``hvc1`` (unlike ``hev1``) requires that, and it is what Safari and MSE
  expect for H.265; ``avc1`` allows either, and one rule for both codecs is
  simpler. A stream whose parameter sets change is a new generation and gets a
  new init segment. Access unit delimiters are dropped too (they carry nothing
  a container needs); SEI messages are kept, since our latency stamp rides in one.
* Decode order is presentation order (no composition offsets): the access units
  we mux come from live camera streams and our own encoder, which use no
  B-frames, and an :class:`~platonicam.rtsp.stream.AccessUnit` has one timestamp.
* Every ``traf`` sets default-base-is-moof, so a fragment's data offsets are
  relative to its own ``moof`` and fragments can be concatenated freely.
* Box sizes are 32-bit; a fragment over 4 GiB is refused rather than written
  with 64-bit sizes no live part will ever need.
* A fragment may be preceded by a ``prft`` box (:func:`producer_reference_time`)
  that ties a decode time to the wall-clock time the frame was captured: the MSE
  output carries each frame's capture stamp in it, where players that do not
  read it skip it as an unknown top-level box.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from platonicam.media.codecs import (
    H264_NAL_SPS,
    H265_NAL_SPS,
    H265_NAL_VPS,
    codec_string,
    find_parameter_set,
    parse_h264_sps,
    parse_h265_sps,
)
from platonicam.media.errors import BitstreamError, MuxError
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, AccessUnit, StreamDescription, VideoCodec

__all__ = [
    "AUDIO_TRACK_ID",
    "VIDEO_TIMESCALE",
    "VIDEO_TRACK_ID",
    "AudioDescription",
    "Sample",
    "TrackRun",
    "init_segment",
    "media_fragment",
    "mime_type",
    "producer_reference_time",
    "single_sample_fragment",
    "video_sample",
    "video_sample_data",
]

#: Timescale of the video track: the RTP video clock (ticks per second).
VIDEO_TIMESCALE: Final = VIDEO_CLOCK_RATE
VIDEO_TRACK_ID: Final = 1
AUDIO_TRACK_ID: Final = 2

# sample_flags (14496-12 8.8.3.1): sample_depends_on=2 (an I picture) for sync
# samples; sample_depends_on=1 plus sample_is_non_sync_sample for the rest.
SYNC_SAMPLE_FLAGS: Final = 0x0200_0000
NON_SYNC_SAMPLE_FLAGS: Final = 0x0101_0000

# tfhd flag default-base-is-moof; trun flags data-offset, duration, size, flags present.
_TFHD_DEFAULT_BASE_IS_MOOF: Final = 0x02_0000
_TRUN_FLAGS: Final = 0x0001 | 0x0100 | 0x0200 | 0x0400

_MATRIX: Final = struct.pack(">9I", 0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000)
# ISO 639-2 "und", packed as three 5-bit letters (14496-12 8.4.2.3).
_LANGUAGE_UND: Final = ((ord("u") - 0x60) << 10) | ((ord("n") - 0x60) << 5) | (ord("d") - 0x60)
_MAX_BOX: Final = 0xFFFF_FFFF

# prft (14496-12 8.16.5): seconds from the NTP epoch (1900) to the Unix epoch (1970), and
# flags 24: the UTC time is when the frame at media_time was captured (a consistent, small
# offset from the real-time of what it shows).
_NTP_UNIX_OFFSET: Final = 2_208_988_800
PRFT_CAPTURED: Final = 24

# H.264 (Table 7-1) and H.265 (Table 7-1) NAL unit types dropped from samples.
_H264_DROPPED: Final = frozenset({7, 8, 9})  # SPS, PPS, AUD
_H265_DROPPED: Final = frozenset({32, 33, 34, 35})  # VPS, SPS, PPS, AUD

# MPEG-4 audio sampling frequencies by index (14496-3 Table 1.18).
_AAC_RATES: Final = (
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
)  # fmt: skip


def _box(kind: bytes, *payload: bytes) -> bytes:
    size = 8 + sum(len(part) for part in payload)
    if size > _MAX_BOX:
        raise MuxError(f"a {kind.decode()} box of {size} bytes needs 64-bit sizes")
    return struct.pack(">I4s", size, kind) + b"".join(payload)


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


@dataclass(frozen=True, slots=True)
class AudioDescription:
    """An AAC track: its AudioSpecificConfig (14496-3 1.6.2.1) and what it says.

    Samples of this track are raw AAC frames (no ADTS header), 1024 PCM samples
    each for AAC-LC; the track's timescale is ``sample_rate``.
    """

    audio_specific_config: bytes
    sample_rate: int
    channels: int
    object_type: int
    average_bitrate: int = 0

    @classmethod
    def from_audio_specific_config(
        cls, config: bytes, average_bitrate: int = 0
    ) -> AudioDescription:
        """Read object type, rate and channels from an AudioSpecificConfig.

        Raises :class:`BitstreamError` when it is truncated or names a reserved
        sampling-frequency index.
        """
        bits = int.from_bytes(config, "big")
        total = len(config) * 8

        def take(count: int, position: int) -> int:
            if position + count > total:
                raise BitstreamError("AudioSpecificConfig is truncated")
            return (bits >> (total - position - count)) & ((1 << count) - 1)

        object_type = take(5, 0)
        position = 5
        if object_type == 31:  # escape: audioObjectTypeExt follows
            object_type = 32 + take(6, position)
            position += 6
        index = take(4, position)
        position += 4
        if index == 15:
            rate = take(24, position)
            position += 24
        elif index < len(_AAC_RATES):
            rate = _AAC_RATES[index]
        else:
            raise BitstreamError(f"AudioSpecificConfig has reserved frequency index {index}")
        channels = take(4, position)
        return cls(bytes(config), rate, channels, object_type, average_bitrate)

    @property
    def codec_string(self) -> str:
        """``mp4a.40.<audioObjectType>`` (RFC 6381 3.3)."""
        return f"mp4a.40.{self.object_type}"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a track run.

    ``data`` is exactly what goes into ``mdat`` (length-prefixed NAL units for
    video, a raw AAC frame for audio); ``duration`` counts the track's timescale.
    """

    data: bytes
    duration: int
    sync: bool


@dataclass(frozen=True, slots=True)
class TrackRun:
    """The samples of one track in one fragment, starting at ``base_decode_time`` (track ticks)."""

    track_id: int
    base_decode_time: int
    samples: tuple[Sample, ...]


def video_sample_data(nal_units: Iterable[bytes], codec: VideoCodec) -> bytes:
    """An access unit as MP4 sample data: each NAL unit behind a 4-byte big-endian length.

    Parameter sets and access unit delimiters are left out (see the module notes).
    """
    out = bytearray()
    for nal in nal_units:
        if not nal:
            continue
        if codec is VideoCodec.H264:
            if nal[0] & 0x1F in _H264_DROPPED:
                continue
        elif (nal[0] >> 1) & 0x3F in _H265_DROPPED:
            continue
        out += len(nal).to_bytes(4, "big")
        out += nal
    return bytes(out)


def video_sample(unit: AccessUnit, duration: int, codec: VideoCodec) -> Sample:
    """The :class:`Sample` of an access unit lasting ``duration`` 90 kHz ticks."""
    return Sample(video_sample_data(unit.nal_units, codec), duration, unit.keyframe)


# --- init segment -----------------------------------------------------------------------


def _ftyp() -> bytes:
    # iso5 brings default-base-is-moof; iso6 and mp41 widen what players accept.
    return _box(b"ftyp", b"iso5", struct.pack(">I", 0), b"iso5", b"iso6", b"mp41")


def _mvhd(next_track_id: int) -> bytes:
    return _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # creation, modification, timescale (ms), duration
        struct.pack(">IH", 0x0001_0000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),
        _MATRIX,
        bytes(24),  # pre_defined
        struct.pack(">I", next_track_id),
    )


def _tkhd(track_id: int, width: int, height: int, audio: bool) -> bytes:
    return _full_box(
        b"tkhd",
        0,
        0x000003,  # track_enabled | track_in_movie
        struct.pack(">IIIII", 0, 0, track_id, 0, 0),  # times, id, reserved, duration
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0x0100 if audio else 0, 0),  # layer, group, volume
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )


def _mdhd(timescale: int) -> bytes:
    return _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, _LANGUAGE_UND, 0))


def _hdlr(handler: bytes, name: bytes) -> bytes:
    return _full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, handler), bytes(12), name + b"\0")


def _dinf() -> bytes:
    # One data reference: "url " with flag 1, the media is in this file.
    return _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))


def _stbl(sample_entry: bytes) -> bytes:
    return _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        _full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        _full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )


def _visual_sample_entry(kind: bytes, width: int, height: int, config: bytes) -> bytes:
    compressor = bytes(32)  # empty Pascal string
    return _box(
        kind,
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved
        struct.pack(">HH", width, height),
        struct.pack(">III", 0x0048_0000, 0x0048_0000, 0),  # 72 dpi, reserved
        struct.pack(">H", 1),  # frame_count
        compressor,
        struct.pack(">Hh", 0x0018, -1),  # depth, pre_defined
        config,
    )


def _avcc(description: StreamDescription) -> tuple[bytes, int, int]:
    sps_nal = find_parameter_set(description, H264_NAL_SPS)
    sps = parse_h264_sps(sps_nal)
    spss = [n for n in description.parameter_sets if n and n[0] & 0x1F == 7]
    ppss = [n for n in description.parameter_sets if n and n[0] & 0x1F == 8]
    if not ppss:
        raise BitstreamError("the H264 stream has no PPS")
    record = bytearray(
        [1, sps.profile_idc, sps.constraint_flags, sps.level_idc, 0xFC | 3, 0xE0 | len(spss)]
    )
    for nal in spss:
        record += struct.pack(">H", len(nal)) + nal
    record.append(len(ppss))
    for nal in ppss:
        record += struct.pack(">H", len(nal)) + nal
    if sps.profile_idc in (100, 110, 122, 144):
        # 14496-15 5.3.3.1: the High profiles add chroma format and bit depths.
        record += bytes(
            [
                0xFC | sps.chroma_format_idc,
                0xF8 | (sps.bit_depth_luma - 8),
                0xF8 | (sps.bit_depth_chroma - 8),
                0,  # numOfSequenceParameterSetExt
            ]
        )
    return _box(b"avcC", bytes(record)), sps.width, sps.height


def _hvcc(description: StreamDescription) -> tuple[bytes, int, int]:
    sps = parse_h265_sps(find_parameter_set(description, H265_NAL_SPS))
    find_parameter_set(description, H265_NAL_VPS)  # hvc1 needs every parameter set in hvcC
    ptl = sps.profile_tier_level
    record = bytearray([1, (ptl.profile_space << 6) | (int(ptl.tier_flag) << 5) | ptl.profile_idc])
    record += struct.pack(">I", ptl.compatibility_flags)
    record += ptl.constraint_flags.to_bytes(6, "big")
    record.append(ptl.level_idc)
    record += struct.pack(">H", 0xF000)  # min_spatial_segmentation_idc 0: not stated
    record.append(0xFC)  # parallelismType 0: unknown
    record.append(0xFC | sps.chroma_format_idc)
    record.append(0xF8 | (sps.bit_depth_luma - 8))
    record.append(0xF8 | (sps.bit_depth_chroma - 8))
    record += struct.pack(">H", 0)  # avgFrameRate 0: unspecified
    # constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
    record.append((sps.max_sub_layers << 3) | (int(sps.temporal_id_nesting) << 2) | 3)
    arrays = []
    for nal_type in (32, 33, 34):  # VPS, SPS, PPS, in that order
        units = [
            n for n in description.parameter_sets if len(n) > 1 and (n[0] >> 1) & 0x3F == nal_type
        ]
        if not units:
            raise BitstreamError(f"the H265 stream has no parameter set of type {nal_type}")
        # array_completeness 1: every parameter set of this type is here, none in-band (hvc1).
        array = bytearray([0x80 | nal_type]) + struct.pack(">H", len(units))
        for nal in units:
            array += struct.pack(">H", len(nal)) + nal
        arrays.append(bytes(array))
    record.append(len(arrays))
    record += b"".join(arrays)
    return _box(b"hvcC", bytes(record)), sps.width, sps.height


def _descriptor(tag: int, *payload: bytes) -> bytes:
    body = b"".join(payload)
    size = len(body)
    # 14496-1 8.3.3: sizeOfInstance in 7-bit groups, high bit set on all but the last.
    groups = [size & 0x7F]
    size >>= 7
    while size:
        groups.append(0x80 | (size & 0x7F))
        size >>= 7
    return bytes([tag, *reversed(groups)]) + body


def _mp4a(audio: AudioDescription) -> bytes:
    if not 0 < audio.sample_rate <= 0xFFFF:
        raise MuxError(f"an mp4a sample entry cannot carry a {audio.sample_rate} Hz rate")
    esds = _full_box(
        b"esds",
        0,
        0,
        _descriptor(
            0x03,  # ES_Descriptor
            struct.pack(">HB", AUDIO_TRACK_ID, 0),
            _descriptor(
                0x04,  # DecoderConfigDescriptor: MPEG-4 audio (0x40), audio stream (5)
                struct.pack(">BB", 0x40, (0x05 << 2) | 1),
                (0).to_bytes(3, "big"),  # bufferSizeDB
                struct.pack(">II", audio.average_bitrate, audio.average_bitrate),
                _descriptor(0x05, audio.audio_specific_config),
            ),
            _descriptor(0x06, b"\x02"),  # SLConfigDescriptor, predefined 2 (MP4)
        ),
    )
    return _box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),
        bytes(8),
        struct.pack(">HHHH", audio.channels, 16, 0, 0),
        struct.pack(">I", audio.sample_rate << 16),
        esds,
    )


def init_segment(video: StreamDescription, audio: AudioDescription | None = None) -> bytes:
    """The init segment (``ftyp`` + ``moov``) of a stream: video track 1, AAC track 2 if any.

    Width and height come from the SPS (cropping applied), not from the
    description. Raises :class:`BitstreamError` when a needed parameter set is
    missing or unreadable, :class:`MuxError` for an audio rate an ``mp4a``
    entry cannot hold.
    """
    if video.codec is VideoCodec.H264:
        config, width, height = _avcc(video)
        entry = _visual_sample_entry(b"avc1", width, height, config)
    else:
        config, width, height = _hvcc(video)
        entry = _visual_sample_entry(b"hvc1", width, height, config)
    video_minf = _box(b"minf", _full_box(b"vmhd", 0, 1, bytes(8)), _dinf(), _stbl(entry))
    traks = [
        _box(
            b"trak",
            _tkhd(VIDEO_TRACK_ID, width, height, audio=False),
            _box(
                b"mdia",
                _mdhd(VIDEO_TIMESCALE),
                _hdlr(b"vide", b"PlatoniCam video"),
                video_minf,
            ),
        )
    ]
    trexs = [_trex(VIDEO_TRACK_ID)]
    if audio is not None:
        audio_minf = _box(b"minf", _full_box(b"smhd", 0, 0, bytes(4)), _dinf(), _stbl(_mp4a(audio)))
        traks.append(
            _box(
                b"trak",
                _tkhd(AUDIO_TRACK_ID, 0, 0, audio=True),
                _box(
                    b"mdia",
                    _mdhd(audio.sample_rate),
                    _hdlr(b"soun", b"PlatoniCam audio"),
                    audio_minf,
                ),
            )
        )
        trexs.append(_trex(AUDIO_TRACK_ID))
    next_track = (AUDIO_TRACK_ID if audio is not None else VIDEO_TRACK_ID) + 1
    moov = _box(b"moov", _mvhd(next_track), *traks, _box(b"mvex", *trexs))
    return _ftyp() + moov


def _trex(track_id: int) -> bytes:
    return _full_box(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, 0, 0, 0))


def mime_type(video: StreamDescription, audio: AudioDescription | None = None) -> str:
    """The MSE ``addSourceBuffer`` type, e.g. ``video/mp4; codecs="avc1.64001F,mp4a.40.2"``."""
    codecs = [codec_string(video)]
    if audio is not None:
        codecs.append(audio.codec_string)
    return f'video/mp4; codecs="{",".join(codecs)}"'


# --- fragments ---------------------------------------------------------------------------


def _traf(run: TrackRun, data_offset: int) -> bytes:
    entries = b"".join(
        struct.pack(
            ">III",
            sample.duration,
            len(sample.data),
            SYNC_SAMPLE_FLAGS if sample.sync else NON_SYNC_SAMPLE_FLAGS,
        )
        for sample in run.samples
    )
    return _box(
        b"traf",
        _full_box(b"tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, struct.pack(">I", run.track_id)),
        _full_box(b"tfdt", 1, 0, struct.pack(">Q", run.base_decode_time)),
        _full_box(
            b"trun", 0, _TRUN_FLAGS, struct.pack(">Ii", len(run.samples), data_offset), entries
        ),
    )


def _moof(sequence_number: int, runs: Sequence[TrackRun], offsets: Sequence[int]) -> bytes:
    return _box(
        b"moof",
        _full_box(b"mfhd", 0, 0, struct.pack(">I", sequence_number)),
        *(_traf(run, offset) for run, offset in zip(runs, offsets, strict=True)),
    )


def media_fragment(sequence_number: int, *runs: TrackRun) -> bytes:
    """One fragment: ``moof`` (``mfhd``, a ``traf`` per run) then one ``mdat`` with every sample.

    ``sequence_number`` goes into ``mfhd`` (1 to 2**32-1; the caller makes it
    strictly increase). Each run's samples follow each other in ``mdat``, runs
    in the order given. Raises :class:`MuxError` for an empty fragment, an empty
    run, a bad sequence number or decode time, or a negative duration.
    """
    if not 0 < sequence_number <= 0xFFFF_FFFF:
        raise MuxError(f"fragment sequence number {sequence_number} is outside 1..2**32-1")
    if not runs:
        raise MuxError("a fragment needs at least one track run")
    for run in runs:
        if not run.samples:
            raise MuxError(f"the run of track {run.track_id} has no samples")
        if not 0 <= run.base_decode_time < 2**64:
            raise MuxError(f"decode time {run.base_decode_time} does not fit tfdt")
        if any(not 0 <= sample.duration <= 0xFFFF_FFFF for sample in run.samples):
            raise MuxError(f"a sample of track {run.track_id} has a duration outside 32 bits")
    sizes = [sum(len(sample.data) for sample in run.samples) for run in runs]
    # The moof's size does not depend on the offsets' values, so measure it once.
    moof_size = len(_moof(sequence_number, runs, [0] * len(runs)))
    offsets = []
    position = moof_size + 8  # past the mdat header
    for size in sizes:
        offsets.append(position)
        position += size
    if position > 0x7FFF_FFFF:
        raise MuxError(f"a fragment of {position} bytes is too large for trun data offsets")
    moof = _moof(sequence_number, runs, offsets)
    payload = b"".join(sample.data for run in runs for sample in run.samples)
    return moof + _box(b"mdat", payload)


# One track, one sample: moof (mfhd, traf (tfhd, tfdt v1, trun with one entry)), mdat header.
_ONE_SAMPLE = struct.Struct(">I4s I4sII I4s I4sII I4sIQ I4sIIiIII I4s")
_ONE_SAMPLE_MOOF: Final = 8 + 16 + 8 + 16 + 20 + 32


def single_sample_fragment(
    sequence_number: int, track_id: int, decode_time: int, sample: Sample, prefix: bytes = b""
) -> bytes:
    """``prefix`` + ``media_fragment(sequence_number, TrackRun(track_id, decode_time, (sample,)))``,
    the same bytes packed in one go: the MSE path muxes every frame so, ~30 times a
    second per camera. Raises :class:`MuxError` as :func:`media_fragment` does.
    """
    if not 0 < sequence_number <= 0xFFFF_FFFF:
        raise MuxError(f"fragment sequence number {sequence_number} is outside 1..2**32-1")
    if not 0 <= decode_time < 2**64:
        raise MuxError(f"decode time {decode_time} does not fit tfdt")
    if not 0 <= sample.duration <= 0xFFFF_FFFF:
        raise MuxError(f"a sample of track {track_id} has a duration outside 32 bits")
    size = len(sample.data)
    if _ONE_SAMPLE_MOOF + 8 + size > 0x7FFF_FFFF:
        raise MuxError(f"a fragment of {size} sample bytes is too large for trun data offsets")
    header = _ONE_SAMPLE.pack(
        _ONE_SAMPLE_MOOF, b"moof",
        16, b"mfhd", 0, sequence_number,
        _ONE_SAMPLE_MOOF - 24, b"traf",
        16, b"tfhd", _TFHD_DEFAULT_BASE_IS_MOOF, track_id,
        20, b"tfdt", 1 << 24, decode_time,
        32, b"trun", _TRUN_FLAGS, 1, _ONE_SAMPLE_MOOF + 8,
        sample.duration, size, SYNC_SAMPLE_FLAGS if sample.sync else NON_SYNC_SAMPLE_FLAGS,
        8 + size, b"mdat",
    )  # fmt: skip
    return b"".join((prefix, header, sample.data))


def producer_reference_time(
    track_id: int, unix_time: float, media_time: int, flags: int = PRFT_CAPTURED
) -> bytes:
    """A ``prft`` box (version 1): ``unix_time`` as a 64-bit NTP timestamp for the sample
    of ``track_id`` at decode time ``media_time`` (track ticks) in the fragment that follows.

    NTP seconds are 32 bits and wrap in February 2036 (era 1 starts again at 0,
    RFC 5905 6); a reader adds 2**32 s to a time that would fall before 1970.
    Raises :class:`MuxError` for a time before 1970 or a negative media time.
    """
    if not unix_time >= 0:
        raise MuxError(f"a prft cannot carry the time {unix_time}")
    if not 0 <= media_time < 2**64:
        raise MuxError(f"media time {media_time} does not fit prft")
    ticks = round((unix_time + _NTP_UNIX_OFFSET) * 2**32) % 2**64
    return _full_box(b"prft", 1, flags, struct.pack(">IQQ", track_id, ticks, media_time))
