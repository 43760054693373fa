"""WS-BaseNotification push, the alternative to PullPoint: a real HTTP client posts
``wsnt:Notify`` to the :class:`NotifyConsumer` served by uvicorn on loopback, and
``wsnt:Subscribe`` goes to a replayed camera and to the reference device, which pushes
back to the consumer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from platonicam.events.bus import EventBus, Subscription
from platonicam.events.model import Event, EventKind
from platonicam.events.push import ConsumerStats, NotifyConsumer, subscribe_push
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import SoapFaultError
from platonicam.onvif.models.events import OnvifEvent, PropertyOperation, SubscriptionReference
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import WSNT
from platonicam.testing.replay import ReplayCamera
from tests.conftest import LoopbackOnlyTransport
from tests.corpus import CORPUS
from tests.integration.events.test_pullpoint import ADMIN, launch

CAMERA = "front-door"


def notify(*messages: OnvifEvent, extra: bytes = b"") -> bytes:
    body = element(WSNT, "Notify")
    for message in messages:
        message.to_xml(body)
    data = build_envelope(body)
    return data.replace(b"</wsnt:Notify>", extra + b"</wsnt:Notify>") if extra else data


def motion_message(state: bool, second: int) -> OnvifEvent:
    return OnvifEvent(
        topic="RuleEngine/CellMotionDetector/Motion",
        topic_path="tns1:RuleEngine/CellMotionDetector/Motion",
        raw_topic="tns1:RuleEngine/CellMotionDetector/Motion",
        topic_namespaces={"tns1": "http://www.onvif.org/ver10/topics"},
        source={"VideoSourceConfigurationToken": "VSC_1", "Rule": "MyMotionDetectorRule"},
        data={"IsMotion": "true" if state else "false"},
        utc_time=datetime(2026, 5, 1, 12, 0, second, tzinfo=UTC),
        property_operation=PropertyOperation.CHANGED,
    )


@pytest.fixture
async def consumer() -> AsyncIterator[tuple[NotifyConsumer, EventBus, str]]:
    bus = EventBus()
    endpoint = NotifyConsumer(bus, base_url="http://127.0.0.1:0")
    config = uvicorn.Config(endpoint, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    endpoint.base_url = f"http://127.0.0.1:{port}"
    yield endpoint, bus, endpoint.base_url
    server.should_exit = True
    await task


async def test_pushed_notify_reaches_the_bus_once(
    consumer: tuple[NotifyConsumer, EventBus, str],
) -> None:
    endpoint, bus, base = consumer
    seen = bus.subscribe()
    url = endpoint.register(CAMERA)
    assert url.startswith(f"{base}/events/notify/")
    transport = LoopbackOnlyTransport()
    try:
        first = await transport.post(url, notify(motion_message(True, 1)), action=ops.NOTIFY_ACTION)
        assert (first.status_code, first.content) == (200, b"")
        event = seen.get_nowait()
        assert event is not None
        assert (event.camera_id, event.kind, event.state) == (CAMERA, EventKind.MOTION, True)
        assert event.source == {
            "VideoSourceConfigurationToken": "VSC_1",
            "Rule": "MyMotionDetectorRule",
        }
        assert event.time == datetime(2026, 5, 1, 12, 0, 1, tzinfo=UTC)

        # The same Notify again (a camera retrying), then a change with a bad
        # message beside it.
        await transport.post(url, notify(motion_message(True, 1)), action=ops.NOTIFY_ACTION)
        bad = b"<wsnt:NotificationMessage><wsnt:Topic/></wsnt:NotificationMessage>"
        third = await transport.post(
            url, notify(motion_message(False, 9), extra=bad), action=ops.NOTIFY_ACTION
        )
        assert third.status_code == 200
        later = seen.get_nowait()
        assert later is not None
        assert later.state is False
        assert seen.get_nowait() is None
        assert endpoint.stats(CAMERA) == ConsumerStats(
            notifies=3, events=2, duplicates=1, malformed=1
        )

        garbage = await transport.post(url, b"<nope/>", action=ops.NOTIFY_ACTION)
        assert (garbage.status_code, garbage.content) == (400, b"not a wsnt:Notify")
        assert endpoint.stats(CAMERA).malformed == 2

        stranger = await transport.post(
            f"{base}/events/notify/guessed",
            notify(motion_message(True, 2)),
            action=ops.NOTIFY_ACTION,
        )
        assert stranger.status_code == 404
        endpoint.unregister(CAMERA)
        gone = await transport.post(url, notify(motion_message(True, 3)), action=ops.NOTIFY_ACTION)
        assert gone.status_code == 404
        assert bus.published == 2
    finally:
        await transport.aclose()


async def test_notify_over_the_size_limit_is_refused() -> None:
    bus = EventBus()
    endpoint = NotifyConsumer(bus, base_url="http://127.0.0.1:1", max_body=100)
    url = endpoint.register(CAMERA)
    path = url.removeprefix("http://127.0.0.1:1")
    sent: list[MutableMapping[str, object]] = []
    body = notify(motion_message(True, 1))

    async def receive() -> MutableMapping[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, object]) -> None:
        sent.append(message)

    await endpoint({"type": "http", "method": "POST", "path": path}, receive, send)
    assert sent[0]["status"] == 413
    assert bus.published == 0


_SUBSCRIBE_ANSWER = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
    xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:wsa="http://www.w3.org/2005/08/addressing">
<env:Body><wsnt:SubscribeResponse>
  <wsnt:SubscriptionReference>
    <wsa:Address>http://10.10.1.65/onvif/Events/SubManager_2018-02-27T18:34:42Z_7</wsa:Address>
  </wsnt:SubscriptionReference>
  <wsnt:CurrentTime>2018-02-27T18:34:42Z</wsnt:CurrentTime>
  <wsnt:TerminationTime>2018-02-27T18:35:42Z</wsnt:TerminationTime>
</wsnt:SubscribeResponse></env:Body></env:Envelope>"""


async def test_subscribe_push_to_a_replayed_camera() -> None:
    async with ReplayCamera(
        CORPUS, "hikvision_DS-2CD2012-I", responses={"Subscribe": _SUBSCRIBE_ANSWER}
    ) as camera:
        async with OnvifClient(
            "127.0.0.1", camera.port, transport=LoopbackOnlyTransport()
        ) as client:
            subscription = await subscribe_push(
                client,
                "http://127.0.0.1:9/events/notify/token",
                topic_filter="tns1:RuleEngine//.",
                termination=timedelta(minutes=1),
            )
        assert camera.requests["Subscribe"] == 1
    assert subscription.reference == SubscriptionReference(
        address=f"http://127.0.0.1:{camera.port}/onvif/Events/SubManager_2018-02-27T18:34:42Z_7",
        current_time=datetime(2018, 2, 27, 18, 34, 42, tzinfo=UTC),
        termination_time=datetime(2018, 2, 27, 18, 35, 42, tzinfo=UTC),
    )
    assert subscription.url == subscription.reference.address


async def test_reference_device_pushes_to_the_consumer(
    tmp_path: Path, consumer: tuple[NotifyConsumer, EventBus, str]
) -> None:
    """Subscribe on the reference device, over real sockets both ways: the current
    state arrives at once, then each change; Renew and Unsubscribe work on it."""
    endpoint, bus, _ = consumer
    seen = bus.subscribe()
    device = await launch(tmp_path / "data")
    try:
        async with OnvifClient(
            "127.0.0.1", device.port, *ADMIN, transport=LoopbackOnlyTransport()
        ) as client:
            url = endpoint.register(CAMERA)
            subscription = await subscribe_push(
                client,
                url,
                topic_filter="tns1:VideoSource/MotionAlarm",
                termination=timedelta(seconds=30),
            )
            hub = device.app.device.events
            assert hub.subscription_count == 1
            initial = await next_pushed(seen)
            assert (initial.kind, initial.state, initial.property_operation) == (
                EventKind.MOTION,
                False,
                PropertyOperation.INITIALIZED,
            )
            device.fire_motion(True)
            changed = await next_pushed(seen)
            assert (changed.state, changed.property_operation) == (True, PropertyOperation.CHANGED)
            assert changed.source == {"Source": "VideoSource_1"}

            renewed = await subscription.renew(timedelta(seconds=45))
            assert renewed.termination_time is not None
            assert renewed.current_time is not None
            granted = renewed.termination_time - renewed.current_time
            assert abs(granted - timedelta(seconds=45)) < timedelta(seconds=1)
            # A push subscription is not a pull point.
            with pytest.raises(SoapFaultError):
                await subscription.pull(timedelta(seconds=0))
            await subscription.unsubscribe()
            assert hub.subscription_count == 0
            assert device.app.device.push.delivered == 2
            # A consumer address that is no URL is refused at Subscribe.
            with pytest.raises(SoapFaultError) as refused:
                await subscribe_push(client, "mailto:ops@example.test")
            assert "SubscribeCreationFailedFault" in refused.value.subcodes
        assert endpoint.stats(CAMERA) == ConsumerStats(notifies=2, events=2)
    finally:
        await device.stop()


async def test_device_ends_a_push_subscription_whose_consumer_forgot_it(
    tmp_path: Path, consumer: tuple[NotifyConsumer, EventBus, str]
) -> None:
    endpoint, _, _ = consumer
    device = await launch(tmp_path / "data")
    try:
        async with OnvifClient(
            "127.0.0.1", device.port, *ADMIN, transport=LoopbackOnlyTransport()
        ) as client:
            url = endpoint.register(CAMERA)
            await subscribe_push(client, url, termination=timedelta(seconds=30))
            hub = device.app.device.events
            await until(lambda: endpoint.stats(CAMERA).notifies >= 1)
            endpoint.unregister(CAMERA)
            device.fire_motion(True)
            # The consumer answers 404: the device drops the subscription.
            await until(lambda: hub.subscription_count == 0)
    finally:
        await device.stop()


async def next_pushed(seen: Subscription) -> Event:
    async with asyncio.timeout(5):
        event = await seen.get()
    assert event is not None
    return event


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling state that has no event to wait on
            await asyncio.sleep(0.01)
