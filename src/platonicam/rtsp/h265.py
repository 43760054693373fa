"""H.265 over RTP (RFC 7798): packetizer and depacketizer.

Sending uses single-NAL packets and FU fragments (type 49) for NAL units larger
than the payload limit (optionally AP, type 48, for runs of small ones such as
VPS + SPS + PPS). We never send DONL fields (``sprop-max-don-diff`` is 0), and
receiving assumes the same: a stream with DONL would need the SDP to say so.
PACI (type 50) is not supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from platonicam.rtsp._nal import (
    DEFAULT_MAX_PAYLOAD,
    DepacketizedUnit,
    Depacketizer,
    NalPayloadFormat,
    split_sizes,
)
from platonicam.rtsp.errors import RtpError

__all__ = [
    "PPS",
    "SPS",
    "VPS",
    "DepacketizedUnit",
    "H265Depacketizer",
    "is_keyframe",
    "nal_type",
    "packetize",
]

VPS: Final = 32
SPS: Final = 33
PPS: Final = 34
AUD: Final = 35
AP: Final = 48
FU: Final = 49
PARAMETER_SET_TYPES: Final = frozenset({VPS, SPS, PPS})
#: IRAP pictures (BLA, IDR, CRA: types 16–21) are where a decoder can start.
IRAP_TYPES: Final = range(16, 22)


def nal_type(nal: bytes) -> int:
    """The ``nal_unit_type`` of a NAL unit (bits 1–6 of its first byte)."""
    return (nal[0] >> 1) & 0x3F


def is_keyframe(nal_units: Sequence[bytes]) -> bool:
    """Whether the access unit holds an IRAP picture (BLA, IDR or CRA)."""
    return any(nal and nal_type(nal) in IRAP_TYPES for nal in nal_units)


class _H265Format(NalPayloadFormat):
    header_size = 2
    fu_overhead = 3

    def aggregation_header(self, nal_units: Sequence[bytes]) -> bytes:
        # F is the OR of the parts' F bits, LayerId and TID their minimum (RFC 7798 §4.4.2).
        forbidden = max(n[0] & 0x80 for n in nal_units)
        layer = min(((n[0] & 0x01) << 5) | (n[1] >> 3) for n in nal_units)
        tid = min(n[1] & 0x07 for n in nal_units)
        return bytes((forbidden | (AP << 1) | (layer >> 5), ((layer & 0x1F) << 3) | tid))

    def fragment_header(self, nal: bytes, start: bool, end: bool) -> bytes:
        first = (nal[0] & 0x81) | (FU << 1)
        fu = (0x80 if start else 0) | (0x40 if end else 0) | nal_type(nal)
        return bytes((first, nal[1], fu))


_FORMAT: Final = _H265Format()


def packetize(
    nal_units: Sequence[bytes], max_payload: int = DEFAULT_MAX_PAYLOAD, *, aggregate: bool = False
) -> list[bytes]:
    """The RTP payloads of one access unit, in sending order.

    The contract is that of :func:`platonicam.rtsp.h264.packetize`, with FU
    (type 49) fragments and AP (type 48) aggregation.
    """
    return _FORMAT.packetize(nal_units, max_payload, aggregate=aggregate)


class H265Depacketizer(Depacketizer):
    """Rebuilds H.265 access units (single NAL, AP, FU; see :class:`Depacketizer`)."""

    def _payload(self, payload: bytes) -> None:
        if len(payload) < 3:
            raise RtpError(f"H.265 RTP payload of {len(payload)} bytes is too short")
        kind = nal_type(payload)
        if kind < AP:
            self._single(payload)
        elif kind == AP:
            for nal in split_sizes(payload[2:], "AP"):
                if len(nal) < 2:
                    raise RtpError("AP holds a NAL unit shorter than its 2-byte header")
                self._single(nal)
        elif kind == FU:
            fu = payload[2]
            header = bytes(((payload[0] & 0x81) | ((fu & 0x3F) << 1), payload[1]))
            self._fragment_piece(header, payload[3:], bool(fu & 0x80), bool(fu & 0x40))
        else:
            raise RtpError(f"unsupported H.265 RTP payload type {kind}")
