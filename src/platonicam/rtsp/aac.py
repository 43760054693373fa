"""AAC audio over RTP (RFC 3640 ``mpeg4-generic``, ``mode=AAC-hbr``), both halves, pure.

The payload of every packet starts with the AU-headers-length (16 bits, the
number of *bits* of AU headers that follow), then one 16-bit AU header per
access unit (AAC frame): a 13-bit AU-size and a 3-bit AU-Index (the first) or
AU-Index-delta (the others), 0 for consecutive frames. Then the frames' bytes.
This is what the ``a=fmtp`` parameters ``sizelength=13;indexlength=3;
indexdeltalength=3`` declare, and what cameras, FFmpeg and GStreamer send.

* :func:`packetize` writes one frame per packet (AAC frames are ~21 ms: a
  packet each costs little, and a lost packet loses one frame). A frame larger
  than a packet is fragmented as RFC 3640 §3.2.3 says: every fragment carries
  the AU header with the *whole* frame's size, and only the last fragment gets
  the marker bit (the caller sets it on the last payload, as for a whole frame).
* :func:`split_access_units` reads a packet of whole frames (as many as its
  headers name); :class:`AacDepacketizer` also joins fragmented frames.
* :func:`describe_aac_media` writes the SDP section; :func:`aac_fmtp` its
  ``a=fmtp`` parameters.

No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.rtp import RtpPacket, seq_add
from platonicam.rtsp.sdp import MediaDescription
from platonicam.rtsp.stream import AudioDescription

#: The dynamic payload type our server gives the AAC track.
AAC_PAYLOAD_TYPE: Final = 97
#: The rtpmap encoding name of RFC 3640 streams.
AAC_ENCODING: Final = "mpeg4-generic"
#: PCM samples per AAC-LC frame: the RTP time between consecutive frames.
SAMPLES_PER_FRAME: Final = 1024
#: Bits of the AU-size field (``sizelength``): a frame is at most 8191 bytes.
SIZE_LENGTH: Final = 13
MAX_FRAME_SIZE: Final = (1 << SIZE_LENGTH) - 1
#: The AU-headers-length field plus one AU header: what precedes a frame's bytes.
HEADER_SIZE: Final = 4


def aac_fmtp(config: bytes) -> str:
    """The ``a=fmtp`` parameters (after the payload type) of an AAC-hbr track."""
    return (
        "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;"
        f"indexdeltalength=3;config={config.hex()}"
    )


def describe_aac_media(
    audio: AudioDescription, *, control: str, payload_type: int = AAC_PAYLOAD_TYPE
) -> MediaDescription:
    """The ``m=audio`` SDP section of an AAC track (the sample rate is the RTP clock)."""
    return MediaDescription(
        "audio",
        0,
        "RTP/AVP",
        (str(payload_type),),
        (
            ("rtpmap", f"{payload_type} {AAC_ENCODING}/{audio.sample_rate}/{audio.channels}"),
            ("fmtp", f"{payload_type} {aac_fmtp(audio.config)}"),
            ("control", control),
        ),
        "IN IP4 0.0.0.0",
    )


def packetize(frame: bytes, max_payload: int) -> list[bytes]:
    """RTP payloads of one raw AAC frame: one payload, or its fragments in order.

    The caller gives every payload the frame's RTP time and sets the marker bit
    on the last one only. Raises :class:`RtpError` when the frame is empty or
    larger than a 13-bit AU-size can say, or when ``max_payload`` leaves no room
    for a frame byte after the 4 header bytes.
    """
    if not frame:
        raise RtpError("an AAC frame cannot be empty")
    if len(frame) > MAX_FRAME_SIZE:
        raise RtpError(f"an AAC frame of {len(frame)} bytes exceeds the 13-bit AU-size")
    room = max_payload - HEADER_SIZE
    if room < 1:
        raise RtpError(f"RTP payload limit {max_payload} leaves no room for AAC data")
    header = (16).to_bytes(2, "big") + (len(frame) << 3).to_bytes(2, "big")
    return [header + frame[i : i + room] for i in range(0, len(frame), room)]


@dataclass(frozen=True, slots=True)
class _Headers:
    sizes: tuple[int, ...]
    data_offset: int


def _headers(payload: bytes) -> _Headers:
    if len(payload) < 2:
        raise RtpError(f"AAC payload of {len(payload)} bytes is shorter than its AU-headers-length")
    header_bits = (payload[0] << 8) | payload[1]
    if header_bits % 16:
        raise RtpError(f"AU-headers-length {header_bits} is not a multiple of 16 bits")
    count = header_bits // 16
    offset = 2 + 2 * count
    if offset > len(payload):
        raise RtpError(f"{count} AAC AU headers run past the end of the packet")
    sizes = tuple(
        ((payload[2 + 2 * i] << 8) | payload[3 + 2 * i]) >> (16 - SIZE_LENGTH) for i in range(count)
    )
    return _Headers(sizes, offset)


def split_access_units(payload: bytes) -> list[bytes]:
    """The whole AAC frames of one RTP payload, in order.

    Raises :class:`RtpError` when the payload is shorter than its headers say
    (a fragment of a larger frame included: :class:`AacDepacketizer` joins those).
    """
    headers = _headers(payload)
    offset = headers.data_offset
    frames = []
    for size in headers.sizes:
        if offset + size > len(payload):
            raise RtpError(f"AAC frame of {size} bytes runs past the end of the packet")
        frames.append(payload[offset : offset + size])
        offset += size
    return frames


class AacDepacketizer:
    """RTP packets of an AAC-hbr track -> whole raw frames, fragmented ones joined.

    A packet with one AU header naming more bytes than it carries is a fragment
    of a frame (RFC 3640 §3.2.3): the fragments share the RTP time and the
    AU-size, and the last one has the marker bit. Packets are expected in
    sequence order. A frame that lost a fragment, or that the sender abandoned
    (another frame began before its last fragment), is dropped and counted in
    :attr:`dropped`. A malformed payload, or a frame that ends (marker bit)
    short of its AU-size, raises :class:`RtpError` (and drops the frame being
    joined).
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._have = 0
        #: (AU-size, RTP time) of the frame being joined, and of one whose rest is skipped.
        self._joining: tuple[int, int] | None = None
        self._skipping: tuple[int, int] | None = None
        self._next_sequence: int | None = None
        self.dropped = 0

    def push(self, packet: RtpPacket) -> list[bytes]:
        """Feed one packet; returns the frames it completed (possibly none)."""
        expected = self._next_sequence
        self._next_sequence = seq_add(packet.sequence_number, 1)
        in_order = expected is None or packet.sequence_number == expected
        try:
            headers = _headers(packet.payload)
        except RtpError:
            self._drop()
            raise
        if not headers.sizes:
            return []
        data = packet.payload[headers.data_offset :]
        size = headers.sizes[0]
        fragment = len(headers.sizes) == 1 and len(data) < size
        frame_key = (size, packet.timestamp)
        if fragment and frame_key == self._skipping:
            if packet.marker:
                self._skipping = None
            return []  # the rest of a frame that lost a fragment
        self._skipping = None
        if self._parts and not (fragment and in_order and frame_key == self._joining):
            lost_middle = fragment and frame_key == self._joining
            self._drop()
            if lost_middle:
                self._skipping = None if packet.marker else frame_key
                return []
        if not fragment:
            return split_access_units(packet.payload)
        if self._have + len(data) > size:
            self._drop()
            raise RtpError(f"AAC fragments exceed their frame's {size} bytes")
        self._parts.append(data)
        self._have += len(data)
        self._joining = frame_key
        if not packet.marker:
            return []
        frame = b"".join(self._parts)
        self._parts, self._have, self._joining = [], 0, None
        if len(frame) != size:
            self.dropped += 1
            raise RtpError(f"AAC frame ended after {len(frame)} of its {size} bytes")
        return [frame]

    def _drop(self) -> None:
        if self._parts:
            self.dropped += 1
        self._parts, self._have, self._joining = [], 0, None
