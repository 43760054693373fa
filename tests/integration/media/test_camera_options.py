"""Per-camera media options (``media.cameras``) in the running service, against the embedded
reference device on loopback: always on, PyAV ingest, RTSP over UDP, and bad options refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import websockets
from typer.testing import CliRunner

from platonicam.cli.main import app
from platonicam.config import ConfigError, load_settings
from tests.integration.media.live_service import LiveService, live_service, run

pytestmark = pytest.mark.timeout(240)

CAMERAS = "PLATONICAM_MEDIA__CAMERAS"


async def stats_when(service: LiveService, state: str, timeout: float = 60) -> dict[str, Any]:
    """The demo camera's stream stats once its state is ``state``."""
    async with asyncio.timeout(timeout):
        while True:
            reply = await service.client.get(
                "/api/cameras/demo/stream/stats", headers=service.headers
            )
            assert reply.status_code == 200, reply.text
            stats: dict[str, Any] = reply.json()
            if stats["state"] == state:
                return stats
            await asyncio.sleep(0.1)


def udp_ports_of_this_process() -> set[int]:
    """Local ports of this process's UDP sockets on 127.0.0.1 (from /proc: no helper needed)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone already
            if socket := re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/self/fd/{fd}")):
                inodes.add(socket[1])
    ports = set()
    with open("/proc/self/net/udp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if address == "0100007F" and fields[9] in inodes:
                ports.add(int(port, 16))
    return ports


async def test_an_always_on_pyav_camera_is_live_for_nobody_and_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAMERAS, json.dumps({"demo": {"always_on": True, "ingest": "pyav"}}))
    monkeypatch.setenv("PLATONICAM_MEDIA__IDLE_TIMEOUT", "0.5")
    async with live_service(tmp_path / "data") as service:
        # Nobody asked for video: the service opened the camera when it started.
        stats = await stats_when(service, "live")
        assert (stats["ingest"], stats["transport"], stats["always_on"]) == ("pyav", "tcp", True)
        assert stats["viewers"] == 0
        hub = service.app.state.media.gateway.opened("demo")
        assert hub is not None
        # Well past the idle timeout (and the reaper's 1 s rounds), still open, the same hub.
        await asyncio.sleep(1.5)
        later = await stats_when(service, "live", timeout=1)
        assert service.app.state.media.gateway.opened("demo") is hub
        assert later["reconnects"] == 0
        assert later["bytes_in"] > stats["bytes_in"]

        # The FFmpeg-read stream is served like any other: an independent player reads it.
        urls = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        code, out, err = await run(
            "ffprobe", "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=codec_name,width,height", "-of", "json",
            urls.json()["hls"]["low_latency"], timeout=60,
        )  # fmt: skip
        assert code == 0, err
        probed = json.loads(out)["streams"][0]
        assert (probed["codec_name"], probed["width"], probed["height"]) == ("h264", 1920, 1080)


async def test_a_udp_camera_plays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAMERAS, '{"demo": {"transport": "udp"}}')
    async with live_service(tmp_path / "data") as service:
        idle = await stats_when(service, "idle", timeout=5)
        assert (idle["ingest"], idle["transport"], idle["always_on"]) == ("rtsp", "udp", False)
        before = udp_ports_of_this_process()
        urls = (
            await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        ).json()
        async with websockets.connect(urls["mse"], max_size=2**24) as ws:
            head = json.loads(await asyncio.wait_for(ws.recv(), 60))
            assert head["type"] == "init"
            assert head["mime"].startswith('video/mp4; codecs="avc1.64')
            frames = [await asyncio.wait_for(ws.recv(), 30) for _ in range(26)]
            assert all(isinstance(frame, bytes) for frame in frames)
            assert {frame[36:40] for frame in frames[1:]} == {b"moof"}
            stats = await stats_when(service, "live", timeout=5)
            assert stats["fps"] > 0
            # RTP over UDP for real: the ingest's RTP/RTCP pair and the device's are bound
            # on loopback (over TCP they would not exist: there is no quiet fallback).
            assert len(udp_ports_of_this_process() - before) >= 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"demo": {"ingest": "ffmpeg"}}', "media.cameras.demo.ingest: Input should be 'rtsp' or"),
        ('{"demo": {"transport": "sctp"}}', "media.cameras.demo.transport: Input should be 'tcp'"),
        (
            '{"demo": {"alwayson": true}}',
            "media.cameras.demo.alwayson: unknown setting (check the spelling",
        ),
        ('{"demo": "pyav"}', "media.cameras.demo: Value error, must be a table of options"),
        ('{"demo": {"always_on": tru}}', "not valid JSON: Expecting value: line 1 column 24"),
        (
            '{"demo": {"stream_url": "http://cam.example/live"}}',
            "media.cameras.demo.stream_url: Value error, must be an rtsp:// or rtsps:// URL",
        ),
        (
            '{"demo": {"stream_url": "rtsp://admin:secret@cam.example/live"}}',
            "media.cameras.demo.stream_url: Value error, must not carry a user or password",
        ),
    ],
)
def test_a_bad_camera_option_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv(CAMERAS, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None, data_dir=tmp_path)
    [line] = [line for line in str(caught.value).splitlines() if message in line]
    assert f"environment variable {CAMERAS}: " in line
    assert "secret" not in str(caught.value)  # a password in a refused URL is not echoed


def test_serve_refuses_to_start_with_a_bad_camera_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["serve", "--data-dir", str(tmp_path), "--port", "0"],
        env={CAMERAS: '{"front-door": {"always_on": true, "ingest": "gstreamer"}}'},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"environment variable {CAMERAS}: media.cameras.front-door.ingest: "
        "Input should be 'rtsp' or 'pyav'"
    ) in result.output
    assert not (tmp_path / "platonicam.db").exists()  # refused before touching anything
