"""Device management (tds) types, shared by the client and the reference device.

Every model reads itself with ``from_xml`` (lenient: children by local name,
values stripped, see :mod:`platonicam.onvif.soap.xmlread`) and writes itself
with ``to_xml`` in the schema's element order, so that
``Model.from_xml(model.to_xml(parent)) == model``.

Passwords (:class:`User`) never appear in a ``repr``; parsers of camera answers
drop any password a camera might echo.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS, TT
from platonicam.onvif.soap.xmlread import (
    attr,
    bool_at,
    child,
    children,
    duration_at,
    format_duration,
    int_at,
    path_of,
    require,
    require_text,
    text,
)

_E = TypeVar("_E", bound=enum.StrEnum)


class DateTimeType(enum.StrEnum):
    """How the camera sets its clock (``tt:SetDateTimeType``)."""

    MANUAL = "Manual"
    NTP = "NTP"


class UserLevel(enum.StrEnum):
    """``tt:UserLevel``: the ONVIF access classes, strongest first."""

    ADMINISTRATOR = "Administrator"
    OPERATOR = "Operator"
    USER = "User"
    ANONYMOUS = "Anonymous"
    EXTENDED = "Extended"


class DiscoveryMode(enum.StrEnum):
    """``tt:DiscoveryMode``: whether the camera answers WS-Discovery probes."""

    DISCOVERABLE = "Discoverable"
    NON_DISCOVERABLE = "NonDiscoverable"


class ScopeDefinition(enum.StrEnum):
    """``tt:ScopeDefinition``: fixed scopes cannot be changed with SetScopes."""

    FIXED = "Fixed"
    CONFIGURABLE = "Configurable"


class IPType(enum.StrEnum):
    """``tt:IPType``."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"


class NetworkHostType(enum.StrEnum):
    """``tt:NetworkHostType``: how a :class:`NetworkHost` names its host."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"
    DNS = "DNS"


class RelayMode(enum.StrEnum):
    """``tt:RelayMode``: monostable relays fall back after ``delay_time``."""

    MONOSTABLE = "Monostable"
    BISTABLE = "Bistable"


class RelayIdleState(enum.StrEnum):
    """``tt:RelayIdleState`` (lower case on the wire)."""

    CLOSED = "closed"
    OPEN = "open"


class IPv6DHCPConfiguration(enum.StrEnum):
    """``tt:IPv6DHCPConfiguration``."""

    AUTO = "Auto"
    STATEFUL = "Stateful"
    STATELESS = "Stateless"
    OFF = "Off"


class Duplex(enum.StrEnum):
    """``tt:Duplex``."""

    FULL = "Full"
    HALF = "Half"


def _enum_at(
    cls: type[_E], element: etree._Element | None, *names: str, operation: str | None
) -> _E | None:
    """The enumeration value at ``names``, matched without regard to case.

    ``None`` when the element is absent or empty; an unknown value is the
    camera's protocol error.
    """
    node = child(element, *names) if names else element
    raw = text(node)
    if node is None or not raw:
        return None
    folded = raw.casefold()
    for member in cls:
        if member.value.casefold() == folded:
            return member
    allowed = ", ".join(member.value for member in cls)
    raise RemoteProtocolError(
        f"one of {allowed} expected, got {raw!r}", operation=operation, path=path_of(node)
    )


def _require_enum(cls: type[_E], element: etree._Element, *names: str, operation: str | None) -> _E:
    value = _enum_at(cls, element, *names, operation=operation)
    if value is None:
        raise RemoteProtocolError(
            f"missing element {'/'.join(names)}", operation=operation, path=path_of(element)
        )
    return value


def _require_int(element: etree._Element, *names: str, operation: str | None) -> int:
    value = int_at(element, *names, operation=operation)
    if value is None:
        raise RemoteProtocolError(
            f"missing element {'/'.join(names)}", operation=operation, path=path_of(element)
        )
    return value


def _optional_text(element: etree._Element | None, *names: str) -> str | None:
    """Text at ``names``; an absent or empty element is ``None``."""
    return text(element, *names) or None


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


def write_date_time(
    parent: etree._Element, name: str, value: datetime, *, namespace: str = TT
) -> etree._Element:
    """Write ``value`` as a ``tt:DateTime`` named ``name`` (Time before Date, as the
    schema orders them). Sub-second parts are dropped: the type has none."""
    node = sub(parent, namespace, name)
    time_node = sub(node, TT, "Time")
    sub(time_node, TT, "Hour", str(value.hour))
    sub(time_node, TT, "Minute", str(value.minute))
    sub(time_node, TT, "Second", str(value.second))
    date_node = sub(node, TT, "Date")
    sub(date_node, TT, "Year", str(value.year))
    sub(date_node, TT, "Month", str(value.month))
    sub(date_node, TT, "Day", str(value.day))
    return node


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
    """The camera's clock (``tt:SystemDateTime``).

    ``utc`` is aware (UTC) and ``None`` only when the camera reports neither a
    UTC nor a usable local time; ``local`` is naive, in the camera's zone.
    ``time_zone`` is the POSIX TZ string as the camera wrote it (Hikvision
    writes ``CST7:00:00``, Bosch ``UTC5:0``: corpus ``device/*_GetSystemDateAndTime.xml``).
    """

    date_time_type: DateTimeType
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
        try:
            kind = _enum_at(DateTimeType, element, "DateTimeType", operation=operation)
        except RemoteProtocolError:
            # The clock is read before anything else on connect; an odd
            # DateTimeType must not stop us from using the time itself.
            kind = None
        return cls(
            date_time_type=kind or DateTimeType.MANUAL,
            daylight_savings=bool(bool_at(element, "DaylightSavings", operation=operation)),
            time_zone=tz,
            utc=utc,
            local=local,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:SystemDateAndTime`` (the GetSystemDateAndTime answer)."""
        node = sub(parent, TDS, "SystemDateAndTime")
        sub(node, TT, "DateTimeType", self.date_time_type.value)
        sub(node, TT, "DaylightSavings", xml_bool(self.daylight_savings))
        if self.time_zone:
            sub(sub(node, TT, "TimeZone"), TT, "TZ", self.time_zone)
        if self.utc is not None:
            write_date_time(node, "UTCDateTime", self.utc.astimezone(UTC))
        if self.local is not None:
            write_date_time(node, "LocalDateTime", self.local)
        return node


@dataclass(frozen=True, slots=True)
class DeviceInformation:
    """Who made the camera and what it runs (GetDeviceInformation).

    ``hardware_id`` is free text: Hikvision answers ``88``, Pelco a MAC address
    (corpus ``device/pelco_D6230L_GetDeviceInformation.xml``).
    """

    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetDeviceInformation"
    ) -> DeviceInformation:
        """Read from the GetDeviceInformationResponse element itself (the fields are
        its children). Manufacturer and Model are required; the rest default to ``""``."""
        return cls(
            manufacturer=require_text(element, "Manufacturer", operation=operation),
            model=require_text(element, "Model", operation=operation),
            firmware_version=text(element, "FirmwareVersion") or "",
            serial_number=text(element, "SerialNumber") or "",
            hardware_id=text(element, "HardwareId") or "",
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Write the five fields into ``parent`` (the response element) and return it."""
        sub(parent, TDS, "Manufacturer", self.manufacturer)
        sub(parent, TDS, "Model", self.model)
        sub(parent, TDS, "FirmwareVersion", self.firmware_version)
        sub(parent, TDS, "SerialNumber", self.serial_number)
        sub(parent, TDS, "HardwareId", self.hardware_id)
        return parent


@dataclass(frozen=True, slots=True)
class HostnameInformation:
    """The camera's host name and whether DHCP gave it (``name`` ``None``: none set)."""

    from_dhcp: bool
    name: str | None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetHostname"
    ) -> HostnameInformation:
        return cls(
            from_dhcp=bool(bool_at(element, "FromDHCP", operation=operation)),
            name=_optional_text(element, "Name"),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:HostnameInformation``."""
        node = sub(parent, TDS, "HostnameInformation")
        sub(node, TT, "FromDHCP", xml_bool(self.from_dhcp))
        if self.name is not None:
            sub(node, TT, "Name", self.name)
        return node


@dataclass(frozen=True, slots=True)
class IPAddress:
    """``tt:IPAddress``: an IPv4 or IPv6 address, as text."""

    type: IPType
    address: str

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str | None = None) -> IPAddress:
        """The address type is taken from ``Type``, or from which address element is
        present when ``Type`` is missing."""
        kind = _enum_at(IPType, element, "Type", operation=operation)
        v4 = _optional_text(element, "IPv4Address")
        v6 = _optional_text(element, "IPv6Address")
        if kind is None:
            kind = IPType.IPV6 if v6 and not v4 else IPType.IPV4
        address = v6 if kind is IPType.IPV6 else v4
        if address is None:
            raise RemoteProtocolError(
                f"missing element {kind.value}Address", operation=operation, path=path_of(element)
            )
        return cls(kind, address)

    def to_xml(self, parent: etree._Element, name: str, *, namespace: str = TT) -> etree._Element:
        node = sub(parent, namespace, name)
        sub(node, TT, "Type", self.type.value)
        sub(node, TT, f"{self.type.value}Address", self.address)
        return node


_HOST_ELEMENT = {
    NetworkHostType.IPV4: "IPv4Address",
    NetworkHostType.IPV6: "IPv6Address",
    NetworkHostType.DNS: "DNSname",
}


@dataclass(frozen=True, slots=True)
class NetworkHost:
    """``tt:NetworkHost``: a server named by IPv4, IPv6 address or DNS name."""

    type: NetworkHostType
    address: str

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str | None = None) -> NetworkHost:
        kind = _enum_at(NetworkHostType, element, "Type", operation=operation)
        if kind is None:
            kind = next(
                (k for k, name in _HOST_ELEMENT.items() if _optional_text(element, name)),
                NetworkHostType.IPV4,
            )
        address = _optional_text(element, _HOST_ELEMENT[kind])
        if address is None:
            raise RemoteProtocolError(
                f"missing element {_HOST_ELEMENT[kind]}", operation=operation, path=path_of(element)
            )
        return cls(kind, address)

    def to_xml(self, parent: etree._Element, name: str, *, namespace: str = TT) -> etree._Element:
        node = sub(parent, namespace, name)
        sub(node, TT, "Type", self.type.value)
        sub(node, TT, _HOST_ELEMENT[self.type], self.address)
        return node


@dataclass(frozen=True, slots=True)
class DNSInformation:
    """The camera's DNS settings (GetDNS): servers from DHCP and set by hand."""

    from_dhcp: bool
    search_domains: tuple[str, ...] = ()
    dns_from_dhcp: tuple[IPAddress, ...] = ()
    dns_manual: tuple[IPAddress, ...] = ()

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetDNS") -> DNSInformation:
        return cls(
            from_dhcp=bool(bool_at(element, "FromDHCP", operation=operation)),
            search_domains=tuple(
                value for node in children(element, "SearchDomain") if (value := text(node))
            ),
            dns_from_dhcp=tuple(
                IPAddress.from_xml(node, operation=operation)
                for node in children(element, "DNSFromDHCP")
            ),
            dns_manual=tuple(
                IPAddress.from_xml(node, operation=operation)
                for node in children(element, "DNSManual")
            ),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:DNSInformation``."""
        node = sub(parent, TDS, "DNSInformation")
        sub(node, TT, "FromDHCP", xml_bool(self.from_dhcp))
        for domain in self.search_domains:
            sub(node, TT, "SearchDomain", domain)
        for address in self.dns_from_dhcp:
            address.to_xml(node, "DNSFromDHCP")
        for address in self.dns_manual:
            address.to_xml(node, "DNSManual")
        return node


@dataclass(frozen=True, slots=True)
class NTPInformation:
    """The camera's NTP servers (GetNTP), from DHCP and set by hand."""

    from_dhcp: bool
    ntp_from_dhcp: tuple[NetworkHost, ...] = ()
    ntp_manual: tuple[NetworkHost, ...] = ()

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetNTP") -> NTPInformation:
        return cls(
            from_dhcp=bool(bool_at(element, "FromDHCP", operation=operation)),
            ntp_from_dhcp=tuple(
                NetworkHost.from_xml(node, operation=operation)
                for node in children(element, "NTPFromDHCP")
            ),
            ntp_manual=tuple(
                NetworkHost.from_xml(node, operation=operation)
                for node in children(element, "NTPManual")
            ),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:NTPInformation``."""
        node = sub(parent, TDS, "NTPInformation")
        sub(node, TT, "FromDHCP", xml_bool(self.from_dhcp))
        for host in self.ntp_from_dhcp:
            host.to_xml(node, "NTPFromDHCP")
        for host in self.ntp_manual:
            host.to_xml(node, "NTPManual")
        return node


@dataclass(frozen=True, slots=True)
class Scope:
    """One discovery scope (GetScopes): ``item`` is the scope URI as the camera wrote it
    (percent-encoding kept: Axis sends ``name/AXIS%20Q6045-E``)."""

    scope_def: ScopeDefinition
    item: str

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetScopes") -> Scope:
        return cls(
            scope_def=_require_enum(ScopeDefinition, element, "ScopeDef", operation=operation),
            item=require_text(element, "ScopeItem", operation=operation),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:Scopes`` (one element per scope, as GetScopesResponse has it)."""
        node = sub(parent, TDS, "Scopes")
        sub(node, TT, "ScopeDef", self.scope_def.value)
        sub(node, TT, "ScopeItem", self.item)
        return node


@dataclass(frozen=True, slots=True)
class User:
    """An account on the camera (``tt:User``).

    ``password`` is only for CreateUsers and SetUser; it is left out of ``repr``
    and :func:`~platonicam.onvif.services.device.parse_get_users` never fills it.
    """

    username: str
    user_level: UserLevel
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetUsers") -> User:
        """Read a user, with its password when the element carries one (the device
        reads CreateUsers and SetUser requests this way)."""
        password = child(element, "Password")
        return cls(
            username=require_text(element, "Username", operation=operation),
            user_level=_require_enum(UserLevel, element, "UserLevel", operation=operation),
            password=(password.text or "") if password is not None else None,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:User``; ``Password`` is written only when set."""
        node = sub(parent, TDS, "User")
        sub(node, TT, "Username", self.username)
        if self.password is not None:
            sub(node, TT, "Password", self.password)
        sub(node, TT, "UserLevel", self.user_level.value)
        return node


@dataclass(frozen=True, slots=True)
class RelayOutput:
    """A relay output and how it behaves (GetRelayOutputs)."""

    token: str
    mode: RelayMode
    delay_time: timedelta
    idle_state: RelayIdleState

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetRelayOutputs"
    ) -> RelayOutput:
        token = attr(element, "token")
        if not token:
            raise RemoteProtocolError(
                "missing attribute token", operation=operation, path=path_of(element)
            )
        properties = require(element, "Properties", operation=operation)
        delay = duration_at(properties, "DelayTime", operation=operation)
        return cls(
            token=token,
            mode=_require_enum(RelayMode, properties, "Mode", operation=operation),
            delay_time=delay if delay is not None else timedelta(),
            idle_state=_require_enum(RelayIdleState, properties, "IdleState", operation=operation),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:RelayOutputs`` (the response's element name for each relay)."""
        node = sub(parent, TDS, "RelayOutputs", token=self.token)
        properties = sub(node, TT, "Properties")
        sub(properties, TT, "Mode", self.mode.value)
        sub(properties, TT, "DelayTime", format_duration(self.delay_time))
        sub(properties, TT, "IdleState", self.idle_state.value)
        return node


@dataclass(frozen=True, slots=True)
class PrefixedAddress:
    """An IPv4 or IPv6 address with its prefix length (``/24``)."""

    address: str
    prefix_length: int

    def __str__(self) -> str:
        return f"{self.address}/{self.prefix_length}"

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> PrefixedAddress:
        return cls(
            address=require_text(element, "Address", operation=operation),
            prefix_length=_require_int(element, "PrefixLength", operation=operation),
        )

    def to_xml(self, parent: etree._Element, name: str) -> etree._Element:
        node = sub(parent, TT, name)
        sub(node, TT, "Address", self.address)
        sub(node, TT, "PrefixLength", str(self.prefix_length))
        return node


def _prefixed(
    element: etree._Element | None, name: str, operation: str
) -> tuple[PrefixedAddress, ...]:
    if element is None:
        return ()
    return tuple(
        PrefixedAddress.from_xml(node, operation=operation) for node in children(element, name)
    )


@dataclass(frozen=True, slots=True)
class ConnectionSetting:
    """Link speed (Mb/s), duplex and auto-negotiation of an interface."""

    auto_negotiation: bool
    speed: int
    duplex: Duplex

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> ConnectionSetting:
        return cls(
            auto_negotiation=bool(bool_at(element, "AutoNegotiation", operation=operation)),
            speed=_require_int(element, "Speed", operation=operation),
            duplex=_require_enum(Duplex, element, "Duplex", operation=operation),
        )

    def to_xml(self, parent: etree._Element, name: str) -> etree._Element:
        node = sub(parent, TT, name)
        sub(node, TT, "AutoNegotiation", xml_bool(self.auto_negotiation))
        sub(node, TT, "Speed", str(self.speed))
        sub(node, TT, "Duplex", self.duplex.value)
        return node


@dataclass(frozen=True, slots=True)
class NetworkInterfaceLink:
    """Configured (``admin``) and actual (``oper``) link settings; ``interface_type``
    is the IANA ifType number (6 is Ethernet; Hikvision answers 0)."""

    admin: ConnectionSetting
    oper: ConnectionSetting
    interface_type: int

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> NetworkInterfaceLink:
        return cls(
            admin=ConnectionSetting.from_xml(
                require(element, "AdminSettings", operation=operation), operation=operation
            ),
            oper=ConnectionSetting.from_xml(
                require(element, "OperSettings", operation=operation), operation=operation
            ),
            interface_type=_require_int(element, "InterfaceType", operation=operation),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TT, "Link")
        self.admin.to_xml(node, "AdminSettings")
        self.oper.to_xml(node, "OperSettings")
        sub(node, TT, "InterfaceType", str(self.interface_type))
        return node


@dataclass(frozen=True, slots=True)
class IPv4Configuration:
    """An interface's IPv4 state: addresses set by hand, link-local and from DHCP."""

    enabled: bool
    dhcp: bool
    manual: tuple[PrefixedAddress, ...] = ()
    link_local: PrefixedAddress | None = None
    from_dhcp: PrefixedAddress | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> IPv4Configuration:
        """Read a ``tt:IPv4NetworkInterface`` (Enabled + Config)."""
        config = child(element, "Config")
        link_local = child(config, "LinkLocal")
        from_dhcp = child(config, "FromDHCP")
        return cls(
            enabled=bool(bool_at(element, "Enabled", operation=operation)),
            dhcp=bool(bool_at(config, "DHCP", operation=operation)),
            manual=_prefixed(config, "Manual", operation),
            link_local=(
                PrefixedAddress.from_xml(link_local, operation=operation)
                if link_local is not None
                else None
            ),
            from_dhcp=(
                PrefixedAddress.from_xml(from_dhcp, operation=operation)
                if from_dhcp is not None
                else None
            ),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TT, "IPv4")
        sub(node, TT, "Enabled", xml_bool(self.enabled))
        config = sub(node, TT, "Config")
        for address in self.manual:
            address.to_xml(config, "Manual")
        if self.link_local is not None:
            self.link_local.to_xml(config, "LinkLocal")
        if self.from_dhcp is not None:
            self.from_dhcp.to_xml(config, "FromDHCP")
        sub(config, TT, "DHCP", xml_bool(self.dhcp))
        return node

    @property
    def addresses(self) -> tuple[PrefixedAddress, ...]:
        """The addresses in use: DHCP's when DHCP is on, else the manual ones."""
        if self.dhcp:
            return (self.from_dhcp,) if self.from_dhcp is not None else ()
        return self.manual


@dataclass(frozen=True, slots=True)
class IPv6Configuration:
    """An interface's IPv6 state; ``dhcp`` is ``None`` when the camera sends no Config."""

    enabled: bool
    dhcp: IPv6DHCPConfiguration | None = None
    accept_router_advert: bool | None = None
    manual: tuple[PrefixedAddress, ...] = ()
    link_local: tuple[PrefixedAddress, ...] = ()
    from_dhcp: tuple[PrefixedAddress, ...] = ()
    from_ra: tuple[PrefixedAddress, ...] = ()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> IPv6Configuration:
        """Read a ``tt:IPv6NetworkInterface`` (Enabled + optional Config)."""
        config = child(element, "Config")
        return cls(
            enabled=bool(bool_at(element, "Enabled", operation=operation)),
            dhcp=_enum_at(IPv6DHCPConfiguration, config, "DHCP", operation=operation),
            accept_router_advert=bool_at(config, "AcceptRouterAdvert", operation=operation),
            manual=_prefixed(config, "Manual", operation),
            link_local=_prefixed(config, "LinkLocal", operation),
            from_dhcp=_prefixed(config, "FromDHCP", operation),
            from_ra=_prefixed(config, "FromRA", operation),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TT, "IPv6")
        sub(node, TT, "Enabled", xml_bool(self.enabled))
        addresses = (
            ("Manual", self.manual),
            ("LinkLocal", self.link_local),
            ("FromDHCP", self.from_dhcp),
            ("FromRA", self.from_ra),
        )
        has_config = (
            self.dhcp is not None
            or self.accept_router_advert is not None
            or any(values for _, values in addresses)
        )
        if has_config:
            config = sub(node, TT, "Config")
            if self.accept_router_advert is not None:
                sub(config, TT, "AcceptRouterAdvert", xml_bool(self.accept_router_advert))
            if self.dhcp is not None:
                sub(config, TT, "DHCP", self.dhcp.value)
            for name, values in addresses:
                for address in values:
                    address.to_xml(config, name)
        return node


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """One network interface (GetNetworkInterfaces).

    ``name``, ``hw_address`` (the MAC, as the camera spells it) and ``mtu`` come
    from the optional ``Info``; ``link``, ``ipv4`` and ``ipv6`` are ``None`` when
    the camera leaves them out.
    """

    token: str
    enabled: bool
    name: str | None = None
    hw_address: str | None = None
    mtu: int | None = None
    link: NetworkInterfaceLink | None = None
    ipv4: IPv4Configuration | None = None
    ipv6: IPv6Configuration | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkInterfaces"
    ) -> NetworkInterface:
        token = attr(element, "token")
        if not token:
            raise RemoteProtocolError(
                "missing attribute token", operation=operation, path=path_of(element)
            )
        info = child(element, "Info")
        link = child(element, "Link")
        ipv4 = child(element, "IPv4")
        ipv6 = child(element, "IPv6")
        return cls(
            token=token,
            enabled=bool(bool_at(element, "Enabled", operation=operation)),
            name=_optional_text(info, "Name"),
            hw_address=_optional_text(info, "HwAddress"),
            mtu=int_at(info, "MTU", operation=operation),
            link=NetworkInterfaceLink.from_xml(link, operation=operation)
            if link is not None
            else None,
            ipv4=IPv4Configuration.from_xml(ipv4, operation=operation)
            if ipv4 is not None
            else None,
            ipv6=IPv6Configuration.from_xml(ipv6, operation=operation)
            if ipv6 is not None
            else None,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:NetworkInterfaces`` (the response's element name for each)."""
        node = sub(parent, TDS, "NetworkInterfaces", token=self.token)
        sub(node, TT, "Enabled", xml_bool(self.enabled))
        if self.name is not None or self.hw_address is not None or self.mtu is not None:
            info = sub(node, TT, "Info")
            if self.name is not None:
                sub(info, TT, "Name", self.name)
            if self.hw_address is not None:
                sub(info, TT, "HwAddress", self.hw_address)
            if self.mtu is not None:
                sub(info, TT, "MTU", str(self.mtu))
        if self.link is not None:
            self.link.to_xml(node)
        if self.ipv4 is not None:
            self.ipv4.to_xml(node)
        if self.ipv6 is not None:
            self.ipv6.to_xml(node)
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

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append ``tds:Capabilities`` with a section per service in ``xaddrs``
        (Media2 has no GetCapabilities section and is left out).

        Elements the schema requires but this type does not hold (the Events
        subscription-policy flag, the System discovery flags, DeviceIO counts)
        are written as ``false``/``0`` so strict clients can read the answer;
        optional flags are written only when known.
        """
        node = sub(parent, TDS, "Capabilities")
        analytics = self.xaddrs.get(ServiceKind.ANALYTICS)
        if analytics is not None:
            section = sub(node, TT, "Analytics")
            sub(section, TT, "XAddr", analytics)
            sub(section, TT, "RuleSupport", xml_bool(bool(self.analytics_rule_support)))
            sub(
                section,
                TT,
                "AnalyticsModuleSupport",
                xml_bool(bool(self.analytics_module_support)),
            )
        device = self.xaddrs.get(ServiceKind.DEVICE)
        if device is not None:
            section = sub(node, TT, "Device")
            sub(section, TT, "XAddr", device)
            if self.supported_versions:
                system = sub(section, TT, "System")
                for flag in (
                    "DiscoveryResolve",
                    "DiscoveryBye",
                    "RemoteDiscovery",
                    "SystemBackup",
                    "SystemLogging",
                    "FirmwareUpgrade",
                ):
                    sub(system, TT, flag, "false")
                for version in self.supported_versions:
                    entry = sub(system, TT, "SupportedVersions")
                    sub(entry, TT, "Major", str(version.major))
                    sub(entry, TT, "Minor", str(version.minor))
            if self.input_connectors is not None or self.relay_outputs is not None:
                io = sub(section, TT, "IO")
                if self.input_connectors is not None:
                    sub(io, TT, "InputConnectors", str(self.input_connectors))
                if self.relay_outputs is not None:
                    sub(io, TT, "RelayOutputs", str(self.relay_outputs))
        events = self.xaddrs.get(ServiceKind.EVENTS)
        if events is not None:
            section = sub(node, TT, "Events")
            sub(section, TT, "XAddr", events)
            sub(section, TT, "WSSubscriptionPolicySupport", "false")
            if self.pull_point_support is not None:
                sub(section, TT, "WSPullPointSupport", xml_bool(self.pull_point_support))
            sub(section, TT, "WSPausableSubscriptionManagerInterfaceSupport", "false")
        imaging = self.xaddrs.get(ServiceKind.IMAGING)
        if imaging is not None:
            sub(sub(node, TT, "Imaging"), TT, "XAddr", imaging)
        media = self.xaddrs.get(ServiceKind.MEDIA)
        if media is not None:
            section = sub(node, TT, "Media")
            sub(section, TT, "XAddr", media)
            streaming = sub(section, TT, "StreamingCapabilities")
            for name, known in (
                ("RTPMulticast", self.rtp_multicast),
                ("RTP_TCP", self.rtp_tcp),
                ("RTP_RTSP_TCP", self.rtp_rtsp_tcp),
            ):
                if known is not None:
                    sub(streaming, TT, name, xml_bool(known))
        ptz = self.xaddrs.get(ServiceKind.PTZ)
        if ptz is not None:
            sub(sub(node, TT, "PTZ"), TT, "XAddr", ptz)
        deviceio = self.xaddrs.get(ServiceKind.DEVICEIO)
        if deviceio is not None:
            section = sub(sub(node, TT, "Extension"), TT, "DeviceIO")
            sub(section, TT, "XAddr", deviceio)
            for name in ("VideoSources", "VideoOutputs", "AudioSources", "AudioOutputs"):
                sub(section, TT, name, "0")
            sub(section, TT, "RelayOutputs", str(self.relay_outputs or 0))
        return node
