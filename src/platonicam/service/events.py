"""The events supervisor: every registered camera's events, collected and delivered.

Strategy:

- **One subscription manager per registered camera**, each with an
  unconnected client of its own from :meth:`CameraManager.link` (a long-lived
  subscription must not share the routes' cached connection, which expires
  when idle). Managers are started when the service starts, and kept in step
  with the camera table by :meth:`EventsSupervisor.reconcile`: a camera added
  gets a manager, a camera deleted loses it, a camera whose address or
  credentials changed gets a new one. Reconciling runs every
  ``events.reconcile_interval`` seconds, and at once when a route calls
  :meth:`EventsSupervisor.camera_changed`, so nothing here depends on the
  camera routes remembering to call it.
- **PullPoint or push**, per camera (``events.mode``, overridden by
  ``events.camera_modes``): a
  :class:`~platonicam.events.pullpoint.PullPointManager` pulls; a
  :class:`~platonicam.events.push_manager.PushManager` has the camera POST
  ``wsnt:Notify`` to :attr:`EventsSupervisor.consumer`, served at
  ``POST /api/events/notify/{token}`` (:func:`notify_route`). ``auto`` asks
  the camera first (:func:`~platonicam.events.mode.detect_mode`), from the
  camera's own task, retrying with the backoff while it is unreachable; until
  then the camera's status is ``starting`` (or ``retrying``) with no mode.
  The address a camera is told to push to is ``events.push_base_url``, else
  the address the service is bound to (with a wildcard bind, the local
  address that routes to that camera). The random token in it is the
  endpoint's only authentication: cameras cannot carry our bearer tokens.
- **The bus** (:class:`~platonicam.events.bus.EventBus`) receives every
  manager's events and feeds, each through its own bounded queue so a slow one
  never holds up the others: the store writer (batched inserts), the live
  WebSocket/SSE readers (filtered by the caller's camera grants), and, when
  ``mqtt.url`` is set, the MQTT bridge.
- **Home Assistant discovery** (with the bridge and ``mqtt.discovery``): when a
  camera's manager starts, its GetEventProperties topic set says which sensors
  it has (:meth:`TopicRegistry.kinds_for` on each described topic), announced
  as retained binary-sensor configs; relay tokens come from GetRelayOutputs.
  Digital inputs are announced when their first event names the input's
  token (every new subscription begins with an ``Initialized`` message per
  input). Deleting a camera clears its configs and retained states.
- **Retention**: every ``events.retention_interval`` seconds, stored events
  older than ``events.retention_days`` are deleted (and once at start).

Nothing a camera does can stop the supervisor: a camera that cannot describe
its events still gets its subscription, a failing store write is logged and
counted, and a manager's failure is its state (``failed``), shown per camera.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import TracebackType
from typing import Final, Self, Unpack

from pydantic import ValidationError
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from platonicam.clock import Clock, SystemClock
from platonicam.config import ConfigError, EventsSettings, HttpSettings, MqttSettings, Settings
from platonicam.events.bus import EventBus, SinkHandle, Subscription
from platonicam.events.ha import DEVICE_CLASSES, HaCamera, HaSensor, HomeAssistantDiscovery
from platonicam.events.keeper import (
    Backoff,
    StatusChanges,
    SubscriptionKeeper,
    SubscriptionState,
    SubscriptionStatus,
)
from platonicam.events.mode import EventsMode, detect_mode
from platonicam.events.model import Event, EventKind
from platonicam.events.mqtt import MqttBridge, port_of
from platonicam.events.parsers import default_registry
from platonicam.events.pullpoint import PullPointManager, PullPointOptions
from platonicam.events.push import NotifyConsumer
from platonicam.events.push_manager import PushManager
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import (
    AuthenticationError,
    NotAuthorized,
    OnvifError,
    ServiceNotSupported,
    TransportError,
)
from platonicam.onvif.models.events import EventProperties
from platonicam.service.cameras import CameraManager
from platonicam.service.deps import ServiceContext
from platonicam.service.errors import CameraOperationError
from platonicam.store.records import CameraRecord
from platonicam.store.repositories.cameras import CameraRepository
from platonicam.store.repositories.events import EventRepository
from platonicam.tasks import cancel_all, cancel_and_wait

__all__ = [
    "NOTIFY_PATH",
    "EventsSupervisor",
    "StoreWriter",
    "bound_base_url",
    "local_address_towards",
    "notify_route",
    "pullpoint_options",
    "sensor_kinds",
    "with_mqtt_url",
]

logger = logging.getLogger(__name__)

#: Events written to the database in one transaction at most.
STORE_BATCH: Final = 500
#: Events the store writer may fall behind by before the oldest are dropped.
STORE_QUEUE: Final = 50_000
#: Kinds with one sensor per port: announced per token, not per camera.
_PORT_KINDS: Final = frozenset({EventKind.DIGITAL_INPUT, EventKind.RELAY})
#: Seconds GetEventProperties (and GetRelayOutputs) may take before we give up describing.
_DESCRIBE_TIMEOUT: Final = 15.0
#: Seconds asking a camera whether it pulls or pushes may take before it counts as a failure.
_DETECT_TIMEOUT: Final = 15.0
#: Where cameras push to: ``POST NOTIFY_PATH/<token>``.
NOTIFY_PATH: Final = "/api/events/notify"
#: Addresses that bind every interface: no camera can be told to push there.
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - recognised, not bound


def with_mqtt_url(settings: Settings, url: str) -> Settings:
    """``settings`` with the broker of ``--mqtt-url`` (``mqtt[s]://[user:pass@]HOST[:PORT]``).

    The rest of the ``[mqtt]`` section is kept; credentials from the file or the
    environment are kept too unless the URL carries its own. Raises
    :class:`ConfigError` naming the option (never the password) for a bad URL.
    """
    authority = url.partition("://")[2].partition("/")[0]
    keep = settings.mqtt.model_dump(
        exclude={"url", "username", "password"} if "@" in authority else {"url"}
    )
    try:
        mqtt = MqttSettings.model_validate({**keep, "url": url})
    except ValidationError as error:
        reasons = "; ".join(str(item["msg"]) for item in error.errors())
        raise ConfigError(f"--mqtt-url: {reasons}") from None
    return settings.model_copy(update={"mqtt": mqtt})


def pullpoint_options(settings: EventsSettings) -> PullPointOptions:
    """The subscription options of every camera, from the ``[events]`` settings
    (push subscriptions use the lifetime, renewal and backoff fields)."""
    return PullPointOptions(
        topic_filter=settings.topic_filter or None,
        termination=timedelta(seconds=settings.termination),
        # The floor guards against cameras that grant nothing; it must not push
        # the renewal of a short lifetime someone asked for past its end.
        min_renew_interval=timedelta(seconds=min(5.0, settings.termination / 2)),
        pull_timeout=timedelta(seconds=settings.pull_timeout),
        backoff_initial=settings.backoff_initial,
        backoff_max=max(settings.backoff_max, settings.backoff_initial),
    )


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def bound_base_url(http: HttpSettings, *, https: bool = False) -> str | None:
    """The service's own address as a camera would be told it (``http://BIND:PORT``);
    ``None`` when the bind address is a wildcard or the port is chosen at start."""
    if http.bind.strip() in _WILDCARDS or http.port == 0:
        return None
    scheme = "https" if https else "http"
    return f"{scheme}://{_host_in_url(http.bind.strip())}:{http.port}"


async def local_address_towards(host: str, port: int) -> str:
    """This host's address on the route to ``host`` (resolved without blocking).

    A connected UDP socket takes the route's source address; nothing is sent.
    Raises :class:`OSError` when the host cannot be resolved or reached.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"{host!r} does not resolve")
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.connect(address)
        local: str = probe.getsockname()[0]
    return local


def sensor_kinds(properties: EventProperties, registry: TopicRegistry) -> frozenset[EventKind]:
    """The binary-sensor kinds a camera's topic set announces.

    Only topics with a message description count when there are any (Hikvision
    lists inner nodes such as ``tns1:RuleEngine`` as topics without one, corpus
    ``events/hikvision_DS-2CD2012-I_GetEventProperties.xml``); kinds that are
    not on/off (``other``, ``line_crossing``...) are left out.
    """
    described = [t for t in properties.topics if t.described] or list(properties.topics)
    kinds: set[EventKind] = set()
    for topic in described:
        kinds |= registry.kinds_for(topic.topic_path or topic.topic)
    return frozenset(kind for kind in kinds if kind in DEVICE_CLASSES)


class StoreWriter:
    """Writes the bus's events to the database in batches, from a task of its own.

    ``stored`` counts rows written, ``failed`` events lost to a failed write
    (logged), ``dropped`` events lost to the queue bound while the database
    was slower than the cameras.
    """

    def __init__(self, bus: EventBus, store: EventRepository) -> None:
        self._store = store
        self._subscription: Subscription = bus.subscribe(max_queue=STORE_QUEUE)
        self.stored = 0
        self.failed = 0
        self._task = asyncio.get_running_loop().create_task(self._run(), name="event-store")

    @property
    def dropped(self) -> int:
        return self._subscription.dropped

    @property
    def pending(self) -> int:
        return self._subscription.pending

    async def _run(self) -> None:
        while (first := await self._subscription.get()) is not None:
            batch = [first]
            while len(batch) < STORE_BATCH and (more := self._subscription.get_nowait()):
                batch.append(more)
            try:
                await self._store.add_many(batch)
            except Exception:
                self.failed += len(batch)
                logger.exception("could not store %d event(s)", len(batch))
            else:
                self.stored += len(batch)

    async def aclose(self) -> None:
        """Stop reading; events already queued are written first."""
        self._subscription.close()
        await self._task


@dataclass(slots=True)
class _Watched:
    """One camera the supervisor runs a manager for."""

    record: CameraRecord
    client: OnvifClient
    #: The camera's status until its manager runs (while PullPoint or push is chosen).
    pending: SubscriptionStatus
    manager: SubscriptionKeeper | None = None
    #: Chooses PullPoint or push, then starts the manager.
    launch: asyncio.Task[None] | None = None
    #: The Home Assistant view of the camera (its sensors grow as inputs show up).
    kinds: set[EventKind] = field(default_factory=set)
    ports: set[tuple[EventKind, str]] = field(default_factory=set)
    describe: asyncio.Task[None] | None = None

    @property
    def status(self) -> SubscriptionStatus:
        return self.manager.status if self.manager is not None else self.pending


class EventsSupervisor:
    """Collects every registered camera's events and delivers them (module docstring).

    Use ``async with`` (or :meth:`start` / :meth:`aclose`). ``bridge`` replaces
    the one built from ``mqtt`` (tests hand one with their own TLS context).
    ``http`` and ``https`` say where the service is bound, for the push
    address when ``settings.push_base_url`` is empty.
    """

    def __init__(
        self,
        *,
        cameras: CameraRepository,
        camera_manager: CameraManager,
        store: EventRepository,
        settings: EventsSettings,
        mqtt: MqttSettings | None = None,
        clock: Clock,
        registry: TopicRegistry | None = None,
        bridge: MqttBridge | None = None,
        http: HttpSettings | None = None,
        https: bool = False,
    ) -> None:
        self._cameras = cameras
        self._camera_manager = camera_manager
        self.store = store
        self.settings = settings
        self._clock = clock
        self.registry = registry or default_registry()
        self.options = pullpoint_options(settings)
        self.bus = EventBus()
        #: How cameras reach the consumer; ``None``: per camera, by route (wildcard bind).
        self._push_base = settings.push_base_url or bound_base_url(
            http or HttpSettings(), https=https
        )
        #: The endpoint cameras in push mode POST their Notify messages to.
        self.consumer = NotifyConsumer(
            self.bus,
            base_url=self._push_base or "http://0.0.0.0",
            path_prefix=NOTIFY_PATH,
            clock=clock,
            registry=self.registry,
        )
        if bridge is None and mqtt is not None and mqtt.enabled:
            bridge = MqttBridge(mqtt)
        self.bridge = bridge
        self.discovery: HomeAssistantDiscovery | None = (
            HomeAssistantDiscovery(bridge)
            if bridge is not None and bridge.settings.discovery
            else None
        )
        self._http = http or HttpSettings()
        self._https = https
        self._watched: dict[str, _Watched] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._sinks: list[SinkHandle] = []
        self._writer: StoreWriter | None = None
        self._wake = asyncio.Event()
        self._started = False
        #: Rows deleted by the retention since start.
        self.expired = 0

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Start the store writer, the bridge, the managers of the registered cameras,
        and the reconcile and retention loops. Returns once the managers are started."""
        if self._started:
            return
        self._started = True
        self._writer = StoreWriter(self.bus, self.store)
        if self.bridge is not None:
            await self.bridge.start()
            self._sinks.append(self.bus.attach(self.bridge, name="mqtt"))
            if self.discovery is not None:
                await self.discovery.start()
                self._sinks.append(self.bus.attach(_SensorWatcher(self), name="ha-sensors"))
        await self.reconcile()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._reconcile_loop(), name="events-reconcile"))
        self._tasks.append(loop.create_task(self._retention_loop(), name="events-retention"))

    async def aclose(self) -> None:
        """Stop every manager (releasing the cameras' pull points), deliver what
        is queued to the store and the broker, end the live feeds."""
        await cancel_all(self._tasks)
        self._tasks.clear()
        async with self._lock:
            for camera_id in list(self._watched):
                await self._stop(camera_id, forget=False)
        # Ends every live subscription and drains the sinks (the bridge queues).
        await self.bus.aclose(drain=True)
        self._sinks.clear()
        if self._writer is not None:
            await self._writer.aclose()
        if self.bridge is not None:
            await self.bridge.aclose()
        self._started = False

    @classmethod
    def for_context(cls, context: ServiceContext) -> EventsSupervisor:
        """The supervisor of the service in ``context``, as its settings say.

        Subscriptions run on the host's real clock (cameras live in real time,
        even when tests drive the service's clock); stored events without a
        camera time are stamped, and retention measured, by ``context.clock``.
        """
        return cls(
            cameras=context.cameras,
            camera_manager=context.camera_manager,
            store=EventRepository(context.database.sessions, context.clock),
            settings=context.settings.events,
            mqtt=context.settings.mqtt,
            clock=SystemClock(),
            http=context.settings.http,
            https=context.settings.tls.cert_file is not None,
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ state

    @property
    def writer(self) -> StoreWriter | None:
        return self._writer

    @property
    def cameras(self) -> frozenset[str]:
        """Ids of the cameras with a manager now."""
        return frozenset(self._watched)

    def status(self, camera_id: str) -> SubscriptionStatus | None:
        """The camera's subscription state, ``None`` when it has no manager."""
        watched = self._watched.get(camera_id)
        return watched.status if watched is not None else None

    def manager(self, camera_id: str) -> SubscriptionKeeper | None:
        """The camera's PullPoint or push manager (``None`` while the mode is being chosen)."""
        watched = self._watched.get(camera_id)
        return watched.manager if watched is not None else None

    def mode_of(self, camera_id: str) -> EventsMode:
        """The configured mode of a camera (``auto`` is resolved when its manager starts)."""
        return EventsMode(self.settings.camera_modes.get(camera_id, self.settings.mode))

    def camera_changed(self, camera_id: str | None = None) -> None:
        """Reconcile soon (a route added, changed or deleted a camera)."""
        self._wake.set()

    # ------------------------------------------------------------------ reconciling

    async def reconcile(self) -> None:
        """Bring the managers in step with the camera table (see the module docstring)."""
        records = {record.id: record for record in await self._cameras.list()}
        async with self._lock:
            for camera_id in [c for c in self._watched if c not in records]:
                logger.info("camera %s was deleted: stopping its event subscription", camera_id)
                await self._stop(camera_id, forget=True)
            for camera_id, record in records.items():
                watched = self._watched.get(camera_id)
                if watched is not None and watched.record.connection == record.connection:
                    watched.record = record
                    continue
                if watched is not None:
                    logger.info("camera %s changed: renewing its event subscription", camera_id)
                    await self._stop(camera_id, forget=False)
                try:
                    await self._start(record)
                except Exception:
                    # One camera's bad record must not stop the others.
                    logger.exception("cannot start the event subscription of camera %s", camera_id)

    async def _reconcile_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.reconcile_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.reconcile()
            except Exception:
                logger.exception("reconciling the cameras' event subscriptions failed")

    async def _start(self, record: CameraRecord) -> None:
        link = await self._camera_manager.link(record.id)
        watched = _Watched(record, link.client, SubscriptionStatus(record.id))
        self._watched[record.id] = watched
        watched.launch = asyncio.get_running_loop().create_task(
            self._launch(watched), name=f"events-launch {record.id}"
        )
        if self.discovery is not None:
            watched.describe = asyncio.get_running_loop().create_task(
                self._describe(watched), name=f"events-describe {record.id}"
            )

    async def _stop(self, camera_id: str, *, forget: bool) -> None:
        watched = self._watched.pop(camera_id, None)
        if watched is None:
            return
        for task in (watched.describe, watched.launch):
            if task is not None:
                await cancel_and_wait(task)
        if watched.manager is not None:
            await watched.manager.stop()
        await watched.client.aclose()
        if forget:
            if self.discovery is not None:
                self.discovery.remove(self._ha_camera(watched))
            elif self.bridge is not None:
                self.bridge.forget_camera(camera_id)

    # ------------------------------------------------------------------ PullPoint or push

    async def _launch(self, watched: _Watched) -> None:
        """Choose the camera's mode, then start its manager (in the camera's own task)."""
        record = watched.record
        on_status = _log_transitions()
        mode = self.mode_of(record.id)
        if mode is EventsMode.AUTO:
            detected = await self._detect(watched, on_status)
            if detected is None:
                return
            mode = detected
        manager: SubscriptionKeeper
        if mode is EventsMode.PUSH:
            base_url = self._push_base
            if base_url is None:
                base_url = await self._routed_base(watched, on_status)
                if base_url is None:
                    return
            manager = PushManager(
                record.id,
                watched.client,
                self.consumer,
                options=self.options,
                base_url=base_url,
                clock=self._clock,
                on_status=on_status,
            )
        else:
            manager = PullPointManager(
                record.id,
                watched.client,
                self.bus,
                options=self.options,
                clock=self._clock,
                registry=self.registry,
                on_status=on_status,
            )
        watched.manager = manager
        logger.info("camera %s: collecting events by %s", record.id, manager.mode)
        manager.start()

    def _pending(
        self,
        watched: _Watched,
        on_status: Callable[[SubscriptionStatus], None],
        **changes: Unpack[StatusChanges],
    ) -> None:
        watched.pending = replace(watched.pending, **changes)
        on_status(watched.pending)

    async def _detect(
        self, watched: _Watched, on_status: Callable[[SubscriptionStatus], None]
    ) -> EventsMode | None:
        """``auto``'s choice for the camera; retries while it is unreachable, ``None``
        (status ``failed``) when its credentials or event service are refused."""
        backoff = Backoff(self.options.backoff_initial, self.options.backoff_max, jitter=0.1)
        failures = 0
        while True:
            try:
                async with asyncio.timeout(_DETECT_TIMEOUT):
                    return await detect_mode(watched.client)
            except (AuthenticationError, NotAuthorized, ServiceNotSupported) as exc:
                self._pending(
                    watched,
                    on_status,
                    state=SubscriptionState.FAILED,
                    failures=failures + 1,
                    last_error=f"cannot subscribe: {exc}",
                )
                return None
            except (OnvifError, TimeoutError) as exc:
                failures += 1
                delay = backoff.next_delay()
                if isinstance(exc, TransportError | TimeoutError):
                    reason = f"camera unreachable: {str(exc) or 'no answer in time'}"
                else:
                    reason = f"cannot ask the camera how it delivers events: {exc}"
                self._pending(
                    watched,
                    on_status,
                    state=SubscriptionState.RETRYING,
                    failures=failures,
                    last_error=reason,
                    retry_delay=delay,
                )
                await asyncio.sleep(delay)

    async def _routed_base(
        self, watched: _Watched, on_status: Callable[[SubscriptionStatus], None]
    ) -> str | None:
        """The push address for one camera when the service binds every interface."""
        record = watched.record
        http = self._http
        if http.port == 0:
            reason = "http.port is 0 (chosen at start): set PLATONICAM_EVENTS__PUSH_BASE_URL"
        else:
            try:
                local = await local_address_towards(record.host, record.port)
            except OSError as exc:
                reason = f"no local address routes to {record.host}: {exc}"
            else:
                scheme = "https" if self._https else "http"
                return f"{scheme}://{_host_in_url(local)}:{http.port}"
        self._pending(
            watched,
            on_status,
            state=SubscriptionState.FAILED,
            mode=EventsMode.PUSH.value,
            failures=1,
            last_error=f"cannot tell the camera where to push: {reason}",
        )
        return None

    # ------------------------------------------------------------------ Home Assistant

    def _ha_camera(self, watched: _Watched) -> HaCamera:
        record = watched.record
        sensors = [HaSensor(kind) for kind in sorted(watched.kinds - _PORT_KINDS)]
        sensors += [HaSensor(kind, port) for kind, port in sorted(watched.ports)]
        return HaCamera(
            camera_id=record.id,
            name=record.name,
            manufacturer=record.manufacturer,
            model=record.model,
            sw_version=record.firmware_version,
            serial_number=record.serial_number,
            sensors=tuple(sensors),
        )

    def _announce(self, watched: _Watched) -> None:
        if self.discovery is not None and self._watched.get(watched.record.id) is watched:
            self.discovery.announce(self._ha_camera(watched))

    async def _describe(self, watched: _Watched) -> None:
        """Read the camera's topic set (and relays) and announce its sensors."""
        camera_id = watched.record.id
        try:
            async with (
                asyncio.timeout(_DESCRIBE_TIMEOUT),
                self._camera_manager.client(camera_id) as client,
            ):
                properties = await client.events.get_event_properties()
                kinds = sensor_kinds(properties, self.registry)
                relays: list[str] = []
                if EventKind.RELAY in kinds:
                    with contextlib.suppress(OnvifError):
                        relays = [r.token for r in await client.device.get_relay_outputs()]
        except (CameraOperationError, OnvifError, TimeoutError) as exc:
            # Sensors still appear as their events arrive (_SensorWatcher).
            logger.warning("camera %s did not describe its events: %s", camera_id, exc)
            return
        watched.kinds |= kinds
        watched.ports |= {(EventKind.RELAY, token) for token in relays}
        self._announce(watched)

    def _saw(self, event: Event) -> None:
        """Announce a sensor the first time an event shows it exists."""
        watched = self._watched.get(event.camera_id)
        if watched is None or event.kind not in DEVICE_CLASSES:
            return
        port = port_of(event)
        if event.kind in _PORT_KINDS:
            if port is None or (event.kind, port) in watched.ports:
                return
            watched.ports.add((event.kind, port))
        elif event.kind in watched.kinds:
            return
        else:
            watched.kinds.add(event.kind)
        self._announce(watched)

    # ------------------------------------------------------------------ retention

    async def apply_retention(self) -> int:
        """Delete stored events older than ``retention_days``; returns how many."""
        deleted = await self.store.apply_retention(timedelta(days=self.settings.retention_days))
        self.expired += deleted
        if deleted:
            logger.info(
                "deleted %d event(s) older than %g days", deleted, self.settings.retention_days
            )
        return deleted

    async def _retention_loop(self) -> None:
        while True:
            try:
                await self.apply_retention()
            except Exception:
                logger.exception("deleting old events failed")
            await asyncio.sleep(self.settings.retention_interval)


class _NotifyEndpoint:
    """ASGI: hands a push to the running supervisor's consumer (503 outside the lifespan)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        supervisor = getattr(scope["app"].state, "events", None)
        if not isinstance(supervisor, EventsSupervisor):
            body = b"events are not running"
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        token = str(scope.get("path_params", {}).get("token", ""))
        await supervisor.consumer.serve(token, scope, receive, send)


def notify_route() -> Route:
    """``/api/events/notify/{token}``, where cameras in push mode POST ``wsnt:Notify``.

    No bearer token (a camera cannot carry one): the random token in the path,
    one per camera subscription, is the authentication; anything else is
    answered 404 (:class:`~platonicam.events.push.NotifyConsumer`). Not in the
    OpenAPI document: it is the cameras' endpoint, not the API's.
    """
    return Route(f"{NOTIFY_PATH}/{{token}}", _NotifyEndpoint(), include_in_schema=False)


class _SensorWatcher:
    """A :class:`Sink` that tells the supervisor which sensors events reveal."""

    def __init__(self, supervisor: EventsSupervisor) -> None:
        self._supervisor = supervisor

    async def publish(self, event: Event) -> None:
        if event.state is not None:
            self._supervisor._saw(event)


def _log_transitions() -> Callable[[SubscriptionStatus], None]:
    last: list[SubscriptionState] = []

    def on_status(status: SubscriptionStatus) -> None:
        if last and last[0] is status.state:
            return
        previous = last[0].value if last else "-"
        last[:] = [status.state]
        level = logging.WARNING if status.state is SubscriptionState.FAILED else logging.INFO
        logger.log(
            level,
            "camera %s events: %s -> %s%s",
            status.camera_id,
            previous,
            status.state.value,
            f" ({status.last_error})" if status.last_error else "",
        )

    return on_status
