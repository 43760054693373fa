"""The asyncio layer under discovery: UDP sockets and a DatagramProtocol.

Strategy: every socket is made here, configured for its one job, and handed to
``loop.create_datagram_endpoint(sock=...)``. All endpoints of one exchange share
one queue of parsed messages; :class:`Endpoints` owns them and closes every one
when its ``async with`` block ends, on error and on cancellation too, and waits
until the sockets are really closed (a socket still open when the test's loop
ends is a ResourceWarning, which our pytest settings turn into a failure).

* Probing (:func:`multicast_sender`): one socket per IPv4 interface address,
  bound to that address with ``IP_MULTICAST_IF`` set to it, so a host with
  several interfaces probes on each and the answers come back to the socket of
  the interface they belong to.
* Unicast (:func:`unicast_socket`): one socket on an ephemeral port.
* Listening for Hello/Bye (:func:`multicast_listener`): port 3702, shared with
  other listeners (``SO_REUSEADDR``/``SO_REUSEPORT``: the reference device's
  responder may run on the same host), joined to 239.255.255.250 on each
  interface.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self, cast

import ifaddr

from platonicam.discovery.errors import DiscoveryNetworkError, MalformedMessage
from platonicam.discovery.messages import MULTICAST_IPV4, PORT, Message, parse_message

log = logging.getLogger(__name__)

#: Multicast probes stay on the local link (WS-Discovery is link-local by design).
MULTICAST_TTL: Final = 1

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Received:
    """One parsed datagram and where it came from (``(host, port)``)."""

    message: Message
    source: Address
    local: str


class DiscoveryProtocol(asyncio.DatagramProtocol):
    """Parses every datagram and queues the messages; bad datagrams are logged and dropped.

    Anything on the network may send to a discovery socket, so a malformed
    datagram is never an error for the caller: it is logged at INFO with its
    sender and counted in :attr:`malformed`.
    """

    def __init__(self, queue: asyncio.Queue[Received], local: str) -> None:
        self._queue = queue
        self.local = local
        self.malformed = 0
        self.transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_datagram_endpoint always hands a datagram transport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = (str(addr[0]), int(str(addr[1])))
        try:
            message = parse_message(data)
        except MalformedMessage as exc:
            self.malformed += 1
            log.info("ignoring malformed discovery datagram from %s:%d: %s", *source, exc)
            return
        self._queue.put_nowait(Received(message, source, self.local))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable after a unicast probe, no route on one
        # interface) concern one send, not the exchange.
        log.info("discovery socket on %s: %s", self.local, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def ipv4_interface_addresses() -> list[str]:
    """Every IPv4 address of this host's interfaces, loopback included, without repeats.

    Loopback stays in: a reference device on the same host answers there.
    """
    result: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and ip.ip not in result:
                result.append(ip.ip)
    return result


def _check_ipv4(address: str) -> str:
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        raise DiscoveryNetworkError(f"not an IPv4 interface address: {address!r}") from None


def multicast_sender(interface: str) -> socket.socket:
    """A UDP socket bound to ``interface`` that multicasts out of that interface.

    Loopback of our own multicast stays on, so a device on this host hears us.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.bind((interface, 0))
    except BaseException:
        sock.close()
        raise
    return sock


def unicast_socket(family: socket.AddressFamily) -> socket.socket:
    """A UDP socket on an ephemeral port of every address of ``family``."""
    sock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))  # noqa: S104 (answers come from anywhere)
    except BaseException:
        sock.close()
        raise
    return sock


def multicast_listener(interfaces: Sequence[str], port: int = PORT) -> socket.socket:
    """A socket on ``port`` joined to the WS-Discovery group on each of ``interfaces``.

    On Linux it binds the group address itself, so it receives only what is
    multicast to the group (unicast to port 3702 is for the device's responder).
    Interfaces that cannot join are logged and skipped; if none can, raises
    :class:`DiscoveryNetworkError`.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        bind_host = MULTICAST_IPV4 if sys.platform.startswith("linux") else ""
        sock.bind((bind_host, port))
        joined = 0
        for interface in interfaces:
            group = socket.inet_aton(MULTICAST_IPV4)
            request = struct.pack("4s4s", group, socket.inet_aton(interface))
            try:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
            except OSError as exc:
                log.info("cannot join %s on %s: %s", MULTICAST_IPV4, interface, exc)
                continue
            joined += 1
        if not joined:
            raise DiscoveryNetworkError(
                f"could not join multicast group {MULTICAST_IPV4} on any of {list(interfaces)}"
            )
    except BaseException:
        sock.close()
        raise
    return sock


def describe_os_error(exc: OSError) -> str:
    """A one-line reason for a socket failure, for :class:`DiscoveryNetworkError`."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied ({exc.strerror})"
    if exc.errno == errno.EADDRINUSE:
        return f"address in use ({exc.strerror})"
    return exc.strerror or str(exc)


class Endpoints:
    """Datagram endpoints sharing one queue, closed together. Use with ``async with``.

    ``factories`` are ``(label, make_socket)`` pairs. A socket that cannot be
    made is logged and skipped; when none can, entering raises
    :class:`DiscoveryNetworkError` with the first reason.
    """

    def __init__(self, sockets: Iterable[tuple[str, socket.socket]]) -> None:
        self._pending = list(sockets)
        self.queue: asyncio.Queue[Received] = asyncio.Queue()
        self.protocols: list[DiscoveryProtocol] = []

    @classmethod
    def multicast_senders(cls, interfaces: Sequence[str]) -> Endpoints:
        """One multicast sender per interface; raises when none can be opened."""
        opened: list[tuple[str, socket.socket]] = []
        first_error: str | None = None
        for interface in dict.fromkeys(_check_ipv4(i) for i in interfaces):
            try:
                opened.append((interface, multicast_sender(interface)))
            except OSError as exc:
                reason = describe_os_error(exc)
                log.info("cannot probe on %s: %s", interface, reason)
                first_error = first_error or f"{interface}: {reason}"
        if not opened:
            if first_error is None:
                raise DiscoveryNetworkError("no IPv4 interface to probe on")
            raise DiscoveryNetworkError(f"cannot open a discovery socket: {first_error}")
        return cls(opened)

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        pending, self._pending = self._pending, []
        try:
            while pending:
                label, sock = pending.pop(0)
                try:
                    await loop.create_datagram_endpoint(self._factory(label), sock=sock)
                except BaseException:
                    sock.close()
                    raise
        except BaseException:
            for _, sock in pending:
                sock.close()
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _factory(self, label: str) -> Callable[[], DiscoveryProtocol]:
        def make() -> DiscoveryProtocol:
            protocol = DiscoveryProtocol(self.queue, label)
            self.protocols.append(protocol)
            return protocol

        return make

    def send(self, data: bytes, destination: Address) -> None:
        """Send ``data`` from every endpoint (send errors reach ``error_received``)."""
        for protocol in self.protocols:
            if protocol.transport is not None and not protocol.transport.is_closing():
                protocol.transport.sendto(data, destination)

    async def aclose(self) -> None:
        """Close every endpoint (and any socket not yet handed to one); wait until closed."""
        for _, sock in self._pending:
            sock.close()
        self._pending = []
        waiting = []
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()
            waiting.append(protocol.closed)
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)
