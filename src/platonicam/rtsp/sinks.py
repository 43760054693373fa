"""Where a session's RTP and RTCP go: its RTSP connection (TCP) or datagrams (UDP).

Strategy: a mount's packets are the same bytes for every playing client; a TCP
client gets them ``$``-framed on its RTSP connection (RFC 2326 §10.12), a UDP
client gets datagrams from the server's one RTP/RTCP port pair
(:func:`bind_udp_ports`) to its ``client_port`` pair.
Nothing is buffered without bound: a :class:`TcpSink` is ``congested`` while
the connection's socket buffer holds more than its high-water mark (the
session then skips, see :mod:`platonicam.rtsp.session`); UDP simply drops,
so a :class:`UdpSink` never is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from platonicam.rtsp.errors import RtspError
from platonicam.rtsp.message import TransportSpec, interleaved_header
from platonicam.rtsp.ports import bind_port_pair

log = logging.getLogger(__name__)

Address = tuple[str, int]


class TcpSink:
    """Interleaved delivery on the client's RTSP connection."""

    def __init__(
        self, transport: asyncio.WriteTransport, channels: tuple[int, int], high_water: int
    ) -> None:
        self.transport = transport
        self.channels = channels
        self.high_water = high_water

    def describe(self, ssrc: int) -> TransportSpec:
        return TransportSpec("RTP/AVP/TCP", interleaved=self.channels, ssrc=ssrc)

    @property
    def congested(self) -> bool:
        return self.transport.get_write_buffer_size() > self.high_water

    def send_rtp(self, packets: Sequence[bytes]) -> None:
        if self.transport.is_closing():
            return
        header = interleaved_header
        channel = self.channels[0]
        self.transport.writelines([header(channel, len(p)) + p for p in packets])

    def send_rtcp(self, packet: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(interleaved_header(self.channels[1], len(packet)) + packet)


class UdpSink:
    """Datagrams from the server's port pair to the client's ``client_port`` pair."""

    def __init__(self, ports: UdpPorts, rtp: Address, rtcp: Address) -> None:
        self.ports = ports
        self.rtp = rtp
        self.rtcp = rtcp

    def describe(self, ssrc: int) -> TransportSpec:
        return TransportSpec(
            "RTP/AVP",
            client_port=(self.rtp[1], self.rtcp[1]),
            server_port=self.ports.numbers,
            ssrc=ssrc,
        )

    @property
    def congested(self) -> bool:
        return False

    def send_rtp(self, packets: Sequence[bytes]) -> None:
        for packet in packets:
            self.ports.rtp.sendto(packet, self.rtp)

    def send_rtcp(self, packet: bytes) -> None:
        self.ports.rtcp.sendto(packet, self.rtcp)


class _UdpActivity(asyncio.DatagramProtocol):
    """Receives what clients send to our ports (RTCP receiver reports, NAT punches)."""

    def __init__(self, on_datagram: Callable[[Address], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._on_datagram((str(addr[0]), int(str(addr[1]))))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a client that went away: its session times out.
        log.debug("UDP error from a client: %s", exc)


@dataclass(slots=True)
class UdpPorts:
    """The server's one RTP/RTCP port pair (even, odd), shared by every UDP client."""

    rtp: asyncio.DatagramTransport
    rtcp: asyncio.DatagramTransport
    numbers: tuple[int, int]

    def close(self) -> None:
        self.rtp.close()
        self.rtcp.close()


async def bind_udp_ports(host: str, on_datagram: Callable[[Address], None]) -> UdpPorts:
    """Bind an even RTP port and the odd RTCP port above it on ``host``; whatever
    clients send to them is reported to ``on_datagram`` with its source address.
    Raises :class:`RtspError` when no such pair is free."""
    loop = asyncio.get_running_loop()
    try:
        rtp_sock, rtcp_sock, number = bind_port_pair(host)
    except OSError as exc:
        raise RtspError(str(exc)) from None
    rtp, _ = await loop.create_datagram_endpoint(lambda: _UdpActivity(on_datagram), sock=rtp_sock)
    rtcp, _ = await loop.create_datagram_endpoint(lambda: _UdpActivity(on_datagram), sock=rtcp_sock)
    return UdpPorts(rtp, rtcp, (number, number + 1))
