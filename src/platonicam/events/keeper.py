"""Keeping one camera's event subscription alive: what PullPoint and push share.

A camera's subscription, pulled (:class:`~platonicam.events.pullpoint.PullPointManager`)
or pushed (:class:`~platonicam.events.push_manager.PushManager`), lives the same
life; only how events arrive differs. :class:`SubscriptionKeeper` runs that
life in one task per camera, as a small state machine::

    starting --create--> subscribed --(80 % of the termination time)--> renewing --> subscribed
        ^                    |  fault / unreachable / unreadable answer
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
  refuses a relative termination with a fault, or grants no time at all, the
  keeper switches this camera to absolute times (camera clock = our clock + the
  measured offset) for the rest of its life; the flag can also be set up front
  in :class:`SubscriptionOptions`.
- **Recreation**: a fault on Renew (``ResourceUnknownFault`` after a camera
  reboot, an expired subscription), or on whatever the subclass does in
  between, drops the subscription and creates a new one; the first retry is
  immediate, later ones back off. Connection failures back off from the start
  and reconnect (re-reading the clock offset and the service addresses, which
  a reboot may change).

Subclasses say how a subscription is created (:meth:`SubscriptionKeeper._create`)
and what happens while it lives (:meth:`SubscriptionKeeper._serve`: pulling, or
waiting for the renewal while the camera pushes). Time comes from the injected
:class:`~platonicam.clock.Clock`; waiting goes through the injected ``sleep``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar, Self, TypedDict, Unpack

from platonicam.clock import Clock, SystemClock
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    NotAuthorized,
    OnvifError,
    ServiceNotSupported,
    SoapFaultError,
    TransportError,
)
from platonicam.onvif.facades.events import PullPointSubscription
from platonicam.tasks import cancel_and_wait

__all__ = [
    "Backoff",
    "GiveUp",
    "Recreate",
    "Sleep",
    "SubscriptionKeeper",
    "SubscriptionOptions",
    "SubscriptionState",
    "SubscriptionStatus",
    "renew_delay",
]

_log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class SubscriptionState(enum.StrEnum):
    """Where a camera's subscription stands (shown per camera in the service)."""

    STARTING = "starting"
    SUBSCRIBED = "subscribed"
    RENEWING = "renewing"
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SubscriptionOptions:
    """How one camera is subscribed, whichever way its events arrive.

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
    absolute_termination: bool = False
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_factor: float = 2.0
    backoff_jitter: float = 0.1
    max_failures: int | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    """A snapshot of one camera's subscription (``*_at`` values are the injected
    clock's monotonic seconds).

    ``mode`` is ``pullpoint`` or ``push`` (``None`` while the service is still
    finding out which). ``subscriptions`` counts subscriptions created,
    ``renewals`` successful renewals, ``pulls`` PullMessages round trips,
    ``notifies`` Notify requests the camera pushed, ``events`` events handed to
    the sink, ``duplicates`` events dropped as repeats, ``malformed`` unreadable
    notifications or answers, ``failures`` consecutive failures (0 while
    healthy). ``termination_time`` is the camera's (camera clock).
    """

    camera_id: str
    state: SubscriptionState = SubscriptionState.STARTING
    mode: str | None = None
    subscriptions: int = 0
    renewals: int = 0
    pulls: int = 0
    notifies: int = 0
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
    last_notify_at: float | None = None
    retry_delay: float | None = None


class StatusChanges(TypedDict, total=False):
    """The fields :meth:`SubscriptionKeeper._update` may change."""

    state: SubscriptionState
    mode: str | None
    subscriptions: int
    renewals: int
    pulls: int
    notifies: int
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
    last_notify_at: float | None
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


class Recreate(Exception):
    """Drop the subscription and make a new one (at once when ``immediate`` and it is
    the first failure in a row, else after the next backoff delay)."""

    def __init__(self, reason: str, *, immediate: bool) -> None:
        super().__init__(reason)
        self.immediate = immediate


class GiveUp(Exception):
    """A failure retrying cannot fix: the keeper ends in ``failed``."""


class SubscriptionKeeper(abc.ABC):
    """Keeps one camera's event subscription alive (see the module docstring).

    ``client`` is an :class:`OnvifClient` for the camera (the keeper connects
    it, and reconnects after failures; it does not close it). ``on_status`` is
    called with every new :class:`SubscriptionStatus`. Use :meth:`start` /
    :meth:`stop`, or ``async with``.
    """

    #: ``SubscriptionStatus.mode`` of this kind of keeper.
    mode: ClassVar[str]

    def __init__(
        self,
        camera_id: str,
        client: OnvifClient,
        *,
        options: SubscriptionOptions,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        on_status: Callable[[SubscriptionStatus], None] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._options = options
        self._client = client
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep
        self._on_status = on_status
        self._backoff = Backoff(
            options.backoff_initial,
            options.backoff_max,
            options.backoff_factor,
            options.backoff_jitter,
        )
        self._status = SubscriptionStatus(
            camera_id, mode=self.mode, absolute_termination=options.absolute_termination
        )
        self._subscription: PullPointSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> SubscriptionStatus:
        return self._status

    @property
    def state(self) -> SubscriptionState:
        return self._status.state

    def _update(self, **changes: Unpack[StatusChanges]) -> None:
        self._status = replace(self._status, **changes)
        self._changed.set()
        if self._on_status is not None:
            self._on_status(self._status)

    async def wait_for(
        self, predicate: Callable[[SubscriptionStatus], bool], *, timeout: float
    ) -> SubscriptionStatus:
        """Wait until ``predicate(status)`` holds.

        Raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate(self._status):
                self._changed.clear()
                await self._changed.wait()
        return self._status

    def _healthy(self) -> None:
        """The camera did what it should: the next failure starts the backoff afresh."""
        if self._status.failures:
            self._backoff.reset()
            self._update(failures=0, last_error=None)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Run the keeper in a task of its own (idempotent while running)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"{self.mode} {self.camera_id}"
            )

    async def stop(self) -> None:
        """Stop the loop and release the camera's subscription (best effort)."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        await self._release()
        self._update(state=SubscriptionState.STOPPED, next_renew_at=None)

    async def __aenter__(self) -> Self:
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
                subscription = await self._subscribe()
                await self._serve(subscription)
            except Recreate as exc:
                await self._release()
                failures = self._status.failures + 1
                limit = self._options.max_failures
                if limit is not None and failures >= limit:
                    self._fail(str(exc), failures)
                    return
                delay = 0.0 if exc.immediate and failures == 1 else self._backoff.next_delay()
                _log.info("camera %s: %s; retrying in %.1f s", self.camera_id, exc, delay)
                self._update(
                    state=SubscriptionState.RETRYING,
                    failures=failures,
                    last_error=str(exc),
                    retry_delay=delay,
                    next_renew_at=None,
                )
                if delay:
                    await self._sleep(delay)
            except GiveUp as exc:
                await self._release()
                self._fail(str(exc), self._status.failures + 1)
                return

    def _fail(self, reason: str, failures: int) -> None:
        _log.warning("camera %s: event subscription failed: %s", self.camera_id, reason)
        self._update(
            state=SubscriptionState.FAILED,
            failures=failures,
            last_error=reason,
            next_renew_at=None,
        )

    @abc.abstractmethod
    async def _create(self, termination: timedelta | datetime) -> PullPointSubscription:
        """Create the subscription on the (connected) camera; the client's errors propagate."""

    @abc.abstractmethod
    async def _serve(self, subscription: PullPointSubscription) -> None:
        """Use the subscription until it has to be recreated (raise :class:`Recreate`)."""

    def _termination(self) -> timedelta | datetime:
        if self._status.absolute_termination:
            camera_now = self._clock.now() + self._client.clock_offset
            return camera_now + self._options.termination
        return self._options.termination

    async def _subscribe(self) -> PullPointSubscription:
        try:
            await self._client.connect()
            try:
                subscription = await self._create(self._termination())
            except (NotAuthorized, ActionNotSupported):
                raise
            except SoapFaultError as exc:
                if self._status.absolute_termination:
                    raise
                # A camera that refuses a relative InitialTerminationTime: try
                # the absolute form once, and keep it if that works.
                _log.info("camera %s refused a relative termination (%s)", self.camera_id, exc)
                self._update(absolute_termination=True)
                subscription = await self._create(self._termination())
        except (AuthenticationError, NotAuthorized, ServiceNotSupported, ActionNotSupported) as exc:
            raise GiveUp(f"cannot subscribe: {exc}") from exc
        except TransportError as exc:
            raise Recreate(f"camera unreachable: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise Recreate(f"subscription failed: {exc}", immediate=False) from exc
        self._subscription = subscription
        now = self._clock.monotonic()
        granted = self._granted(
            subscription.reference.current_time, subscription.reference.termination_time
        )
        self._update(
            state=SubscriptionState.SUBSCRIBED,
            subscriptions=self._status.subscriptions + 1,
            termination_time=subscription.termination_time,
            subscribed_at=now,
            next_renew_at=now + self._renew_in(granted),
            retry_delay=None,
        )
        return subscription

    def _granted(self, current: datetime | None, termination: datetime | None) -> timedelta:
        """How long the camera says the subscription lives (its clock on both sides)."""
        if termination is None:
            return self._options.termination
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
            fraction=self._options.renew_fraction,
            floor=self._options.min_renew_interval,
        )

    async def _renew(self, subscription: PullPointSubscription) -> None:
        self._update(state=SubscriptionState.RENEWING)
        try:
            result = await subscription.renew(self._termination())
        except TransportError as exc:
            raise Recreate(f"renew failed: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise Recreate(f"renew failed: {exc}", immediate=True) from exc
        granted = self._granted(result.current_time, result.termination_time)
        self._update(
            state=SubscriptionState.SUBSCRIBED,
            renewals=self._status.renewals + 1,
            termination_time=subscription.termination_time,
            next_renew_at=self._clock.monotonic() + self._renew_in(granted),
        )
