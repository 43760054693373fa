"""The push manager: one camera's WS-BaseNotification subscription, kept alive.

The camera POSTs ``wsnt:Notify`` to a :class:`~platonicam.events.push.NotifyConsumer`
endpoint of ours; this manager owns the subscription behind it. Its life
(creation, renewal at 80 % of the termination time, the absolute-time
fallback, backoff while the camera is unreachable, the states
``starting``/``subscribed``/``renewing``/``retrying``/``failed``) is
:class:`~platonicam.events.keeper.SubscriptionKeeper`'s, shared with the
PullPoint manager. What push adds:

- **A consumer address per subscription**: every (re)subscription registers a
  new random token with the consumer, so pushes from a subscription we gave
  up (and perhaps could not unsubscribe) are refused with 404 instead of
  arriving twice. The manager's :class:`~platonicam.events.pullpoint.Deduplicator`
  is handed to every registration, so the ``Initialized`` messages a new
  subscription starts with are dropped when they repeat known states.
- **A camera restart** is silent on a push subscription: no Notify arrives,
  and nothing else does either. It shows at the next renewal, which faults
  (``ResourceUnknownFault``: the camera forgot the subscription) or cannot
  connect; either recreates the subscription (at once after a fault, after
  the backoff while unreachable). The renewal comes at 80 % of the
  termination time, so a shorter termination finds a restart sooner.
- **Status**: every Notify is counted (``notifies``, ``events``, ``duplicates``,
  ``malformed``) on the manager's :class:`~platonicam.events.keeper.SubscriptionStatus`,
  and resets the failure count (the camera is evidently alive). A camera that
  accepted the subscription but has sent nothing by the first renewal is
  logged once: conforming cameras push the ``Initialized`` states at once, so
  the consumer address is probably not reachable from the camera.
- **Unsubscribe on close**, then the consumer address is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from platonicam.clock import Clock
from platonicam.events.keeper import Sleep, SubscriptionKeeper, SubscriptionOptions
from platonicam.events.keeper import SubscriptionStatus as PushStatus
from platonicam.events.pullpoint import Deduplicator
from platonicam.events.push import ConsumerStats, NotifyConsumer, subscribe_push
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.facades.events import PullPointSubscription

__all__ = ["PushManager", "PushStatus"]

_log = logging.getLogger(__name__)


class PushManager(SubscriptionKeeper):
    """Keeps one camera's push subscription alive; its events reach ``consumer``'s sink.

    ``client`` is an :class:`OnvifClient` for the camera (the manager connects
    it, and reconnects after failures; it does not close it). ``base_url`` is
    how this camera reaches the consumer, when not the consumer's own
    ``base_url``. ``on_status`` is called with every new status. Use
    :meth:`start` / :meth:`stop`, or ``async with``.
    """

    mode = "push"

    def __init__(
        self,
        camera_id: str,
        client: OnvifClient,
        consumer: NotifyConsumer,
        *,
        options: SubscriptionOptions | None = None,
        base_url: str | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        on_status: Callable[[PushStatus], None] | None = None,
    ) -> None:
        self.options = options or SubscriptionOptions()
        super().__init__(
            camera_id, client, options=self.options, clock=clock, sleep=sleep, on_status=on_status
        )
        self._consumer = consumer
        self._base_url = base_url
        self._dedupe = Deduplicator()
        self._url: str | None = None
        self._warned_silent = False

    @property
    def consumer_url(self) -> str | None:
        """The address the camera was last told to push to (it holds the token: keep it
        out of logs)."""
        return self._url

    async def stop(self) -> None:
        """Unsubscribe (best effort), then refuse this camera's pushes."""
        await super().stop()
        if self._url is not None:
            self._consumer.unregister(self.camera_id, url=self._url)

    async def _create(self, termination: timedelta | datetime) -> PullPointSubscription:
        self._url = self._consumer.register(
            self.camera_id, base_url=self._base_url, dedupe=self._dedupe, on_notify=self._notified
        )
        return await subscribe_push(
            self._client,
            self._url,
            topic_filter=self.options.topic_filter,
            termination=termination,
        )

    async def _serve(self, subscription: PullPointSubscription) -> None:
        while True:
            due = self._status.next_renew_at
            wait = 0.0 if due is None else due - self._clock.monotonic()
            if wait > 0:
                await self._sleep(wait)
            await self._renew(subscription)
            self._check_heard()

    def _notified(self, delta: ConsumerStats) -> None:
        status = self._status
        if delta.notifies:
            self._healthy()
        self._update(
            notifies=status.notifies + delta.notifies,
            events=status.events + delta.events,
            duplicates=status.duplicates + delta.duplicates,
            malformed=status.malformed + delta.malformed,
            sink_errors=status.sink_errors + delta.sink_errors,
            last_notify_at=self._clock.monotonic() if delta.notifies else status.last_notify_at,
        )

    def _check_heard(self) -> None:
        if self._status.notifies or self._warned_silent:
            return
        self._warned_silent = True
        base = self._base_url or self._consumer.base_url
        _log.warning(
            "camera %s accepted the push subscription but has sent no Notify to %s%s/...: "
            "is that address reachable from the camera? (PLATONICAM_EVENTS__PUSH_BASE_URL)",
            self.camera_id,
            base,
            self._consumer.path_prefix,
        )
