"""Home Assistant discovery payloads and topics (no broker)."""

from __future__ import annotations

import json

import pytest

from platonicam import __version__
from platonicam.events.ha import (
    DEVICE_CLASSES,
    HaCamera,
    HaSensor,
    discovery_messages,
    discovery_topic,
    node_id,
    sensor_config,
)
from platonicam.events.model import EventKind
from platonicam.events.mqtt import MqttSettings

SETTINGS = MqttSettings(url="mqtt://broker.lan", topic_prefix="home/cams")


def test_node_id_keeps_safe_ids_and_hashes_slugged_ones() -> None:
    assert node_id("front-door_2") == "platonicam_front-door_2"
    slugged = node_id("lot/east 1")
    assert slugged.startswith("platonicam_lot_east_1_")
    assert len(slugged) == len("platonicam_lot_east_1_") + 8
    # Two ids that slug alike stay apart.
    assert node_id("a.b") != node_id("a_b")
    assert node_id("a.b") != node_id("a:b")


def test_sensor_names_and_object_ids() -> None:
    assert (HaSensor(EventKind.MOTION).object_id, HaSensor(EventKind.MOTION).name) == (
        "motion",
        "Motion",
    )
    port = HaSensor(EventKind.DIGITAL_INPUT, "DI 1")
    assert (port.object_id, port.name) == ("digital_input_DI_1", "Input DI 1")


def test_only_on_off_kinds_are_binary_sensors() -> None:
    with pytest.raises(ValueError, match="'line_crossing' events are not a binary sensor"):
        HaSensor(EventKind.LINE_CROSSING)
    assert EventKind.OTHER not in DEVICE_CLASSES


def test_discovery_topic() -> None:
    sensor = HaSensor(EventKind.TAMPER)
    assert (
        discovery_topic(SETTINGS, "cam1", sensor)
        == "homeassistant/binary_sensor/platonicam_cam1/tamper/config"
    )


def test_sensor_config_has_every_documented_key() -> None:
    camera = HaCamera.of(
        "cam1", "Garage", manufacturer="Axis", model="Q6045-E", serial_number="ACCC8E000001"
    )
    assert sensor_config(SETTINGS, camera, HaSensor(EventKind.MOTION)) == {
        "name": "Motion",
        "unique_id": "platonicam_cam1_motion",
        "state_topic": "home/cams/cam1/motion",
        "value_template": "{{ 'ON' if value_json.state else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "json_attributes_topic": "home/cams/cam1/motion",
        "availability_topic": "home/cams/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "device_class": "motion",
        "device": {
            "identifiers": ["platonicam_cam1"],
            "name": "Garage",
            "manufacturer": "Axis",
            "model": "Q6045-E",
            "serial_number": "ACCC8E000001",
        },
        "origin": {"name": "PlatoniCam", "sw_version": __version__},
    }


def test_generic_input_has_no_device_class() -> None:
    camera = HaCamera.of("cam1", "Garage", inputs=["1"], kinds=())
    [(topic, payload)] = discovery_messages(SETTINGS, camera)
    body = json.loads(payload)
    assert topic == "homeassistant/binary_sensor/platonicam_cam1/digital_input_1/config"
    assert "device_class" not in body
    assert body["state_topic"] == "home/cams/cam1/digital_input/1"
    assert body["device"] == {"identifiers": ["platonicam_cam1"], "name": "Garage"}


def test_camera_of_lists_kinds_then_inputs_then_relays() -> None:
    camera = HaCamera.of("c", "C", inputs=["1", "2"], relays=["r1"])
    assert [s.object_id for s in camera.sensors] == [
        "motion",
        "tamper",
        "digital_input_1",
        "digital_input_2",
        "relay_r1",
    ]
    assert len({json.loads(p)["unique_id"] for _, p in discovery_messages(SETTINGS, camera)}) == 5
