"""The media gateway in the running service against the embedded reference device (loopback):
independent players (ffprobe, ffmpeg, a WebSocket client) read what it serves."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from pathlib import Path

import av
import pytest
import websockets

from tests.integration.media.live_service import LiveService, live_service, run

pytestmark = pytest.mark.timeout(240)


async def stream_urls(service: LiveService) -> dict[str, object]:
    reply = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


async def test_hls_is_read_by_ffprobe_and_recorded_by_ffmpeg(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        urls = await stream_urls(service)
        text = json.dumps(urls)
        # The viewer never sees where the camera is or its password.
        assert service.demo_password not in text
        # (The restream's own rtsp:// URL is listed; the camera's RTSP port never is.)
        assert f":{service.app.state.demo.runtime.rtsp_port}/" not in text
        hls = urls["hls"]
        assert isinstance(hls, dict)
        low_latency = hls["low_latency"]
        assert low_latency.startswith(f"{service.base}/api/cameras/demo/hls/index.m3u8?token=")

        code, out, err = await run(
            "ffprobe", "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=codec_name,width,height,avg_frame_rate,r_frame_rate",
            "-of", "json", low_latency, timeout=60,
        )  # fmt: skip
        assert code == 0, err
        probed = json.loads(out)["streams"][0]
        assert probed["codec_name"] == "h264"
        assert (probed["width"], probed["height"]) == (1920, 1080)
        assert probed["r_frame_rate"] == "25/1"

        recording = tmp_path / "ten-seconds.mp4"
        code, _, err = await run(
            "ffmpeg", "-v", "error", "-nostdin", "-i", hls["plain"], "-t", "10",
            "-c", "copy", "-y", str(recording), timeout=90,
        )  # fmt: skip
        assert code == 0, err
        assert err.strip() == ""
        with av.open(str(recording)) as container:
            video = container.streams.video[0]
            duration = float(container.duration or 0) / av.time_base
            frames = sum(1 for _ in container.demux(video) if _.size)
        assert 9.5 <= duration <= 10.5
        assert 230 <= frames <= 260  # 25 fps

        stats = (
            await service.client.get("/api/cameras/demo/stream/stats", headers=service.headers)
        ).json()
        assert stats["state"] == "live"
        assert stats["reason"] is None
        assert 20 <= stats["fps"] <= 30
        assert stats["bitrate_bps"] > 100_000
        assert stats["bytes_out"] > 0
        assert stats["muxed"] == stats["parts"]
        assert (stats["width"], stats["height"]) == (1920, 1080)
        assert service.demo_password not in json.dumps(stats)


async def test_blocking_reload_tokens_mse_and_snapshot(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        urls = await stream_urls(service)
        client = service.client
        token = str(urls["token"])
        playlist_path = f"/api/cameras/demo/hls/index.m3u8?token={token}"

        # Media endpoints: a media token for this camera or a session, nothing else.
        assert (await client.get("/api/cameras/demo/hls/index.m3u8")).status_code == 401
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (
            await client.get(f"/api/cameras/demo/hls/index.m3u8?token={forged}")
        ).status_code == 401
        # A media token is not a session: the REST API refuses it.
        assert (
            await client.get("/api/cameras", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401

        first = await client.get(playlist_path)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert first.headers["cache-control"] == "no-cache"
        text = first.text
        assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" in text
        hint = re.search(
            r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)-(\d+)\.(\d+)\.m4s\?token=', text
        )
        assert hint is not None
        epoch, msn, part = (int(g) for g in hint.groups())
        # Ask for the hinted part: the answer waits for it, then lists it.
        loop = asyncio.get_running_loop()
        started = loop.time()
        blocked = await client.get(f"{playlist_path}&_HLS_msn={msn}&_HLS_part={part}")
        waited = loop.time() - started
        assert blocked.status_code == 200
        assert f'URI="p{epoch}-{msn}.{part}.m4s?token=' in blocked.text
        assert blocked.headers["cache-control"] == "max-age=60"
        assert waited < 2.0
        # Too far ahead: 400 at once.
        far = await client.get(f"{playlist_path}&_HLS_msn={msn + 10}")
        assert far.status_code == 400
        # The part is served from memory, immutable.
        media = await client.get(f"/api/cameras/demo/hls/p{epoch}-{msn}.{part}.m4s?token={token}")
        assert media.status_code == 200
        assert media.content[4:8] == b"moof"
        assert media.headers["cache-control"] == "max-age=31536000, immutable"
        init = await client.get(f"/api/cameras/demo/hls/init.mp4?token={token}")
        assert init.content[4:8] == b"ftyp"

        # A session works too; the URIs inside then carry a fresh media token for it.
        with_session = await client.get("/api/cameras/demo/hls/index.m3u8", headers=service.headers)
        assert with_session.status_code == 200
        inner = re.search(r'URI="init-\d+\.mp4\?token=([^"]+)"', with_session.text)
        assert inner is not None
        assert inner[1] != token
        master = await client.get(str(urls["hls"]["multivariant"]))  # type: ignore[index]
        assert master.status_code == 200
        assert 'CODECS="avc1.64' in master.text
        assert "RESOLUTION=1920x1080" in master.text
        assert f"index.m3u8?token={token}" in master.text

        # MSE over WebSocket: codec JSON, init segment, then one prft+moof+mdat per frame.
        mse = str(urls["mse"])
        assert mse.startswith("ws://127.0.0.1:")
        async with websockets.connect(mse, max_size=2**24) as ws:
            head = json.loads(await ws.recv())
            assert head["type"] == "init"
            assert head["mime"].startswith('video/mp4; codecs="avc1.64')
            init_segment = await ws.recv()
            assert isinstance(init_segment, bytes)
            assert init_segment[4:8] == b"ftyp"
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            assert (frame[4:8], frame[36:40], frame[104:108]) == (b"prft", b"moof", b"trun")
            # Starts at once, on a cached keyframe: the sample's flags say sync.
            assert frame[128:132] == bytes.fromhex("02000000")
            # The prft's NTP time is the device's capture stamp: now minus it is the
            # latency so far.
            ntp = int.from_bytes(frame[16:24], "big")
            latency = time.time() - ((ntp >> 32) - 2_208_988_800 + (ntp & 0xFFFF_FFFF) / 2**32)
            assert -0.5 < latency < 5.0
            stats = (await client.get(f"/api/cameras/demo/stream/stats?token={token}")).json()
            assert stats["mse_viewers"] == 1
            assert stats["viewers"] >= 2  # this socket and the HLS client above

        # A WebSocket without a token is refused.
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(mse.split("?")[0]):
                pass

        snapshot = await client.get(str(urls["snapshot"]))
        assert snapshot.status_code == 200
        assert snapshot.headers["content-type"] == "image/jpeg"
        with av.open(io.BytesIO(snapshot.content), mode="r") as picture:
            frame = next(picture.decode(video=0))
        assert (frame.width, frame.height) == (1920, 1080)
