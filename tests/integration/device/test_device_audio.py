"""The reference device's sound over RTSP: ffprobe and our client see the AAC beep.

Every profile's stream carries, beside the H.264 video, an AAC-LC 48 kHz mono
track whose beep starts on each whole second of the wall clock (see
:mod:`platonicam.device.audio`); ``--no-audio`` (``audio=False``) leaves it out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import av
import pytest

from platonicam.device.runtime import DeviceRuntime
from platonicam.device.streams import TestPatternStreams
from platonicam.rtsp.client import RtspClient
from platonicam.rtsp.stream import AudioFrame
from tests.integration.device.test_cli_device import PASSWORD as CLI_PASSWORD
from tests.integration.device.test_cli_device import (
    free_port,
    read_until_ready,
    start_device,
    stop,
)
from tests.integration.rtsp.conftest import FFPROBE, run

PASSWORD = "audio-admin-secret"
PATH = "profile/Profile_1_main"
RATE = 48_000


def runtime(data_dir: Path, *, audio: bool = True) -> DeviceRuntime:
    return DeviceRuntime(
        data_dir, "127.0.0.1", 0, 0, discovery=False, admin_password=PASSWORD, audio=audio
    )


async def probe_streams(url: str) -> list[dict[str, object]]:
    """ffprobe's codec type, codec, sample rate and channels of every stream at ``url``."""
    result = await run(
        [
            FFPROBE,
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_entries",
            "stream=codec_type,codec_name,sample_rate,channels",
            "-of",
            "json",
            url,
        ],
        30,
    )
    assert result.returncode == 0, result.stderr
    streams: list[dict[str, object]] = json.loads(result.stdout)["streams"]
    return streams


async def test_ffprobe_lists_aac_at_48_khz_beside_h264(tmp_path: Path) -> None:
    async with runtime(tmp_path) as device:
        streams = await probe_streams(
            f"rtsp://admin:{PASSWORD}@127.0.0.1:{device.rtsp_port}/{PATH}"
        )
    kinds = {(s["codec_type"], s.get("codec_name")) for s in streams}
    assert ("video", "h264") in kinds
    (audio,) = [s for s in streams if s["codec_type"] == "audio"]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 1)


async def test_the_beep_arrives_on_whole_seconds_of_the_sender_clock(tmp_path: Path) -> None:
    frames: list[AudioFrame] = []
    async with (
        runtime(tmp_path) as device,
        RtspClient(
            f"rtsp://127.0.0.1:{device.rtsp_port}/{PATH}", "admin", PASSWORD, timeout=10
        ) as client,
    ):
        audio = client.audio
        assert audio is not None
        assert (audio.codec, audio.sample_rate, audio.channels) == ("AAC", RATE, 1)
        async for item in client.media():
            if isinstance(item, AudioFrame):
                frames.append(item)
            if len(frames) >= 3 * RATE // 1024:  # three seconds
                break
    steps = {b.timestamp - a.timestamp for a, b in itertools.pairwise(frames)}
    assert steps == {1024}
    # Decode what arrived and find where each beep starts (after 10 ms of quiet).
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = audio.config
    starts: list[float] = []
    for frame in frames[1:]:  # the first frame lacks its predecessor's overlap
        for pcm in decoder.decode(av.Packet(frame.data)):
            plane = memoryview(bytes(pcm.planes[0])[: pcm.samples * 4]).cast("f")
            starts.extend(frame.wallclock + i / RATE for i in range(len(plane)) if plane[i] > 0.05)
    onsets = [t for t, before in zip(starts[1:], starts, strict=False) if t - before > 0.01]
    onsets = [t for t in onsets if t > frames[0].wallclock + 1.0]  # after a sender report
    assert len(onsets) >= 1
    for onset in onsets:
        assert onset == pytest.approx(round(onset), abs=0.02)


async def test_a_device_without_audio_has_silent_streams(tmp_path: Path) -> None:
    async with runtime(tmp_path, audio=False) as device:
        streams = device.device.streams
        assert isinstance(streams, TestPatternStreams)
        assert streams.audio is None
        live = streams.stream("VideoEncoder_1_main")
        assert live is not None
        assert getattr(live, "audio", "missing") is None


async def test_the_cli_no_audio_option_leaves_the_aac_track_out(tmp_path: Path) -> None:
    port, rtsp_port = free_port(), free_port()
    process = start_device(
        tmp_path,
        "--no-audio",
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--rtsp-port",
        str(rtsp_port),
        "--no-discovery",
    )
    try:
        await asyncio.to_thread(read_until_ready, process)
        streams = await probe_streams(f"rtsp://admin:{CLI_PASSWORD}@127.0.0.1:{rtsp_port}/{PATH}")
    finally:
        assert await asyncio.to_thread(stop, process) == 0
    # The video (and the metadata track, which ffprobe lists as data), no audio.
    assert [s["codec_type"] for s in streams if s["codec_type"] != "data"] == ["video"]
    assert streams[0]["codec_name"] == "h264"
