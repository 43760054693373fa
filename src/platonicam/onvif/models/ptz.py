"""PTZ service (tptz, ver20) types: nodes, configurations, options, status, presets.

Coordinates are given in *spaces* named by URI (``.../PanTiltSpaces/PositionGenericSpace``
maps pan and tilt to -1..1). :class:`PTZVector` and :class:`PTZSpeed` carry pan,
tilt and zoom as plain numbers plus the space URI of each part; ``None`` means
"leave that axis alone" in a request and "not reported" in an answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Self

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models._values import (
    DurationRange,
    require_float_range,
    write_float_range,
    xml_float,
)
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TPTZ, TT
from platonicam.onvif.soap.xmlread import (
    attr,
    child,
    children,
    datetime_at,
    duration_at,
    format_duration,
    int_at,
    path_of,
    require,
    require_text,
    text,
    to_bool,
    to_float,
)

Element = etree._Element

#: The generic spaces every PTZ node supports (ONVIF PTZ spec, section 5.7).
PAN_TILT_POSITION_GENERIC: Final = (
    "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
)
ZOOM_POSITION_GENERIC: Final = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"
PAN_TILT_VELOCITY_GENERIC: Final = (
    "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
)
ZOOM_VELOCITY_GENERIC: Final = "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace"


class MoveStatus(enum.StrEnum):
    IDLE = "IDLE"
    MOVING = "MOVING"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, raw: str) -> MoveStatus:
        """Case-insensitive; a word outside the enumeration reads as ``UNKNOWN``,
        which is what the camera is telling us about the axis."""
        try:
            return cls(raw.strip().upper())
        except ValueError:
            return cls.UNKNOWN


def _float_attr(element: Element, name: str, operation: str | None) -> float:
    raw = attr(element, name)
    if raw is None or not raw:
        raise RemoteProtocolError(
            f"missing attribute {name}", operation=operation, path=path_of(element)
        )
    return to_float(raw, element=element, operation=operation)


# ----------------------------------------------------------------------------- vectors


@dataclass(frozen=True, slots=True)
class _PTZTriple:
    pan: float | None = None
    tilt: float | None = None
    zoom: float | None = None
    pan_tilt_space: str | None = None
    zoom_space: str | None = None

    def __post_init__(self) -> None:
        # tt:Vector2D has x and y both required: half a pan/tilt cannot be sent.
        if (self.pan is None) != (self.tilt is None):
            raise LocalProtocolError(
                f"{type(self).__name__} needs pan and tilt together (got pan={self.pan}, "
                f"tilt={self.tilt})"
            )

    @property
    def is_empty(self) -> bool:
        return self.pan is None and self.zoom is None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> Self:
        """Read ``PanTilt x= y= space=`` and ``Zoom x= space=`` children."""
        pan_tilt = child(element, "PanTilt")
        zoom = child(element, "Zoom")
        return cls(
            pan=_float_attr(pan_tilt, "x", operation) if pan_tilt is not None else None,
            tilt=_float_attr(pan_tilt, "y", operation) if pan_tilt is not None else None,
            zoom=_float_attr(zoom, "x", operation) if zoom is not None else None,
            pan_tilt_space=attr(pan_tilt, "space") or None,
            zoom_space=attr(zoom, "space") or None,
        )

    def to_xml(self, parent: Element, name: str, namespace: str = TT) -> Element:
        node = sub(parent, namespace, name)
        if self.pan is not None and self.tilt is not None:
            pan_tilt = sub(node, TT, "PanTilt", x=xml_float(self.pan), y=xml_float(self.tilt))
            if self.pan_tilt_space is not None:
                pan_tilt.set("space", self.pan_tilt_space)
        if self.zoom is not None:
            zoom = sub(node, TT, "Zoom", x=xml_float(self.zoom))
            if self.zoom_space is not None:
                zoom.set("space", self.zoom_space)
        return node


@dataclass(frozen=True, slots=True)
class PTZVector(_PTZTriple):
    """``tt:PTZVector``: a position or a translation. ``pan`` and ``tilt`` come
    together (raises :class:`LocalProtocolError` otherwise)."""


@dataclass(frozen=True, slots=True)
class PTZSpeed(_PTZTriple):
    """``tt:PTZSpeed``: a velocity (ContinuousMove) or a speed limit for a move.
    ``pan`` and ``tilt`` come together (raises :class:`LocalProtocolError` otherwise)."""


# ----------------------------------------------------------------------------- spaces


@dataclass(frozen=True, slots=True)
class Space2D:
    """``tt:Space2DDescription``: a pan/tilt space and its x (pan) and y (tilt) ranges."""

    uri: str
    x_range: FloatRange
    y_range: FloatRange

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> Space2D:
        return cls(
            uri=require_text(element, "URI", operation=operation),
            x_range=require_float_range(element, "XRange", operation=operation),
            y_range=require_float_range(element, "YRange", operation=operation),
        )

    def to_xml(self, parent: Element, name: str, namespace: str = TT) -> Element:
        node = sub(parent, namespace, name)
        sub(node, TT, "URI", self.uri)
        write_float_range(node, TT, "XRange", self.x_range)
        write_float_range(node, TT, "YRange", self.y_range)
        return node


@dataclass(frozen=True, slots=True)
class Space1D:
    """``tt:Space1DDescription``: a zoom or speed space and its range."""

    uri: str
    x_range: FloatRange

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> Space1D:
        return cls(
            uri=require_text(element, "URI", operation=operation),
            x_range=require_float_range(element, "XRange", operation=operation),
        )

    def to_xml(self, parent: Element, name: str, namespace: str = TT) -> Element:
        node = sub(parent, namespace, name)
        sub(node, TT, "URI", self.uri)
        write_float_range(node, TT, "XRange", self.x_range)
        return node


@dataclass(frozen=True, slots=True)
class PTZSpaces:
    """``tt:PTZSpaces``: every coordinate space a node (or configuration) supports."""

    absolute_pan_tilt_position: tuple[Space2D, ...] = ()
    absolute_zoom_position: tuple[Space1D, ...] = ()
    relative_pan_tilt_translation: tuple[Space2D, ...] = ()
    relative_zoom_translation: tuple[Space1D, ...] = ()
    continuous_pan_tilt_velocity: tuple[Space2D, ...] = ()
    continuous_zoom_velocity: tuple[Space1D, ...] = ()
    pan_tilt_speed: tuple[Space1D, ...] = ()
    zoom_speed: tuple[Space1D, ...] = ()

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> PTZSpaces:
        def two(name: str) -> tuple[Space2D, ...]:
            return tuple(Space2D.from_xml(n, operation=operation) for n in children(element, name))

        def one(name: str) -> tuple[Space1D, ...]:
            return tuple(Space1D.from_xml(n, operation=operation) for n in children(element, name))

        return cls(
            absolute_pan_tilt_position=two("AbsolutePanTiltPositionSpace"),
            absolute_zoom_position=one("AbsoluteZoomPositionSpace"),
            relative_pan_tilt_translation=two("RelativePanTiltTranslationSpace"),
            relative_zoom_translation=one("RelativeZoomTranslationSpace"),
            continuous_pan_tilt_velocity=two("ContinuousPanTiltVelocitySpace"),
            continuous_zoom_velocity=one("ContinuousZoomVelocitySpace"),
            pan_tilt_speed=one("PanTiltSpeedSpace"),
            zoom_speed=one("ZoomSpeedSpace"),
        )

    def to_xml(self, parent: Element, name: str, namespace: str = TT) -> Element:
        node = sub(parent, namespace, name)
        for space2 in self.absolute_pan_tilt_position:
            space2.to_xml(node, "AbsolutePanTiltPositionSpace")
        for space1 in self.absolute_zoom_position:
            space1.to_xml(node, "AbsoluteZoomPositionSpace")
        for space2 in self.relative_pan_tilt_translation:
            space2.to_xml(node, "RelativePanTiltTranslationSpace")
        for space1 in self.relative_zoom_translation:
            space1.to_xml(node, "RelativeZoomTranslationSpace")
        for space2 in self.continuous_pan_tilt_velocity:
            space2.to_xml(node, "ContinuousPanTiltVelocitySpace")
        for space1 in self.continuous_zoom_velocity:
            space1.to_xml(node, "ContinuousZoomVelocitySpace")
        for space1 in self.pan_tilt_speed:
            space1.to_xml(node, "PanTiltSpeedSpace")
        for space1 in self.zoom_speed:
            space1.to_xml(node, "ZoomSpeedSpace")
        return node


def _token(element: Element, operation: str | None) -> str:
    token = attr(element, "token")
    if not token:
        raise RemoteProtocolError(
            "missing attribute token", operation=operation, path=path_of(element)
        )
    return token


def _optional_bool_attr(element: Element, name: str, operation: str | None) -> bool | None:
    raw = attr(element, name)
    return to_bool(raw, element=element, operation=operation) if raw else None


# ----------------------------------------------------------------------------- node


@dataclass(frozen=True, slots=True)
class PTZNode:
    """``tt:PTZNode``: one PTZ-capable mechanism (or digital PTZ) and what it supports."""

    token: str
    name: str | None
    supported_spaces: PTZSpaces
    max_presets: int
    home_supported: bool
    auxiliary_commands: tuple[str, ...] = ()
    fixed_home_position: bool | None = None
    geo_move: bool | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = "GetNodes") -> PTZNode:
        """Empty ``AuxiliaryCommands`` elements are skipped: the Hikvision
        DS-2DF7276-AEL sends ``<tt:AuxiliaryCommands/>`` when it has none (corpus
        ``ptz/hikvision_DS-2DF7276-AEL_GetNode.xml``)."""
        max_presets = int_at(element, "MaximumNumberOfPresets", operation=operation)
        home = child(element, "HomeSupported")
        return cls(
            token=_token(element, operation),
            name=text(element, "Name") or None,
            supported_spaces=PTZSpaces.from_xml(
                require(element, "SupportedPTZSpaces", operation=operation), operation=operation
            ),
            max_presets=max_presets if max_presets is not None else 0,
            home_supported=(
                to_bool(text(home) or "false", element=home, operation=operation)
                if home is not None
                else False
            ),
            auxiliary_commands=tuple(
                value
                for value in (text(node) for node in children(element, "AuxiliaryCommands"))
                if value
            ),
            fixed_home_position=_optional_bool_attr(element, "FixedHomePosition", operation),
            geo_move=_optional_bool_attr(element, "GeoMove", operation),
        )

    def to_xml(self, parent: Element, name: str = "PTZNode", namespace: str = TPTZ) -> Element:
        node = sub(parent, namespace, name, token=self.token)
        if self.fixed_home_position is not None:
            node.set("FixedHomePosition", xml_bool(self.fixed_home_position))
        if self.geo_move is not None:
            node.set("GeoMove", xml_bool(self.geo_move))
        if self.name is not None:
            sub(node, TT, "Name", self.name)
        self.supported_spaces.to_xml(node, "SupportedPTZSpaces")
        sub(node, TT, "MaximumNumberOfPresets", str(self.max_presets))
        sub(node, TT, "HomeSupported", xml_bool(self.home_supported))
        for command in self.auxiliary_commands:
            sub(node, TT, "AuxiliaryCommands", command)
        return node


# ----------------------------------------------------------------------------- configuration


def _limits_2d(element: Element, name: str, operation: str | None) -> Space2D | None:
    node = child(element, name, "Range")
    return Space2D.from_xml(node, operation=operation) if node is not None else None


def _limits_1d(element: Element, name: str, operation: str | None) -> Space1D | None:
    node = child(element, name, "Range")
    return Space1D.from_xml(node, operation=operation) if node is not None else None


# The XSD spells this element "DefaultAbsolutePantTiltPositionSpace" (sic), and every
# camera in the corpus follows it (ptz/*_GetConfiguration*.xml); the corrected
# spelling is read too in case firmware ever fixes it.
_PANT_TILT: Final = "DefaultAbsolutePantTiltPositionSpace"


@dataclass(frozen=True, slots=True)
class PTZConfiguration:
    """``tt:PTZConfiguration``: how a media profile drives a PTZ node.

    The ``default_*_space`` fields are space URIs used when a request names
    none; ``default_timeout`` bounds ContinuousMove when the request has no
    timeout; the limits (in the given space) narrow where the node may go.
    """

    token: str
    name: str | None
    node_token: str
    use_count: int | None = None
    default_absolute_pan_tilt_position_space: str | None = None
    default_absolute_zoom_position_space: str | None = None
    default_relative_pan_tilt_translation_space: str | None = None
    default_relative_zoom_translation_space: str | None = None
    default_continuous_pan_tilt_velocity_space: str | None = None
    default_continuous_zoom_velocity_space: str | None = None
    default_speed: PTZSpeed | None = None
    default_timeout: timedelta | None = None
    pan_tilt_limits: Space2D | None = None
    zoom_limits: Space1D | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "GetConfigurations"
    ) -> PTZConfiguration:
        speed = child(element, "DefaultPTZSpeed")
        return cls(
            token=_token(element, operation),
            name=text(element, "Name") or None,
            node_token=text(require(element, "NodeToken", operation=operation)) or "",
            use_count=int_at(element, "UseCount", operation=operation),
            default_absolute_pan_tilt_position_space=(
                text(element, _PANT_TILT)
                or text(element, "DefaultAbsolutePanTiltPositionSpace")
                or None
            ),
            default_absolute_zoom_position_space=text(element, "DefaultAbsoluteZoomPositionSpace")
            or None,
            default_relative_pan_tilt_translation_space=text(
                element, "DefaultRelativePanTiltTranslationSpace"
            )
            or None,
            default_relative_zoom_translation_space=text(
                element, "DefaultRelativeZoomTranslationSpace"
            )
            or None,
            default_continuous_pan_tilt_velocity_space=text(
                element, "DefaultContinuousPanTiltVelocitySpace"
            )
            or None,
            default_continuous_zoom_velocity_space=text(
                element, "DefaultContinuousZoomVelocitySpace"
            )
            or None,
            default_speed=PTZSpeed.from_xml(speed, operation=operation)
            if speed is not None
            else None,
            default_timeout=duration_at(element, "DefaultPTZTimeout", operation=operation),
            pan_tilt_limits=_limits_2d(element, "PanTiltLimits", operation),
            zoom_limits=_limits_1d(element, "ZoomLimits", operation),
        )

    def to_xml(
        self, parent: Element, name: str = "PTZConfiguration", namespace: str = TPTZ
    ) -> Element:
        node = sub(parent, namespace, name, token=self.token)
        # tt:ConfigurationEntity requires Name and UseCount.
        sub(node, TT, "Name", self.name or "")
        sub(node, TT, "UseCount", str(self.use_count or 0))
        sub(node, TT, "NodeToken", self.node_token)
        for element_name, value in (
            (_PANT_TILT, self.default_absolute_pan_tilt_position_space),
            ("DefaultAbsoluteZoomPositionSpace", self.default_absolute_zoom_position_space),
            (
                "DefaultRelativePanTiltTranslationSpace",
                self.default_relative_pan_tilt_translation_space,
            ),
            ("DefaultRelativeZoomTranslationSpace", self.default_relative_zoom_translation_space),
            (
                "DefaultContinuousPanTiltVelocitySpace",
                self.default_continuous_pan_tilt_velocity_space,
            ),
            ("DefaultContinuousZoomVelocitySpace", self.default_continuous_zoom_velocity_space),
        ):
            if value is not None:
                sub(node, TT, element_name, value)
        if self.default_speed is not None:
            self.default_speed.to_xml(node, "DefaultPTZSpeed")
        if self.default_timeout is not None:
            sub(node, TT, "DefaultPTZTimeout", format_duration(self.default_timeout))
        if self.pan_tilt_limits is not None:
            self.pan_tilt_limits.to_xml(sub(node, TT, "PanTiltLimits"), "Range")
        if self.zoom_limits is not None:
            self.zoom_limits.to_xml(sub(node, TT, "ZoomLimits"), "Range")
        return node


@dataclass(frozen=True, slots=True)
class PTZConfigurationOptions:
    """``tt:PTZConfigurationOptions``: the spaces a configuration may use and
    the allowed ContinuousMove timeouts."""

    spaces: PTZSpaces
    timeout: DurationRange | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "GetConfigurationOptions"
    ) -> PTZConfigurationOptions:
        timeout = child(element, "PTZTimeout")
        return cls(
            spaces=PTZSpaces.from_xml(
                require(element, "Spaces", operation=operation), operation=operation
            ),
            timeout=DurationRange.from_xml(timeout, operation=operation)
            if timeout is not None
            else None,
        )

    def to_xml(
        self, parent: Element, name: str = "PTZConfigurationOptions", namespace: str = TPTZ
    ) -> Element:
        node = sub(parent, namespace, name)
        self.spaces.to_xml(node, "Spaces")
        if self.timeout is not None:
            self.timeout.to_xml(node, "PTZTimeout")
        return node


# ----------------------------------------------------------------------------- status, presets


def _format_utc(value: datetime) -> str:
    # Milliseconds normally, microseconds when the camera gave them (Pelco D6230L:
    # "2018-02-27T14:57:08.890590Z", corpus ptz/pelco_D6230L_GetStatus.xml), and
    # always the "Z" form some firmware insists on.
    utc = value.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@dataclass(frozen=True, slots=True)
class PTZStatus:
    """``tt:PTZStatus``: where the head is and whether it moves.

    ``error`` is the camera's free text (the Hikvision DS-2DF7276-AEL reports
    ``NO error`` and no MoveStatus at all: corpus
    ``ptz/hikvision_DS-2DF7276-AEL_GetStatus.xml``). ``utc_time`` is required by
    the XSD but read as ``None`` when absent.
    """

    position: PTZVector | None = None
    pan_tilt_move_status: MoveStatus | None = None
    zoom_move_status: MoveStatus | None = None
    error: str | None = None
    utc_time: datetime | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = "GetStatus") -> PTZStatus:
        position = child(element, "Position")
        pan_tilt_status = text(element, "MoveStatus", "PanTilt")
        zoom_status = text(element, "MoveStatus", "Zoom")
        return cls(
            position=PTZVector.from_xml(position, operation=operation)
            if position is not None
            else None,
            pan_tilt_move_status=MoveStatus.parse(pan_tilt_status) if pan_tilt_status else None,
            zoom_move_status=MoveStatus.parse(zoom_status) if zoom_status else None,
            error=text(element, "Error"),
            utc_time=datetime_at(element, "UtcTime", operation=operation),
        )

    def to_xml(self, parent: Element, name: str = "PTZStatus", namespace: str = TPTZ) -> Element:
        node = sub(parent, namespace, name)
        if self.position is not None:
            self.position.to_xml(node, "Position")
        if self.pan_tilt_move_status is not None or self.zoom_move_status is not None:
            move = sub(node, TT, "MoveStatus")
            if self.pan_tilt_move_status is not None:
                sub(move, TT, "PanTilt", self.pan_tilt_move_status.value)
            if self.zoom_move_status is not None:
                sub(move, TT, "Zoom", self.zoom_move_status.value)
        if self.error is not None:
            sub(node, TT, "Error", self.error)
        if self.utc_time is not None:
            sub(node, TT, "UtcTime", _format_utc(self.utc_time))
        return node


@dataclass(frozen=True, slots=True)
class PTZPreset:
    """``tt:PTZPreset``. Name and position are optional: the Hikvision
    DS-2DF7276-AEL lists all 255 preset slots, most with neither (corpus
    ``ptz/hikvision_DS-2DF7276-AEL_GetPresets.xml``)."""

    token: str
    name: str | None = None
    position: PTZVector | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = "GetPresets") -> PTZPreset:
        position = child(element, "PTZPosition")
        return cls(
            token=_token(element, operation),
            name=text(element, "Name"),
            position=PTZVector.from_xml(position, operation=operation)
            if position is not None
            else None,
        )

    def to_xml(self, parent: Element, name: str = "Preset", namespace: str = TPTZ) -> Element:
        node = sub(parent, namespace, name, token=self.token)
        if self.name is not None:
            sub(node, TT, "Name", self.name)
        if self.position is not None:
            self.position.to_xml(node, "PTZPosition")
        return node


@dataclass(frozen=True, slots=True)
class PTZServiceCapabilities:
    """``tptz:Capabilities`` attributes (``None`` when the camera leaves one out)."""

    eflip: bool | None = None
    reverse: bool | None = None
    get_compatible_configurations: bool | None = None
    move_status: bool | None = None
    status_position: bool | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "GetServiceCapabilities"
    ) -> PTZServiceCapabilities:
        return cls(
            eflip=_optional_bool_attr(element, "EFlip", operation),
            reverse=_optional_bool_attr(element, "Reverse", operation),
            get_compatible_configurations=_optional_bool_attr(
                element, "GetCompatibleConfigurations", operation
            ),
            move_status=_optional_bool_attr(element, "MoveStatus", operation),
            status_position=_optional_bool_attr(element, "StatusPosition", operation),
        )

    def to_xml(self, parent: Element) -> Element:
        node = sub(parent, TPTZ, "Capabilities")
        for name, value in (
            ("EFlip", self.eflip),
            ("Reverse", self.reverse),
            ("GetCompatibleConfigurations", self.get_compatible_configurations),
            ("MoveStatus", self.move_status),
            ("StatusPosition", self.status_position),
        ):
            if value is not None:
                node.set(name, xml_bool(value))
        return node
