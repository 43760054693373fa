"""RTP and RTCP of one track -> access units, AAC frames or metadata documents (no I/O).

Strategy: :class:`VideoReceiver` and :class:`AacReceiver` turn RTP and RTCP
packets of one track into :class:`~platonicam.rtsp.stream.AccessUnit` and
:class:`~platonicam.rtsp.stream.AudioFrame` objects: depacketizing, RTP
timestamp unwrapping and wall clock from RTCP sender reports (both in
:class:`_Clock32`), and the camera quirks listed below.
:class:`MetadataReceiver` does the same for the ONVIF metadata track
(``vnd.onvif.metadata``), yielding
:class:`~platonicam.rtsp.metadata.MetadataDocument` objects. The caller
passes each packet with its arrival time; nothing here reads a socket or a
clock.

Quirks tolerated:

* Parameter sets sent as their own packets (GStreamer's ``rtph264pay
  config-interval=-1`` sends SPS and PPS as single-NAL packets with the IDR's
  timestamp; some cameras even set the marker bit on them): a unit without a
  picture is held back and its NAL units prepended to the next unit, so the
  IDR's access unit carries its SPS/PPS. In-band parameter sets that differ from
  the SDP's ``sprop`` replace them in :attr:`VideoReceiver.description` (which
  :attr:`~platonicam.rtsp.client.RtspClient.description` shows).
* Garbage: a malformed RTP packet or payload is counted and skipped; only when
  more than ``max_malformed`` of the last :data:`MALFORMED_WINDOW` packets were
  bad (:class:`_Budget`, shared by the tracks of one stream) does the stream
  fail with :class:`~platonicam.rtsp.errors.RtpError`.
* Loss: a unit that lost packets is dropped, and so is everything after it up
  to the next keyframe (a decoder must not see references it cannot resolve).
"""

from __future__ import annotations

import collections
import contextlib
import logging
from dataclasses import replace
from typing import Final

from platonicam.rtsp import h264, h265
from platonicam.rtsp._nal import Depacketizer
from platonicam.rtsp.aac import AacDepacketizer
from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.metadata import METADATA_CLOCK_RATE, MetadataDepacketizer, MetadataDocument
from platonicam.rtsp.rtp import RTCP_SR, RtcpSenderReport, RtpPacket, unix_from_ntp
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    StreamDescription,
    VideoCodec,
)

log = logging.getLogger(__name__)

#: How many recent packets the malformed-packet budget looks at.
MALFORMED_WINDOW: Final = 100
#: Default: more than this many bad packets among the last :data:`MALFORMED_WINDOW` fail the stream.
DEFAULT_MAX_MALFORMED: Final = 50


class _Clock32:
    """Unwraps 32-bit RTP timestamps and maps them to wall-clock time by RTCP SRs."""

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self._first: int | None = None
        self._last: int | None = None
        self._extended = 0
        self._sender_report: tuple[int, float] | None = None  # (rtp time, unix seconds)

    def extend(self, timestamp: int) -> int:
        """Ticks since the first timestamp seen (negative for a unit older than the first)."""
        if self._last is None:
            self._first = self._last = timestamp
            self._extended = 0
            return 0
        delta = ((timestamp - self._last + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        self._extended += delta
        self._last = timestamp
        return self._extended

    def sender_report(self, report: RtcpSenderReport) -> None:
        self._sender_report = (report.rtp_timestamp, unix_from_ntp(report.ntp_timestamp))

    @property
    def mapped(self) -> bool:
        return self._sender_report is not None

    def wallclock(self, timestamp: int, arrival: float) -> float:
        """Unix seconds of RTP time ``timestamp``: from the last SR, else ``arrival``."""
        if self._sender_report is None:
            return arrival
        rtp, unix = self._sender_report
        delta = ((timestamp - rtp + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        return unix + delta / self.clock_rate


class _Budget:
    """Counts bad packets among the last :data:`MALFORMED_WINDOW`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._window: collections.deque[bool] = collections.deque(maxlen=MALFORMED_WINDOW)
        self._bad = 0

    def record(self, bad: bool) -> None:
        if len(self._window) == self._window.maxlen and self._window[0]:
            self._bad -= 1
        self._window.append(bad)
        if bad:
            self._bad += 1
            self.total += 1
            if self._bad > self.limit:
                raise RtpError(
                    f"{self._bad} of the last {len(self._window)} RTP packets were malformed"
                )


def _packet(data: bytes, payload_type: int) -> RtpPacket:
    """``data`` as an RTP packet of the track's payload type; raises :class:`RtpError`."""
    packet = RtpPacket.parse(data)
    if packet.payload_type != payload_type:
        raise RtpError(f"unexpected RTP payload type {packet.payload_type}")
    return packet


class VideoReceiver:
    """H.264/H.265 RTP and RTCP of one track -> :class:`AccessUnit` objects (no I/O).

    ``wallclock`` of a unit is mapped from the latest RTCP sender report; until
    one has arrived it is ``arrival`` (the Unix time the caller passes with the
    packet that completed the unit). ``timestamp`` counts 90 kHz ticks from the
    first packet. :attr:`description` starts as the SDP's and follows in-band
    parameter sets. ``budget`` counts malformed packets (shared by the tracks).
    """

    def __init__(
        self, description: StreamDescription, payload_type: int, budget: _Budget | None = None
    ) -> None:
        self.description = description
        self.payload_type = payload_type
        self._codec = h264 if description.codec is VideoCodec.H264 else h265
        self._depacketizer: Depacketizer = (
            h264.H264Depacketizer()
            if description.codec is VideoCodec.H264
            else h265.H265Depacketizer()
        )
        self._clock = _Clock32(90_000)
        self._budget = budget or _Budget(DEFAULT_MAX_MALFORMED)
        self._prefix: tuple[bytes, ...] = ()
        self._need_keyframe = False
        self._ssrc: int | None = None
        self.units = 0
        self.dropped_units = 0
        self.bytes_received = 0

    @property
    def malformed_packets(self) -> int:
        return self._budget.total

    @property
    def wallclock_mapped(self) -> bool:
        """Whether an RTCP sender report has arrived (units carry the sender's clock)."""
        return self._clock.mapped

    def rtp(self, data: bytes, arrival: float) -> list[AccessUnit]:
        """Feed one RTP packet; returns the units it completed.

        Raises :class:`RtpError` only when the malformed-packet budget is spent.
        """
        self.bytes_received += len(data)
        try:
            packet = _packet(data, self.payload_type)
            if self._ssrc is not None and packet.ssrc != self._ssrc:
                # The camera restarted its encoder: old fragments are worthless.
                self._depacketizer = type(self._depacketizer)()
                self._prefix = ()
            self._ssrc = packet.ssrc
            done = self._depacketizer.push(packet)
        except RtpError as exc:
            log.debug("skipping a malformed RTP packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        units = []
        for unit in done:
            made = self._unit(unit.nal_units, unit.timestamp, unit.complete, arrival)
            if made is not None:
                units.append(made)
        return units

    def rtcp(self, data: bytes) -> None:
        """Feed one RTCP compound packet; a sender report updates the wall-clock mapping."""
        offset = 0
        while offset + 4 <= len(data):
            length = 4 * (((data[offset + 2] << 8) | data[offset + 3]) + 1)
            if data[offset + 1] == RTCP_SR:
                try:
                    self._clock.sender_report(
                        RtcpSenderReport.parse(data[offset : offset + length])
                    )
                except RtpError as exc:
                    log.debug("skipping a malformed RTCP sender report: %s", exc)
                    self._budget.record(True)
                    return
            offset += length

    def _unit(
        self, nal_units: tuple[bytes, ...], rtp_time: int, complete: bool, arrival: float
    ) -> AccessUnit | None:
        codec = self._codec
        if not complete:
            self.dropped_units += 1
            self._need_keyframe = True
            self._prefix = ()
            return None
        vcl_limit = 24 if codec is h264 else 32
        has_picture = any(
            nal
            and (
                1 <= codec.nal_type(nal) <= 5 if codec is h264 else codec.nal_type(nal) < vcl_limit
            )
            for nal in nal_units
        )
        if not has_picture:
            # Parameter sets (or SEI) on their own: they belong to the next picture.
            self._prefix = (*self._prefix, *nal_units)
            return None
        nal_units = (*self._prefix, *nal_units)
        self._prefix = ()
        keyframe = codec.is_keyframe(nal_units)
        if self._need_keyframe:
            if not keyframe:
                self.dropped_units += 1
                return None
            self._need_keyframe = False
        if keyframe:
            self._update_parameter_sets(nal_units)
        self.units += 1
        return AccessUnit(
            nal_units=nal_units,
            timestamp=self._clock.extend(rtp_time),
            keyframe=keyframe,
            wallclock=self._clock.wallclock(rtp_time, arrival),
        )

    def _update_parameter_sets(self, nal_units: tuple[bytes, ...]) -> None:
        codec = self._codec
        order = (h264.SPS, h264.PPS) if codec is h264 else (h265.VPS, h265.SPS, h265.PPS)
        found: dict[int, bytes] = {}
        for nal in nal_units:
            kind = codec.nal_type(nal)
            if kind in order:
                found.setdefault(kind, nal)
        if not found:
            return
        current = {codec.nal_type(n): n for n in self.description.parameter_sets if n}
        merged = {**current, **found}
        sets = tuple(merged[kind] for kind in order if kind in merged)
        if sets != self.description.parameter_sets:
            self.description = replace(self.description, parameter_sets=sets)


class AacReceiver:
    """AAC over RTP (RFC 3640 ``AAC-hbr``: 13-bit sizes, 3-bit indices) -> :class:`AudioFrame`.

    Each AU header names one AAC frame of 1024 samples; a frame larger than one
    packet comes in fragments, joined here (one that lost a fragment is dropped,
    see :class:`~platonicam.rtsp.aac.AacDepacketizer`).
    """

    def __init__(self, description: AudioDescription, payload_type: int, budget: _Budget) -> None:
        self.description = description
        self.payload_type = payload_type
        self._clock = _Clock32(description.sample_rate)
        self._budget = budget
        self._depacketizer = AacDepacketizer()

    def rtp(self, data: bytes, arrival: float) -> list[AudioFrame]:
        try:
            packet = _packet(data, self.payload_type)
            frames = self._depacketizer.push(packet)
        except RtpError as exc:
            log.debug("skipping a malformed AAC packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        out = []
        for index, frame in enumerate(frames):
            rtp_time = (packet.timestamp + 1024 * index) & 0xFFFFFFFF
            out.append(
                AudioFrame(
                    frame, self._clock.extend(rtp_time), self._clock.wallclock(rtp_time, arrival)
                )
            )
        return out

    def rtcp(self, data: bytes) -> None:
        if len(data) >= 28 and data[1] == RTCP_SR:
            with contextlib.suppress(RtpError):
                self._clock.sender_report(RtcpSenderReport.parse(data))


class MetadataReceiver:
    """ONVIF metadata RTP and RTCP of one track -> :class:`MetadataDocument` objects (no I/O).

    Documents are reassembled up to the marker bit (see
    :class:`~platonicam.rtsp.metadata.MetadataDepacketizer` for loss); the XML
    is handed on unparsed. ``wallclock`` comes from the track's RTCP sender
    reports, else the arrival time; ``timestamp`` counts 90 kHz ticks from the
    first document.
    """

    def __init__(self, payload_type: int, budget: _Budget, clock_rate: int = 0) -> None:
        self.payload_type = payload_type
        self._clock = _Clock32(clock_rate or METADATA_CLOCK_RATE)
        self._budget = budget
        self._depacketizer = MetadataDepacketizer()
        self.documents = 0

    @property
    def dropped_documents(self) -> int:
        return self._depacketizer.dropped

    def rtp(self, data: bytes, arrival: float) -> list[MetadataDocument]:
        try:
            packet = _packet(data, self.payload_type)
        except RtpError as exc:
            log.debug("skipping a malformed metadata packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        done = self._depacketizer.push(packet)
        if done is None:
            return []
        self.documents += 1
        return [
            MetadataDocument(
                xml=done.xml,
                wallclock=self._clock.wallclock(done.rtp_timestamp, arrival),
                timestamp=self._clock.extend(done.rtp_timestamp),
            )
        ]

    def rtcp(self, data: bytes) -> None:
        if len(data) >= 28 and data[1] == RTCP_SR:
            with contextlib.suppress(RtpError):
                self._clock.sender_report(RtcpSenderReport.parse(data))
