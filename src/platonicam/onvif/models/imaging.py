"""Imaging service (timg, ver20) types: ``tt:ImagingSettings20`` and ``tt:ImagingOptions20``.

Every field of :class:`ImagingSettings` is optional, because the type is used
both ways: a camera's answer fills in what it supports, and a change request
carries only the fields the caller wants to change. :meth:`ImagingSettings.to_xml`
writes exactly the fields that are set, in the XSD's order (some firmware
rejects a SetImagingSettings whose children are out of sequence).

:meth:`ImagingOptions.check` compares settings with the camera's options before
anything is sent and raises :class:`LocalProtocolError` naming the field and the
allowed range or modes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Final, TypeVar

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models._values import (
    enum_at,
    float_range_at,
    require_enum,
    to_enum,
    write_float_range,
    xml_float,
)
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TIMG, TT
from platonicam.onvif.soap.xmlread import attr, child, children, float_at, text, to_bool

Element = etree._Element
E = TypeVar("E", bound=enum.StrEnum)


class BacklightCompensationMode(enum.StrEnum):
    OFF = "OFF"
    ON = "ON"


class ExposureMode(enum.StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class ExposurePriority(enum.StrEnum):
    LOW_NOISE = "LowNoise"
    FRAME_RATE = "FrameRate"


class AutoFocusMode(enum.StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class IrCutFilterMode(enum.StrEnum):
    ON = "ON"
    OFF = "OFF"
    AUTO = "AUTO"


class WideDynamicMode(enum.StrEnum):
    OFF = "OFF"
    ON = "ON"


class WhiteBalanceMode(enum.StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


def _write_float(parent: Element, name: str, value: float | None) -> None:
    if value is not None:
        sub(parent, TT, name, xml_float(value))


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class BacklightCompensation:
    """``tt:BacklightCompensation20``; ``level`` is in the camera's own units."""

    mode: BacklightCompensationMode
    level: float | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> BacklightCompensation:
        return cls(
            mode=require_enum(BacklightCompensationMode, element, "Mode", operation=operation),
            level=float_at(element, "Level", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "BacklightCompensation")
        sub(node, TT, "Mode", self.mode.value)
        _write_float(node, "Level", self.level)
        return node


@dataclass(frozen=True, slots=True)
class Exposure:
    """``tt:Exposure20``. Times are in microseconds, gain and iris in dB
    (0 dB iris is fully open). ``min_*``/``max_*`` bound the AUTO algorithm,
    ``exposure_time``/``gain``/``iris`` are the MANUAL values. The metering
    ``Window`` is not modelled."""

    mode: ExposureMode
    priority: ExposurePriority | None = None
    min_exposure_time: float | None = None
    max_exposure_time: float | None = None
    min_gain: float | None = None
    max_gain: float | None = None
    min_iris: float | None = None
    max_iris: float | None = None
    exposure_time: float | None = None
    gain: float | None = None
    iris: float | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> Exposure:
        def number(name: str) -> float | None:
            return float_at(element, name, operation=operation)

        return cls(
            mode=require_enum(ExposureMode, element, "Mode", operation=operation),
            priority=enum_at(ExposurePriority, element, "Priority", operation=operation),
            min_exposure_time=number("MinExposureTime"),
            max_exposure_time=number("MaxExposureTime"),
            min_gain=number("MinGain"),
            max_gain=number("MaxGain"),
            min_iris=number("MinIris"),
            max_iris=number("MaxIris"),
            exposure_time=number("ExposureTime"),
            gain=number("Gain"),
            iris=number("Iris"),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "Exposure")
        sub(node, TT, "Mode", self.mode.value)
        if self.priority is not None:
            sub(node, TT, "Priority", self.priority.value)
        for name, value in (
            ("MinExposureTime", self.min_exposure_time),
            ("MaxExposureTime", self.max_exposure_time),
            ("MinGain", self.min_gain),
            ("MaxGain", self.max_gain),
            ("MinIris", self.min_iris),
            ("MaxIris", self.max_iris),
            ("ExposureTime", self.exposure_time),
            ("Gain", self.gain),
            ("Iris", self.iris),
        ):
            _write_float(node, name, value)
        return node


@dataclass(frozen=True, slots=True)
class Focus:
    """``tt:FocusConfiguration20``: speed and limits in the camera's units
    (limits are usually metres)."""

    auto_focus_mode: AutoFocusMode
    default_speed: float | None = None
    near_limit: float | None = None
    far_limit: float | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> Focus:
        return cls(
            auto_focus_mode=require_enum(
                AutoFocusMode, element, "AutoFocusMode", operation=operation
            ),
            default_speed=float_at(element, "DefaultSpeed", operation=operation),
            near_limit=float_at(element, "NearLimit", operation=operation),
            far_limit=float_at(element, "FarLimit", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "Focus")
        sub(node, TT, "AutoFocusMode", self.auto_focus_mode.value)
        _write_float(node, "DefaultSpeed", self.default_speed)
        _write_float(node, "NearLimit", self.near_limit)
        _write_float(node, "FarLimit", self.far_limit)
        return node


@dataclass(frozen=True, slots=True)
class WideDynamicRange:
    """``tt:WideDynamicRange20``."""

    mode: WideDynamicMode
    level: float | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> WideDynamicRange:
        return cls(
            mode=require_enum(WideDynamicMode, element, "Mode", operation=operation),
            level=float_at(element, "Level", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "WideDynamicRange")
        sub(node, TT, "Mode", self.mode.value)
        _write_float(node, "Level", self.level)
        return node


@dataclass(frozen=True, slots=True)
class WhiteBalance:
    """``tt:WhiteBalance20``: the Cr and Cb gains apply in MANUAL mode."""

    mode: WhiteBalanceMode
    cr_gain: float | None = None
    cb_gain: float | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> WhiteBalance:
        return cls(
            mode=require_enum(WhiteBalanceMode, element, "Mode", operation=operation),
            cr_gain=float_at(element, "CrGain", operation=operation),
            cb_gain=float_at(element, "CbGain", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "WhiteBalance")
        sub(node, TT, "Mode", self.mode.value)
        _write_float(node, "CrGain", self.cr_gain)
        _write_float(node, "CbGain", self.cb_gain)
        return node


@dataclass(frozen=True, slots=True)
class ImagingSettings:
    """``tt:ImagingSettings20``: ``None`` means "not reported" when read and
    "leave unchanged" when sent.

    Brightness, colour saturation, contrast and sharpness are in the ranges the
    camera's :class:`ImagingOptions` give (often 0..100 or 0..255). Vendor
    extensions (image stabilisation, tone compensation, defogging ...) are not
    modelled and are dropped on reading.
    """

    backlight_compensation: BacklightCompensation | None = None
    brightness: float | None = None
    color_saturation: float | None = None
    contrast: float | None = None
    exposure: Exposure | None = None
    focus: Focus | None = None
    ir_cut_filter: IrCutFilterMode | None = None
    sharpness: float | None = None
    wide_dynamic_range: WideDynamicRange | None = None
    white_balance: WhiteBalance | None = None

    @property
    def is_empty(self) -> bool:
        """Whether no field is set (a change request with nothing to change)."""
        return all(getattr(self, f.name) is None for f in fields(self))

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "GetImagingSettings"
    ) -> ImagingSettings:
        blc = child(element, "BacklightCompensation")
        exposure = child(element, "Exposure")
        focus = child(element, "Focus")
        wdr = child(element, "WideDynamicRange")
        white_balance = child(element, "WhiteBalance")
        return cls(
            backlight_compensation=(
                BacklightCompensation.from_xml(blc, operation=operation)
                if blc is not None
                else None
            ),
            brightness=float_at(element, "Brightness", operation=operation),
            color_saturation=float_at(element, "ColorSaturation", operation=operation),
            contrast=float_at(element, "Contrast", operation=operation),
            exposure=Exposure.from_xml(exposure, operation=operation)
            if exposure is not None
            else None,
            focus=Focus.from_xml(focus, operation=operation) if focus is not None else None,
            ir_cut_filter=enum_at(IrCutFilterMode, element, "IrCutFilter", operation=operation),
            sharpness=float_at(element, "Sharpness", operation=operation),
            wide_dynamic_range=(
                WideDynamicRange.from_xml(wdr, operation=operation) if wdr is not None else None
            ),
            white_balance=(
                WhiteBalance.from_xml(white_balance, operation=operation)
                if white_balance is not None
                else None
            ),
        )

    def to_xml(
        self, parent: Element, name: str = "ImagingSettings", namespace: str = TIMG
    ) -> Element:
        """Write the set fields, in ``tt:ImagingSettings20`` sequence order."""
        node = sub(parent, namespace, name)
        if self.backlight_compensation is not None:
            self.backlight_compensation.to_xml(node)
        _write_float(node, "Brightness", self.brightness)
        _write_float(node, "ColorSaturation", self.color_saturation)
        _write_float(node, "Contrast", self.contrast)
        if self.exposure is not None:
            self.exposure.to_xml(node)
        if self.focus is not None:
            self.focus.to_xml(node)
        if self.ir_cut_filter is not None:
            sub(node, TT, "IrCutFilter", self.ir_cut_filter.value)
        _write_float(node, "Sharpness", self.sharpness)
        if self.wide_dynamic_range is not None:
            self.wide_dynamic_range.to_xml(node)
        if self.white_balance is not None:
            self.white_balance.to_xml(node)
        return node


# ----------------------------------------------------------------------------- options


def _modes(kind: type[E], element: Element, name: str, operation: str | None) -> tuple[E, ...]:
    return tuple(
        to_enum(kind, text(node) or "", element=node, operation=operation)
        for node in children(element, name)
        if text(node)
    )


def _write_modes(parent: Element, name: str, modes: tuple[enum.StrEnum, ...]) -> None:
    for mode in modes:
        sub(parent, TT, name, mode.value)


def _write_range(parent: Element, name: str, value: FloatRange | None) -> None:
    if value is not None:
        write_float_range(parent, TT, name, value)


@dataclass(frozen=True, slots=True)
class BacklightCompensationOptions:
    """``tt:BacklightCompensationOptions20``."""

    modes: tuple[BacklightCompensationMode, ...] = ()
    level: FloatRange | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = None
    ) -> BacklightCompensationOptions:
        return cls(
            modes=_modes(BacklightCompensationMode, element, "Mode", operation),
            level=float_range_at(element, "Level", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "BacklightCompensation")
        _write_modes(node, "Mode", self.modes)
        _write_range(node, "Level", self.level)
        return node


_EXPOSURE_RANGES: Final = (
    ("min_exposure_time", "MinExposureTime"),
    ("max_exposure_time", "MaxExposureTime"),
    ("min_gain", "MinGain"),
    ("max_gain", "MaxGain"),
    ("min_iris", "MinIris"),
    ("max_iris", "MaxIris"),
    ("exposure_time", "ExposureTime"),
    ("gain", "Gain"),
    ("iris", "Iris"),
)


@dataclass(frozen=True, slots=True)
class ExposureOptions:
    """``tt:ExposureOptions20``: allowed modes and priorities, and the range of
    each :class:`Exposure` value (same units)."""

    modes: tuple[ExposureMode, ...] = ()
    priorities: tuple[ExposurePriority, ...] = ()
    min_exposure_time: FloatRange | None = None
    max_exposure_time: FloatRange | None = None
    min_gain: FloatRange | None = None
    max_gain: FloatRange | None = None
    min_iris: FloatRange | None = None
    max_iris: FloatRange | None = None
    exposure_time: FloatRange | None = None
    gain: FloatRange | None = None
    iris: FloatRange | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> ExposureOptions:
        def ranged(name: str) -> FloatRange | None:
            return float_range_at(element, name, operation=operation)

        return cls(
            modes=_modes(ExposureMode, element, "Mode", operation),
            priorities=_modes(ExposurePriority, element, "Priority", operation),
            min_exposure_time=ranged("MinExposureTime"),
            max_exposure_time=ranged("MaxExposureTime"),
            min_gain=ranged("MinGain"),
            max_gain=ranged("MaxGain"),
            min_iris=ranged("MinIris"),
            max_iris=ranged("MaxIris"),
            exposure_time=ranged("ExposureTime"),
            gain=ranged("Gain"),
            iris=ranged("Iris"),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "Exposure")
        _write_modes(node, "Mode", self.modes)
        _write_modes(node, "Priority", self.priorities)
        for attribute, name in _EXPOSURE_RANGES:
            _write_range(node, name, getattr(self, attribute))
        return node


@dataclass(frozen=True, slots=True)
class FocusOptions:
    """``tt:FocusOptions20``."""

    auto_focus_modes: tuple[AutoFocusMode, ...] = ()
    default_speed: FloatRange | None = None
    near_limit: FloatRange | None = None
    far_limit: FloatRange | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> FocusOptions:
        return cls(
            auto_focus_modes=_modes(AutoFocusMode, element, "AutoFocusModes", operation),
            default_speed=float_range_at(element, "DefaultSpeed", operation=operation),
            near_limit=float_range_at(element, "NearLimit", operation=operation),
            far_limit=float_range_at(element, "FarLimit", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "Focus")
        _write_modes(node, "AutoFocusModes", self.auto_focus_modes)
        _write_range(node, "DefaultSpeed", self.default_speed)
        _write_range(node, "NearLimit", self.near_limit)
        _write_range(node, "FarLimit", self.far_limit)
        return node


@dataclass(frozen=True, slots=True)
class WideDynamicRangeOptions:
    """``tt:WideDynamicRangeOptions20``."""

    modes: tuple[WideDynamicMode, ...] = ()
    level: FloatRange | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> WideDynamicRangeOptions:
        return cls(
            modes=_modes(WideDynamicMode, element, "Mode", operation),
            level=float_range_at(element, "Level", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "WideDynamicRange")
        _write_modes(node, "Mode", self.modes)
        _write_range(node, "Level", self.level)
        return node


@dataclass(frozen=True, slots=True)
class WhiteBalanceOptions:
    """``tt:WhiteBalanceOptions20``.

    The XSD names the gain ranges ``YrGain`` and ``YbGain`` while the settings
    call the gains ``CrGain`` and ``CbGain``; they are the same two gains, so
    ``yr_gain`` bounds :attr:`WhiteBalance.cr_gain` and ``yb_gain`` bounds
    :attr:`WhiteBalance.cb_gain`.
    """

    modes: tuple[WhiteBalanceMode, ...] = ()
    yr_gain: FloatRange | None = None
    yb_gain: FloatRange | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> WhiteBalanceOptions:
        return cls(
            modes=_modes(WhiteBalanceMode, element, "Mode", operation),
            yr_gain=float_range_at(element, "YrGain", operation=operation),
            yb_gain=float_range_at(element, "YbGain", operation=operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TT, "WhiteBalance")
        _write_modes(node, "Mode", self.modes)
        _write_range(node, "YrGain", self.yr_gain)
        _write_range(node, "YbGain", self.yb_gain)
        return node


@dataclass(frozen=True, slots=True)
class ImagingOptions:
    """``tt:ImagingOptions20``: what a video source accepts.

    ``None`` (or an empty tuple of modes) means the camera did not say, and
    :meth:`check` then lets the value through: the camera is the final judge.
    """

    backlight_compensation: BacklightCompensationOptions | None = None
    brightness: FloatRange | None = None
    color_saturation: FloatRange | None = None
    contrast: FloatRange | None = None
    exposure: ExposureOptions | None = None
    focus: FocusOptions | None = None
    ir_cut_filter_modes: tuple[IrCutFilterMode, ...] = ()
    sharpness: FloatRange | None = None
    wide_dynamic_range: WideDynamicRangeOptions | None = None
    white_balance: WhiteBalanceOptions | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = "GetOptions") -> ImagingOptions:
        blc = child(element, "BacklightCompensation")
        exposure = child(element, "Exposure")
        focus = child(element, "Focus")
        wdr = child(element, "WideDynamicRange")
        white_balance = child(element, "WhiteBalance")
        return cls(
            backlight_compensation=(
                BacklightCompensationOptions.from_xml(blc, operation=operation)
                if blc is not None
                else None
            ),
            brightness=float_range_at(element, "Brightness", operation=operation),
            color_saturation=float_range_at(element, "ColorSaturation", operation=operation),
            contrast=float_range_at(element, "Contrast", operation=operation),
            exposure=(
                ExposureOptions.from_xml(exposure, operation=operation)
                if exposure is not None
                else None
            ),
            focus=FocusOptions.from_xml(focus, operation=operation) if focus is not None else None,
            ir_cut_filter_modes=_modes(IrCutFilterMode, element, "IrCutFilterModes", operation),
            sharpness=float_range_at(element, "Sharpness", operation=operation),
            wide_dynamic_range=(
                WideDynamicRangeOptions.from_xml(wdr, operation=operation)
                if wdr is not None
                else None
            ),
            white_balance=(
                WhiteBalanceOptions.from_xml(white_balance, operation=operation)
                if white_balance is not None
                else None
            ),
        )

    def to_xml(
        self, parent: Element, name: str = "ImagingOptions", namespace: str = TIMG
    ) -> Element:
        node = sub(parent, namespace, name)
        if self.backlight_compensation is not None:
            self.backlight_compensation.to_xml(node)
        _write_range(node, "Brightness", self.brightness)
        _write_range(node, "ColorSaturation", self.color_saturation)
        _write_range(node, "Contrast", self.contrast)
        if self.exposure is not None:
            self.exposure.to_xml(node)
        if self.focus is not None:
            self.focus.to_xml(node)
        _write_modes(node, "IrCutFilterModes", self.ir_cut_filter_modes)
        _write_range(node, "Sharpness", self.sharpness)
        if self.wide_dynamic_range is not None:
            self.wide_dynamic_range.to_xml(node)
        if self.white_balance is not None:
            self.white_balance.to_xml(node)
        return node

    def check(self, settings: ImagingSettings) -> None:
        """Refuse settings these options rule out, before anything is sent.

        Raises :class:`LocalProtocolError` for the first value outside its
        range (naming the field, the value and the range) or mode outside the
        allowed modes (naming them). Values the options give no range for pass.
        """
        _in_range("brightness", settings.brightness, self.brightness)
        _in_range("color_saturation", settings.color_saturation, self.color_saturation)
        _in_range("contrast", settings.contrast, self.contrast)
        _in_range("sharpness", settings.sharpness, self.sharpness)
        if settings.ir_cut_filter is not None:
            _allowed("ir_cut_filter", settings.ir_cut_filter, self.ir_cut_filter_modes)
        blc, blc_options = settings.backlight_compensation, self.backlight_compensation
        if blc is not None and blc_options is not None:
            _allowed("backlight_compensation.mode", blc.mode, blc_options.modes)
            _in_range("backlight_compensation.level", blc.level, blc_options.level)
        exposure, exposure_options = settings.exposure, self.exposure
        if exposure is not None and exposure_options is not None:
            _allowed("exposure.mode", exposure.mode, exposure_options.modes)
            if exposure.priority is not None:
                _allowed("exposure.priority", exposure.priority, exposure_options.priorities)
            for attribute, _ in _EXPOSURE_RANGES:
                _in_range(
                    f"exposure.{attribute}",
                    getattr(exposure, attribute),
                    getattr(exposure_options, attribute),
                )
        focus, focus_options = settings.focus, self.focus
        if focus is not None and focus_options is not None:
            _allowed("focus.auto_focus_mode", focus.auto_focus_mode, focus_options.auto_focus_modes)
            _in_range("focus.default_speed", focus.default_speed, focus_options.default_speed)
            _in_range("focus.near_limit", focus.near_limit, focus_options.near_limit)
            _in_range("focus.far_limit", focus.far_limit, focus_options.far_limit)
        wdr, wdr_options = settings.wide_dynamic_range, self.wide_dynamic_range
        if wdr is not None and wdr_options is not None:
            _allowed("wide_dynamic_range.mode", wdr.mode, wdr_options.modes)
            _in_range("wide_dynamic_range.level", wdr.level, wdr_options.level)
        white_balance, wb_options = settings.white_balance, self.white_balance
        if white_balance is not None and wb_options is not None:
            _allowed("white_balance.mode", white_balance.mode, wb_options.modes)
            _in_range("white_balance.cr_gain", white_balance.cr_gain, wb_options.yr_gain)
            _in_range("white_balance.cb_gain", white_balance.cb_gain, wb_options.yb_gain)


def _tolerance(bound: float) -> float:
    # Cameras print bounds with few digits ("1.000000") and xs:float is single
    # precision: a value equal to a bound after float32 rounding is in range.
    return 1e-6 * max(1.0, abs(bound))


def _in_range(field: str, value: float | None, allowed: FloatRange | None) -> None:
    if value is None or allowed is None:
        return
    low, high = allowed.min, allowed.max
    if not (low - _tolerance(low) <= value <= high + _tolerance(high)):
        raise LocalProtocolError(
            f"{field} {value:g} is outside the camera's range {low:g}..{high:g}"
        )


def _allowed(field: str, value: enum.StrEnum, modes: tuple[enum.StrEnum, ...]) -> None:
    if modes and value not in modes:
        names = ", ".join(mode.value for mode in modes)
        raise LocalProtocolError(
            f"{field} {value.value} is not one of the camera's modes ({names})"
        )


# ----------------------------------------------------------------------------- focus moves


@dataclass(frozen=True, slots=True)
class AbsoluteFocus:
    """Move the focus to ``position`` (``tt:AbsoluteFocus``)."""

    position: float
    speed: float | None = None


@dataclass(frozen=True, slots=True)
class RelativeFocus:
    """Move the focus by ``distance`` (``tt:RelativeFocus``); negative is nearer."""

    distance: float
    speed: float | None = None


@dataclass(frozen=True, slots=True)
class ContinuousFocus:
    """Focus continuously at ``speed`` until :func:`Stop` (``tt:ContinuousFocus``)."""

    speed: float


FocusMove = AbsoluteFocus | RelativeFocus | ContinuousFocus


def write_focus_move(parent: Element, move: FocusMove) -> Element:
    """``tt:FocusMove`` as the ``timg:Focus`` child of an imaging Move request."""
    node = sub(parent, TIMG, "Focus")
    if isinstance(move, AbsoluteFocus):
        inner = sub(node, TT, "Absolute")
        sub(inner, TT, "Position", xml_float(move.position))
        _write_float(inner, "Speed", move.speed)
    elif isinstance(move, RelativeFocus):
        inner = sub(node, TT, "Relative")
        sub(inner, TT, "Distance", xml_float(move.distance))
        _write_float(inner, "Speed", move.speed)
    else:
        inner = sub(node, TT, "Continuous")
        sub(inner, TT, "Speed", xml_float(move.speed))
    return node


# ----------------------------------------------------------------------------- capabilities


@dataclass(frozen=True, slots=True)
class ImagingServiceCapabilities:
    """``timg:Capabilities`` attributes (``None`` when the camera leaves one out)."""

    image_stabilization: bool | None = None
    presets: bool | None = None
    adaptable_preset: bool | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "GetServiceCapabilities"
    ) -> ImagingServiceCapabilities:
        def flag(name: str) -> bool | None:
            raw = attr(element, name)
            return to_bool(raw, element=element, operation=operation) if raw else None

        return cls(
            image_stabilization=flag("ImageStabilization"),
            presets=flag("Presets"),
            adaptable_preset=flag("AdaptablePreset"),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TIMG, "Capabilities")
        for name, value in (
            ("ImageStabilization", self.image_stabilization),
            ("Presets", self.presets),
            ("AdaptablePreset", self.adaptable_preset),
        ):
            if value is not None:
                node.set(name, "true" if value else "false")
        return node
