"""The in-process event bus: every camera's events, fanned out to whoever listens.

Strategy: a publisher must never wait for a slow reader. Each reader gets its
own bounded queue; when it is full, the *oldest* event in that queue is dropped
and the reader's ``dropped`` counter goes up, so a stalled WebSocket client or
a broker that is away costs memory up to its bound and no more, and recovers
with the newest events. Filtering (camera ids, kinds) happens before queueing,
so a reader's bound counts only events it asked for.

Two ways to read:

- :meth:`EventBus.subscribe` returns a :class:`Subscription`, an async iterator
  (for WebSocket/SSE handlers and tests);
- :meth:`EventBus.attach` drives a :class:`Sink` (the MQTT bridge, the store)
  from its own task: the bus awaits ``sink.publish(event)`` for each event in
  order; an exception from the sink is counted in ``failed`` and logged, and
  the next event is delivered.

The bus itself satisfies :class:`Sink`, so producers (PullPoint managers, the
push endpoint) are written against the protocol and tests can hand them any
sink.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from platonicam.events.model import Event, EventKind
from platonicam.tasks import wait_ended

__all__ = ["DEFAULT_QUEUE_SIZE", "EventBus", "EventFilter", "Sink", "SinkHandle", "Subscription"]

_log = logging.getLogger(__name__)

#: Events a reader may fall behind by before the oldest are dropped.
DEFAULT_QUEUE_SIZE: Final = 1000


@runtime_checkable
class Sink(Protocol):
    """Anything that takes normalized events (MQTT bridge, store, the bus itself).

    ``publish`` may await I/O; it should not raise for a transient outage of its
    own back end (buffer instead). When it does raise, the bus counts the
    failure and carries on with the next event.
    """

    async def publish(self, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: ``None`` means "all" for that dimension.

    An empty set matches nothing (a user with no camera grants sees no events).
    """

    camera_ids: frozenset[str] | None = None
    kinds: frozenset[EventKind] | None = None

    @classmethod
    def of(
        cls,
        camera_ids: Iterable[str] | None = None,
        kinds: Iterable[EventKind | str] | None = None,
    ) -> EventFilter:
        """Build a filter; ``kinds`` may be given as strings (``"motion"``).

        Raises :class:`ValueError` for a kind name that is not an :class:`EventKind`.
        """
        return cls(
            camera_ids=frozenset(camera_ids) if camera_ids is not None else None,
            kinds=frozenset(EventKind(k) for k in kinds) if kinds is not None else None,
        )

    def matches(self, event: Event) -> bool:
        if self.camera_ids is not None and event.camera_id not in self.camera_ids:
            return False
        return self.kinds is None or event.kind in self.kinds


class _Queue:
    """A bounded FIFO that drops its oldest entry when full (never blocks the writer)."""

    __slots__ = ("_items", "_maxsize", "_waiter", "closed", "dropped")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"queue size must be at least 1, got {maxsize}")
        self._items: collections.deque[Event] = collections.deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: Event) -> None:
        if self.closed:
            return
        if len(self._items) >= self._maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(event)
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Event | None:
        """The next event, or ``None`` once closed and drained."""
        while not self._items:
            if self.closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> Event | None:
        return self._items.popleft() if self._items else None


class Subscription:
    """One reader's view of the bus: an async iterator of matching events.

    Iteration ends after :meth:`close` (or the bus closing) once the queued
    events are read. ``dropped`` counts events lost to the queue bound.
    Use as an ``async with`` block to unsubscribe on exit.
    """

    def __init__(self, bus: EventBus, event_filter: EventFilter, maxsize: int) -> None:
        self._bus = bus
        self.filter = event_filter
        self._queue = _Queue(maxsize)

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    @property
    def pending(self) -> int:
        """Events queued and not read yet."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._queue.closed

    def _offer(self, event: Event) -> None:
        if self.filter.matches(event):
            self._queue.put(event)

    async def get(self) -> Event | None:
        """The next event; ``None`` when the subscription is closed and drained."""
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        """The next queued event, or ``None`` when none is waiting."""
        return self._queue.get_nowait()

    def close(self) -> None:
        """Stop receiving; events already queued can still be read. Idempotent."""
        self._bus._remove(self)
        self._queue.close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class SinkHandle:
    """A :class:`Sink` attached to the bus, fed by its own task.

    ``delivered`` counts events the sink accepted, ``failed`` those whose
    ``publish`` raised, ``dropped`` those lost to the queue bound.
    """

    def __init__(self, sink: Sink, subscription: Subscription, name: str) -> None:
        self.sink = sink
        self.name = name
        self._subscription = subscription
        self.delivered = 0
        self.failed = 0
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"event-sink {name}")

    @property
    def dropped(self) -> int:
        return self._subscription.dropped

    @property
    def pending(self) -> int:
        return self._subscription.pending

    async def _run(self) -> None:
        async for event in self._subscription:
            try:
                await self.sink.publish(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failed += 1
                _log.exception(
                    "event sink %s failed on %s/%s", self.name, event.camera_id, event.kind
                )
            else:
                self.delivered += 1

    async def close(self, *, drain: bool = True) -> None:
        """Detach. With ``drain``, events already queued are delivered first."""
        self._subscription.close()
        if not drain:
            self._task.cancel()
        # Not "re-raise unless the task was cancelled": a caller cancelled while it waits
        # cancels the task too, and would then swallow its own cancellation.
        await wait_ended(self._task)


class EventBus:
    """In-process publish/subscribe for normalized events (itself a :class:`Sink`).

    Not thread-safe: publish from the event loop that owns the bus.
    ``published`` counts every event handed to :meth:`publish`.
    """

    def __init__(self, *, default_queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._default_queue_size = default_queue_size
        self._subscriptions: list[Subscription] = []
        self._sinks: list[SinkHandle] = []
        self.published = 0

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    def publish_nowait(self, event: Event) -> None:
        """Hand ``event`` to every matching reader's queue; never blocks."""
        self.published += 1
        for subscription in tuple(self._subscriptions):
            subscription._offer(event)

    async def publish(self, event: Event) -> None:
        """:class:`Sink` form of :meth:`publish_nowait`."""
        self.publish_nowait(event)

    def subscribe(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        kinds: Iterable[EventKind | str] | None = None,
        max_queue: int | None = None,
    ) -> Subscription:
        """A new reader of events matching the filter (see :class:`EventFilter`).

        ``max_queue`` bounds the reader's backlog (default: the bus's
        ``default_queue_size``); raises :class:`ValueError` when below 1.
        """
        subscription = Subscription(
            self, EventFilter.of(camera_ids, kinds), max_queue or self._default_queue_size
        )
        self._subscriptions.append(subscription)
        return subscription

    def attach(
        self,
        sink: Sink,
        *,
        camera_ids: Iterable[str] | None = None,
        kinds: Iterable[EventKind | str] | None = None,
        max_queue: int | None = None,
        name: str | None = None,
    ) -> SinkHandle:
        """Feed ``sink`` from a task of its own; must be called inside a running loop."""
        handle = SinkHandle(
            sink,
            self.subscribe(camera_ids=camera_ids, kinds=kinds, max_queue=max_queue),
            name or type(sink).__name__,
        )
        self._sinks.append(handle)
        return handle

    async def detach(self, handle: SinkHandle, *, drain: bool = True) -> None:
        if handle in self._sinks:
            self._sinks.remove(handle)
        await handle.close(drain=drain)

    def _remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    async def aclose(self, *, drain: bool = True) -> None:
        """Close every subscription and detach every sink (draining them first)."""
        for handle in tuple(self._sinks):
            await self.detach(handle, drain=drain)
        for subscription in tuple(self._subscriptions):
            subscription.close()
