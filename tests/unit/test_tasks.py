"""Stopping tasks: the stopped task's cancellation is absorbed, the stopper's is not."""

from __future__ import annotations

import asyncio

import pytest

from platonicam.tasks import cancel_all, cancel_and_wait, wait_ended


async def _forever() -> None:
    await asyncio.Event().wait()


async def _stubborn(release: asyncio.Event) -> None:
    """Ignores the first cancellation until ``release`` is set (slow clean-up)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        await release.wait()
        raise


async def test_cancel_and_wait_ends_the_task_and_absorbs_its_cancellation() -> None:
    task = asyncio.create_task(_forever())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()
    await cancel_and_wait(None)  # nothing to stop


async def test_a_task_that_failed_raises_unless_ignored() -> None:
    async def fail() -> None:
        raise OSError("camera gone")

    task = asyncio.create_task(fail())
    await asyncio.sleep(0)
    with pytest.raises(OSError, match="camera gone"):
        await cancel_and_wait(task)
    again = asyncio.create_task(fail())
    await asyncio.sleep(0)
    await cancel_and_wait(again, ignore=(OSError,))
    assert isinstance(again.exception(), OSError)


async def test_the_stoppers_own_cancellation_propagates() -> None:
    """A loop that stops a slow task and is cancelled meanwhile must end, not loop on
    (with ``suppress(CancelledError)`` it swallowed its own cancellation and ran forever)."""
    release = asyncio.Event()
    rounds = 0
    running = True

    async def reaper() -> None:
        nonlocal rounds
        while running:
            rounds += 1
            slow = asyncio.create_task(_stubborn(release))
            await asyncio.sleep(0)  # let it start, so the cancellation reaches its clean-up
            await cancel_and_wait(slow)

    loop_task = asyncio.create_task(reaper())
    await asyncio.sleep(0.01)
    loop_task.cancel()
    release.set()
    done, _ = await asyncio.wait({loop_task}, timeout=2)
    ended = loop_task in done
    if not ended:
        running = False  # a broken loop runs on: let it see the flag and end
        await asyncio.wait({loop_task}, timeout=2)
    assert ended, "the reaper swallowed its own cancellation and kept looping"
    assert loop_task.cancelled()
    assert rounds == 1


async def test_cancel_all_stops_every_task() -> None:
    tasks = [asyncio.create_task(_forever()) for _ in range(3)]
    await asyncio.sleep(0)
    await cancel_all(tasks)
    assert all(task.cancelled() for task in tasks)


async def test_a_cancelled_task_still_finishes_its_clean_up() -> None:
    """Stopping a helper from the ``finally`` of a task that is being cancelled: the
    helper's cancellation is absorbed and the rest of the clean-up runs."""
    closed: list[str] = []

    async def worker() -> None:
        helper = asyncio.create_task(_forever())
        try:
            await asyncio.Event().wait()
        finally:
            await cancel_and_wait(helper)
            closed.append("connection")

    task = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    await cancel_and_wait(task)
    assert task.cancelled()
    assert closed == ["connection"]


async def test_a_waiter_cancelled_with_the_task_it_waits_for_ends_cancelled() -> None:
    """The caller's cancellation also cancels the task it awaits; that the task then
    ended cancelled must not hide the caller's own cancellation."""
    worker = asyncio.create_task(_forever())
    after: list[str] = []

    async def closer() -> None:
        await wait_ended(worker)
        after.append("went on")  # only if the cancellation was swallowed

    task = asyncio.create_task(closer())
    await asyncio.sleep(0.01)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done
    assert task.cancelled()
    assert worker.cancelled()
    assert after == []
