"""The PullPoint manager against the real reference device (and a replayed camera) on loopback.

Each test runs a device with uvicorn on 127.0.0.1, a :class:`PullPointManager`
with an :class:`EventBus` as its sink, and reads what reaches the bus.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from platonicam.clock import SystemClock
from platonicam.device.app import DeviceApp, create_device_app
from platonicam.device.core import DeviceOptions
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams
from platonicam.events.bus import EventBus, Subscription
from platonicam.events.model import Event, EventKind
from platonicam.events.pullpoint import (
    PullPointManager,
    PullPointOptions,
    PullPointState,
    PullPointStatus,
)
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.device import User, UserLevel
from platonicam.onvif.models.events import PropertyOperation
from platonicam.testing.replay import ReplayCamera
from tests.conftest import LoopbackOnlyTransport
from tests.corpus import CORPUS

ADMIN = ("admin", "admin-secret-1")
CAMERA = "cam-1"
MOTION_FILTER = "tns1:VideoSource/MotionAlarm"
FAST = PullPointOptions(
    topic_filter=MOTION_FILTER,
    pull_timeout=timedelta(seconds=1),
    backoff_initial=0.05,
    backoff_max=0.2,
    backoff_jitter=0.0,
)


@dataclass
class Device:
    app: DeviceApp
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task

    def fire_motion(self, state: bool) -> None:
        assert self.app.device.events.fire("motion", state) is not None


async def launch(data_dir: Path, port: int = 0) -> Device:
    """A reference device on 127.0.0.1:``port`` (ephemeral when 0), fresh in-memory
    event state (a reboot loses every subscription), persisted configuration."""
    state = DeviceState.load(data_dir, channels=1)

    async def reboot() -> None:
        return None

    app = create_device_app(
        state,
        NullStreams(rtsp_port=8554),
        DeviceOptions(clock=SystemClock(), reboot=reboot, reboot_delay=0.0),
    )
    if not state.users.users:
        app.device.users.create([User(ADMIN[0], UserLevel.ADMINISTRATOR, ADMIN[1])])
    await app.device.start()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Device(app, server, task, bound)


def client_for(port: int) -> OnvifClient:
    return OnvifClient("127.0.0.1", port, *ADMIN, transport=LoopbackOnlyTransport())


async def next_event(subscription: Subscription, timeout: float = 1.0) -> Event:
    async with asyncio.timeout(timeout):
        event = await subscription.get()
    assert event is not None
    return event


def motion(event: Event) -> tuple[bool | None, PropertyOperation | None]:
    assert event.kind is EventKind.MOTION
    assert event.topic == "VideoSource/MotionAlarm"
    assert event.source == {"Source": "VideoSource_1"}
    return event.state, event.property_operation


INIT, CHANGED = PropertyOperation.INITIALIZED, PropertyOperation.CHANGED


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Device]:
    running = await launch(tmp_path / "data")
    yield running
    if not running.task.done():
        await running.stop()


async def test_motion_reaches_the_bus_within_a_second(device: Device) -> None:
    bus = EventBus()
    seen = bus.subscribe(camera_ids=[CAMERA])
    async with client_for(device.port) as client:
        async with PullPointManager(CAMERA, client, bus, options=FAST) as manager:
            initial = await next_event(seen, timeout=5)
            assert motion(initial) == (False, INIT)
            assert initial.camera_id == CAMERA
            assert initial.raw_topic == "tns1:VideoSource/MotionAlarm"
            assert initial.payload_xml is not None
            assert "MotionAlarm" in initial.payload_xml
            assert manager.status.state is PullPointState.SUBSCRIBED

            loop = asyncio.get_running_loop()
            fired_at = loop.time()
            device.fire_motion(True)
            event = await next_event(seen, timeout=1.0)
            assert loop.time() - fired_at < 1.0
            assert motion(event) == (True, CHANGED)
            assert event.data == {"State": "true"}
            assert event.time is not None

            device.fire_motion(False)
            assert motion(await next_event(seen)) == (False, CHANGED)
            status = manager.status
            assert (status.subscriptions, status.events, status.malformed) == (1, 3, 0)
        assert manager.state is PullPointState.STOPPED
    # The manager released its pull point on the device.
    assert device.app.device.events.subscription_count == 0


async def test_device_restart_recreates_subscription_without_duplicates(
    device: Device, tmp_path: Path
) -> None:
    bus = EventBus()
    seen = bus.subscribe()
    port = device.port
    async with (
        client_for(port) as client,
        PullPointManager(CAMERA, client, bus, options=FAST) as manager,
    ):
        assert motion(await next_event(seen, timeout=5)) == (False, INIT)
        device.fire_motion(True)
        assert motion(await next_event(seen)) == (True, CHANGED)
        device.fire_motion(False)
        assert motion(await next_event(seen)) == (False, CHANGED)

        await device.stop()  # the camera reboots: every subscription is gone
        await manager.wait_for(lambda s: s.state is PullPointState.RETRYING, timeout=5)
        rebooted = await launch(tmp_path / "data", port)
        try:
            status = await manager.wait_for(
                lambda s: s.subscriptions == 2 and s.state is PullPointState.SUBSCRIBED,
                timeout=10,
            )
            assert status.failures >= 1
            # The new subscription's Initialized motion=false repeats the
            # last delivered state: dropped, not delivered again.
            await manager.wait_for(lambda s: s.duplicates >= 1, timeout=5)
            assert seen.get_nowait() is None

            rebooted.fire_motion(True)
            assert motion(await next_event(seen)) == (True, CHANGED)
            await asyncio.sleep(0.3)
            assert seen.get_nowait() is None  # exactly once
            assert manager.status.failures == 0
        finally:
            await manager.stop()
            await rebooted.stop()
    assert bus.published == 4


async def test_renews_at_80_percent_of_the_termination_time(device: Device) -> None:
    bus = EventBus()
    seen = bus.subscribe()
    renewed: list[PullPointStatus] = []
    options = PullPointOptions(
        topic_filter=MOTION_FILTER,
        termination=timedelta(seconds=3),
        min_renew_interval=timedelta(milliseconds=500),
        pull_timeout=timedelta(seconds=1),
    )
    async with client_for(device.port) as client:
        manager = PullPointManager(
            CAMERA,
            client,
            bus,
            options=options,
            on_status=lambda s: renewed.append(s) if s.state is PullPointState.RENEWING else None,
        )
        async with manager:
            first = await manager.wait_for(lambda s: s.subscriptions == 1, timeout=5)
            assert first.subscribed_at is not None
            assert first.next_renew_at is not None
            # The device grants exactly what was asked (3 s): renew 2.4 s in.
            assert first.next_renew_at - first.subscribed_at == pytest.approx(2.4, abs=0.1)
            status = await manager.wait_for(lambda s: s.renewals >= 2, timeout=8)
            # Past the first termination time, still the first subscription.
            assert status.subscriptions == 1
            assert status.failures == 0
            assert renewed[0].next_renew_at == pytest.approx(first.next_renew_at, abs=0.01)
            device.fire_motion(True)
            events = [await next_event(seen, timeout=5), await next_event(seen)]
            assert [motion(e) for e in events] == [(False, INIT), (True, CHANGED)]
            assert device.app.device.events.subscription_count == 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_camera_backs_off_then_recovers(tmp_path: Path) -> None:
    port = free_port()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(seconds)

    bus = EventBus()
    seen = bus.subscribe()
    # Not entered: connecting is the manager's job, and there is nothing to connect to yet.
    client = client_for(port)
    try:
        manager = PullPointManager(CAMERA, client, bus, options=FAST, sleep=sleep)
        async with manager:
            status = await manager.wait_for(lambda s: s.failures >= 4, timeout=5)
            assert status.state is PullPointState.RETRYING
            assert status.last_error is not None
            assert status.last_error.startswith("camera unreachable")
            assert delays[:4] == [0.05, 0.1, 0.2, 0.2]  # doubling, capped
            device = await launch(tmp_path / "data", port)
            try:
                await manager.wait_for(
                    lambda s: s.state is PullPointState.SUBSCRIBED and s.failures == 0, timeout=5
                )
                assert motion(await next_event(seen, timeout=5)) == (False, INIT)
                device.fire_motion(True)
                assert motion(await next_event(seen)) == (True, CHANGED)
            finally:
                await manager.stop()
                await device.stop()
    finally:
        await client.aclose()


async def test_wrong_password_fails_without_retrying(device: Device) -> None:
    bus = EventBus()
    client = OnvifClient(
        "127.0.0.1", device.port, "admin", "wrong", transport=LoopbackOnlyTransport()
    )
    async with client:
        pass
    manager = PullPointManager(CAMERA, client, bus, options=FAST)
    async with manager:
        status = await manager.wait_for(lambda s: s.state is PullPointState.FAILED, timeout=5)
    assert status.subscriptions == 0
    assert status.last_error is not None
    assert status.last_error.startswith("cannot subscribe")
    assert bus.published == 0


# ---------------------------------------------------------------------- malformed notifications

_PULL_ANSWER = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
    xmlns:tev="http://www.onvif.org/ver10/events/wsdl"
    xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"
    xmlns:tt="http://www.onvif.org/ver10/schema"
    xmlns:tns1="http://www.onvif.org/ver10/topics">
<env:Body><tev:PullMessagesResponse>
<tev:CurrentTime>2018-02-27T18:35:42Z</tev:CurrentTime>
<tev:TerminationTime>2018-02-27T18:45:42Z</tev:TerminationTime>
<wsnt:NotificationMessage>
  <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
    >tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>
  <wsnt:Message><tt:Message UtcTime="yesterday-ish" PropertyOperation="Changed">
    <tt:Source><tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source>
    <tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data>
  </tt:Message></wsnt:Message>
</wsnt:NotificationMessage>
<wsnt:NotificationMessage>
  <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
    >tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>
  <wsnt:Message><tt:Message UtcTime="2018-02-27T18:35:40Z" PropertyOperation="Changed">
    <tt:Source><tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source>
    <tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data>
  </tt:Message></wsnt:Message>
</wsnt:NotificationMessage>
<wsnt:NotificationMessage><wsnt:Topic>  </wsnt:Topic></wsnt:NotificationMessage>
</tev:PullMessagesResponse></env:Body></env:Envelope>"""


async def test_malformed_notifications_are_counted_and_skipped() -> None:
    """A replayed Hikvision DS-2CD2012-I whose PullMessages answer holds one good
    message between two bad ones (an unreadable UtcTime, an empty topic), and
    gives the same answer to every pull."""
    bus = EventBus()
    seen = bus.subscribe()
    async with ReplayCamera(
        CORPUS, "hikvision_DS-2CD2012-I", responses={"PullMessages": _PULL_ANSWER}
    ) as camera:
        client = OnvifClient("127.0.0.1", camera.port, transport=LoopbackOnlyTransport())
        async with client, PullPointManager(CAMERA, client, bus, options=FAST) as manager:
            event = await next_event(seen, timeout=5)
            assert (event.kind, event.state, event.source) == (
                EventKind.MOTION,
                True,
                {"Rule": "MyMotionDetectorRule"},
            )
            status = await manager.wait_for(lambda s: s.pulls >= 3, timeout=5)
            assert status.malformed == 2 * status.pulls
            assert status.events == 1  # the repeats are duplicates
            assert status.duplicates == status.pulls - 1
            assert status.state is PullPointState.SUBSCRIBED
            assert status.subscriptions == 1
            assert seen.get_nowait() is None
        assert camera.requests["CreatePullPointSubscription"] == 1


async def test_unreadable_pull_answer_recreates_the_subscription() -> None:
    bus = EventBus()
    async with ReplayCamera(
        CORPUS, "hikvision_DS-2CD2012-I", responses={"PullMessages": b"<not-soap"}
    ) as camera:
        client = OnvifClient("127.0.0.1", camera.port, transport=LoopbackOnlyTransport())
        async with client:
            options = PullPointOptions(backoff_initial=0.01, backoff_max=0.02, max_failures=3)
            manager = PullPointManager(CAMERA, client, bus, options=options)
            async with manager:
                status = await manager.wait_for(
                    lambda s: s.state is PullPointState.FAILED, timeout=5
                )
        assert status.malformed == 3
        assert status.subscriptions == 3
        assert status.failures == 3
        assert status.last_error is not None
        assert status.last_error.startswith("unreadable PullMessages answer")
        assert camera.requests["CreatePullPointSubscription"] == 3


# ---------------------------------------------------------------------- broken relative times

_NO_TIME_GRANTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
    xmlns:tev="http://www.onvif.org/ver10/events/wsdl"
    xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:wsa="http://www.w3.org/2005/08/addressing">
<env:Body><tev:CreatePullPointSubscriptionResponse>
  <tev:SubscriptionReference>
    <wsa:Address>http://10.10.1.65/onvif/Events/PullSubManager_2018-02-27T18:34:42Z_1</wsa:Address>
  </tev:SubscriptionReference>
  <wsnt:CurrentTime>2018-02-27T18:34:42Z</wsnt:CurrentTime>
  <wsnt:TerminationTime>2018-02-27T18:34:42Z</wsnt:TerminationTime>
</tev:CreatePullPointSubscriptionResponse></env:Body></env:Envelope>"""

_RENEWED = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
    xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">
<env:Body><wsnt:RenewResponse>
  <wsnt:TerminationTime>2018-02-27T18:35:43Z</wsnt:TerminationTime>
  <wsnt:CurrentTime>2018-02-27T18:34:43Z</wsnt:CurrentTime>
</wsnt:RenewResponse></env:Body></env:Envelope>"""


async def test_camera_granting_no_time_is_switched_to_absolute_times() -> None:
    """A camera that answers a relative ``PT60S`` with a termination equal to its
    current time (the relative-time quirk): the manager renews at the floor, with
    absolute times from then on, and then at 80 % of what the renewal granted."""
    bus = EventBus()
    responses = {"CreatePullPointSubscription": _NO_TIME_GRANTED, "Renew": _RENEWED}
    async with ReplayCamera(CORPUS, "hikvision_DS-2CD2012-I", responses=responses) as camera:
        client = OnvifClient("127.0.0.1", camera.port, transport=LoopbackOnlyTransport())
        options = PullPointOptions(
            min_renew_interval=timedelta(milliseconds=300), pull_timeout=timedelta(seconds=1)
        )
        assert options.absolute_termination is False
        async with client, PullPointManager(CAMERA, client, bus, options=options) as manager:
            first = await manager.wait_for(lambda s: s.subscriptions == 1, timeout=5)
            assert first.absolute_termination is True
            assert first.subscribed_at is not None
            assert first.next_renew_at is not None
            assert first.next_renew_at - first.subscribed_at == pytest.approx(0.3, abs=0.05)
            status = await manager.wait_for(lambda s: s.renewals >= 1, timeout=5)
            assert status.next_renew_at is not None
            # The renewal granted 60 s: the next one is 48 s away.
            assert status.next_renew_at - first.subscribed_at == pytest.approx(48.3, abs=0.5)
            assert status.subscriptions == 1
            assert status.failures == 0
        assert camera.requests["Renew"] == 1
