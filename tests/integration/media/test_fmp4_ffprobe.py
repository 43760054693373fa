"""Debian's ffprobe and ffmpeg read back what our partitioner, muxer and playlist write.

PyAV encodes four seconds of H.264 and H.265 (25 fps, one keyframe a second);
the parts, segments, init segment and both playlists go into a temp folder,
and the independent FFmpeg 5.1 tools (not the FFmpeg inside PyAV) must read
them with no error, the right codec, size, rate, frame count and duration.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
from pathlib import Path

import av
import pytest

from platonicam.media import fmp4, hls
from platonicam.media.codecs import codec_string
from platonicam.media.parts import Part, Partitioner, choose_part_target
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, VideoCodec
from tests.unit.media.encoded import encode

FFPROBE = Path("/usr/bin/ffprobe")
FFMPEG = Path("/usr/bin/ffmpeg")
FPS = 25
SECONDS = 4

pytestmark = pytest.mark.skipif(
    not (FFPROBE.exists() and FFMPEG.exists()), reason="Debian's ffmpeg package is not installed"
)


def write_stream(codec: VideoCodec, folder: Path) -> tuple[list[Part], hls.Playlist]:
    description, units = encode(codec, 320, 180, FPS, FPS * SECONDS, FPS)
    (folder / "init.mp4").write_bytes(fmp4.init_segment(description))
    partitioner = Partitioner(
        part_target=choose_part_target(FPS),
        segment_target=VIDEO_CLOCK_RATE,
        frame_duration=VIDEO_CLOCK_RATE // FPS,
    )
    playlist = hls.Playlist(target_duration=1, part_target=partitioner.part_target, window=10)
    parts: list[Part] = []
    for unit in units:
        parts.extend(partitioner.push(unit))
    parts.extend(partitioner.flush())
    segment = bytearray()
    for part in parts:
        data = part.fragment(codec)
        (folder / f"part{part.media_sequence}.{part.index}.m4s").write_bytes(data)
        segment += data
        playlist.add_part(
            part.media_sequence,
            part.index,
            part.duration,
            independent=part.independent,
            ends_segment=part.ends_segment,
            wallclock=part.wallclock,
        )
        if part.ends_segment:
            (folder / f"seg{part.media_sequence}.m4s").write_bytes(bytes(segment))
            segment.clear()
    playlist.end()
    (folder / "live.m3u8").write_text(playlist.render())
    (folder / "legacy.m3u8").write_text(playlist.render_legacy())
    return parts, playlist


def probe(path: Path, *extra: str) -> dict[str, str]:
    out = subprocess.run(
        [str(FFPROBE), "-v", "error", "-count_packets", *extra, "-show_entries",
         "stream=codec_name,codec_tag_string,width,height,avg_frame_rate,nb_read_packets"
         ":format=start_time,duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert out.stderr == ""
    data = json.loads(out.stdout)
    (stream,) = data["streams"]
    return {**{key: str(value) for key, value in stream.items()}, **data["format"]}


@pytest.fixture(params=[VideoCodec.H264, VideoCodec.H265], ids=["h264", "h265"])
def written(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[VideoCodec, Path, list[Part], hls.Playlist]:
    codec: VideoCodec = request.param
    parts, playlist = write_stream(codec, tmp_path)
    return codec, tmp_path, parts, playlist


CODEC_NAMES = {VideoCodec.H264: ("h264", "avc1"), VideoCodec.H265: ("hevc", "hvc1")}


def test_ffprobe_reads_init_plus_each_segment(
    written: tuple[VideoCodec, Path, list[Part], hls.Playlist],
) -> None:
    codec, folder, _, playlist = written
    init = (folder / "init.mp4").read_bytes()
    assert [s.media_sequence for s in playlist.segments] == [0, 1, 2, 3]
    for segment in playlist.segments:
        joined = folder / f"joined{segment.media_sequence}.mp4"
        joined.write_bytes(init + (folder / f"seg{segment.media_sequence}.m4s").read_bytes())
        info = probe(joined)
        assert (info["codec_name"], info["codec_tag_string"]) == CODEC_NAMES[codec]
        assert (info["width"], info["height"], info["avg_frame_rate"]) == ("320", "180", "25/1")
        assert info["nb_read_packets"] == "25"
        # tfdt carries on where the last segment ended; the mov demuxer reports
        # a fragment's end time as its duration.
        start = float(segment.media_sequence)
        assert float(info["start_time"]) == pytest.approx(start)
        assert float(info["duration"]) == pytest.approx(start + 1.0)


def test_ffprobe_reads_init_plus_single_part(
    written: tuple[VideoCodec, Path, list[Part], hls.Playlist],
) -> None:
    codec, folder, parts, _ = written
    first = parts[0]
    joined = folder / "part.mp4"
    joined.write_bytes((folder / "init.mp4").read_bytes() + first.fragment(codec))
    info = probe(joined)
    assert info["nb_read_packets"] == str(len(first.units)) == "5"
    assert float(info["duration"]) == pytest.approx(0.2)


@pytest.mark.parametrize("name", ["live.m3u8", "legacy.m3u8"])
def test_ffprobe_reads_the_playlists(
    written: tuple[VideoCodec, Path, list[Part], hls.Playlist], name: str
) -> None:
    codec, folder, _, _ = written
    info = probe(folder / name)
    assert info["codec_name"] == CODEC_NAMES[codec][0]
    assert (info["width"], info["height"], info["avg_frame_rate"]) == ("320", "180", "25/1")
    assert info["nb_read_packets"] == str(FPS * SECONDS)
    assert float(info["duration"]) == pytest.approx(SECONDS, abs=0.05)


@pytest.mark.parametrize("name", ["live.m3u8", "legacy.m3u8"])
def test_ffmpeg_copies_the_playlist_without_errors(
    written: tuple[VideoCodec, Path, list[Part], hls.Playlist], name: str
) -> None:
    codec, folder, _, _ = written
    out = folder / "out.mp4"
    tag = ["-tag:v", "hvc1"] if codec is VideoCodec.H265 else []
    result = subprocess.run(
        [str(FFMPEG), "-nostdin", "-v", "error", "-i", str(folder / name), "-c", "copy", *tag,
         str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    info = probe(out)
    assert (info["codec_name"], info["codec_tag_string"]) == CODEC_NAMES[codec]
    assert info["nb_read_packets"] == str(FPS * SECONDS)
    assert float(info["duration"]) == pytest.approx(SECONDS, abs=0.05)
    # Every frame decodes: the parameter sets in avcC/hvcC are all a decoder needs.
    frames = subprocess.run(
        [str(FFPROBE), "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
         "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert (frames.stdout.strip(), frames.stderr) == (str(FPS * SECONDS), "")


def test_multivariant_playlist_points_ffprobe_at_the_media_playlist(tmp_path: Path) -> None:
    description, _ = encode(VideoCodec.H265, 320, 180, FPS, FPS * SECONDS, FPS)
    write_stream(VideoCodec.H265, tmp_path)
    variant = hls.Variant("live.m3u8", 400_000, codec_string(description), 320, 180, FPS)
    (tmp_path / "index.m3u8").write_text(hls.render_multivariant([variant]))
    info = probe(tmp_path / "index.m3u8")
    assert (info["codec_name"], info["width"], info["height"]) == ("hevc", "320", "180")
    assert shutil.which(str(FFPROBE)) is not None


def encode_aac(seconds: int) -> tuple[bytes, list[bytes]]:
    """(AudioSpecificConfig, raw AAC-LC frames) of a 48 kHz stereo tone, via PyAV's encoder."""
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = 48_000
    context.layout = "stereo"
    context.format = "fltp"
    context.bit_rate = 96_000
    context.open()
    packets: list[bytes] = []
    for index in range(seconds * 48_000 // 1024):
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
        frame.sample_rate = 48_000
        tone = [
            0.3 * math.sin(2 * math.pi * 440 * (index * 1024 + n) / 48_000) for n in range(1024)
        ]
        for plane in frame.planes:
            plane.update(struct.pack("<1024f", *tone))
        frame.pts = index * 1024
        packets.extend(bytes(packet) for packet in context.encode(frame))
    packets.extend(bytes(packet) for packet in context.encode(None))
    assert context.extradata is not None
    return bytes(context.extradata), packets


def test_ffmpeg_decodes_video_with_aac_audio(tmp_path: Path) -> None:
    codec = VideoCodec.H264
    description, units = encode(codec, 320, 180, FPS, FPS * 2, FPS)
    config, frames = encode_aac(2)
    audio = fmp4.AudioDescription.from_audio_specific_config(config, 96_000)
    partitioner = Partitioner(part_target=choose_part_target(FPS), segment_target=VIDEO_CLOCK_RATE,
                              frame_duration=VIDEO_CLOCK_RATE // FPS)  # fmt: skip
    parts = [part for unit in units for part in partitioner.push(unit)] + partitioner.flush()
    data = bytearray(fmp4.init_segment(description, audio))
    next_frame = 0
    for part in parts:
        video = fmp4.TrackRun(
            fmp4.VIDEO_TRACK_ID,
            part.decode_time,
            tuple(fmp4.video_sample(t.unit, t.duration, codec) for t in part.units),
        )
        # The AAC frames (1024 samples at 48 kHz) that start before this part ends.
        end = (part.decode_time + part.duration) * 48_000 // VIDEO_CLOCK_RATE
        first = next_frame
        while next_frame < len(frames) and next_frame * 1024 < end:
            next_frame += 1
        samples = tuple(fmp4.Sample(frame, 1024, True) for frame in frames[first:next_frame])
        runs = [video]
        if samples:
            runs.append(fmp4.TrackRun(fmp4.AUDIO_TRACK_ID, first * 1024, samples))
        data += fmp4.media_fragment(part.sequence_number, *runs)
    path = tmp_path / "av.mp4"
    path.write_bytes(bytes(data))
    out = subprocess.run(
        [str(FFPROBE), "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_name,codec_tag_string,sample_rate,channels,nb_read_packets", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert out.stderr == ""
    video_info, audio_info = json.loads(out.stdout)["streams"]
    assert (video_info["codec_name"], video_info["nb_read_packets"]) == ("h264", str(FPS * 2))
    assert (audio_info["codec_name"], audio_info["codec_tag_string"]) == ("aac", "mp4a")
    assert (audio_info["sample_rate"], audio_info["channels"]) == ("48000", 2)
    assert audio_info["nb_read_packets"] == str(next_frame)
    decoded = subprocess.run(
        [str(FFMPEG), "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (decoded.returncode, decoded.stderr) == (0, "")
