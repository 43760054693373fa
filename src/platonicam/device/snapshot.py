"""JPEG snapshots of a device stream's current frame (what GetSnapshotUri serves).

Strategy: decode the current GOP (from its keyframe up to the current frame)
with PyAV in a worker thread, encode the last picture as a JPEG, and keep it
for a moment (``max_age``, 1 s by default): snapshot clients poll, and a
burst of requests should cost one decode, not one each.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import av

from platonicam.device.source import SourceError, video_codec_context
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec

_START_CODE = b"\x00\x00\x00\x01"


class SnapshotSource(Protocol):
    """A stream that can hand out the units of its current GOP (both device sources can)."""

    @property
    def description(self) -> StreamDescription: ...

    def current_gop(self) -> Sequence[AccessUnit]: ...


@dataclass(frozen=True, slots=True)
class _Cached:
    made_at: float
    quality: int
    generation: int
    jpeg: bytes


_cache: weakref.WeakKeyDictionary[SnapshotSource, _Cached] = weakref.WeakKeyDictionary()


def jpeg_qscale(quality: int) -> int:
    """Map a JPEG quality percentage (1 worst .. 100 best) to FFmpeg's qscale (31 .. 2)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality {quality} is not in 1..100")
    return round(2 + (100 - quality) * 29 / 99)


def encode_jpeg(description: StreamDescription, units: Sequence[AccessUnit], quality: int) -> bytes:
    """Decode ``units`` (a GOP, keyframe first) and JPEG-encode the last picture.

    Blocking (run it in a thread). Raises :class:`SourceError` when nothing
    decodes, ``ValueError`` for a quality outside 1..100.
    """
    qscale = jpeg_qscale(quality)
    try:
        decoder = video_codec_context(
            "h264" if description.codec is VideoCodec.H264 else "hevc", "r"
        )
        pictures = []
        # Parameter sets first: a unit from a source without in-band headers still decodes.
        head = b"".join(_START_CODE + nal for nal in description.parameter_sets)
        for index, unit in enumerate(units):
            data = b"".join(_START_CODE + nal for nal in unit.nal_units)
            pictures.extend(decoder.decode(av.Packet(head + data if index == 0 else data)))
        pictures.extend(decoder.decode(None))
        if not pictures:
            raise SourceError("no picture decoded for the snapshot")
        picture = pictures[-1].reformat(format="yuvj420p")
        encoder = video_codec_context("mjpeg", "w")
        encoder.width, encoder.height = picture.width, picture.height
        encoder.pix_fmt = "yuvj420p"
        encoder.time_base = Fraction(1, 25)  # one still picture: any rate will do
        # A fixed quantiser (qmin = qmax) is how FFmpeg's mjpeg encoder takes a quality.
        encoder.qmin = encoder.qmax = qscale
        packets = encoder.encode(picture) + encoder.encode(None)
    except av.FFmpegError as exc:
        raise SourceError(f"snapshot failed: {exc}") from exc
    return b"".join(bytes(packet) for packet in packets)


async def snapshot_jpeg(
    stream: SnapshotSource, quality: int = 85, *, max_age: float = 1.0
) -> bytes:
    """A JPEG of ``stream``'s current frame, at most ``max_age`` seconds old.

    ``quality`` is a JPEG percentage (1..100). A cached image is reused while
    it is younger than ``max_age``, has the same quality and the stream has not
    been reconfigured since. Raises :class:`SourceError` or ``ValueError``.
    """
    now = asyncio.get_running_loop().time()
    description = stream.description
    cached = _cache.get(stream)
    if (
        cached is not None
        and now - cached.made_at < max_age
        and cached.quality == quality
        and cached.generation == description.generation
    ):
        return cached.jpeg
    units = tuple(stream.current_gop())
    jpeg = await asyncio.to_thread(encode_jpeg, description, units, quality)
    _cache[stream] = _Cached(now, quality, description.generation, jpeg)
    return jpeg
