"""Real H.264/H.265 streams for the media tests, encoded once per run with PyAV (libx264/libx265).

The pictures are a drifting ramp, so the encoder codes real motion. Parameter
sets are split out of the access units (kept only in the description), as the
RTSP ingest delivers them.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import av

from platonicam.rtsp import h264, h265
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, AccessUnit, StreamDescription, VideoCodec


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (3- or 4-byte start codes), without start codes."""
    units = []
    for chunk in data.split(b"\x00\x00\x01"):
        nal = chunk.rstrip(b"\x00")
        if nal:
            units.append(nal)
    return units


@functools.cache
def encode(
    codec: VideoCodec,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    frames: int = 50,
    gop: int = 25,
    profile: str | None = None,
    pix_fmt: str = "yuv420p",
    preset: str = "ultrafast",
) -> tuple[StreamDescription, tuple[AccessUnit, ...]]:
    """(description, access units) of ``frames`` pictures with an IDR every ``gop`` frames."""
    name = "libx264" if codec is VideoCodec.H264 else "libx265"
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width = width
    context.height = height
    context.pix_fmt = pix_fmt
    context.time_base = Fraction(1, fps)
    context.framerate = Fraction(fps, 1)
    context.gop_size = gop
    context.max_b_frames = 0
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
    options = {"preset": preset, "tune": "zerolatency"}
    if profile is not None:
        options["profile"] = profile
    if codec is VideoCodec.H264:
        options["x264-params"] = params
    else:
        options["x265-params"] = params + ":open-gop=0:repeat-headers=1:log-level=error"
    context.options = options
    ramp = bytes(range(256)) * (width // 256 + 4)
    packets = []
    for index in range(frames):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane_index, plane in enumerate(frame.planes):
            size = plane.line_size
            rows_count = height if plane_index == 0 else height // 2
            if plane_index == 0:
                shift = (index * 6) % 256
                rows = [ramp[shift + y % 256 : shift + y % 256 + size] for y in range(rows_count)]
                plane.update(b"".join(rows))
            else:
                plane.update(bytes((64 * plane_index,)) * (size * rows_count))
        if pix_fmt != "yuv420p":
            frame = frame.reformat(format=pix_fmt)
        frame.pts = index
        packets.extend(context.encode(frame))
    packets.extend(context.encode(None))
    module = h264 if codec is VideoCodec.H264 else h265
    parameter_sets: dict[int, bytes] = {}
    units = []
    for index, packet in enumerate(packets):
        nal_units = split_annexb(bytes(packet))
        for nal in nal_units:
            if module.nal_type(nal) in module.PARAMETER_SET_TYPES:
                parameter_sets.setdefault(module.nal_type(nal), nal)
        kept = tuple(n for n in nal_units if module.nal_type(n) not in module.PARAMETER_SET_TYPES)
        units.append(
            AccessUnit(
                nal_units=kept,
                timestamp=index * VIDEO_CLOCK_RATE // fps,
                keyframe=module.is_keyframe(kept),
                wallclock=1_767_323_045.0 + index / fps,
            )
        )
    order = (h264.SPS, h264.PPS) if codec is VideoCodec.H264 else (h265.VPS, h265.SPS, h265.PPS)
    description = StreamDescription(
        codec, width, height, float(fps), tuple(parameter_sets[kind] for kind in order)
    )
    return description, tuple(units)
