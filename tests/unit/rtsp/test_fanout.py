"""The fan-out rule of a live stream's subscriber queue (platonicam.rtsp.fanout)."""

from __future__ import annotations

import asyncio

from platonicam.rtsp.fanout import UnitQueue
from platonicam.rtsp.stream import AccessUnit


def unit(number: int, *, keyframe: bool = False) -> AccessUnit:
    return AccessUnit((b"\x65" if keyframe else b"\x41",), number * 3000, keyframe, 0.0)


async def take(queue: UnitQueue) -> list[int]:
    """Everything queued until end(), as frame numbers."""
    return [received.timestamp // 3000 async for received in queue.units()]


def test_starts_at_the_first_keyframe() -> None:
    queue = UnitQueue(10)
    for number in range(6):
        queue.offer(unit(number, keyframe=number == 2))
    queue.end()
    # end() ends the subscription: what was queued is forgotten, nothing more comes.
    assert asyncio.run(take(queue)) == []

    queue = UnitQueue(10)
    for number in range(6):
        queue.offer(unit(number, keyframe=number == 2))

    async def first_four() -> list[int]:
        got: list[int] = []
        async for received in queue.units():
            got.append(received.timestamp // 3000)
            if len(got) == 4:
                break
        return got

    assert asyncio.run(first_four()) == [2, 3, 4, 5]


def test_a_subscriber_that_falls_behind_resumes_at_the_next_keyframe() -> None:
    queue = UnitQueue(3)
    queue.offer(unit(0, keyframe=True))
    queue.offer(unit(1))
    queue.offer(unit(2))
    # Full: the next delta unit throws the stale queue away and waits for a keyframe.
    queue.offer(unit(3))
    queue.offer(unit(4))
    queue.offer(unit(5, keyframe=True))
    queue.offer(unit(6))

    async def drained() -> list[int]:
        got: list[int] = []
        async for received in queue.units():
            got.append(received.timestamp // 3000)
            if len(got) == 2:
                break
        return got

    assert asyncio.run(drained()) == [5, 6]


def test_a_full_queue_meeting_a_keyframe_restarts_from_it() -> None:
    queue = UnitQueue(2)
    queue.offer(unit(0, keyframe=True))
    queue.offer(unit(1))
    queue.offer(unit(2, keyframe=True))

    async def first() -> int:
        async for received in queue.units():
            return received.timestamp // 3000
        raise AssertionError("nothing queued")

    assert asyncio.run(first()) == 2
