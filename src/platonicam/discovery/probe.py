"""Finding devices: multicast and unicast Probe, and Resolve.

``async for candidate in discover_iter(timeout=3)`` streams devices as they
answer; ``await discover(timeout=3)`` returns them as a list. Both probe on
every IPv4 interface address, send the probe ``repeat`` times ``interval``
seconds apart (UDP is lossy; every copy carries the same MessageID, so a device
that heard two copies may answer once or twice) and de-duplicate answers by
endpoint reference.

What is kept (see :func:`wanted`): answers that relate to our probe, whose scopes
satisfy the scope filter (checked again here: not every camera applies it), and
whose types are ONVIF ones. A Windows host running wsdd answers with
``wsdp:Device``/``pub:Computer`` and is dropped. Malformed datagrams are logged
and skipped by :class:`~platonicam.discovery.protocol.DiscoveryProtocol`.

Sockets are closed when the iteration ends, is cancelled or raises. Stopping a
``discover_iter`` early (``break``) closes them when the generator is closed;
wrap it in ``contextlib.aclosing`` to make that immediate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncGenerator, Iterable, Sequence

from platonicam.discovery.candidate import Candidate
from platonicam.discovery.errors import DiscoveryNetworkError, InvalidQuery
from platonicam.discovery.messages import (
    MULTICAST_IPV4,
    NETWORK_VIDEO_TRANSMITTER,
    PORT,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    TypeName,
    new_message_id,
)
from platonicam.discovery.protocol import (
    Address,
    Endpoints,
    Received,
    describe_os_error,
    ipv4_interface_addresses,
    unicast_socket,
)
from platonicam.discovery.scopes import scopes_match

log = logging.getLogger(__name__)

#: Many cameras announce only ``dn:NetworkVideoTransmitter``, not ``tds:Device``.
DEFAULT_TYPES: tuple[TypeName, ...] = (NETWORK_VIDEO_TRANSMITTER,)
DEFAULT_TIMEOUT = 3.0
DEFAULT_REPEAT = 3
DEFAULT_INTERVAL = 0.3


def wanted(
    target: TargetService,
    types: Sequence[TypeName],
    scopes: Sequence[str],
    match_by: str | None = None,
) -> bool:
    """Whether a device's answer belongs in the results of a probe for ``types``/``scopes``.

    Scopes must match by the probe's rule. Types: a device declaring every probe
    type is kept; so is an ONVIF device answering an all-ONVIF probe even if it
    declares only one of ``tds:Device``/``dn:NetworkVideoTransmitter`` (it judged
    itself a match; many cameras announce just the latter). Anything else, such
    as a wsdd host's ``wsdp:Device pub:Computer``, is not a camera and is dropped.
    """
    if not scopes_match(scopes, target.scopes, match_by):
        return False
    declared = set(target.types)
    if all(t in declared for t in types):
        return target.is_onvif or bool(types)
    return target.is_onvif and all(t.is_onvif for t in types)


async def _exchange(
    endpoints: Endpoints,
    request: bytes,
    destination: Address,
    *,
    timeout: float,
    repeat: int,
    interval: float,
) -> AsyncGenerator[Received, None]:
    """Send ``request`` ``repeat`` times and yield what arrives until ``timeout`` ends.

    Owns ``endpoints``: they are closed when this generator finishes or is closed.
    """
    loop = asyncio.get_running_loop()

    async def send_repeatedly() -> None:
        for number in range(repeat):
            if number:
                await asyncio.sleep(interval)
            endpoints.send(request, destination)

    async with endpoints:
        if timeout <= 0:
            raise InvalidQuery(f"timeout must be positive, got {timeout}")
        if repeat < 1:
            raise InvalidQuery(f"repeat must be at least 1, got {repeat}")
        sender = asyncio.create_task(send_repeatedly())
        try:
            deadline = loop.time() + timeout
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:
                    async with asyncio.timeout(remaining):
                        received = await endpoints.queue.get()
                except TimeoutError:
                    return
                yield received
        finally:
            sender.cancel()
            await asyncio.wait([sender])


def _relates(relates_to: str | None, message_id: str) -> bool:
    # An answer without RelatesTo is accepted: it reached our ephemeral port, so
    # it was meant for us. One relating to another message is not ours.
    return relates_to is None or relates_to == message_id


async def _candidates(
    endpoints: Endpoints,
    destination: Address,
    *,
    timeout: float,
    types: Sequence[TypeName],
    scopes: Sequence[str],
    match_by: str | None,
    repeat: int,
    interval: float,
) -> AsyncGenerator[Candidate, None]:
    probe = Probe(new_message_id(), tuple(types), tuple(scopes), match_by)
    seen: set[str] = set()
    stream = _exchange(
        endpoints, bytes(probe), destination, timeout=timeout, repeat=repeat, interval=interval
    )
    async with contextlib.aclosing(stream):
        async for received in stream:
            message = received.message
            if not isinstance(message, ProbeMatches) or not _relates(
                message.relates_to, probe.message_id
            ):
                continue
            for target in message.matches:
                if target.endpoint_reference in seen:
                    continue
                if not wanted(target, probe.types, probe.scopes, match_by):
                    log.debug("ignoring %s from %s: not a match", target.types, received.source)
                    continue
                seen.add(target.endpoint_reference)
                yield Candidate.from_target(target)


def _multicast_endpoints(interfaces: Iterable[str] | None) -> Endpoints:
    addresses = list(interfaces) if interfaces is not None else ipv4_interface_addresses()
    if not addresses:
        raise DiscoveryNetworkError("no IPv4 interface to probe on")
    return Endpoints.multicast_senders(addresses)


async def _unicast_endpoints(host: str, port: int) -> tuple[Endpoints, Address]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise InvalidQuery(f"cannot resolve {host!r}: {exc.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    try:
        sock = unicast_socket(family)
    except OSError as exc:
        raise DiscoveryNetworkError(f"cannot open a UDP socket: {describe_os_error(exc)}") from None
    destination = (str(sockaddr[0]), int(sockaddr[1]))
    return Endpoints([(destination[0], sock)]), destination


async def discover_iter(
    timeout: float = DEFAULT_TIMEOUT,
    *,
    types: Sequence[TypeName] = DEFAULT_TYPES,
    scopes: Sequence[str] = (),
    match_by: str | None = None,
    interfaces: Iterable[str] | None = None,
    port: int = PORT,
    repeat: int = DEFAULT_REPEAT,
    interval: float = DEFAULT_INTERVAL,
) -> AsyncGenerator[Candidate, None]:
    """Multicast a Probe on every IPv4 interface and yield each device once, as it answers.

    ``timeout`` (seconds) is how long to listen in total. ``interfaces`` are IPv4
    addresses to probe from (default: all of this host's, loopback included).
    Raises :class:`DiscoveryNetworkError` when no socket can be opened and
    :class:`InvalidQuery` for impossible arguments.
    """
    endpoints = _multicast_endpoints(interfaces)
    stream = _candidates(
        endpoints,
        (MULTICAST_IPV4, port),
        timeout=timeout,
        types=types,
        scopes=scopes,
        match_by=match_by,
        repeat=repeat,
        interval=interval,
    )
    async with contextlib.aclosing(stream):
        async for candidate in stream:
            yield candidate


async def discover(
    timeout: float = DEFAULT_TIMEOUT,
    *,
    types: Sequence[TypeName] = DEFAULT_TYPES,
    scopes: Sequence[str] = (),
    match_by: str | None = None,
    interfaces: Iterable[str] | None = None,
    port: int = PORT,
    repeat: int = DEFAULT_REPEAT,
    interval: float = DEFAULT_INTERVAL,
) -> list[Candidate]:
    """:func:`discover_iter`'s devices as a list, in the order they answered."""
    stream = discover_iter(
        timeout,
        types=types,
        scopes=scopes,
        match_by=match_by,
        interfaces=interfaces,
        port=port,
        repeat=repeat,
        interval=interval,
    )
    async with contextlib.aclosing(stream):
        return [candidate async for candidate in stream]


async def probe_unicast_iter(
    host: str,
    *,
    port: int = PORT,
    timeout: float = DEFAULT_TIMEOUT,
    types: Sequence[TypeName] = DEFAULT_TYPES,
    scopes: Sequence[str] = (),
    match_by: str | None = None,
    repeat: int = DEFAULT_REPEAT,
    interval: float = DEFAULT_INTERVAL,
) -> AsyncGenerator[Candidate, None]:
    """Send a Probe to one known address (``host``, a name or an IPv4/IPv6 address) and
    yield the devices that answer, as :func:`discover_iter` does.
    """
    endpoints, destination = await _unicast_endpoints(host, port)
    stream = _candidates(
        endpoints,
        destination,
        timeout=timeout,
        types=types,
        scopes=scopes,
        match_by=match_by,
        repeat=repeat,
        interval=interval,
    )
    async with contextlib.aclosing(stream):
        async for candidate in stream:
            yield candidate


async def probe_unicast(
    host: str,
    *,
    port: int = PORT,
    timeout: float = DEFAULT_TIMEOUT,
    types: Sequence[TypeName] = DEFAULT_TYPES,
    scopes: Sequence[str] = (),
    match_by: str | None = None,
    repeat: int = DEFAULT_REPEAT,
    interval: float = DEFAULT_INTERVAL,
) -> list[Candidate]:
    """:func:`probe_unicast_iter`'s devices as a list."""
    stream = probe_unicast_iter(
        host,
        port=port,
        timeout=timeout,
        types=types,
        scopes=scopes,
        match_by=match_by,
        repeat=repeat,
        interval=interval,
    )
    async with contextlib.aclosing(stream):
        return [candidate async for candidate in stream]


async def resolve(
    endpoint_reference: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    host: str | None = None,
    port: int = PORT,
    interfaces: Iterable[str] | None = None,
    repeat: int = DEFAULT_REPEAT,
    interval: float = DEFAULT_INTERVAL,
) -> Candidate | None:
    """Ask where the device ``endpoint_reference`` is; ``None`` if it did not answer in time.

    Multicast on every interface unless ``host`` names the device's address.
    Only a ResolveMatch for that very endpoint reference counts.
    """
    if host is not None:
        endpoints, destination = await _unicast_endpoints(host, port)
    else:
        endpoints, destination = _multicast_endpoints(interfaces), (MULTICAST_IPV4, port)
    request = Resolve(new_message_id(), endpoint_reference)
    stream = _exchange(
        endpoints, bytes(request), destination, timeout=timeout, repeat=repeat, interval=interval
    )
    async with contextlib.aclosing(stream):
        async for received in stream:
            message = received.message
            if (
                isinstance(message, ResolveMatches)
                and _relates(message.relates_to, request.message_id)
                and message.match is not None
                and message.match.endpoint_reference == endpoint_reference
            ):
                return Candidate.from_target(message.match)
    return None
