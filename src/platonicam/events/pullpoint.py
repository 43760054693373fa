"""The PullPoint manager: one camera's event subscription, pulled and kept alive.

The life of the subscription (creation, renewal at 80 % of the termination
time, the absolute-time fallback for cameras that mishandle relative times,
recreation after a fault or a camera restart, backoff while the camera is
unreachable, the states ``starting``/``subscribed``/``renewing``/``retrying``/
``failed``) is :class:`~platonicam.events.keeper.SubscriptionKeeper`'s; this
module adds the pulling:

- **Pull faults**: any fault on PullMessages (``ResourceUnknownFault`` after a
  camera reboot, an expired subscription) recreates the subscription at once;
  a connection failure backs off first.
- **Malformed notifications** are counted and skipped one by one (see
  :func:`platonicam.events.notification.read_notifications`); an answer that is
  not readable at all counts once and recreates the subscription.
- **No duplicates**: a new subscription starts with ``Initialized`` messages for
  every property, which repeat what we already delivered. The
  :class:`Deduplicator` drops property events whose state and data equal the
  last delivered for the same property instance, and momentary events seen
  before (same topic, source, data and time).

Only one pull is in flight per subscription (cameras may fault a second
concurrent blocking pull). A pull never waits past the renewal: it is cut
short so the renewal happens on time.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from platonicam.clock import Clock
from platonicam.events.bus import Sink
from platonicam.events.keeper import (
    Backoff,
    Recreate,
    Sleep,
    SubscriptionKeeper,
    SubscriptionOptions,
    SubscriptionState,
    SubscriptionStatus,
    renew_delay,
)
from platonicam.events.model import Event
from platonicam.events.notification import read_notifications
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import OnvifError, RemoteProtocolError, TransportError
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

#: The states are the keeper's (the names stay for existing callers).
PullPointState = SubscriptionState
PullPointStatus = SubscriptionStatus


@dataclass(frozen=True, slots=True)
class PullPointOptions(SubscriptionOptions):
    """How one camera is subscribed and pulled (the lifetime, renewal and backoff
    fields are :class:`~platonicam.events.keeper.SubscriptionOptions`').

    ``pull_timeout``: the camera-side PullMessages wait; ``message_limit``: the
    most messages one pull asks for; ``min_pull_interval``: the least time
    between two pulls that brought nothing; ``dedupe_window``: momentary
    events remembered for de-duplication.
    """

    pull_timeout: timedelta = timedelta(seconds=5)
    message_limit: int = 100
    min_pull_interval: timedelta = timedelta(milliseconds=200)
    dedupe_window: int = 1024


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


class PullPointManager(SubscriptionKeeper):
    """Keeps one camera's PullPoint subscription alive and feeds its events to ``sink``.

    ``client`` is an :class:`OnvifClient` for the camera (the manager connects
    it, and reconnects after failures; it does not close it). ``on_status`` is
    called with every new :class:`PullPointStatus`. Use :meth:`start` /
    :meth:`stop`, or ``async with``.
    """

    mode = "pullpoint"

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
        self.options = options or PullPointOptions()
        super().__init__(
            camera_id, client, options=self.options, clock=clock, sleep=sleep, on_status=on_status
        )
        self._sink = sink
        self._registry = registry
        self._dedupe = Deduplicator(self.options.dedupe_window)

    async def _create(self, termination: timedelta | datetime) -> PullPointSubscription:
        return await self._client.events.create_pull_point_subscription(
            self.options.topic_filter, termination
        )

    async def _serve(self, subscription: PullPointSubscription) -> None:
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
            self._healthy()
            rest = self.options.min_pull_interval.total_seconds() - elapsed
            if not delivered and rest > 0:
                # A camera that answers every pull at once with nothing new
                # must not turn this loop into a busy one.
                await self._sleep(rest)

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
            raise Recreate(f"unreadable PullMessages answer: {exc}", immediate=True) from exc
        except TransportError as exc:
            raise Recreate(f"pull failed: {exc}", immediate=False) from exc
        except OnvifError as exc:
            raise Recreate(f"pull failed: {exc}", immediate=True) from exc
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
