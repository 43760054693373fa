"""The device's audio as Media and Media2 describe it: sources, configurations, profiles.

Strategy: the sound is not state. Every stream carries the same AAC beep
(:mod:`platonicam.device.audio`) when the device runs with audio
(``DeviceOptions.audio``), so the audio entities are *derived*, read-only:
per video channel ``n`` one ``AudioSource_n`` (the "microphone"), one
``AudioSourceConfig_n`` and one ``AudioEncoder_n`` (AAC, the settings' bitrate
and rate). A profile that has a video encoder (so a stream) lists its
channel's audio source and encoder configurations; nothing is stored in
``media.yaml``, and the Add/Remove/Set audio operations are not offered (the
sound cannot be changed). Without audio every list is empty.

Media1 writes the encoder as ``tt:AudioEncoderConfiguration`` (``AAC``,
``SampleRate`` in kHz, with the mandatory ``Multicast`` and
``SessionTimeout``); Media2 as ``tt:AudioEncoder2Configuration`` whose
``Encoding`` is the RTP media subtype, ``mpeg4-generic`` (RFC 3640, what the
SDP says).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from lxml import etree

from platonicam.device.audio import AudioSettings
from platonicam.device.faults import DeviceFault, no_config
from platonicam.device.state import DeviceState
from platonicam.onvif.models.media import MediaProfile, MulticastConfiguration
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TR2, TT, local_name, qn
from platonicam.onvif.soap.xmlread import format_duration

Element = etree._Element
Kind = Literal["source", "encoder"]

#: Media1's name of AAC, and Media2's (the RTP media subtype, tt:AudioEncodingMimeNames).
MEDIA1_ENCODING: Final = "AAC"
MEDIA2_ENCODING: Final = "mpeg4-generic"
#: The RTSP session timeout advertised (as for the video encoders).
SESSION_TIMEOUT: Final = timedelta(seconds=60)
_NO_MULTICAST: Final = MulticastConfiguration("0.0.0.0", 0, 1, False)  # noqa: S104 - "unset"


def audio_not_supported() -> DeviceFault:
    """``env:Receiver / ter:ActionNotSupported / ter:AudioNotSupported``."""
    return DeviceFault(
        "the device runs without audio",
        code="Receiver",
        subcodes=("ActionNotSupported", "AudioNotSupported"),
    )


@dataclass(frozen=True, slots=True)
class AudioChannel:
    """The audio of video channel ``number``: its source, source configuration and encoder."""

    number: int
    settings: AudioSettings

    @property
    def source_token(self) -> str:
        return f"AudioSource_{self.number}"

    @property
    def configuration_token(self) -> str:
        return f"AudioSourceConfig_{self.number}"

    @property
    def encoder_token(self) -> str:
        return f"AudioEncoder_{self.number}"

    def token(self, kind: Kind) -> str:
        """The token of its source configuration or of its encoder."""
        return self.encoder_token if kind == "encoder" else self.configuration_token


def audio_channels(state: DeviceState, settings: AudioSettings | None) -> list[AudioChannel]:
    """One per video channel with audio on, none without."""
    if settings is None:
        return []
    return [AudioChannel(n, settings) for n in range(1, state.channels + 1)]


def profile_audio(
    state: DeviceState, profile: MediaProfile, settings: AudioSettings | None
) -> AudioChannel | None:
    """The audio a profile's stream carries: its video source's channel; ``None``
    without audio or without a video encoder (then there is no stream)."""
    if settings is None or profile.video_encoder_configuration is None:
        return None
    number = 1
    source = profile.video_source_configuration
    if source is not None:
        tokens = [s.token for s in state.media.video_sources]
        if source.source_token in tokens:
            number = tokens.index(source.source_token) + 1
    return AudioChannel(number, settings)


def use_counts(state: DeviceState, settings: AudioSettings | None) -> dict[int, int]:
    """How many profiles carry each channel's audio."""
    counts: dict[int, int] = {}
    for profile in state.media.profiles:
        channel = profile_audio(state, profile, settings)
        if channel is not None:
            counts[channel.number] = counts.get(channel.number, 0) + 1
    return counts


def select(
    state: DeviceState,
    settings: AudioSettings | None,
    kind: Kind,
    token: str | None = None,
    profile: MediaProfile | None = None,
) -> list[AudioChannel]:
    """The channels whose ``kind`` configuration is ``token`` (``NoConfig`` when
    none is) and that ``profile`` (resolved) carries, when given."""
    channels = audio_channels(state, settings)
    if profile is not None:
        found = profile_audio(state, profile, settings)
        channels = [found] if found is not None else []
    if token is not None:
        channels = [c for c in channels if c.token(kind) == token]
        if not channels:
            raise no_config(token)
    return channels


# ------------------------------------------------------------------ XML


def write_source(parent: Element, tag: str, channel: AudioChannel) -> Element:
    """A ``tt:AudioSource``: the input and its channel count."""
    node = etree.SubElement(parent, tag, token=channel.source_token)
    sub(node, TT, "Channels", str(channel.settings.channels))
    return node


def write_source_configuration(
    parent: Element, tag: str, channel: AudioChannel, use_count: int
) -> Element:
    """A ``tt:AudioSourceConfiguration``."""
    node = etree.SubElement(parent, tag, token=channel.configuration_token)
    sub(node, TT, "Name", f"Audio source {channel.number}")
    sub(node, TT, "UseCount", str(use_count))
    sub(node, TT, "SourceToken", channel.source_token)
    return node


def write_encoder(
    parent: Element, tag: str, channel: AudioChannel, use_count: int, *, media2: bool
) -> Element:
    """A ``tt:AudioEncoderConfiguration`` (Media1) or ``tt:AudioEncoder2Configuration``."""
    settings = channel.settings
    bitrate, rate = str(settings.bitrate_kbps), str(settings.sample_rate // 1000)
    node = etree.SubElement(parent, tag, token=channel.encoder_token)
    sub(node, TT, "Name", f"AAC {channel.number}")
    sub(node, TT, "UseCount", str(use_count))
    # Media2's tt:AudioEncoder2Configuration has an optional Multicast (left out) before
    # Bitrate; Media1's ends with the mandatory Multicast and SessionTimeout.
    sub(node, TT, "Encoding", MEDIA2_ENCODING if media2 else MEDIA1_ENCODING)
    sub(node, TT, "Bitrate", bitrate)
    sub(node, TT, "SampleRate", rate)
    if not media2:
        _NO_MULTICAST.to_xml(node)
        sub(node, TT, "SessionTimeout", format_duration(SESSION_TIMEOUT))
    return node


def write_configuration(
    kind: Kind, parent: Element, tag: str, channel: AudioChannel, use_count: int, *, media2: bool
) -> Element:
    """The channel's source configuration or its encoder, as ``kind`` says."""
    if kind == "encoder":
        return write_encoder(parent, tag, channel, use_count, media2=media2)
    return write_source_configuration(parent, tag, channel, use_count)


def write_source_options(parent: Element, tag: str, channels: list[AudioChannel]) -> Element:
    """A ``tt:AudioSourceConfigurationOptions``: the sources a configuration can use."""
    node = etree.SubElement(parent, tag)
    for channel in channels:
        sub(node, TT, "InputTokensAvailable", channel.source_token)
    return node


def write_encoder_option(
    parent: Element, tag: str, settings: AudioSettings, *, media2: bool
) -> Element:
    """One ``tt:AudioEncoderConfigurationOption`` (Media1) or
    ``tt:AudioEncoder2ConfigurationOptions`` (Media2): the only values there are."""
    node = etree.SubElement(parent, tag)
    sub(node, TT, "Encoding", MEDIA2_ENCODING if media2 else MEDIA1_ENCODING)
    sub(sub(node, TT, "BitrateList"), TT, "Items", str(settings.bitrate_kbps))
    sub(sub(node, TT, "SampleRateList"), TT, "Items", str(settings.sample_rate // 1000))
    return node


def with_audio(
    state: DeviceState, profile: MediaProfile, settings: AudioSettings | None
) -> MediaProfile:
    """``profile`` referencing its channel's audio configurations (when it carries audio)."""
    channel = profile_audio(state, profile, settings)
    if channel is None:
        return profile
    return dataclasses.replace(
        profile,
        audio_source_configuration_token=channel.configuration_token,
        audio_encoder_configuration_token=channel.encoder_token,
    )


def complete_profile(
    node: Element,
    state: DeviceState,
    profile: MediaProfile,
    settings: AudioSettings | None,
    *,
    media2: bool,
) -> None:
    """Replace the audio references :meth:`MediaProfile.to_xml` wrote in ``node``
    (token-only placeholders) with the full configurations, in place."""
    channel = profile_audio(state, profile, settings)
    if channel is None:
        return
    holder = node.find(qn(TR2, "Configurations")) if media2 else node
    assert holder is not None
    count = use_counts(state, settings).get(channel.number, 0)
    if media2:
        names = ("AudioSource", "AudioEncoder")
    else:
        names = ("AudioSourceConfiguration", "AudioEncoderConfiguration")
    scratch = etree.Element("scratch")
    for placeholder in list(holder):
        name = local_name(placeholder.tag)
        if name == names[0]:
            full = write_source_configuration(scratch, placeholder.tag, channel, count)
        elif name == names[1]:
            full = write_encoder(scratch, placeholder.tag, channel, count, media2=media2)
        else:
            continue
        holder.replace(placeholder, full)
