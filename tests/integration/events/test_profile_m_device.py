"""Profile M end to end: the service configures the reference device's event broker.

The service side (:func:`enable_profile_m`, :class:`ProfileMReceiver`) talks to
the real reference device over loopback; the device publishes to a real
mosquitto (a broker per test, so retained states of one test never reach
another), and a plain MQTT subscriber checks the raw topics and payloads.
"""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platonicam.device.broker import message_payload, message_topic
from platonicam.device.events import TOPICS_BY_KIND
from platonicam.events.bus import EventBus, Subscription
from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttBridge, MqttSettings
from platonicam.events.profile_m import (
    ProfileMReceiver,
    broker_config,
    enable_profile_m,
    parse_message,
)
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import SoapFaultError
from platonicam.onvif.models.events import EventBroker, OnvifEvent, PropertyOperation
from platonicam.onvif.soap.namespaces import TNS1
from tests.integration.events.mosquitto import Mosquitto
from tests.integration.events.subscriber import Subscriber
from tests.integration.events.test_pullpoint import Device, client_for, launch

CAMERA = "cam-d"
PREFIX = "pm-dev/"
CAMERA_PREFIX = "pm-dev/onvif/cam-d"
MOTION_TOPIC = f"{CAMERA_PREFIX}/onvif-ej/VideoSource/MotionAlarm/&VideoSource_1"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Device]:
    running = await launch(tmp_path / "data")
    yield running
    if not running.task.done():
        await running.stop()


async def broker_status(client: OnvifClient, address: str, want: str) -> list[EventBroker]:
    """GetEventBrokers until the broker at ``address`` reports ``want``."""
    async with asyncio.timeout(10):
        while True:
            brokers = await client.events.get_event_brokers()
            if [b.status for b in brokers if b.address == address] == [want]:
                return brokers
            await asyncio.sleep(0.05)


async def next_motion(events: Subscription, state: bool) -> Event:
    """The next motion event with ``state`` (the device also publishes its other
    properties' states on connecting; those are skipped)."""
    async with asyncio.timeout(10):
        while True:
            event = await events.get()
            assert event is not None
            if event.kind is EventKind.MOTION and event.state is state:
                return event


# ---------------------------------------------------------------------- message format


def test_message_topic_and_payload_follow_core() -> None:
    spec = TOPICS_BY_KIND["cell_motion"]
    event = OnvifEvent(
        topic="/".join(spec.segments),
        topic_path=spec.path,
        raw_topic=spec.path,
        topic_namespaces={"tns1": TNS1},
        source={
            "VideoSourceConfigurationToken": "VideoSourceConfig_1",
            "VideoAnalyticsConfigurationToken": "VideoAnalytics_1",
            "Rule": "My#Motion+",
        },
        data={"IsMotion": "true"},
        utc_time=datetime(2026, 5, 6, 7, 0, 1, 500000, tzinfo=UTC),
        property_operation=PropertyOperation.CHANGED,
    )
    topic = message_topic("MyDevice", event)
    # Source values in GetEventProperties order; MQTT wildcards left out.
    assert topic == (
        "MyDevice/onvif-ej/RuleEngine/CellMotionDetector/Motion"
        "/&VideoSourceConfig_1/VideoAnalytics_1/MyMotion"
    )
    payload = message_payload(event)
    assert json.loads(payload) == {
        "UtcTime": "2026-05-06T07:00:01.500000Z",
        "Source": {
            "VideoSourceConfigurationToken": "VideoSourceConfig_1",
            "VideoAnalyticsConfigurationToken": "VideoAnalytics_1",
            "Rule": "My#Motion+",
        },
        "Data": {"IsMotion": "true"},
    }
    # What the service's parser makes of it.
    (parsed,) = parse_message(
        topic, payload, camera_id="c", topic_prefix="MyDevice", received=now()
    )
    assert (parsed.kind, parsed.state, parsed.topic) == (
        EventKind.MOTION,
        True,
        "RuleEngine/CellMotionDetector/Motion",
    )


# ---------------------------------------------------------------------- end to end


async def test_service_configures_device_and_reads_its_motion(
    device: Device, fresh_broker: Mosquitto, tmp_path: Path
) -> None:
    settings = MqttSettings(url=fresh_broker.url, topic_prefix=PREFIX)
    bus = EventBus()
    events = bus.subscribe(camera_ids=[CAMERA])
    async with (
        client_for(device.port) as client,
        Subscriber("127.0.0.1", fresh_broker.port, [f"{CAMERA_PREFIX}/#"]) as raw,
        MqttBridge(settings) as bridge,
    ):
        receiver = ProfileMReceiver(bridge, bus, clock=now)
        receiver.add_camera(CAMERA)
        await receiver.start()
        await bridge.wait_connected(10)

        capabilities = await client.events.get_service_capabilities()
        assert capabilities.event_broker_protocols == ("mqtt", "mqtts")
        assert capabilities.max_event_brokers == 4

        config = await enable_profile_m(client, settings, CAMERA)
        assert config == broker_config(settings, CAMERA)
        brokers = await broker_status(client, fresh_broker.url, "Connected")
        assert [(b.address, b.topic_prefix, b.password, b.qos) for b in brokers] == [
            (fresh_broker.url, CAMERA_PREFIX, None, 1)
        ]
        only = await client.events.get_event_brokers(fresh_broker.url)
        assert [b.topic_prefix for b in only] == [CAMERA_PREFIX]

        # On connecting the device publishes every property's current state.
        initial = await next_motion(events, False)
        assert initial.camera_id == CAMERA
        assert initial.source == {"Source": "VideoSource_1"}

        message = device.app.device.events.fire("motion", True)
        assert message is not None
        fired = await next_motion(events, True)
        assert (fired.camera_id, fired.kind, fired.state) == (CAMERA, EventKind.MOTION, True)
        assert fired.topic == "VideoSource/MotionAlarm"
        assert fired.source == {"Source": "VideoSource_1"}
        assert fired.time == message.utc_time  # the device's UtcTime, to the microsecond

        messages = await raw.wait_for(lambda m: len(raw.on(MOTION_TOPIC)) >= 2)
        assert messages
        body = raw.on(MOTION_TOPIC)[-1].json()
        assert body["Source"] == {"Source": "VideoSource_1"}
        assert body["Data"] == {"State": "true"}
        assert str(body["UtcTime"]).endswith("Z")

        # Property states are retained: a late subscriber gets the current one.
        async with Subscriber("127.0.0.1", fresh_broker.port, [MOTION_TOPIC]) as late:
            await late.wait_for(lambda m: len(m) >= 1)
            assert late.messages[0].retain
            assert late.messages[0].json()["Data"] == {"State": "true"}

        # Stored for the next start, password and all, readable by the owner only.
        stored = tmp_path / "data" / "events.yaml"
        assert CAMERA_PREFIX in stored.read_text()
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600

        await client.events.delete_event_broker(fresh_broker.url)
        assert await client.events.get_event_brokers() == []
        before = len(raw.messages)
        device.fire_motion(False)
        assert device.app.device.events.fire("tamper", True) is not None
        await asyncio.sleep(1.0)  # what a connected device would have delivered by now
        assert raw.messages[before:] == []
        assert device.app.device.brokers.link(fresh_broker.url) is None
    events.close()


async def test_device_reconnects_and_republishes_state(
    device: Device, fresh_broker: Mosquitto
) -> None:
    settings = MqttSettings(url=fresh_broker.url, topic_prefix=PREFIX)
    async with client_for(device.port) as client:
        link_options = device.app.device.brokers.options
        assert link_options.reconnect_min <= 0.5
        await client.events.add_event_broker(broker_config(settings, CAMERA))
        await broker_status(client, fresh_broker.url, "Connected")

        fresh_broker.stop()
        await broker_status(client, fresh_broker.url, "Connecting")
        device.fire_motion(True)  # while the broker is away
        fresh_broker.start()
        await broker_status(client, fresh_broker.url, "Connected")

        async with Subscriber("127.0.0.1", fresh_broker.port, [MOTION_TOPIC]) as late:
            await late.wait_for(lambda m: any(r.json()["Data"] == {"State": "true"} for r in m))
        await client.events.delete_event_broker(fresh_broker.url)


async def test_broker_faults_follow_core(device: Device, fresh_broker: Mosquitto) -> None:
    settings = MqttSettings(url=fresh_broker.url, topic_prefix=PREFIX)
    async with client_for(device.port) as client:
        with pytest.raises(SoapFaultError) as protocol:
            await client.events.add_event_broker(
                EventBroker(address="ws://127.0.0.1:9001/mqtt", topic_prefix="x")
            )
        assert (protocol.value.code, protocol.value.subcodes) == (
            "Sender",
            ("InvalidArgVal", "InvalidProtocol"),
        )
        with pytest.raises(SoapFaultError) as address:
            await client.events.get_event_brokers("mqtt://127.0.0.1:1")
        assert address.value.subcodes == ("InvalidArgVal", "InvalidAddress")
        with pytest.raises(SoapFaultError) as missing:
            await client.events.delete_event_broker("mqtt://127.0.0.1:1")
        assert missing.value.subcodes == ("InvalidArgVal", "InvalidAddress")
        with pytest.raises(SoapFaultError) as bad_filter:
            await client.events.add_event_broker(
                broker_config(settings, CAMERA, publish_filter="tns1:VideoSource//.|nope:X")
            )
        assert bad_filter.value.subcodes == ("InvalidArgVal", "InvalidFilter")

        # Four brokers fit (the advertised MaxEventBrokers); a fifth does not, but
        # re-adding a configured address replaces it.
        for n in range(4):
            await client.events.add_event_broker(
                broker_config(settings, f"cam-{n}", address=f"mqtt://127.0.0.1:{n + 1}")
            )
        await client.events.add_event_broker(
            broker_config(settings, "cam-again", address="mqtt://127.0.0.1:1")
        )
        with pytest.raises(SoapFaultError) as too_many:
            await client.events.add_event_broker(broker_config(settings, CAMERA))
        assert (too_many.value.code, too_many.value.subcodes) == (
            "Receiver",
            ("Action", "TooManyEventBrokers"),
        )
        brokers = await client.events.get_event_brokers()
        assert [(b.address, b.topic_prefix) for b in brokers] == [
            ("mqtt://127.0.0.1:2", "pm-dev/onvif/cam-1"),
            ("mqtt://127.0.0.1:3", "pm-dev/onvif/cam-2"),
            ("mqtt://127.0.0.1:4", "pm-dev/onvif/cam-3"),
            ("mqtt://127.0.0.1:1", "pm-dev/onvif/cam-again"),
        ]
        # Nothing listens on those ports: the device keeps trying, quietly.
        assert {b.status for b in brokers} <= {"Connecting", "Offline"}
