"""The broker goes away mid-stream and comes back on the same port.

Events published meanwhile wait in the bridge's outbox: within its bound every
one arrives after the reconnect, in order, none twice (after deduplicating by
``id`` as QoS 1 requires); beyond the bound the oldest are dropped and counted.
The subscriber keeps a persistent session on a broker with persistence, so it
misses nothing while both reconnect.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttBridge, MqttSettings
from tests.integration.events.mosquitto import Mosquitto
from tests.integration.events.subscriber import Subscriber, unique_by_id

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def numbered(n: int) -> Event:
    """Even: motion state (retained topic); odd: a line crossing (momentary)."""
    if n % 2 == 0:
        return Event(
            camera_id="cam-r",
            kind=EventKind.MOTION,
            topic="VideoSource/MotionAlarm",
            raw_topic="tns1:VideoSource/MotionAlarm",
            source={"Source": "vs1"},
            data={"n": str(n)},
            state=n % 4 == 0,
            time=WHEN,
        )
    return Event(
        camera_id="cam-r",
        kind=EventKind.LINE_CROSSING,
        topic="RuleEngine/LineDetector/Crossed",
        raw_topic="tns1:RuleEngine/LineDetector/Crossed",
        data={"n": str(n)},
        time=WHEN,
    )


def numbers(bodies: list[dict[str, object]]) -> list[int]:
    out = []
    for body in bodies:
        data = body["data"]
        assert isinstance(data, dict)
        out.append(int(data["n"]))
    return out


async def wait_until(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    async with asyncio.timeout(timeout):
        # Polls a plain attribute of the bridge: there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_broker_restart_loses_nothing_within_the_bound(fresh_broker: Mosquitto) -> None:
    settings = MqttSettings(
        url=fresh_broker.url, outbox_size=50, reconnect_min=0.05, reconnect_max=0.2
    )
    async with (
        Subscriber(
            "127.0.0.1", fresh_broker.port, ["platonicam/cam-r/#"], session="restart-reader"
        ) as sub,
        MqttBridge(settings) as bridge,
    ):
        await bridge.wait_connected(10)
        for n in range(10):
            await bridge.publish(numbered(n))
        await sub.wait_for(lambda m: len(unique_by_id(m)) == 10)

        fresh_broker.stop()
        await wait_until(lambda: not bridge.connected)
        for n in range(10, 90):  # 80 events into an outbox of 50: the 30 oldest go
            await bridge.publish(numbered(n))
        assert (bridge.pending, bridge.dropped) == (50, 30)

        fresh_broker.start()
        await bridge.wait_connected(10)
        assert await bridge.flush(10)
        await sub.wait_for(lambda m: 89 in numbers(unique_by_id(m)), timeout=15)

        assert numbers(unique_by_id(sub.messages)) == [*range(10), *range(40, 90)]
        assert bridge.dropped == 30
        assert bridge.connections == 2
        assert sub.connections >= 2


async def test_events_before_the_first_connection_wait_in_the_outbox(
    fresh_broker: Mosquitto,
) -> None:
    fresh_broker.stop()
    settings = MqttSettings(url=fresh_broker.url, reconnect_min=0.05, reconnect_max=0.1)
    async with MqttBridge(settings) as bridge:
        for n in range(5):
            await bridge.publish(numbered(n))
        await asyncio.sleep(0.3)  # a few refused attempts
        assert (bridge.connections, bridge.pending) == (0, 5)
        assert bridge.last_error is not None
        fresh_broker.start()
        await bridge.wait_connected(10)
        assert await bridge.flush(10)
        assert (bridge.sent, bridge.pending, bridge.dropped) == (5, 0, 0)
    # What a late reader sees: the last motion state (n=4), retained.
    async with Subscriber("127.0.0.1", fresh_broker.port, ["platonicam/cam-r/#"]) as sub:
        await sub.wait_for(lambda m: len(m) >= 1)
        [state] = unique_by_id(sub.messages)
        assert (state["kind"], state["state"], state["data"]) == ("motion", True, {"n": "4"})
