"""The device side of WS-Discovery: answer Probe and Resolve, announce Hello and Bye.

::

    async with DiscoveryResponder(describe) as responder:
        ...  # the device is discoverable while the block runs

``describe(local_address)`` is asked for every answer and announcement, with
the IPv4 address of the interface the message arrived on (or leaves by), and
returns what the device says about itself there: a
:class:`~platonicam.discovery.messages.TargetService` whose XAddrs name that
address, or ``None`` when the device must stay silent (ONVIF's
``NonDiscoverable`` mode). Because it is asked each time, a change of scopes or
discovery mode takes effect at the next probe, with no restart.

Strategy:

* **One socket** on port 3702 (or the port given), shared with other responders
  and listeners on the host (``SO_REUSEADDR``/``SO_REUSEPORT``), joined to
  239.255.255.250 on the chosen interfaces when ``multicast`` is on. It hears
  multicast probes and unicast ones sent straight to its port (how a service on
  the same host finds an embedded device without multicast). With ``multicast``
  off (a device bound to loopback only) it binds the given address and never
  sends to the group.
* **Replies leave by the arrival interface.** The socket reads ``IP_PKTINFO``
  with every datagram: the interface index and the local address it arrived
  on. The reply is sent with the same ``IP_PKTINFO`` (so its source address
  and outgoing interface are those of the probe's arrival), unicast to the
  prober. asyncio's datagram transports cannot pass ancillary data, so the
  socket is read with ``loop.add_reader`` and ``recvmsg``/``sendmsg``.
* **The decision is pure**: :func:`reply_to` turns a received message and
  the device's description into the answer, or ``None``; unit tests cover it
  without sockets.
* Answers to *multicast* probes wait a random delay of up to ``max_delay``
  seconds (WS-Discovery's APP_MAX_DELAY, there 500 ms, so that many devices do
  not answer in the same instant); unicast probes are answered at once.
  Copies of one message (probers repeat a probe with the same MessageID) are
  answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self

import ifaddr

from platonicam.discovery.errors import DiscoveryNetworkError, MalformedMessage
from platonicam.discovery.messages import (
    MAX_DATAGRAM,
    MULTICAST_IPV4,
    PORT,
    AppSequence,
    Bye,
    Hello,
    Message,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    new_message_id,
    parse_message,
)
from platonicam.discovery.protocol import MULTICAST_TTL, describe_os_error

log = logging.getLogger(__name__)

#: ``IP_PKTINFO`` is 8 on Linux; Python exposes the name only from 3.13 on some builds.
IP_PKTINFO: Final = int(getattr(socket, "IP_PKTINFO", 8))
#: ``struct in_pktinfo``: interface index, local ("specific destination") address,
#: header destination address.
_PKTINFO: Final = struct.Struct("=i4s4s")
#: WS-Discovery's APP_MAX_DELAY is 500 ms; answering within 100 ms keeps probes quick
#: while still spreading the answers of many devices.
DEFAULT_MAX_DELAY: Final = 0.1
#: How many (MessageID, local address) pairs are remembered to answer a message once.
_REMEMBERED: Final = 256

#: What the device says about itself on one local address, or ``None`` to keep silent.
Describe = Callable[[str], TargetService | None]


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where a datagram arrived: interface index, local address, and whether it was
    sent to the multicast group (``IP_PKTINFO``'s three fields)."""

    interface_index: int
    local: str
    multicast: bool


def pack_pktinfo(interface_index: int, local: str) -> bytes:
    """The ``IP_PKTINFO`` control message payload that sends out of ``interface_index``
    with source address ``local``."""
    return _PKTINFO.pack(interface_index, socket.inet_aton(local), bytes(4))


def parse_pktinfo(data: bytes) -> Arrival:
    """Read an ``IP_PKTINFO`` control message received with a datagram."""
    index, spec_dst, destination = _PKTINFO.unpack(data[: _PKTINFO.size])
    first_octet = destination[0]
    return Arrival(index, socket.inet_ntoa(spec_dst), 224 <= first_octet <= 239)


def reply_to(
    message: Message, target: TargetService | None, sequence: AppSequence
) -> ProbeMatches | ResolveMatches | None:
    """The answer a device described by ``target`` gives to ``message``, if any.

    * a :class:`Probe` whose types are all among the device's (none: any) and
      whose scopes all match the device's by the probe's rule: ProbeMatches;
    * a :class:`Resolve` for the device's endpoint reference: ResolveMatches;
    * anything else, or ``target`` ``None`` (not discoverable): no answer.
    """
    if target is None:
        return None
    if isinstance(message, Probe):
        if not message.matches(target.types, target.scopes):
            return None
        return ProbeMatches(new_message_id(), message.message_id, (target,), sequence)
    if isinstance(message, Resolve):
        if message.endpoint_reference != target.endpoint_reference:
            return None
        return ResolveMatches(new_message_id(), message.message_id, target, sequence)
    return None


def interface_indexes() -> dict[str, int]:
    """IPv4 address -> interface index for every interface of this host."""
    result: dict[str, int] = {}
    for adapter in ifaddr.get_adapters():
        index = adapter.index
        if index is None:
            with contextlib.suppress(OSError):
                index = socket.if_nametoindex(adapter.name)
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and index is not None:
                result.setdefault(ip.ip, index)
    return result


class DiscoveryResponder:
    """Answers WS-Discovery for one device while its ``async with`` block runs.

    ``bind`` is the address the socket binds when ``multicast`` is off (with it
    on the socket binds every address, as group traffic needs). ``interfaces``
    are the IPv4 addresses to join the group on (default: every IPv4 address
    of the host); when given explicitly, datagrams arriving on other addresses
    are ignored. ``port`` 0 picks a free port (unicast only; read
    :attr:`port`). Entering raises :class:`DiscoveryNetworkError` when the
    socket cannot be opened; it sends Hello (multicast only), leaving sends Bye.
    """

    def __init__(
        self,
        describe: Describe,
        *,
        bind: str = "0.0.0.0",  # noqa: S104 - the group is heard on every address
        port: int = PORT,
        interfaces: Sequence[str] | None = None,
        multicast: bool = True,
        max_delay: float = DEFAULT_MAX_DELAY,
        instance_id: int | None = None,
    ) -> None:
        self._describe = describe
        self._bind = bind
        self._requested_port = port
        self._explicit = list(interfaces) if interfaces is not None else None
        self.multicast = multicast
        self.max_delay = max_delay
        # InstanceId must grow from one start to the next: seconds since the epoch do.
        self.instance_id = instance_id if instance_id is not None else int(time.time())
        self._number = 0
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._joined: dict[str, int] = {}
        self._pending: set[asyncio.TimerHandle] = set()
        self._seen: deque[tuple[str, str]] = deque(maxlen=_REMEMBERED)
        self.port = port
        #: Counters, for tests and logs.
        self.answered = 0
        self.ignored = 0

    # -------------------------------------------------------------- life cycle

    @property
    def joined(self) -> dict[str, int]:
        """The interface addresses joined to the group, with their interface indexes."""
        return dict(self._joined)

    def _sequence(self) -> AppSequence:
        self._number += 1
        return AppSequence(self.instance_id, self._number)

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if sys.platform.startswith("linux"):
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sock.bind(("0.0.0.0" if self.multicast else self._bind, self._requested_port))  # noqa: S104
            if self.multicast:
                self._join(sock)
        except BaseException:
            sock.close()
            raise
        return sock

    def _join(self, sock: socket.socket) -> None:
        indexes = interface_indexes()
        wanted = self._explicit if self._explicit is not None else list(indexes)
        for address in wanted:
            request = struct.pack(
                "4s4s", socket.inet_aton(MULTICAST_IPV4), socket.inet_aton(address)
            )
            try:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
            except OSError as exc:
                log.info("cannot join %s on %s: %s", MULTICAST_IPV4, address, exc)
                continue
            self._joined[address] = indexes.get(address, 0)
        if not self._joined:
            raise DiscoveryNetworkError(
                f"could not join multicast group {MULTICAST_IPV4} on any of {wanted}"
            )

    async def start(self) -> None:
        """Open the socket, start answering and send Hello. Idempotent."""
        if self._sock is not None:
            return
        try:
            sock = self._open()
        except OSError as exc:
            raise DiscoveryNetworkError(
                f"cannot open the discovery port {self._requested_port}: {describe_os_error(exc)}"
            ) from None
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)
        self.hello()

    async def stop(self) -> None:
        """Send Bye, stop answering and close the socket. Idempotent."""
        sock = self._sock
        if sock is None:
            return
        self.bye()
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        sock.close()
        self._sock = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -------------------------------------------------------------- announcing

    def hello(self) -> int:
        """Multicast Hello out of every joined interface where the device is
        discoverable; returns how many were sent (0 with ``multicast`` off)."""
        sent = 0
        for address, index in self._joined.items():
            target = self._describe(address)
            if target is None:
                continue
            hello = Hello(new_message_id(), target, self._sequence())
            sent += self._send(bytes(hello), (MULTICAST_IPV4, self.port), index, address)
        return sent

    def bye(self) -> int:
        """Multicast Bye (endpoint reference only) out of every joined interface
        where the device is discoverable; returns how many were sent."""
        sent = 0
        for address, index in self._joined.items():
            target = self._describe(address)
            if target is None:
                continue
            bye = Bye(new_message_id(), TargetService(target.endpoint_reference), self._sequence())
            sent += self._send(bytes(bye), (MULTICAST_IPV4, self.port), index, address)
        return sent

    # -------------------------------------------------------------- answering

    def _send(self, data: bytes, destination: tuple[str, int], index: int, local: str) -> int:
        sock = self._sock
        if sock is None:
            return 0
        control = []
        if sys.platform.startswith("linux"):
            control = [(socket.IPPROTO_IP, IP_PKTINFO, pack_pktinfo(index, local))]
        try:
            sock.sendmsg([data], control, 0, destination)
        except OSError as exc:
            # A full buffer or an interface gone down loses this one datagram, as UDP may.
            log.info("discovery send to %s:%d failed: %s", *destination, exc)
            return 0
        return 1

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                data, ancillary, _flags, address = sock.recvmsg(
                    MAX_DATAGRAM, socket.CMSG_SPACE(_PKTINFO.size)
                )
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
                    continue  # an ICMP error about an earlier answer; not fatal
                log.info("discovery socket: %s", exc)
                return
            arrival = Arrival(0, self._bind, False)
            for level, kind, payload in ancillary:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    arrival = parse_pktinfo(payload)
            self._received(data, (str(address[0]), int(address[1])), arrival)

    def _received(self, data: bytes, source: tuple[str, int], arrival: Arrival) -> None:
        if self._explicit is not None and arrival.local not in self._explicit:
            self.ignored += 1
            return
        try:
            message = parse_message(data)
        except MalformedMessage as exc:
            log.debug("ignoring malformed discovery datagram from %s:%d: %s", *source, exc)
            self.ignored += 1
            return
        if not isinstance(message, Probe | Resolve):
            return  # Hellos, Byes and answers of others (and our own Hello, looped back)
        key = (message.message_id, arrival.local)
        if key in self._seen:
            return
        self._seen.append(key)
        answer = reply_to(message, self._describe(arrival.local), self._sequence())
        if answer is None:
            self.ignored += 1
            return
        payload = bytes(answer)
        delay = random.uniform(0, self.max_delay) if arrival.multicast else 0.0
        if delay <= 0 or self._loop is None:
            self.answered += self._send(payload, source, arrival.interface_index, arrival.local)
            return

        def send_later() -> None:
            self._pending.discard(handle)
            self.answered += self._send(payload, source, arrival.interface_index, arrival.local)

        handle = self._loop.call_later(delay, send_later)
        self._pending.add(handle)
