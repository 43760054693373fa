"""Stopping background tasks without swallowing the stopper's own cancellation.

The usual ``task.cancel()`` followed by ``with suppress(CancelledError): await task``
has a trap: if the task doing the stopping is itself cancelled while it waits, the
``CancelledError`` it receives is suppressed too. A reaper loop that stops a mount
and is then cancelled by shutdown would carry on looping, and shutdown would wait
for it forever. :func:`cancel_and_wait` tells the two apart by whether
:meth:`asyncio.Task.cancelling` grew while it waited (a task already cancelled
and cleaning up in a ``finally`` still gets to finish its clean-up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(
    task: asyncio.Future[Any] | None, *, ignore: tuple[type[BaseException], ...] = ()
) -> None:
    """Cancel ``task`` (if any) and wait until it has ended (see :func:`wait_ended`)."""
    if task is None:
        return
    task.cancel()
    await wait_ended(task, ignore=ignore)


async def wait_ended(
    task: asyncio.Future[Any], *, ignore: tuple[type[BaseException], ...] = ()
) -> None:
    """Wait until ``task`` has ended.

    The task ending cancelled is not raised. An exception the task ended with is
    raised, unless its type is in ``ignore``. If the caller is cancelled while
    waiting, that ``CancelledError`` propagates.
    """
    current = asyncio.current_task()
    # Cancellations of the caller so far: one it is already cleaning up after (this
    # call in a ``finally``) must not stop the clean-up; only a new one counts.
    before = current.cancelling() if current is not None else 0
    try:
        await task
    except asyncio.CancelledError:
        if current is not None and current.cancelling() > before:
            raise
    except ignore:
        pass


async def cancel_all(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel every task first, then wait for each (see :func:`cancel_and_wait`)."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        await cancel_and_wait(task)
