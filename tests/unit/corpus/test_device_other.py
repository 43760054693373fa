"""Device-service captures outside the core calls: network, system and security settings.

Operations with a typed parser are checked value for value against the model
and then round-tripped through the reference device's response writer. The
few operations we did not type are read with the xmlread helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.device import NetworkHost, NetworkHostType, PrefixedAddress
from platonicam.onvif.models.network import (
    BinaryData,
    CertificateStatus,
    DeviceServiceCapabilities,
    DynamicDNSInformation,
    IPAddressFilter,
    NetworkCapabilities,
    NetworkGateway,
    NetworkProtocol,
    NetworkZeroConfiguration,
    SecurityCapabilities,
    SystemCapabilities,
    SystemLog,
    SystemLogUri,
    SystemUris,
)
from platonicam.onvif.services import network
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xmlread import bool_at, text
from tests.corpus import capture, ids, payload


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """What we assert about an access policy file too long to spell out."""

    length: int
    first_line: bytes
    last_line: bytes
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Untyped:
    """An answer we read with xmlread: its child count, texts and booleans by path."""

    children: int
    texts: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    bools: Mapping[tuple[str, ...], bool] = field(default_factory=dict)


_GATEWAY_V4 = NetworkGateway(ipv4_addresses=("10.10.1.1",))
_GATEWAY_V4_V6 = NetworkGateway(ipv4_addresses=("10.10.1.1",), ipv6_addresses=("::",))
_HTTP_RTSP = [
    NetworkProtocol("HTTP", True, (80,)),
    NetworkProtocol("HTTPS", False, (443,)),
    NetworkProtocol("RTSP", True, (554,)),
]
_NO_DP = [NetworkHost(NetworkHostType.IPV4, "0.0.0.0")]
_HIK_NETWORK = NetworkCapabilities(
    ip_filter=True,
    zero_configuration=True,
    ip_version6=True,
    dyn_dns=True,
    dot11_configuration=False,
    dot1x_configurations=0,
    hostname_from_dhcp=True,
    ntp=1,
    dhcp_v6=True,
)


def _hik_security(*, http_digest: bool) -> SecurityCapabilities:
    return SecurityCapabilities(
        tls1_0=False,
        tls1_1=False,
        tls1_2=False,
        onboard_key_generation=False,
        access_policy_config=False,
        default_access_policy=True,
        dot1x=False,
        remote_user_handling=False,
        x509_token=False,
        saml_token=False,
        kerberos_token=False,
        username_token=True,
        http_digest=http_digest,
        rel_token=False,
        supported_eap_methods=(0,),
    )


_NO_LOGS = SystemLog(text="No available system logs")

CASES: dict[str, object] = {
    "device/axis_Q6045-E_GetAccessPolicy.xml": PolicyFacts(
        length=7108,
        first_line=b"# Access Policy File",
        last_line=b"SetObjectCount=c",
    ),
    "device/axis_Q6045-E_GetCertificatesStatus.xml": [],
    "device/axis_Q6045-E_GetClientCertificateMode.xml": False,
    # The quirk: TTL "30" where xs:duration is due, read as 30 seconds.
    "device/axis_Q6045-E_GetDynamicDNS.xml": DynamicDNSInformation(
        "NoUpdate", ttl=timedelta(seconds=30)
    ),
    "device/axis_Q6045-E_GetIPAddressFilter.xml": IPAddressFilter("Allow"),
    "device/axis_Q6045-E_GetNetworkDefaultGateway.xml": _GATEWAY_V4,
    "device/axis_Q6045-E_GetNetworkProtocols.xml": [
        NetworkProtocol("HTTP", True, (80, 0)),
        NetworkProtocol("HTTPS", False, (443,)),
        NetworkProtocol("RTSP", True, (554,)),
    ],
    "device/axis_Q6045-E_GetWsdlUrl.xml": "http://192.168.0.19/wsdl/onvif/",
    "device/axis_Q6045-E_GetZeroConfiguration.xml": NetworkZeroConfiguration(
        "eth0", True, ("169.254.138.132",)
    ),
    "device/hikvision_DS-2CD2012-I_GetDPAddresses.xml": _NO_DP,
    "device/hikvision_DS-2CD2012-I_GetDynamicDNS.xml": DynamicDNSInformation(
        "ClientUpdates", name="Test"
    ),
    "device/hikvision_DS-2CD2012-I_GetNetworkDefaultGateway.xml": _GATEWAY_V4_V6,
    "device/hikvision_DS-2CD2012-I_GetServiceCapabilities.xml": DeviceServiceCapabilities(
        network=_HIK_NETWORK,
        security=_hik_security(http_digest=True),
        system=SystemCapabilities(
            discovery_resolve=False,
            discovery_bye=True,
            remote_discovery=True,
            system_backup=True,
            system_logging=True,
            http_firmware_upgrade=True,
            http_system_backup=True,
            http_system_logging=False,
            http_support_information=False,
        ),
    ),
    "device/hikvision_DS-2CD2012-I_GetSystemLog.xml": _NO_LOGS,
    "device/hikvision_DS-2CD2012-I_GetSystemSupportInformation.xml": Untyped(
        children=1,
        texts={("SupportInformation", "String"): "No available system support information"},
    ),
    "device/hikvision_DS-2CD2012-I_GetWsdlUrl.xml": "http://www.onvif.org/",
    "device/hikvision_DS-2CD2012-I_GetZeroConfiguration.xml": NetworkZeroConfiguration(
        "eth0", True, ("10.10.1.65",)
    ),
    "device/hikvision_DS-2CD2012-I_SetDynamicDNS.xml": Untyped(children=0),
    "device/hikvision_DS-2CD2012-I_SetHostnameFromDHCP.xml": Untyped(
        children=1, bools={("RebootNeeded",): True}
    ),
    "device/hikvision_DS-2DF7276-AEL_GetDPAddresses.xml": _NO_DP,
    "device/hikvision_DS-2DF7276-AEL_GetDynamicDNS.xml": DynamicDNSInformation(
        "ClientUpdates", name="Test"
    ),
    "device/hikvision_DS-2DF7276-AEL_GetIPAddressFilter.xml": IPAddressFilter("Deny"),
    "device/hikvision_DS-2DF7276-AEL_GetNetworkDefaultGateway.xml": _GATEWAY_V4_V6,
    "device/hikvision_DS-2DF7276-AEL_GetNetworkProtocols.xml": [
        NetworkProtocol("HTTP", True, (80,)),
        NetworkProtocol("RTSP", True, (554,)),
    ],
    # Token-only camera: HttpDigest="false", and no local backup or logging.
    "device/hikvision_DS-2DF7276-AEL_GetServiceCapabilities.xml": DeviceServiceCapabilities(
        network=_HIK_NETWORK,
        security=_hik_security(http_digest=False),
        system=SystemCapabilities(
            discovery_resolve=False,
            discovery_bye=True,
            remote_discovery=True,
            system_backup=False,
            system_logging=False,
            http_firmware_upgrade=True,
            http_system_backup=False,
            http_system_logging=False,
            http_support_information=False,
        ),
    ),
    "device/hikvision_DS-2DF7276-AEL_GetSystemLog.xml": _NO_LOGS,
    # Empty Uri, SupportInfoUri and SystemBackupUri elements read as "none".
    "device/hikvision_DS-2DF7276-AEL_GetSystemUris.xml": SystemUris(
        system_logs=(SystemLogUri("System", None),)
    ),
    "device/hikvision_DS-2DF7276-AEL_GetZeroConfiguration.xml": NetworkZeroConfiguration(
        "eth0", True, ("10.10.1.60",)
    ),
    "device/pelco_D6230L_GetCACertificates.xml": Untyped(children=0),
    "device/pelco_D6230L_GetCertificates.xml": Untyped(children=0),
    "device/pelco_D6230L_GetCertificatesStatus.xml": [],
    "device/pelco_D6230L_GetClientCertificateMode.xml": False,
    "device/pelco_D6230L_GetDot1XConfigurations.xml": Untyped(children=0),
    "device/pelco_D6230L_GetServiceCapabilities.xml": DeviceServiceCapabilities(
        network=NetworkCapabilities(
            ip_filter=True,
            zero_configuration=True,
            ip_version6=True,
            dyn_dns=False,
            dot11_configuration=True,
            dot1x_configurations=1,
            hostname_from_dhcp=False,
            ntp=6,
            dhcp_v6=True,
        ),
        security=SecurityCapabilities(
            tls1_0=True,
            tls1_1=False,
            tls1_2=False,
            onboard_key_generation=True,
            access_policy_config=False,
            default_access_policy=True,
            dot1x=True,
            remote_user_handling=False,
            x509_token=False,
            saml_token=False,
            kerberos_token=False,
            username_token=True,
            http_digest=True,
            rel_token=False,
            max_users=1024,
            max_user_name_length=32,
            max_password_length=64,
        ),
        system=SystemCapabilities(
            discovery_resolve=True,
            discovery_bye=True,
            remote_discovery=False,
            system_backup=True,
            system_logging=True,
            http_firmware_upgrade=True,
            http_system_backup=True,
            http_system_logging=True,
            http_support_information=True,
        ),
    ),
    "device/pelco_D6230L_GetSystemUris.xml": SystemUris(
        system_logs=(SystemLogUri("System", "http://10.10.1.66/onvif/systemlog/get"),),
        support_info_uri="http://10.10.1.66/onvif/supportlog/get",
        system_backup_uri="http://10.10.1.66/onvif/backup/get",
    ),
    "device/pelco_D6230L_GetZeroConfiguration.xml": NetworkZeroConfiguration(
        "eth0", True, ("169.254.157.249",)
    ),
    # Eight placeholder bytes (0x12345678, 0xabcdef01 little-endian), not a policy file.
    "device/trendnet_TV-IP320PI_GetAccessPolicy.xml": BinaryData(bytes.fromhex("7856341201efcdab")),
    "device/trendnet_TV-IP320PI_GetDPAddresses.xml": _NO_DP,
    "device/trendnet_TV-IP320PI_GetIPAddressFilter.xml": IPAddressFilter("Deny"),
    "device/trendnet_TV-IP320PI_GetNetworkDefaultGateway.xml": _GATEWAY_V4_V6,
    "device/trendnet_TV-IP320PI_GetNetworkProtocols.xml": _HTTP_RTSP,
    "device/trendnet_TV-IP320PI_GetRemoteDiscoveryMode.xml": "Discoverable",
    "device/trendnet_TV-IP320PI_GetSystemLog.xml": _NO_LOGS,
    "device/trendnet_TV-IP320PI_GetSystemUris.xml": SystemUris(
        system_logs=(SystemLogUri("System", None),),
        system_backup_uri="http://10.10.1.67:80/onvif/device_service/GetSystemBackup",
    ),
    "device/trendnet_TV-IP320PI_GetWsdlUrl.xml": "http://www.onvif.org/",
    "device/trendnet_TV-IP320PI_GetZeroConfiguration.xml": NetworkZeroConfiguration(
        "eth0", True, ("10.10.1.67",)
    ),
}

# Operation -> (parser, the reference device's response writer).
_TYPED: dict[str, tuple[Callable[[etree._Element], object], Callable[..., etree._Element]]] = {
    "GetNetworkDefaultGateway": (
        network.parse_get_network_default_gateway,
        network.build_get_network_default_gateway_response,
    ),
    "GetNetworkProtocols": (
        network.parse_get_network_protocols,
        network.build_get_network_protocols_response,
    ),
    "GetSystemUris": (network.parse_get_system_uris, network.build_get_system_uris_response),
    "GetDynamicDNS": (network.parse_get_dynamic_dns, network.build_get_dynamic_dns_response),
    "GetZeroConfiguration": (
        network.parse_get_zero_configuration,
        network.build_get_zero_configuration_response,
    ),
    "GetDPAddresses": (network.parse_get_dp_addresses, network.build_get_dp_addresses_response),
    "GetIPAddressFilter": (
        network.parse_get_ip_address_filter,
        network.build_get_ip_address_filter_response,
    ),
    "GetWsdlUrl": (network.parse_get_wsdl_url, network.build_get_wsdl_url_response),
    "GetServiceCapabilities": (
        network.parse_get_service_capabilities,
        network.build_get_service_capabilities_response,
    ),
    "GetRemoteDiscoveryMode": (
        network.parse_get_remote_discovery_mode,
        network.build_get_remote_discovery_mode_response,
    ),
    "GetSystemLog": (network.parse_get_system_log, network.build_get_system_log_response),
    "GetCertificatesStatus": (
        network.parse_get_certificates_status,
        network.build_get_certificates_status_response,
    ),
    "GetClientCertificateMode": (
        network.parse_get_client_certificate_mode,
        network.build_get_client_certificate_mode_response,
    ),
    "GetAccessPolicy": (network.parse_get_access_policy, network.build_get_access_policy_response),
}


def _reparse(value: object, operation: str) -> object:
    """Write ``value`` as the device would, serialise, parse the bytes back, read it again."""
    parse, write = _TYPED[operation]
    written = etree.fromstring(etree.tostring(write(value)))
    assert local_name(written.tag) == f"{operation}Response"
    return parse(written)


@pytest.mark.parametrize("path", list(CASES), ids=ids(CASES))
def test_device_capture(path: str) -> None:
    operation = capture(path).operation
    expected = CASES[path]
    answer = payload(path)
    assert local_name(answer.tag) == f"{operation}Response"

    if isinstance(expected, Untyped):
        assert operation not in _TYPED
        assert len([c for c in answer if isinstance(c.tag, str)]) == expected.children
        for names, value in expected.texts.items():
            assert text(answer, *names) == value
        for names, flag in expected.bools.items():
            assert bool_at(answer, *names, operation=operation) is flag
        return

    parse, _ = _TYPED[operation]
    parsed = parse(answer)
    if isinstance(expected, PolicyFacts):
        assert isinstance(parsed, BinaryData)
        assert len(parsed.data) == expected.length
        lines = parsed.data.splitlines()
        assert lines[0] == expected.first_line
        assert lines[-1] == expected.last_line
        assert parsed.content_type == expected.content_type
    else:
        assert parsed == expected
    assert _reparse(parsed, operation) == parsed


def test_every_typed_operation_has_a_capture() -> None:
    covered = {capture(path).operation for path in CASES}
    assert set(_TYPED) <= covered


def test_dynamic_dns_ttl_is_written_as_a_duration() -> None:
    """The Axis bare-seconds TTL is read leniently but never written that way."""
    information = network.parse_get_dynamic_dns(payload("device/axis_Q6045-E_GetDynamicDNS.xml"))
    written = network.build_get_dynamic_dns_response(information)
    assert text(written, "DynamicDNSInformation", "TTL") == "PT30S"


def test_request_builders_name_their_operations() -> None:
    builders: dict[str, Callable[[], etree._Element]] = {
        "GetNetworkDefaultGateway": network.build_get_network_default_gateway,
        "GetNetworkProtocols": network.build_get_network_protocols,
        "GetSystemUris": network.build_get_system_uris,
        "GetDynamicDNS": network.build_get_dynamic_dns,
        "GetZeroConfiguration": network.build_get_zero_configuration,
        "GetDPAddresses": network.build_get_dp_addresses,
        "GetIPAddressFilter": network.build_get_ip_address_filter,
        "GetWsdlUrl": network.build_get_wsdl_url,
        "GetServiceCapabilities": network.build_get_service_capabilities,
        "GetRemoteDiscoveryMode": network.build_get_remote_discovery_mode,
        "GetSystemLog": network.build_get_system_log,
        "GetCertificatesStatus": network.build_get_certificates_status,
        "GetClientCertificateMode": network.build_get_client_certificate_mode,
        "GetAccessPolicy": network.build_get_access_policy,
    }
    assert set(builders) == set(_TYPED)
    for operation, build in builders.items():
        request = build()
        assert request.tag == f"{{http://www.onvif.org/ver10/device/wsdl}}{operation}"
    log_request = network.build_get_system_log("Access")
    assert text(log_request, "LogType") == "Access"


def test_system_log_type_is_checked_before_sending() -> None:
    with pytest.raises(LocalProtocolError, match="System or Access"):
        network.build_get_system_log("Kernel")


def test_models_round_trip_values_the_corpus_lacks() -> None:
    """Prefixed filter addresses, certificate statuses and a DNS host the cameras left empty."""
    address_filter = IPAddressFilter(
        "Allow",
        ipv4_addresses=(PrefixedAddress("192.0.2.0", 24),),
        ipv6_addresses=(PrefixedAddress("2001:db8::", 32),),
    )
    assert _reparse(address_filter, "GetIPAddressFilter") == address_filter
    statuses = [CertificateStatus("cert1", True), CertificateStatus("cert2", False)]
    assert _reparse(statuses, "GetCertificatesStatus") == statuses
    hosts = [
        NetworkHost(NetworkHostType.DNS, "proxy.example"),
        NetworkHost(NetworkHostType.IPV6, "::1"),
    ]
    assert _reparse(hosts, "GetDPAddresses") == hosts
    policy = BinaryData(b"\x00\x01policy", content_type="application/octet-stream")
    assert _reparse(policy, "GetAccessPolicy") == policy


def _response(body: str) -> etree._Element:
    return etree.fromstring(
        f'<tds:R xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
        f' xmlns:tt="http://www.onvif.org/ver10/schema">{body}</tds:R>'
    )


@pytest.mark.parametrize(
    ("parse", "body", "message"),
    [
        (
            network.parse_get_access_policy,
            "<tds:PolicyFile><tt:Data>not*base64</tt:Data></tds:PolicyFile>",
            "Base64 data expected",
        ),
        (
            network.parse_get_network_protocols,
            "<tds:NetworkProtocols><tt:Name>HTTP</tt:Name><tt:Enabled>true</tt:Enabled>"
            "<tt:Port>eighty</tt:Port></tds:NetworkProtocols>",
            "integer expected, got 'eighty'",
        ),
        (
            network.parse_get_ip_address_filter,
            "<tds:IPAddressFilter><tt:Type>Allow</tt:Type>"
            "<tt:IPv4Address><tt:Address>192.0.2.0</tt:Address></tt:IPv4Address>"
            "</tds:IPAddressFilter>",
            "missing element PrefixLength",
        ),
        (network.parse_get_wsdl_url, "", "missing element WsdlUrl"),
        (network.parse_get_dynamic_dns, "<tds:DynamicDNSInformation/>", "missing element Type"),
        (
            network.parse_get_client_certificate_mode,
            "<tds:Enabled>maybe</tds:Enabled>",
            "boolean expected",
        ),
    ],
    ids=["base64", "port", "prefix", "wsdl-url", "dns-type", "enabled"],
)
def test_unreadable_values_raise_remote_protocol_error(
    parse: Callable[[etree._Element], object], body: str, message: str
) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        parse(_response(body))
