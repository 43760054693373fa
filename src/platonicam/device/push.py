"""WS-BaseNotification push on the device: ``wsnt:Subscribe``, then ``wsnt:Notify`` POSTs.

A push subscription is a hub subscription (:class:`~platonicam.device.events.PullPoint`)
with a consumer address: the hub queues its messages exactly as for a pull
point (the ``Initialized`` state of every matching property first, then every
matching change), and Renew, Unsubscribe and SetSynchronizationPoint work on it
the same way. Instead of a client pulling, one task per push subscription
drains the queue, each batch as one ``wsnt:Notify`` POSTed to the consumer.

Delivery: a batch leaves the queue only once the consumer answered 2xx, so a
consumer that is briefly away loses nothing (within the queue bound, which
drops the oldest). Connection failures and 5xx answers are retried with a
doubling delay (``retry_min`` .. ``retry_max``) while the subscription lives;
404 or 410 (the consumer does not know this address any more) ends the
subscription, as it would on a camera; any other refusal drops the batch,
which the consumer will never take. The task ends when the subscription is
unsubscribed or expires (checked at least every ``idle_check`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from platonicam.device.events import EventHub, PullPoint
from platonicam.device.faults import DeviceFault
from platonicam.onvif.errors import OnvifError
from platonicam.onvif.models.events import OnvifEvent
from platonicam.onvif.services.events import NOTIFY_ACTION
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import WSA, WSNT
from platonicam.onvif.transport import AsyncioSoapTransport, SoapTransport
from platonicam.tasks import cancel_all

__all__ = ["PushDelivery", "PushOptions", "check_consumer", "notify_envelope"]

_log = logging.getLogger(__name__)

#: Consumer answers that mean "this address is gone": the subscription ends.
_GONE: Final = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How the device pushes: at most ``batch`` messages per Notify, ``timeout``
    seconds per POST, retry delays, and ``transport`` (tests deliver in-process;
    default: HTTP over asyncio)."""

    batch: int = 100
    timeout: float = 5.0
    retry_min: float = 0.2
    retry_max: float = 5.0
    idle_check: float = 1.0
    transport: SoapTransport | None = None


def check_consumer(address: str) -> str:
    """The consumer address of a Subscribe, stripped; an address that is not an
    ``http(s)://host`` URL is ``wsnt:SubscribeCreationFailedFault``."""
    value = address.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeviceFault(
            f"consumer address {address!r} is not an http(s) URL",
            code="Receiver",
            subcodes=("Action", "SubscribeCreationFailedFault"),
        )
    return value


def notify_envelope(messages: Sequence[OnvifEvent], consumer: str) -> bytes:
    """One ``wsnt:Notify`` carrying ``messages``, addressed to ``consumer``."""
    body = element(WSNT, "Notify")
    for message in messages:
        message.to_xml(body)
    headers = [element(WSA, "Action", NOTIFY_ACTION), element(WSA, "To", consumer)]
    return build_envelope(body, headers=headers)


class PushDelivery:
    """The device's push subscriptions' delivery tasks (see the module docstring).

    ``delivered`` counts messages the consumers accepted, ``refused`` those
    dropped on a consumer's refusal.
    """

    def __init__(self, hub: EventHub, options: PushOptions | None = None) -> None:
        self._hub = hub
        self.options = options or PushOptions()
        self._transport = self.options.transport or AsyncioSoapTransport(
            timeout=self.options.timeout
        )
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.delivered = 0
        self.refused = 0

    def start(self, subscription: PullPoint) -> None:
        """Deliver ``subscription``'s messages to its consumer until it ends."""
        if subscription.consumer is None or subscription.id in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(
            self._run(subscription, subscription.consumer), name=f"push {subscription.id}"
        )
        self._tasks[subscription.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(subscription.id, None))

    async def close(self) -> None:
        """Stop every delivery (the device shuts down) and close the connections."""
        tasks = list(self._tasks.values())
        await cancel_all(tasks)
        if self.options.transport is None:
            await self._transport.aclose()

    async def _run(self, subscription: PullPoint, consumer: str) -> None:
        delay = self.options.retry_min
        while self._hub.alive(subscription):
            if not subscription.queue:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscription.wakeup.wait(), self.options.idle_check)
                continue
            batch = list(itertools.islice(subscription.queue, self.options.batch))
            try:
                answer = await self._transport.post(
                    consumer, notify_envelope(batch, consumer), action=NOTIFY_ACTION
                )
                status = answer.status_code
            except OnvifError as exc:
                _log.debug("push %s to its consumer failed: %s", subscription.id, exc)
                status = None
            if status is not None and 200 <= status < 300:
                self.delivered += len(batch)
            elif status in _GONE:
                _log.info(
                    "push %s: the consumer forgot it (%d); unsubscribed", subscription.id, status
                )
                self._hub.unsubscribe(subscription)
                return
            elif status is not None and status < 500:
                _log.info("push %s: the consumer refused a Notify (%d)", subscription.id, status)
                self.refused += len(batch)
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.retry_max)
                continue
            delay = self.options.retry_min
            _drop(subscription, batch)


def _drop(subscription: PullPoint, batch: list[OnvifEvent]) -> None:
    """Take ``batch`` off the front of the queue (while it was out, the queue bound
    may have dropped some of it already, and new messages may have arrived behind)."""
    sent = {id(message) for message in batch}
    while subscription.queue and id(subscription.queue[0]) in sent:
        subscription.queue.popleft()
    if not subscription.queue:
        subscription.wakeup.clear()
