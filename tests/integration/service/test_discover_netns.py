"""``GET /api/discover`` by real multicast, inside a private network namespace per scenario.

Each test runs ``netns_discover.py SCENARIO`` under ``unshare -n`` (only a
loopback, with the multicast range routed to it) and asserts on the JSON it
prints: the service under uvicorn on 127.0.0.1 finds two reference devices by a
multicast probe, and in demo mode sends no multicast at all. Nothing here
multicasts on this machine's interfaces. Without permission to create a
namespace the tests fail with the reason; they do not skip.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.discovery.test_netns import LOOPBACK, _check_unshare

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_KEYS = {
    "id",
    "ip",
    "port",
    "manufacturer",
    "model",
    "name",
    "location",
    "mac",
    "scopes",
    "xaddrs",
    "profiles",
    "discovered_at",
    "registered_camera_id",
}


def run_scenario(name: str) -> dict[str, Any]:
    _check_unshare()
    module = "tests.integration.service.netns_discover"
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", f"{LOOPBACK}; exec {sys.executable} -m {module} {name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"scenario {name} failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def multicast_two() -> dict[str, Any]:
    return run_scenario("multicast_two")


def test_multicast_scan_lists_both_devices_in_the_contract_shape(
    multicast_two: dict[str, Any],
) -> None:
    result = multicast_two
    devices = result["devices"]
    assert result["status"] == 200
    body = result["everything"]
    assert set(body) == {"cameras", "scanDuration", "foundCameras"}
    assert body["foundCameras"] == 2
    # The scan listens for the whole timeout when no limit stops it early.
    assert 2.0 <= body["scanDuration"] < 3.0
    cameras = {camera["id"]: camera for camera in body["cameras"]}
    assert set(cameras) == set(devices)
    for device_id, device in devices.items():
        camera = cameras[device_id]
        assert set(camera) == CONTRACT_KEYS
        assert (camera["ip"], camera["port"]) == ("127.0.0.1", device["port"])
        assert camera["xaddrs"] == [device["url"]]
        assert (camera["name"], camera["model"]) == (device["name"], device["model"])
        # The manufacturer and name both come from the device's scopes, not from SOAP.
        assert camera["manufacturer"] == device["manufacturer"]
        assert "onvif://www.onvif.org/Profile/Streaming" in camera["scopes"]
        assert (
            f"onvif://www.onvif.org/name/{device['name'].replace(' ', '%20')}" in (camera["scopes"])
        )
        assert camera["profiles"] == ["S", "T"]
        assert camera["discovered_at"].endswith("Z")
        assert camera["registered_camera_id"] is None


def test_max_cameras_stops_the_scan_at_the_first_answer(multicast_two: dict[str, Any]) -> None:
    result = multicast_two
    assert result["limited_status"] == 200
    limited = result["limited"]
    assert limited["foundCameras"] == 1
    (camera,) = limited["cameras"]
    assert camera["id"] in result["devices"]
    # Stopped by the limit, not by the two-second timeout.
    assert limited["scanDuration"] < 1.0
    assert result["limited_elapsed"] < 1.5


def test_a_discovered_camera_is_added_by_its_discovery_id(multicast_two: dict[str, Any]) -> None:
    result = multicast_two
    device = result["devices"][result["chosen"]]
    assert result["added_status"] == 201, result["added"]
    added = result["added"]
    assert (added["name"], added["ip"], added["port"]) == (
        device["name"],
        "127.0.0.1",
        device["port"],
    )
    # Read from the device over ONVIF with the credentials given.
    assert (added["manufacturer"], added["model"]) == (device["manufacturer"], device["model"])
    assert added["hasPassword"] is True
    assert "password" not in added
    assert [c["id"] for c in result["listed"]["cameras"]] == [added["id"]]
    # The next scan marks the device as registered, and only that one.
    marks = {c["id"]: c["registered_camera_id"] for c in result["again"]["cameras"]}
    other = next(i for i in result["devices"] if i != result["chosen"])
    assert marks == {result["chosen"]: added["id"], other: None}


def test_demo_mode_finds_the_demo_device_without_any_multicast() -> None:
    result = run_scenario("demo_no_multicast")
    # The settings asked for multicast on 127.0.0.1; demo mode turned it off.
    assert result["multicast_setting"] is False
    assert result["targets"] == [result["target"]]
    assert result["status"] == 200
    found = result["found"]
    assert found["foundCameras"] == 1
    (camera,) = found["cameras"]
    assert (camera["name"], camera["ip"], camera["registered_camera_id"]) == (
        "Demo camera",
        "127.0.0.1",
        "demo",
    )
    # The scan was seen on the wire (two unicast probes to the demo responder) ...
    assert result["probes_to_demo"] >= 2
    # ... and nothing went to a multicast group, from start-up to shut-down.
    assert result["service_multicast"] == []
    assert result["service_group"] == []
    # Control: a datagram to the group is heard by both watching sockets.
    assert result["control_group"] == ["control datagram"]
    assert result["control_multicast"] >= 1
