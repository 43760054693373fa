"""The service's RTSP restream of a camera with sound: Debian's GStreamer RTSP server sends
H.264 + AAC as the demo camera's stream, and ffprobe finds both tracks in the restream."""

from __future__ import annotations

import array
import json
import math
from pathlib import Path

import pytest

from platonicam.service.restream import Restream
from tests.integration.media.gst import gst_server, needs_gstreamer
from tests.integration.media.live_service import live_service, run
from tests.integration.rtsp.conftest import wait_until

pytestmark = [pytest.mark.timeout(300), needs_gstreamer]


@pytest.fixture(autouse=True)
def _restream_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A free port (tests run side by side), and a short idle close so the test sees it.
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_PORT", "0")
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_IDLE_TIMEOUT", "1")


async def test_the_restream_carries_the_cameras_aac(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with gst_server("h264", 25, audio=True) as url:
        monkeypatch.setenv("PLATONICAM_MEDIA__CAMERAS", json.dumps({"demo": {"stream_url": url}}))
        async with live_service(tmp_path / "data") as service:
            reply = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
            assert reply.status_code == 200, reply.text
            rtsp = str(reply.json()["rtsp"])
            code, out, err = await run(
                "ffprobe", "-v", "error", "-rtsp_transport", "tcp",
                "-show_entries", "stream=codec_type,codec_name,sample_rate,channels,width,height",
                "-of", "json", rtsp, timeout=90,
            )  # fmt: skip
            assert code == 0, err
            streams = {s["codec_type"]: s for s in json.loads(out)["streams"]}
            assert set(streams) == {"video", "audio"}
            # The GStreamer camera's picture and sound, not the demo device's.
            video, audio = streams["video"], streams["audio"]
            assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 180)
            assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == (
                "aac",
                "48000",
                2,
            )
            # 3 s of the sound, decoded by ffmpeg without a complaint: the camera's tone.
            # (The video is not decoded here: this GStreamer camera's keyframes make FFmpeg
            # warn about a repeated timestamp, straight from the camera as through us.)
            pcm = tmp_path / "sound.pcm"
            code, _, err = await run(
                "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", rtsp,
                "-map", "0:a", "-t", "3", "-f", "s16le", "-y", str(pcm), timeout=90,
            )  # fmt: skip
            assert code == 0, err
            assert err.strip() == ""
            samples = array.array("h", pcm.read_bytes())
            assert len(samples) >= int(2.5 * 48_000 * 2)  # 2.5 s or more of stereo
            rms = math.sqrt(sum(x * x for x in samples) / len(samples))
            assert rms > 3000, rms  # a loud sine, not silence
            # The viewers left: the restream lets go of the camera (audio included).
            restream = service.app.state.restream
            assert isinstance(restream, Restream)
            await wait_until(lambda: restream.server.mounted == frozenset(), 30)
