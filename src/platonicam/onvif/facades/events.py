"""The events service's typed operations, and PullPoint subscriptions.

``client.events.create_pull_point_subscription()`` returns a
:class:`PullPointSubscription`; use it as an async context manager so the
camera's pull point is released when you are done::

    async with await camera.events.create_pull_point_subscription(
        topic_filter="tns1:RuleEngine//."
    ) as subscription:
        events = await subscription.pull(timedelta(seconds=5), limit=50)

Renewal timing (80 % of the termination time) and re-creation after faults
belong to the PullPoint manager in :mod:`platonicam.events`; this object only
performs the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from platonicam.onvif.errors import TransportError
from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.events import (
    EventBroker,
    EventProperties,
    EventServiceCapabilities,
    OnvifEvent,
    PullMessagesResult,
    RenewResult,
    SubscriptionReference,
)
from platonicam.onvif.notification import parse_metadata_stream
from platonicam.onvif.services import events as ops

if TYPE_CHECKING:
    from lxml import etree

    from platonicam.onvif.client import OnvifClient

__all__ = ["EventService", "PullPointSubscription", "parse_metadata_stream"]


# Seconds beyond a PullMessages wait before the HTTP exchange gives up.
_PULL_MARGIN_SECONDS = 10.0


class PullPointSubscription:
    """A PullPoint subscription on one camera.

    Calls go to the subscription's address (pointed at the host we reach the
    camera on) with ``wsa:To``, ``wsa:Action`` and the camera's reference
    parameters as headers. :attr:`termination_time` follows the latest answer.
    Leaving ``async with`` unsubscribes; if the camera cannot be reached any
    more (a :class:`TransportError`) that failure is swallowed, since the
    subscription then dies with its termination time anyway. Every other error
    propagates.
    """

    __slots__ = ("_client", "_closed", "_reference", "_termination_time", "_url")

    def __init__(self, client: OnvifClient, reference: SubscriptionReference) -> None:
        self._client = client
        self._reference = reference
        self._url = client.rewrite(reference.address)
        self._termination_time = reference.termination_time
        self._closed = False

    @property
    def reference(self) -> SubscriptionReference:
        return self._reference

    @property
    def url(self) -> str:
        """Where the calls go (the advertised address after NAT rewriting)."""
        return self._url

    @property
    def termination_time(self) -> datetime | None:
        """When the camera will drop the subscription (camera clock, aware UTC)."""
        return self._termination_time

    @property
    def closed(self) -> bool:
        return self._closed

    async def _call(
        self, request: etree._Element, action: str, *, timeout: float | None = None
    ) -> etree._Element:
        return await self._client.call(
            ServiceKind.EVENTS,
            request,
            url=self._url,
            headers=ops.build_subscription_headers(self._reference, action),
            timeout=timeout,
        )

    # ``timeout`` is the camera-side PullMessages wait, sent in the request.
    async def pull(
        self,
        timeout: timedelta = timedelta(seconds=5),
        limit: int = 100,
    ) -> list[OnvifEvent]:
        """Wait up to ``timeout`` (camera side) for at most ``limit`` events.

        The HTTP exchange waits that long plus a margin, whatever the client's
        default timeout. Cameras may fault a second concurrent pull on one
        subscription: pull from one task.
        """
        return list((await self.pull_messages(timeout, limit)).messages)

    async def pull_messages(
        self,
        timeout: timedelta = timedelta(seconds=5),
        limit: int = 100,
    ) -> PullMessagesResult:
        """Like :meth:`pull`, with the camera's current and termination times."""
        # The camera may hold the request for the whole wait: give the HTTP
        # exchange that long plus a margin, whatever the client's default timeout.
        payload = await self._call(
            ops.build_pull_messages(timeout, limit),
            ops.PULL_MESSAGES_ACTION,
            timeout=timeout.total_seconds() + _PULL_MARGIN_SECONDS,
        )
        result = ops.parse_pull_messages(payload)
        if result.termination_time is not None:
            self._termination_time = result.termination_time
        return result

    async def renew(self, termination: timedelta | datetime = timedelta(minutes=1)) -> RenewResult:
        """Extend the subscription: relative (timedelta) or absolute (aware datetime)."""
        payload = await self._call(ops.build_renew(termination), ops.RENEW_ACTION)
        result = ops.parse_renew(payload)
        if result.termination_time is not None:
            self._termination_time = result.termination_time
        return result

    async def unsubscribe(self) -> None:
        """Release the pull point on the camera."""
        await self._call(ops.build_unsubscribe(), ops.UNSUBSCRIBE_ACTION)
        self._closed = True

    async def set_synchronization_point(self) -> None:
        """Ask the camera to send the current state of every property event again."""
        await self._call(
            ops.build_set_synchronization_point(), ops.SET_SYNCHRONIZATION_POINT_ACTION
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._closed:
            return
        try:
            await self.unsubscribe()
        except TransportError:
            # The camera is gone (unplugged, rebooted, unreachable); its pull
            # point expires at the termination time without our help.
            self._closed = True


class EventService(Facade):
    __slots__ = ()

    async def get_service_capabilities(self) -> EventServiceCapabilities:
        payload = await self._client.call(ServiceKind.EVENTS, ops.build_get_service_capabilities())
        return ops.parse_get_service_capabilities(payload)

    async def get_event_properties(self) -> EventProperties:
        """The camera's topic set and the filter dialects it accepts."""
        payload = await self._client.call(ServiceKind.EVENTS, ops.build_get_event_properties())
        return ops.parse_get_event_properties(payload)

    async def create_pull_point_subscription(
        self,
        topic_filter: str | Sequence[str] | None = None,
        initial_termination: timedelta | datetime | None = timedelta(minutes=1),
    ) -> PullPointSubscription:
        """Create a PullPoint subscription (see :func:`ops.build_create_pull_point_subscription`).

        Pass an absolute ``initial_termination`` (computed from the camera's
        clock, ``client.clock_offset``) for cameras that mishandle relative times.
        """
        payload = await self._client.call(
            ServiceKind.EVENTS,
            ops.build_create_pull_point_subscription(
                topic_filter=topic_filter, initial_termination=initial_termination
            ),
        )
        return PullPointSubscription(
            self._client, ops.parse_create_pull_point_subscription(payload)
        )

    async def get_event_brokers(self, address: str | None = None) -> list[EventBroker]:
        """Profile M: the broker configurations (passwords are never returned)."""
        payload = await self._client.call(ServiceKind.EVENTS, ops.build_get_event_brokers(address))
        return ops.parse_get_event_brokers(payload)

    async def add_event_broker(self, broker: EventBroker) -> None:
        """Profile M: have the camera publish its events to ``broker`` (replaces one at
        the same address)."""
        await self._client.call(ServiceKind.EVENTS, ops.build_add_event_broker(broker))

    async def delete_event_broker(self, address: str) -> None:
        await self._client.call(ServiceKind.EVENTS, ops.build_delete_event_broker(address))
