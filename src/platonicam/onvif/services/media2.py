"""Media2 service, ver20 (``tr2``): request builders and response parsers.

Element order follows ``ver20/media/wsdl/media.wsdl``. Media2 shares one
request type (``tr2:GetConfiguration``: ConfigurationToken, then ProfileToken)
across every GetXxxConfigurations and GetXxxConfigurationOptions operation.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.media import (
    MediaProfile,
    SnapshotUri,
    StreamProtocol,
    StreamUri,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoSourceConfiguration,
)
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.namespaces import TR2, qn
from platonicam.onvif.soap.xmlread import children, require, require_text

#: Every configuration type, for GetProfiles' ``Type`` (ver20 ConfigurationEnumeration).
ALL_CONFIGURATIONS = "All"


def _get_configuration(
    operation: str, configuration_token: str | None, profile_token: str | None
) -> etree._Element:
    request = element(TR2, operation)
    if configuration_token is not None:
        sub(request, TR2, "ConfigurationToken", configuration_token)
    if profile_token is not None:
        sub(request, TR2, "ProfileToken", profile_token)
    return request


def _configuration_ref(parent: etree._Element, kind: str, token: str | None) -> None:
    ref = sub(parent, TR2, "Configuration")
    sub(ref, TR2, "Type", kind)
    if token is not None:
        sub(ref, TR2, "Token", token)


# --------------------------------------------------------------------------- profiles


def build_get_profiles(
    token: str | None = None, types: Iterable[str] = (ALL_CONFIGURATIONS,)
) -> etree._Element:
    """Without ``Type`` a Media2 camera answers names and tokens only; ``All``
    asks for every configuration inside each profile."""
    request = element(TR2, "GetProfiles")
    if token is not None:
        sub(request, TR2, "Token", token)
    for kind in types:
        sub(request, TR2, "Type", kind)
    return request


def parse_get_profiles(payload: etree._Element) -> list[MediaProfile]:
    return [
        MediaProfile.from_xml(node, operation="GetProfiles")
        for node in children(payload, "Profiles")
    ]


def build_create_profile(
    name: str, configurations: Iterable[tuple[str, str | None]] = ()
) -> etree._Element:
    """``configurations`` are (type, token) pairs such as ``("VideoEncoder", "enc0")``."""
    request = element(TR2, "CreateProfile")
    sub(request, TR2, "Name", name)
    for kind, token in configurations:
        _configuration_ref(request, kind, token)
    return request


def parse_create_profile(payload: etree._Element) -> str:
    return require_text(payload, "Token", operation="CreateProfile")


def build_delete_profile(token: str) -> etree._Element:
    request = element(TR2, "DeleteProfile")
    sub(request, TR2, "Token", token)
    return request


def build_add_configuration(
    profile_token: str, configurations: Iterable[tuple[str, str | None]]
) -> etree._Element:
    request = element(TR2, "AddConfiguration")
    sub(request, TR2, "ProfileToken", profile_token)
    for kind, token in configurations:
        _configuration_ref(request, kind, token)
    return request


# --------------------------------------------------------------------------- configurations


def build_get_video_source_configurations(
    configuration_token: str | None = None, profile_token: str | None = None
) -> etree._Element:
    return _get_configuration("GetVideoSourceConfigurations", configuration_token, profile_token)


def parse_get_video_source_configurations(
    payload: etree._Element,
) -> list[VideoSourceConfiguration]:
    return [
        VideoSourceConfiguration.from_xml(node, operation="GetVideoSourceConfigurations")
        for node in children(payload, "Configurations")
    ]


def build_get_video_encoder_configurations(
    configuration_token: str | None = None, profile_token: str | None = None
) -> etree._Element:
    return _get_configuration("GetVideoEncoderConfigurations", configuration_token, profile_token)


def parse_get_video_encoder_configurations(
    payload: etree._Element,
) -> list[VideoEncoderConfiguration]:
    return [
        VideoEncoderConfiguration.from_xml(node, operation="GetVideoEncoderConfigurations")
        for node in children(payload, "Configurations")
    ]


def build_get_video_encoder_configuration_options(
    configuration_token: str | None = None, profile_token: str | None = None
) -> etree._Element:
    return _get_configuration(
        "GetVideoEncoderConfigurationOptions", configuration_token, profile_token
    )


def parse_get_video_encoder_configuration_options(
    payload: etree._Element,
) -> VideoEncoderConfigurationOptions:
    return VideoEncoderConfigurationOptions.from_media2_xml(
        children(payload, "Options"), operation="GetVideoEncoderConfigurationOptions"
    )


def build_set_video_encoder_configuration(
    configuration: VideoEncoderConfiguration,
) -> etree._Element:
    """Media2 has no ForcePersistence: changes always persist."""
    request = element(TR2, "SetVideoEncoderConfiguration")
    configuration.to_xml(request, qn(TR2, "Configuration"), media2=True)
    return request


# --------------------------------------------------------------------------- URIs


def build_get_stream_uri(
    profile_token: str, protocol: StreamProtocol = StreamProtocol.RTSP
) -> etree._Element:
    request = element(TR2, "GetStreamUri")
    sub(request, TR2, "Protocol", protocol.value)
    sub(request, TR2, "ProfileToken", profile_token)
    return request


def _bare_uri(payload: etree._Element, operation: str) -> etree._Element:
    node = require(payload, "Uri", operation=operation)
    if not (node.text or "").strip():
        raise RemoteProtocolError("empty Uri", operation=operation)
    return node


def parse_get_stream_uri(payload: etree._Element) -> StreamUri:
    """The bare ``tr2:Uri`` (Axis M2025-LE, corpus media2/axis_M2025-LE_GetStreamUri.xml)."""
    operation = "GetStreamUri"
    return StreamUri.from_xml(_bare_uri(payload, operation), operation=operation)


def build_get_snapshot_uri(profile_token: str) -> etree._Element:
    request = element(TR2, "GetSnapshotUri")
    sub(request, TR2, "ProfileToken", profile_token)
    return request


def parse_get_snapshot_uri(payload: etree._Element) -> SnapshotUri:
    operation = "GetSnapshotUri"
    return SnapshotUri.from_xml(_bare_uri(payload, operation), operation=operation)
