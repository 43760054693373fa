"""Media service, ver10 (``trt``) handlers, and the media logic Media2 shares.

Strategy: ``media.yaml`` holds the encoder and source configurations once; a
profile's embedded copies are refreshed from them whenever a profile is
answered (:func:`resolved_profile`), so a changed encoder shows in every
profile that uses it, with use counts computed, not stored.

Encoder changes are checked against the *same*
:class:`~platonicam.onvif.models.media.VideoEncoderConfigurationOptions` that
GetVideoEncoderConfigurationOptions answers (through its ``check``), handed to
the stream manager (the video really changes) and only then stored. ver10
cannot carry H.265, so Media lists only the profiles and encoders that are
not H.265; Media2 lists everything.

The audio (sources, configurations, the profiles' references to them) is
derived from ``DeviceOptions.audio``, not stored: see
:mod:`platonicam.device.handlers.audio`.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import weakref
from collections.abc import Callable, Hashable
from typing import Final

from lxml import etree

from platonicam.device.faults import (
    DeviceFault,
    config_modify,
    invalid_arg,
    no_config,
    no_profile,
)
from platonicam.device.handlers import audio
from platonicam.device.handlers.base import Registry, Request, arg, optional_arg, require_child
from platonicam.device.handlers.ptz import ptz_configuration
from platonicam.device.paths import snapshot_path
from platonicam.device.security import AccessClass
from platonicam.device.state import DeviceState
from platonicam.device.streams import StreamError
from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.common import FloatRange, IntRange, Resolution
from platonicam.onvif.models.media import (
    EncodingOptions,
    MediaProfile,
    SnapshotUri,
    StreamUri,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
)
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TR2, TRT, TT, local_name, namespace_of, qn

registry = Registry(TRT)
Element = etree._Element

MAX_PROFILES: Final = 24
RESOLUTIONS: Final = (
    Resolution(1920, 1080),
    Resolution(1280, 720),
    Resolution(640, 360),
    Resolution(320, 180),
)
_FRAME_RATES: Final = tuple(float(n) for n in range(1, 31))

H264_OPTIONS: Final = EncodingOptions(
    encoding=VideoEncoding.H264,
    resolutions=RESOLUTIONS,
    quality_range=FloatRange(0, 100),
    frame_rate_range=FloatRange(1, 30),
    frame_rates=_FRAME_RATES,
    encoding_interval_range=IntRange(1, 1),
    bitrate_range=IntRange(64, 16384),
    gov_length_range=IntRange(1, 300),
    profiles=("Baseline", "Main", "High"),
)
H265_OPTIONS: Final = EncodingOptions(
    encoding=VideoEncoding.H265,
    resolutions=RESOLUTIONS,
    quality_range=FloatRange(0, 100),
    frame_rate_range=FloatRange(1, 30),
    frame_rates=_FRAME_RATES,
    bitrate_range=IntRange(64, 16384),
    gov_length_range=IntRange(1, 300),
    profiles=("Main", "Main10"),
)


def encoder_options(*, media2: bool) -> VideoEncoderConfigurationOptions:
    """What SetVideoEncoderConfiguration accepts (ver10 has no H.265)."""
    encodings = (H264_OPTIONS, H265_OPTIONS) if media2 else (H264_OPTIONS,)
    return VideoEncoderConfigurationOptions(encodings, guaranteed_frame_rate_supported=False)


def visible(profile: MediaProfile, *, media2: bool) -> bool:
    encoder = profile.video_encoder_configuration
    return media2 or encoder is None or encoder.encoding is not VideoEncoding.H265


# ------------------------------------------------------------------ profile plumbing


def _use_counts(state: DeviceState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for profile in state.media.profiles:
        for configuration in (
            profile.video_encoder_configuration,
            profile.video_source_configuration,
        ):
            if configuration is not None:
                counts[configuration.token] = counts.get(configuration.token, 0) + 1
    return counts


def current_encoder(state: DeviceState, token: str) -> VideoEncoderConfiguration:
    encoder = state.encoder(token)
    if encoder is None:
        raise no_config(token)
    return dataclasses.replace(encoder, use_count=_use_counts(state).get(token, 0))


def encoders(state: DeviceState) -> list[VideoEncoderConfiguration]:
    counts = _use_counts(state)
    return [
        dataclasses.replace(e, use_count=counts.get(e.token, 0))
        for e in state.media.video_encoder_configurations
    ]


def resolved_profile(state: DeviceState, profile: MediaProfile) -> MediaProfile:
    """``profile`` with its configurations as they are now (and their use counts)."""
    counts = _use_counts(state)
    encoder = profile.video_encoder_configuration
    source = profile.video_source_configuration
    fresh_encoder = state.encoder(encoder.token) if encoder is not None else None
    fresh_source = state.source_configuration(source.token) if source is not None else None
    return dataclasses.replace(
        profile,
        video_encoder_configuration=(
            dataclasses.replace(fresh_encoder, use_count=counts.get(fresh_encoder.token, 0))
            if fresh_encoder is not None
            else None
        ),
        video_source_configuration=(
            dataclasses.replace(fresh_source, use_count=counts.get(fresh_source.token, 0))
            if fresh_source is not None
            else None
        ),
    )


def find_profile(state: DeviceState, token: str, *, media2: bool) -> MediaProfile:
    profile = state.profile(token)
    if profile is None or not visible(profile, media2=media2):
        raise no_profile(token)
    return profile


def write_profile(
    request: Request, parent: Element, profile: MediaProfile, tag: str | None, *, media2: bool
) -> Element:
    """Serialise a profile, with its PTZ and audio configurations in full (the
    model writes only the token of configurations other services own)."""
    state = request.device.state
    sound = request.device.options.audio
    resolved = audio.with_audio(state, resolved_profile(state, profile), sound)
    node = resolved.to_xml(parent, tag, media2=media2)
    audio.complete_profile(node, state, resolved, sound, media2=media2)
    if profile.ptz_configuration_token is not None:
        holder = node.find(qn(TR2, "Configurations")) if media2 else node
        assert holder is not None
        for index, existing in enumerate(list(holder)):
            if local_name(existing.tag) in ("PTZConfiguration", "PTZ"):
                configuration = ptz_configuration(state, profile.ptz_configuration_token)
                if configuration is not None:
                    full = configuration.to_xml(
                        holder, local_name(existing.tag), namespace_of(existing.tag) or TT
                    )
                    holder.remove(existing)
                    holder.remove(full)
                    holder.insert(index, full)
    return node


class _ProfilesCache:
    """Profile answers already built, valid while the media state equals ``inputs``.

    ``inputs`` holds *copies* of the four media lists a profile answer is made
    from (profiles, encoder and source configurations, video sources: the PTZ
    configuration is derived from the channel count and the profiles). Comparing
    them with the state's lists is one C-level pass over identical objects in the
    common case, and it catches every way the answer can change: lists replaced
    and saved, appended to in place (:func:`create_profile`), or edited by a test
    without :meth:`DeviceState.save`. Checking by value rather than through the
    state's single ``on_change`` hook (which the runtime owns) means no state
    change can be missed, however it was made.
    """

    __slots__ = ("answers", "inputs")

    def __init__(self) -> None:
        self.inputs: tuple[list[object], ...] = ()
        self.answers: dict[Hashable, Element] = {}


_profile_caches: weakref.WeakKeyDictionary[DeviceState, _ProfilesCache] = (
    weakref.WeakKeyDictionary()
)


def _media_inputs(state: DeviceState) -> tuple[list[object], ...]:
    media = state.media
    return (
        list(media.profiles),
        list(media.video_encoder_configurations),
        list(media.video_source_configurations),
        list(media.video_sources),
    )


def cached_profiles_answer(
    state: DeviceState, key: Hashable, build: Callable[[], Element]
) -> Element:
    """The answer ``build()`` makes for ``key``, built once per media state.

    Building GetProfiles' answer (about 60 elements per profile through the
    models' ``to_xml``) was most of its cost; the answer depends only on the
    media state, so it is built once and each call gets a deep copy (lxml copies
    in C; the caller's envelope takes ownership of the copy). ``key`` names the
    variant (service version and request options). ``build`` must read nothing
    but ``state.media``; what it raises propagates and nothing is cached.
    """
    cache = _profile_caches.get(state)
    if cache is None:
        cache = _profile_caches[state] = _ProfilesCache()
    media = state.media
    if (
        len(cache.inputs) != 4
        or cache.inputs[0] != media.profiles
        or cache.inputs[1] != media.video_encoder_configurations
        or cache.inputs[2] != media.video_source_configurations
        or cache.inputs[3] != media.video_sources
    ):
        cache.inputs = _media_inputs(state)
        cache.answers.clear()
    answer = cache.answers.get(key)
    if answer is None:
        answer = cache.answers[key] = build()
    return copy.deepcopy(answer)


def replace_profile(state: DeviceState, profile: MediaProfile) -> None:
    state.media.profiles = [
        profile if p.token == profile.token else p for p in state.media.profiles
    ]
    state.save("media")


def new_profile_token(state: DeviceState) -> str:
    taken = {p.token for p in state.media.profiles}
    return next(f"Profile_{n}" for n in itertools.count(1) if f"Profile_{n}" not in taken)


def create_profile(state: DeviceState, name: str, token: str | None) -> MediaProfile:
    if len(state.media.profiles) >= MAX_PROFILES:
        raise DeviceFault(
            f"the device holds at most {MAX_PROFILES} profiles",
            code="Receiver",
            subcodes=("Action", "MaxNVTProfiles"),
        )
    if token is not None and state.profile(token) is not None:
        raise invalid_arg(f"profile {token!r} exists already", "ProfileExists")
    profile = MediaProfile(token=token or new_profile_token(state), name=name, fixed=False)
    state.media.profiles.append(profile)
    state.save("media")
    return profile


def delete_profile(state: DeviceState, token: str, *, media2: bool) -> None:
    profile = find_profile(state, token, media2=media2)
    if profile.fixed:
        raise DeviceFault(
            f"profile {token!r} is fixed", subcodes=("Action", "DeletionOfFixedProfile")
        )
    state.media.profiles = [p for p in state.media.profiles if p.token != token]
    state.save("media")


def attach(
    state: DeviceState, profile_token: str, kind: str, token: str | None, *, media2: bool
) -> None:
    """Add (``token`` set) or remove (``None``) a configuration of ``kind``
    (``VideoEncoder``, ``VideoSource``, ``PTZ``) to a profile."""
    profile = find_profile(state, profile_token, media2=media2)
    if kind == "VideoEncoder":
        encoder = None
        if token is not None:
            encoder = state.encoder(token)
            if encoder is None or not visible(
                MediaProfile("", "", video_encoder_configuration=encoder), media2=media2
            ):
                raise no_config(token)
        profile = dataclasses.replace(profile, video_encoder_configuration=encoder)
    elif kind == "VideoSource":
        source = None
        if token is not None:
            source = state.source_configuration(token)
            if source is None:
                raise no_config(token)
        profile = dataclasses.replace(profile, video_source_configuration=source)
    elif kind == "PTZ":
        if token is not None and ptz_configuration(state, token) is None:
            raise no_config(token)
        profile = dataclasses.replace(profile, ptz_configuration_token=token)
    else:
        raise invalid_arg(f"configurations of type {kind!r} are not supported here")
    replace_profile(state, profile)


async def set_encoder(
    request: Request, requested: VideoEncoderConfiguration, *, media2: bool
) -> None:
    """Check ``requested`` against the advertised options, reconfigure its stream,
    store it. Fields the request leaves out keep their values."""
    state = request.device.state
    current = state.encoder(requested.token)
    if current is None or (not media2 and current.encoding is VideoEncoding.H265):
        raise no_config(requested.token)
    changes = {
        f.name: getattr(requested, f.name)
        for f in dataclasses.fields(requested)
        if f.name not in ("token", "use_count") and getattr(requested, f.name) is not None
    }
    if not requested.name:
        changes.pop("name", None)
    merged = dataclasses.replace(current, **changes)
    if merged.encoding is VideoEncoding.H265 and merged.profile in ("Baseline", "High"):
        merged = dataclasses.replace(merged, profile="Main")
    try:
        encoder_options(media2=media2).check(merged)
    except LocalProtocolError as exc:
        raise config_modify(str(exc)) from None
    if merged == current:
        return
    try:
        await request.device.streams.configure(merged)
    except StreamError as exc:
        raise config_modify(f"the encoder refused the change: {exc}") from None
    state.media.video_encoder_configurations = [
        merged if e.token == merged.token else e for e in state.media.video_encoder_configurations
    ]
    state.save("media")


def stream_uri(request: Request, profile: MediaProfile) -> str:
    streams = request.device.streams
    return f"rtsp://{request.host}:{streams.rtsp_port}{streams.rtsp_path(profile.token)}"


def snapshot_uri(request: Request, profile: MediaProfile) -> str:
    return request.url(snapshot_path(profile.token))


# ------------------------------------------------------------------ handlers


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    response = registry.response("GetServiceCapabilities")
    capabilities = sub(
        response,
        TRT,
        "Capabilities",
        SnapshotUri="true",
        Rotation="false",
        VideoSourceMode="false",
        OSD="false",
    )
    sub(capabilities, TRT, "ProfileCapabilities", MaximumNumberOfProfiles=str(MAX_PROFILES))
    sub(
        capabilities,
        TRT,
        "StreamingCapabilities",
        RTPMulticast="false",
        RTP_TCP="true",
        RTP_RTSP_TCP="true",
        NonAggregateControl="false",
    )
    return response


@registry.op("GetProfiles", AccessClass.READ_MEDIA)
async def get_profiles(request: Request, payload: Element) -> Element:
    # Profiles carry no URI, so the answer is the same whatever host the client
    # used: one cached answer per media state (see cached_profiles_answer).
    def build() -> Element:
        response = registry.response("GetProfiles")
        for profile in request.device.state.media.profiles:
            if visible(profile, media2=False):
                write_profile(request, response, profile, None, media2=False)
        return response

    key = (TRT, "GetProfiles", request.device.options.audio)
    return cached_profiles_answer(request.device.state, key, build)


@registry.op("GetProfile", AccessClass.READ_MEDIA)
async def get_profile(request: Request, payload: Element) -> Element:
    profile = find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    response = registry.response("GetProfile")
    write_profile(request, response, profile, qn(TRT, "Profile"), media2=False)
    return response


@registry.op("CreateProfile", AccessClass.ACTUATE)
async def create_profile_handler(request: Request, payload: Element) -> Element:
    profile = create_profile(
        request.device.state, arg(payload, "Name"), optional_arg(payload, "Token")
    )
    response = registry.response("CreateProfile")
    write_profile(request, response, profile, qn(TRT, "Profile"), media2=False)
    return response


@registry.op("DeleteProfile", AccessClass.ACTUATE)
async def delete_profile_handler(request: Request, payload: Element) -> Element:
    delete_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    return registry.response("DeleteProfile")


def _attach_op(name: str, kind: str, add: bool) -> None:
    async def handler(request: Request, payload: Element) -> Element:
        token = arg(payload, "ConfigurationToken") if add else None
        attach(request.device.state, arg(payload, "ProfileToken"), kind, token, media2=False)
        return registry.response(name)

    registry.op(name, AccessClass.ACTUATE)(handler)


_attach_op("AddVideoEncoderConfiguration", "VideoEncoder", True)
_attach_op("RemoveVideoEncoderConfiguration", "VideoEncoder", False)
_attach_op("AddVideoSourceConfiguration", "VideoSource", True)
_attach_op("RemoveVideoSourceConfiguration", "VideoSource", False)
_attach_op("AddPTZConfiguration", "PTZ", True)
_attach_op("RemovePTZConfiguration", "PTZ", False)


@registry.op("GetVideoSources", AccessClass.READ_MEDIA)
async def get_video_sources(request: Request, payload: Element) -> Element:
    response = registry.response("GetVideoSources")
    for source in request.device.state.media.video_sources:
        source.to_xml(response)
    return response


def _source_configurations(request: Request, response: Element, tag: str) -> Element:
    counts = _use_counts(request.device.state)
    for configuration in request.device.state.media.video_source_configurations:
        dataclasses.replace(configuration, use_count=counts.get(configuration.token, 0)).to_xml(
            response, tag
        )
    return response


@registry.op("GetVideoSourceConfigurations", AccessClass.READ_MEDIA)
async def get_video_source_configurations(request: Request, payload: Element) -> Element:
    response = registry.response("GetVideoSourceConfigurations")
    return _source_configurations(request, response, qn(TRT, "Configurations"))


@registry.op("GetCompatibleVideoSourceConfigurations", AccessClass.READ_MEDIA)
async def get_compatible_video_source_configurations(request: Request, payload: Element) -> Element:
    find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    response = registry.response("GetCompatibleVideoSourceConfigurations")
    return _source_configurations(request, response, qn(TRT, "Configurations"))


@registry.op("GetVideoSourceConfiguration", AccessClass.READ_MEDIA)
async def get_video_source_configuration(request: Request, payload: Element) -> Element:
    token = arg(payload, "ConfigurationToken")
    configuration = request.device.state.source_configuration(token)
    if configuration is None:
        raise no_config(token)
    response = registry.response("GetVideoSourceConfiguration")
    counts = _use_counts(request.device.state)
    dataclasses.replace(configuration, use_count=counts.get(token, 0)).to_xml(
        response, qn(TRT, "Configuration")
    )
    return response


def _encoders_v10(request: Request) -> list[VideoEncoderConfiguration]:
    return [e for e in encoders(request.device.state) if e.encoding is not VideoEncoding.H265]


@registry.op("GetVideoEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_video_encoder_configurations(request: Request, payload: Element) -> Element:
    response = registry.response("GetVideoEncoderConfigurations")
    for encoder in _encoders_v10(request):
        encoder.to_xml(response, qn(TRT, "Configurations"))
    return response


@registry.op("GetCompatibleVideoEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_compatible_video_encoder_configurations(
    request: Request, payload: Element
) -> Element:
    find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    response = registry.response("GetCompatibleVideoEncoderConfigurations")
    for encoder in _encoders_v10(request):
        encoder.to_xml(response, qn(TRT, "Configurations"))
    return response


@registry.op("GetVideoEncoderConfiguration", AccessClass.READ_MEDIA)
async def get_video_encoder_configuration(request: Request, payload: Element) -> Element:
    token = arg(payload, "ConfigurationToken")
    encoder = current_encoder(request.device.state, token)
    if encoder.encoding is VideoEncoding.H265:
        raise no_config(token)
    response = registry.response("GetVideoEncoderConfiguration")
    encoder.to_xml(response, qn(TRT, "Configuration"))
    return response


@registry.op("GetVideoEncoderConfigurationOptions", AccessClass.READ_MEDIA)
async def get_video_encoder_configuration_options(request: Request, payload: Element) -> Element:
    state = request.device.state
    configuration_token = optional_arg(payload, "ConfigurationToken")
    profile_token = optional_arg(payload, "ProfileToken")
    if configuration_token is not None:
        current_encoder(state, configuration_token)
    if profile_token is not None:
        find_profile(state, profile_token, media2=False)
    response = registry.response("GetVideoEncoderConfigurationOptions")
    encoder_options(media2=False).to_xml(response)
    return response


@registry.op("SetVideoEncoderConfiguration", AccessClass.ACTUATE)
async def set_video_encoder_configuration(request: Request, payload: Element) -> Element:
    configuration = VideoEncoderConfiguration.from_xml(require_child(payload, "Configuration"))
    await set_encoder(request, configuration, media2=False)
    return registry.response("SetVideoEncoderConfiguration")


@registry.op("GetStreamUri", AccessClass.READ_MEDIA)
async def get_stream_uri(request: Request, payload: Element) -> Element:
    profile = find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    stream = (payload.findtext(f".//{{{TT}}}Stream") or "RTP-Unicast").strip()
    if stream == "RTP-Multicast":
        raise invalid_arg("multicast streaming is not offered", "InvalidStreamSetup")
    response = registry.response("GetStreamUri")
    StreamUri(stream_uri(request, profile)).to_xml(response)
    return response


@registry.op("GetSnapshotUri", AccessClass.READ_MEDIA)
async def get_snapshot_uri(request: Request, payload: Element) -> Element:
    profile = find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    response = registry.response("GetSnapshotUri")
    SnapshotUri(snapshot_uri(request, profile)).to_xml(response)
    return response


# ------------------------------------------------------------------ audio (read-only)


def _audio_channels(request: Request) -> list[audio.AudioChannel]:
    return audio.audio_channels(request.device.state, request.device.options.audio)


def _audio_configuration(
    request: Request, payload: Element, kind: audio.Kind
) -> audio.AudioChannel:
    """The channel whose ``kind`` configuration is the ``ConfigurationToken`` asked for."""
    state, sound = request.device.state, request.device.options.audio
    (channel,) = audio.select(state, sound, kind, arg(payload, "ConfigurationToken"))
    return channel


def _audio_configurations(
    request: Request,
    name: str,
    kind: audio.Kind,
    channels: list[audio.AudioChannel],
    element: str = "Configurations",
) -> Element:
    """The ``name`` response with ``channels``' ``kind`` configurations as ``element``."""
    counts = audio.use_counts(request.device.state, request.device.options.audio)
    response = registry.response(name)
    tag = qn(TRT, element)
    for channel in channels:
        audio.write_configuration(
            kind, response, tag, channel, counts.get(channel.number, 0), media2=False
        )
    return response


@registry.op("GetAudioSources", AccessClass.READ_MEDIA)
async def get_audio_sources(request: Request, payload: Element) -> Element:
    response = registry.response("GetAudioSources")
    for channel in _audio_channels(request):
        audio.write_source(response, qn(TRT, "AudioSources"), channel)
    return response


@registry.op("GetAudioSourceConfigurations", AccessClass.READ_MEDIA)
async def get_audio_source_configurations(request: Request, payload: Element) -> Element:
    return _audio_configurations(
        request, "GetAudioSourceConfigurations", "source", _audio_channels(request)
    )


@registry.op("GetCompatibleAudioSourceConfigurations", AccessClass.READ_MEDIA)
async def get_compatible_audio_source_configurations(request: Request, payload: Element) -> Element:
    find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    return _audio_configurations(
        request, "GetCompatibleAudioSourceConfigurations", "source", _audio_channels(request)
    )


@registry.op("GetAudioSourceConfiguration", AccessClass.READ_MEDIA)
async def get_audio_source_configuration(request: Request, payload: Element) -> Element:
    channel = _audio_configuration(request, payload, "source")
    return _audio_configurations(
        request, "GetAudioSourceConfiguration", "source", [channel], "Configuration"
    )


@registry.op("GetAudioSourceConfigurationOptions", AccessClass.READ_MEDIA)
async def get_audio_source_configuration_options(request: Request, payload: Element) -> Element:
    channels = _audio_channels(request)
    if not channels:
        raise audio.audio_not_supported()
    if optional_arg(payload, "ConfigurationToken") is not None:
        channels = [_audio_configuration(request, payload, "source")]
    if (profile := optional_arg(payload, "ProfileToken")) is not None:
        find_profile(request.device.state, profile, media2=False)
    response = registry.response("GetAudioSourceConfigurationOptions")
    audio.write_source_options(response, qn(TRT, "Options"), channels)
    return response


@registry.op("GetAudioEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_audio_encoder_configurations(request: Request, payload: Element) -> Element:
    return _audio_configurations(
        request, "GetAudioEncoderConfigurations", "encoder", _audio_channels(request)
    )


@registry.op("GetCompatibleAudioEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_compatible_audio_encoder_configurations(
    request: Request, payload: Element
) -> Element:
    find_profile(request.device.state, arg(payload, "ProfileToken"), media2=False)
    return _audio_configurations(
        request, "GetCompatibleAudioEncoderConfigurations", "encoder", _audio_channels(request)
    )


@registry.op("GetAudioEncoderConfiguration", AccessClass.READ_MEDIA)
async def get_audio_encoder_configuration(request: Request, payload: Element) -> Element:
    channel = _audio_configuration(request, payload, "encoder")
    return _audio_configurations(
        request, "GetAudioEncoderConfiguration", "encoder", [channel], "Configuration"
    )


@registry.op("GetAudioEncoderConfigurationOptions", AccessClass.READ_MEDIA)
async def get_audio_encoder_configuration_options(request: Request, payload: Element) -> Element:
    sound = request.device.options.audio
    if sound is None:
        raise audio.audio_not_supported()
    if optional_arg(payload, "ConfigurationToken") is not None:
        _audio_configuration(request, payload, "encoder")
    if (profile := optional_arg(payload, "ProfileToken")) is not None:
        find_profile(request.device.state, profile, media2=False)
    response = registry.response("GetAudioEncoderConfigurationOptions")
    options = sub(response, TRT, "Options")
    audio.write_encoder_option(options, qn(TT, "Options"), sound, media2=False)
    return response
