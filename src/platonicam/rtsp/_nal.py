"""What H.264 (RFC 6184) and H.265 (RFC 7798) RTP payloads have in common.

Both formats carry NAL units three ways: one NAL per packet, several small NALs
aggregated into one packet (STAP-A / AP: a 16-bit size before each), and one
large NAL fragmented over several packets (FU-A / FU: a start bit, an end bit
and the original NAL type in a small FU header). Only the header sizes and bit
layouts differ, so the codec modules describe those and this module does the
rest: chunking, aggregation and the reassembly state machine.

Strategy for loss (depacketizer): RTP sequence numbers are checked on every
packet. A gap abandons any fragment in progress (a NAL missing a middle piece
must never be handed to a decoder) and marks the access unit being assembled as
incomplete; when the gap coincides with a timestamp change, both the unit that
ended and the one that starts are marked, since the lost packets may belong to
either. Late or duplicate packets (sequence number not after the last one) are
dropped: reordering belongs in a jitter buffer in front of this, not here.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.rtp import RtpPacket, seq_diff

#: Default largest RTP payload: a 1500-byte Ethernet MTU minus IP, UDP, RTP headers and slack.
DEFAULT_MAX_PAYLOAD = 1400


@dataclass(frozen=True, slots=True)
class DepacketizedUnit:
    """An access unit rebuilt from RTP packets.

    ``timestamp`` is the RTP timestamp. ``complete`` is false when packets of
    this unit were lost (its NAL list then lacks whatever they carried).
    """

    nal_units: tuple[bytes, ...]
    timestamp: int
    complete: bool


def split_sizes(data: bytes, what: str) -> list[bytes]:
    """The NAL units of an aggregation payload body: ``(size16, NAL)*``.

    Raises :class:`RtpError` when a size runs past the end of the packet.
    """
    units = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise RtpError(f"{what} ends inside a NAL size field")
        size = (data[offset] << 8) | data[offset + 1]
        offset += 2
        if size == 0 or offset + size > len(data):
            raise RtpError(f"{what} NAL size {size} runs past the end of the packet")
        units.append(data[offset : offset + size])
        offset += size
    return units


def join_sizes(nal_units: Iterable[bytes]) -> bytes:
    return b"".join(len(nal).to_bytes(2, "big") + nal for nal in nal_units)


class NalPayloadFormat(abc.ABC):
    """A codec's RTP payload layout (see the H.264 and H.265 modules)."""

    #: Bytes of NAL header (1 for H.264, 2 for H.265).
    header_size: int
    #: Bytes a fragment adds before the data: payload header plus FU header.
    fu_overhead: int

    @abc.abstractmethod
    def aggregation_header(self, nal_units: Sequence[bytes]) -> bytes: ...

    @abc.abstractmethod
    def fragment_header(self, nal: bytes, start: bool, end: bool) -> bytes: ...

    def packetize(
        self, nal_units: Sequence[bytes], max_payload: int, *, aggregate: bool
    ) -> list[bytes]:
        if max_payload < self.fu_overhead + 1 + 2:
            raise RtpError(f"max_payload {max_payload} is too small to carry any data")
        payloads: list[bytes] = []
        pending: list[bytes] = []  # small NALs waiting to be aggregated

        def flush() -> None:
            if len(pending) == 1:
                payloads.append(pending[0])
            elif pending:
                payloads.append(self.aggregation_header(pending) + join_sizes(pending))
            pending.clear()

        for nal in nal_units:
            if len(nal) <= self.header_size:
                raise RtpError(f"a NAL unit of {len(nal)} bytes has no payload")
            if len(nal) <= max_payload:
                if aggregate:
                    size = self.header_size + sum(2 + len(n) for n in pending) + 2 + len(nal)
                    if size > max_payload or len(nal) > 0xFFFF:
                        flush()
                    pending.append(nal)
                else:
                    payloads.append(nal)
                continue
            flush()
            data = nal[self.header_size :]
            chunk = max_payload - self.fu_overhead
            for offset in range(0, len(data), chunk):
                start = offset == 0
                end = offset + chunk >= len(data)
                payloads.append(
                    self.fragment_header(nal, start, end) + data[offset : offset + chunk]
                )
        flush()
        return payloads


class Depacketizer(abc.ABC):
    """Rebuilds access units from a sequence of RTP packets of one stream.

    :meth:`push` each packet in arrival order; it returns the units that became
    complete (the marker bit ends one; a timestamp change ends one whose marked
    last packet was lost). Raises :class:`RtpError` for a malformed or
    unsupported payload; the depacketizer stays usable after that.
    """

    def __init__(self) -> None:
        self._last_seq: int | None = None
        self._timestamp: int | None = None
        self._nal_units: list[bytes] = []
        self._fragment: bytearray | None = None
        self._damaged = False

    @property
    def lost_packets(self) -> bool:
        """Whether the unit being assembled already misses packets."""
        return self._damaged

    def push(self, packet: RtpPacket) -> list[DepacketizedUnit]:
        done: list[DepacketizedUnit] = []
        gap = False
        if self._last_seq is not None:
            step = seq_diff(packet.sequence_number, self._last_seq)
            if step <= 0:
                return done
            gap = step > 1
        self._last_seq = packet.sequence_number
        if self._timestamp is not None and packet.timestamp != self._timestamp:
            if gap:
                self._damaged = True
            unit = self._flush()
            if unit is not None:
                done.append(unit)
        if gap:
            self._damaged = True
            self._fragment = None
        self._timestamp = packet.timestamp
        if not packet.payload:
            raise RtpError("RTP packet has an empty payload")
        self._payload(packet.payload)
        if packet.marker:
            unit = self._flush()
            if unit is not None:
                done.append(unit)
        return done

    def _flush(self) -> DepacketizedUnit | None:
        if self._fragment is not None:
            self._damaged = True
            self._fragment = None
        unit = None
        if self._nal_units or self._damaged:
            assert self._timestamp is not None
            unit = DepacketizedUnit(tuple(self._nal_units), self._timestamp, not self._damaged)
        self._nal_units = []
        self._damaged = False
        return unit

    def _fragment_piece(self, header: bytes, data: bytes, start: bool, end: bool) -> None:
        if start:
            if self._fragment is not None:
                self._damaged = True  # the previous fragment's end never came
            self._fragment = bytearray(header)
        elif self._fragment is None:
            # The start was lost (already flagged by the sequence gap) or never sent.
            self._damaged = True
            return
        self._fragment += data
        if end:
            self._nal_units.append(bytes(self._fragment))
            self._fragment = None

    def _single(self, nal: bytes) -> None:
        if self._fragment is not None:
            self._damaged = True
            self._fragment = None
        self._nal_units.append(nal)

    @abc.abstractmethod
    def _payload(self, payload: bytes) -> None: ...
