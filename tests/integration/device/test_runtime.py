"""DeviceRuntime in-process on 127.0.0.1: discovery read live, one device per folder, events."""

from __future__ import annotations

from pathlib import Path

import pytest

from platonicam.device.runtime import DeviceRuntime, DeviceRuntimeError, IdentityOverrides
from platonicam.discovery import probe_unicast
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.device import DiscoveryMode
from platonicam.onvif.models.events import OnvifEvent
from tests.conftest import LoopbackOnlyTransport

PASSWORD = "runtime-admin-secret"


def runtime(data_dir: Path) -> DeviceRuntime:
    return DeviceRuntime(
        data_dir,
        "127.0.0.1",
        0,
        0,
        discovery_port=0,
        admin_password=PASSWORD,
        identity=IdentityOverrides(name="Hall Way", location="floor/2", model="RC 2"),
    )


async def test_set_discovery_mode_silences_the_responder_at_once(tmp_path: Path) -> None:
    async with runtime(tmp_path) as device:
        assert device.generated_password is None  # the password came from the caller
        port = device.discovery_port
        assert port is not None
        (found,) = await probe_unicast("127.0.0.1", port=port, timeout=1.0, repeat=1)
        assert (found.name, found.location, found.model) == ("Hall Way", "floor/2", "RC 2")
        assert found.xaddrs == (device.url(),)
        assert found.endpoint_reference == device.endpoint_reference
        transport = LoopbackOnlyTransport()
        try:
            async with OnvifClient(
                "127.0.0.1", device.port, "admin", PASSWORD, transport=transport
            ) as client:
                await client.device.set_discovery_mode(DiscoveryMode.NON_DISCOVERABLE)
                silent = await probe_unicast("127.0.0.1", port=port, timeout=0.7, repeat=1)
                await client.device.set_discovery_mode(DiscoveryMode.DISCOVERABLE)
                again = await probe_unicast("127.0.0.1", port=port, timeout=1.0, repeat=1)
        finally:
            await transport.aclose()
    assert silent == []
    assert [c.endpoint_reference for c in again] == [found.endpoint_reference]


async def test_one_device_per_data_folder_and_triggers(tmp_path: Path) -> None:
    async with runtime(tmp_path) as device:
        with pytest.raises(DeviceRuntimeError, match="a device already runs with data folder"):
            await runtime(tmp_path).start()
        seen: list[OnvifEvent] = []
        device.device.events.add_listener(seen.append)
        assert device.trigger("motion", True) == ["motion", "cell_motion"]
        assert device.trigger("motion", True) == []  # a property changes once
        assert device.trigger("input", False, 3) == []
        assert device.trigger("input", True, 3) == ["digital_input"]
        with pytest.raises(DeviceRuntimeError, match="no channel 2"):
            device.trigger("tamper", True, 2)
        assert device.state.io.inputs[2].active is True  # persisted for GetDigitalInputs
    assert [(e.topic, e.data) for e in seen] == [
        ("VideoSource/MotionAlarm", {"State": "true"}),
        ("RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true"}),
        ("Device/Trigger/DigitalInput", {"LogicalState": "true"}),
    ]
    assert not (tmp_path / "control.sock").exists()
