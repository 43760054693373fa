"""The RTSP restream's settings and its place in the stream list (the service over ASGI; the
restream itself on a loopback port, talked to with our raw RTSP client)."""

from __future__ import annotations

import logging
import socket
import urllib.parse
from pathlib import Path

import pytest

from platonicam.config import ConfigError, load_settings
from platonicam.service.restream import Restream
from platonicam.store.records import NewCamera
from tests.integration.rtsp.rawclient import RawRtspClient
from tests.integration.service.foundation import Service, running, settings_for

#: A camera nobody answers for (port 1 on loopback refuses connections at once).
UNREACHABLE = NewCamera(name="Porch", host="127.0.0.1", port=1, id="porch-1")


async def stream_list(service: Service, camera_id: str) -> dict[str, object]:
    headers = await service.headers_for("admin")
    reply = await service.client.get(f"/api/cameras/{camera_id}/stream", headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


def test_media_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().media.rtsp_port == 8554
    assert load_settings().media.rtsp_enabled is True
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_PORT", "0")
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_ENABLED", "false")
    settings = load_settings()
    assert (settings.media.rtsp_port, settings.media.rtsp_enabled) == (0, False)
    monkeypatch.setenv("PLATONICAM_MEDIA__RTSP_PORT", "70000")
    with pytest.raises(ConfigError, match="rtsp_port"):
        load_settings()


async def test_stream_list_names_the_restream_and_strangers_are_refused(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path / "data", media={"rtsp_port": 0})) as service:
        await service.context.cameras.create(UNREACHABLE)
        restream = service.app.state.restream
        assert isinstance(restream, Restream)
        body = await stream_list(service, "porch-1")
        query = urllib.parse.urlencode({"token": body["token"]})
        # The host the API was reached at, the restream's port, the camera's media token.
        assert body["rtsp"] == f"rtsp://platonicam:{restream.port}/cameras/porch-1?{query}"

        base = f"rtsp://127.0.0.1:{restream.port}/cameras"
        async with RawRtspClient("127.0.0.1", restream.port) as client:
            assert (await client.request("DESCRIBE", f"{base}/porch-1")).status == 401
            assert (await client.request("DESCRIBE", f"{base}/nope?{query}")).status == 404
            assert (await client.request("DESCRIBE", f"{base}?{query}")).status == 404
            # The camera does not answer: 503 at once, not a hang (and the next viewer retries).
            reply = await client.request("DESCRIBE", f"{base}/porch-1?{query}", timeout=30)
            assert reply.status == 503


async def test_restream_disabled_or_port_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    disabled = settings_for(tmp_path / "one", media={"rtsp_enabled": False})
    async with running(disabled) as service:
        await service.context.cameras.create(UNREACHABLE)
        assert service.app.state.restream is None
        assert (await stream_list(service, "porch-1"))["rtsp"] is None

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = settings_for(tmp_path / "two", media={"rtsp_port": port})
        with caplog.at_level(logging.ERROR, logger="platonicam.service.restream"):
            async with running(busy) as service:
                # The rest of the service runs; the list just has no RTSP URL.
                await service.context.cameras.create(UNREACHABLE)
                assert (await stream_list(service, "porch-1"))["rtsp"] is None
        assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
        assert "PLATONICAM_MEDIA__RTSP_PORT" in caplog.text
