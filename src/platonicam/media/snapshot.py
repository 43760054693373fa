"""Snapshots from the live stream: the latest keyframe decoded with PyAV, as a JPEG.

Strategy: the hub already keeps the newest keyframe access unit and the
description it decodes with, so a snapshot needs no request to the camera and
no decoder running on the hot path. On request, the keyframe (with the
parameter sets in front, in Annex B form) is decoded by FFmpeg's H.264/H.265
decoder and encoded by its MJPEG encoder, in a worker thread so the event loop
never blocks. The JPEG is kept for ``max_age`` seconds: many viewers polling a
snapshot cost one decode per period, and requests that arrive while one is
being made wait for it instead of starting their own.

A keyframe is an IDR (or, for H.265, an IRAP picture), so it decodes alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
import av.video.codeccontext
import av.video.frame

from platonicam.clock import Clock, SystemClock
from platonicam.media.errors import MediaError
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec

__all__ = ["SNAPSHOT_MAX_AGE", "SnapshotCache", "SnapshotError", "keyframe_jpeg"]

#: Seconds a snapshot is served from memory.
SNAPSHOT_MAX_AGE: Final = 1.0
_DECODERS: Final = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}
_START: Final = b"\x00\x00\x00\x01"


class SnapshotError(MediaError):
    """No picture yet, or a keyframe FFmpeg could not decode."""


def keyframe_jpeg(unit: AccessUnit, description: StreamDescription, quality: int = 5) -> bytes:
    """Decode the keyframe ``unit`` and encode it as a baseline JPEG (blocking: call in a thread).

    ``quality`` is MJPEG's qscale (2 best .. 31 worst). Raises
    :class:`SnapshotError` when the unit does not decode to a picture.
    """
    annexb = b"".join(_START + nal for nal in (*description.parameter_sets, *unit.nal_units))
    decoder = av.CodecContext.create(_DECODERS[description.codec], "r")
    assert isinstance(decoder, av.video.codeccontext.VideoCodecContext)
    frames: list[av.video.frame.VideoFrame] = []
    try:
        # One packet holding the whole access unit: no parser needed, nothing held back.
        frames.extend(decoder.decode(av.Packet(annexb)))
        frames.extend(decoder.decode(None))
    except av.FFmpegError as exc:
        raise SnapshotError(f"the keyframe does not decode: {exc}") from None
    if not frames:
        raise SnapshotError("the keyframe decoded to no picture")
    frame = frames[0]
    encoder = av.CodecContext.create("mjpeg", "w")
    assert isinstance(encoder, av.video.codeccontext.VideoCodecContext)
    encoder.width = frame.width
    encoder.height = frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # required by the encoder; one picture, any rate
    encoder.options = {"qscale": str(quality)}
    encoder.qmin = quality
    encoder.qmax = quality
    picture = frame.reformat(format="yuvj420p")
    packets = [*encoder.encode(picture), *encoder.encode(None)]
    if not packets:  # pragma: no cover - MJPEG emits one packet per frame
        raise SnapshotError("the JPEG encoder produced nothing")
    return bytes(packets[0])


@dataclass(frozen=True, slots=True)
class _Cached:
    made_at: float
    jpeg: bytes


class SnapshotCache:
    """JPEGs of one camera's latest keyframe, each kept ``max_age`` seconds."""

    def __init__(self, clock: Clock | None = None, max_age: float = SNAPSHOT_MAX_AGE) -> None:
        self._clock: Clock = clock or SystemClock()
        self.max_age = max_age
        self._cached: _Cached | None = None
        # Requests that arrive during a decode wait for it, then find it cached.
        self._lock = asyncio.Lock()
        self.decodes = 0

    async def jpeg(self, keyframe: tuple[AccessUnit, StreamDescription] | None) -> bytes:
        """The cached JPEG if fresh, else one decoded from ``keyframe`` (the hub's newest).

        Raises :class:`SnapshotError` when there is no keyframe yet or it does not decode.
        """
        async with self._lock:
            now = self._clock.monotonic()
            if self._cached is not None and now - self._cached.made_at < self.max_age:
                return self._cached.jpeg
            if keyframe is None:
                raise SnapshotError("the stream has not sent a keyframe yet")
            unit, description = keyframe
            jpeg = await asyncio.to_thread(keyframe_jpeg, unit, description)
            self.decodes += 1
            self._cached = _Cached(self._clock.monotonic(), jpeg)
            return jpeg
