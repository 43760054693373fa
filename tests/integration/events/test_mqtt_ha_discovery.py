"""Home Assistant MQTT discovery over a real mosquitto, validated against HA's documented schema.

:class:`HaBinarySensorConfig` models the keys Home Assistant documents for an
MQTT binary sensor (https://www.home-assistant.io/integrations/binary_sensor.mqtt/,
device and availability blocks from https://www.home-assistant.io/integrations/mqtt/),
with unknown keys refused, so a misspelt key fails here instead of being
ignored by Home Assistant.
"""

from __future__ import annotations

import asyncio
import json
from typing import Literal, Self

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from platonicam.events.ha import HaCamera, HomeAssistantDiscovery
from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttBridge, MqttSettings
from tests.integration.events.mosquitto import Mosquitto
from tests.integration.events.subscriber import Subscriber

#: Home Assistant's binary sensor device classes (BinarySensorDeviceClass).
HaDeviceClass = Literal[
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
    "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving",
    "occupancy", "opening", "plug", "power", "presence", "problem", "running", "safety",
    "smoke", "sound", "tamper", "update", "vibration", "window",
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HaDevice(_Strict):
    identifiers: list[str] | str = Field(min_length=1)
    connections: list[tuple[str, str]] | None = None
    manufacturer: str | None = None
    model: str | None = None
    model_id: str | None = None
    name: str | None = None
    sw_version: str | None = None
    hw_version: str | None = None
    serial_number: str | None = None
    suggested_area: str | None = None
    via_device: str | None = None
    configuration_url: str | None = None


class HaOrigin(_Strict):
    name: str
    sw_version: str | None = None
    support_url: str | None = None


class HaAvailability(_Strict):
    topic: str
    payload_available: str = "online"
    payload_not_available: str = "offline"
    value_template: str | None = None


class HaBinarySensorConfig(_Strict):
    state_topic: str = Field(min_length=1)
    name: str | None = None
    unique_id: str | None = None
    object_id: str | None = None
    device_class: HaDeviceClass | None = None
    payload_on: str = "ON"
    payload_off: str = "OFF"
    value_template: str | None = None
    json_attributes_topic: str | None = None
    json_attributes_template: str | None = None
    availability_topic: str | None = None
    payload_available: str = "online"
    payload_not_available: str = "offline"
    availability: list[HaAvailability] | None = None
    availability_mode: Literal["all", "any", "latest"] | None = None
    availability_template: str | None = None
    qos: Literal[0, 1, 2] = 0
    device: HaDevice | None = None
    origin: HaOrigin | None = None
    enabled_by_default: bool = True
    entity_category: Literal["diagnostic", "config"] | None = None
    expire_after: int | None = None
    force_update: bool = False
    off_delay: int | None = None
    icon: str | None = None
    encoding: str = "utf-8"

    @model_validator(mode="after")
    def _documented_rules(self) -> Self:
        # "availability_topic" and "availability" must not be used together (HA docs).
        assert self.availability is None or self.availability_topic is None
        assert not any(c in self.state_topic for c in "+#"), "state_topic has a wildcard"
        # A device block needs identifiers or connections to group entities.
        return self


CAMERA = HaCamera.of(
    "front-door",
    "Front door",
    inputs=["1", "2"],
    manufacturer="PlatoniCam",
    model="Reference device",
    sw_version="0.1.0",
)


async def test_camera_appears_with_all_its_sensors(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, discovery_prefix="ha-test-1")
    async with (
        Subscriber("127.0.0.1", broker.port, ["ha-test-1/#"]) as sub,
        MqttBridge(settings) as bridge,
    ):
        HomeAssistantDiscovery(bridge).announce(CAMERA)
        await sub.wait_for(lambda m: len(m) >= 4)
        configs = {
            m.topic: HaBinarySensorConfig.model_validate_json(m.payload) for m in sub.messages
        }
        assert all(m.retain is False for m in sub.messages)  # live delivery, not replay
    prefix = "ha-test-1/binary_sensor/platonicam_front-door"
    assert sorted(configs) == [
        f"{prefix}/digital_input_1/config",
        f"{prefix}/digital_input_2/config",
        f"{prefix}/motion/config",
        f"{prefix}/tamper/config",
    ]
    motion = configs[f"{prefix}/motion/config"]
    assert motion.state_topic == "platonicam/front-door/motion"
    assert motion.device_class == "motion"
    assert motion.name == "Motion"
    assert motion.availability_topic == "platonicam/status"
    assert (motion.payload_available, motion.payload_not_available) == ("online", "offline")
    assert motion.value_template == "{{ 'ON' if value_json.state else 'OFF' }}"
    assert (motion.payload_on, motion.payload_off, motion.qos) == ("ON", "OFF", 1)
    assert configs[f"{prefix}/tamper/config"].device_class == "tamper"
    input_2 = configs[f"{prefix}/digital_input_2/config"]
    assert (input_2.name, input_2.device_class) == ("Input 2", None)
    assert input_2.state_topic == "platonicam/front-door/digital_input/2"
    unique_ids = [c.unique_id for c in configs.values()]
    assert len(set(unique_ids)) == 4
    assert None not in unique_ids
    devices = [c.device for c in configs.values()]
    assert devices == 4 * [
        HaDevice(
            identifiers=["platonicam_front-door"],
            manufacturer="PlatoniCam",
            model="Reference device",
            name="Front door",
            sw_version="0.1.0",
        )
    ]


async def test_state_topic_carries_what_the_template_reads(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, topic_prefix="ha-state/", discovery_prefix="ha-test-2")
    async with MqttBridge(settings) as bridge:
        HomeAssistantDiscovery(bridge).announce(CAMERA)
        await bridge.publish(
            Event(
                camera_id="front-door",
                kind=EventKind.DIGITAL_INPUT,
                topic="Device/Trigger/DigitalInput",
                raw_topic="tns1:Device/Trigger/DigitalInput",
                source={"InputToken": "2"},
                data={"LogicalState": "true"},
                state=True,
            )
        )
        assert await bridge.flush(5)
    # Home Assistant subscribing later (retained): config and state both there.
    async with Subscriber("127.0.0.1", broker.port, ["ha-test-2/#", "ha-state/#"]) as ha:
        await ha.wait_for(lambda m: len(m) >= 6)  # 4 configs, the input state, status
        config = HaBinarySensorConfig.model_validate_json(
            ha.on("ha-test-2/binary_sensor/platonicam_front-door/digital_input_2/config")[0].payload
        )
        [state] = ha.on(config.state_topic)
        # value_json.state as the template reads it
        assert json.loads(state.payload)["state"] is True
        assert config.availability_topic is not None
        assert [m.payload for m in ha.on(config.availability_topic)] == [b"offline"]


async def test_removal_clears_the_retained_configs(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, discovery_prefix="ha-test-3")
    async with MqttBridge(settings) as bridge:
        discovery = HomeAssistantDiscovery(bridge)
        discovery.announce(CAMERA)
        discovery.announce(HaCamera.of("back-yard", "Back yard"))
        assert await bridge.flush(5)
        async with Subscriber("127.0.0.1", broker.port, ["ha-test-3/#"]) as live:
            await live.wait_for(lambda m: len(m) >= 6)
            discovery.remove("front-door")
            await live.wait_for(lambda m: sum(not x.payload for x in m) >= 4)
            removed = sorted(m.topic for m in live.messages if not m.payload)
            assert all("platonicam_front-door" in topic for topic in removed)
            assert len(removed) == 4
        assert discovery.cameras == {"back-yard"}
    async with Subscriber("127.0.0.1", broker.port, ["ha-test-3/#"]) as later:
        await later.wait_for(lambda m: len(m) >= 2)
        await asyncio.sleep(0.3)
        assert sorted(m.topic for m in later.messages) == [
            "ha-test-3/binary_sensor/platonicam_back-yard/motion/config",
            "ha-test-3/binary_sensor/platonicam_back-yard/tamper/config",
        ]


async def test_home_assistant_birth_message_brings_the_configs_again(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, discovery_prefix="ha-test-4")
    async with MqttBridge(settings) as bridge:
        discovery = HomeAssistantDiscovery(bridge)
        await discovery.start()
        discovery.announce(HaCamera.of("porch", "Porch"))
        await bridge.wait_connected(10)
        assert await bridge.flush(5)
        async with Subscriber("127.0.0.1", broker.port, ["ha-test-4/binary_sensor/#"]) as sub:
            await sub.wait_for(lambda m: len(m) == 2)  # the retained copies
            async with aiomqtt.Client("127.0.0.1", broker.port) as home_assistant:
                await home_assistant.publish("ha-test-4/status", b"online", qos=1)
            await sub.wait_for(lambda m: len(m) == 4)
            assert [m.retain for m in sub.messages] == [True, True, False, False]
