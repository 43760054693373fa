"""Profile M through a real broker: a camera publishes ``onvif-ej`` messages under the
prefix we gave it; the receiver turns them into events on the bus, and the bridge
publishes those on our own topics."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aiomqtt

from platonicam.events.bus import EventBus
from platonicam.events.model import EventKind
from platonicam.events.mqtt import MqttBridge, MqttSettings
from platonicam.events.profile_m import ProfileMReceiver, broker_config
from platonicam.onvif.models.events import PropertyOperation
from tests.integration.events.mosquitto import Mosquitto
from tests.integration.events.subscriber import Subscriber


def now() -> datetime:
    return datetime.now(UTC)


async def test_camera_messages_become_events_and_reach_our_topics(broker: Mosquitto) -> None:
    settings = MqttSettings(url=broker.url, topic_prefix="pm/")
    # What the camera is told with AddEventBroker; it publishes as itself.
    config = broker_config(settings, "cam-m")
    assert config.topic_prefix == "pm/onvif/cam-m"
    camera = aiomqtt.Client("127.0.0.1", broker.port, identifier="camera-cam-m")
    bus = EventBus()
    async with camera:
        # A property state published (retained) before we listen.
        await camera.publish(
            f"{config.topic_prefix}/onvif-ej/VideoSource/MotionAlarm/&vs1",
            b'{"UtcTime":"2026-05-06T07:00:00Z","Source":{"Source":"vs1"},"Data":{"State":true}}',
            qos=1,
            retain=True,
        )
        async with (
            Subscriber("127.0.0.1", broker.port, ["pm/cam-m/#"]) as ours,
            MqttBridge(settings) as bridge,
        ):
            receiver = ProfileMReceiver(bridge, bus, clock=now)
            receiver.add_camera("cam-m")
            events = bus.subscribe()
            handle = bus.attach(bridge)
            await receiver.start()
            await bridge.wait_connected(10)

            first = await events.get()
            assert first is not None
            assert (first.camera_id, first.kind, first.state) == ("cam-m", EventKind.MOTION, True)
            assert first.property_operation is PropertyOperation.INITIALIZED

            await camera.publish(
                f"{config.topic_prefix}/onvif-ej/RuleEngine/LineDetector/Crossed/&1/2/Fence1",
                json.dumps(
                    {
                        "UtcTime": "2026-05-06T07:00:01.5Z",
                        "Source": {
                            "VideoSource": "1",
                            "AnalyticsConfiguration": "2",
                            "Rule": "Fence1",
                        },
                        "Data": {"ObjectId": "15"},
                    }
                ).encode(),
                qos=1,
            )
            await camera.publish(
                f"{config.topic_prefix}/onvif-ej/VideoSource/MotionAlarm", b"{oops", qos=1
            )
            # A camera we did not configure is ignored.
            await camera.publish("pm/onvif/stranger/onvif-ej/VideoSource/MotionAlarm", b"{}", qos=1)
            crossing = await events.get()
            assert crossing is not None
            assert (crossing.kind, crossing.data, crossing.source["Rule"]) == (
                EventKind.LINE_CROSSING,
                {"ObjectId": "15"},
                "Fence1",
            )

            await ours.wait_for(lambda m: len(m) >= 2)
            motion = ours.on("pm/cam-m/motion")[0].json()
            assert (motion["state"], motion["propertyOperation"]) == (True, "Initialized")
            line = ours.on("pm/cam-m/line_crossing")[0].json()
            assert line["time"] == "2026-05-06T07:00:01.500000Z"
            # The stranger's message came last on the same connection: once it is
            # counted, the malformed one before it was handled too.
            async with asyncio.timeout(5):
                while receiver.unknown < 1:  # noqa: ASYNC110 - a plain counter
                    await asyncio.sleep(0.01)
            assert receiver.received == 2
            assert receiver.malformed_count == 1
            assert receiver.malformed[0][1] == "pm/onvif/cam-m/onvif-ej/VideoSource/MotionAlarm"
            assert receiver.unknown == 1
            await bus.detach(handle)
            events.close()
        # Leave the broker as we found it.
        await camera.publish(
            f"{config.topic_prefix}/onvif-ej/VideoSource/MotionAlarm/&vs1", b"", qos=1, retain=True
        )
