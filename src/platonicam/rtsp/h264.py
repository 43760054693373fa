"""H.264 over RTP (RFC 6184, packetization-mode 1): packetizer and depacketizer.

Sending uses single-NAL packets and FU-A fragments for NAL units larger than
the payload limit (optionally STAP-A for runs of small ones such as SPS + PPS);
receiving also accepts STAP-A. STAP-B, MTAP and FU-B belong to the interleaved
mode 2, which neither our server nor the cameras we ingest use.
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
    "IDR",
    "PPS",
    "SPS",
    "DepacketizedUnit",
    "H264Depacketizer",
    "is_keyframe",
    "nal_type",
    "packetize",
]

IDR: Final = 5
SEI: Final = 6
SPS: Final = 7
PPS: Final = 8
AUD: Final = 9
STAP_A: Final = 24
FU_A: Final = 28
PARAMETER_SET_TYPES: Final = frozenset({SPS, PPS})


def nal_type(nal: bytes) -> int:
    """The ``nal_unit_type`` of a NAL unit (its first byte's low 5 bits)."""
    return nal[0] & 0x1F


def is_keyframe(nal_units: Sequence[bytes]) -> bool:
    """Whether the access unit holds an IDR slice (a decoder can start here)."""
    return any(nal and nal_type(nal) == IDR for nal in nal_units)


class _H264Format(NalPayloadFormat):
    header_size = 1
    fu_overhead = 2

    def aggregation_header(self, nal_units: Sequence[bytes]) -> bytes:
        # F is the OR of the parts' F bits, NRI their maximum (RFC 6184 §5.7.1).
        forbidden = max(n[0] & 0x80 for n in nal_units)
        nri = max(n[0] & 0x60 for n in nal_units)
        return bytes((forbidden | nri | STAP_A,))

    def fragment_header(self, nal: bytes, start: bool, end: bool) -> bytes:
        indicator = (nal[0] & 0xE0) | FU_A
        header = (0x80 if start else 0) | (0x40 if end else 0) | (nal[0] & 0x1F)
        return bytes((indicator, header))


_FORMAT: Final = _H264Format()


def packetize(
    nal_units: Sequence[bytes], max_payload: int = DEFAULT_MAX_PAYLOAD, *, aggregate: bool = False
) -> list[bytes]:
    """The RTP payloads of one access unit, in sending order.

    ``nal_units`` carry no start codes. Every payload is at most ``max_payload``
    bytes; larger NAL units become FU-A fragments. With ``aggregate``, runs of
    small NAL units share STAP-A packets. The last payload ends the access unit:
    send it with the RTP marker bit set. Raises :class:`RtpError` for an empty
    NAL unit or a ``max_payload`` too small to carry data.
    """
    return _FORMAT.packetize(nal_units, max_payload, aggregate=aggregate)


class H264Depacketizer(Depacketizer):
    """Rebuilds H.264 access units (single NAL, STAP-A, FU-A; see :class:`Depacketizer`)."""

    def _payload(self, payload: bytes) -> None:
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            self._single(payload)
        elif kind == STAP_A:
            for nal in split_sizes(payload[1:], "STAP-A"):
                self._single(nal)
        elif kind == FU_A:
            if len(payload) < 3:
                raise RtpError(f"FU-A packet of {len(payload)} bytes carries no data")
            fu = payload[1]
            header = bytes(((payload[0] & 0xE0) | (fu & 0x1F),))
            self._fragment_piece(header, payload[2:], bool(fu & 0x80), bool(fu & 0x40))
        else:
            raise RtpError(f"unsupported H.264 RTP payload type {kind}")
