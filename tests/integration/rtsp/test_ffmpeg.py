"""Our RTSP server against independent players: Debian's ffprobe and ffmpeg, on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import VideoCodec
from tests.integration.rtsp.conftest import FFMPEG, FFPROBE, ffprobe_stream, run, wait_until
from tests.integration.rtsp.pattern import PatternStream

pytestmark = pytest.mark.skipif(
    not (Path(FFPROBE).exists() and Path(FFMPEG).exists()), reason="Debian ffmpeg is not installed"
)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize(
    ("codec", "codec_name"), [(VideoCodec.H264, "h264"), (VideoCodec.H265, "hevc")]
)
async def test_ffprobe_sees_codec_size_and_rate(
    codec: VideoCodec, codec_name: str, transport: str
) -> None:
    stream = PatternStream(codec, width=320, height=240, fps=25)
    async with RtspServer() as server:
        server.mount("cameras/demo", stream)
        info = await ffprobe_stream(server.url("cameras/demo"), transport)
    assert info == {
        "codec_name": codec_name,
        "width": 320,
        "height": 240,
        "avg_frame_rate": "25/1",
    }
    assert stream.subscriptions == 1


async def test_ffmpeg_records_five_seconds(server: RtspServer, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    recorded = await run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-i",
            server.url("cam"),
            "-t",
            "5",
            "-c",
            "copy",
            str(out),
        ],
        timeout=30,
    )
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stderr == ""
    probed = await run(
        [
            FFPROBE,
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames:format=duration",
            "-of",
            "json",
            str(out),
        ],
        timeout=30,
    )
    assert probed.returncode == 0, probed.stderr
    report = json.loads(probed.stdout)
    [video] = report["streams"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert float(report["format"]["duration"]) == pytest.approx(5.0, abs=0.25)
    assert int(video["nb_read_frames"]) == pytest.approx(125, abs=4)


async def test_digest_auth(h264_stream: PatternStream) -> None:
    users = {"admin": "s3cret"}
    async with RtspServer(authenticator=users.get) as server:
        server.mount("cam", h264_stream)
        url = server.url("cam")
        wrong = url.replace("rtsp://", "rtsp://admin:nope@")
        refused = await run([FFPROBE, "-v", "error", "-rtsp_transport", "tcp", wrong], timeout=20)
        assert refused.returncode != 0
        assert "401 Unauthorized" in refused.stderr
        anonymous = await run([FFPROBE, "-v", "error", "-rtsp_transport", "tcp", url], timeout=20)
        assert "401 Unauthorized" in anonymous.stderr
        right = url.replace("rtsp://", "rtsp://admin:s3cret@")
        info = await ffprobe_stream(right, "tcp")
        assert info["codec_name"] == "h264"


async def test_three_clients_share_one_subscription(
    server: RtspServer, h264_stream: PatternStream
) -> None:
    url = server.url("cam")
    results = await asyncio.gather(
        ffprobe_stream(url, "tcp"), ffprobe_stream(url, "udp"), ffprobe_stream(url, "tcp")
    )
    assert [r["codec_name"] for r in results] == ["h264"] * 3
    assert h264_stream.subscriptions == 1
    assert h264_stream.active == 1


async def test_killed_client_leaves_the_others_running(
    server: RtspServer, h264_stream: PatternStream, tmp_path: Path
) -> None:
    url = server.url("cam")
    victim = await asyncio.create_subprocess_exec(
        FFMPEG, "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url,
        "-t", "30", "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out = tmp_path / "survivor.mp4"
    survivor = asyncio.ensure_future(
        run(
            [
                FFMPEG, "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
                "-i", url, "-t", "4", "-c", "copy", str(out),
            ],
            timeout=30,
        )
    )  # fmt: skip
    try:
        await wait_until(lambda: len(server.session_ids) == 2, 15)
        await asyncio.sleep(1.0)
        victim.send_signal(signal.SIGKILL)
        await asyncio.wait_for(victim.wait(), 10)
        await wait_until(lambda: len(server.session_ids) == 1, 5)
        result = await survivor
    finally:
        if victim.returncode is None:
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    probed = await run(
        [
            FFPROBE, "-v", "error", "-count_frames", "-select_streams", "v:0",
            "-show_entries", "stream=nb_read_frames", "-of", "json", str(out),
        ],
        timeout=30,
    )  # fmt: skip
    assert int(json.loads(probed.stdout)["streams"][0]["nb_read_frames"]) == pytest.approx(
        100, abs=4
    )
    assert h264_stream.subscriptions == 1
