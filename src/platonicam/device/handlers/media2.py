"""Media2 service (``tr2``, Profile T) handlers, over the logic in :mod:`.media`."""

from __future__ import annotations

import dataclasses

from lxml import etree

import platonicam.device.handlers.media as media
from platonicam.device.faults import invalid_arg, invalid_args, no_config
from platonicam.device.handlers import audio
from platonicam.device.handlers.base import Registry, Request, arg, optional_arg, require_child
from platonicam.device.security import AccessClass
from platonicam.onvif.models.media import (
    SnapshotUri,
    StreamProtocol,
    StreamUri,
    VideoEncoderConfiguration,
)
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TR2, qn
from platonicam.onvif.soap.xmlread import children, text

registry = Registry(TR2)
Element = etree._Element


def _configuration_refs(payload: Element) -> list[tuple[str, str | None]]:
    refs = []
    for node in children(payload, "Configuration"):
        kind = text(node, "Type")
        if not kind:
            raise invalid_args("a Configuration needs a Type")
        refs.append((kind, text(node, "Token") or None))
    return refs


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    response = registry.response("GetServiceCapabilities")
    capabilities = sub(
        response, TR2, "Capabilities", SnapshotUri="true", Rotation="false", OSD="false"
    )
    sub(capabilities, TR2, "ProfileCapabilities", MaximumNumberOfProfiles=str(media.MAX_PROFILES))
    sub(
        capabilities,
        TR2,
        "StreamingCapabilities",
        RTSPStreaming="true",
        RTPMulticast="false",
        RTP_RTSP_TCP="true",
        NonAggregateControl="false",
    )
    return response


@registry.op("GetProfiles", AccessClass.READ_MEDIA)
async def get_profiles(request: Request, payload: Element) -> Element:
    state = request.device.state
    token = optional_arg(payload, "Token")
    types = [text(node) or "" for node in children(payload, "Type")]

    def build() -> Element:
        profiles = (
            [media.find_profile(state, token, media2=True)] if token else list(state.media.profiles)
        )
        response = registry.response("GetProfiles")
        for profile in profiles:
            if not types:
                # Without Type, Media2 answers names and tokens only (ver20 GetProfiles).
                profile = dataclasses.replace(
                    profile,
                    video_source_configuration=None,
                    video_encoder_configuration=None,
                    ptz_configuration_token=None,
                )
            media.write_profile(request, response, profile, None, media2=True)
        return response

    # The answer depends on the media state, the token and whether any Type was
    # asked for (the Type values themselves select nothing here), never on the
    # host: one cached answer per variant. Only existing tokens reach the cache
    # (find_profile raises for others), so it holds at most MAX_PROFILES + 2.
    key = (TR2, "GetProfiles", token, bool(types), request.device.options.audio)
    return media.cached_profiles_answer(state, key, build)


@registry.op("CreateProfile", AccessClass.ACTUATE)
async def create_profile(request: Request, payload: Element) -> Element:
    state = request.device.state
    profile = media.create_profile(state, arg(payload, "Name"), None)
    for kind, token in _configuration_refs(payload):
        if token is not None:
            media.attach(state, profile.token, kind, token, media2=True)
    response = registry.response("CreateProfile")
    sub(response, TR2, "Token", profile.token)
    return response


@registry.op("DeleteProfile", AccessClass.ACTUATE)
async def delete_profile(request: Request, payload: Element) -> Element:
    media.delete_profile(request.device.state, arg(payload, "Token"), media2=True)
    return registry.response("DeleteProfile")


@registry.op("AddConfiguration", AccessClass.ACTUATE)
async def add_configuration(request: Request, payload: Element) -> Element:
    profile_token = arg(payload, "ProfileToken")
    for kind, token in _configuration_refs(payload):
        if token is None:
            raise invalid_args(f"AddConfiguration of {kind} needs a Token")
        media.attach(request.device.state, profile_token, kind, token, media2=True)
    return registry.response("AddConfiguration")


@registry.op("RemoveConfiguration", AccessClass.ACTUATE)
async def remove_configuration(request: Request, payload: Element) -> Element:
    profile_token = arg(payload, "ProfileToken")
    for kind, _ in _configuration_refs(payload):
        media.attach(request.device.state, profile_token, kind, None, media2=True)
    return registry.response("RemoveConfiguration")


@registry.op("GetVideoSourceConfigurations", AccessClass.READ_MEDIA)
async def get_video_source_configurations(request: Request, payload: Element) -> Element:
    state = request.device.state
    token = optional_arg(payload, "ConfigurationToken")
    profile_token = optional_arg(payload, "ProfileToken")
    response = registry.response("GetVideoSourceConfigurations")
    selected = state.media.video_source_configurations
    if profile_token is not None:
        profile = media.resolved_profile(
            state, media.find_profile(state, profile_token, media2=True)
        )
        found = profile.video_source_configuration
        selected = [found] if found is not None else []
    if token is not None:
        selected = [c for c in selected if c.token == token]
        if not selected:
            raise no_config(token)
    for configuration in selected:
        configuration.to_xml(response, qn(TR2, "Configurations"))
    return response


def _selected_encoders(request: Request, payload: Element) -> list[VideoEncoderConfiguration]:
    state = request.device.state
    token = optional_arg(payload, "ConfigurationToken")
    profile_token = optional_arg(payload, "ProfileToken")
    selected = media.encoders(state)
    if profile_token is not None:
        profile = media.resolved_profile(
            state, media.find_profile(state, profile_token, media2=True)
        )
        found = profile.video_encoder_configuration
        selected = [found] if found is not None else []
    if token is not None:
        selected = [e for e in selected if e.token == token]
        if not selected:
            raise no_config(token)
    return selected


@registry.op("GetVideoEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_video_encoder_configurations(request: Request, payload: Element) -> Element:
    response = registry.response("GetVideoEncoderConfigurations")
    for encoder in _selected_encoders(request, payload):
        encoder.to_xml(response, qn(TR2, "Configurations"), media2=True)
    return response


@registry.op("GetVideoEncoderConfigurationOptions", AccessClass.READ_MEDIA)
async def get_video_encoder_configuration_options(request: Request, payload: Element) -> Element:
    _selected_encoders(request, payload)  # faults for unknown tokens
    response = registry.response("GetVideoEncoderConfigurationOptions")
    media.encoder_options(media2=True).to_media2_xml(response)
    return response


@registry.op("SetVideoEncoderConfiguration", AccessClass.ACTUATE)
async def set_video_encoder_configuration(request: Request, payload: Element) -> Element:
    configuration = VideoEncoderConfiguration.from_xml(require_child(payload, "Configuration"))
    await media.set_encoder(request, configuration, media2=True)
    return registry.response("SetVideoEncoderConfiguration")


@registry.op("GetStreamUri", AccessClass.READ_MEDIA)
async def get_stream_uri(request: Request, payload: Element) -> Element:
    profile = media.find_profile(request.device.state, arg(payload, "ProfileToken"), media2=True)
    protocol = optional_arg(payload, "Protocol") or StreamProtocol.RTSP.value
    if protocol not in (StreamProtocol.RTSP.value, StreamProtocol.RTSP_UNICAST.value):
        raise invalid_arg(f"stream protocol {protocol} is not offered", "InvalidStreamSetup")
    response = registry.response("GetStreamUri")
    StreamUri(media.stream_uri(request, profile)).to_xml(response, media2=True)
    return response


@registry.op("GetSnapshotUri", AccessClass.READ_MEDIA)
async def get_snapshot_uri(request: Request, payload: Element) -> Element:
    profile = media.find_profile(request.device.state, arg(payload, "ProfileToken"), media2=True)
    response = registry.response("GetSnapshotUri")
    SnapshotUri(media.snapshot_uri(request, profile)).to_xml(response, media2=True)
    return response


# ------------------------------------------------------------------ audio (read-only)


def _selected_audio(
    request: Request, payload: Element, kind: audio.Kind
) -> list[audio.AudioChannel]:
    """The audio channels a GetConfiguration request (token, profile) selects."""
    state = request.device.state
    profile_token = optional_arg(payload, "ProfileToken")
    profile = (
        media.resolved_profile(state, media.find_profile(state, profile_token, media2=True))
        if profile_token is not None
        else None
    )
    token = optional_arg(payload, "ConfigurationToken")
    return audio.select(state, request.device.options.audio, kind, token, profile)


def _audio_configurations(request: Request, payload: Element, kind: audio.Kind) -> Element:
    """GetAudioSource/EncoderConfigurations: the ``kind`` configurations asked for."""
    counts = audio.use_counts(request.device.state, request.device.options.audio)
    name = "GetAudioEncoderConfigurations" if kind == "encoder" else "GetAudioSourceConfigurations"
    response = registry.response(name)
    for channel in _selected_audio(request, payload, kind):
        audio.write_configuration(
            kind,
            response,
            qn(TR2, "Configurations"),
            channel,
            counts.get(channel.number, 0),
            media2=True,
        )
    return response


@registry.op("GetAudioSourceConfigurations", AccessClass.READ_MEDIA)
async def get_audio_source_configurations(request: Request, payload: Element) -> Element:
    return _audio_configurations(request, payload, "source")


@registry.op("GetAudioEncoderConfigurations", AccessClass.READ_MEDIA)
async def get_audio_encoder_configurations(request: Request, payload: Element) -> Element:
    return _audio_configurations(request, payload, "encoder")


@registry.op("GetAudioSourceConfigurationOptions", AccessClass.READ_MEDIA)
async def get_audio_source_configuration_options(request: Request, payload: Element) -> Element:
    if request.device.options.audio is None:
        raise audio.audio_not_supported()
    _selected_audio(request, payload, "source")  # faults for unknown tokens
    state, sound = request.device.state, request.device.options.audio
    response = registry.response("GetAudioSourceConfigurationOptions")
    audio.write_source_options(response, qn(TR2, "Options"), audio.audio_channels(state, sound))
    return response


@registry.op("GetAudioEncoderConfigurationOptions", AccessClass.READ_MEDIA)
async def get_audio_encoder_configuration_options(request: Request, payload: Element) -> Element:
    sound = request.device.options.audio
    if sound is None:
        raise audio.audio_not_supported()
    _selected_audio(request, payload, "encoder")  # faults for unknown tokens
    response = registry.response("GetAudioEncoderConfigurationOptions")
    audio.write_encoder_option(response, qn(TR2, "Options"), sound, media2=True)
    return response
