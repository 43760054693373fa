"""PTZ service (tptz, ver20): request builders and response parsers.

Element names and order follow ``ver20/ptz/wsdl/ptz.wsdl``. Moves and preset
operations answer with an empty element; their ``parse_*`` functions check that
the answer is the expected one and return ``None``.
"""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.ptz import (
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPreset,
    PTZServiceCapabilities,
    PTZSpeed,
    PTZStatus,
    PTZVector,
)
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TPTZ, local_name
from platonicam.onvif.soap.xmlread import children, format_duration, require, require_text


def _expect_response(payload: etree._Element, operation: str) -> None:
    expected = f"{operation}Response"
    if local_name(payload.tag) != expected:
        raise RemoteProtocolError(
            f"expected {expected}, got {local_name(payload.tag)}", operation=operation
        )


def _with_profile(operation: str, profile_token: str) -> etree._Element:
    request = element(TPTZ, operation)
    sub(request, TPTZ, "ProfileToken", profile_token)
    return request


def _vector(vector: PTZVector | PTZSpeed, what: str, operation: str) -> None:
    if vector.is_empty:
        raise LocalProtocolError(f"{operation} needs a {what} with pan/tilt or zoom")


# ----------------------------------------------------------------------------- capabilities


def build_get_service_capabilities() -> etree._Element:
    return element(TPTZ, "GetServiceCapabilities")


def parse_get_service_capabilities(payload: etree._Element) -> PTZServiceCapabilities:
    operation = "GetServiceCapabilities"
    return PTZServiceCapabilities.from_xml(
        require(payload, "Capabilities", operation=operation), operation=operation
    )


# ----------------------------------------------------------------------------- nodes


def build_get_nodes() -> etree._Element:
    return element(TPTZ, "GetNodes")


def parse_get_nodes(payload: etree._Element) -> list[PTZNode]:
    return [PTZNode.from_xml(node, operation="GetNodes") for node in children(payload, "PTZNode")]


def build_get_node(node_token: str) -> etree._Element:
    request = element(TPTZ, "GetNode")
    sub(request, TPTZ, "NodeToken", node_token)
    return request


def parse_get_node(payload: etree._Element) -> PTZNode:
    operation = "GetNode"
    return PTZNode.from_xml(require(payload, "PTZNode", operation=operation), operation=operation)


# ----------------------------------------------------------------------------- configurations


def build_get_configurations() -> etree._Element:
    return element(TPTZ, "GetConfigurations")


def parse_get_configurations(payload: etree._Element) -> list[PTZConfiguration]:
    return [
        PTZConfiguration.from_xml(node, operation="GetConfigurations")
        for node in children(payload, "PTZConfiguration")
    ]


def build_get_configuration(configuration_token: str) -> etree._Element:
    request = element(TPTZ, "GetConfiguration")
    sub(request, TPTZ, "PTZConfigurationToken", configuration_token)
    return request


def parse_get_configuration(payload: etree._Element) -> PTZConfiguration:
    operation = "GetConfiguration"
    return PTZConfiguration.from_xml(
        require(payload, "PTZConfiguration", operation=operation), operation=operation
    )


def build_get_configuration_options(configuration_token: str) -> etree._Element:
    request = element(TPTZ, "GetConfigurationOptions")
    sub(request, TPTZ, "ConfigurationToken", configuration_token)
    return request


def parse_get_configuration_options(payload: etree._Element) -> PTZConfigurationOptions:
    operation = "GetConfigurationOptions"
    return PTZConfigurationOptions.from_xml(
        require(payload, "PTZConfigurationOptions", operation=operation), operation=operation
    )


# ----------------------------------------------------------------------------- status and moves


def build_get_status(profile_token: str) -> etree._Element:
    return _with_profile("GetStatus", profile_token)


def parse_get_status(payload: etree._Element) -> PTZStatus:
    operation = "GetStatus"
    return PTZStatus.from_xml(
        require(payload, "PTZStatus", operation=operation), operation=operation
    )


def build_continuous_move(
    profile_token: str, velocity: PTZSpeed, *, timeout: timedelta | None = None
) -> etree._Element:
    """Move at ``velocity`` until Stop, another move, or ``timeout`` (``xs:duration``).

    Raises :class:`LocalProtocolError` for a velocity with no axis or a
    timeout that is not positive.
    """
    operation = "ContinuousMove"
    _vector(velocity, "velocity", operation)
    if timeout is not None and timeout <= timedelta():
        raise LocalProtocolError(f"{operation} timeout must be positive, got {timeout}")
    request = _with_profile(operation, profile_token)
    velocity.to_xml(request, "Velocity", TPTZ)
    if timeout is not None:
        sub(request, TPTZ, "Timeout", format_duration(timeout))
    return request


def parse_continuous_move(payload: etree._Element) -> None:
    _expect_response(payload, "ContinuousMove")


def build_absolute_move(
    profile_token: str, position: PTZVector, *, speed: PTZSpeed | None = None
) -> etree._Element:
    operation = "AbsoluteMove"
    _vector(position, "position", operation)
    request = _with_profile(operation, profile_token)
    position.to_xml(request, "Position", TPTZ)
    if speed is not None:
        speed.to_xml(request, "Speed", TPTZ)
    return request


def parse_absolute_move(payload: etree._Element) -> None:
    _expect_response(payload, "AbsoluteMove")


def build_relative_move(
    profile_token: str, translation: PTZVector, *, speed: PTZSpeed | None = None
) -> etree._Element:
    operation = "RelativeMove"
    _vector(translation, "translation", operation)
    request = _with_profile(operation, profile_token)
    translation.to_xml(request, "Translation", TPTZ)
    if speed is not None:
        speed.to_xml(request, "Speed", TPTZ)
    return request


def parse_relative_move(payload: etree._Element) -> None:
    _expect_response(payload, "RelativeMove")


def build_stop(profile_token: str, *, pan_tilt: bool = True, zoom: bool = True) -> etree._Element:
    """Stop pan/tilt, zoom, or both (both flags are always written, so the
    camera's default for a missing flag does not matter)."""
    if not pan_tilt and not zoom:
        raise LocalProtocolError("Stop needs pan_tilt or zoom (or both)")
    request = _with_profile("Stop", profile_token)
    sub(request, TPTZ, "PanTilt", xml_bool(pan_tilt))
    sub(request, TPTZ, "Zoom", xml_bool(zoom))
    return request


def parse_stop(payload: etree._Element) -> None:
    _expect_response(payload, "Stop")


# ----------------------------------------------------------------------------- presets and home


def build_get_presets(profile_token: str) -> etree._Element:
    return _with_profile("GetPresets", profile_token)


def parse_get_presets(payload: etree._Element) -> list[PTZPreset]:
    return [
        PTZPreset.from_xml(node, operation="GetPresets") for node in children(payload, "Preset")
    ]


def build_set_preset(
    profile_token: str, *, name: str | None = None, preset_token: str | None = None
) -> etree._Element:
    """Store the current position as a preset: a new one when ``preset_token``
    is ``None``, otherwise overwrite that preset."""
    request = _with_profile("SetPreset", profile_token)
    if name is not None:
        sub(request, TPTZ, "PresetName", name)
    if preset_token is not None:
        sub(request, TPTZ, "PresetToken", preset_token)
    return request


def parse_set_preset(payload: etree._Element) -> str:
    """The token of the preset that was stored."""
    operation = "SetPreset"
    _expect_response(payload, operation)
    token = require_text(payload, "PresetToken", operation=operation)
    if not token:
        raise RemoteProtocolError("empty PresetToken", operation=operation)
    return token


def build_goto_preset(
    profile_token: str, preset_token: str, *, speed: PTZSpeed | None = None
) -> etree._Element:
    request = _with_profile("GotoPreset", profile_token)
    sub(request, TPTZ, "PresetToken", preset_token)
    if speed is not None:
        speed.to_xml(request, "Speed", TPTZ)
    return request


def parse_goto_preset(payload: etree._Element) -> None:
    _expect_response(payload, "GotoPreset")


def build_remove_preset(profile_token: str, preset_token: str) -> etree._Element:
    request = _with_profile("RemovePreset", profile_token)
    sub(request, TPTZ, "PresetToken", preset_token)
    return request


def parse_remove_preset(payload: etree._Element) -> None:
    _expect_response(payload, "RemovePreset")


def build_goto_home_position(
    profile_token: str, *, speed: PTZSpeed | None = None
) -> etree._Element:
    request = _with_profile("GotoHomePosition", profile_token)
    if speed is not None:
        speed.to_xml(request, "Speed", TPTZ)
    return request


def parse_goto_home_position(payload: etree._Element) -> None:
    _expect_response(payload, "GotoHomePosition")


def build_set_home_position(profile_token: str) -> etree._Element:
    return _with_profile("SetHomePosition", profile_token)


def parse_set_home_position(payload: etree._Element) -> None:
    _expect_response(payload, "SetHomePosition")
