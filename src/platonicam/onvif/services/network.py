"""Device service (tds): network, system and security operations beyond the core calls.

Three pure functions per operation:

- ``build_<operation>(...)``: the request element the client sends;
- ``parse_<operation>(payload)``: the response element (the SOAP body's first
  child) into models or plain values;
- ``build_<operation>_response(...)``: the response element the reference
  device answers with, so that ``parse(build_response(x)) == x``.

No I/O here; :mod:`platonicam.onvif.client` sends the requests. Every parser
raises :class:`~platonicam.onvif.errors.RemoteProtocolError` for unreadable data.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.network import (
    BinaryData,
    CertificateStatus,
    DeviceServiceCapabilities,
    DynamicDNSInformation,
    IPAddressFilter,
    NetworkGateway,
    NetworkHost,
    NetworkProtocol,
    NetworkZeroConfiguration,
    SystemLog,
    SystemUris,
)
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS
from platonicam.onvif.soap.xmlread import bool_at, children, require, require_text

# --- GetNetworkDefaultGateway -------------------------------------------------------------


def build_get_network_default_gateway() -> etree._Element:
    return element(TDS, "GetNetworkDefaultGateway")


def parse_get_network_default_gateway(payload: etree._Element) -> NetworkGateway:
    node = require(payload, "NetworkGateway", operation="GetNetworkDefaultGateway")
    return NetworkGateway.from_xml(node)


def build_get_network_default_gateway_response(gateway: NetworkGateway) -> etree._Element:
    response = element(TDS, "GetNetworkDefaultGatewayResponse")
    gateway.to_xml(response)
    return response


# --- GetNetworkProtocols ------------------------------------------------------------------


def build_get_network_protocols() -> etree._Element:
    return element(TDS, "GetNetworkProtocols")


def parse_get_network_protocols(payload: etree._Element) -> list[NetworkProtocol]:
    return [NetworkProtocol.from_xml(node) for node in children(payload, "NetworkProtocols")]


def build_get_network_protocols_response(
    protocols: Iterable[NetworkProtocol],
) -> etree._Element:
    response = element(TDS, "GetNetworkProtocolsResponse")
    for protocol in protocols:
        protocol.to_xml(response)
    return response


# --- GetSystemUris ------------------------------------------------------------------------


def build_get_system_uris() -> etree._Element:
    return element(TDS, "GetSystemUris")


def parse_get_system_uris(payload: etree._Element) -> SystemUris:
    return SystemUris.from_xml(payload)


def build_get_system_uris_response(uris: SystemUris) -> etree._Element:
    response = element(TDS, "GetSystemUrisResponse")
    uris.to_xml(response)
    return response


# --- GetDynamicDNS ------------------------------------------------------------------------


def build_get_dynamic_dns() -> etree._Element:
    return element(TDS, "GetDynamicDNS")


def parse_get_dynamic_dns(payload: etree._Element) -> DynamicDNSInformation:
    operation = "GetDynamicDNS"
    node = require(payload, "DynamicDNSInformation", operation=operation)
    return DynamicDNSInformation.from_xml(node, operation=operation)


def build_get_dynamic_dns_response(information: DynamicDNSInformation) -> etree._Element:
    response = element(TDS, "GetDynamicDNSResponse")
    information.to_xml(response)
    return response


# --- GetZeroConfiguration -----------------------------------------------------------------


def build_get_zero_configuration() -> etree._Element:
    return element(TDS, "GetZeroConfiguration")


def parse_get_zero_configuration(payload: etree._Element) -> NetworkZeroConfiguration:
    operation = "GetZeroConfiguration"
    node = require(payload, "ZeroConfiguration", operation=operation)
    return NetworkZeroConfiguration.from_xml(node, operation=operation)


def build_get_zero_configuration_response(
    configuration: NetworkZeroConfiguration,
) -> etree._Element:
    response = element(TDS, "GetZeroConfigurationResponse")
    configuration.to_xml(response)
    return response


# --- GetDPAddresses -----------------------------------------------------------------------


def build_get_dp_addresses() -> etree._Element:
    return element(TDS, "GetDPAddresses")


def parse_get_dp_addresses(payload: etree._Element) -> list[NetworkHost]:
    """The remote discovery proxy addresses.

    Returned as the camera lists them: Hikvision answers ``IPv4`` ``0.0.0.0``
    when none is set (corpus ``device/hikvision_DS-2CD2012-I_GetDPAddresses.xml``).
    """
    return [NetworkHost.from_xml(node) for node in children(payload, "DPAddress")]


def build_get_dp_addresses_response(addresses: Iterable[NetworkHost]) -> etree._Element:
    response = element(TDS, "GetDPAddressesResponse")
    for address in addresses:
        address.to_xml(response, "DPAddress", namespace=TDS)
    return response


# --- GetIPAddressFilter -------------------------------------------------------------------


def build_get_ip_address_filter() -> etree._Element:
    return element(TDS, "GetIPAddressFilter")


def parse_get_ip_address_filter(payload: etree._Element) -> IPAddressFilter:
    operation = "GetIPAddressFilter"
    node = require(payload, "IPAddressFilter", operation=operation)
    return IPAddressFilter.from_xml(node, operation=operation)


def build_get_ip_address_filter_response(address_filter: IPAddressFilter) -> etree._Element:
    response = element(TDS, "GetIPAddressFilterResponse")
    address_filter.to_xml(response)
    return response


# --- GetWsdlUrl ---------------------------------------------------------------------------


def build_get_wsdl_url() -> etree._Element:
    return element(TDS, "GetWsdlUrl")


def parse_get_wsdl_url(payload: etree._Element) -> str:
    """The URL of the camera's WSDL (often just ``http://www.onvif.org/``)."""
    return require_text(payload, "WsdlUrl", operation="GetWsdlUrl")


def build_get_wsdl_url_response(url: str) -> etree._Element:
    response = element(TDS, "GetWsdlUrlResponse")
    sub(response, TDS, "WsdlUrl", url)
    return response


# --- GetServiceCapabilities (device service) ----------------------------------------------


def build_get_service_capabilities() -> etree._Element:
    return element(TDS, "GetServiceCapabilities")


def parse_get_service_capabilities(payload: etree._Element) -> DeviceServiceCapabilities:
    operation = "GetServiceCapabilities"
    node = require(payload, "Capabilities", operation=operation)
    return DeviceServiceCapabilities.from_xml(node, operation=operation)


def build_get_service_capabilities_response(
    capabilities: DeviceServiceCapabilities,
) -> etree._Element:
    response = element(TDS, "GetServiceCapabilitiesResponse")
    capabilities.to_xml(response)
    return response


# --- GetRemoteDiscoveryMode ---------------------------------------------------------------


def build_get_remote_discovery_mode() -> etree._Element:
    return element(TDS, "GetRemoteDiscoveryMode")


def parse_get_remote_discovery_mode(payload: etree._Element) -> str:
    """``Discoverable`` or ``NonDiscoverable`` (``tt:DiscoveryMode``), as the camera wrote it."""
    return require_text(payload, "RemoteDiscoveryMode", operation="GetRemoteDiscoveryMode")


def build_get_remote_discovery_mode_response(mode: str) -> etree._Element:
    response = element(TDS, "GetRemoteDiscoveryModeResponse")
    sub(response, TDS, "RemoteDiscoveryMode", mode)
    return response


# --- GetSystemLog -------------------------------------------------------------------------

_LOG_TYPES = frozenset({"System", "Access"})


def build_get_system_log(log_type: str = "System") -> etree._Element:
    """Ask for the ``System`` or ``Access`` log; any other type is a :class:`LocalProtocolError`."""
    if log_type not in _LOG_TYPES:
        raise LocalProtocolError(f"log type must be System or Access, not {log_type!r}")
    request = element(TDS, "GetSystemLog")
    sub(request, TDS, "LogType", log_type)
    return request


def parse_get_system_log(payload: etree._Element) -> SystemLog:
    return SystemLog.from_xml(require(payload, "SystemLog", operation="GetSystemLog"))


def build_get_system_log_response(log: SystemLog) -> etree._Element:
    response = element(TDS, "GetSystemLogResponse")
    log.to_xml(response)
    return response


# --- GetCertificatesStatus ----------------------------------------------------------------


def build_get_certificates_status() -> etree._Element:
    return element(TDS, "GetCertificatesStatus")


def parse_get_certificates_status(payload: etree._Element) -> list[CertificateStatus]:
    """Every certificate's status; empty when the camera has none (Axis, Pelco)."""
    return [CertificateStatus.from_xml(node) for node in children(payload, "CertificateStatus")]


def build_get_certificates_status_response(
    statuses: Iterable[CertificateStatus],
) -> etree._Element:
    response = element(TDS, "GetCertificatesStatusResponse")
    for status in statuses:
        status.to_xml(response)
    return response


# --- GetClientCertificateMode -------------------------------------------------------------


def build_get_client_certificate_mode() -> etree._Element:
    return element(TDS, "GetClientCertificateMode")


def parse_get_client_certificate_mode(payload: etree._Element) -> bool:
    """Whether the camera asks TLS clients for a certificate."""
    operation = "GetClientCertificateMode"
    require(payload, "Enabled", operation=operation)
    return bool(bool_at(payload, "Enabled", operation=operation))


def build_get_client_certificate_mode_response(enabled: bool) -> etree._Element:
    response = element(TDS, "GetClientCertificateModeResponse")
    sub(response, TDS, "Enabled", xml_bool(enabled))
    return response


# --- GetAccessPolicy ----------------------------------------------------------------------


def build_get_access_policy() -> etree._Element:
    return element(TDS, "GetAccessPolicy")


def parse_get_access_policy(payload: etree._Element) -> BinaryData:
    """The access policy file, decoded from Base64 (its format is the vendor's)."""
    operation = "GetAccessPolicy"
    return BinaryData.from_xml(require(payload, "PolicyFile", operation=operation))


def build_get_access_policy_response(policy: BinaryData) -> etree._Element:
    response = element(TDS, "GetAccessPolicyResponse")
    policy.to_xml(response, "PolicyFile")
    return response
