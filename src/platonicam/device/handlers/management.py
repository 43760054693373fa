"""Device management service (``tds``) handlers.

Answers are built with the builders of :mod:`platonicam.onvif.services.device`
and :mod:`platonicam.onvif.services.network` (the same code the client's
parsers are tested against); requests are read with the models' ``from_xml``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from lxml import etree

from platonicam.device.faults import DeviceFault, invalid_arg, invalid_args
from platonicam.device.handlers.base import Registry, Request, arg, optional_arg
from platonicam.device.handlers.deviceio import set_relay_state
from platonicam.device.paths import SERVICE_PATHS
from platonicam.device.security import (
    MAX_PASSWORD_LENGTH,
    MAX_USERNAME_LENGTH,
    MAX_USERS,
    AccessClass,
)
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.models.device import (
    Capabilities,
    DateTimeType,
    DeviceInformation,
    DiscoveryMode,
    DNSInformation,
    HostnameInformation,
    IPAddress,
    IPv4Configuration,
    NetworkHost,
    NetworkInterface,
    NTPInformation,
    PrefixedAddress,
    Scope,
    ScopeDefinition,
    Service,
    SystemDateAndTime,
    posix_tz_offset,
)
from platonicam.onvif.models.network import (
    DeviceServiceCapabilities,
    NetworkCapabilities,
    NetworkProtocol,
    SecurityCapabilities,
    SystemCapabilities,
)
from platonicam.onvif.services import device as ops
from platonicam.onvif.services import network as network_ops
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TDS
from platonicam.onvif.soap.xmlread import bool_at, child, children, int_at, text

registry = Registry(TDS)
Element = etree._Element

#: Service versions the device implements (Core spec release it follows).
VERSIONS: Final[dict[ServiceKind, Version]] = {
    ServiceKind.DEVICE: Version(23, 12),
    ServiceKind.MEDIA: Version(23, 6),
    ServiceKind.MEDIA2: Version(23, 12),
    ServiceKind.IMAGING: Version(23, 6),
    ServiceKind.PTZ: Version(23, 6),
    ServiceKind.EVENTS: Version(23, 6),
    ServiceKind.DEVICEIO: Version(23, 6),
}
_HOSTNAME: Final = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")


def fixed_scopes(request: Request) -> list[str]:
    identity = request.device.state.device.identity
    hardware = identity.model.replace(" ", "%20")
    return [
        "onvif://www.onvif.org/type/video_encoder",
        "onvif://www.onvif.org/type/ptz",
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/Profile/T",
        f"onvif://www.onvif.org/hardware/{hardware}",
    ]


# ------------------------------------------------------------------ pre-auth


@registry.op("GetSystemDateAndTime", AccessClass.PRE_AUTH)
async def get_system_date_and_time(request: Request, payload: Element) -> Element:
    clock = request.device.state.device.clock
    utc = request.device.device_time().replace(microsecond=0)
    offset = posix_tz_offset(clock.time_zone) or timedelta()
    local = (utc + offset).replace(tzinfo=None)
    return ops.build_get_system_date_and_time_response(
        SystemDateAndTime(
            date_time_type=clock.date_time_type,
            daylight_savings=clock.daylight_savings,
            time_zone=clock.time_zone,
            utc=utc,
            local=local,
        )
    )


@registry.op("GetServices", AccessClass.PRE_AUTH)
async def get_services(request: Request, payload: Element) -> Element:
    return ops.build_get_services_response(
        Service(kind.namespace, request.url(path), VERSIONS[kind])
        for kind, path in SERVICE_PATHS.items()
    )


@registry.op("GetCapabilities", AccessClass.PRE_AUTH)
async def get_capabilities(request: Request, payload: Element) -> Element:
    io = request.device.state.io
    return ops.build_get_capabilities_response(
        Capabilities(
            xaddrs={
                kind: request.url(path)
                for kind, path in SERVICE_PATHS.items()
                if kind is not ServiceKind.MEDIA2
            },
            supported_versions=(Version(2, 0), Version(2, 60), Version(23, 12)),
            pull_point_support=True,
            rtp_multicast=False,
            rtp_tcp=True,
            rtp_rtsp_tcp=True,
            input_connectors=len(io.inputs),
            relay_outputs=len(io.relays),
        )
    )


@registry.op("GetHostname", AccessClass.PRE_AUTH)
async def get_hostname(request: Request, payload: Element) -> Element:
    device = request.device.state.device
    return ops.build_get_hostname_response(
        HostnameInformation(from_dhcp=device.hostname_from_dhcp, name=device.hostname)
    )


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    return network_ops.build_get_service_capabilities_response(
        DeviceServiceCapabilities(
            network=NetworkCapabilities(
                ip_filter=False,
                zero_configuration=False,
                ip_version6=False,
                dyn_dns=False,
                hostname_from_dhcp=False,
                ntp=1,
            ),
            security=SecurityCapabilities(
                tls1_2=False,
                username_token=True,
                http_digest=True,
                max_users=MAX_USERS,
                max_user_name_length=MAX_USERNAME_LENGTH,
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
            system=SystemCapabilities(
                discovery_resolve=True,
                discovery_bye=True,
                remote_discovery=False,
                system_backup=False,
                system_logging=False,
            ),
        )
    )


@registry.op("GetEndpointReference", AccessClass.PRE_AUTH)
async def get_endpoint_reference(request: Request, payload: Element) -> Element:
    response = registry.response("GetEndpointReference")
    sub(response, TDS, "GUID", f"urn:uuid:{request.device.state.device.identity.endpoint_uuid}")
    return response


@registry.op("GetWsdlUrl", AccessClass.PRE_AUTH)
async def get_wsdl_url(request: Request, payload: Element) -> Element:
    return network_ops.build_get_wsdl_url_response("https://www.onvif.org/ver10/device/wsdl")


# ------------------------------------------------------------------ reads


@registry.op("GetDeviceInformation", AccessClass.READ_SYSTEM)
async def get_device_information(request: Request, payload: Element) -> Element:
    identity = request.device.state.device.identity
    return ops.build_get_device_information_response(
        DeviceInformation(
            manufacturer=identity.manufacturer,
            model=identity.model,
            firmware_version=identity.firmware_version,
            serial_number=identity.serial_number,
            hardware_id=identity.hardware_id,
        )
    )


@registry.op("GetScopes", AccessClass.READ_SYSTEM)
async def get_scopes(request: Request, payload: Element) -> Element:
    scopes = [Scope(ScopeDefinition.FIXED, item) for item in fixed_scopes(request)]
    scopes += [
        Scope(ScopeDefinition.CONFIGURABLE, item) for item in request.device.state.device.scopes
    ]
    return ops.build_get_scopes_response(scopes)


@registry.op("GetDiscoveryMode", AccessClass.READ_SYSTEM)
async def get_discovery_mode(request: Request, payload: Element) -> Element:
    return ops.build_get_discovery_mode_response(request.device.state.device.discovery_mode)


@registry.op("GetNetworkInterfaces", AccessClass.READ_SYSTEM)
async def get_network_interfaces(request: Request, payload: Element) -> Element:
    # The interface the client reached us through, as far as HTTP tells us.
    host = request.host.strip("[]")
    manual = () if ":" in host or not host[:1].isdigit() else (PrefixedAddress(host, 24),)
    serial = request.device.state.device.identity.serial_number.lower().ljust(12, "0")[:12]
    mac = "02:" + ":".join(serial[i : i + 2] for i in range(2, 12, 2))
    return ops.build_get_network_interfaces_response(
        [
            NetworkInterface(
                token="eth0",  # noqa: S106 - an interface token, not a password
                enabled=True,
                name="eth0",
                hw_address=mac,
                mtu=1500,
                ipv4=IPv4Configuration(enabled=True, dhcp=False, manual=manual),
            )
        ]
    )


@registry.op("GetNetworkProtocols", AccessClass.READ_SYSTEM)
async def get_network_protocols(request: Request, payload: Element) -> Element:
    http_port = int(request.base_url.rsplit(":", 1)[1]) if request.base_url.count(":") > 1 else 80
    return network_ops.build_get_network_protocols_response(
        [
            NetworkProtocol("HTTP", True, (http_port,)),
            NetworkProtocol("RTSP", True, (request.device.streams.rtsp_port,)),
        ]
    )


@registry.op("GetDNS", AccessClass.READ_SYSTEM)
async def get_dns(request: Request, payload: Element) -> Element:
    return ops.build_get_dns_response(request.device.state.device.dns)


@registry.op("GetNTP", AccessClass.READ_SYSTEM)
async def get_ntp(request: Request, payload: Element) -> Element:
    return ops.build_get_ntp_response(request.device.state.device.ntp)


@registry.op("GetRelayOutputs", AccessClass.READ_SYSTEM)
async def get_relay_outputs(request: Request, payload: Element) -> Element:
    return ops.build_get_relay_outputs_response(r.relay for r in request.device.state.io.relays)


@registry.op("GetUsers", AccessClass.READ_SYSTEM_SECRET)
async def get_users(request: Request, payload: Element) -> Element:
    return ops.build_get_users_response(request.device.users.users())


# ------------------------------------------------------------------ writes


def _read_utc(node: Element) -> datetime:
    values = [
        int_at(node, *path)
        for path in (
            ("Date", "Year"),
            ("Date", "Month"),
            ("Date", "Day"),
            ("Time", "Hour"),
            ("Time", "Minute"),
            ("Time", "Second"),
        )
    ]
    if any(value is None for value in values):
        raise invalid_args(
            "UTCDateTime needs Date (Year, Month, Day) and Time (Hour, Minute, Second)"
        )
    year, month, day, hour, minute, second = (int(v or 0) for v in values)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise invalid_arg(f"UTCDateTime is not a valid time: {exc}", "InvalidDateTime") from None


@registry.op("SetSystemDateAndTime", AccessClass.WRITE_SYSTEM)
async def set_system_date_and_time(request: Request, payload: Element) -> Element:
    raw_type = arg(payload, "DateTimeType")
    kind = next((k for k in DateTimeType if k.value.lower() == raw_type.lower()), None)
    if kind is None:
        raise invalid_arg(f"DateTimeType {raw_type!r} is neither Manual nor NTP")
    time_zone = optional_arg(payload, "TimeZone", "TZ")
    if time_zone is not None and posix_tz_offset(time_zone) is None:
        raise invalid_arg(f"time zone {time_zone!r} is not a POSIX TZ string", "InvalidTimeZone")
    utc_node = child(payload, "UTCDateTime")
    settings = request.device.state.device.clock
    offset = settings.offset_seconds
    if kind is DateTimeType.MANUAL:
        if utc_node is None:
            raise invalid_args("SetSystemDateAndTime with Manual needs UTCDateTime")
        offset = (_read_utc(utc_node) - request.device.clock.now()).total_seconds()
    else:
        offset = 0.0  # NTP: follow the host clock, which NTP keeps right
    request.device.state.device.clock = settings.model_copy(
        update={
            "date_time_type": kind,
            "daylight_savings": bool(bool_at(payload, "DaylightSavings")),
            "time_zone": time_zone or settings.time_zone,
            "offset_seconds": offset,
        }
    )
    request.device.state.save("device")
    return registry.response("SetSystemDateAndTime")


@registry.op("SetHostname", AccessClass.WRITE_SYSTEM)
async def set_hostname(request: Request, payload: Element) -> Element:
    name = text(payload, "Name") or ""
    if not _HOSTNAME.match(name):
        raise invalid_arg(f"host name {name!r} is not a valid host name", "InvalidHostname")
    request.device.state.device.hostname = name
    request.device.state.device.hostname_from_dhcp = False
    request.device.state.save("device")
    return registry.response("SetHostname")


@registry.op("SetScopes", AccessClass.WRITE_SYSTEM)
async def set_scopes(request: Request, payload: Element) -> Element:
    scopes = [text(node) or "" for node in children(payload, "Scopes")]
    if not scopes:
        raise invalid_args("SetScopes needs at least one scope")
    fixed = set(fixed_scopes(request))
    for scope in scopes:
        if not scope or any(ch.isspace() for ch in scope) or "://" not in scope:
            raise invalid_arg(f"scope {scope!r} is not a URI", "ScopeOverwrite")
        if scope in fixed:
            raise DeviceFault(
                f"scope {scope!r} is fixed", subcodes=("OperationProhibited", "ScopeOverwrite")
            )
    request.device.state.device.scopes = scopes
    request.device.state.save("device")
    return registry.response("SetScopes")


@registry.op("SetDiscoveryMode", AccessClass.WRITE_SYSTEM)
async def set_discovery_mode(request: Request, payload: Element) -> Element:
    raw = arg(payload, "DiscoveryMode")
    mode = next((m for m in DiscoveryMode if m.value.lower() == raw.lower()), None)
    if mode is None:
        raise invalid_arg(f"DiscoveryMode {raw!r} is neither Discoverable nor NonDiscoverable")
    request.device.state.device.discovery_mode = mode
    request.device.state.save("device")
    return registry.response("SetDiscoveryMode")


@registry.op("SetDNS", AccessClass.WRITE_SYSTEM)
async def set_dns(request: Request, payload: Element) -> Element:
    request.device.state.device.dns = DNSInformation(
        from_dhcp=bool(bool_at(payload, "FromDHCP")),
        search_domains=tuple(v for n in children(payload, "SearchDomain") if (v := text(n))),
        dns_manual=tuple(IPAddress.from_xml(n) for n in children(payload, "DNSManual")),
    )
    request.device.state.save("device")
    return registry.response("SetDNS")


@registry.op("SetNTP", AccessClass.WRITE_SYSTEM)
async def set_ntp(request: Request, payload: Element) -> Element:
    request.device.state.device.ntp = NTPInformation(
        from_dhcp=bool(bool_at(payload, "FromDHCP")),
        ntp_manual=tuple(NetworkHost.from_xml(n) for n in children(payload, "NTPManual")),
    )
    request.device.state.save("device")
    return registry.response("SetNTP")


@registry.op("CreateUsers", AccessClass.WRITE_SYSTEM)
async def create_users(request: Request, payload: Element) -> Element:
    request.device.users.create(ops.parse_users_request(payload))
    return registry.response("CreateUsers")


@registry.op("SetUser", AccessClass.WRITE_SYSTEM)
async def set_user(request: Request, payload: Element) -> Element:
    request.device.users.update(ops.parse_users_request(payload))
    return registry.response("SetUser")


@registry.op("DeleteUsers", AccessClass.WRITE_SYSTEM)
async def delete_users(request: Request, payload: Element) -> Element:
    names = [text(node) or "" for node in children(payload, "Username")]
    if not names:
        raise invalid_args("DeleteUsers needs at least one Username")
    request.device.users.delete(names)
    return registry.response("DeleteUsers")


@registry.op("SetRelayOutputState", AccessClass.ACTUATE)
async def set_relay_output_state(request: Request, payload: Element) -> Element:
    set_relay_state(request, arg(payload, "RelayOutputToken"), arg(payload, "LogicalState"))
    return registry.response("SetRelayOutputState")


@registry.op("SystemReboot", AccessClass.UNRECOVERABLE)
async def system_reboot(request: Request, payload: Element) -> Element:
    # The app calls the runtime's reboot hook once this answer has gone out.
    return ops.build_system_reboot_response(request.device.options.reboot_message)
