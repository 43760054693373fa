"""The latency SEI: a wall-clock stamp carried inside every access unit.

Strategy: the reference device stamps each access unit, at the moment it is
sent, with a ``user_data_unregistered`` SEI message (payload type 5, H.264
Annex D.1.7 / H.265 Annex D.2.7). Its payload is our fixed 16-byte UUID
followed by the Unix time in microseconds as an unsigned 64-bit big-endian
integer. Decoders ignore unregistered user data, so the stream stays playable
everywhere, while a gateway or player that knows the UUID reads the send time
and subtracts it from its own clock to get the glass-to-glass latency (up to
the two machines' clock offset).

The SEI RBSP is wrapped in a NAL unit with emulation-prevention bytes: the
8-byte time can contain ``00 00 0x`` runs, which would otherwise read as a
start code. Pure functions over bytes; no I/O.
"""

from __future__ import annotations

import uuid

from platonicam.rtsp.stream import VideoCodec

#: The UUID that marks our latency payload (fixed: changing it breaks every reader).
LATENCY_SEI_UUID = uuid.UUID("7c0a4f2e-5d1b-4c36-9e8a-50c1a7ca3e01")

#: ``user_data_unregistered`` in both H.264 and H.265.
SEI_USER_DATA_UNREGISTERED = 5

H264_NAL_SEI = 6
H265_NAL_PREFIX_SEI = 39

_PAYLOAD_SIZE = 16 + 8
_MAX_MICROS = 2**64 - 1

# H.264 NAL header: forbidden_zero_bit 0, nal_ref_idc 0 (SEI is never referenced), type 6.
_H264_HEADER = bytes([H264_NAL_SEI])
# H.265 NAL header: forbidden 0, type 39, nuh_layer_id 0, nuh_temporal_id_plus1 1.
_H265_HEADER = bytes([H265_NAL_PREFIX_SEI << 1, 0x01])


def add_emulation_prevention(rbsp: bytes) -> bytes:
    """Insert ``0x03`` after every ``00 00`` that is followed by a byte <= 3.

    An RBSP that ends in ``00`` would also need a final ``0x03``; ours always
    end with the ``0x80`` stop bit, so that case is not handled here.
    """
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def remove_emulation_prevention(ebsp: bytes) -> bytes:
    """Drop each ``0x03`` after ``00 00``: the inverse of :func:`add_emulation_prevention`."""
    out = bytearray()
    zeros = 0
    for byte in ebsp:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def build_latency_sei(wallclock: float, codec: VideoCodec) -> bytes:
    """The SEI NAL unit (no start code) stamping ``wallclock`` (Unix seconds).

    The time is rounded to whole microseconds. Raises ``ValueError`` for a
    negative time or one past what 64 bits of microseconds hold.
    """
    return build_latency_sei_micros(round(wallclock * 1_000_000), codec)


def build_latency_sei_micros(micros: int, codec: VideoCodec) -> bytes:
    """Like :func:`build_latency_sei`, with the time already in microseconds since the epoch."""
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError(f"latency SEI time out of range: {micros} µs")
    rbsp = (
        bytes([SEI_USER_DATA_UNREGISTERED, _PAYLOAD_SIZE])
        + LATENCY_SEI_UUID.bytes
        + micros.to_bytes(8, "big")
        + b"\x80"  # rbsp_trailing_bits: the stop bit, then byte alignment
    )
    header = _H264_HEADER if codec is VideoCodec.H264 else _H265_HEADER
    return header + add_emulation_prevention(rbsp)


def parse_latency_sei_micros(nal: bytes, codec: VideoCodec) -> int | None:
    """The stamp in microseconds, or ``None`` when ``nal`` is not our latency SEI.

    ``None`` covers every NAL that is not an SEI of ``codec``, SEI messages of
    other types or UUIDs (x264 writes its own version banner as unregistered
    user data), and truncated messages: a reader measures latency when it can
    and otherwise keeps going.
    """
    if codec is VideoCodec.H264:
        if len(nal) < 1 or nal[0] & 0x1F != H264_NAL_SEI:
            return None
        body = remove_emulation_prevention(nal[1:])
    else:
        if len(nal) < 2 or (nal[0] >> 1) & 0x3F != H265_NAL_PREFIX_SEI:
            return None
        body = remove_emulation_prevention(nal[2:])
    pos = 0
    # sei_rbsp: sei_message()s until the trailing bits (a lone 0x80 byte).
    while pos < len(body) and body[pos] != 0x80:
        payload_type, pos = _read_sei_varint(body, pos)
        payload_size, pos = _read_sei_varint(body, pos)
        if pos < 0 or payload_type < 0 or payload_size < 0:
            return None
        payload = body[pos : pos + payload_size]
        pos += payload_size
        if len(payload) < payload_size:
            return None
        if (
            payload_type == SEI_USER_DATA_UNREGISTERED
            and payload_size >= _PAYLOAD_SIZE
            and payload[:16] == LATENCY_SEI_UUID.bytes
        ):
            return int.from_bytes(payload[16:24], "big")
    return None


def parse_latency_sei(nal: bytes, codec: VideoCodec) -> float | None:
    """The stamp as Unix seconds, or ``None`` (see :func:`parse_latency_sei_micros`)."""
    micros = parse_latency_sei_micros(nal, codec)
    return None if micros is None else micros / 1_000_000


def _read_sei_varint(body: bytes, pos: int) -> tuple[int, int]:
    """Read an SEI payload type or size: a run of 0xFF bytes (255 each) plus a last byte.

    Returns ``(-1, -1)`` when the body ends first.
    """
    value = 0
    while pos < len(body) and body[pos] == 0xFF:
        value += 255
        pos += 1
    if pos >= len(body):
        return -1, -1
    return value + body[pos], pos + 1
