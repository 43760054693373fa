"""The ONVIF metadata track over RTP: ``tt:MetadataStream`` XML documents, packetized (pure).

ONVIF Streaming Specification §5.2.1.1 ("RTP for Metadata stream"): the
metadata track is an ``m=application`` section whose rtpmap encoding is
``vnd.onvif.metadata`` at a 90 kHz clock. Each document is UTF-8 XML split
across as many RTP packets as it needs, all with the same timestamp, and the
marker bit set on the packet that ends the document. Nothing else frames the
XML: a receiver concatenates payloads until the marker.

:func:`packetize` and :class:`MetadataDepacketizer` are the two halves;
:func:`describe_metadata_media` and :func:`is_metadata_media` write and
recognise the SDP section. No I/O here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final, Protocol

from platonicam.rtsp.errors import RtpError, SdpError
from platonicam.rtsp.rtp import RtpPacket, seq_add
from platonicam.rtsp.sdp import MediaDescription

#: The payload type our server gives the metadata track (the ONVIF spec's examples use 107).
METADATA_PAYLOAD_TYPE: Final = 107
#: The rtpmap encoding name of ONVIF metadata (Streaming spec §5.2.1.1).
METADATA_ENCODING: Final = "vnd.onvif.metadata"
#: The metadata RTP clock rate (the spec fixes 90 kHz, like video).
METADATA_CLOCK_RATE: Final = 90_000
#: Documents larger than this (bytes) are refused by the depacketizer: a camera
#: that never sets the marker bit must not make us buffer without bound.
MAX_DOCUMENT_SIZE: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MetadataDocument:
    """One whole metadata document.

    ``xml`` is the ``tt:MetadataStream`` document as sent (UTF-8 bytes, read it
    with :func:`platonicam.onvif.notification.parse_metadata_stream`);
    ``wallclock`` is the Unix time it describes (from RTCP sender reports on
    the receiving side, else its arrival time); ``timestamp`` counts 90 kHz
    ticks from the track's first document on the receiving side (0 where a
    source produces it).
    """

    xml: bytes
    wallclock: float
    timestamp: int = 0


class MetadataSource(Protocol):
    """Where a mount's metadata comes from: ``subscribe()`` yields documents as they
    are produced and ends when the source closes."""

    def subscribe(self) -> AsyncIterator[MetadataDocument]: ...


def packetize(document: bytes, max_payload: int) -> list[bytes]:
    """Split ``document`` into RTP payloads of at most ``max_payload`` bytes, in order.

    The caller sets the marker bit on the last one. An empty document still
    yields one (empty) payload, so a marker goes out. Raises :class:`RtpError`
    when ``max_payload`` is not positive.
    """
    if max_payload < 1:
        raise RtpError(f"RTP payload limit {max_payload} is not positive")
    if not document:
        return [b""]
    return [document[i : i + max_payload] for i in range(0, len(document), max_payload)]


@dataclass(frozen=True, slots=True)
class CompletedDocument:
    """What :meth:`MetadataDepacketizer.push` hands back: a document's bytes and RTP time."""

    xml: bytes
    rtp_timestamp: int


class MetadataDepacketizer:
    """RTP packets of the metadata track -> whole documents.

    A document ends at a packet with the marker bit. Packets are expected in
    sequence-number order (TCP interleaving and loopback UDP keep it); a gap,
    a timestamp change without a marker, or a document beyond
    :data:`MAX_DOCUMENT_SIZE` drops the partial document (counted in
    :attr:`dropped`), and the next document is read from its first packet on.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._timestamp: int | None = None
        self._next_sequence: int | None = None
        self._broken = False
        self.dropped = 0

    def push(self, packet: RtpPacket) -> CompletedDocument | None:
        """Feed one packet; returns the document it completed, if any."""
        expected = self._next_sequence
        self._next_sequence = seq_add(packet.sequence_number, 1)
        if expected is not None and packet.sequence_number != expected:
            # Lost packets: the partial document is useless, and we cannot tell
            # whether this packet starts a document or continues a lost one, so
            # read on from the next document (a marker ends this one).
            if not self._parts or packet.timestamp != self._timestamp:
                self.dropped += 1  # the document this packet belongs to, if not the partial one
            self._drop()
            self._broken = not packet.marker
            return None
        if self._broken:
            if packet.marker:
                self._broken = False
            return None
        if self._parts and packet.timestamp != self._timestamp:
            self._drop()  # the sender abandoned a document without its marker
        self._timestamp = packet.timestamp
        self._parts.append(packet.payload)
        self._size += len(packet.payload)
        if self._size > MAX_DOCUMENT_SIZE:
            self._drop()
            self._broken = not packet.marker
            return None
        if not packet.marker:
            return None
        done = CompletedDocument(b"".join(self._parts), packet.timestamp)
        self._parts, self._size, self._timestamp = [], 0, None
        return done

    def _drop(self) -> None:
        if self._parts:
            self.dropped += 1
        self._parts, self._size, self._timestamp = [], 0, None


def describe_metadata_media(
    *, control: str, payload_type: int = METADATA_PAYLOAD_TYPE
) -> MediaDescription:
    """The ``m=application`` SDP section of a metadata track."""
    return MediaDescription(
        "application",
        0,
        "RTP/AVP",
        (str(payload_type),),
        (
            ("rtpmap", f"{payload_type} {METADATA_ENCODING}/{METADATA_CLOCK_RATE}"),
            ("control", control),
        ),
        "IN IP4 0.0.0.0",
    )


def is_metadata_media(media: MediaDescription) -> bool:
    """Whether an SDP section is an ONVIF metadata track (matched on the rtpmap
    encoding, case-insensitively, whatever the payload type)."""
    if media.media != "application" or not media.formats or not media.formats[0].isdigit():
        return False
    try:
        mapping = media.rtpmap(int(media.formats[0]))
    except SdpError:  # a malformed rtpmap just means "not ours"
        return False
    return mapping is not None and mapping[0].lower() == METADATA_ENCODING
