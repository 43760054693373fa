"""Device management (tds) types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS, TT
from platonicam.onvif.soap.xmlread import (
    bool_at,
    child,
    children,
    int_at,
    path_of,
    require_text,
    text,
)


def _version_from(element: etree._Element | None) -> Version | None:
    if element is None:
        return None
    major = int_at(element, "Major")
    minor = int_at(element, "Minor")
    if major is None:
        return None
    return Version(major, minor or 0)


def _date_time_from(element: etree._Element | None, *, operation: str) -> datetime | None:
    """A ``tt:DateTime`` (Date/Year..Day + Time/Hour..Second) as a naive datetime."""
    if element is None:
        return None
    year = int_at(element, "Date", "Year", operation=operation)
    month = int_at(element, "Date", "Month", operation=operation)
    day = int_at(element, "Date", "Day", operation=operation)
    hour = int_at(element, "Time", "Hour", operation=operation) or 0
    minute = int_at(element, "Time", "Minute", operation=operation) or 0
    second = int_at(element, "Time", "Second", operation=operation) or 0
    if year is None or month is None or day is None:
        return None
    try:
        # Some firmware reports second=60 (leap) or hour=24: carry them over.
        base = datetime(year, month, day)
    except ValueError:
        raise RemoteProtocolError(
            f"impossible date {year}-{month}-{day}", operation=operation, path=path_of(element)
        ) from None
    return base + timedelta(hours=hour, minutes=minute, seconds=second)


def _write_date_time(parent: etree._Element, name: str, value: datetime) -> None:
    node = sub(parent, TT, name)
    time_node = sub(node, TT, "Time")
    sub(time_node, TT, "Hour", str(value.hour))
    sub(time_node, TT, "Minute", str(value.minute))
    sub(time_node, TT, "Second", str(value.second))
    date_node = sub(node, TT, "Date")
    sub(date_node, TT, "Year", str(value.year))
    sub(date_node, TT, "Month", str(value.month))
    sub(date_node, TT, "Day", str(value.day))


_POSIX_OFFSET = re.compile(r"^[A-Za-z]+|^<[^>]+>")


def posix_tz_offset(tz: str) -> timedelta | None:
    """The standard-time UTC offset of a POSIX TZ string (``CST-8`` -> +8 h).

    POSIX offsets are west-positive, the opposite of ISO 8601. Returns ``None``
    when the string has no readable offset.
    """
    rest = _POSIX_OFFSET.sub("", tz.strip(), count=1)
    match = re.match(r"^([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?", rest)
    if match is None:
        return None
    sign = -1 if match.group(1) != "-" else 1
    hours, minutes, seconds = (int(g or 0) for g in match.group(2, 3, 4))
    return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)


@dataclass(frozen=True, slots=True)
class SystemDateAndTime:
    """The camera's clock. ``utc`` is ``None`` only when the camera reports neither
    a UTC nor a usable local time."""

    date_time_type: str
    daylight_savings: bool
    time_zone: str | None
    utc: datetime | None
    local: datetime | None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetSystemDateAndTime"
    ) -> SystemDateAndTime:
        utc_naive = _date_time_from(child(element, "UTCDateTime"), operation=operation)
        local = _date_time_from(child(element, "LocalDateTime"), operation=operation)
        tz = text(element, "TimeZone", "TZ") or None
        utc: datetime | None = utc_naive.replace(tzinfo=UTC) if utc_naive else None
        if utc is None and local is not None:
            offset = posix_tz_offset(tz) if tz else None
            utc = (local - (offset or timedelta())).replace(tzinfo=UTC)
        return cls(
            date_time_type=text(element, "DateTimeType") or "Manual",
            daylight_savings=bool(bool_at(element, "DaylightSavings", operation=operation)),
            time_zone=tz,
            utc=utc,
            local=local,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "SystemDateAndTime")
        sub(node, TT, "DateTimeType", self.date_time_type)
        sub(node, TT, "DaylightSavings", xml_bool(self.daylight_savings))
        if self.time_zone:
            sub(sub(node, TT, "TimeZone"), TT, "TZ", self.time_zone)
        if self.utc is not None:
            _write_date_time(node, "UTCDateTime", self.utc.astimezone(UTC))
        if self.local is not None:
            _write_date_time(node, "LocalDateTime", self.local)
        return node


@dataclass(frozen=True, slots=True)
class Service:
    """One entry of GetServices: a service's namespace, address and version."""

    namespace: str
    xaddr: str
    version: Version | None

    @property
    def kind(self) -> ServiceKind | None:
        return ServiceKind.from_namespace(self.namespace)

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetServices") -> Service:
        return cls(
            namespace=require_text(element, "Namespace", operation=operation),
            xaddr=require_text(element, "XAddr", operation=operation),
            version=_version_from(child(element, "Version")),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "Service")
        sub(node, TDS, "Namespace", self.namespace)
        sub(node, TDS, "XAddr", self.xaddr)
        if self.version is not None:
            version = sub(node, TDS, "Version")
            sub(version, TT, "Major", str(self.version.major))
            sub(version, TT, "Minor", str(self.version.minor))
        return node


# GetCapabilities categories, and where each keeps its XAddr.
_CAPABILITY_PATHS: dict[ServiceKind, tuple[str, ...]] = {
    ServiceKind.ANALYTICS: ("Analytics",),
    ServiceKind.DEVICE: ("Device",),
    ServiceKind.EVENTS: ("Events",),
    ServiceKind.IMAGING: ("Imaging",),
    ServiceKind.MEDIA: ("Media",),
    ServiceKind.PTZ: ("PTZ",),
    ServiceKind.DEVICEIO: ("Extension", "DeviceIO"),
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The GetCapabilities answer (the pre-GetServices way to find services).

    ``xaddrs`` maps each service the camera lists to its address. Flags the
    client uses are lifted out; the rest stays in the XML the caller can ask
    for with :meth:`OnvifClient.call`.
    """

    xaddrs: dict[ServiceKind, str] = field(default_factory=dict)
    supported_versions: tuple[Version, ...] = ()
    pull_point_support: bool | None = None
    rtp_multicast: bool | None = None
    rtp_tcp: bool | None = None
    rtp_rtsp_tcp: bool | None = None
    input_connectors: int | None = None
    relay_outputs: int | None = None
    analytics_rule_support: bool | None = None
    analytics_module_support: bool | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetCapabilities"
    ) -> Capabilities:
        xaddrs: dict[ServiceKind, str] = {}
        for kind, path in _CAPABILITY_PATHS.items():
            address = text(element, *path, "XAddr")
            if address:
                xaddrs[kind] = address
        system = child(element, "Device", "System")
        versions = (
            tuple(
                version
                for version in map(_version_from, children(system, "SupportedVersions"))
                if version is not None
            )
            if system is not None
            else ()
        )
        streaming = child(element, "Media", "StreamingCapabilities")
        return cls(
            xaddrs=xaddrs,
            supported_versions=versions,
            pull_point_support=bool_at(
                element, "Events", "WSPullPointSupport", operation=operation
            ),
            rtp_multicast=bool_at(streaming, "RTPMulticast", operation=operation),
            rtp_tcp=bool_at(streaming, "RTP_TCP", operation=operation),
            rtp_rtsp_tcp=bool_at(streaming, "RTP_RTSP_TCP", operation=operation),
            input_connectors=int_at(
                element, "Device", "IO", "InputConnectors", operation=operation
            ),
            relay_outputs=int_at(element, "Device", "IO", "RelayOutputs", operation=operation),
            analytics_rule_support=bool_at(
                element, "Analytics", "RuleSupport", operation=operation
            ),
            analytics_module_support=bool_at(
                element, "Analytics", "AnalyticsModuleSupport", operation=operation
            ),
        )
