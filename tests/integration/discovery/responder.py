"""A small WS-Discovery responder for tests: a stand-in camera built on our sans-IO messages.

Not the reference device's responder (a later issue): just enough to answer
Probe and Resolve, announce Hello and Bye, and misbehave on request (answer
twice, ignore the probe's filters, send junk first).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from platonicam.discovery.errors import MalformedMessage
from platonicam.discovery.messages import (
    MULTICAST_IPV4,
    PORT,
    AppSequence,
    Bye,
    Hello,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    new_message_id,
    parse_message,
)
from platonicam.discovery.protocol import multicast_sender


@dataclass
class Behaviour:
    """How the responder misbehaves: answer ``copies`` times, send ``junk`` datagrams
    before each answer, ignore the probe's types and scopes (``answer_all``)."""

    copies: int = 1
    junk: Sequence[bytes] = ()
    answer_all: bool = False
    raw_answer: bytes | None = None  # answer with these bytes instead of a ProbeMatches


@dataclass
class _Stats:
    probes: list[str] = field(default_factory=list)
    resolves: list[str] = field(default_factory=list)


class TestResponder(asyncio.DatagramProtocol):
    """Answers discovery for one target. Use ``async with TestResponder(...)``."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        target: TargetService,
        *,
        interfaces: Sequence[str] = ("127.0.0.1",),
        port: int = PORT,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.target = target
        self.interfaces = list(interfaces)
        self.port = port
        self.behaviour = behaviour or Behaviour()
        self.stats = _Stats()
        self._transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Future[None] | None = None
        self._instance = 1
        self._number = 0

    # -- lifecycle
    async def __aenter__(self) -> TestResponder:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("", self.port))
            self.port = sock.getsockname()[1]
            for interface in self.interfaces:
                mreq = struct.pack(
                    "4s4s", socket.inet_aton(MULTICAST_IPV4), socket.inet_aton(interface)
                )
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        except BaseException:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        await loop.create_datagram_endpoint(lambda: self, sock=sock)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._closed is not None:
            await self._closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def _sequence(self) -> AppSequence:
        self._number += 1
        return AppSequence(self._instance, self._number)

    # -- answering
    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        assert self._transport is not None
        source = (str(addr[0]), int(str(addr[1])))
        try:
            message = parse_message(data)
        except MalformedMessage:
            return
        if isinstance(message, Probe):
            self.stats.probes.append(message.message_id)
            if not (
                self.behaviour.answer_all or message.matches(self.target.types, self.target.scopes)
            ):
                return
            answer = self.behaviour.raw_answer or bytes(
                ProbeMatches(new_message_id(), message.message_id, (self.target,), self._sequence())
            )
            for _ in range(self.behaviour.copies):
                for junk in self.behaviour.junk:
                    self._transport.sendto(junk, source)
                self._transport.sendto(answer, source)
        elif isinstance(message, Resolve):
            self.stats.resolves.append(message.message_id)
            if message.endpoint_reference == self.target.endpoint_reference:
                reply = ResolveMatches(
                    new_message_id(), message.message_id, self.target, self._sequence()
                )
                self._transport.sendto(bytes(reply), source)

    # -- announcing
    def hello(self, message_id: str | None = None) -> Hello:
        return Hello(message_id or new_message_id(), self.target, self._sequence())

    def bye(self) -> Bye:
        return Bye(
            new_message_id(), TargetService(self.target.endpoint_reference), self._sequence()
        )


def multicast(data: bytes, *, interface: str = "127.0.0.1", port: int = PORT) -> None:
    """Send one datagram to the WS-Discovery group out of ``interface``."""
    with multicast_sender(interface) as sock:
        sock.sendto(data, (MULTICAST_IPV4, port))
