"""A test LiveStream: a short moving pattern encoded once with PyAV, replayed in real time.

The encoder runs once per (codec, size, rate) and its access units are cached
for the whole test run; every subscriber then gets them paced at ``fps`` on a
shared clock, starting at the next keyframe, as a live camera would. The
parameter sets are taken out of the access units and kept only in the
description, so the server's in-band insertion before each keyframe is what
lets a decoder start.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from fractions import Fraction

import av

from platonicam.rtsp import h264, h265
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, AccessUnit, StreamDescription, VideoCodec

EncodedUnit = tuple[tuple[bytes, ...], bool]


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (3- or 4-byte start codes), without start codes."""
    units = []
    for chunk in data.split(b"\x00\x00\x01"):
        nal = chunk.rstrip(b"\x00")
        if nal:
            units.append(nal)
    return units


@functools.cache
def encode_pattern(
    codec: VideoCodec, width: int, height: int, fps: int, frames: int
) -> tuple[tuple[bytes, ...], tuple[EncodedUnit, ...]]:
    """(parameter sets, access units) of ``frames`` pattern pictures, a keyframe every second."""
    name = "libx264" if codec is VideoCodec.H264 else "libx265"
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width = width
    context.height = height
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, fps)
    context.framerate = Fraction(fps, 1)
    context.gop_size = fps
    context.max_b_frames = 0
    if codec is VideoCodec.H264:
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0",
        }
    else:
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x265-params": (
                f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0:open-gop=0:"
                "repeat-headers=1:log-level=error"
            ),
        }
    ramp = bytes(range(256)) * 8
    packets = []
    for index in range(frames):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane_index, plane in enumerate(frame.planes):
            size = plane.line_size
            if plane_index == 0:
                # Diagonal bands that drift every frame: motion the encoder must code.
                shift = (index * 6) % 256
                rows = [ramp[shift + y % 256 : shift + y % 256 + size] for y in range(height)]
                plane.update(b"".join(rows))
            else:
                plane.update(bytes((64 * plane_index,)) * (size * (height // 2)))
        frame.pts = index
        packets.extend(context.encode(frame))
    packets.extend(context.encode(None))
    parameter_sets: dict[int, bytes] = {}
    units: list[EncodedUnit] = []
    module = h264 if codec is VideoCodec.H264 else h265
    for packet in packets:
        nal_units = split_annexb(bytes(packet))
        for nal in nal_units:
            if module.nal_type(nal) in module.PARAMETER_SET_TYPES:
                parameter_sets.setdefault(module.nal_type(nal), nal)
        kept = tuple(n for n in nal_units if module.nal_type(n) not in module.PARAMETER_SET_TYPES)
        units.append((kept, module.is_keyframe(kept)))
    assert units[0][1], "the pattern must start with a keyframe"
    order = (h264.SPS, h264.PPS) if codec is VideoCodec.H264 else (h265.VPS, h265.SPS, h265.PPS)
    return tuple(parameter_sets[kind] for kind in order), tuple(units)


class PatternStream:
    """A :class:`~platonicam.rtsp.stream.LiveStream` for tests; counts its subscriptions."""

    def __init__(
        self,
        codec: VideoCodec = VideoCodec.H264,
        *,
        width: int = 320,
        height: int = 240,
        fps: int = 25,
        seconds: int = 2,
    ) -> None:
        self.fps = fps
        parameter_sets, self._units = encode_pattern(codec, width, height, fps, fps * seconds)
        self._description = StreamDescription(codec, width, height, float(fps), parameter_sets)
        self.subscriptions = 0
        self.active = 0
        self._epoch: float | None = None
        self._closed = False

    @property
    def description(self) -> StreamDescription:
        return self._description

    def reconfigure(self) -> None:
        """Pretend the encoder was reconfigured: a new generation, same pictures."""
        self._description = replace(self._description, generation=self._description.generation + 1)

    def close(self) -> None:
        self._closed = True

    async def subscribe(self) -> AsyncIterator[AccessUnit]:
        self.subscriptions += 1
        self.active += 1
        try:
            loop = asyncio.get_running_loop()
            if self._epoch is None:
                self._epoch = loop.time()
            index = math.ceil((loop.time() - self._epoch) * self.fps)
            while not self._units[index % len(self._units)][1]:
                index += 1
            while not self._closed:
                delay = self._epoch + index / self.fps - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                nal_units, keyframe = self._units[index % len(self._units)]
                yield AccessUnit(
                    nal_units=nal_units,
                    timestamp=index * VIDEO_CLOCK_RATE // self.fps,
                    keyframe=keyframe,
                    wallclock=time.time(),
                    generation=self._description.generation,
                )
                index += 1
        finally:
            self.active -= 1
