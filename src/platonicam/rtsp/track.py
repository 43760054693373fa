"""One RTP stream a mount sends (video, metadata or audio) and its RTCP sender reports.

Strategy: a track has one SSRC and one sequence-number space for all the
mount's clients, and a random RTP time offset. An RTCP sender report goes out
when a client starts and every :data:`SENDER_REPORT_INTERVAL` seconds on each
track, mapping RTP time to the access units' (documents', audio frames')
``wallclock``: what lets players and our client line the tracks up.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Final

from platonicam.rtsp.rtp import RtcpSenderReport, RtpPacket, ntp_from_unix, random_ssrc

#: Seconds between RTCP sender reports to each playing client.
SENDER_REPORT_INTERVAL: Final = 5.0


class Track:
    """One RTP stream of a mount (video, metadata or audio): its SSRC, sequence
    space, random RTP time offset, sent counts, and the (wall clock, RTP time)
    pair its sender reports announce."""

    def __init__(self, payload_type: int) -> None:
        self.payload_type = payload_type
        self.ssrc = random_ssrc()
        self.sequence = secrets.randbits(16)
        self.offset = secrets.randbits(32)
        self.packets = 0
        self.octets = 0
        self.mapping: tuple[float, int] = (0.0, self.offset)
        self._last_report = float("-inf")

    def packets_of(self, payloads: Sequence[bytes], rtp_time: int, wallclock: float) -> list[bytes]:
        """RTP packets of one media unit (the marker on its last packet); the unit's
        ``wallclock`` becomes what the next sender report maps ``rtp_time`` to."""
        last = len(payloads) - 1
        packets = [
            bytes(
                RtpPacket(
                    self.payload_type,
                    (self.sequence + index) & 0xFFFF,
                    rtp_time,
                    self.ssrc,
                    payload,
                    marker=index == last,
                )
            )
            for index, payload in enumerate(payloads)
        ]
        self.sequence = (self.sequence + len(payloads)) & 0xFFFF
        self.packets += len(payloads)
        self.octets += sum(len(p) for p in payloads)
        self.mapping = (wallclock, rtp_time)
        return packets

    def report(self) -> bytes:
        """An RTCP sender report of the current mapping and counts."""
        wallclock, rtp_time = self.mapping
        return bytes(
            RtcpSenderReport(
                ssrc=self.ssrc,
                ntp_timestamp=ntp_from_unix(wallclock),
                rtp_timestamp=rtp_time,
                packet_count=self.packets,
                octet_count=self.octets,
            )
        )

    def due_report(self) -> bytes | None:
        """A sender report when :data:`SENDER_REPORT_INTERVAL` passed since the last one."""
        now = asyncio.get_running_loop().time()
        if now - self._last_report < SENDER_REPORT_INTERVAL:
            return None
        self._last_report = now
        return self.report()

    def report_soon(self) -> None:
        """Make the next :meth:`due_report` send one (the mapping changed)."""
        self._last_report = float("-inf")
