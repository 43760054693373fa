"""Device management (tds) parsers against captured real-camera answers.

``CASES`` holds, per capture, the value its parser must return, written down by
reading the file (see tests/corpus/SOURCES.md for where each came from). Set*
operations answer with an empty element: their case is ``None``, and the test
checks the parser accepts exactly that response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.models.device import (
    Capabilities,
    ConnectionSetting,
    DateTimeType,
    DeviceInformation,
    DiscoveryMode,
    DNSInformation,
    Duplex,
    HostnameInformation,
    IPAddress,
    IPType,
    IPv4Configuration,
    IPv6Configuration,
    IPv6DHCPConfiguration,
    NetworkHost,
    NetworkHostType,
    NetworkInterface,
    NetworkInterfaceLink,
    NTPInformation,
    PrefixedAddress,
    RelayIdleState,
    RelayMode,
    RelayOutput,
    Scope,
    ScopeDefinition,
    Service,
    SystemDateAndTime,
    User,
    UserLevel,
)
from platonicam.onvif.services import device as ops
from platonicam.onvif.soap.namespaces import local_name
from tests import corpus

Expected = (
    Capabilities
    | DeviceInformation
    | DiscoveryMode
    | DNSInformation
    | HostnameInformation
    | NTPInformation
    | SystemDateAndTime
    | list[NetworkInterface]
    | list[RelayOutput]
    | list[Scope]
    | list[Service]
    | list[User]
    | str
    | None
)

PARSERS: dict[str, Callable[[etree._Element], object]] = {
    "GetCapabilities": ops.parse_get_capabilities,
    "GetDNS": ops.parse_get_dns,
    "GetDeviceInformation": ops.parse_get_device_information,
    "GetDiscoveryMode": ops.parse_get_discovery_mode,
    "GetHostname": ops.parse_get_hostname,
    "GetNTP": ops.parse_get_ntp,
    "GetNetworkInterfaces": ops.parse_get_network_interfaces,
    "GetRelayOutputs": ops.parse_get_relay_outputs,
    "GetScopes": ops.parse_get_scopes,
    "GetServices": ops.parse_get_services,
    "GetSystemDateAndTime": ops.parse_get_system_date_and_time,
    "GetUsers": ops.parse_get_users,
    "SetDNS": ops.parse_set_dns,
    "SetHostname": ops.parse_set_hostname,
    "SetNTP": ops.parse_set_ntp,
    "SystemReboot": ops.parse_system_reboot,
}


def services(*rows: tuple[str, str, Version]) -> list[Service]:
    return [Service(namespace, xaddr, version) for namespace, xaddr, version in rows]


def _ethernet(speed: int) -> ConnectionSetting:
    return ConnectionSetting(auto_negotiation=True, speed=speed, duplex=Duplex.FULL)


# Axis Q6045-E: a manual IPv4 address, a link-local one and a DHCP lease at once,
# and IPv6 from router advertisements.
_AXIS_INTERFACES = [
    NetworkInterface(
        token="eth0",
        enabled=True,
        name="eth0",
        hw_address="00:40:8C:FA:B7:54",
        mtu=1500,
        link=NetworkInterfaceLink(admin=_ethernet(100), oper=_ethernet(100), interface_type=6),
        ipv4=IPv4Configuration(
            enabled=True,
            dhcp=True,
            manual=(PrefixedAddress("10.10.1.20", 16),),
            link_local=PrefixedAddress("169.254.138.132", 16),
            from_dhcp=PrefixedAddress("192.168.0.19", 24),
        ),
        ipv6=IPv6Configuration(
            enabled=True,
            dhcp=IPv6DHCPConfiguration.AUTO,
            accept_router_advert=True,
            link_local=(PrefixedAddress("fe80::240:8cff:fefa:b754", 64),),
            from_ra=(PrefixedAddress("fd00:fc:8dc7:cbf2:240:8cff:fefa:b754", 64),),
        ),
    )
]

# Hikvision DS-2DF7276-AEL: InterfaceType 0 (not an IANA Ethernet type) and its
# link-local IPv6 address repeated as "from DHCP" although DHCPv6 is Off.
_HIKVISION_INTERFACES = [
    NetworkInterface(
        token="eth0",
        enabled=True,
        name="eth0",
        hw_address="44:19:b6:3e:ba:a1",
        mtu=1500,
        link=NetworkInterfaceLink(admin=_ethernet(100), oper=_ethernet(100), interface_type=0),
        ipv4=IPv4Configuration(
            enabled=True, dhcp=True, from_dhcp=PrefixedAddress("10.10.1.60", 16)
        ),
        ipv6=IPv6Configuration(
            enabled=True,
            dhcp=IPv6DHCPConfiguration.OFF,
            accept_router_advert=False,
            link_local=(PrefixedAddress("fe80::4619:b6ff:fe3e:baa1", 64),),
            from_dhcp=(PrefixedAddress("fe80::4619:b6ff:fe3e:baa1", 64),),
        ),
    )
]

CASES: dict[str, Expected] = {
    "device/axis_M2025-LE_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 21),
        ),
        (
            "http://www.axis.com/vapix/ws/action1",
            "http://192.168.0.209/onvif/services",
            Version(1, 1),
        ),
        (
            "http://www.axis.com/vapix/ws/certificates",
            "http://192.168.0.209/onvif/services",
            Version(1, 1),
        ),
        (
            "http://www.axis.com/vapix/ws/entry",
            "http://192.168.0.209/onvif/services",
            Version(1, 1),
        ),
        (
            "http://www.axis.com/vapix/ws/event1",
            "http://192.168.0.209/onvif/services",
            Version(1, 1),
        ),
        (
            "http://www.axis.com/vapix/ws/light",
            "http://192.168.0.209/onvif/services",
            Version(1, 0),
        ),
        (
            "http://www.axis.com/vapix/ws/webserver",
            "http://192.168.0.209/onvif/services",
            Version(1, 1),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(18, 6),
        ),
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://192.168.0.209/onvif/device_service",
            Version(2, 21),
        ),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(16, 9),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 61),
        ),
        (
            "http://www.onvif.org/ver20/media/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(17, 12),
        ),
        (
            "http://www.onvif.org/ver10/recording/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 50),
        ),
        (
            "http://www.onvif.org/ver10/replay/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 21),
        ),
        (
            "http://www.onvif.org/ver10/media/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 60),
        ),
        (
            "http://www.onvif.org/ver10/search/wsdl",
            "http://192.168.0.209/onvif/services",
            Version(2, 42),
        ),
    ),
    "device/axis_Q6045-E_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.DEVICE: "http://192.168.0.19/onvif/device_service",
            ServiceKind.EVENTS: "http://192.168.0.19/onvif/services",
            ServiceKind.MEDIA: "http://192.168.0.19/onvif/services",
            ServiceKind.PTZ: "http://192.168.0.19/onvif/services",
        },
        supported_versions=(Version(1, 2),),
        pull_point_support=False,
        rtp_multicast=True,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=0,
        relay_outputs=0,
        analytics_rule_support=None,
        analytics_module_support=None,
    ),
    "device/axis_Q6045-E_GetDiscoveryMode.xml": DiscoveryMode.DISCOVERABLE,
    "device/axis_Q6045-E_GetHostname.xml": HostnameInformation(from_dhcp=False, name="localhost"),
    "device/axis_Q6045-E_GetNTP.xml": NTPInformation(
        from_dhcp=True, ntp_from_dhcp=(), ntp_manual=()
    ),
    "device/axis_Q6045-E_GetNetworkInterfaces.xml": _AXIS_INTERFACES,
    "device/axis_Q6045-E_GetRelayOutputs.xml": [],
    "device/axis_Q6045-E_GetScopes.xml": [
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/video_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Streaming"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/hardware/Q6045-E"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/name/AXIS%20Q6045-E"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/ptz"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/location/"),
    ],
    "device/axis_Q6045-E_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.MANUAL,
        daylight_savings=True,
        time_zone="MST7MDT,M3.2.0,M11.1.0",
        utc=datetime(2018, 2, 27, 23, 9, 59, tzinfo=UTC),
        local=datetime(2018, 2, 27, 16, 9, 59),
    ),
    "device/axis_Q6045-E_GetUsers.xml": [
        User("admin", UserLevel.ADMINISTRATOR),
        User("root", UserLevel.ADMINISTRATOR),
    ],
    "device/axis_Q6045-E_SystemReboot.xml": "Rebooting in 5 seconds.",
    "device/bosch_FLEXIDOME-indoor-5100i-IR_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.MANUAL,
        daylight_savings=True,
        time_zone="UTC5:0",
        utc=datetime(2023, 5, 24, 21, 25, 5, tzinfo=UTC),
        local=None,
    ),
    "device/dahua_unknown_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.ANALYTICS: "http://192.168.1.123/onvif/analytics_service",
            ServiceKind.DEVICE: "http://192.168.1.123/onvif/device_service",
            ServiceKind.EVENTS: "http://192.168.1.123/onvif/event_service",
            ServiceKind.IMAGING: "http://192.168.1.123/onvif/imaging_service",
            ServiceKind.MEDIA: "http://192.168.1.123/onvif/media_service",
            ServiceKind.DEVICEIO: "http://192.168.1.123/onvif/deviceIO_service",
        },
        supported_versions=(
            Version(2, 0),
            Version(2, 10),
            Version(2, 20),
            Version(2, 30),
            Version(2, 40),
            Version(2, 42),
            Version(16, 12),
            Version(18, 6),
            Version(18, 12),
            Version(19, 6),
            Version(19, 12),
            Version(20, 6),
        ),
        pull_point_support=True,
        rtp_multicast=True,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=2,
        relay_outputs=1,
        analytics_rule_support=True,
        analytics_module_support=True,
    ),
    "device/ezviz_CS-H8c-R100-1K2WKFL_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.ANALYTICS: "http://192.168.1.3/onvif/Analytics",
            ServiceKind.DEVICE: "http://192.168.1.3/onvif/device_service",
            ServiceKind.EVENTS: "http://192.168.1.3/onvif/Events",
            ServiceKind.IMAGING: "http://192.168.1.3/onvif/Imaging",
            ServiceKind.MEDIA: "http://192.168.1.3/onvif/Media",
            ServiceKind.PTZ: "http://192.168.1.3/onvif/PTZ",
            ServiceKind.DEVICEIO: "http://192.168.1.3/onvif/DeviceIO",
        },
        supported_versions=(
            Version(19, 12),
            Version(16, 12),
            Version(2, 60),
            Version(2, 40),
            Version(2, 20),
            Version(2, 10),
            Version(2, 0),
        ),
        pull_point_support=True,
        rtp_multicast=False,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=0,
        relay_outputs=0,
        analytics_rule_support=False,
        analytics_module_support=False,
    ),
    "device/ezviz_CS-H8c-R100-1K2WKFL_GetDeviceInformation.xml": DeviceInformation(
        "EZVIZ",
        "CS-H8c-R100-1K2WKFL",
        "V5.3.8 build 250612",
        "CS-H8c-R100-1K2WKFL0120250611CCRRBF9716291",
        "88",
    ),
    "device/ezviz_CS-H8c-R100-1K2WKFL_GetScopes.xml": [
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/video_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Streaming"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/G"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/audio_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/ptz"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/MAC/0c:a6:4c:ea:0c:6f"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/hardware/CS-H8c-R100-1K2WKFL"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/name/CS-H8c-R100-1K2WKFL"),
    ],
    "device/ezviz_CS-H8c-R100-1K2WKFL_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://192.168.1.3/onvif/device_service",
            Version(18, 12),
        ),
        ("http://www.onvif.org/ver10/media/wsdl", "http://192.168.1.3/onvif/Media", Version(2, 60)),
        (
            "http://www.onvif.org/ver20/media/wsdl",
            "http://192.168.1.3/onvif/Media2",
            Version(16, 12),
        ),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://192.168.1.3/onvif/Events",
            Version(2, 60),
        ),
        ("http://www.onvif.org/ver20/ptz/wsdl", "http://192.168.1.3/onvif/PTZ", Version(16, 12)),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://192.168.1.3/onvif/Imaging",
            Version(16, 6),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://192.168.1.3/onvif/DeviceIO",
            Version(16, 12),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://192.168.1.3/onvif/Analytics",
            Version(16, 12),
        ),
        (
            "http://www.onvif.org/ver10/recording/wsdl",
            "http://192.168.1.3/onvif/Recording",
            Version(16, 12),
        ),
        (
            "http://www.onvif.org/ver10/search/wsdl",
            "http://192.168.1.3/onvif/SearchRecording",
            Version(2, 42),
        ),
        (
            "http://www.onvif.org/ver10/replay/wsdl",
            "http://192.168.1.3/onvif/Replay",
            Version(2, 21),
        ),
    ),
    "device/generic-gsoap_PREDATOR-mockup_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.DEVICE: "http://192.168.68.111/onvif/services",
            ServiceKind.EVENTS: "http://192.168.68.111/onvif/services",
            ServiceKind.IMAGING: "http://192.168.68.111/onvif/services",
            ServiceKind.MEDIA: "http://192.168.68.111/onvif/services",
            ServiceKind.PTZ: "http://192.168.68.111/onvif/services",
            ServiceKind.DEVICEIO: "http://192.168.68.111/onvif/services",
        },
        supported_versions=(Version(2, 40),),
        pull_point_support=True,
        rtp_multicast=False,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=1,
        relay_outputs=1,
        analytics_rule_support=None,
        analytics_module_support=None,
    ),
    "device/generic-gsoap_PREDATOR-mockup_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 42),
        ),
        (
            "http://www.onvif.org/ver10/media/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 41),
        ),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 20),
        ),
        (
            "http://www.onvif.org/ver20/ptz/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 41),
        ),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://192.168.68.111/onvif/services",
            Version(2, 30),
        ),
    ),
    "device/hikvision_DS-2CD2012-I_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.ANALYTICS: "http://10.10.1.65/onvif/Analytics",
            ServiceKind.DEVICE: "http://10.10.1.65/onvif/device_service",
            ServiceKind.EVENTS: "http://10.10.1.65/onvif/Events",
            ServiceKind.IMAGING: "http://10.10.1.65/onvif/Imaging",
            ServiceKind.MEDIA: "http://10.10.1.65/onvif/Media",
            ServiceKind.DEVICEIO: "http://10.10.1.65/onvif/DeviceIO",
        },
        supported_versions=(Version(2, 40), Version(2, 20), Version(2, 10), Version(2, 0)),
        pull_point_support=True,
        rtp_multicast=True,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=0,
        relay_outputs=0,
        analytics_rule_support=True,
        analytics_module_support=True,
    ),
    "device/hikvision_DS-2CD2012-I_GetDNS.xml": DNSInformation(
        from_dhcp=True,
        search_domains=(),
        dns_from_dhcp=(IPAddress(IPType.IPV4, "10.10.1.4"),),
        dns_manual=(),
    ),
    "device/hikvision_DS-2CD2012-I_GetDeviceInformation.xml": DeviceInformation(
        "HIKVISION",
        "DS-2CD2012-I",
        "V5.2.0 build 140721",
        "DS-2CD2012-I20150201CCWR501088621",
        "88",
    ),
    "device/hikvision_DS-2CD2012-I_GetDiscoveryMode.xml": DiscoveryMode.DISCOVERABLE,
    "device/hikvision_DS-2CD2012-I_GetHostname.xml": HostnameInformation(
        from_dhcp=True, name="localhost"
    ),
    "device/hikvision_DS-2CD2012-I_GetNTP.xml": NTPInformation(
        from_dhcp=True,
        ntp_from_dhcp=(NetworkHost(NetworkHostType.IPV4, "10.10.1.4"),),
        ntp_manual=(),
    ),
    "device/hikvision_DS-2CD2012-I_GetRelayOutputs.xml": [],
    "device/hikvision_DS-2CD2012-I_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://10.10.1.65/onvif/device_service",
            Version(2, 40),
        ),
        ("http://www.onvif.org/ver10/media/wsdl", "http://10.10.1.65/onvif/Media", Version(2, 40)),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://10.10.1.65/onvif/Events",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://10.10.1.65/onvif/Imaging",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://10.10.1.65/onvif/DeviceIO",
            Version(2, 21),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://10.10.1.65/onvif/Analytics",
            Version(2, 40),
        ),
    ),
    "device/hikvision_DS-2CD2012-I_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.MANUAL,
        daylight_savings=False,
        time_zone="CST7:00:00",
        utc=datetime(2018, 2, 27, 18, 34, 41, tzinfo=UTC),
        local=datetime(2018, 2, 27, 11, 34, 41),
    ),
    "device/hikvision_DS-2CD2012-I_GetUsers.xml": [User("admin", UserLevel.ADMINISTRATOR)],
    "device/hikvision_DS-2CD2012-I_SetDNS.xml": None,
    "device/hikvision_DS-2CD2012-I_SystemReboot.xml": "Rebooting in 90 seconds",
    "device/hikvision_DS-2DF7276-AEL_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.ANALYTICS: "http://10.10.1.60/onvif/Analytics",
            ServiceKind.DEVICE: "http://10.10.1.60/onvif/device_service",
            ServiceKind.EVENTS: "http://10.10.1.60/onvif/Events",
            ServiceKind.IMAGING: "http://10.10.1.60/onvif/Imaging",
            ServiceKind.MEDIA: "http://10.10.1.60/onvif/Media",
            ServiceKind.PTZ: "http://10.10.1.60/onvif/PTZ",
            ServiceKind.DEVICEIO: "http://10.10.1.60/onvif/DeviceIO",
        },
        supported_versions=(Version(2, 20), Version(2, 10), Version(2, 0)),
        pull_point_support=True,
        rtp_multicast=True,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=7,
        relay_outputs=2,
        analytics_rule_support=True,
        analytics_module_support=True,
    ),
    "device/hikvision_DS-2DF7276-AEL_GetDNS.xml": DNSInformation(
        from_dhcp=True,
        search_domains=(),
        dns_from_dhcp=(IPAddress(IPType.IPV4, "10.10.1.4"),),
        dns_manual=(),
    ),
    "device/hikvision_DS-2DF7276-AEL_GetDeviceInformation.xml": DeviceInformation(
        "HIKVISION",
        "DS-2DF7276-AEL",
        "V5.1.6 build 140401",
        "DS-2DF7276-AEL20140613CCWR468714298B",
        "88",
    ),
    "device/hikvision_DS-2DF7276-AEL_GetDiscoveryMode.xml": DiscoveryMode.DISCOVERABLE,
    "device/hikvision_DS-2DF7276-AEL_GetNTP.xml": NTPInformation(
        from_dhcp=True,
        ntp_from_dhcp=(NetworkHost(NetworkHostType.IPV4, "10.10.1.4"),),
        ntp_manual=(),
    ),
    "device/hikvision_DS-2DF7276-AEL_GetNetworkInterfaces.xml": _HIKVISION_INTERFACES,
    "device/hikvision_DS-2DF7276-AEL_GetRelayOutputs.xml": [
        RelayOutput(
            "AlarmOut_0", RelayMode.MONOSTABLE, timedelta(seconds=5), RelayIdleState.CLOSED
        ),
        RelayOutput(
            "AlarmOut_1", RelayMode.MONOSTABLE, timedelta(seconds=5), RelayIdleState.CLOSED
        ),
    ],
    "device/hikvision_DS-2DF7276-AEL_GetScopes.xml": [
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/video_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Streaming"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/G"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/audio_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/ptz"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/hardware/DS-2DF7276-AEL"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/name/DS-2DF7276-AEL"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/location/city/hangzhou"),
    ],
    "device/hikvision_DS-2DF7276-AEL_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://10.10.1.60/onvif/device_service",
            Version(2, 10),
        ),
        ("http://www.onvif.org/ver10/media/wsdl", "http://10.10.1.60/onvif/Media", Version(2, 10)),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://10.10.1.60/onvif/Events",
            Version(2, 10),
        ),
        ("http://www.onvif.org/ver20/ptz/wsdl", "http://10.10.1.60/onvif/PTZ", Version(2, 10)),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://10.10.1.60/onvif/Imaging",
            Version(2, 10),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://10.10.1.60/onvif/DeviceIO",
            Version(2, 10),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://10.10.1.60/onvif/Analytics",
            Version(2, 10),
        ),
    ),
    "device/hikvision_DS-2DF7276-AEL_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.MANUAL,
        daylight_savings=True,
        time_zone="CST7:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00",
        utc=datetime(2018, 2, 27, 18, 28, 1, tzinfo=UTC),
        local=datetime(2018, 2, 27, 11, 28, 1),
    ),
    "device/hikvision_DS-2DF7276-AEL_GetUsers.xml": [User("admin", UserLevel.ADMINISTRATOR)],
    "device/hikvision_DS-2DF7276-AEL_SetDNS.xml": None,
    "device/hikvision_DS-2DF7276-AEL_SetHostname.xml": None,
    "device/hikvision_DS-2DF7276-AEL_SetNTP.xml": None,
    "device/pelco_D6230L_GetDNS.xml": DNSInformation(
        from_dhcp=False, search_domains=(), dns_from_dhcp=(), dns_manual=()
    ),
    "device/pelco_D6230L_GetDeviceInformation.xml": DeviceInformation(
        "Pelco", "D6230L", "2.9.0.4.9340-A0.0", "J250117", "00:04:7d:0e:b8:5c"
    ),
    "device/pelco_D6230L_GetDiscoveryMode.xml": DiscoveryMode.DISCOVERABLE,
    "device/pelco_D6230L_GetHostname.xml": HostnameInformation(from_dhcp=False, name="localhost"),
    "device/pelco_D6230L_GetRelayOutputs.xml": [
        RelayOutput("PCP2##0", RelayMode.MONOSTABLE, timedelta(seconds=0), RelayIdleState.OPEN)
    ],
    "device/pelco_D6230L_GetScopes.xml": [
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/G"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Q/FactoryDefault"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Streaming"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/hardware/D6230L"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/Network_Video_Transmitter"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/audio_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/ptz"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/video_encoder"),
        Scope(ScopeDefinition.FIXED, "urn:schemas-pelco-com:onvif:extensions:1"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/location/country/usa"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/name/D6230L-J250117"),
    ],
    "device/pelco_D6230L_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://10.10.1.66/onvif/device_service",
            Version(2, 50),
        ),
        (
            "urn:schemas-pelco-com:onvif:device:1",
            "http://10.10.1.66/onvif/device_service",
            Version(1, 30),
        ),
        (
            "urn:schemas-pelco-com:onvif:trafficshaping:1",
            "http://10.10.1.66/onvif/device_service",
            Version(1, 0),
        ),
        (
            "http://www.onvif.org/ver10/media/wsdl",
            "http://10.10.1.66/onvif/media_service",
            Version(2, 41),
        ),
        (
            "urn:schemas-pelco-com:onvif:media:1",
            "http://10.10.1.66/onvif/media_service",
            Version(2, 4),
        ),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://10.10.1.66/onvif/imaging_service",
            Version(2, 50),
        ),
        (
            "urn:schemas-pelco-com:onvif:imaging:1",
            "http://10.10.1.66/onvif/imaging_service",
            Version(3, 1),
        ),
        (
            "http://www.onvif.org/ver20/ptz/wsdl",
            "http://10.10.1.66/onvif/ptz_service",
            Version(2, 50),
        ),
        (
            "urn:schemas-pelco-com:onvif:ptzzones:1",
            "http://10.10.1.66/onvif/ptz_service",
            Version(1, 0),
        ),
        (
            "urn:schemas-pelco-com:onvif:smartcompression:1",
            "http://10.10.1.66/onvif/media_service",
            Version(1, 0),
        ),
        (
            "urn:schemas-pelco-com:onvif:mediapresets:1",
            "http://10.10.1.66/onvif/media_service",
            Version(1, 0),
        ),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://10.10.1.66/onvif/eventing_service",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://10.10.1.66/onvif/device_service",
            Version(2, 41),
        ),
        (
            "urn:schemas-pelco-com:onvif:deviceIO:1",
            "http://10.10.1.66/onvif/device_service",
            Version(2, 0),
        ),
        (
            "http://www.onvif.org/ver10/advancedsecurity/wsdl",
            "http://10.10.1.66/onvif/security_service",
            Version(16, 10),
        ),
        (
            "http://www.onvif.org/ver10/recording/wsdl",
            "http://10.10.1.66/onvif/recording_control_service",
            Version(2, 50),
        ),
        (
            "http://www.onvif.org/ver10/replay/wsdl",
            "http://10.10.1.66/onvif/replay_service",
            Version(2, 21),
        ),
        (
            "http://www.onvif.org/ver10/search/wsdl",
            "http://10.10.1.66/onvif/recording_search_service",
            Version(2, 42),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://10.10.1.66/onvif/analytics_service",
            Version(2, 20),
        ),
        (
            "urn:schemas-pelco-com:onvif:snmp:1",
            "http://10.10.1.66/onvif/device_service",
            Version(1, 1),
        ),
        (
            "urn:schemas-pelco-com:onvif:smtp:1",
            "http://10.10.1.66/onvif/device_service",
            Version(1, 0),
        ),
        (
            "urn:schemas-pelco-com:onvif:led:1",
            "http://10.10.1.66/onvif/device_service",
            Version(1, 0),
        ),
    ),
    "device/pelco_D6230L_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.MANUAL,
        daylight_savings=False,
        time_zone="MST7MDT,M3.2.0,M11.1.0",
        utc=datetime(2018, 2, 27, 18, 10, 11, tzinfo=UTC),
        local=None,
    ),
    "device/pelco_D6230L_GetUsers.xml": [],
    "device/pelco_D6230L_SetDNS.xml": None,
    "device/pelco_D6230L_SetNTP.xml": None,
    "device/pelco_D6230L_SystemReboot.xml": "Rebooting now",
    "device/trendnet_TV-IP320PI_GetCapabilities.xml": Capabilities(
        xaddrs={
            ServiceKind.ANALYTICS: "http://10.10.1.67/onvif/Analytics",
            ServiceKind.DEVICE: "http://10.10.1.67/onvif/device_service",
            ServiceKind.EVENTS: "http://10.10.1.67/onvif/Events",
            ServiceKind.IMAGING: "http://10.10.1.67/onvif/Imaging",
            ServiceKind.MEDIA: "http://10.10.1.67/onvif/Media",
            ServiceKind.DEVICEIO: "http://10.10.1.67/onvif/DeviceIO",
        },
        supported_versions=(Version(2, 40), Version(2, 20), Version(2, 10), Version(2, 0)),
        pull_point_support=True,
        rtp_multicast=True,
        rtp_tcp=True,
        rtp_rtsp_tcp=True,
        input_connectors=0,
        relay_outputs=0,
        analytics_rule_support=True,
        analytics_module_support=True,
    ),
    "device/trendnet_TV-IP320PI_GetDNS.xml": DNSInformation(
        from_dhcp=False,
        search_domains=(),
        dns_from_dhcp=(),
        dns_manual=(IPAddress(IPType.IPV4, "10.10.1.4"),),
    ),
    "device/trendnet_TV-IP320PI_GetDeviceInformation.xml": DeviceInformation(
        "TRENDnet", "TV-IP320PI", "V5.3.4 build 160830", "TV-IP320PI20161206AAWR863642784", "88"
    ),
    "device/trendnet_TV-IP320PI_GetDiscoveryMode.xml": DiscoveryMode.DISCOVERABLE,
    "device/trendnet_TV-IP320PI_GetNTP.xml": NTPInformation(
        from_dhcp=False,
        ntp_from_dhcp=(),
        ntp_manual=(NetworkHost(NetworkHostType.IPV4, "10.10.1.4"),),
    ),
    "device/trendnet_TV-IP320PI_GetScopes.xml": [
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/type/video_encoder"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/Streaming"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/Profile/G"),
        Scope(ScopeDefinition.FIXED, "onvif://www.onvif.org/hardware/TV-IP320PI"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/name/TV-IP320PI"),
        Scope(ScopeDefinition.CONFIGURABLE, "onvif://www.onvif.org/location/"),
    ],
    "device/trendnet_TV-IP320PI_GetServices.xml": services(
        (
            "http://www.onvif.org/ver10/device/wsdl",
            "http://10.10.1.67/onvif/device_service",
            Version(2, 40),
        ),
        ("http://www.onvif.org/ver10/media/wsdl", "http://10.10.1.67/onvif/Media", Version(2, 40)),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "http://10.10.1.67/onvif/Events",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver20/imaging/wsdl",
            "http://10.10.1.67/onvif/Imaging",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/deviceIO/wsdl",
            "http://10.10.1.67/onvif/DeviceIO",
            Version(2, 21),
        ),
        (
            "http://www.onvif.org/ver20/analytics/wsdl",
            "http://10.10.1.67/onvif/Analytics",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/recording/wsdl",
            "http://10.10.1.67/onvif/Recording",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/search/wsdl",
            "http://10.10.1.67/onvif/SearchRecording",
            Version(2, 40),
        ),
        (
            "http://www.onvif.org/ver10/replay/wsdl",
            "http://10.10.1.67/onvif/Replay",
            Version(2, 21),
        ),
    ),
    "device/trendnet_TV-IP320PI_GetSystemDateAndTime.xml": SystemDateAndTime(
        date_time_type=DateTimeType.NTP,
        daylight_savings=True,
        time_zone="CST+7:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00",
        utc=datetime(2018, 2, 27, 18, 36, 51, tzinfo=UTC),
        local=datetime(2018, 2, 27, 11, 36, 51),
    ),
    "device/trendnet_TV-IP320PI_GetUsers.xml": [User("admin", UserLevel.ADMINISTRATOR)],
    "device/trendnet_TV-IP320PI_SetDNS.xml": None,
    "device/trendnet_TV-IP320PI_SetHostname.xml": None,
    "device/trendnet_TV-IP320PI_SystemReboot.xml": "Rebooting in 90 seconds",
}


@pytest.mark.parametrize("path", list(CASES), ids=corpus.ids(CASES))
def test_parse(path: str) -> None:
    operation = corpus.capture(path).operation
    payload = corpus.payload(path)
    assert local_name(payload.tag) == f"{operation}Response"
    assert PARSERS[operation](payload) == CASES[path]


_ANSWERED = [path for path, value in CASES.items() if value is not None]


@pytest.mark.parametrize("path", _ANSWERED, ids=corpus.ids(_ANSWERED))
def test_device_answer_round_trips(path: str) -> None:
    """What the reference device would answer with the parsed value parses back equal."""
    operation = corpus.capture(path).operation
    expected = CASES[path]
    response = _response_for(operation, expected)
    assert response is not None
    assert local_name(response.tag) == f"{operation}Response"
    assert PARSERS[operation](etree.fromstring(etree.tostring(response))) == expected


def _response_for(operation: str, value: Expected) -> etree._Element | None:
    match operation, value:
        case "GetCapabilities", Capabilities():
            return ops.build_get_capabilities_response(value)
        case "GetDNS", DNSInformation():
            return ops.build_get_dns_response(value)
        case "GetDeviceInformation", DeviceInformation():
            return ops.build_get_device_information_response(value)
        case "GetDiscoveryMode", DiscoveryMode():
            return ops.build_get_discovery_mode_response(value)
        case "GetHostname", HostnameInformation():
            return ops.build_get_hostname_response(value)
        case "GetNTP", NTPInformation():
            return ops.build_get_ntp_response(value)
        case "GetSystemDateAndTime", SystemDateAndTime():
            return ops.build_get_system_date_and_time_response(value)
        case "SystemReboot", str():
            return ops.build_system_reboot_response(value)
        case "GetNetworkInterfaces", list():
            return ops.build_get_network_interfaces_response(_of(NetworkInterface, value))
        case "GetRelayOutputs", list():
            return ops.build_get_relay_outputs_response(_of(RelayOutput, value))
        case "GetScopes", list():
            return ops.build_get_scopes_response(_of(Scope, value))
        case "GetServices", list():
            return ops.build_get_services_response(_of(Service, value))
        case "GetUsers", list():
            return ops.build_get_users_response(_of(User, value))
    return None


_T = TypeVar("_T")


def _of(kind: type[_T], values: Sequence[object]) -> list[_T]:
    items = [value for value in values if isinstance(value, kind)]
    assert len(items) == len(values)
    return items


def test_set_parser_refuses_another_operations_answer() -> None:
    payload = corpus.payload("device/axis_Q6045-E_GetHostname.xml")
    with pytest.raises(RemoteProtocolError) as caught:
        ops.parse_set_hostname(payload)
    assert str(caught.value) == (
        "expected SetHostnameResponse, got GetHostnameResponse "
        "(operation SetHostname, at /Envelope/Body/GetHostnameResponse)"
    )


def test_axis_reports_onvif_1_2_in_get_capabilities() -> None:
    # The Q6045-E (2018 firmware) lists only 1.2 in SupportedVersions although its
    # GetServices-era answers carry 2.x services: versions from GetCapabilities
    # are a floor, not the truth (corpus device/axis_Q6045-E_GetCapabilities.xml).
    capabilities = ops.parse_get_capabilities(
        corpus.payload("device/axis_Q6045-E_GetCapabilities.xml")
    )
    assert capabilities.supported_versions == (Version(1, 2),)


def test_local_time_without_utc_is_converted_with_the_posix_offset() -> None:
    # No capture has a local time without UTC, so drop UTCDateTime from a
    # Hikvision answer: its TZ CST7:00:00 is POSIX for UTC-7.
    payload = corpus.payload("device/hikvision_DS-2CD2012-I_GetSystemDateAndTime.xml")
    clock = payload[0]
    for node in list(clock):
        if local_name(node.tag) == "UTCDateTime":
            clock.remove(node)
    parsed = ops.parse_get_system_date_and_time(payload)
    assert parsed.utc == datetime(2018, 2, 27, 18, 34, 41, tzinfo=UTC)
    assert parsed.local == datetime(2018, 2, 27, 11, 34, 41)
