"""Every route times every kind of caller: no token, an expired token, a viewer,
a user without a grant for the camera, and (for the leak check) an admin.

The routes are read from the app itself (its OpenAPI document lists every
route it serves). Every route but health and login must refuse a missing and
an expired token, so a new route cannot slip through open; the routes named
in :data:`MINIMUM_ROLE` (the camera registry, apply, optimize, PTZ, snapshot,
users, audit) are also checked role by role and grant by grant. Every
response is searched for the camera password planted for this test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platonicam.service.jobs.model import DesiredImage, DesiredSettings, Job, JobStatus
from platonicam.store.records import NewCamera, Role
from tests.integration.service.api import (
    DEVICE_USER,
    Api,
    LightDevice,
    api_settings,
    light_device,
    running_api,
)

PLANTED = "planted-Camera-Pw-5150"
CAMERA = "cam-granted"
JOB = "job-on-camera"
OPEN = "open"

#: Who may call each route; "open" needs no token. Camera routes also need a grant.
MINIMUM_ROLE: dict[tuple[str, str], Role | str] = {
    ("GET", "/health"): OPEN,
    ("POST", "/api/auth/token"): OPEN,
    ("POST", "/api/auth/refresh"): OPEN,
    ("GET", "/api/users"): Role.ADMIN,
    ("POST", "/api/users"): Role.ADMIN,
    ("PATCH", "/api/users/{name}"): Role.ADMIN,
    ("DELETE", "/api/users/{name}"): Role.ADMIN,
    ("PUT", "/api/users/{name}/grants/{camera_id}"): Role.ADMIN,
    ("DELETE", "/api/users/{name}/grants/{camera_id}"): Role.ADMIN,
    ("GET", "/api/audit"): Role.ADMIN,
    ("GET", "/api/discover"): Role.VIEWER,
    ("GET", "/api/cameras"): Role.VIEWER,
    ("POST", "/api/cameras"): Role.ADMIN,
    ("GET", "/api/cameras/{camera_id}"): Role.VIEWER,
    ("PATCH", "/api/cameras/{camera_id}"): Role.ADMIN,
    ("DELETE", "/api/cameras/{camera_id}"): Role.ADMIN,
    ("GET", "/api/cameras/{camera_id}/capabilities"): Role.VIEWER,
    ("GET", "/api/cameras/{camera_id}/current-settings"): Role.VIEWER,
    ("POST", "/api/apply"): Role.OPERATOR,
    ("POST", "/api/apply/batch"): Role.OPERATOR,
    ("GET", "/api/apply/status/{job_id}"): Role.VIEWER,
    ("POST", "/api/apply/{job_id}/rollback"): Role.OPERATOR,
    ("POST", "/api/optimize"): Role.VIEWER,
    ("GET", "/api/cameras/{camera_id}/ptz/status"): Role.VIEWER,
    ("POST", "/api/cameras/{camera_id}/ptz/move"): Role.OPERATOR,
    ("POST", "/api/cameras/{camera_id}/ptz/stop"): Role.OPERATOR,
    ("POST", "/api/cameras/{camera_id}/ptz/home"): Role.OPERATOR,
    ("GET", "/api/cameras/{camera_id}/ptz/presets"): Role.VIEWER,
    ("POST", "/api/cameras/{camera_id}/ptz/presets"): Role.OPERATOR,
    ("POST", "/api/cameras/{camera_id}/ptz/presets/{preset_token}/goto"): Role.OPERATOR,
    ("DELETE", "/api/cameras/{camera_id}/ptz/presets/{preset_token}"): Role.OPERATOR,
    ("GET", "/api/cameras/{camera_id}/snapshot.jpg"): Role.VIEWER,
    ("POST", "/api/cameras/{camera_id}/reboot"): Role.ADMIN,
    ("GET", "/api/events"): Role.VIEWER,
    ("GET", "/api/cameras/{camera_id}/events/status"): Role.VIEWER,
}

#: Routes that act on one camera named in the body or by a job, not in the path.
CAMERA_IN_BODY = {
    ("POST", "/api/apply"),
    ("POST", "/api/apply/batch"),
    ("POST", "/api/optimize"),
    ("GET", "/api/apply/status/{job_id}"),
    ("POST", "/api/apply/{job_id}/rollback"),
}

BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/users"): {"name": "zed", "role": "viewer", "password": "zed-password-1"},
    ("PATCH", "/api/users/{name}"): {"disabled": False},
    ("POST", "/api/cameras"): {"ip": "127.0.0.1", "port": 9, "username": "u", "password": "p"},
    ("PATCH", "/api/cameras/{camera_id}"): {"name": "Renamed"},
    ("POST", "/api/apply"): {"camera": {"id": CAMERA}, "settings": {"image": {"brightness": 30}}},
    ("POST", "/api/apply/batch"): {
        "cameras": [{"id": CAMERA}],
        "settings": {"image": {"brightness": 30}},
    },
    ("POST", "/api/optimize"): {"cameraId": CAMERA},
    ("POST", "/api/cameras/{camera_id}/ptz/move"): {"mode": "relative", "pan": 0.1, "tilt": 0.1},
    ("POST", "/api/cameras/{camera_id}/ptz/presets"): {"name": "Gate"},
}

PARAMETERS = {"camera_id": CAMERA, "job_id": JOB, "name": "vera", "preset_token": "1"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMETERS[m[1]], path)


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[LightDevice]:
    started = await light_device(tmp_path / "device", password=PLANTED)
    yield started
    await started.stop()


@pytest.fixture
async def api(tmp_path: Path, device: LightDevice) -> AsyncIterator[Api]:
    async with running_api(api_settings(tmp_path / "service")) as started:
        context = started.context
        await context.cameras.create(
            NewCamera(
                id=CAMERA,
                name="Granted",
                host="127.0.0.1",
                port=device.port,
                username=DEVICE_USER,
                password=PLANTED,
            )
        )
        now = datetime(2026, 1, 2, tzinfo=UTC)
        await context.jobs.create(
            Job(
                JOB,
                CAMERA,
                JobStatus.COMPLETED,
                DesiredSettings(image=DesiredImage(brightness=20.0)),
                now,
                now,
                previous=DesiredSettings(image=DesiredImage(brightness=50.0)),
            )
        )
        await started.add_user("vera", Role.VIEWER, grants=(CAMERA,))
        await started.add_user("otto", Role.OPERATOR, grants=("some-other-camera",))
        await started.add_user("olga", Role.OPERATOR, grants=(CAMERA,))
        yield started


def routes(api: Api) -> list[tuple[str, str]]:
    document = api.app.openapi()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    ]


async def test_every_route_answers_every_caller_as_its_role_says(api: Api) -> None:
    served = routes(api)
    assert set(MINIMUM_ROLE) <= set(served), "a route of the contract went missing"
    responses: list[str] = []
    expired = await api.token_for("vera")
    api.clock.advance(api.context.tokens.access_seconds + 1)
    callers = {
        "viewer": await api.headers_for("vera"),
        "no-grant": await api.headers_for("otto"),
    }

    async def call(method: str, path: str, headers: dict[str, str]) -> int:
        body = BODIES.get((method, path))
        response = await api.client.request(method, concrete(path), json=body, headers=headers)
        responses.append(response.text)
        return response.status_code

    for method, path in served:
        role = MINIMUM_ROLE.get((method, path))
        if role == OPEN:
            continue
        assert await call(method, path, {}) == 401, (method, path, "no token")
        expired_status = await call(method, path, {"Authorization": f"Bearer {expired}"})
        assert expired_status == 401, (method, path, "expired")
        if role is None:
            continue  # another part's route: its own tests check roles and grants
        viewer = await call(method, path, callers["viewer"])
        if role is Role.VIEWER:
            assert viewer not in (401, 403), (method, path, "viewer", viewer)
        else:
            assert viewer == 403, (method, path, "viewer", viewer)
        no_grant = await call(method, path, callers["no-grant"])
        camera_route = "{camera_id}" in path and not path.startswith("/api/users")
        if role is Role.ADMIN or camera_route or (method, path) in CAMERA_IN_BODY:
            assert no_grant == 403, (method, path, "no grant", no_grant)
        else:
            assert no_grant not in (401, 403), (method, path, "no grant", no_grant)

    # The granted operator and an admin get through; their answers are searched too.
    operator = await api.headers_for("olga")
    admin = await api.admin_headers()
    for method, path in MINIMUM_ROLE:
        role = MINIMUM_ROLE[(method, path)]
        if role is Role.OPERATOR:
            assert await call(method, path, operator) not in (401, 403), (method, path)
        if method == "GET" or path.startswith("/api/cameras/{camera_id}/ptz"):
            status = await call(method, path, admin)
            assert status not in (401, 403, 500), (method, path, status)
    assert await call("POST", "/api/cameras/{camera_id}/reboot", admin) == 202
    leaking = [text for text in responses if PLANTED in text]
    assert leaking == []
    assert len(responses) > 4 * len(MINIMUM_ROLE)
