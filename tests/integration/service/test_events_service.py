"""Events through the whole service, with real parts on loopback.

The service is ``create_app`` served by uvicorn on 127.0.0.1 (SSE and
WebSockets need a real server), cameras are the reference device (or a
replayed Hikvision for malformed notifications), and the broker is Debian's
mosquitto. PullPoint settings are short (1 s pulls, fast back-off, 0.2 s
reconcile) so every test ends within seconds. Every test runs on both database
backends, SQLite and PostgreSQL (the ``database_url`` fixture, conftest).
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from platonicam.config import Settings
from platonicam.events.ha import node_id
from platonicam.onvif.transport import TlsOptions
from platonicam.service.app import create_app
from platonicam.service.cameras import CameraTransport
from platonicam.service.deps import ServiceContext
from platonicam.service.events import EventsSupervisor
from platonicam.store.records import NewCamera, Role
from platonicam.testing.replay import ReplayCamera
from tests.conftest import FakeClock
from tests.corpus import CORPUS
from tests.integration.events.mosquitto import Mosquitto
from tests.integration.events.subscriber import Subscriber
from tests.integration.events.test_mqtt_ha_discovery import HaBinarySensorConfig
from tests.integration.events.test_pullpoint import _PULL_ANSWER, ADMIN, Device, launch
from tests.integration.service.api import LoopbackCameraTransport, api_settings
from tests.integration.service.foundation import FAST_PASSWORDS

FAST_EVENTS = {
    "pull_timeout": 1.0,
    "termination": 30.0,
    "reconcile_interval": 0.2,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
}


@dataclass
class Running:
    app: FastAPI
    base: str
    http: httpx.AsyncClient

    @property
    def context(self) -> ServiceContext:
        context = self.app.state.context
        assert isinstance(context, ServiceContext)
        return context

    @property
    def events(self) -> EventsSupervisor:
        supervisor = self.app.state.events
        assert isinstance(supervisor, EventsSupervisor)
        return supervisor

    async def user(self, name: str, role: Role, grants: tuple[str, ...] = ()) -> dict[str, str]:
        """Create ``name`` (unless it exists) and return its bearer headers."""
        users = self.context.users
        if await users.get(name) is None:
            await users.create(name, role, FAST_PASSWORDS.hash("pass-word-123"))
        for camera_id in grants:
            await users.grant(name, camera_id)
        token = self.context.tokens.access_token(await users.require(name))
        return {"Authorization": f"Bearer {token}"}

    async def wait_status(
        self, camera_id: str, predicate: str, timeout: float = 10.0
    ) -> dict[str, object]:
        """Poll the status route until ``eval(predicate)`` holds on its JSON ``s``."""
        headers = await self.user("admin", Role.ADMIN)
        async with asyncio.timeout(timeout):
            while True:
                response = await self.http.get(
                    f"/api/cameras/{camera_id}/events/status", headers=headers
                )
                assert response.status_code == 200, response.text
                status: dict[str, object] = response.json()
                if eval(predicate, {}, {"s": status}):  # noqa: S307 - test-written predicates
                    return status
                await asyncio.sleep(0.05)

    async def stored(self, headers: dict[str, str], **params: str) -> list[dict[str, object]]:
        response = await self.http.get("/api/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        events: list[dict[str, object]] = response.json()["events"]
        return events


@asynccontextmanager
async def service(settings: Settings, sock: socket.socket | None = None) -> AsyncIterator[Running]:
    """The service on 127.0.0.1: an ephemeral port, or ``sock`` when given (bound
    before the settings were made, so they can name the service's own address)."""
    refused: list[str] = []

    def transport(tls: TlsOptions, timeout: float) -> CameraTransport:
        return LoopbackCameraTransport(tls, timeout, refused)

    app = create_app(
        settings,
        clock=FakeClock(),
        passwords=FAST_PASSWORDS,
        console=io.StringIO(),
        camera_transport=transport,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(
        server.serve(sockets=[sock] if sock is not None else None)
    )
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            running = Running(app, base, http)
            # The backend a test was parametrised with is the one the service uses.
            assert running.context.database.display_url == settings.database.url
            yield running
    finally:
        server.should_exit = True
        await task
    assert refused == []


async def add_camera(running: Running, port: int, name: str = "Front door") -> str:
    headers = await running.user("admin", Role.ADMIN)
    body = {
        "ip": "127.0.0.1",
        "port": port,
        "username": ADMIN[0],
        "password": ADMIN[1],
        "name": name,
    }
    response = await running.http.post("/api/cameras", json=body, headers=headers)
    assert response.status_code == 201, response.text
    camera_id: str = response.json()["id"]
    return camera_id


class SseReader:
    """Reads ``data:`` lines of an SSE response into :attr:`events`."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> None:
        self.events: list[dict[str, object]] = []
        self.status: int | None = None
        self.opened = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(http, headers, params))

    async def _run(
        self, http: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
    ) -> None:
        async with http.stream(
            "GET", "/api/events/stream", headers=headers, params=params
        ) as response:
            self.status = response.status_code
            self.opened.set()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    self.events.append(json.loads(line[6:]))

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class WsReader:
    def __init__(self, url: str) -> None:
        self.events: list[dict[str, object]] = []
        self.opened = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(url))

    async def _run(self, url: str) -> None:
        async with websockets.connect(url) as socket:
            self.opened.set()
            async for message in socket:
                self.events.append(json.loads(message))

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def motion_on(events: list[dict[str, object]], camera_id: str) -> list[dict[str, object]]:
    return [
        e
        for e in events
        if e["kind"] == "motion" and e["camera"] == camera_id and e["state"] is True
    ]


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``predicate`` (counters and lists that no event announces) until true."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling state that has no event to wait on
            await asyncio.sleep(0.02)


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Device]:
    running = await launch(tmp_path / "device")
    yield running
    if not running.task.done():
        await running.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    instance = Mosquitto(tmp_path / "mosquitto", persistent=True)
    instance.start()
    yield instance
    instance.stop()


async def test_motion_is_stored_streamed_by_grant_and_published_with_ha_discovery(
    tmp_path: Path, device: Device, broker: Mosquitto, database_url: str
) -> None:
    settings = api_settings(
        tmp_path / "service",
        database_url,
        events=FAST_EVENTS,
        mqtt={"url": broker.url, "reconnect_min": 0.05, "reconnect_max": 0.2},
    )
    mqtt = Subscriber("127.0.0.1", broker.port, ["platonicam/#", "homeassistant/#"])
    async with mqtt, service(settings) as running:
        camera_id = await add_camera(running, device.port)
        status = await running.wait_status(camera_id, "s['state'] == 'subscribed'")
        assert status["subscriptions"] == 1
        admin = await running.user("admin", Role.ADMIN)
        viewer = await running.user("vera", Role.VIEWER, grants=(camera_id,))
        stranger = await running.user("nora", Role.VIEWER, grants=("another-camera",))

        ws_base = running.base.replace("http://", "ws://") + "/api/events/ws"
        token = {
            name: h["Authorization"].split()[1]
            for name, h in (("admin", admin), ("vera", viewer), ("nora", stranger))
        }
        sse = {
            name: SseReader(running.http, h)
            for name, h in (("admin", admin), ("vera", viewer), ("nora", stranger))
        }
        ws = {name: WsReader(f"{ws_base}?access_token={token[name]}") for name in token}
        readers: list[SseReader | WsReader] = [*sse.values(), *ws.values()]
        for reader in readers:
            async with asyncio.timeout(5):
                await reader.opened.wait()
        assert {name: r.status for name, r in sse.items()} == dict.fromkeys(sse, 200)
        # A viewer naming a camera they have no grant for is refused outright.
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                f"{ws_base}?access_token={token['nora']}&camera={camera_id}"
            ):
                pass
        assert refused.value.response.status_code == 403
        forbidden = await running.http.get(
            "/api/events", params={"camera": camera_id}, headers=stranger
        )
        assert forbidden.status_code == 403
        await asyncio.sleep(0.2)  # the live readers are subscribed on the bus

        device.fire_motion(True)
        live: list[SseReader | WsReader] = [sse["admin"], sse["vera"], ws["admin"], ws["vera"]]
        await until(lambda: all(motion_on(r.events, camera_id) for r in live))
        for reader in live:
            (event,) = motion_on(reader.events, camera_id)
            assert event["topic"] == "VideoSource/MotionAlarm"
            assert event["source"] == {"Source": "VideoSource_1"}
            assert event["propertyOperation"] == "Changed"
        await asyncio.sleep(0.3)
        assert sse["nora"].events == []
        assert ws["nora"].events == []

        # Stored: the admin and the granted viewer see it; the stranger sees nothing.
        await until(lambda: running.events.writer is not None and running.events.writer.stored >= 2)
        stored = await running.stored(admin, camera=camera_id, kind="motion")
        on = motion_on(stored, camera_id)
        assert len(on) == 1
        assert isinstance(on[0]["id"], int)
        assert on[0]["rawTopic"] == "tns1:VideoSource/MotionAlarm"
        assert await running.stored(viewer, kind="motion") == stored
        assert await running.stored(stranger) == []

        # MQTT: the documented topic and payload, retained (a state), and HA discovery.
        topic = f"platonicam/{camera_id}/motion"
        await until(
            lambda: any(m.topic == topic and m.json()["state"] is True for m in mqtt.messages)
        )
        published = [m for m in mqtt.messages if m.topic == topic and m.json()["state"] is True][-1]
        body = published.json()
        assert {k: body[k] for k in ("camera", "kind", "topic", "state")} == {
            "camera": camera_id,
            "kind": "motion",
            "topic": "VideoSource/MotionAlarm",
            "state": True,
        }
        assert isinstance(body["id"], str)
        node = node_id(camera_id)
        config_topic = f"homeassistant/binary_sensor/{node}/motion/config"
        await until(lambda: any(m.topic == config_topic and m.payload for m in mqtt.messages))
        config = HaBinarySensorConfig.model_validate_json(
            next(m.payload for m in mqtt.messages if m.topic == config_topic and m.payload)
        )
        assert config.state_topic == topic
        assert config.device_class == "motion"
        assert config.device is not None
        assert config.device.name == "Front door"
        # Retained on the broker: a client arriving now gets the config at once.
        late = Subscriber("127.0.0.1", broker.port, [config_topic, topic])
        async with late:
            await until(
                lambda: {m.topic for m in late.messages if m.retain} >= {config_topic, topic}
            )

        # Deleting the camera stops its subscription and removes its HA entities.
        response = await running.http.delete(f"/api/cameras/{camera_id}", headers=admin)
        assert response.status_code == 204
        running.events.camera_changed(camera_id)
        await until(lambda: camera_id not in running.events.cameras)
        await until(
            lambda: any(m.topic == config_topic and m.payload == b"" for m in mqtt.messages)
        )
        await until(lambda: device.app.device.events.subscription_count == 0)
        for reader in readers:
            await reader.close()


async def test_device_restart_mid_subscription_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, device: Device, database_url: str
) -> None:
    settings = api_settings(tmp_path / "service", database_url, events=FAST_EVENTS)
    async with service(settings) as running:
        admin = await running.user("admin", Role.ADMIN)
        camera_id = await add_camera(running, device.port)

        async def alarms(count: int) -> list[tuple[object, object]]:
            """The stored VideoSource/MotionAlarm events, oldest first, once ``count`` are."""
            async with asyncio.timeout(10):
                while True:
                    stored = await running.stored(admin, camera=camera_id, kind="motion")
                    found = [
                        (e["state"], e["propertyOperation"])
                        for e in reversed(stored)
                        if e["topic"] == "VideoSource/MotionAlarm"
                    ]
                    if len(found) >= count:
                        return found
                    await asyncio.sleep(0.05)

        await alarms(1)
        device.fire_motion(True)
        device.fire_motion(False)
        await alarms(3)

        await device.stop()  # the camera reboots: its subscriptions are gone
        await running.wait_status(camera_id, "s['state'] == 'retrying'")
        rebooted = await launch(tmp_path / "device", device.port)
        try:
            await running.wait_status(
                camera_id, "s['subscriptions'] == 2 and s['state'] == 'subscribed'"
            )
            # The new subscription's Initialized messages repeat known states.
            await running.wait_status(camera_id, "s['duplicates'] >= 1")
            rebooted.fire_motion(True)
            await alarms(4)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, if any did
            sequence = await alarms(4)
        finally:
            await rebooted.stop()
    # Oldest first: Initialized false, on, off, and the one after the restart.
    assert sequence == [
        (False, "Initialized"),
        (True, "Changed"),
        (False, "Changed"),
        (True, "Changed"),
    ]


async def test_malformed_notifications_crash_nothing(
    tmp_path: Path, device: Device, database_url: str
) -> None:
    """A replayed Hikvision DS-2CD2012-I answers every pull with one good
    message between two bad ones; a healthy camera beside it is unaffected."""
    settings = api_settings(tmp_path / "service", database_url, events=FAST_EVENTS)
    async with (
        ReplayCamera(
            CORPUS, "hikvision_DS-2CD2012-I", responses={"PullMessages": _PULL_ANSWER}
        ) as camera,
        service(settings) as running,
    ):
        admin = await running.user("admin", Role.ADMIN)
        await running.context.cameras.create(
            NewCamera(id="hik", name="Replayed Hikvision", host="127.0.0.1", port=camera.port)
        )
        good = await add_camera(running, device.port)
        status = await running.wait_status("hik", "s['pulls'] >= 3 and s['malformed'] >= 6")
        assert status["state"] == "subscribed"
        assert status["subscriptions"] == 1
        assert status["events"] == 1  # the repeats of the good message are duplicates
        await running.wait_status(good, "s['state'] == 'subscribed'")
        device.fire_motion(True)
        await until(lambda: running.events.writer is not None and running.events.writer.stored >= 3)
        hik = await running.stored(admin, camera="hik")
        assert [(e["kind"], e["state"], e["source"]) for e in hik] == [
            ("motion", True, {"Rule": "MyMotionDetectorRule"})
        ]
        assert motion_on(await running.stored(admin, camera=good), good)


async def test_broker_away_and_back_delivers_the_events_of_the_outage(
    tmp_path: Path, device: Device, broker: Mosquitto, database_url: str
) -> None:
    settings = api_settings(
        tmp_path / "service",
        database_url,
        events=FAST_EVENTS,
        mqtt={"url": broker.url, "reconnect_min": 0.05, "reconnect_max": 0.2, "discovery": False},
    )
    async with service(settings) as running:
        camera_id = await add_camera(running, device.port)
        await running.wait_status(camera_id, "s['state'] == 'subscribed' and s['events'] >= 1")
        bridge = running.events.bridge
        assert bridge is not None
        await bridge.wait_connected(5)
        topic = f"platonicam/{camera_id}/motion"
        mqtt = Subscriber("127.0.0.1", broker.port, [topic], session="events-outage")
        async with mqtt:
            await mqtt.wait_subscribed()
            broker.stop()
            await until(lambda: not bridge.connected)
            for state in (True, False, True):
                device.fire_motion(state)
                await asyncio.sleep(0.05)
            await running.wait_status(camera_id, "s['events'] >= 4")
            await asyncio.sleep(0.3)
            assert bridge.pending >= 3
            broker.start()
            await bridge.wait_connected(10)
            assert await bridge.flush(10)

            def changes() -> list[bool]:
                seen: dict[str, bool] = {}
                for m in mqtt.messages:
                    body = m.json()
                    if body["propertyOperation"] == "Changed":
                        seen[str(body["id"])] = bool(body["state"])
                return list(seen.values())

            await until(lambda: changes() == [True, False, True], timeout=10)
        assert bridge.dropped == 0


async def test_api_paging_returns_every_event_once_and_retention_runs_periodically(
    tmp_path: Path, database_url: str
) -> None:
    from datetime import timedelta

    from platonicam.events.model import Event, EventKind

    settings = api_settings(
        tmp_path / "service",
        database_url,
        events={**FAST_EVENTS, "retention_days": 7, "retention_interval": 0.1},
    )
    async with service(settings) as running:
        admin = await running.user("admin", Role.ADMIN)
        now = running.context.clock.now()
        store = running.events.store
        fresh = await store.add_many(
            [
                Event(
                    "cam-a",
                    EventKind.MOTION,
                    "T",
                    "tns1:T",
                    state=bool(i % 2),
                    time=now - timedelta(seconds=i // 3),
                )
                for i in range(23)
            ]
        )
        seen: list[int] = []
        cursor: str | None = None
        while True:
            params = {"limit": "5", **({"cursor": cursor} if cursor else {})}
            response = await running.http.get("/api/events", params=params, headers=admin)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [e["id"] for e in body["events"]]
            cursor = body["next"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(s.id for s in fresh)
        assert len(seen) == len(set(seen)) == 23
        bad = await running.http.get("/api/events", params={"cursor": "x!"}, headers=admin)
        assert bad.status_code == 422
        assert bad.json()["detail"] == "Paging cursor 'x!' is not one this API returned."

        await store.add(
            Event("cam-a", EventKind.TAMPER, "T", "tns1:T", time=now - timedelta(days=8))
        )
        await until(lambda: running.events.expired == 1, timeout=5)
        assert await store.count() == 23
        assert await running.stored(admin, kind="tamper") == []


async def test_camera_routes_start_and_stop_subscriptions_at_once(
    tmp_path: Path, device: Device, database_url: str
) -> None:
    # Reconciling on its own only once an hour: what happens here is the routes' doing.
    settings = api_settings(
        tmp_path / "service", database_url, events={**FAST_EVENTS, "reconcile_interval": 3600}
    )
    async with service(settings) as running:
        camera_id = await add_camera(running, device.port)
        await running.wait_status(camera_id, "s['state'] == 'subscribed'")
        headers = await running.user("admin", Role.ADMIN)
        deleted = await running.http.delete(f"/api/cameras/{camera_id}", headers=headers)
        assert deleted.status_code == 204, deleted.text
        deadline = asyncio.get_running_loop().time() + 10
        while camera_id in running.events.cameras:
            assert asyncio.get_running_loop().time() < deadline, "still subscribed"
            await asyncio.sleep(0.05)
