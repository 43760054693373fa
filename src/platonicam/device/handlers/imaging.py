"""Imaging service (``timg``) handlers: settings stored per video source and read back.

SetImagingSettings merges the fields it carries into the stored settings and
checks the result with the same :class:`ImagingOptions` GetOptions answers
(``InvalidArgVal`` / ``SettingsInvalid`` for anything outside them).
"""

from __future__ import annotations

import dataclasses
from typing import Final

from lxml import etree

from platonicam.device.faults import DeviceFault, invalid_arg, no_source
from platonicam.device.handlers.base import Registry, Request, arg, require_child
from platonicam.device.security import AccessClass
from platonicam.device.state import default_imaging_settings
from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.models.imaging import (
    AutoFocusMode,
    BacklightCompensationMode,
    BacklightCompensationOptions,
    ExposureMode,
    ExposureOptions,
    ExposurePriority,
    FocusOptions,
    ImagingOptions,
    ImagingServiceCapabilities,
    ImagingSettings,
    IrCutFilterMode,
    WhiteBalanceMode,
    WhiteBalanceOptions,
    WideDynamicMode,
    WideDynamicRangeOptions,
)
from platonicam.onvif.soap.namespaces import TIMG
from platonicam.onvif.soap.xmlread import child

registry = Registry(TIMG)
Element = etree._Element

_PERCENT: Final = FloatRange(0, 100)
OPTIONS: Final = ImagingOptions(
    backlight_compensation=BacklightCompensationOptions(
        (BacklightCompensationMode.OFF, BacklightCompensationMode.ON), FloatRange(0, 100)
    ),
    brightness=_PERCENT,
    color_saturation=_PERCENT,
    contrast=_PERCENT,
    exposure=ExposureOptions(
        modes=(ExposureMode.AUTO, ExposureMode.MANUAL),
        priorities=(ExposurePriority.LOW_NOISE, ExposurePriority.FRAME_RATE),
        min_exposure_time=FloatRange(10, 40000),
        max_exposure_time=FloatRange(10, 40000),
        min_gain=FloatRange(0, 48),
        max_gain=FloatRange(0, 48),
        exposure_time=FloatRange(10, 40000),
        gain=FloatRange(0, 48),
    ),
    focus=FocusOptions(
        auto_focus_modes=(AutoFocusMode.AUTO, AutoFocusMode.MANUAL),
        default_speed=FloatRange(0, 1),
        near_limit=FloatRange(0.1, 10),
        far_limit=FloatRange(0, 1000),
    ),
    ir_cut_filter_modes=(IrCutFilterMode.ON, IrCutFilterMode.OFF, IrCutFilterMode.AUTO),
    sharpness=_PERCENT,
    wide_dynamic_range=WideDynamicRangeOptions(
        (WideDynamicMode.OFF, WideDynamicMode.ON), FloatRange(0, 100)
    ),
    white_balance=WhiteBalanceOptions(
        (WhiteBalanceMode.AUTO, WhiteBalanceMode.MANUAL), FloatRange(0, 255), FloatRange(0, 255)
    ),
)


def _source(request: Request, payload: Element) -> str:
    token = arg(payload, "VideoSourceToken")
    if request.device.state.video_source(token) is None:
        raise no_source(token)
    return token


def _merge(current: ImagingSettings, change: ImagingSettings) -> ImagingSettings:
    updates = {
        f.name: getattr(change, f.name)
        for f in dataclasses.fields(change)
        if getattr(change, f.name) is not None
    }
    return dataclasses.replace(current, **updates)


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    response = registry.response("GetServiceCapabilities")
    ImagingServiceCapabilities(
        image_stabilization=False, presets=False, adaptable_preset=False
    ).to_xml(response)
    return response


@registry.op("GetImagingSettings", AccessClass.READ_MEDIA)
async def get_imaging_settings(request: Request, payload: Element) -> Element:
    token = _source(request, payload)
    settings = request.device.state.imaging.settings.get(token) or default_imaging_settings()
    response = registry.response("GetImagingSettings")
    settings.to_xml(response)
    return response


@registry.op("SetImagingSettings", AccessClass.ACTUATE)
async def set_imaging_settings(request: Request, payload: Element) -> Element:
    token = _source(request, payload)
    change = ImagingSettings.from_xml(
        require_child(payload, "ImagingSettings"), operation="SetImagingSettings"
    )
    if change.is_empty:
        raise invalid_arg("SetImagingSettings changes nothing", "SettingsInvalid")
    try:
        OPTIONS.check(change)
    except LocalProtocolError as exc:
        raise invalid_arg(str(exc), "SettingsInvalid") from None
    imaging = request.device.state.imaging
    current = imaging.settings.get(token) or default_imaging_settings()
    imaging.settings = {**imaging.settings, token: _merge(current, change)}
    request.device.state.save("imaging")
    return registry.response("SetImagingSettings")


@registry.op("GetOptions", AccessClass.READ_MEDIA)
async def get_options(request: Request, payload: Element) -> Element:
    _source(request, payload)
    response = registry.response("GetOptions")
    OPTIONS.to_xml(response)
    return response


@registry.op("Move", AccessClass.ACTUATE)
async def move(request: Request, payload: Element) -> Element:
    _source(request, payload)
    focus = require_child(payload, "Focus")
    if (
        child(focus, "Absolute") is None
        and child(focus, "Relative") is None
        and child(focus, "Continuous") is None
    ):
        raise invalid_arg("Move needs an Absolute, Relative or Continuous focus move")
    # The simulated lens has no focus motor: a move is accepted and ends at once.
    return registry.response("Move")


@registry.op("Stop", AccessClass.ACTUATE)
async def stop(request: Request, payload: Element) -> Element:
    _source(request, payload)
    return registry.response("Stop")


@registry.op("GetMoveOptions", AccessClass.READ_MEDIA)
async def get_move_options(request: Request, payload: Element) -> Element:
    _source(request, payload)
    raise DeviceFault(
        "the simulated lens has no focus motor",
        subcodes=("ActionNotSupported", "NoImagingForSource"),
    )
