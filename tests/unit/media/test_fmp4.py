"""Init segments and fragments, read back box by box with the tests' own parser."""

from __future__ import annotations

import struct

import pytest

from platonicam.media import fmp4
from platonicam.media.codecs import parse_h264_sps
from platonicam.media.errors import BitstreamError, MuxError
from platonicam.media.parts import Partitioner
from platonicam.rtsp.stream import StreamDescription, VideoCodec
from tests.unit.media.boxes import Box, root
from tests.unit.media.encoded import encode

# AAC-LC, 48 kHz (index 3), stereo: 00010 0011 0010 000.
AAC_LC_48K_STEREO = bytes([0x11, 0x90])


def test_audio_specific_config_is_read() -> None:
    audio = fmp4.AudioDescription.from_audio_specific_config(AAC_LC_48K_STEREO, 128_000)
    assert (audio.object_type, audio.sample_rate, audio.channels) == (2, 48_000, 2)
    assert audio.codec_string == "mp4a.40.2"
    # HE-AAC with an explicit 24-bit rate: type 5, index 15, 22050 in 24 bits, mono, padding.
    explicit = ((((5 << 4 | 15) << 24 | 22050) << 4 | 1) << 3).to_bytes(5, "big")
    he = fmp4.AudioDescription.from_audio_specific_config(explicit)
    assert (he.object_type, he.sample_rate, he.channels) == (5, 22050, 1)


def test_bad_audio_specific_config_is_refused() -> None:
    with pytest.raises(
        BitstreamError, match=r"^AudioSpecificConfig has reserved frequency index 13$"
    ):
        fmp4.AudioDescription.from_audio_specific_config(bytes([0x16, 0x90]))
    with pytest.raises(BitstreamError, match=r"^AudioSpecificConfig is truncated$"):
        fmp4.AudioDescription.from_audio_specific_config(b"\x11")


def _moov_common(init: bytes, next_track: int) -> Box:
    file = root(init)
    assert [box.kind for box in file.children] == ["ftyp", "moov"]
    ftyp = file.child("ftyp")
    assert ftyp.payload[:4] == b"iso5"
    assert {ftyp.payload[i : i + 4] for i in range(8, len(ftyp.payload), 4)} >= {b"iso5", b"iso6"}
    moov = file.child("moov")
    mvhd = moov.child("mvhd")
    assert mvhd.field(">I", 12) == (1000,)  # timescale
    assert mvhd.field(">I", len(mvhd.payload) - 4) == (next_track,)
    return moov


def _video_trak(moov: Box, kind: str, width: int, height: int) -> Box:
    trak = moov.all("trak")[0]
    tkhd = trak.child("tkhd")
    assert (tkhd.flags, tkhd.field(">I", 12)) == (3, (fmp4.VIDEO_TRACK_ID,))
    assert tkhd.field(">II", len(tkhd.payload) - 8) == (width << 16, height << 16)
    mdhd = trak.child("mdia/mdhd")
    assert mdhd.field(">I", 12) == (90_000,)
    assert trak.child("mdia/hdlr").payload[8:12] == b"vide"
    assert trak.child("mdia/minf/vmhd").flags == 1
    dref = trak.child("mdia/minf/dinf/dref")
    assert [box.kind for box in dref.children] == ["url "]
    stbl = trak.child("mdia/minf/stbl")
    assert [box.kind for box in stbl.children] == ["stsd", "stts", "stsc", "stsz", "stco"]
    for empty in ("stts", "stsc", "stco"):
        assert stbl.child(empty).field(">I", 4) == (0,)
    assert stbl.child("stsz").field(">II", 4) == (0, 0)
    stsd = stbl.child("stsd")
    assert stsd.field(">I", 4) == (1,)
    entry = stsd.child(kind)
    assert entry.field(">HH", 24) == (width, height)
    return entry


def test_h264_init_segment_carries_avcc_from_the_sps() -> None:
    description, _ = encode(VideoCodec.H264, 1920, 1080, 30, 2, 30, "high", preset="veryfast")
    sps_nal, pps_nal = description.parameter_sets
    moov = _moov_common(fmp4.init_segment(description), next_track=2)
    entry = _video_trak(moov, "avc1", 1920, 1080)
    avcc = entry.child("avcC").payload
    sps = parse_h264_sps(sps_nal)
    assert (avcc[0], avcc[1], avcc[2], avcc[3]) == (1, 100, sps.constraint_flags, 40)
    assert avcc[4] == 0xFF  # lengthSizeMinusOne 3
    assert avcc[5] == 0xE1  # one SPS
    sps_len = struct.unpack_from(">H", avcc, 6)[0]
    assert avcc[8 : 8 + sps_len] == sps_nal
    rest = avcc[8 + sps_len :]
    assert rest[0] == 1
    pps_len = struct.unpack_from(">H", rest, 1)[0]
    assert rest[3 : 3 + pps_len] == pps_nal
    # High profile: chroma format 1, bit depths 8, no SPS extensions.
    assert rest[3 + pps_len :] == bytes([0xFD, 0xF8, 0xF8, 0])
    assert [box.kind for box in moov.child("mvex").children] == ["trex"]
    assert moov.child("mvex/trex").field(">II", 4) == (1, 1)


@pytest.mark.parametrize(
    ("profile", "pix_fmt", "depth"), [(None, "yuv420p", 8), ("main10", "yuv420p10le", 10)]
)
def test_h265_init_segment_is_hvc1_with_all_parameter_sets_in_hvcc(
    profile: str | None, pix_fmt: str, depth: int
) -> None:
    description, _ = encode(VideoCodec.H265, 320, 180, 25, 2, 25, profile, pix_fmt)
    moov = _moov_common(fmp4.init_segment(description), next_track=2)
    entry = _video_trak(moov, "hvc1", 320, 180)
    hvcc = entry.child("hvcC").payload
    profile_idc = 2 if profile == "main10" else 1
    assert hvcc[0] == 1
    assert hvcc[1] == profile_idc  # profile space 0, main tier
    assert hvcc[12] == 60  # general_level_idc (level 2)
    assert hvcc[16] == 0xFC | 1  # chroma 4:2:0
    assert (hvcc[17], hvcc[18]) == (0xF8 | (depth - 8), 0xF8 | (depth - 8))
    assert hvcc[21] & 0x03 == 3  # 4-byte NAL lengths
    assert hvcc[22] == 3
    offset = 23
    arrays = []
    for _ in range(3):
        header, count = hvcc[offset], struct.unpack_from(">H", hvcc, offset + 1)[0]
        offset += 3
        nals = []
        for _ in range(count):
            size = struct.unpack_from(">H", hvcc, offset)[0]
            nals.append(hvcc[offset + 2 : offset + 2 + size])
            offset += 2 + size
        arrays.append((header, tuple(nals)))
    assert offset == len(hvcc)
    # array_completeness set (hvc1: no parameter sets in band), types VPS, SPS, PPS.
    assert arrays == [(0x80 | 32, (description.parameter_sets[0],)),
                      (0x80 | 33, (description.parameter_sets[1],)),
                      (0x80 | 34, (description.parameter_sets[2],))]  # fmt: skip


def test_init_segment_with_aac_track() -> None:
    description, _ = encode(VideoCodec.H264)
    audio = fmp4.AudioDescription.from_audio_specific_config(AAC_LC_48K_STEREO, 96_000)
    moov = _moov_common(fmp4.init_segment(description, audio), next_track=3)
    video, sound = moov.all("trak")
    assert video.child("tkhd").field(">I", 12) == (1,)
    assert sound.child("tkhd").field(">I", 12) == (2,)
    assert sound.child("mdia/mdhd").field(">I", 12) == (48_000,)
    assert sound.child("mdia/hdlr").payload[8:12] == b"soun"
    assert sound.child("mdia/minf/smhd").payload == bytes(8)
    mp4a = sound.child("mdia/minf/stbl/stsd/mp4a")
    assert mp4a.field(">HH", 16) == (2, 16)  # channels, sample size
    assert mp4a.field(">I", 24) == (48_000 << 16,)
    esds = mp4a.child("esds").payload
    # ES_Descriptor > DecoderConfigDescriptor(0x40 MPEG-4 audio) > DecoderSpecificInfo = ASC.
    assert esds[4] == 0x03
    assert esds[esds.index(b"\x04\x11") + 2] == 0x40
    assert b"\x05\x02" + AAC_LC_48K_STEREO + b"\x06\x01\x02" in esds
    assert [box.field(">I", 4)[0] for box in moov.child("mvex").all("trex")] == [1, 2]
    assert fmp4.mime_type(description, audio) == 'video/mp4; codecs="avc1.42C00C,mp4a.40.2"'


def test_init_segment_without_pps_is_refused() -> None:
    description, _ = encode(VideoCodec.H264)
    broken = StreamDescription(VideoCodec.H264, 320, 180, 25.0, description.parameter_sets[:1])
    with pytest.raises(BitstreamError, match=r"^the H264 stream has no PPS$"):
        fmp4.init_segment(broken)


def _fragment_fields(data: bytes) -> tuple[Box, Box]:
    file = root(data)
    assert [box.kind for box in file.children] == ["moof", "mdat"]
    return file.child("moof"), file.child("mdat")


def _trun(traf: Box) -> tuple[int, int, list[tuple[int, int, int]]]:
    trun = traf.child("trun")
    assert (trun.version, trun.flags) == (0, 0x701)
    count, offset = trun.field(">Ii", 4)
    entries = [trun.field(">III", 12 + 12 * i) for i in range(count)]
    return count, offset, entries  # type: ignore[return-value]


def test_video_fragment_fields() -> None:
    _, units = encode(VideoCodec.H264)
    samples = tuple(fmp4.video_sample(unit, 3600, VideoCodec.H264) for unit in units[:5])
    data = fmp4.media_fragment(7, fmp4.TrackRun(1, 2**33 + 5, samples))
    moof, mdat = _fragment_fields(data)
    assert moof.child("mfhd").field(">I", 4) == (7,)
    traf = moof.child("traf")
    tfhd = traf.child("tfhd")
    assert (tfhd.flags, tfhd.field(">I", 4)) == (0x020000, (1,))
    tfdt = traf.child("tfdt")
    assert (tfdt.version, tfdt.field(">Q", 4)) == (1, (2**33 + 5,))
    count, offset, entries = _trun(traf)
    assert count == 5
    assert offset == len(data) - len(mdat.payload)  # first byte of mdat's payload
    assert [e[0] for e in entries] == [3600] * 5
    assert [e[2] for e in entries] == [0x02000000] + [0x01010000] * 4
    assert sum(e[1] for e in entries) == len(mdat.payload)
    # Samples are 4-byte length-prefixed NAL units with no parameter sets left in them.
    position = 0
    for unit, (_, size, _) in zip(units[:5], entries, strict=True):
        sample = mdat.payload[position : position + size]
        nals = []
        while sample:
            length = int.from_bytes(sample[:4], "big")
            nals.append(sample[4 : 4 + length])
            sample = sample[4 + length :]
        assert tuple(nals) == unit.nal_units
        assert all(nal[0] & 0x1F not in (7, 8) for nal in nals)
        position += size


@pytest.mark.parametrize("index", [0, 1])
def test_a_single_sample_fragment_is_the_general_one_packed_at_once(index: int) -> None:
    _, units = encode(VideoCodec.H264)
    sample = fmp4.video_sample(units[index], 3600, VideoCodec.H264)
    assert sample.sync is (index == 0)
    general = fmp4.media_fragment(9, fmp4.TrackRun(1, 2**40 + 3, (sample,)))
    assert fmp4.single_sample_fragment(9, 1, 2**40 + 3, sample) == general
    prefix = fmp4.producer_reference_time(1, 1_767_323_045.0, 2**40 + 3)
    assert fmp4.single_sample_fragment(9, 1, 2**40 + 3, sample, prefix) == prefix + general
    with pytest.raises(MuxError, match=r"outside 1\.\.2\*\*32-1"):
        fmp4.single_sample_fragment(0, 1, 0, sample)
    with pytest.raises(MuxError, match="does not fit tfdt"):
        fmp4.single_sample_fragment(1, 1, -1, sample)
    with pytest.raises(MuxError, match="duration outside 32 bits"):
        fmp4.single_sample_fragment(1, 1, 0, fmp4.Sample(b"x", 2**32, True))


def _prft_time(box: Box) -> tuple[int, float, int]:
    """(reference track, Unix seconds, media time) of a version 1 ``prft``, read by hand."""
    track, ntp, media_time = box.field(">IQQ", 4)
    seconds = (ntp >> 32) - 2_208_988_800
    if seconds < 0:
        seconds += 2**32  # NTP era 1
    return track, seconds + (ntp & 0xFFFF_FFFF) / 2**32, media_time


def test_producer_reference_time_carries_the_capture_stamp() -> None:
    data = fmp4.producer_reference_time(1, 1_767_323_045.123456, 2**33 + 7)
    (prft,) = root(data).children
    assert prft.kind == "prft"
    assert len(data) == 32
    assert (prft.version, prft.flags) == (1, 24)  # 24: the time the frame was captured
    track, stamp, media_time = _prft_time(prft)
    assert (track, media_time) == (1, 2**33 + 7)
    assert stamp == pytest.approx(1_767_323_045.123456, abs=1e-6)
    # 2040 is in NTP era 1: the seconds field wraps and the reader adds 2**32 back.
    later = fmp4.producer_reference_time(1, 2_208_988_800.5, 0)
    assert int.from_bytes(later[16:20], "big") == (2 * 2_208_988_800) % 2**32
    assert _prft_time(root(later).children[0])[1] == pytest.approx(2_208_988_800.5)
    with pytest.raises(MuxError, match="cannot carry the time -1"):
        fmp4.producer_reference_time(1, -1.0, 0)
    with pytest.raises(MuxError, match="does not fit prft"):
        fmp4.producer_reference_time(1, 0.0, -1)


def test_parameter_sets_and_delimiters_are_dropped_from_samples() -> None:
    sps, pps, aud, sei, idr = (
        b"\x67\x42",
        b"\x68\xce",
        b"\x09\xf0",
        b"\x06\x05\x01",
        b"\x65\x88\x80",
    )
    assert fmp4.video_sample_data([aud, sps, pps, sei, idr], VideoCodec.H264) == (
        b"\x00\x00\x00\x03" + sei + b"\x00\x00\x00\x03" + idr
    )
    vps, sps5, pps5, aud5, idr5 = (
        b"\x40\x01",
        b"\x42\x01",
        b"\x44\x01",
        b"\x46\x01",
        b"\x26\x01\xaf",
    )
    assert fmp4.video_sample_data([aud5, vps, sps5, pps5, idr5], VideoCodec.H265) == (
        b"\x00\x00\x00\x03" + idr5
    )


def test_two_track_fragment_offsets_point_at_each_tracks_bytes() -> None:
    video = fmp4.TrackRun(
        1, 0, (fmp4.Sample(b"V" * 10, 3600, True), fmp4.Sample(b"v" * 4, 3600, False))
    )
    audio = fmp4.TrackRun(2, 960, (fmp4.Sample(b"A" * 7, 1024, True),) * 3)
    data = fmp4.media_fragment(1, video, audio)
    moof, mdat = _fragment_fields(data)
    video_traf, audio_traf = moof.all("traf")
    _, video_offset, _ = _trun(video_traf)
    _, audio_offset, audio_entries = _trun(audio_traf)
    assert data[video_offset : video_offset + 14] == b"V" * 10 + b"v" * 4
    assert data[audio_offset : audio_offset + 21] == b"A" * 21
    assert audio_entries == [(1024, 7, 0x02000000)] * 3
    assert audio_traf.child("tfdt").field(">Q", 4) == (960,)
    assert len(mdat.payload) == 35


@pytest.mark.parametrize(
    ("sequence", "runs", "message"),
    [
        (0, (fmp4.TrackRun(1, 0, (fmp4.Sample(b"x", 1, True),)),), "outside 1..2\\*\\*32-1"),
        (1, (), "needs at least one track run"),
        (1, (fmp4.TrackRun(1, 0, ()),), "the run of track 1 has no samples"),
        (1, (fmp4.TrackRun(1, -1, (fmp4.Sample(b"x", 1, True),)),), "does not fit tfdt"),
        (1, (fmp4.TrackRun(1, 0, (fmp4.Sample(b"x", -1, True),)),), "duration outside 32 bits"),
    ],
)
def test_bad_fragments_are_refused(
    sequence: int, runs: tuple[fmp4.TrackRun, ...], message: str
) -> None:
    with pytest.raises(MuxError, match=message):
        fmp4.media_fragment(sequence, *runs)


@pytest.mark.parametrize("codec", list(VideoCodec))
def test_fragments_from_the_partitioner_are_continuous(codec: VideoCodec) -> None:
    _, units = encode(codec, frames=50)
    partitioner = Partitioner(part_target=19_800, segment_target=90_000, frame_duration=3600)
    parts = [part for unit in units for part in partitioner.push(unit)] + partitioner.flush()
    expected_time = 0
    sequence = 0
    for part in parts:
        moof, _ = _fragment_fields(part.fragment(codec))
        number = moof.child("mfhd").field(">I", 4)[0]
        assert number > sequence
        sequence = number
        traf = moof.child("traf")
        assert traf.child("tfdt").field(">Q", 4)[0] == expected_time
        count, _, entries = _trun(traf)
        assert count == len(part.units)
        assert (entries[0][2] == 0x02000000) == part.independent
        expected_time += sum(entry[0] for entry in entries)
    assert expected_time == 50 * 3600
    assert sequence == len(parts)
