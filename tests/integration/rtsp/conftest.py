"""Fixtures for RTSP integration tests: test-pattern streams, a server, subprocess helpers."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import pytest

from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import VideoCodec
from tests.integration.rtsp.pattern import PatternStream

FFPROBE = "/usr/bin/ffprobe"
FFMPEG = "/usr/bin/ffmpeg"


@dataclass(frozen=True, slots=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run(args: Sequence[str], timeout: float) -> Completed:
    """Run a subprocess to completion, killing it (and failing the test) after ``timeout`` s."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.send_signal(signal.SIGKILL)
        await process.communicate()
        pytest.fail(f"{args[0]} did not finish within {timeout} s: {' '.join(args)}")
    assert process.returncode is not None
    return Completed(process.returncode, out.decode(), err.decode())


async def ffprobe_stream(url: str, transport: str, timeout: float = 30) -> dict[str, object]:
    """ffprobe's view of the first video stream at ``url`` (the brief's exact command line)."""
    result = await run(
        [
            FFPROBE,
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,avg_frame_rate",
            "-of",
            "json",
            url,
        ],
        timeout,
    )
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert len(streams) == 1
    stream: dict[str, object] = streams[0]
    return stream


@pytest.fixture
def h264_stream() -> PatternStream:
    return PatternStream(VideoCodec.H264)


@pytest.fixture
def h265_stream() -> PatternStream:
    return PatternStream(VideoCodec.H265)


@pytest.fixture
async def server(h264_stream: PatternStream) -> AsyncIterator[RtspServer]:
    async with RtspServer() as rtsp:
        rtsp.mount("cam", h264_stream)
        yield rtsp


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    """Poll ``predicate`` every 20 ms until true; fail the test after ``timeout`` s."""
    async with asyncio.timeout(timeout):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)
