"""Listening for devices that announce themselves: Hello when they join, Bye when they leave.

::

    async with AnnouncementListener() as announcements:
        async for announcement in announcements:
            print(announcement.kind, announcement.endpoint_reference)

The listener joins 239.255.255.250 on every IPv4 interface (or the ones given)
on port 3702, sharing the port with other listeners on the host. Hellos from
devices that are not ONVIF (a wsdd host's ``wsdp:Device``) are dropped; a Bye is
passed on unless it declares only non-ONVIF types, because most Byes carry no
types at all. Repeated copies of one message (same MessageID) are passed once.
Probes and answers that reach the port are ignored; malformed datagrams are
logged and skipped. The socket is closed when the ``async with`` block ends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

from platonicam.discovery.candidate import Candidate
from platonicam.discovery.errors import DiscoveryError, DiscoveryNetworkError
from platonicam.discovery.messages import PORT, Bye, Hello
from platonicam.discovery.protocol import (
    Address,
    Endpoints,
    describe_os_error,
    ipv4_interface_addresses,
    multicast_listener,
)

#: How many recent MessageIDs are remembered to drop repeated copies.
_REMEMBERED_IDS = 256


@dataclass(frozen=True, slots=True)
class Announcement:
    """A Hello or Bye. ``candidate`` is what the message says about the device
    (for a Bye usually only the endpoint reference); ``source`` is the sender.
    """

    kind: Literal["hello", "bye"]
    endpoint_reference: str
    candidate: Candidate
    source: Address


class AnnouncementListener:
    """An async iterator of :class:`Announcement` while its ``async with`` block lasts.

    Entering raises :class:`DiscoveryNetworkError` when the socket cannot be
    opened (port 3702 refused, no interface could join the group).
    """

    def __init__(self, *, interfaces: Iterable[str] | None = None, port: int = PORT) -> None:
        self._interfaces = list(interfaces) if interfaces is not None else None
        self._port = port
        self._endpoints: Endpoints | None = None
        self._seen: deque[str] = deque(maxlen=_REMEMBERED_IDS)

    async def __aenter__(self) -> Self:
        interfaces = (
            self._interfaces if self._interfaces is not None else ipv4_interface_addresses()
        )
        if not interfaces:
            raise DiscoveryNetworkError("no IPv4 interface to listen on")
        try:
            sock = multicast_listener(interfaces, self._port)
        except OSError as exc:
            raise DiscoveryNetworkError(
                f"cannot listen on port {self._port}: {describe_os_error(exc)}"
            ) from None
        endpoints = Endpoints([("listener", sock)])
        await endpoints.__aenter__()
        self._endpoints = endpoints
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the socket (idempotent)."""
        endpoints, self._endpoints = self._endpoints, None
        if endpoints is not None:
            await endpoints.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Announcement:
        if self._endpoints is None:
            raise DiscoveryError("the listener is not open: use it in 'async with'")
        while True:
            received = await self._endpoints.queue.get()
            message = received.message
            if not isinstance(message, Hello | Bye) or message.message_id in self._seen:
                continue
            self._seen.append(message.message_id)
            target = message.target
            if isinstance(message, Hello):
                if not target.is_onvif:
                    continue
                kind: Literal["hello", "bye"] = "hello"
            else:
                if target.types and not target.is_onvif:
                    continue
                kind = "bye"
            return Announcement(
                kind=kind,
                endpoint_reference=target.endpoint_reference,
                candidate=Candidate.from_target(target),
                source=received.source,
            )

    async def next_within(self, seconds: float) -> Announcement | None:
        """The next announcement, or ``None`` when none arrives within ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                return await self.__anext__()
        except TimeoutError:
            return None
