"""Discover, add, read and reboot cameras through the REST API, against real reference devices.

Every device is the real one on 127.0.0.1; the service reaches it over HTTP
with WS-Security/Digest exactly as it would reach a camera on the LAN. Every
test runs on both database backends, SQLite and PostgreSQL (the
``database_url`` fixture, conftest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.service.api import (
    DEVICE_PASSWORD,
    DEVICE_USER,
    Api,
    LightDevice,
    api_settings,
    light_device,
    running_api,
    runtime_device,
)

PROBLEM = "application/problem+json"


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    """The service on a fresh database, once per backend (see conftest)."""
    async with running_api(api_settings(tmp_path / "service", database_url)) as started:
        yield started


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[LightDevice]:
    started = await light_device(tmp_path / "device")
    yield started
    await started.stop()


async def add(api: Api, port: int, password: str = DEVICE_PASSWORD) -> dict[str, object]:
    response = await api.client.post(
        "/api/cameras",
        json={
            "name": "Hall",
            "ip": "127.0.0.1",
            "port": port,
            "username": DEVICE_USER,
            "password": password,
        },
        headers=await api.admin_headers(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_discover_by_unicast_then_add_by_discovery_id(tmp_path: Path, api: Api) -> None:
    async with runtime_device(tmp_path / "device") as device:
        api.context.discovery.only_unicast(f"127.0.0.1:{device.discovery_port}")
        headers = await api.admin_headers()
        found = await api.client.get("/api/discover?timeout=1.5&max_cameras=5", headers=headers)
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["foundCameras"] == 1
        assert 0 < body["scanDuration"] <= 3
        (camera,) = body["cameras"]
        assert camera["id"] == device.state.device.identity.endpoint_uuid
        assert (camera["ip"], camera["port"]) == ("127.0.0.1", device.port)
        assert camera["model"] == "Reference Camera"
        assert camera["xaddrs"] == [device.url()]
        assert camera["registered_camera_id"] is None
        assert "discovered_at" in camera

        added = await api.client.post(
            "/api/cameras",
            json={
                "discoveryId": camera["id"],
                "username": DEVICE_USER,
                "password": DEVICE_PASSWORD,
            },
            headers=headers,
        )
        assert added.status_code == 201, added.text
        registered = added.json()
        assert (registered["ip"], registered["port"]) == ("127.0.0.1", device.port)
        assert registered["manufacturer"] == "PlatoniCam"
        assert registered["hasPassword"] is True
        assert "password" not in registered

        again = await api.client.get("/api/discover?timeout=1", headers=headers)
        assert again.json()["cameras"][0]["registered_camera_id"] == registered["id"]
    assert api.refused == []


async def test_a_wrong_camera_password_is_refused_and_nothing_stored(
    api: Api, device: LightDevice
) -> None:
    headers = await api.admin_headers()
    response = await api.client.post(
        "/api/cameras",
        json={
            "ip": "127.0.0.1",
            "port": device.port,
            "username": DEVICE_USER,
            "password": "wrong-password-31337",
        },
        headers=headers,
    )
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "camera-auth"
    assert problem["title"] == "Camera refused the credentials"
    assert problem["detail"].startswith(f"Camera 127.0.0.1:{device.port} refused")
    assert "wrong-password-31337" not in response.text
    listed = await api.client.get("/api/cameras", headers=headers)
    assert listed.json() == {"cameras": []}
    audit = await api.client.get("/api/audit?action=camera.create", headers=headers)
    assert audit.json()["entries"] == []


async def test_an_address_where_nothing_listens_is_unreachable(api: Api) -> None:
    response = await api.client.post(
        "/api/cameras",
        json={"ip": "127.0.0.1", "port": 9, "username": "admin", "password": "x"},
        headers=await api.admin_headers(),
    )
    assert response.status_code == 502
    assert response.json()["code"] == "camera-unreachable"


async def test_crud_capabilities_current_settings_snapshot_and_reboot(
    api: Api, device: LightDevice
) -> None:
    headers = await api.admin_headers()
    camera = await add(api, device.port)
    camera_id = camera["id"]
    assert camera["name"] == "Hall"
    assert camera["model"] == "Reference Camera"

    shown = await api.client.get(f"/api/cameras/{camera_id}", headers=headers)
    assert shown.json() == camera

    caps = await api.client.get(f"/api/cameras/{camera_id}/capabilities", headers=headers)
    assert caps.status_code == 200, caps.text
    body = caps.json()
    assert body["cameraId"] == camera_id
    capabilities = body["capabilities"]
    assert capabilities["device"]["manufacturer"] == "PlatoniCam"
    assert capabilities["max_resolution"] == "1920x1080"
    assert capabilities["supported_codecs"] == ["H264", "H265"]
    assert capabilities["max_fps"] == 30.0
    assert capabilities["h265"] is True
    assert capabilities["ptz"] is True
    assert capabilities["audio"] is False  # this device has no streams, so no sound
    h264 = next(e for e in capabilities["video_encoders"] if e["codec"] == "H264")
    assert h264["resolutions"] == ["1920x1080", "1280x720", "640x360", "320x180"]
    assert h264["bitrate_range_kbps"] == [64, 16384]
    assert h264["gop_range"] == [1, 300]

    current = await api.client.get(f"/api/cameras/{camera_id}/current-settings", headers=headers)
    assert current.status_code == 200
    assert current.json() == {
        "cameraId": camera_id,
        "currentSettings": {
            "stream": {
                "profileToken": "Profile_1_main",
                "resolution": "1920x1080",
                "codec": "H264",
                "fps": 25.0,
                "bitrateMbps": 4.096,
                "gop": 50,
                "profile": "High",
            },
            "exposure": {"mode": "AUTO", "exposureTime": 10000.0, "gain": 0.0},
            "lowLight": {"wdr": "OFF", "wdrLevel": 50.0, "irCutFilter": "AUTO", "backlight": "OFF"},
            "image": {"brightness": 50.0, "contrast": 50.0, "sharpness": 50.0, "saturation": 50.0},
        },
    }
    # The connection is cached for the next request.
    assert api.context.camera_manager.cached == {camera_id}

    renamed = await api.client.patch(
        f"/api/cameras/{camera_id}", json={"name": "Lobby"}, headers=headers
    )
    assert renamed.json()["name"] == "Lobby"
    bad = await api.client.patch(
        f"/api/cameras/{camera_id}", json={"password": "not-it-either-99"}, headers=headers
    )
    assert bad.status_code == 502
    assert bad.json()["code"] == "camera-auth"
    assert (await api.context.cameras.credentials(camera_id)).password == DEVICE_PASSWORD

    reboot = await api.client.post(f"/api/cameras/{camera_id}/reboot", headers=headers)
    assert reboot.status_code == 202
    assert reboot.json()["cameraId"] == camera_id

    deleted = await api.client.delete(f"/api/cameras/{camera_id}", headers=headers)
    assert deleted.status_code == 204
    assert (await api.client.get(f"/api/cameras/{camera_id}", headers=headers)).status_code == 404
    actions = [
        e["action"] for e in (await api.client.get("/api/audit", headers=headers)).json()["entries"]
    ]
    assert actions[:4] == ["camera.delete", "camera.reboot", "camera.update", "camera.create"]


async def test_snapshot_is_proxied_with_the_cameras_credentials(tmp_path: Path, api: Api) -> None:
    async with runtime_device(tmp_path / "device") as device:
        camera = await add(api, device.port)
        headers = await api.admin_headers()
        first = await api.client.get(f"/api/cameras/{camera['id']}/snapshot.jpg", headers=headers)
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "image/jpeg"
        assert first.content.startswith(b"\xff\xd8")
        assert str(device.port) not in first.headers.get("location", "")
        second = await api.client.get(f"/api/cameras/{camera['id']}/snapshot.jpg", headers=headers)
        # Served from the one-second cache: the very same picture.
        assert second.content == first.content


async def test_ptz_moves_and_presets(api: Api, device: LightDevice) -> None:
    camera = await add(api, device.port)
    base = f"/api/cameras/{camera['id']}/ptz"
    headers = await api.admin_headers()
    moved = await api.client.post(
        f"{base}/move",
        json={"mode": "absolute", "pan": 0.5, "tilt": -0.25, "zoom": 0.5},
        headers=headers,
    )
    assert moved.status_code == 204, moved.text
    status = (await api.client.get(f"{base}/status", headers=headers)).json()
    assert status["profileToken"] == "Profile_1_main"
    created = await api.client.post(f"{base}/presets", json={"name": "Door"}, headers=headers)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    presets = (await api.client.get(f"{base}/presets", headers=headers)).json()["presets"]
    assert [(p["token"], p["name"]) for p in presets if p["token"] == token] == [(token, "Door")]
    assert (
        await api.client.post(f"{base}/presets/{token}/goto", headers=headers)
    ).status_code == 204
    assert (await api.client.post(f"{base}/stop", headers=headers)).status_code == 204
    assert (await api.client.delete(f"{base}/presets/{token}", headers=headers)).status_code == 204
    refused = await api.client.post(
        f"{base}/move", json={"mode": "relative", "pan": 0.5}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid-request"
