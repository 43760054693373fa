"""Profile M messages (ONVIF Core, "Event Broker": Topic Structure and JSON Event Payload)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from lxml import etree

from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttSettings
from platonicam.events.profile_m import (
    broker_config,
    camera_topic_prefix,
    parse_message,
    supports_broker,
)
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import EventServiceCapabilities, PropertyOperation
from platonicam.onvif.services.events import build_add_event_broker

SETTINGS = MqttSettings(url="mqtt://u:pw@127.0.0.1:1883")
PREFIX = "platonicam/onvif/cam-m"
RECEIVED = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def parse(topic: str, payload: bytes, *, retained: bool = False) -> list[Event]:
    return list(
        parse_message(
            f"{PREFIX}/onvif-ej/{topic}",
            payload,
            camera_id="cam-m",
            topic_prefix=PREFIX,
            received=RECEIVED,
            retained=retained,
        )
    )


def test_camera_topic_prefix_sits_apart_from_the_bridge_topics() -> None:
    assert camera_topic_prefix(SETTINGS, "cam-m") == "platonicam/onvif/cam-m"
    assert camera_topic_prefix(SETTINGS, "a/b") == "platonicam/onvif/a%2Fb"


def test_broker_config_points_the_camera_at_our_broker() -> None:
    config = broker_config(SETTINGS, "cam-m", publish_filter="tns1:RuleEngine//.")
    assert (config.address, config.topic_prefix) == ("mqtt://127.0.0.1:1883", PREFIX)
    assert (config.user_name, config.password, config.qos) == ("u", "pw", 1)
    assert "pw" not in repr(config).replace("publish_filter", "")
    lan = broker_config(SETTINGS, "cam-m", address="mqtts://192.0.2.10:8883")
    assert lan.address == "mqtts://192.0.2.10:8883"
    # What goes on the wire (the ONVIF layer's builder): schema order, prefix, filter.
    xml = etree.tostring(build_add_event_broker(config)).decode()
    assert "<tev:TopicPrefix>platonicam/onvif/cam-m</tev:TopicPrefix>" in xml
    assert ">tns1:RuleEngine//.</" in xml


@pytest.mark.parametrize(
    ("capabilities", "address", "supported"),
    [
        (
            EventServiceCapabilities(max_event_brokers=2, event_broker_protocols=("mqtt", "mqtts")),
            "mqtt://h",
            True,
        ),
        (
            EventServiceCapabilities(max_event_brokers=2, event_broker_protocols=("mqtts",)),
            "mqtt://h",
            False,
        ),
        (EventServiceCapabilities(max_event_brokers=1), "mqtts://h", True),
        (
            EventServiceCapabilities(max_event_brokers=0, event_broker_protocols=("mqtt",)),
            "mqtt://h",
            False,
        ),
        (EventServiceCapabilities(), "mqtt://h", False),
    ],
)
def test_supports_broker(
    capabilities: EventServiceCapabilities, address: str, supported: bool
) -> None:
    assert supports_broker(capabilities, address) is supported


def test_core_spec_example_line_crossing() -> None:
    # ONVIF Core, JSON Event Payload, "Topic for the first message" and its payload.
    payload = json.dumps(
        {
            "UtcTime": "2008-10-10T12:24:57.321Z",
            "Source": {
                "VideoSource": "1",
                "AnalyticsConfiguration": "2",
                "Rule": "MyImportantFence1",
            },
            "Data": {"ObjectId": "15"},
        }
    ).encode()
    [event] = parse("RuleEngine/LineDetector/Crossed/&1/2/MyImportantFence1", payload)
    assert event.camera_id == "cam-m"
    assert event.kind is EventKind.LINE_CROSSING
    assert event.topic == "RuleEngine/LineDetector/Crossed"
    assert event.raw_topic == "RuleEngine/LineDetector/Crossed"
    assert event.source == {
        "VideoSource": "1",
        "AnalyticsConfiguration": "2",
        "Rule": "MyImportantFence1",
    }
    assert event.data == {"ObjectId": "15"}
    assert event.state is None
    assert event.time == datetime(2008, 10, 10, 12, 24, 57, 321000, tzinfo=UTC)
    assert event.property_operation is None


def test_retained_motion_state_with_an_unquoted_boolean_is_initialized() -> None:
    payload = (
        b'{"UtcTime": "2026-05-06T07:00:00Z", "Source": {"Source": "vs1"}, "Data": {"State": true}}'
    )
    [event] = parse("VideoSource/MotionAlarm/&vs1", payload, retained=True)
    assert event.kind is EventKind.MOTION
    assert event.state is True
    assert event.data == {"State": "true"}
    assert event.property_operation is PropertyOperation.INITIALIZED


def test_sensor_numbers_and_element_items_become_text() -> None:
    # Core's sensor example (unquoted numbers) and its complex "Segments" item.
    payload = json.dumps(
        {
            "UtcTime": "2025-07-15T14:30:00Z",
            "Source": {"SensorID": "temp_001"},
            "Data": {
                "Value": 28.65,
                "Threshold": 25,
                "Segments": {"Polyline": {"Point": [{"@x": 0.1}]}},
            },
        }
    ).encode()
    [event] = parse("Device/Sensor/Temperature/High", payload)
    assert event.kind is EventKind.OTHER
    assert event.data == {
        "Value": "28.65",
        "Threshold": "25",
        "Segments": '{"Polyline":{"Point":[{"@x":0.1}]}}',
    }


def test_vendor_alias_segment_is_dropped_from_the_normalized_topic() -> None:
    [event] = parse("Device/HardwareFailure/acme:LensFailure", b'{"Source": {}, "Data": {}}')
    assert event.topic == "Device/HardwareFailure/LensFailure"
    assert event.raw_topic == "Device/HardwareFailure/acme:LensFailure"
    assert event.time == RECEIVED  # no UtcTime: the receive time


def test_empty_payload_is_a_deleted_property() -> None:
    [event] = parse("Device/Trigger/DigitalInput/&1", b"")
    assert event.kind is EventKind.DIGITAL_INPUT
    assert event.property_operation is PropertyOperation.DELETED
    assert (event.state, event.source, event.data) == (None, {}, {})


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        (
            f"{PREFIX}/onvif-ej/VideoSource/MotionAlarm",
            b"{not json",
            "payload is not JSON: Expecting property name",
        ),
        (f"{PREFIX}/onvif-ej/VideoSource/MotionAlarm", b"[1, 2]", "payload is not a JSON object"),
        (
            f"{PREFIX}/onvif-ej/VideoSource/MotionAlarm",
            b'{"UtcTime": 5}',
            "UtcTime is not a date-time: 5",
        ),
        (f"{PREFIX}/onvif-ej/VideoSource/MotionAlarm", b'{"UtcTime": "yesterday"}', "date-time"),
        (
            f"{PREFIX}/onvif-ej/VideoSource/MotionAlarm",
            b'{"Source": "vs1"}',
            "Source is not a JSON object",
        ),
        (
            f"{PREFIX}/onvif-mj/VideoSource/MotionAlarm",
            b"{}",
            "is not under 'platonicam/onvif/cam-m/onvif-ej/'",
        ),
        (f"{PREFIX}/onvif-ej/", b"{}", "is not under"),
    ],
)
def test_malformed_messages_raise_remote_protocol_errors(
    topic: str, payload: bytes, message: str
) -> None:
    with pytest.raises(RemoteProtocolError, match=message) as caught:
        parse_message(topic, payload, camera_id="cam-m", topic_prefix=PREFIX, received=RECEIVED)
    assert "Profile M MQTT message" in str(caught.value)
