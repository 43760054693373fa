"""One subscriber's bounded queue of a live stream: the fan-out rule every ``LiveStream`` shares.

The rule (the :class:`~platonicam.rtsp.stream.LiveStream` contract): a subscriber
starts at a keyframe, gets every unit after it, and when it falls a whole queue
behind it loses what it had queued and resumes at the next keyframe. Dropping to
a keyframe, rather than dropping single units, keeps what it does get decodable;
the bound keeps a slow consumer from growing memory or slowing the others.

Used by the reference device's test pattern (:mod:`platonicam.device.source`)
and the gateway's camera ingest (:mod:`platonicam.media.ingest`).

Items that stand alone (AAC frames, metadata documents) need no keyframe: a
:class:`DropOldestQueue` just loses its oldest item when full, since late audio
or a stale document is worth less than the newest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Generic, TypeVar

from platonicam.rtsp.stream import AccessUnit

__all__ = ["DropOldestQueue", "UnitQueue"]

_Item = TypeVar("_Item")


class UnitQueue:
    """The access units waiting for one subscriber, at most ``size`` of them."""

    __slots__ = ("_queue", "waiting_for_keyframe")

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[AccessUnit | None] = asyncio.Queue(maxsize=size)
        self.waiting_for_keyframe = True

    def offer(self, unit: AccessUnit) -> None:
        """Queue ``unit`` unless the subscriber must wait for a keyframe (see the module)."""
        if self.waiting_for_keyframe:
            if not unit.keyframe:
                return
            self.waiting_for_keyframe = False
        if self._queue.full():
            # Fallen behind: what it has queued is stale; resume at a keyframe.
            self.drain()
            if not unit.keyframe:
                self.waiting_for_keyframe = True
                return
        self._queue.put_nowait(unit)

    def drain(self) -> None:
        """Forget everything queued."""
        while not self._queue.empty():
            self._queue.get_nowait()

    def end(self) -> None:
        """End the subscription: :meth:`units` finishes after nothing more."""
        self.drain()
        self._queue.put_nowait(None)

    async def units(self) -> AsyncGenerator[AccessUnit, None]:
        """The queued units as they come, until :meth:`end`."""
        while True:
            unit = await self._queue.get()
            if unit is None:
                return
            yield unit


class DropOldestQueue(Generic[_Item]):
    """The items waiting for one subscriber, at most ``size``: when full, the oldest
    goes (counted in :attr:`dropped`). ``None`` in :attr:`queue` ends the subscription."""

    __slots__ = ("dropped", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, item: _Item | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)
