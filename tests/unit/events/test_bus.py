"""The in-process bus: bounded queues (drop oldest), filters, unsubscribe, sinks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from platonicam.events.bus import EventBus, EventFilter, Sink
from platonicam.events.model import Event, EventKind


def event(n: int, camera: str = "cam-1", kind: EventKind = EventKind.MOTION) -> Event:
    return Event(
        camera_id=camera,
        kind=kind,
        topic="VideoSource/MotionAlarm",
        raw_topic="tns1:VideoSource/MotionAlarm",
        data={"n": str(n)},
        state=n % 2 == 0,
        time=datetime(2026, 1, 1, 0, 0, n % 60, tzinfo=UTC),
    )


def numbers(events: list[Event | None]) -> list[str]:
    return [e.data["n"] for e in events if e is not None]


async def test_full_queue_drops_oldest_and_counts() -> None:
    bus = EventBus()
    subscription = bus.subscribe(max_queue=3)
    for n in range(5):
        bus.publish_nowait(event(n))
    assert subscription.dropped == 2
    assert subscription.pending == 3
    assert numbers([subscription.get_nowait() for _ in range(4)]) == ["2", "3", "4"]
    assert bus.published == 5


async def test_a_slow_reader_does_not_hold_up_a_fast_one() -> None:
    bus = EventBus()
    slow = bus.subscribe(max_queue=1)
    fast = bus.subscribe(max_queue=10)
    for n in range(4):
        await bus.publish(event(n))
    assert (slow.dropped, fast.dropped) == (3, 0)
    assert numbers([await fast.get() for _ in range(4)]) == ["0", "1", "2", "3"]
    assert numbers([await slow.get()]) == ["3"]


async def test_filters_by_camera_and_kind() -> None:
    bus = EventBus()
    cam2 = bus.subscribe(camera_ids=["cam-2"])
    tamper = bus.subscribe(kinds=["tamper"])
    both = bus.subscribe(camera_ids={"cam-1"}, kinds=[EventKind.TAMPER, EventKind.RELAY])
    nothing = bus.subscribe(camera_ids=[])
    bus.publish_nowait(event(1, "cam-1", EventKind.MOTION))
    bus.publish_nowait(event(2, "cam-2", EventKind.MOTION))
    bus.publish_nowait(event(3, "cam-2", EventKind.TAMPER))
    bus.publish_nowait(event(4, "cam-1", EventKind.TAMPER))
    assert numbers([cam2.get_nowait(), cam2.get_nowait(), cam2.get_nowait()]) == ["2", "3"]
    assert numbers([tamper.get_nowait(), tamper.get_nowait(), tamper.get_nowait()]) == ["3", "4"]
    assert numbers([both.get_nowait(), both.get_nowait()]) == ["4"]
    assert nothing.pending == 0


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="'smoke' is not a valid EventKind"):
        EventFilter.of(kinds=["smoke"])


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue size must be at least 1, got -1"):
        EventBus().subscribe(max_queue=-1)


async def test_unsubscribe_stops_delivery_and_ends_iteration() -> None:
    bus = EventBus()
    subscription = bus.subscribe()
    bus.publish_nowait(event(1))
    subscription.close()
    bus.publish_nowait(event(2))
    assert bus.subscriptions == ()
    assert numbers([e async for e in subscription]) == ["1"]  # queued before close: still read
    assert subscription.closed


async def test_waiting_reader_wakes_on_publish_and_on_close() -> None:
    bus = EventBus()
    subscription = bus.subscribe()
    waiter = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    bus.publish_nowait(event(7))
    assert numbers([await asyncio.wait_for(waiter, 1)]) == ["7"]
    waiter = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    async with subscription:
        pass  # leaving the block unsubscribes
    assert await asyncio.wait_for(waiter, 1) is None


class Recorder:
    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.seen: list[str] = []
        self.fail_on = fail_on or set()

    async def publish(self, event: Event) -> None:
        await asyncio.sleep(0)
        if event.data["n"] in self.fail_on:
            raise RuntimeError("broker said no")
        self.seen.append(event.data["n"])


async def test_attached_sink_gets_events_in_order_and_survives_its_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    sink = Recorder(fail_on={"2"})
    assert isinstance(sink, Sink)
    assert isinstance(bus, Sink)
    handle = bus.attach(sink, kinds=["motion"])
    for n in range(5):
        await bus.publish(event(n))
    await bus.publish(event(9, kind=EventKind.TAMPER))
    await bus.detach(handle)  # drains first
    assert sink.seen == ["0", "1", "3", "4"]
    assert (handle.delivered, handle.failed, handle.dropped) == (4, 1, 0)
    assert "event sink Recorder failed on cam-1/motion" in caplog.text
    assert bus.subscriptions == ()


async def test_aclose_without_drain_cancels_sinks() -> None:
    bus = EventBus()
    sink = Recorder()
    handle = bus.attach(sink, max_queue=2, name="mqtt")
    for n in range(4):
        bus.publish_nowait(event(n))
    assert handle.dropped == 2
    assert handle.name == "mqtt"
    await bus.aclose(drain=False)
    assert sink.seen == []
    assert bus.subscriptions == ()
