"""The push manager's timing on an injected clock, against the reference device in-process.

The device (its clock the same :class:`FakeClock`) is reached through an ASGI
transport, and it pushes its Notify messages through another one straight into
the :class:`NotifyConsumer`: no socket, no real waiting. The manager's ``sleep``
is a :class:`Sleeper` that hands every wait to the test, which checks its
length, moves the clock by it, and lets the manager go on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from platonicam.device.app import DeviceApp, create_device_app
from platonicam.device.core import DeviceOptions
from platonicam.device.push import PushOptions
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams
from platonicam.events.bus import EventBus, Subscription
from platonicam.events.keeper import SubscriptionOptions, SubscriptionState
from platonicam.events.model import Event
from platonicam.events.push import NotifyConsumer
from platonicam.events.push_manager import PushManager
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.device import User, UserLevel
from platonicam.onvif.models.events import PropertyOperation
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import WSNT
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse, SoapTransport
from tests.conftest import FakeClock
from tests.unit.events.asgi_soap import AsgiSoapTransport

ADMIN = ("admin", "admin-secret-1")
CAMERA = "cam-1"
CONSUMER_BASE = "http://platonicam.test:8080"
OPTIONS = SubscriptionOptions(
    topic_filter="tns1:VideoSource/MotionAlarm",
    termination=timedelta(seconds=60),
    backoff_initial=1.0,
    backoff_max=4.0,
    backoff_jitter=0.0,
)
INIT, CHANGED = PropertyOperation.INITIALIZED, PropertyOperation.CHANGED


class Sleeper:
    """The manager's ``sleep``: each call waits until the test calls :meth:`wake`."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._requests: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()
        self._held: tuple[float, asyncio.Future[None]] | None = None

    async def __call__(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._requests.put_nowait((seconds, future))
        await future

    async def next(self) -> float:
        """The length of the manager's next wait (it is held until :meth:`wake`)."""
        async with asyncio.timeout(5):
            self._held = await self._requests.get()
        return self._held[0]

    def wake(self) -> None:
        """Let the held wait end, the clock moved on by exactly its length."""
        assert self._held is not None
        seconds, future = self._held
        self._held = None
        self._clock.advance(seconds)
        future.set_result(None)


@dataclass
class Rig:
    clock: FakeClock
    sleeper: Sleeper
    camera: AsgiSoapTransport
    consumer: NotifyConsumer
    seen: Subscription
    data_dir: Path
    devices: list[DeviceApp]

    def device(self) -> DeviceApp:
        return self.devices[-1]

    def restart_device(self) -> None:
        """The camera reboots: same configuration, every subscription gone."""
        self.devices.append(make_device(self.data_dir, self.clock, self.consumer))
        self.camera.app = self.devices[-1]

    def manager(self, client: OnvifClient, options: SubscriptionOptions = OPTIONS) -> PushManager:
        return PushManager(
            CAMERA, client, self.consumer, options=options, clock=self.clock, sleep=self.sleeper
        )

    def client(self, transport: SoapTransport | None = None) -> OnvifClient:
        """Not connected: connecting is the manager's job (and the camera may be down)."""
        return OnvifClient(
            "127.0.0.1", 80, *ADMIN, transport=transport or self.camera, clock=self.clock
        )


def make_device(data_dir: Path, clock: FakeClock, consumer: NotifyConsumer) -> DeviceApp:
    state = DeviceState.load(data_dir, channels=1)
    options = DeviceOptions(clock=clock, push=PushOptions(transport=AsgiSoapTransport(consumer)))
    app = create_device_app(state, NullStreams(rtsp_port=8554), options)
    if not state.users.users:
        app.device.users.create([User(ADMIN[0], UserLevel.ADMINISTRATOR, ADMIN[1])])
    return app


@pytest.fixture
async def rig(tmp_path: Path, fake_clock: FakeClock) -> AsyncIterator[Rig]:
    bus = EventBus()
    consumer = NotifyConsumer(bus, base_url=CONSUMER_BASE, clock=fake_clock)
    device = make_device(tmp_path, fake_clock, consumer)
    camera = AsgiSoapTransport(device)
    rig = Rig(
        fake_clock, Sleeper(fake_clock), camera, consumer, bus.subscribe(), tmp_path, [device]
    )
    yield rig
    for app in rig.devices:
        await app.device.close()


async def next_event(seen: Subscription) -> Event:
    async with asyncio.timeout(5):
        event = await seen.get()
    assert event is not None
    return event


def motion(event: Event) -> tuple[bool | None, PropertyOperation | None]:
    assert event.topic == "VideoSource/MotionAlarm"
    return event.state, event.property_operation


async def test_renews_at_80_percent_of_the_grant_on_the_injected_clock(rig: Rig) -> None:
    async with rig.manager(rig.client()) as manager:
        assert motion(await next_event(rig.seen)) == (False, INIT)
        first = manager.status
        assert (first.state, first.mode, first.subscriptions) == (
            SubscriptionState.SUBSCRIBED,
            "push",
            1,
        )
        assert first.next_renew_at == first.subscribed_at + 48.0
        url = manager.consumer_url
        assert url is not None
        assert url.startswith(f"{CONSUMER_BASE}/events/notify/")
        subscribe = next(envelope for _, envelope in rig.camera.sent if b"Subscribe>" in envelope)
        assert url.encode() in subscribe
        assert b"<wsnt:InitialTerminationTime>PT60S</wsnt:InitialTerminationTime>" in subscribe

        for renewal in (1, 2, 3):
            # The device granted 60 s by its clock (the same one): renew 48 s later.
            assert await rig.sleeper.next() == 48.0
            rig.sleeper.wake()
            status = await manager.wait_for(lambda s, n=renewal: s.renewals == n, timeout=5)
            assert status.state is SubscriptionState.SUBSCRIBED
        # 144 s in: past two of the lifetimes asked for, still the first subscription.
        assert (status.subscriptions, status.failures, manager.consumer_url) == (1, 0, url)
        assert rig.device().device.events.subscription_count == 1
        rig.device().device.events.fire("motion", True)
        assert motion(await next_event(rig.seen)) == (True, CHANGED)
        assert (manager.status.notifies, manager.status.events) == (2, 2)
    # Closing unsubscribes on the camera and drops the consumer address.
    assert rig.device().device.events.subscription_count == 0
    assert rig.consumer.cameras == frozenset()
    assert manager.state is SubscriptionState.STOPPED


async def test_a_restarted_camera_fails_the_renewal_and_is_subscribed_again_at_once(
    rig: Rig,
) -> None:
    async with rig.manager(rig.client()) as manager:
        assert motion(await next_event(rig.seen)) == (False, INIT)
        rig.device().device.events.fire("motion", True)
        assert motion(await next_event(rig.seen)) == (True, CHANGED)
        old_url = manager.consumer_url
        assert old_url is not None

        rig.restart_device()  # no Notify tells us; the renewal will
        assert await rig.sleeper.next() == 48.0
        rig.sleeper.wake()
        status = await manager.wait_for(lambda s: s.subscriptions == 2, timeout=5)
        # ResourceUnknownFault: recreated with no backoff wait in between.
        assert status.renewals == 0
        assert status.last_error is not None
        assert status.last_error.startswith("renew failed")
        assert await rig.sleeper.next() == 48.0
        # The new subscription starts with Initialized motion=false, which is news
        # (the camera forgot the alarm); its first Notify cleared the failure.
        assert motion(await next_event(rig.seen)) == (False, INIT)
        status = await manager.wait_for(lambda s: s.failures == 0, timeout=5)
        assert status.notifies == 3
        # A new address: the given-up subscription's pushes are refused.
        assert manager.consumer_url not in (None, old_url)
        stale = await AsgiSoapTransport(rig.consumer).post(
            old_url, build_envelope_for_notify(), action="Notify"
        )
        assert stale.status_code == 404
        rig.device().device.events.fire("motion", True)
        assert motion(await next_event(rig.seen)) == (True, CHANGED)


def build_envelope_for_notify() -> bytes:
    from platonicam.onvif.soap.build import element

    return build_envelope(element(WSNT, "Notify"))


async def test_unreachable_camera_backs_off_doubling_to_the_cap(rig: Rig) -> None:
    rig.camera.down = True
    async with rig.manager(rig.client()) as manager:
        delays = []
        for _ in range(4):
            delays.append(await rig.sleeper.next())
            assert manager.status.state is SubscriptionState.RETRYING
            rig.sleeper.wake()
        assert delays == [1.0, 2.0, 4.0, 4.0]
        status = manager.status
        assert status.last_error is not None
        assert status.last_error.startswith("camera unreachable")
        assert status.subscriptions == 0
        assert await rig.sleeper.next() == 4.0
        rig.camera.down = False
        rig.sleeper.wake()
        assert motion(await next_event(rig.seen)) == (False, INIT)
        status = await manager.wait_for(lambda s: s.failures == 0, timeout=5)
        assert (status.state, status.subscriptions) == (SubscriptionState.SUBSCRIBED, 1)
        # Healthy again: the next failure starts the backoff afresh.
        assert await rig.sleeper.next() == 48.0
        rig.camera.down = True
        rig.sleeper.wake()
        assert await rig.sleeper.next() == 1.0


class RefusesRelativeTimes:
    """A camera that faults on a relative termination time: the request goes on with
    the time made unreadable, so the device's own fault answers it."""

    def __init__(self, inner: AsgiSoapTransport) -> None:
        self.inner = inner
        self.refused = 0

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        if b"TerminationTime>PT" in envelope:
            self.refused += 1
            envelope = re.sub(rb"TerminationTime>PT[^<]*<", b"TerminationTime>relative<", envelope)
        return await self.inner.post(
            url, envelope, action=action, credentials=credentials, timeout=timeout
        )

    async def aclose(self) -> None:
        return None


async def test_camera_refusing_relative_times_is_switched_to_absolute_ones(rig: Rig) -> None:
    camera = RefusesRelativeTimes(rig.camera)
    async with rig.manager(rig.client(camera)) as manager:
        assert motion(await next_event(rig.seen)) == (False, INIT)
        status = manager.status
        assert (status.absolute_termination, status.subscriptions, camera.refused) == (True, 1, 1)
        subscribe = [e for _, e in rig.camera.sent if b"Subscribe>" in e][-1]
        assert stamp(rig.clock.now() + timedelta(seconds=60)) in subscribe
        assert await rig.sleeper.next() == 48.0
        rig.sleeper.wake()
        await manager.wait_for(lambda s: s.renewals == 1, timeout=5)
        renew = [e for _, e in rig.camera.sent if b"Renew>" in e][-1]
        assert stamp(rig.clock.now() + timedelta(seconds=60)) in renew
        assert camera.refused == 1


def stamp(when: datetime) -> bytes:
    return when.strftime("%Y-%m-%dT%H:%M:%S").encode()


async def test_silent_camera_is_reported_once(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """Subscribed, but no Notify ever arrives (the camera cannot reach the consumer)."""
    pusher = rig.device().device.push
    assert isinstance(pusher.options.transport, AsgiSoapTransport)
    pusher.options.transport.down = True
    caplog.set_level(logging.WARNING, logger="platonicam.events.push_manager")
    async with rig.manager(rig.client()) as manager:
        for renewal in (1, 2):
            assert await rig.sleeper.next() == 48.0
            rig.sleeper.wake()
            await manager.wait_for(lambda s, n=renewal: s.renewals == n, timeout=5)
        assert manager.status.notifies == 0
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert "has sent no Notify to http://platonicam.test:8080/events/notify/..." in warnings[0]
        url = manager.consumer_url
        assert url is not None
        token = url.rpartition("/")[2]
        assert token not in warnings[0]
