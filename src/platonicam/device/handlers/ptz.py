"""PTZ service (``tptz``) handlers over the simulated heads of :mod:`platonicam.device.ptz`.

One PTZ node and configuration per video channel; a media profile reaches its
head through its PTZ configuration token. Presets and the home position are
stored in ``ptz.yaml``; the head's position is not (it is where it is).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Final

from lxml import etree

from platonicam.device.faults import DeviceFault, invalid_arg, no_profile
from platonicam.device.handlers.base import Registry, Request, arg, optional_arg
from platonicam.device.ptz import PAN_RANGE, TILT_RANGE, ZOOM_RANGE, PTZHead, in_range
from platonicam.device.security import AccessClass
from platonicam.device.state import DeviceState, ptz_configuration_token, ptz_node_token
from platonicam.onvif.models._values import DurationRange
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.models.ptz import (
    PAN_TILT_POSITION_GENERIC,
    PAN_TILT_VELOCITY_GENERIC,
    ZOOM_POSITION_GENERIC,
    ZOOM_VELOCITY_GENERIC,
    MoveStatus,
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPreset,
    PTZServiceCapabilities,
    PTZSpaces,
    PTZSpeed,
    PTZStatus,
    PTZVector,
    Space1D,
    Space2D,
)
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TPTZ
from platonicam.onvif.soap.xmlread import bool_at, child, duration_at

registry = Registry(TPTZ)
Element = etree._Element

MAX_PRESETS: Final = 64
DEFAULT_TIMEOUT: Final = timedelta(seconds=10)
_TRANSLATION_2D: Final = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace"
_TRANSLATION_1D: Final = "http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace"
_SPEED_2D: Final = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace"
_SPEED_1D: Final = "http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace"
_UNIT: Final = FloatRange(-1, 1)
_SPEED: Final = FloatRange(0, 1)

SPACES: Final = PTZSpaces(
    absolute_pan_tilt_position=(Space2D(PAN_TILT_POSITION_GENERIC, PAN_RANGE, TILT_RANGE),),
    absolute_zoom_position=(Space1D(ZOOM_POSITION_GENERIC, ZOOM_RANGE),),
    relative_pan_tilt_translation=(Space2D(_TRANSLATION_2D, _UNIT, _UNIT),),
    relative_zoom_translation=(Space1D(_TRANSLATION_1D, _UNIT),),
    continuous_pan_tilt_velocity=(Space2D(PAN_TILT_VELOCITY_GENERIC, _UNIT, _UNIT),),
    continuous_zoom_velocity=(Space1D(ZOOM_VELOCITY_GENERIC, _UNIT),),
    pan_tilt_speed=(Space1D(_SPEED_2D, _SPEED),),
    zoom_speed=(Space1D(_SPEED_1D, _SPEED),),
)


def _channel_of(token: str, prefix: str, state: DeviceState) -> int | None:
    for channel in range(1, state.channels + 1):
        if token == f"{prefix}_{channel}":
            return channel
    return None


def ptz_configuration(state: DeviceState, token: str) -> PTZConfiguration | None:
    channel = _channel_of(token, "PTZConfig", state)
    if channel is None:
        return None
    use_count = sum(1 for p in state.media.profiles if p.ptz_configuration_token == token)
    return PTZConfiguration(
        token=token,
        name=f"PTZ {channel}",
        node_token=ptz_node_token(channel),
        use_count=use_count,
        default_absolute_pan_tilt_position_space=PAN_TILT_POSITION_GENERIC,
        default_absolute_zoom_position_space=ZOOM_POSITION_GENERIC,
        default_relative_pan_tilt_translation_space=_TRANSLATION_2D,
        default_relative_zoom_translation_space=_TRANSLATION_1D,
        default_continuous_pan_tilt_velocity_space=PAN_TILT_VELOCITY_GENERIC,
        default_continuous_zoom_velocity_space=ZOOM_VELOCITY_GENERIC,
        default_speed=PTZSpeed(1.0, 1.0, 1.0),
        default_timeout=DEFAULT_TIMEOUT,
        pan_tilt_limits=Space2D(PAN_TILT_POSITION_GENERIC, PAN_RANGE, TILT_RANGE),
        zoom_limits=Space1D(ZOOM_POSITION_GENERIC, ZOOM_RANGE),
    )


def _node(channel: int) -> PTZNode:
    return PTZNode(
        token=ptz_node_token(channel),
        name=f"Simulated head {channel}",
        supported_spaces=SPACES,
        max_presets=MAX_PRESETS,
        home_supported=True,
        fixed_home_position=False,
    )


def _head(request: Request, payload: Element) -> tuple[str, PTZHead]:
    """The node token and head behind the request's ProfileToken."""
    state = request.device.state
    token = arg(payload, "ProfileToken")
    profile = state.profile(token)
    if profile is None:
        raise no_profile(token)
    if profile.ptz_configuration_token is None:
        raise invalid_arg(f"profile {token!r} has no PTZ configuration", "NoPTZProfile")
    configuration = ptz_configuration(state, profile.ptz_configuration_token)
    if configuration is None:
        raise invalid_arg(f"profile {token!r} has no PTZ configuration", "NoPTZProfile")
    return configuration.node_token, request.device.heads[configuration.node_token]


def _vector(payload: Element, name: str) -> PTZVector | None:
    node = child(payload, name)
    return PTZVector.from_xml(node) if node is not None else None


def _speeds(payload: Element) -> tuple[float | None, float | None]:
    node = child(payload, "Speed")
    if node is None:
        return None, None
    speed = PTZSpeed.from_xml(node)
    return speed.pan, speed.zoom


# ------------------------------------------------------------------ reads


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    response = registry.response("GetServiceCapabilities")
    PTZServiceCapabilities(
        eflip=False, reverse=False, move_status=True, status_position=True
    ).to_xml(response)
    return response


@registry.op("GetNodes", AccessClass.READ_SYSTEM)
async def get_nodes(request: Request, payload: Element) -> Element:
    response = registry.response("GetNodes")
    for channel in range(1, request.device.state.channels + 1):
        _node(channel).to_xml(response)
    return response


@registry.op("GetNode", AccessClass.READ_SYSTEM)
async def get_node(request: Request, payload: Element) -> Element:
    token = arg(payload, "NodeToken")
    channel = _channel_of(token, "PTZNode", request.device.state)
    if channel is None:
        raise invalid_arg(f"no PTZ node {token!r}", "NoEntity")
    response = registry.response("GetNode")
    _node(channel).to_xml(response)
    return response


@registry.op("GetConfigurations", AccessClass.READ_MEDIA)
async def get_configurations(request: Request, payload: Element) -> Element:
    state = request.device.state
    response = registry.response("GetConfigurations")
    for channel in range(1, state.channels + 1):
        configuration = ptz_configuration(state, ptz_configuration_token(channel))
        assert configuration is not None
        configuration.to_xml(response)
    return response


def _configuration(request: Request, payload: Element) -> PTZConfiguration:
    token = arg(payload, "ConfigurationToken")
    configuration = ptz_configuration(request.device.state, token)
    if configuration is None:
        raise invalid_arg(f"no PTZ configuration {token!r}", "NoConfig")
    return configuration


@registry.op("GetConfiguration", AccessClass.READ_MEDIA)
async def get_configuration(request: Request, payload: Element) -> Element:
    response = registry.response("GetConfiguration")
    _configuration(request, payload).to_xml(response)
    return response


@registry.op("GetConfigurationOptions", AccessClass.READ_MEDIA)
async def get_configuration_options(request: Request, payload: Element) -> Element:
    _configuration(request, payload)
    response = registry.response("GetConfigurationOptions")
    PTZConfigurationOptions(
        SPACES, DurationRange(timedelta(seconds=1), timedelta(minutes=10))
    ).to_xml(response)
    return response


@registry.op("GetStatus", AccessClass.READ_MEDIA)
async def get_status(request: Request, payload: Element) -> Element:
    _, head = _head(request, payload)
    status = head.status()
    response = registry.response("GetStatus")
    PTZStatus(
        position=PTZVector(
            status.pan, status.tilt, status.zoom, PAN_TILT_POSITION_GENERIC, ZOOM_POSITION_GENERIC
        ),
        pan_tilt_move_status=MoveStatus.MOVING if status.pan_tilt_moving else MoveStatus.IDLE,
        zoom_move_status=MoveStatus.MOVING if status.zoom_moving else MoveStatus.IDLE,
        error="NO error",
        utc_time=request.device.device_time(),
    ).to_xml(response)
    return response


# ------------------------------------------------------------------ moves


@registry.op("ContinuousMove", AccessClass.ACTUATE)
async def continuous_move(request: Request, payload: Element) -> Element:
    _, head = _head(request, payload)
    velocity = _vector(payload, "Velocity")
    if velocity is None or velocity.is_empty:
        raise invalid_arg("ContinuousMove needs a Velocity")
    for value in (velocity.pan, velocity.tilt, velocity.zoom):
        if value is not None and not in_range(value, _UNIT):
            raise invalid_arg(f"velocity {value} is outside -1..1", "InvalidVelocity")
    timeout = duration_at(payload, "Timeout") or DEFAULT_TIMEOUT
    if timeout <= timedelta():
        raise invalid_arg(f"Timeout {timeout} is not positive", "TimeoutNotSupported")
    head.continuous(velocity.pan, velocity.tilt, velocity.zoom, timeout=timeout.total_seconds())
    return registry.response("ContinuousMove")


@registry.op("AbsoluteMove", AccessClass.ACTUATE)
async def absolute_move(request: Request, payload: Element) -> Element:
    _, head = _head(request, payload)
    position = _vector(payload, "Position")
    if position is None or position.is_empty:
        raise invalid_arg("AbsoluteMove needs a Position")
    for value, allowed in (
        (position.pan, PAN_RANGE),
        (position.tilt, TILT_RANGE),
        (position.zoom, ZOOM_RANGE),
    ):
        if value is not None and not in_range(value, allowed):
            raise invalid_arg(
                f"position {value} is outside {allowed.min:g}..{allowed.max:g}", "InvalidPosition"
            )
    pan_tilt_speed, zoom_speed = _speeds(payload)
    head.absolute(
        position.pan,
        position.tilt,
        position.zoom,
        pan_tilt_speed=pan_tilt_speed,
        zoom_speed=zoom_speed,
    )
    return registry.response("AbsoluteMove")


@registry.op("RelativeMove", AccessClass.ACTUATE)
async def relative_move(request: Request, payload: Element) -> Element:
    _, head = _head(request, payload)
    translation = _vector(payload, "Translation")
    if translation is None or translation.is_empty:
        raise invalid_arg("RelativeMove needs a Translation")
    pan_tilt_speed, zoom_speed = _speeds(payload)
    head.relative(
        translation.pan,
        translation.tilt,
        translation.zoom,
        pan_tilt_speed=pan_tilt_speed,
        zoom_speed=zoom_speed,
    )
    return registry.response("RelativeMove")


@registry.op("Stop", AccessClass.ACTUATE)
async def stop(request: Request, payload: Element) -> Element:
    _, head = _head(request, payload)
    pan_tilt = bool_at(payload, "PanTilt")
    zoom = bool_at(payload, "Zoom")
    head.stop(pan_tilt=True if pan_tilt is None else pan_tilt, zoom=True if zoom is None else zoom)
    return registry.response("Stop")


# ------------------------------------------------------------------ presets and home


def _presets(request: Request, node: str) -> list[PTZPreset]:
    return request.device.state.ptz.presets.get(node, [])


@registry.op("GetPresets", AccessClass.READ_MEDIA)
async def get_presets(request: Request, payload: Element) -> Element:
    node, _ = _head(request, payload)
    response = registry.response("GetPresets")
    for preset in _presets(request, node):
        preset.to_xml(response)
    return response


@registry.op("SetPreset", AccessClass.ACTUATE)
async def set_preset(request: Request, payload: Element) -> Element:
    node, head = _head(request, payload)
    presets = list(_presets(request, node))
    token = optional_arg(payload, "PresetToken")
    name = optional_arg(payload, "PresetName")
    status = head.status()
    position = PTZVector(
        status.pan, status.tilt, status.zoom, PAN_TILT_POSITION_GENERIC, ZOOM_POSITION_GENERIC
    )
    if name is not None and any(p.name == name and p.token != token for p in presets):
        raise invalid_arg(f"a preset named {name!r} exists already", "PresetExist")
    if token is not None:
        existing = next((p for p in presets if p.token == token), None)
        if existing is None:
            raise invalid_arg(f"no preset {token!r}", "NoToken")
        presets = [
            PTZPreset(token, name or existing.name, position) if p.token == token else p
            for p in presets
        ]
    else:
        if len(presets) >= MAX_PRESETS:
            raise DeviceFault(
                f"at most {MAX_PRESETS} presets",
                code="Receiver",
                subcodes=("Action", "TooManyPresets"),
            )
        taken = {p.token for p in presets}
        token = next(f"Preset_{n}" for n in itertools.count(1) if f"Preset_{n}" not in taken)
        presets.append(PTZPreset(token, name or token, position))
    request.device.state.ptz.presets = {**request.device.state.ptz.presets, node: presets}
    request.device.state.save("ptz")
    response = registry.response("SetPreset")
    sub(response, TPTZ, "PresetToken", token)
    return response


def _preset(request: Request, node: str, token: str) -> PTZPreset:
    preset = next((p for p in _presets(request, node) if p.token == token), None)
    if preset is None:
        raise invalid_arg(f"no preset {token!r}", "NoToken")
    return preset


@registry.op("GotoPreset", AccessClass.ACTUATE)
async def goto_preset(request: Request, payload: Element) -> Element:
    node, head = _head(request, payload)
    preset = _preset(request, node, arg(payload, "PresetToken"))
    position = preset.position or PTZVector(0.0, 0.0, 0.0)
    pan_tilt_speed, zoom_speed = _speeds(payload)
    head.absolute(
        position.pan,
        position.tilt,
        position.zoom,
        pan_tilt_speed=pan_tilt_speed,
        zoom_speed=zoom_speed,
    )
    return registry.response("GotoPreset")


@registry.op("RemovePreset", AccessClass.ACTUATE)
async def remove_preset(request: Request, payload: Element) -> Element:
    node, _ = _head(request, payload)
    token = arg(payload, "PresetToken")
    _preset(request, node, token)
    ptz = request.device.state.ptz
    ptz.presets = {**ptz.presets, node: [p for p in ptz.presets[node] if p.token != token]}
    request.device.state.save("ptz")
    return registry.response("RemovePreset")


@registry.op("GotoHomePosition", AccessClass.ACTUATE)
async def goto_home_position(request: Request, payload: Element) -> Element:
    node, head = _head(request, payload)
    home = request.device.state.ptz.home.get(node) or PTZVector(0.0, 0.0, 0.0)
    pan_tilt_speed, zoom_speed = _speeds(payload)
    head.absolute(
        home.pan, home.tilt, home.zoom, pan_tilt_speed=pan_tilt_speed, zoom_speed=zoom_speed
    )
    return registry.response("GotoHomePosition")


@registry.op("SetHomePosition", AccessClass.ACTUATE)
async def set_home_position(request: Request, payload: Element) -> Element:
    node, head = _head(request, payload)
    status = head.status()
    ptz = request.device.state.ptz
    ptz.home = {**ptz.home, node: PTZVector(status.pan, status.tilt, status.zoom)}
    request.device.state.save("ptz")
    return registry.response("SetHomePosition")
