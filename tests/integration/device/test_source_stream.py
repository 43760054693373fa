"""The device's picture checked by independent tools: Debian's ffprobe/ffmpeg and PyAV.

The encoded loops and live units are written out as Annex B files and read
back by ``/usr/bin/ffprobe``; snapshots are decoded by ffprobe and PyAV; a file
made by ``/usr/bin/ffmpeg`` is played by :class:`FileStream`. No network.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import subprocess
import time
from pathlib import Path

import av
import pytest

from platonicam.device.snapshot import snapshot_jpeg
from platonicam.device.source import (
    EncoderSettings,
    FileStream,
    SourceError,
    TestPatternStream,
    VideoProfile,
    encode_loop,
    nal_type,
)
from platonicam.rtsp.sei import parse_latency_sei
from platonicam.rtsp.stream import AccessUnit, VideoCodec

FFPROBE = "/usr/bin/ffprobe"
FFMPEG = "/usr/bin/ffmpeg"

pytestmark = pytest.mark.skipif(
    not (Path(FFPROBE).exists() and Path(FFMPEG).exists()), reason="Debian ffmpeg not installed"
)


def ffprobe(path: Path, *args: str) -> dict[str, list[dict[str, object]]]:
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-of", "json", *args, str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    parsed: dict[str, list[dict[str, object]]] = json.loads(result.stdout)
    return parsed


def write_annexb(path: Path, units: list[AccessUnit]) -> Path:
    path.write_bytes(
        b"".join(b"\x00\x00\x00\x01" + nal for unit in units for nal in unit.nal_units)
    )
    return path


@pytest.mark.parametrize(
    ("codec", "profile", "width", "height", "ffprobe_profile"),
    [
        (VideoCodec.H264, VideoProfile.BASELINE, 320, 180, "Constrained Baseline"),
        (VideoCodec.H264, VideoProfile.HIGH, 640, 360, "High"),
        (VideoCodec.H265, VideoProfile.MAIN, 320, 180, "Main"),
        (VideoCodec.H265, VideoProfile.MAIN10, 640, 360, "Main 10"),
    ],
)
async def test_ffprobe_reads_the_encoded_loop(
    tmp_path: Path,
    codec: VideoCodec,
    profile: VideoProfile,
    width: int,
    height: int,
    ffprobe_profile: str,
) -> None:
    settings = EncoderSettings(
        codec=codec,
        width=width,
        height=height,
        fps=25,
        bitrate_kbps=400,
        gop=12,
        profile=profile,
        loop_seconds=1.0,
    )
    loop = await encode_loop(settings, "probe")
    path = tmp_path / ("loop.h264" if codec is VideoCodec.H264 else "loop.h265")
    path.write_bytes(loop.annexb())

    streams = ffprobe(path, "-count_frames", "-show_streams")["streams"]
    assert len(streams) == 1
    stream = streams[0]
    assert stream["codec_name"] == ("h264" if codec is VideoCodec.H264 else "hevc")
    assert (stream["width"], stream["height"]) == (width, height)
    assert stream["profile"] == ffprobe_profile
    assert stream["nb_read_frames"] == "36"  # 1 s at 25 fps, rounded up to three GOPs of 12

    frames = ffprobe(path, "-show_frames", "-show_entries", "frame=key_frame,pict_type")["frames"]
    keyframes = [i for i, frame in enumerate(frames) if frame["key_frame"] == 1]
    assert keyframes == [0, 12, 24]
    assert {frame["pict_type"] for frame in frames} == {"I", "P"}  # no B-frames

    # The playable loop starts again at its first frame: two copies decode as one stream.
    path.write_bytes(loop.annexb() * 2)
    twice = ffprobe(path, "-count_frames", "-show_streams")["streams"][0]
    assert twice["nb_read_frames"] == "72"


async def test_reconfigured_units_carry_the_new_resolution_and_codec(tmp_path: Path) -> None:
    old = EncoderSettings(width=320, height=180, fps=25, gop=5, loop_seconds=0.4)
    new = EncoderSettings(
        codec=VideoCodec.H265,
        width=480,
        height=270,
        fps=25,
        gop=5,
        profile=VideoProfile.MAIN,
        loop_seconds=0.4,
    )
    stream = await TestPatternStream.create(old, "reconf")
    subscription = stream.subscribe()
    before = [await anext(subscription) for _ in range(5)]
    await stream.reconfigure(new)
    # Units of the old loop already queued for this subscriber still arrive
    # first (how many depends on how busy the machine is); the switch itself
    # happens at the new loop's first keyframe, and nothing old follows it.
    first_new = await anext(subscription)
    skipped_old = 0
    while first_new.generation == 0 and skipped_old < 50:
        skipped_old += 1
        first_new = await anext(subscription)
    after = [first_new, *[await anext(subscription) for _ in range(9)]]
    await subscription.aclose()
    stream.close()
    assert all(unit.generation == 0 for unit in before)
    assert first_new.keyframe
    assert all(unit.generation == 1 for unit in after)

    probe = ffprobe(write_annexb(tmp_path / "before.h264", before), "-show_streams")
    assert [(s["codec_name"], s["width"], s["height"]) for s in probe["streams"]] == [
        ("h264", 320, 180)
    ]
    probe = ffprobe(write_annexb(tmp_path / "after.h265", after), "-count_frames", "-show_streams")
    assert [(s["codec_name"], s["width"], s["height"]) for s in probe["streams"]] == [
        ("hevc", 480, 270)
    ]
    assert probe["streams"][0]["nb_read_frames"] == "10"
    # The latency SEI rides along and decoders ignore it (it decoded above).
    stamps = [parse_latency_sei(nal, VideoCodec.H265) for nal in after[0].nal_units]
    assert [s for s in stamps if s is not None] == [after[0].wallclock]


async def test_snapshot_is_a_jpeg_of_the_current_size(tmp_path: Path) -> None:
    settings = EncoderSettings(width=320, height=180, fps=25, gop=10, loop_seconds=0.8)
    stream = await TestPatternStream.create(settings, "snap")
    jpeg = await snapshot_jpeg(stream)
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert jpeg.endswith(b"\xff\xd9")
    path = tmp_path / "snap.jpg"
    path.write_bytes(jpeg)
    probe = ffprobe(path, "-show_streams")["streams"][0]
    assert (probe["codec_name"], probe["width"], probe["height"]) == ("mjpeg", 320, 180)
    with av.open(io.BytesIO(jpeg), mode="r") as container:
        picture = next(container.decode(video=0))
        assert (picture.width, picture.height) == (320, 180)

    # Cached briefly: a second request within max_age gets the same image.
    assert await snapshot_jpeg(stream) is jpeg
    # A lower quality is a smaller, different image.
    rough = await snapshot_jpeg(stream, quality=10)
    assert len(rough) < len(jpeg)

    # After reconfiguration the snapshot has the new size, whatever the cache held.
    await stream.reconfigure(
        EncoderSettings(
            codec=VideoCodec.H265,
            width=256,
            height=144,
            fps=25,
            gop=10,
            profile=VideoProfile.MAIN10,
            loop_seconds=0.8,
        )
    )
    path.write_bytes(await snapshot_jpeg(stream))
    probe = ffprobe(path, "-show_streams")["streams"][0]
    assert (probe["width"], probe["height"]) == (256, 144)
    stream.close()


def make_file(path: Path, *extra: str) -> Path:
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
         "-t", "1.2", "-c:v", "libx264", "-g", "10", *extra, str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


async def test_file_stream_loops_an_mp4_as_annexb(tmp_path: Path) -> None:
    path = make_file(tmp_path / "clip.mp4", "-bf", "0")
    stream = await FileStream.open(path)
    description = stream.description
    assert (description.codec, description.width, description.height) == (
        VideoCodec.H264,
        320,
        240,
    )
    assert description.fps == 25
    assert [nal_type(ps, VideoCodec.H264) for ps in description.parameter_sets] == [7, 8]
    async with contextlib.aclosing(stream.subscribe()) as units:
        played = [await anext(units) for _ in range(35)]  # 1.2 s is 30 frames: it loops
    stream.close()
    assert played[0].keyframe
    assert [i for i, unit in enumerate(played) if unit.keyframe] == [0, 10, 20, 30]
    assert all(b.timestamp - a.timestamp == 3600 for a, b in itertools.pairwise(played))
    # The mp4's length-prefixed NALs came out as Annex B that ffprobe reads.
    probe = ffprobe(
        write_annexb(tmp_path / "played.h264", played), "-count_frames", "-show_streams"
    )
    assert probe["streams"][0]["nb_read_frames"] == "35"
    assert (probe["streams"][0]["width"], probe["streams"][0]["height"]) == (320, 240)


async def test_file_with_b_frames_is_refused(tmp_path: Path) -> None:
    path = make_file(tmp_path / "bframes.mp4", "-bf", "2")
    with pytest.raises(SourceError, match="has B-frames"):
        await FileStream.open(path)


async def test_idle_looping_costs_little_cpu() -> None:
    """Measure (print, don't assert) one 720p stream playing 5 s to three subscribers."""
    settings = EncoderSettings(width=1280, height=720, fps=25, gop=50)
    stream = await TestPatternStream.create(settings, "cpu")  # encoded before measuring

    async def consume() -> int:
        count = 0
        async with contextlib.aclosing(stream.subscribe()) as units:
            async for _ in units:
                count += 1
        return count

    cpu_before, wall_before = time.process_time(), time.monotonic()
    tasks = [asyncio.create_task(consume()) for _ in range(3)]
    await asyncio.sleep(5)
    stream.close()
    counts = await asyncio.gather(*tasks)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    print(
        f"\nidle-looping 720p25 to 3 subscribers: {cpu * 1000:.0f} ms CPU in {wall:.1f} s "
        f"({100 * cpu / wall:.2f} % of one core), units per subscriber {counts}"
    )
    # Everyone got the stream from its first keyframe on (at most one GOP of waiting).
    assert all(75 <= count <= 126 for count in counts)
