"""``[media] idle_timeout`` in the running service: the gateway lets go of a camera that
many seconds after its last viewer left (the media benchmark's cold start relies on it),
and a value it cannot take is refused with the setting's name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets

from platonicam.config import ConfigError, load_settings
from tests.integration.media.live_service import LiveService, live_service

pytestmark = pytest.mark.timeout(240)


async def _state(service: LiveService) -> str:
    reply = await service.client.get("/api/cameras/demo/stream/stats", headers=service.headers)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["state"])


async def test_the_camera_is_let_go_after_the_idle_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATONICAM_MEDIA__IDLE_TIMEOUT", "3")
    async with live_service(tmp_path / "data") as service:
        assert service.app.state.media.gateway.idle_timeout == 3.0
        assert await _state(service) == "idle"
        urls = (
            await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        ).json()
        # max_queue=None: frames keep coming while the test sleeps; a bounded client queue
        # would stop reading them, and then its closing handshake waits out close_timeout.
        async with websockets.connect(urls["mse"], max_size=2**24, max_queue=None) as ws:
            for _ in range(3):  # the init message, its segment, the first frame
                await asyncio.wait_for(ws.recv(), 60)
            # Watched: open however long the viewer stays (the reaper looks every second),
            # here longer than the idle timeout.
            await asyncio.sleep(4.0)
            assert await _state(service) == "live"
        # The idle period starts when the viewer leaves, not when it came.
        await asyncio.sleep(1.0)
        assert await _state(service) == "live"
        # Gone: closed after 3 s and the reaper's next round, far before the default 30 s.
        async with asyncio.timeout(20):
            while True:
                if await _state(service) == "idle":
                    break
                await asyncio.sleep(0.1)
        assert service.app.state.media.gateway.opened("demo") is None


def test_a_negative_idle_timeout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATONICAM_MEDIA__IDLE_TIMEOUT", "-1")
    with pytest.raises(ConfigError) as refused:
        load_settings(None, data_dir=tmp_path)
    assert "PLATONICAM_MEDIA__IDLE_TIMEOUT" in str(refused.value)
    assert "media.idle_timeout" in str(refused.value)
