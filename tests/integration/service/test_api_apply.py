"""Apply, verify, roll back, batch and restart through the REST API, against real devices.

The change is checked by an independent reader: after the job, Debian's
``/usr/bin/ffprobe`` reads the device's RTSP stream and must see the new
resolution and codec. Every test runs on both database backends, SQLite and
PostgreSQL (the ``database_url`` fixture, conftest).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from platonicam.onvif.client import OnvifClient
from platonicam.store.records import NewCamera, Role
from tests.conftest import LoopbackOnlyTransport
from tests.integration.service.api import (
    DEVICE_PASSWORD,
    DEVICE_USER,
    Api,
    FailingImaging,
    api_settings,
    light_device,
    running_api,
    runtime_device,
)

FFPROBE = "/usr/bin/ffprobe"


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    """The service on a fresh database, once per backend (see conftest)."""
    async with running_api(api_settings(tmp_path / "service", database_url)) as started:
        yield started


async def register(api: Api, port: int, camera_id: str | None = None) -> str:
    camera = await api.context.cameras.create(
        NewCamera(
            id=camera_id,
            name=camera_id or f"cam {port}",
            host="127.0.0.1",
            port=port,
            username=DEVICE_USER,
            password=DEVICE_PASSWORD,
        )
    )
    return camera.id


async def ffprobe_stream(port: int) -> dict[str, object]:
    """What ffprobe reads from the device's main profile stream."""
    async with OnvifClient(
        "127.0.0.1", port, DEVICE_USER, DEVICE_PASSWORD, transport=LoopbackOnlyTransport()
    ) as client:
        uri = (await client.media.get_stream_uri("Profile_1_main")).uri
    assert uri.startswith("rtsp://127.0.0.1:")
    with_credentials = uri.replace("rtsp://", f"rtsp://{DEVICE_USER}:{DEVICE_PASSWORD}@")
    probe = await asyncio.to_thread(
        subprocess.run,
        [
            FFPROBE,
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
            with_credentials,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    (stream,) = json.loads(probe.stdout)["streams"]
    assert isinstance(stream, dict)
    return stream


async def test_apply_changes_the_rtsp_stream_and_rollback_restores_it(
    tmp_path: Path, api: Api
) -> None:
    async with runtime_device(tmp_path / "device") as device:
        camera_id = await register(api, device.port, "gate")
        assert await ffprobe_stream(device.port) == {
            "codec_name": "h264",
            "width": 1920,
            "height": 1080,
        }
        headers = await api.admin_headers()
        started = await api.client.post(
            "/api/apply",
            json={
                "camera": {"id": camera_id},
                "settings": {
                    "stream": {"resolution": "1280x720", "codec": "H265", "bitrateMbps": 2}
                },
                "applyVia": "onvif",
                "verifyAfterApply": True,
            },
            headers=headers,
        )
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["status"] in ("pending", "in_progress")
        assert job["cameraId"] == camera_id
        done = await api.wait_job(job["job_id"])
        assert done["status"] == "completed", done
        assert done["progress"] == 100
        assert done["currentStep"] is None
        result = done["result"]
        assert isinstance(result, dict)
        assert result["verification_status"] == "verified"
        # H.265 has no High profile: the plan moves the encoder profile to Main.
        assert result["applied_settings"] == {
            "stream": {
                "resolution": "1280x720",
                "codec": "H265",
                "bitrateMbps": 2.0,
                "profile": "Main",
            }
        }
        assert done["previous"] == {
            "stream": {
                "resolution": "1920x1080",
                "codec": "H264",
                "bitrateMbps": 4.096,
                "profile": "High",
            }
        }
        assert [s["status"] for s in done["steps"]] == [  # type: ignore[union-attr]
            "completed",
            "completed",
            "completed",
            "completed",
            "skipped",
            "completed",
            "completed",
        ]
        assert await ffprobe_stream(device.port) == {
            "codec_name": "hevc",
            "width": 1280,
            "height": 720,
        }

        rolled = await api.client.post(f"/api/apply/{job['job_id']}/rollback", headers=headers)
        assert rolled.status_code == 200, rolled.text
        rollback = rolled.json()["result"]["rollback"]
        assert (rollback["status"], rollback["automatic"]) == ("completed", False)
        assert await ffprobe_stream(device.port) == {
            "codec_name": "h264",
            "width": 1920,
            "height": 1080,
        }
    audit = (await api.client.get("/api/audit", headers=headers)).json()["entries"]
    assert [e["action"] for e in audit[:2]] == ["apply.rollback", "apply.start"]
    assert "stream.resolution=1280x720" in audit[1]["summary"]


async def test_an_impossible_plan_is_refused_with_the_field_and_allowed_values(
    tmp_path: Path, api: Api
) -> None:
    device = await light_device(tmp_path / "device")
    try:
        camera_id = await register(api, device.port)
        response = await api.client.post(
            "/api/apply",
            json={
                "camera": {"id": camera_id},
                "settings": {"stream": {"resolution": "1000x1000", "bitrateMbps": 100}},
            },
            headers=await api.admin_headers(),
        )
    finally:
        await device.stop()
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "plan-refused"
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(fields) == {"stream.resolution", "stream.bitrate_kbps"}
    assert "1920x1080, 1280x720, 640x360, 320x180" in fields["stream.resolution"]
    assert "64..16384 kbit/s" in fields["stream.bitrate_kbps"]
    assert await api.context.jobs.list_by_camera(camera_id) == []


async def test_malformed_settings_name_the_key(api: Api) -> None:
    response = await api.client.post(
        "/api/apply",
        json={"camera": {"id": "nope"}, "settings": {"stream": {"codec": "VP9"}}},
        headers=await api.admin_headers(),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "stream.codec", "message": "stream.codec: expected 'H264' or 'H265', got 'VP9'"}
    ]


async def test_a_failed_apply_rolls_back_by_itself(tmp_path: Path, api: Api) -> None:
    holder: list[FailingImaging] = []

    def wrap(app: object) -> FailingImaging:
        holder.append(FailingImaging(app))
        return holder[0]

    device = await light_device(tmp_path / "device", wrap)
    try:
        camera_id = await register(api, device.port)
        headers = await api.admin_headers()
        started = await api.client.post(
            "/api/apply",
            json={
                "camera": {"id": camera_id},
                "settings": {"stream": {"resolution": "640x360"}, "image": {"brightness": 70}},
                "autoRollback": True,
            },
            headers=headers,
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        # The job reads "partial" before its automatic rollback ends: wait for both.
        await api.context.runner.wait(job_id)
        done = await api.wait_job(job_id)
        current = await api.client.get(
            f"/api/cameras/{camera_id}/current-settings", headers=headers
        )
    finally:
        await device.stop()
    assert holder[0].refused == 1
    assert done["status"] == "partial"
    assert "imaging is broken" in str(done["error"])
    result = done["result"]
    assert isinstance(result, dict)
    assert result["applied_settings"] == {"stream": {"resolution": "640x360"}}
    rollback = result["rollback"]
    assert isinstance(rollback, dict)
    assert (rollback["automatic"], rollback["status"]) == (True, "completed")
    assert rollback["applied_settings"] == {"stream": {"resolution": "1920x1080"}}
    assert current.json()["currentSettings"]["stream"]["resolution"] == "1920x1080"


async def test_batch_apply_over_three_devices(tmp_path: Path, api: Api) -> None:
    devices = [await light_device(tmp_path / f"device{i}") for i in range(3)]
    try:
        ids = [await register(api, d.port) for d in devices]
        headers = await api.admin_headers()
        response = await api.client.post(
            "/api/apply/batch",
            json={
                "cameras": [{"id": i} for i in ids[:2]]
                + [{"ip": "127.0.0.1", "port": devices[2].port}],
                "settings": {"stream": {"gop": 25}, "image": {"contrast": 60}},
                "concurrency": 2,
            },
            headers=headers,
        )
        assert response.status_code == 202, response.text
        jobs = response.json()["jobs"]
        # The third camera, named by address, is the registered camera there.
        assert [j["cameraId"] for j in jobs] == ids
        finished = [await api.wait_job(j["job_id"]) for j in jobs]
        for camera_id in ids:
            current = await api.client.get(
                f"/api/cameras/{camera_id}/current-settings", headers=headers
            )
            settings = current.json()["currentSettings"]
            assert (settings["stream"]["gop"], settings["image"]["contrast"]) == (25, 60.0)
    finally:
        for device in devices:
            await device.stop()
    assert [j["status"] for j in finished] == ["completed"] * 3


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


async def test_a_restart_mid_job_leaves_the_job_failed(
    tmp_path: Path, black_hole: int, database_url: str
) -> None:
    settings = api_settings(tmp_path / "service", database_url)
    async with running_api(settings) as api:
        camera_id = await register(api, black_hole, "silent")
        started = await api.client.post(
            "/api/apply/batch",
            json={"cameras": [{"id": camera_id}], "settings": {"image": {"brightness": 40}}},
            headers=await api.admin_headers(),
        )
        job_id = started.json()["jobs"][0]["job_id"]
        for _ in range(250):  # the connect step hangs on the silent port
            stored = await api.context.jobs.get(job_id)
            if stored is not None and stored.status.value == "in_progress":
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the job never started")
    async with running_api(settings) as api:
        response = await api.client.get(
            f"/api/apply/status/{job_id}", headers=await api.admin_headers()
        )
    job = response.json()
    assert (job["status"], job["error"]) == ("failed", "interrupted by a service restart")
    connect = job["steps"][0]
    assert (connect["name"], connect["status"]) == ("connect", "failed")


async def test_operators_apply_only_to_granted_cameras(tmp_path: Path, api: Api) -> None:
    await api.add_user("olive", Role.OPERATOR, grants=("granted",))
    headers = await api.headers_for("olive")
    for camera in ({"id": "other"}, {"ip": "127.0.0.1", "port": 9}):
        response = await api.client.post(
            "/api/apply",
            json={"camera": camera, "settings": {"image": {"brightness": 1}}},
            headers=headers,
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
