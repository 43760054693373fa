"""Device management service (tds): request builders and response parsers.

Three pure functions per operation:

- ``build_<operation>(...)``: the request element the client sends, with the
  children ``devicemgmt.wsdl`` requires, in its order;
- ``parse_<operation>(payload)``: the response element (the SOAP body's first
  child) into models or plain values;
- ``build_<operation>_response(...)``: the element the reference device answers
  with, so that ``parse(build_response(x)) == x``.

No I/O here. Parsers raise :class:`~platonicam.onvif.errors.RemoteProtocolError`
for unreadable answers; builders raise
:class:`~platonicam.onvif.errors.LocalProtocolError` for requests no camera
could accept (an empty list where the WSDL wants at least one item, a naive
datetime, a manual clock without a time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.device import (
    Capabilities,
    DateTimeType,
    DeviceInformation,
    DiscoveryMode,
    DNSInformation,
    HostnameInformation,
    IPAddress,
    NetworkHost,
    NetworkInterface,
    NTPInformation,
    RelayOutput,
    Scope,
    Service,
    SystemDateAndTime,
    User,
    write_date_time,
)
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS, TT, local_name
from platonicam.onvif.soap.xmlread import children, path_of, require, require_text

# --- shared --------------------------------------------------------------------------------


def _expect(payload: etree._Element, operation: str) -> etree._Element:
    """Check that ``payload`` answers ``operation`` (``<operation>Response``)."""
    expected = f"{operation}Response"
    if local_name(payload.tag) != expected:
        raise RemoteProtocolError(
            f"expected {expected}, got {local_name(payload.tag)}",
            operation=operation,
            path=path_of(payload),
        )
    return payload


def _empty_response(operation: str) -> etree._Element:
    return element(TDS, f"{operation}Response")


def _no_whitespace(value: str, what: str) -> str:
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        raise LocalProtocolError(f"{what} must be non-empty and without white space: {value!r}")
    return value


# --- GetSystemDateAndTime / SetSystemDateAndTime -------------------------------------------


def build_get_system_date_and_time() -> etree._Element:
    return element(TDS, "GetSystemDateAndTime")


def parse_get_system_date_and_time(payload: etree._Element) -> SystemDateAndTime:
    operation = "GetSystemDateAndTime"
    return SystemDateAndTime.from_xml(require(payload, "SystemDateAndTime", operation=operation))


def build_get_system_date_and_time_response(value: SystemDateAndTime) -> etree._Element:
    response = _empty_response("GetSystemDateAndTime")
    value.to_xml(response)
    return response


def build_set_system_date_and_time(
    date_time_type: DateTimeType,
    *,
    daylight_savings: bool = False,
    time_zone: str | None = None,
    utc: datetime | None = None,
) -> etree._Element:
    """SetSystemDateAndTime: ``DateTimeType, DaylightSavings, TimeZone?, UTCDateTime?``.

    ``Manual`` needs ``utc``, an aware datetime (converted to UTC; sub-seconds
    are dropped, the ONVIF type has none). ``NTP`` takes no time: the camera
    reads it from its NTP servers (see :func:`build_set_ntp`). ``time_zone``
    is a POSIX TZ string such as ``CET-1CEST,M3.5.0,M10.5.0/3``.

    Raises :class:`LocalProtocolError` for a manual clock without a time, a
    time with NTP, or a naive datetime.
    """
    if date_time_type is DateTimeType.MANUAL and utc is None:
        raise LocalProtocolError("SetSystemDateAndTime with Manual needs the UTC time")
    if date_time_type is DateTimeType.NTP and utc is not None:
        raise LocalProtocolError("SetSystemDateAndTime with NTP takes no time: drop utc")
    if utc is not None and utc.tzinfo is None:
        raise LocalProtocolError("SetSystemDateAndTime needs an aware datetime, got a naive one")
    request = element(TDS, "SetSystemDateAndTime")
    sub(request, TDS, "DateTimeType", date_time_type.value)
    sub(request, TDS, "DaylightSavings", xml_bool(daylight_savings))
    if time_zone is not None:
        sub(sub(request, TDS, "TimeZone"), TT, "TZ", _no_whitespace(time_zone, "time zone"))
    if utc is not None:
        write_date_time(request, "UTCDateTime", utc.astimezone(UTC), namespace=TDS)
    return request


def parse_set_system_date_and_time(payload: etree._Element) -> None:
    _expect(payload, "SetSystemDateAndTime")


# --- GetServices / GetCapabilities --------------------------------------------------------


def build_get_services(*, include_capability: bool = False) -> etree._Element:
    request = element(TDS, "GetServices")
    sub(request, TDS, "IncludeCapability", xml_bool(include_capability))
    return request


def parse_get_services(payload: etree._Element) -> list[Service]:
    return [Service.from_xml(node) for node in children(payload, "Service")]


def build_get_services_response(services: Iterable[Service]) -> etree._Element:
    response = _empty_response("GetServices")
    for service in services:
        service.to_xml(response)
    return response


def build_get_capabilities(category: str = "All") -> etree._Element:
    request = element(TDS, "GetCapabilities")
    sub(request, TDS, "Category", category)
    return request


def parse_get_capabilities(payload: etree._Element) -> Capabilities:
    return Capabilities.from_xml(require(payload, "Capabilities", operation="GetCapabilities"))


def build_get_capabilities_response(capabilities: Capabilities) -> etree._Element:
    response = _empty_response("GetCapabilities")
    capabilities.to_xml(response)
    return response


# --- GetDeviceInformation -----------------------------------------------------------------


def build_get_device_information() -> etree._Element:
    return element(TDS, "GetDeviceInformation")


def parse_get_device_information(payload: etree._Element) -> DeviceInformation:
    return DeviceInformation.from_xml(payload)


def build_get_device_information_response(information: DeviceInformation) -> etree._Element:
    return information.to_xml(_empty_response("GetDeviceInformation"))


# --- GetHostname / SetHostname ------------------------------------------------------------


def build_get_hostname() -> etree._Element:
    return element(TDS, "GetHostname")


def parse_get_hostname(payload: etree._Element) -> HostnameInformation:
    operation = "GetHostname"
    return HostnameInformation.from_xml(
        require(payload, "HostnameInformation", operation=operation), operation=operation
    )


def build_get_hostname_response(information: HostnameInformation) -> etree._Element:
    response = _empty_response("GetHostname")
    information.to_xml(response)
    return response


def build_set_hostname(name: str) -> etree._Element:
    """SetHostname: ``Name`` (an ``xs:token``; white space is refused here)."""
    request = element(TDS, "SetHostname")
    sub(request, TDS, "Name", _no_whitespace(name, "host name"))
    return request


def parse_set_hostname(payload: etree._Element) -> None:
    _expect(payload, "SetHostname")


# --- GetNetworkInterfaces -----------------------------------------------------------------


def build_get_network_interfaces() -> etree._Element:
    return element(TDS, "GetNetworkInterfaces")


def parse_get_network_interfaces(payload: etree._Element) -> list[NetworkInterface]:
    return [NetworkInterface.from_xml(node) for node in children(payload, "NetworkInterfaces")]


def build_get_network_interfaces_response(
    interfaces: Iterable[NetworkInterface],
) -> etree._Element:
    response = _empty_response("GetNetworkInterfaces")
    for interface in interfaces:
        interface.to_xml(response)
    return response


# --- GetDNS / SetDNS ----------------------------------------------------------------------


def build_get_dns() -> etree._Element:
    return element(TDS, "GetDNS")


def parse_get_dns(payload: etree._Element) -> DNSInformation:
    operation = "GetDNS"
    return DNSInformation.from_xml(
        require(payload, "DNSInformation", operation=operation), operation=operation
    )


def build_get_dns_response(information: DNSInformation) -> etree._Element:
    response = _empty_response("GetDNS")
    information.to_xml(response)
    return response


def build_set_dns(
    from_dhcp: bool,
    *,
    search_domains: Sequence[str] = (),
    dns_manual: Sequence[IPAddress] = (),
) -> etree._Element:
    """SetDNS: ``FromDHCP, SearchDomain*, DNSManual*``."""
    request = element(TDS, "SetDNS")
    sub(request, TDS, "FromDHCP", xml_bool(from_dhcp))
    for domain in search_domains:
        sub(request, TDS, "SearchDomain", _no_whitespace(domain, "search domain"))
    for address in dns_manual:
        address.to_xml(request, "DNSManual", namespace=TDS)
    return request


def parse_set_dns(payload: etree._Element) -> None:
    _expect(payload, "SetDNS")


# --- GetNTP / SetNTP ----------------------------------------------------------------------


def build_get_ntp() -> etree._Element:
    return element(TDS, "GetNTP")


def parse_get_ntp(payload: etree._Element) -> NTPInformation:
    operation = "GetNTP"
    return NTPInformation.from_xml(
        require(payload, "NTPInformation", operation=operation), operation=operation
    )


def build_get_ntp_response(information: NTPInformation) -> etree._Element:
    response = _empty_response("GetNTP")
    information.to_xml(response)
    return response


def build_set_ntp(from_dhcp: bool, *, ntp_manual: Sequence[NetworkHost] = ()) -> etree._Element:
    """SetNTP: ``FromDHCP, NTPManual*``."""
    request = element(TDS, "SetNTP")
    sub(request, TDS, "FromDHCP", xml_bool(from_dhcp))
    for host in ntp_manual:
        host.to_xml(request, "NTPManual", namespace=TDS)
    return request


def parse_set_ntp(payload: etree._Element) -> None:
    _expect(payload, "SetNTP")


# --- GetScopes / SetScopes ----------------------------------------------------------------


def build_get_scopes() -> etree._Element:
    return element(TDS, "GetScopes")


def parse_get_scopes(payload: etree._Element) -> list[Scope]:
    return [Scope.from_xml(node) for node in children(payload, "Scopes")]


def build_get_scopes_response(scopes: Iterable[Scope]) -> etree._Element:
    response = _empty_response("GetScopes")
    for scope in scopes:
        scope.to_xml(response)
    return response


def build_set_scopes(scopes: Sequence[str]) -> etree._Element:
    """SetScopes: ``Scopes+`` (the configurable scope URIs; they replace the old ones)."""
    if not scopes:
        raise LocalProtocolError("SetScopes needs at least one scope")
    request = element(TDS, "SetScopes")
    for scope in scopes:
        sub(request, TDS, "Scopes", _no_whitespace(scope, "scope"))
    return request


def parse_set_scopes(payload: etree._Element) -> None:
    _expect(payload, "SetScopes")


# --- GetUsers / CreateUsers / SetUser / DeleteUsers ---------------------------------------


def build_get_users() -> etree._Element:
    return element(TDS, "GetUsers")


def parse_get_users(payload: etree._Element) -> list[User]:
    """The camera's users, never with a password (one a camera echoes is dropped)."""
    return [
        dataclasses.replace(User.from_xml(node), password=None)
        for node in children(payload, "User")
    ]


def build_get_users_response(users: Iterable[User]) -> etree._Element:
    """The GetUsers answer; passwords are left out whatever ``users`` hold."""
    response = _empty_response("GetUsers")
    for user in users:
        dataclasses.replace(user, password=None).to_xml(response)
    return response


def _build_users(operation: str, users: Sequence[User]) -> etree._Element:
    if not users:
        raise LocalProtocolError(f"{operation} needs at least one user")
    request = element(TDS, operation)
    for user in users:
        user.to_xml(request)
    return request


def build_create_users(users: Sequence[User]) -> etree._Element:
    """CreateUsers: ``User+`` (``Username, Password?, UserLevel`` each)."""
    return _build_users("CreateUsers", users)


def parse_create_users(payload: etree._Element) -> None:
    _expect(payload, "CreateUsers")


def build_set_user(users: Sequence[User]) -> etree._Element:
    """SetUser: ``User+``: changes the password and level of existing users."""
    return _build_users("SetUser", users)


def parse_set_user(payload: etree._Element) -> None:
    _expect(payload, "SetUser")


def build_delete_users(usernames: Sequence[str]) -> etree._Element:
    """DeleteUsers: ``Username+``."""
    if not usernames:
        raise LocalProtocolError("DeleteUsers needs at least one user name")
    request = element(TDS, "DeleteUsers")
    for username in usernames:
        sub(request, TDS, "Username", username)
    return request


def parse_delete_users(payload: etree._Element) -> None:
    _expect(payload, "DeleteUsers")


def parse_users_request(payload: etree._Element) -> list[User]:
    """The users of a CreateUsers or SetUser request, passwords included (device side)."""
    return [
        User.from_xml(node, operation=local_name(payload.tag)) for node in children(payload, "User")
    ]


# --- GetDiscoveryMode / SetDiscoveryMode --------------------------------------------------


def build_get_discovery_mode() -> etree._Element:
    return element(TDS, "GetDiscoveryMode")


def parse_get_discovery_mode(payload: etree._Element) -> DiscoveryMode:
    operation = "GetDiscoveryMode"
    node = require(payload, "DiscoveryMode", operation=operation)
    raw = (node.text or "").strip()
    for mode in DiscoveryMode:
        if mode.value.casefold() == raw.casefold():
            return mode
    raise RemoteProtocolError(
        f"Discoverable or NonDiscoverable expected, got {raw!r}",
        operation=operation,
        path=path_of(node),
    )


def build_get_discovery_mode_response(mode: DiscoveryMode) -> etree._Element:
    response = _empty_response("GetDiscoveryMode")
    sub(response, TDS, "DiscoveryMode", mode.value)
    return response


def build_set_discovery_mode(mode: DiscoveryMode) -> etree._Element:
    """SetDiscoveryMode: ``DiscoveryMode``."""
    request = element(TDS, "SetDiscoveryMode")
    sub(request, TDS, "DiscoveryMode", mode.value)
    return request


def parse_set_discovery_mode(payload: etree._Element) -> None:
    _expect(payload, "SetDiscoveryMode")


# --- GetRelayOutputs ----------------------------------------------------------------------


def build_get_relay_outputs() -> etree._Element:
    return element(TDS, "GetRelayOutputs")


def parse_get_relay_outputs(payload: etree._Element) -> list[RelayOutput]:
    return [RelayOutput.from_xml(node) for node in children(payload, "RelayOutputs")]


def build_get_relay_outputs_response(relays: Iterable[RelayOutput]) -> etree._Element:
    response = _empty_response("GetRelayOutputs")
    for relay in relays:
        relay.to_xml(response)
    return response


# --- SystemReboot -------------------------------------------------------------------------


def build_system_reboot() -> etree._Element:
    return element(TDS, "SystemReboot")


def parse_system_reboot(payload: etree._Element) -> str:
    """The camera's own words (``Rebooting in 90 seconds``): free text, not a number."""
    return require_text(payload, "Message", operation="SystemReboot")


def build_system_reboot_response(message: str) -> etree._Element:
    response = _empty_response("SystemReboot")
    sub(response, TDS, "Message", message)
    return response
