"""The service's RTSP restream (``rtsp://host:port/cameras/{id}?token=``) against the
embedded reference device on loopback, read by independent players: ffprobe, ffmpeg and
GStreamer's rtspsrc."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
import websockets

from platonicam.media.ingest import Ingest
from platonicam.media.tokens import MediaTokens
from platonicam.service.restream import Restream
from platonicam.store.secrets import JWT_SECRET_FILE, generate_token_secret, read_or_create_secret
from tests.conftest import FakeClock
from tests.integration.media.gst import SYSTEM_PYTHON
from tests.integration.media.live_service import LiveService, live_service, run
from tests.integration.rtsp.conftest import wait_until
from tests.integration.rtsp.rawclient import RawRtspClient

pytestmark = pytest.mark.timeout(300)

GST_PLAY = str(Path(__file__).with_name("gst_rtsp_play.py"))
PROBE = ("-show_entries", "stream=codec_name,width,height,avg_frame_rate,r_frame_rate")


@pytest.fixture(autouse=True)
def _restream_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A free port (tests run side by side), and a short idle close so the test sees it.
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_PORT", "0")
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_IDLE_TIMEOUT", "1")


def restream_of(service: LiveService) -> Restream:
    restream = service.app.state.restream
    assert isinstance(restream, Restream)
    return restream


def ingest_of(service: LiveService) -> Ingest:
    hub = service.app.state.media.gateway.opened("demo")
    assert hub is not None
    assert isinstance(hub.source, Ingest)
    return hub.source


def device_sessions(service: LiveService) -> int:
    # The embedded device's RTSP server: how many sessions the service holds to the camera.
    return len(service.app.state.demo.runtime._live().rtsp.session_ids)


async def stream_list(service: LiveService) -> dict[str, object]:
    reply = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


async def stream_stats(service: LiveService) -> dict[str, object]:
    reply = await service.client.get("/api/cameras/demo/stream/stats", headers=service.headers)
    assert reply.status_code == 200, reply.text
    stats: dict[str, object] = reply.json()
    return stats


async def ffprobe(url: str) -> dict[str, object]:
    code, out, err = await run(
        "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
        *PROBE, "-of", "json", url, timeout=90,
    )  # fmt: skip
    assert code == 0, err
    stream: dict[str, object] = json.loads(out)["streams"][0]
    return stream


@contextlib.asynccontextmanager
async def rtsp_viewer(url: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """ffmpeg reading the stream (over TCP) until the block ends; killed, not asked to stop."""
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url,
        "-c", "copy", "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


async def test_restream_is_read_by_ffprobe_ffmpeg_and_gstreamer(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        restream = restream_of(service)
        urls = await stream_list(service)
        rtsp = str(urls["rtsp"])
        token = str(urls["token"])
        query = urllib.parse.urlencode({"token": token})
        assert rtsp == f"rtsp://127.0.0.1:{restream.port}/cameras/demo?{query}"
        # The viewer never sees where the camera is or its password.
        text = json.dumps(urls)
        assert service.demo_password not in text
        assert f":{service.app.state.demo.runtime.rtsp_port}/" not in text
        assert restream.server.mounted == frozenset()  # nothing is served before it is asked

        restreamed = await ffprobe(rtsp)
        # The camera itself (with its password, which only the test knows) says the same.
        camera_url = ingest_of(service).url.replace(
            "rtsp://", f"rtsp://admin:{service.demo_password}@"
        )
        assert restreamed == await ffprobe(camera_url)
        assert restreamed["codec_name"] == "h264"
        assert (restreamed["width"], restreamed["height"]) == (1920, 1080)
        assert restreamed["avg_frame_rate"] == "25/1"

        recording = tmp_path / "five-seconds.mp4"
        code, _, err = await run(
            "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", rtsp,
            "-t", "5", "-c", "copy", "-y", str(recording), timeout=90,
        )  # fmt: skip
        assert code == 0, err
        assert err.strip() == ""
        with av.open(str(recording)) as container:
            video = container.streams.video[0]
            duration = float(container.duration or 0) / av.time_base
            frames = sum(1 for packet in container.demux(video) if packet.size)
            assert (video.codec_context.width, video.codec_context.height) == (1920, 1080)
        assert 4.5 <= duration <= 5.5
        assert 110 <= frames <= 140  # 25 fps

        code, out, err = await run(
            SYSTEM_PYTHON, GST_PLAY, rtsp, "--frames", "50", "--timeout", "90", timeout=120
        )
        assert code == 0, out + err
        assert json.loads(out) == {"frames": 50, "width": 1920, "height": 1080, "framerate": "25/1"}

        # Every player left: the restream lets go of the camera's feed.
        await wait_until(lambda: restream.server.mounted == frozenset(), 30)
        assert restream.server.connection_count == 0
        ingest = ingest_of(service)
        await wait_until(lambda: ingest.viewers == 1, 10)  # the gateway's hub alone


async def test_one_camera_connection_for_every_viewer_and_no_strangers(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        restream = restream_of(service)
        server = restream.server
        urls = await stream_list(service)
        rtsp = str(urls["rtsp"])

        async with websockets.connect(str(urls["mse"]), max_size=2**24) as mse:
            assert json.loads(await mse.recv())["type"] == "init"

            async def watch() -> None:
                async for _ in mse:
                    pass

            watching = asyncio.get_running_loop().create_task(watch())
            async with rtsp_viewer(rtsp) as first, rtsp_viewer(rtsp) as second:
                await wait_until(lambda: len(server.session_ids) == 2, 60)
                await asyncio.sleep(1.0)
                assert first.returncode is None
                assert second.returncode is None
                # Two RTSP clients and an MSE viewer: one session with the camera, and the
                # feed read by two subscribers (the gateway's hub, the restream's mount).
                assert device_sessions(service) == 1
                assert ingest_of(service).viewers == 2
                assert server.subscribed == frozenset({"cameras/demo"})
                # The stats count everyone: the MSE viewer and both RTSP clients.
                stats = await stream_stats(service)
                assert (stats["rtsp_viewers"], stats["mse_viewers"]) == (2, 1)
                assert stats["viewers"] == 3

                await refusals(service, restream)
                assert len(server.session_ids) == 2  # refusals touched nobody's session

                # A client that vanishes mid-stream (no TEARDOWN) leaves nothing behind.
                first.send_signal(signal.SIGKILL)
                await wait_until(lambda: len(server.session_ids) == 1, 15)
                assert server.connection_count == 1
                assert (await stream_stats(service))["rtsp_viewers"] == 1
                second.send_signal(signal.SIGKILL)
                await wait_until(lambda: not server.session_ids, 15)
                assert server.connection_count == 0
                stats = await stream_stats(service)
                assert (stats["rtsp_viewers"], stats["viewers"]) == (0, 1)

            # After the idle timeout the restream unsubscribes and unmounts; the MSE viewer
            # keeps the camera's one connection.
            await wait_until(lambda: server.mounted == frozenset(), 30)
            ingest = ingest_of(service)
            await wait_until(lambda: ingest.viewers == 1, 10)
            assert device_sessions(service) == 1
            assert not watching.done()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching


async def refusals(service: LiveService, restream: Restream) -> None:
    """Wrong, expired, other-camera and missing tokens are 401; an unknown camera is 404."""
    base = f"rtsp://127.0.0.1:{restream.port}/cameras/demo"
    tokens = service.app.state.media.tokens
    token = tokens.issue("demo", "admin")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    secret = read_or_create_secret(
        service.app.state.context.settings.data_dir / JWT_SECRET_FILE, generate_token_secret
    )
    past = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    expired = MediaTokens(secret, past, seconds=60).issue("demo", "admin")
    assert MediaTokens(secret, past).verify(expired, "demo").user == "admin"  # a real token
    other = tokens.issue("another-camera", "admin")
    async with RawRtspClient("127.0.0.1", restream.port) as client:
        for wrong, reason in (
            (forged, "signature"),
            (expired, "expired"),
            (other, "another camera"),
            ("", None),
        ):
            uri = f"{base}?token={wrong}" if wrong else base
            reply = await client.request("DESCRIBE", uri)
            assert reply.status == 401, wrong
            challenge = reply.headers.get("WWW-Authenticate") or ""
            assert challenge.startswith('Bearer realm="PlatoniCam"')
            if reason is not None:
                assert 'error="invalid_token"' in challenge
                assert reason in challenge
        unknown = await client.request(
            "DESCRIBE", f"rtsp://127.0.0.1:{restream.port}/cameras/nope?token={token}"
        )
        assert unknown.status == 404
        assert (await client.request("DESCRIBE", f"{base}/trackID=0?token={token}")).status == 404
    # And as an independent client reports them.
    code, _, err = await run("ffprobe", "-v", "error", f"{base}?token={forged}", timeout=60)
    assert code != 0
    assert "401 Unauthorized" in err
    code, _, err = await run(
        "ffprobe", "-v", "error", f"rtsp://127.0.0.1:{restream.port}/cameras/nope", timeout=60
    )
    assert code != 0
    assert "404 Not Found" in err
