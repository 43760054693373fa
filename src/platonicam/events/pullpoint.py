"""The PullPoint manager: one camera's event subscription, kept alive.

Strategy: one task per camera runs a small state machine::

    starting --create--> subscribed --(80 % of the termination time)--> renewing --> subscribed
        ^                    |  pull fault / renew fault / unreadable answer
        |                    v
        +---- retrying <-----+   (camera unreachable: backoff, doubling up to a cap)
                  |
                  +--> failed    (credentials refused, no event service, or max_failures)

- **Renewal** happens at ``renew_fraction`` (80 %) of the time the camera granted,
  measured on the camera's own clock (``TerminationTime - CurrentTime``), never
  sooner than ``min_renew_interval`` after the last one (a camera that answers
  with a termination in the past would otherwise be renewed in a hot loop).
- **Broken relative termination times**: some firmware subtracts its own clock
  from a duration or answers ``PT60S`` with a termination already past (the
  quirk Home Assistant tracks as ``has_broken_relative_time``). When the camera
  refuses a relative ``InitialTerminationTime`` with a fault, or grants no time
  at all, the manager switches this camera to absolute times (camera clock =
  our clock + the measured offset) for the rest of its life; the flag can also
  be set up front in :class:`PullPointOptions`.
- **Recreation**: any fault on PullMessages or Renew (``ResourceUnknownFault``
  after a camera reboot, an expired subscription) drops the subscription and
  creates a new one; the first retry is immediate, later ones back off.
  Connection failures back off from the start and reconnect (re-reading the
  clock offset and the service addresses, which a reboot may change).
- **Malformed notifications** are counted and skipped one by one (see
  :func:`platonicam.events.notification.read_notifications`); an answer that is
  not readable at all counts once and recreates the subscription.
- **No duplicates**: a new subscription starts with ``Initialized`` messages for
  every property, which repeat what we already delivered. The
  :class:`Deduplicator` drops property events whose state and data equal the
  last delivered for the same property instance, and momentary events seen
  before (same topic, source, data and time).

Only one pull is in flight per subscription (cameras may fault a second
concurrent blocking pull). Time comes from the injected
:class:`~platonicam.clock.Clock`; waiting goes through the injected ``sleep``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, TypedDict, Unpack

from platonicam.clock import Clock, SystemClock
from platonicam.events.bus import Sink
from platonicam.events.model import Event
from platonicam.events.notification import read_notifications
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    NotAuthorized,
    OnvifError,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
    TransportError,
)
from platonicam.onvif.facades.events import PullPointSubscription
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.services import events as ops

__all__ = [
    "Backoff",
    "Deduplicator",
    "PullPointManager",
    "PullPointOptions",
    "PullPointState",
    "PullPointStatus",
    "renew_delay",
]

_log = logging.getLogger(__name__)

#: Seconds beyond a PullMessages wait before the HTTP exchange gives up.
_PULL_MARGIN: Final = 10.0
#: Below this many seconds before the renewal is due, renew now instead of pulling.
_RENEW_SLACK: Final = 1.0

Sleep = Callable[[float], Awaitable[None]]


class PullPointState(enum.StrEnum):
    """Where a camera's subscription stands (shown per camera in the service)."""

    STARTING = "starting"
    SUBSCRIBED = "subscribed"
    RENEWING = "renewing"
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class PullPointOptions:
    """How one camera is subscribed.

    ``topic_filter``: ConcreteSet expression(s), ``None`` for everything.
    ``termination``: the lifetime asked for at creation and each renewal.
    ``absolute_termination``: send absolute times from the start (cameras known
    to mishandle relative ones). ``max_failures``: consecutive failures before
    giving up (state ``failed``); ``None`` retries for ever. Backoff delays are
    seconds; ``backoff_jitter`` is the fraction of random spread added to each.
    """

    topic_filter: str | Sequence[str] | None = None
    termination: timedelta = timedelta(minutes=1)
    renew_fraction: float = 0.8
    min_renew_interval: timedelta = timedelta(seconds=5)
    pull_timeout: timedelta = timedelta(seconds=5)
    message_limit: int = 100
    min_pull_interval: timedelta = timedelta(milliseconds=200)
    absolute_termination: bool = False
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_factor: float = 2.0
    backoff_jitter: float = 0.1
    max_failures: int | None = None
    dedupe_window: int = 1024


@dataclass(frozen=True, slots=True)
class PullPointStatus:
    """A snapshot of one manager (``*_at`` values are the injected clock's monotonic seconds).

    ``subscriptions`` counts subscriptions created, ``renewals`` successful
    renewals, ``events`` events handed to the sink, ``duplicates`` events
    dropped as repeats, ``malformed`` unreadable notifications or answers,
    ``failures`` consecutive failures (0 while healthy). ``termination_time``
    is the camera's (camera clock).
    """

    camera_id: str
    state: PullPointState = PullPointState.STARTING
    subscriptions: int = 0
    renewals: int = 0
    pulls: int = 0
    events: int = 0
    duplicates: int = 0
    malformed: int = 0
    sink_errors: int = 0
    failures: int = 0
    last_error: str | None = None
    absolute_termination: bool = False
    termination_time: datetime | None = None
    subscribed_at: float | None = None
    next_renew_at: float | None = None
    retry_delay: float | None = None


class _StatusChanges(TypedDict, total=False):
    state: PullPointState
    subscriptions: int
    renewals: int
    pulls: int
    events: int
    duplicates: int
    malformed: int
    sink_errors: int
    failures: int
    last_error: str | None
    absolute_termination: bool
    termination_time: datetime | None
    subscribed_at: float | None
    next_renew_at: float | None
    retry_delay: float | None


def renew_delay(granted: timedelta, *, fraction: float = 0.8, floor: timedelta) -> float:
    """Seconds until a subscription granted ``granted`` should be renewed.

    ``fraction`` of the grant, but at least ``floor`` (a zero or negative grant
    from a confused camera must not make us renew in a loop).
    """
    return max(granted.total_seconds() * fraction, floor.total_seconds())


class Backoff:
    """Delays for consecutive failures: ``initial``, then times ``factor``, capped at ``maximum``.

    ``jitter`` spreads each delay by up to that fraction (so fifty cameras that
    lost the same switch do not reconnect in lockstep); ``random`` is injectable.
    """

    def __init__(
        self,
        initial: float,
        maximum: float,
        factor: float = 2.0,
        jitter: float = 0.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng
        self._next = initial

    def reset(self) -> None:
        self._next = self.initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        if self.jitter:
            delay += delay * self.jitter * self._rng()
        return delay


_PropertyKey = tuple[str, str, tuple[tuple[str, str], ...], str | None]
_PropertyValue = tuple[bool | None, tuple[tuple[str, str], ...]]
_PulseKey = tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], str]


class Deduplicator:
    """Decides whether an event is new (see the module docstring). Pure, no I/O.

    Property events are keyed by kind, topic, source items and detected
    ``object``; one is a repeat when its state and data equal the last admitted
    for that key. Other events are repeats when the same topic, source, data
    and time was admitted within the last ``window`` such events.
    """

    def __init__(self, window: int = 1024) -> None:
        self._states: dict[_PropertyKey, _PropertyValue] = {}
        self._recent: collections.OrderedDict[_PulseKey, None] = collections.OrderedDict()
        self._window = window

    def admit(self, event: Event) -> bool:
        source = tuple(sorted(event.source.items()))
        data = tuple(sorted(event.data.items()))
        if event.property_operation is not None:
            key = (event.kind.value, event.topic, source, event.data.get("object"))
            value = (event.state, data)
            if self._states.get(key) == value:
                return False
            self._states[key] = value
            return True
        stamp = event.time.isoformat() if event.time is not None else ""
        pulse = (event.kind.value, event.topic, source, data, stamp)
        if pulse in self._recent:
            return False
        self._recent[pulse] = None
        if len(self._recent) > self._window:
            self._recent.popitem(last=False)
        return True


class _Recreate(Exception):
    """Internal: drop the subscription and make a new one (after ``delay`` seconds)."""

    def __init__(self, reason: str, *, immediate: bool) -> None:
        super().__init__(reason)
        self.immediate = immediate


class _GiveUp(Exception):
    """Internal: a failure retrying cannot fix."""


class PullPointManager:
    """Keeps one camera's PullPoint subscription alive and feeds its events to ``sink``.

    ``client`` is an :class:`OnvifClient` for the camera (the manager connects
    it, and reconnects after failures; it does not close it). ``on_status`` is
    called with every new :class:`PullPointStatus`. Use :meth:`start` /
    :meth:`stop`, or ``async with``.
    """

    def __init__(
        self,
        camera_id: str,
        client: OnvifClient,
        sink: Sink,
        *,
        options: PullPointOptions | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        registry: TopicRegistry | None = None,
        on_status: Callable[[PullPointStatus], None] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.options = options or PullPointOptions()
        self._client = client
        self._sink = sink
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep
        self._registry = registry
        self._on_status = on_status
        self._dedupe = Deduplicator(self.options.dedupe_window)
        self._backoff = Backoff(
            self.options.backoff_initial,
            self.options.backoff_max,
            self.options.backoff_factor,
            self.options.backoff_jitter,
        )
        self._status = PullPointStatus(
            camera_id, absolute_termination=self.options.absolute_termination
        )
        self._subscription: PullPointSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> PullPointStatus:
        return self._status

    @property
    def state(self) -> PullPointState:
        return self._status.state

    def _update(self, **changes: Unpack[_StatusChanges]) -> None:
        self._status = replace(self._status, **changes)
        self._changed.set()
        if self._on_status is not None:
            self._on_status(self._status)

    async def wait_for(
        self, predicate: Callable[[PullPointStatus], bool], *, timeout: float
    ) -> PullPointStatus:
        """Wait until ``predicate(status)`` holds.

        Raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate(self._status):
                self._changed.clear()
                await self._changed.wait()
        return self._status

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Run the manager in a task of its own (idempotent while running)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"pullpoint {self.camera_id}"
            )

    async def stop(self) -> None:
        """Stop the loop and release the camera's pull point (best effort)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._release()
        self._update(state=PullPointState.STOPPED, next_renew_at=None)

    async def __aenter__(self) -> PullPointManager:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _release(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is None or subscription.closed:
            return
        with contextlib.suppress(OnvifError):
            async with asyncio.timeout(2.0):
                await subscription.unsubscribe()

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """The state machine (see the module docstring); returns only on ``failed``."""
        while True:
            try:
                await self._subscribe()
                await self._pull_loop()
            except _Recreate as exc:
                await self._release()
                failures = self._status.failures + 1
                limit = self.options.max_failures
                if limit is not None and failures >= limit:
                    self._fail(str(exc), failures)
                    return
                delay = 0.0 if exc.immediate and failures == 1 else self._backoff.next_delay()
                _log.info("camera %s: %s; retrying in %.1f s", self.camera_id, exc, delay)
                self._update(
                    state=PullPointState.RETRYING,
                    failures=failures,
                    last_error=str(exc),
                    retry_delay=delay,
                    next_renew_at=None,
                )
                if delay:
                    await self._sleep(delay)
            except _GiveUp as exc:
                await self._release()
                self._fail(str(exc), self._status.failures + 1)
                return

    def _fail(self, reason: str, failures: int) -> None:
        _log.warning("camera %s: event subscription failed: %s", self.camera_id, reason)
        self._update(
            state=PullPointState.FAILED, failures=failures, last_error=reason, next_renew_at=None
        )

    def _termination(self) -> timedelta | datetime:
        if self._status.absolute_termination:
            camera_now = self._clock.now() + self._client.clock_offset
            return camera_now + self.options.termination
        return self.options.termination

    async def _subscribe(self) -> None:
        try:
            await self._client.connect()
            try:
                subscription = await self._client.events.create_pull_point_subscription(
                    self.options.topic_filter, self._termination()
                )
            except (NotAuthorized, ActionNotSupported):
                raise
            except SoapFaultError as exc:
                if self._status.absolute_termination:
                    raise
                # A camera that refuses a relative InitialTerminationTime: try
                # the absolute form once, and keep it if that works.
                _log.info("camera %s refused a relative termination (%s)", self.camera_id, exc)
                self._update(absolute_termination=True)
                subscription = await self._client.events.create_pull_point_subscription(
                    self.options.topic_filter, self._termination()
                )
        except (AuthenticationError, NotAuthorized, ServiceNotSupported, ActionNotSupported) as exc:
            raise _GiveUp(f"cannot subscribe: {exc}") from exc
        except TransportError as exc:
            raise _Recreate(f"camera unreachable: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise _Recreate(f"subscription failed: {exc}", immediate=False) from exc
        self._subscription = subscription
        now = self._clock.monotonic()
        granted = self._granted(
            subscription.reference.current_time, subscription.reference.termination_time
        )
        self._update(
            state=PullPointState.SUBSCRIBED,
            subscriptions=self._status.subscriptions + 1,
            termination_time=subscription.termination_time,
            subscribed_at=now,
            next_renew_at=now + self._renew_in(granted),
            retry_delay=None,
        )

    def _granted(self, current: datetime | None, termination: datetime | None) -> timedelta:
        """How long the camera says the subscription lives (its clock on both sides)."""
        if termination is None:
            return self.options.termination
        if current is None:
            current = self._clock.now() + self._client.clock_offset
        granted = termination - current
        if granted <= timedelta(0) and not self._status.absolute_termination:
            # Termination at or before "now": the relative-time quirk. Renew at
            # the floor with absolute times from here on.
            _log.info("camera %s granted %s: switching to absolute times", self.camera_id, granted)
            self._update(absolute_termination=True)
        return granted

    def _renew_in(self, granted: timedelta) -> float:
        return renew_delay(
            granted,
            fraction=self.options.renew_fraction,
            floor=self.options.min_renew_interval,
        )

    async def _pull_loop(self) -> None:
        subscription = self._subscription
        assert subscription is not None
        while True:
            due = self._status.next_renew_at
            now = self._clock.monotonic()
            if due is not None and due - now < _RENEW_SLACK:
                await self._renew(subscription)
                continue
            wait = self.options.pull_timeout.total_seconds()
            if due is not None:
                wait = min(wait, float(int(due - now)))
            started = self._clock.monotonic()
            delivered = await self._pull(subscription, timedelta(seconds=max(wait, 0.0)))
            elapsed = self._clock.monotonic() - started
            if self._status.failures:
                self._backoff.reset()
                self._update(failures=0, last_error=None)
            rest = self.options.min_pull_interval.total_seconds() - elapsed
            if not delivered and rest > 0:
                # A camera that answers every pull at once with nothing new
                # must not turn this loop into a busy one.
                await self._sleep(rest)

    async def _renew(self, subscription: PullPointSubscription) -> None:
        self._update(state=PullPointState.RENEWING)
        try:
            result = await subscription.renew(self._termination())
        except TransportError as exc:
            raise _Recreate(f"renew failed: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise _Recreate(f"renew failed: {exc}", immediate=True) from exc
        granted = self._granted(result.current_time, result.termination_time)
        self._update(
            state=PullPointState.SUBSCRIBED,
            renewals=self._status.renewals + 1,
            termination_time=subscription.termination_time,
            next_renew_at=self._clock.monotonic() + self._renew_in(granted),
        )

    async def _pull(self, subscription: PullPointSubscription, wait: timedelta) -> int:
        """One PullMessages round trip; returns how many events went to the sink."""
        try:
            # Called directly rather than through subscription.pull(): that
            # parser rejects a whole answer for one bad message, and we want
            # each message's XML for the event's payload.
            answer = await self._client.call(
                ServiceKind.EVENTS,
                ops.build_pull_messages(wait, self.options.message_limit),
                url=subscription.url,
                headers=ops.build_subscription_headers(
                    subscription.reference, ops.PULL_MESSAGES_ACTION
                ),
                timeout=wait.total_seconds() + _PULL_MARGIN,
            )
        except RemoteProtocolError as exc:
            self._update(malformed=self._status.malformed + 1)
            raise _Recreate(f"unreadable PullMessages answer: {exc}", immediate=True) from exc
        except TransportError as exc:
            raise _Recreate(f"pull failed: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise _Recreate(f"pull failed: {exc}", immediate=True) from exc
        batch = read_notifications(
            answer, camera_id=self.camera_id, received=self._clock.now(), registry=self._registry
        )
        for bad in batch.malformed:
            _log.warning("camera %s sent a malformed notification: %s", self.camera_id, bad.reason)
        delivered = duplicates = sink_errors = 0
        for event in batch.events:
            if not self._dedupe.admit(event):
                duplicates += 1
                continue
            try:
                await self._sink.publish(event)
            except Exception:
                sink_errors += 1
                _log.exception("camera %s: the event sink failed", self.camera_id)
            else:
                delivered += 1
        self._update(
            pulls=self._status.pulls + 1,
            events=self._status.events + delivered,
            duplicates=self._status.duplicates + duplicates,
            malformed=self._status.malformed + len(batch.malformed),
            sink_errors=self._status.sink_errors + sink_errors,
            termination_time=subscription.termination_time
            if batch.termination_time is None
            else batch.termination_time,
        )
        return delivered
