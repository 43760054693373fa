"""What flows between a video source and the RTSP server: access units and stream descriptions.

A source (the reference device's test-pattern encoder, a file, later a camera
ingest) publishes :class:`AccessUnit` objects; the RTSP server packetizes each
once per RTP payloader and hands the same packets to every client. These types
are pure data: no I/O here.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

#: RTP clock rate of video (RFC 6184 and RFC 7798 both fix it at 90 kHz).
VIDEO_CLOCK_RATE = 90_000


class VideoCodec(enum.StrEnum):
    H264 = "H264"
    H265 = "H265"


@dataclass(frozen=True, slots=True)
class StreamDescription:
    """What a client needs to decode a stream (what DESCRIBE's SDP says).

    ``parameter_sets`` are raw NAL units without start codes: SPS and PPS for
    H.264; VPS, SPS and PPS for H.265. ``generation`` changes whenever the
    encoder is reconfigured, so a server knows old sessions describe an old
    stream.
    """

    codec: VideoCodec
    width: int
    height: int
    fps: float
    parameter_sets: tuple[bytes, ...]
    bitrate_kbps: int | None = None
    generation: int = 0


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One coded picture.

    ``nal_units`` carry no start codes or length prefixes. ``timestamp`` counts
    :data:`VIDEO_CLOCK_RATE` ticks from the stream's start and only grows.
    ``wallclock`` is the Unix time at which the unit was produced (it also rides
    in an SEI message, so gateways and players can measure latency).
    """

    nal_units: tuple[bytes, ...]
    timestamp: int
    keyframe: bool
    wallclock: float
    generation: int = 0
    extras: dict[str, str] = field(default_factory=dict, compare=False)


class LiveStream(Protocol):
    """A live video stream that many consumers share.

    ``description`` is the current description. ``subscribe()`` yields access
    units from the next keyframe on (each subscriber gets every unit after that,
    dropping to the next keyframe if it falls behind), and ends when the stream
    is closed.
    """

    @property
    def description(self) -> StreamDescription: ...

    def subscribe(self) -> AsyncIterator[AccessUnit]: ...
