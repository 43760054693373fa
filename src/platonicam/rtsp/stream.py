"""What flows between a source and the RTSP server or the media hub: access units, AAC
frames and their descriptions.

A source (the reference device's test-pattern encoder, a file, a camera ingest)
publishes :class:`AccessUnit` objects, and :class:`AudioFrame` objects when it
has sound (:class:`AudioStream`); the RTSP server packetizes each once per RTP
payloader and hands the same packets to every client. These types are pure
data: no I/O here.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class AudioDescription:
    """An AAC track (RFC 3640 ``mpeg4-generic``): what SDP and an fMP4 ``mp4a`` box need.

    ``config`` is the AudioSpecificConfig (the SDP's ``config=`` parameter);
    ``sample_rate`` is in Hz and is also the RTP clock rate.
    """

    codec: str
    sample_rate: int
    channels: int
    config: bytes


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """One AAC frame (raw, without ADTS header), 1024 samples of AAC-LC.

    ``timestamp`` counts ``sample_rate`` ticks from the track's start (a camera's
    first packet; it may jump when the source restarts); ``wallclock`` is the
    Unix time of its first sample.
    """

    data: bytes
    timestamp: int
    wallclock: float


@runtime_checkable
class AudioStream(Protocol):
    """A live stream that may also carry AAC audio.

    ``audio`` describes the current track (``None`` without one); ``subscribe_audio()``
    yields its frames as they come, and ends when the stream is closed. Subscribing
    to the audio does not by itself keep a camera connected: the video does.
    """

    @property
    def audio(self) -> AudioDescription | None: ...

    def subscribe_audio(self) -> AsyncIterator[AudioFrame]: ...
