"""Media service, ver10 (``trt``): request builders and response parsers.

Element order follows ``ver10/media/wsdl/media.wsdl`` and ``ver10/schema/onvif.xsd``
exactly: cameras validate sequences and reject out-of-order children.
"""

from __future__ import annotations

from lxml import etree

from platonicam.onvif.models.media import (
    MediaProfile,
    SnapshotUri,
    StreamType,
    StreamUri,
    TransportProtocol,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoSource,
    VideoSourceConfiguration,
)
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TRT, TT, qn
from platonicam.onvif.soap.xmlread import children, require


def _with_profile_token(operation: str, profile_token: str) -> etree._Element:
    request = element(TRT, operation)
    sub(request, TRT, "ProfileToken", profile_token)
    return request


# --------------------------------------------------------------------------- profiles


def build_get_profiles() -> etree._Element:
    return element(TRT, "GetProfiles")


def parse_get_profiles(payload: etree._Element) -> list[MediaProfile]:
    return [
        MediaProfile.from_xml(node, operation="GetProfiles")
        for node in children(payload, "Profiles")
    ]


def build_get_profile(profile_token: str) -> etree._Element:
    return _with_profile_token("GetProfile", profile_token)


def parse_get_profile(payload: etree._Element) -> MediaProfile:
    operation = "GetProfile"
    return MediaProfile.from_xml(
        require(payload, "Profile", operation=operation), operation=operation
    )


def build_create_profile(name: str, token: str | None = None) -> etree._Element:
    """``token`` asks for a specific token; cameras may refuse and pick their own."""
    request = element(TRT, "CreateProfile")
    sub(request, TRT, "Name", name)
    if token is not None:
        sub(request, TRT, "Token", token)
    return request


def parse_create_profile(payload: etree._Element) -> MediaProfile:
    operation = "CreateProfile"
    return MediaProfile.from_xml(
        require(payload, "Profile", operation=operation), operation=operation
    )


def build_delete_profile(profile_token: str) -> etree._Element:
    return _with_profile_token("DeleteProfile", profile_token)


def build_add_video_encoder_configuration(
    profile_token: str, configuration_token: str
) -> etree._Element:
    request = _with_profile_token("AddVideoEncoderConfiguration", profile_token)
    sub(request, TRT, "ConfigurationToken", configuration_token)
    return request


def build_add_video_source_configuration(
    profile_token: str, configuration_token: str
) -> etree._Element:
    request = _with_profile_token("AddVideoSourceConfiguration", profile_token)
    sub(request, TRT, "ConfigurationToken", configuration_token)
    return request


# --------------------------------------------------------------------------- sources


def build_get_video_sources() -> etree._Element:
    return element(TRT, "GetVideoSources")


def parse_get_video_sources(payload: etree._Element) -> list[VideoSource]:
    return [
        VideoSource.from_xml(node, operation="GetVideoSources")
        for node in children(payload, "VideoSources")
    ]


def build_get_video_source_configurations() -> etree._Element:
    return element(TRT, "GetVideoSourceConfigurations")


def parse_get_video_source_configurations(
    payload: etree._Element,
) -> list[VideoSourceConfiguration]:
    return [
        VideoSourceConfiguration.from_xml(node, operation="GetVideoSourceConfigurations")
        for node in children(payload, "Configurations")
    ]


# --------------------------------------------------------------------------- encoders


def build_get_video_encoder_configurations() -> etree._Element:
    return element(TRT, "GetVideoEncoderConfigurations")


def parse_get_video_encoder_configurations(
    payload: etree._Element,
) -> list[VideoEncoderConfiguration]:
    return [
        VideoEncoderConfiguration.from_xml(node, operation="GetVideoEncoderConfigurations")
        for node in children(payload, "Configurations")
    ]


def build_get_video_encoder_configuration(configuration_token: str) -> etree._Element:
    request = element(TRT, "GetVideoEncoderConfiguration")
    sub(request, TRT, "ConfigurationToken", configuration_token)
    return request


def parse_get_video_encoder_configuration(payload: etree._Element) -> VideoEncoderConfiguration:
    operation = "GetVideoEncoderConfiguration"
    return VideoEncoderConfiguration.from_xml(
        require(payload, "Configuration", operation=operation), operation=operation
    )


def build_get_video_encoder_configuration_options(
    configuration_token: str | None = None, profile_token: str | None = None
) -> etree._Element:
    """Both tokens are optional; with neither, the camera answers its general options."""
    request = element(TRT, "GetVideoEncoderConfigurationOptions")
    if configuration_token is not None:
        sub(request, TRT, "ConfigurationToken", configuration_token)
    if profile_token is not None:
        sub(request, TRT, "ProfileToken", profile_token)
    return request


def parse_get_video_encoder_configuration_options(
    payload: etree._Element,
) -> VideoEncoderConfigurationOptions:
    operation = "GetVideoEncoderConfigurationOptions"
    return VideoEncoderConfigurationOptions.from_xml(
        require(payload, "Options", operation=operation), operation=operation
    )


def build_set_video_encoder_configuration(
    configuration: VideoEncoderConfiguration, *, force_persistence: bool = True
) -> etree._Element:
    """Raises :class:`LocalProtocolError` for values ver10 cannot carry (H.265,
    fractional frame rates). ``force_persistence`` is required by ver10 and
    ignored by most cameras, which always persist."""
    request = element(TRT, "SetVideoEncoderConfiguration")
    configuration.to_xml(request, qn(TRT, "Configuration"))
    sub(request, TRT, "ForcePersistence", xml_bool(force_persistence))
    return request


# --------------------------------------------------------------------------- URIs


def build_get_stream_uri(
    profile_token: str,
    *,
    stream: StreamType = StreamType.RTP_UNICAST,
    transport: TransportProtocol = TransportProtocol.RTSP,
) -> etree._Element:
    """``transport`` RTSP means RTP interleaved over RTSP/TCP, HTTP RTSP tunnelled
    over HTTP, UDP plain RTP over UDP."""
    request = element(TRT, "GetStreamUri")
    setup = sub(request, TRT, "StreamSetup")
    sub(setup, TT, "Stream", stream.value)
    sub(sub(setup, TT, "Transport"), TT, "Protocol", transport.value)
    sub(request, TRT, "ProfileToken", profile_token)
    return request


def parse_get_stream_uri(payload: etree._Element) -> StreamUri:
    operation = "GetStreamUri"
    return StreamUri.from_xml(
        require(payload, "MediaUri", operation=operation), operation=operation
    )


def build_get_snapshot_uri(profile_token: str) -> etree._Element:
    return _with_profile_token("GetSnapshotUri", profile_token)


def parse_get_snapshot_uri(payload: etree._Element) -> SnapshotUri:
    operation = "GetSnapshotUri"
    return SnapshotUri.from_xml(
        require(payload, "MediaUri", operation=operation), operation=operation
    )
