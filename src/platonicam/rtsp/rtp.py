"""RTP packets and RTCP sender reports (RFC 3550), parsed from and serialised to bytes.

Each packet type has ``parse(data)`` and ``__bytes__``; ``bytes(Type.parse(b))``
gives ``b`` back for every packet we produce (padding is the one thing parse
drops, since nothing downstream needs it).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from typing import Final

from platonicam.rtsp.errors import RtpError

RTP_VERSION: Final = 2
#: Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_UNIX_OFFSET: Final = 2_208_988_800
RTCP_SR: Final = 200
RTCP_RR: Final = 201

_HEADER = struct.Struct("!BBHII")
_REPORT = struct.Struct("!IB3sIIII")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet. ``extension`` is ``(profile, data)`` with ``data`` a multiple of 4 bytes."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Raises :class:`RtpError` for a short packet, a version other than 2 or bad padding."""
        if len(data) < _HEADER.size:
            raise RtpError(f"RTP packet is {len(data)} bytes, shorter than its 12-byte header")
        first, second, seq, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version is {first >> 6}, not 2")
        offset = _HEADER.size
        csrc_count = first & 0x0F
        if len(data) < offset + 4 * csrc_count:
            raise RtpError("RTP packet is too short for its CSRC list")
        csrc = struct.unpack_from(f"!{csrc_count}I", data, offset)
        offset += 4 * csrc_count
        extension = None
        if first & 0x10:
            if len(data) < offset + 4:
                raise RtpError("RTP packet is too short for its header extension")
            profile, words = struct.unpack_from("!HH", data, offset)
            offset += 4
            if len(data) < offset + 4 * words:
                raise RtpError("RTP header extension is longer than the packet")
            extension = (profile, bytes(data[offset : offset + 4 * words]))
            offset += 4 * words
        end = len(data)
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or end - padding < offset:
                raise RtpError(f"RTP padding length {padding} is invalid")
            end -= padding
        return cls(
            payload_type=second & 0x7F,
            sequence_number=seq,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
            csrc=tuple(csrc),
            extension=extension,
        )

    def __bytes__(self) -> bytes:
        if len(self.csrc) > 15:
            raise RtpError("an RTP packet holds at most 15 CSRCs")
        first = (RTP_VERSION << 6) | len(self.csrc)
        if self.extension is not None:
            first |= 0x10
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        parts = [
            _HEADER.pack(
                first, second, self.sequence_number & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc
            )
        ]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            profile, data = self.extension
            if len(data) % 4:
                raise RtpError("an RTP header extension is a whole number of 32-bit words")
            parts.append(struct.pack("!HH", profile, len(data) // 4) + data)
        parts.append(self.payload)
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class ReceptionReport:
    """One report block of a sender or receiver report (RFC 3550 §6.4.1)."""

    ssrc: int
    fraction_lost: int
    packets_lost: int
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int

    @classmethod
    def parse(cls, data: bytes) -> ReceptionReport:
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _REPORT.unpack(data)
        packets_lost = int.from_bytes(lost, "big", signed=True)
        return cls(ssrc, fraction, packets_lost, highest, jitter, lsr, dlsr)

    def __bytes__(self) -> bytes:
        lost = self.packets_lost.to_bytes(3, "big", signed=True)
        return _REPORT.pack(
            self.ssrc,
            self.fraction_lost,
            lost,
            self.highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        )


_SR = struct.Struct("!BBHIQIII")


@dataclass(frozen=True, slots=True)
class RtcpSenderReport:
    """An RTCP SR: it ties an RTP timestamp to wall-clock (NTP) time, which players need
    to map RTP time to real time, and carries the sender's packet and octet counts."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReceptionReport, ...] = ()

    @classmethod
    def parse(cls, data: bytes) -> RtcpSenderReport:
        """Parse the first packet of an RTCP compound packet, which must be an SR.

        Raises :class:`RtpError` when it is not an SR or its length is inconsistent.
        """
        if len(data) < _SR.size:
            raise RtpError(f"RTCP sender report is {len(data)} bytes, shorter than 28")
        first, packet_type, words, ssrc, ntp, rtp_ts, packets, octets = _SR.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTCP version is {first >> 6}, not 2")
        if packet_type != RTCP_SR:
            raise RtpError(f"RTCP packet type is {packet_type}, not a sender report (200)")
        count = first & 0x1F
        length = 4 * (words + 1)
        if length > len(data) or length < _SR.size + 24 * count:
            raise RtpError("RTCP sender report length is invalid")
        reports = tuple(
            ReceptionReport.parse(data[_SR.size + 24 * i : _SR.size + 24 * (i + 1)])
            for i in range(count)
        )
        return cls(ssrc, ntp, rtp_ts, packets, octets, reports)

    def __bytes__(self) -> bytes:
        if len(self.reports) > 31:
            raise RtpError("an RTCP sender report holds at most 31 report blocks")
        words = (_SR.size + 24 * len(self.reports)) // 4 - 1
        head = _SR.pack(
            (RTP_VERSION << 6) | len(self.reports),
            RTCP_SR,
            words,
            self.ssrc,
            self.ntp_timestamp,
            self.rtp_timestamp & 0xFFFFFFFF,
            self.packet_count & 0xFFFFFFFF,
            self.octet_count & 0xFFFFFFFF,
        )
        return head + b"".join(bytes(report) for report in self.reports)


def ntp_from_unix(seconds: float) -> int:
    """A Unix time (seconds) as a 64-bit NTP timestamp (32.32 fixed point since 1900)."""
    return round((seconds + NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def unix_from_ntp(ntp: int) -> float:
    """The inverse of :func:`ntp_from_unix` (to within 2⁻³² s)."""
    return ntp / (1 << 32) - NTP_UNIX_OFFSET


def random_ssrc() -> int:
    """A random non-zero 32-bit SSRC (RFC 3550 §8 wants them unpredictable)."""
    return secrets.randbits(32) or 1


def seq_add(seq: int, delta: int) -> int:
    """``seq + delta`` on the 16-bit sequence-number circle."""
    return (seq + delta) & 0xFFFF


def seq_diff(newer: int, older: int) -> int:
    """How far ``newer`` is after ``older`` on the 16-bit circle, in -32768..32767.

    ``seq_diff(0, 65535) == 1``: wrap-around counts as one step forward.
    """
    diff = (newer - older) & 0xFFFF
    return diff - 0x10000 if diff >= 0x8000 else diff
