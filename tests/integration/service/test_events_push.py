"""Events pushed by cameras (WS-BaseNotification) through the whole service, on loopback.

The service is ``create_app`` served by uvicorn on a socket bound before its
settings are made, so ``events.push_base_url`` names its real address; the
camera is the reference device, which POSTs ``wsnt:Notify`` to
``/api/events/notify/<token>`` over real HTTP. Subscriptions are asked for 2 s
(renewed every 1.6 s) so renewals happen within each test. The tests that
store events run on both database backends (the ``database_url`` fixture).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platonicam.events.keeper import SubscriptionState
from platonicam.events.push_manager import PushManager
from platonicam.onvif.models.events import OnvifEvent, PropertyOperation
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import WSNT
from platonicam.store.records import NewCamera, Role
from platonicam.testing.replay import ReplayCamera
from tests.corpus import CORPUS
from tests.integration.events.test_pullpoint import ADMIN, Device, free_port, launch
from tests.integration.events.test_pullpoint_push import _SUBSCRIBE_ANSWER
from tests.integration.service.api import api_settings
from tests.integration.service.test_events_service import (
    FAST_EVENTS,
    Running,
    add_camera,
    service,
    until,
)

PUSH_EVENTS = {**FAST_EVENTS, "mode": "push", "termination": 2.0}
SOAP = {"content-type": f'application/soap+xml; charset=utf-8; action="{ops.NOTIFY_ACTION}"'}


@pytest.fixture
def bound() -> Iterator[socket.socket]:
    """The service's socket, bound first so its settings can name its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def base_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Device]:
    running = await launch(tmp_path / "device")
    yield running
    if not running.task.done():
        await running.stop()


@asynccontextmanager
async def push_service(
    tmp_path: Path, sock: socket.socket, database_url: str = "", **events: object
) -> AsyncIterator[Running]:
    settings = api_settings(
        tmp_path / "service",
        database_url,
        events={**PUSH_EVENTS, "push_base_url": base_of(sock), **events},
    )
    async with service(settings, sock) as running:
        yield running


def push_manager(running: Running, camera_id: str) -> PushManager:
    manager = running.events.manager(camera_id)
    assert isinstance(manager, PushManager)
    return manager


async def motion_history(
    running: Running, headers: dict[str, str], camera_id: str, count: int
) -> list[tuple[object, object]]:
    """The stored VideoSource/MotionAlarm events, oldest first, once ``count`` are."""
    async with asyncio.timeout(15):
        while True:
            stored = await running.stored(headers, camera=camera_id, kind="motion", limit="500")
            found = [
                (e["state"], e["propertyOperation"])
                for e in reversed(stored)
                if e["topic"] == "VideoSource/MotionAlarm"
            ]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


async def test_motion_arrives_by_notify_and_renewals_lose_nothing(
    tmp_path: Path, bound: socket.socket, device: Device, database_url: str
) -> None:
    async with push_service(tmp_path, bound, database_url) as running:
        admin = await running.user("admin", Role.ADMIN)
        camera_id = await add_camera(running, device.port)
        status = await running.wait_status(
            camera_id, "s['state'] == 'subscribed' and s['events'] >= 1"
        )
        assert (status["mode"], status["pulls"], status["subscriptions"]) == ("push", 0, 1)
        assert status["notifies"] >= 1
        manager = push_manager(running, camera_id)
        assert manager.consumer_url is not None
        assert manager.consumer_url.startswith(f"{base_of(bound)}/api/events/notify/")

        # Motion changes before, between and *during* renewals (the Renew in flight).
        fired = [True]
        device.fire_motion(True)
        for _ in range(2):
            await manager.wait_for(lambda s: s.state is SubscriptionState.RENEWING, timeout=10)
            fired.append(not fired[-1])
            device.fire_motion(fired[-1])
            await manager.wait_for(lambda s: s.state is SubscriptionState.SUBSCRIBED, timeout=10)
            fired.append(not fired[-1])
            device.fire_motion(fired[-1])
        history = await motion_history(running, admin, camera_id, 1 + len(fired))
        assert history == [(False, "Initialized")] + [(state, "Changed") for state in fired]
        status = await running.wait_status(camera_id, "s['renewals'] >= 2")
        # Past several 2 s lifetimes on one subscription, with nothing lost or repeated.
        assert (status["state"], status["subscriptions"], status["failures"]) == (
            "subscribed",
            1,
            0,
        )
        assert status["duplicates"] == 0
        assert device.app.device.events.subscription_count == 1
        await asyncio.sleep(0.3)
        assert len(await motion_history(running, admin, camera_id, 0)) == 1 + len(fired)

        # Deleting the camera unsubscribes it on the device and retires its address.
        response = await running.http.delete(f"/api/cameras/{camera_id}", headers=admin)
        assert response.status_code == 204
        running.events.camera_changed(camera_id)
        await until(lambda: device.app.device.events.subscription_count == 0)
        gone = await running.http.post(
            manager.consumer_url.removeprefix(running.base), content=notify(), headers=SOAP
        )
        assert gone.status_code == 404


async def test_camera_restart_mid_subscription_then_events_still_arrive(
    tmp_path: Path, bound: socket.socket, device: Device, database_url: str
) -> None:
    async with push_service(tmp_path, bound, database_url) as running:
        admin = await running.user("admin", Role.ADMIN)
        camera_id = await add_camera(running, device.port)
        await motion_history(running, admin, camera_id, 1)
        device.fire_motion(True)
        device.fire_motion(False)
        await motion_history(running, admin, camera_id, 3)

        await device.stop()  # the camera reboots: its push subscription is gone
        await running.wait_status(camera_id, "s['state'] == 'retrying'")
        rebooted = await launch(tmp_path / "device", device.port)
        try:
            status = await running.wait_status(
                camera_id, "s['subscriptions'] == 2 and s['state'] == 'subscribed'"
            )
            assert status["mode"] == "push"
            # The new subscription's Initialized motion=false repeats the known state.
            await running.wait_status(camera_id, "s['duplicates'] >= 1")
            rebooted.fire_motion(True)
            await motion_history(running, admin, camera_id, 4)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, if any did
            history = await motion_history(running, admin, camera_id, 4)
            status = await running.wait_status(camera_id, "s['failures'] == 0")
            assert status["lastError"] is None
        finally:
            await rebooted.stop()
    assert history == [
        (False, "Initialized"),
        (True, "Changed"),
        (False, "Changed"),
        (True, "Changed"),
    ]


def notify(*messages: OnvifEvent, extra: bytes = b"") -> bytes:
    body = element(WSNT, "Notify")
    for message in messages:
        message.to_xml(body)
    data = build_envelope(body)
    return data.replace(b"</wsnt:Notify>", extra + b"</wsnt:Notify>") if extra else data


def tamper(state: bool) -> OnvifEvent:
    return OnvifEvent(
        topic="VideoSource/GlobalSceneChange/ImagingService",
        topic_path="tns1:VideoSource/GlobalSceneChange/ImagingService",
        raw_topic="tns1:VideoSource/GlobalSceneChange/ImagingService",
        topic_namespaces={"tns1": "http://www.onvif.org/ver10/topics"},
        source={"Source": "VideoSource_1"},
        data={"State": "true" if state else "false"},
        utc_time=datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC),
        property_operation=PropertyOperation.CHANGED,
    )


async def test_unknown_addresses_are_refused_and_malformed_notifies_counted(
    tmp_path: Path, bound: socket.socket, device: Device, database_url: str
) -> None:
    """The token in the path is the endpoint's authentication (no bearer token)."""
    async with push_service(
        tmp_path, bound, database_url, topic_filter="tns1:VideoSource/MotionAlarm"
    ) as running:
        admin = await running.user("admin", Role.ADMIN)
        camera_id = await add_camera(running, device.port)
        await running.wait_status(camera_id, "s['state'] == 'subscribed' and s['events'] >= 1")
        url = push_manager(running, camera_id).consumer_url
        assert url is not None
        path = url.removeprefix(running.base)
        token = path.rpartition("/")[2]
        assert len(token) >= 24

        # Guessed, truncated or extended addresses: 404, nothing stored.
        for wrong in ("guessed", token[:-1], token + "x", f"{token}/more"):
            refused = await running.http.post(
                f"/api/events/notify/{wrong}", content=notify(tamper(True)), headers=SOAP
            )
            assert refused.status_code == 404, wrong
        assert (await running.http.get(path)).status_code == 405
        # The status route shows the mode, never the address.
        status = await running.http.get(f"/api/cameras/{camera_id}/events/status", headers=admin)
        assert token not in status.text

        garbage = await running.http.post(path, content=b"<nope/>", headers=SOAP)
        assert (garbage.status_code, garbage.text) == (400, "not a wsnt:Notify")
        await running.wait_status(camera_id, "s['malformed'] == 1")
        bad = b"<wsnt:NotificationMessage><wsnt:Topic/></wsnt:NotificationMessage>"
        mixed = await running.http.post(path, content=notify(tamper(True), extra=bad), headers=SOAP)
        assert mixed.status_code == 200
        status_json = await running.wait_status(camera_id, "s['malformed'] == 2")
        assert status_json["state"] == "subscribed"
        await until(lambda: running.events.writer is not None and running.events.writer.stored >= 2)
        stored = await running.stored(admin, camera=camera_id, kind="tamper")
        assert [(e["state"], e["source"]) for e in stored] == [(True, {"Source": "VideoSource_1"})]
        # Still subscribed and delivering: the bad input cost nothing else.
        device.fire_motion(True)
        history = await motion_history(running, admin, camera_id, 2)
        assert history == [(False, "Initialized"), (True, "Changed")]


async def test_auto_mode_pulls_or_subscribes_as_each_camera_says(
    tmp_path: Path, bound: socket.socket, device: Device
) -> None:
    """``auto``: the reference device says WSPullPointSupport (PullPoint); a replayed
    Axis Q6045-E says it has none (push). ``camera_modes`` overrides it per camera."""
    second = await launch(tmp_path / "second")
    try:
        async with (
            ReplayCamera(
                CORPUS,
                "axis_Q6045-E",
                responses={"Subscribe": _SUBSCRIBE_ANSWER},
            ) as axis,
            push_service(tmp_path, bound, mode="auto", camera_modes={"forced": "push"}) as running,
        ):
            await running.context.cameras.create(
                NewCamera(id="axis", name="Replayed Axis", host="127.0.0.1", port=axis.port)
            )
            await running.context.cameras.create(
                NewCamera(
                    id="forced",
                    name="Forced push",
                    host="127.0.0.1",
                    port=second.port,
                    username=ADMIN[0],
                    password=ADMIN[1],
                )
            )
            reference = await add_camera(running, device.port)
            assert running.events.mode_of(reference) == "auto"
            assert running.events.mode_of("forced") == "push"
            pulled = await running.wait_status(
                reference, "s['state'] == 'subscribed' and s['events'] >= 1"
            )
            assert (pulled["mode"], pulled["notifies"]) == ("pullpoint", 0)
            pushed = await running.wait_status("axis", "s['state'] == 'subscribed'")
            assert pushed["mode"] == "push"
            assert axis.requests["Subscribe"] == 1
            assert axis.requests["CreatePullPointSubscription"] == 0
            overridden = await running.wait_status(
                "forced", "s['state'] == 'subscribed' and s['events'] >= 1"
            )
            assert overridden["mode"] == "push"
            assert overridden["notifies"] >= 1
    finally:
        await second.stop()


async def test_unreachable_camera_in_auto_mode_is_retried_then_pulled(
    tmp_path: Path, bound: socket.socket
) -> None:
    port = free_port()
    async with push_service(tmp_path, bound, mode="auto") as running:
        # Registered behind the API's back (the API refuses a camera it cannot reach).
        await running.context.cameras.create(
            NewCamera(
                id="later",
                name="Not yet on",
                host="127.0.0.1",
                port=port,
                username=ADMIN[0],
                password=ADMIN[1],
            )
        )
        camera_id = "later"
        running.events.camera_changed(camera_id)
        status = await running.wait_status(camera_id, "s['state'] == 'retrying'")
        assert status["mode"] is None
        assert str(status["lastError"]).startswith("camera unreachable")
        device = await launch(tmp_path / "device", port)
        try:
            status = await running.wait_status(
                camera_id, "s['state'] == 'subscribed' and s['events'] >= 1"
            )
            assert (status["mode"], status["failures"]) == ("pullpoint", 0)
        finally:
            await device.stop()


async def test_push_address_defaults_to_the_route_towards_the_camera(
    tmp_path: Path, bound: socket.socket, device: Device
) -> None:
    """Bound to every interface (as far as the settings say) and no push address
    set: each camera is told this host's address on its route, and the port."""
    port = bound.getsockname()[1]
    settings = api_settings(
        tmp_path / "service",
        http={"bind": "0.0.0.0", "port": port},
        events=PUSH_EVENTS,
    )
    async with service(settings, bound) as running:
        camera_id = await add_camera(running, device.port)
        status = await running.wait_status(
            camera_id, "s['state'] == 'subscribed' and s['notifies'] >= 1"
        )
        assert status["mode"] == "push"
        url = push_manager(running, camera_id).consumer_url
        assert url is not None
        assert url.startswith(f"http://127.0.0.1:{port}/api/events/notify/")
