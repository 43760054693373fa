"""What the media handlers need from the video side: one stream per encoder configuration.

The handlers never touch an encoder. They speak to a :class:`StreamManager`:
``configure`` when an encoder configuration is created or changed (the stream
must then really produce the new resolution, codec, rate and GOP), ``remove``
when it goes, ``snapshot`` for GetSnapshotUri's JPEG, and the RTSP path and
port that GetStreamUri advertises. :class:`TestPatternStreams` is the real
implementation over :class:`platonicam.device.source.TestPatternStream`;
:class:`NullStreams` keeps the bookkeeping without encoding (tests of the SOAP
side, and devices run without video).
"""

from __future__ import annotations

from typing import Protocol

from platonicam.clock import Clock
from platonicam.device.audio import AudioError, AudioSettings
from platonicam.device.metadata import SimulatedAnalytics
from platonicam.device.snapshot import snapshot_jpeg
from platonicam.device.source import EncoderSettings, SourceError, TestPatternStream, VideoProfile
from platonicam.errors import PlatonicamError
from platonicam.onvif.models.media import VideoEncoderConfiguration, VideoEncoding
from platonicam.rtsp.metadata import MetadataSource
from platonicam.rtsp.stream import LiveStream, VideoCodec


class StreamError(PlatonicamError):
    """The video side refused an encoder configuration (the message says why)."""


def profile_path(profile_token: str) -> str:
    """The RTSP path of a media profile's stream (``/profile/<token>``)."""
    return f"/profile/{profile_token}"


class StreamManager(Protocol):
    """One live stream per encoder configuration token."""

    @property
    def rtsp_port(self) -> int:
        """The port the RTSP server listens on (advertised in stream URIs)."""
        ...

    def rtsp_path(self, profile_token: str) -> str:
        """The path of a profile's stream on the RTSP server."""
        ...

    async def configure(self, configuration: VideoEncoderConfiguration) -> None:
        """Create or reconfigure the stream of ``configuration.token``; when this
        returns the stream produces the new settings. Raises :class:`StreamError`."""
        ...

    async def remove(self, encoder_token: str) -> None: ...

    async def snapshot(self, encoder_token: str) -> bytes | None:
        """A JPEG of the stream's current picture, ``None`` when there is none."""
        ...


class NullStreams:
    """Keeps the configurations it was given, encodes nothing. ``configured`` is
    the latest configuration per token (what a real manager would be playing)."""

    def __init__(self, rtsp_port: int = 554) -> None:
        self._port = rtsp_port
        self.configured: dict[str, VideoEncoderConfiguration] = {}

    @property
    def rtsp_port(self) -> int:
        return self._port

    def rtsp_path(self, profile_token: str) -> str:
        return profile_path(profile_token)

    async def configure(self, configuration: VideoEncoderConfiguration) -> None:
        self.configured[configuration.token] = configuration

    async def remove(self, encoder_token: str) -> None:
        self.configured.pop(encoder_token, None)

    async def snapshot(self, encoder_token: str) -> bytes | None:
        return None


def encoder_settings(configuration: VideoEncoderConfiguration) -> EncoderSettings:
    """The :class:`~platonicam.device.source.EncoderSettings` for a configuration.

    Raises :class:`StreamError` for an encoding the test pattern cannot produce
    (only H.264 and H.265 are encoded) or values the encoder refuses.
    """
    codecs = {VideoEncoding.H264: VideoCodec.H264, VideoEncoding.H265: VideoCodec.H265}
    if configuration.encoding not in codecs or configuration.resolution is None:
        raise StreamError(f"encoder {configuration.token!r} needs H264 or H265 and a resolution")
    codec = codecs[configuration.encoding]
    profile = configuration.profile or ("Main" if codec is VideoCodec.H265 else "High")
    try:
        return EncoderSettings(
            codec=codec,
            width=configuration.resolution.width,
            height=configuration.resolution.height,
            fps=configuration.frame_rate_limit or 25.0,
            bitrate_kbps=configuration.bitrate_limit or 2048,
            gop=configuration.gov_length or 50,
            profile=VideoProfile(profile),
        )
    except (SourceError, ValueError) as exc:
        raise StreamError(f"encoder {configuration.token!r}: {exc}") from None


class TestPatternStreams:
    """A :class:`~platonicam.device.source.TestPatternStream` per encoder configuration.

    ``streams`` maps encoder tokens to the live streams, for the RTSP server
    that serves them (it looks profiles up through the device state). Each
    stream has a :class:`~platonicam.device.metadata.SimulatedAnalytics`
    beside it (:meth:`metadata`), mounted as the profile's metadata track.
    With ``audio`` every stream also plays the AAC beep loop of those settings
    (each stream its own player, all sharing one encoded loop).
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        rtsp_port: int,
        *,
        clock: Clock | None = None,
        label: str = "",
        audio: AudioSettings | None = None,
    ) -> None:
        self._port = rtsp_port
        self._clock = clock
        self._label = label
        self._audio = audio
        self._streams: dict[str, TestPatternStream] = {}
        self._analytics: dict[str, SimulatedAnalytics] = {}

    @property
    def rtsp_port(self) -> int:
        return self._port

    def rtsp_path(self, profile_token: str) -> str:
        return profile_path(profile_token)

    @property
    def audio(self) -> AudioSettings | None:
        """The sound every stream plays (``None``: silent streams)."""
        return self._audio

    def stream(self, encoder_token: str) -> LiveStream | None:
        return self._streams.get(encoder_token)

    def metadata(self, encoder_token: str) -> MetadataSource | None:
        """The simulated analytics of an encoder's stream (``None`` without a stream)."""
        stream = self._streams.get(encoder_token)
        if stream is None:
            return None
        analytics = self._analytics.get(encoder_token)
        if analytics is None:
            analytics = SimulatedAnalytics(stream, clock=self._clock)
            self._analytics[encoder_token] = analytics
        return analytics

    async def configure(self, configuration: VideoEncoderConfiguration) -> None:
        settings = encoder_settings(configuration)
        current = self._streams.get(configuration.token)
        label = f"{self._label} {configuration.name}".strip()
        try:
            if current is not None:
                await current.reconfigure(settings)
            else:
                self._streams[configuration.token] = await TestPatternStream.create(
                    settings, label, clock=self._clock, audio=self._audio
                )
        except (SourceError, AudioError) as exc:
            raise StreamError(str(exc)) from None

    async def remove(self, encoder_token: str) -> None:
        stream = self._streams.pop(encoder_token, None)
        if stream is not None:
            stream.close()
        analytics = self._analytics.pop(encoder_token, None)
        if analytics is not None:
            analytics.close()

    async def snapshot(self, encoder_token: str) -> bytes | None:
        stream = self._streams.get(encoder_token)
        if stream is None:
            return None
        return await snapshot_jpeg(stream)

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
        for analytics in self._analytics.values():
            analytics.close()
        self._analytics.clear()
