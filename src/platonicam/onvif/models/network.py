"""Device-service (tds) network, system and security settings beyond the core calls.

Types for GetNetworkDefaultGateway, GetNetworkProtocols, GetSystemUris,
GetDynamicDNS, GetZeroConfiguration, GetDPAddresses, GetIPAddressFilter,
GetServiceCapabilities, GetSystemLog, GetCertificatesStatus and GetAccessPolicy
(ONVIF Core, ``devicemgmt.wsdl`` and ``onvif.xsd``). Each reads itself with
``from_xml`` and writes itself with ``to_xml(parent)`` the way the reference
device answers; the two round-trip.

Enumerations that cameras fill with vendor values (``tt:NetworkProtocolType``,
``tt:DynamicDNSType``, ``tt:IPAddressFilterType`` ...) are kept as the strings the
camera sent: a value we do not know is the camera's business, not a parse error.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.device import NetworkHost, PrefixedAddress
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS, TT
from platonicam.onvif.soap.xmlread import (
    attr,
    bool_at,
    child,
    children,
    duration_at,
    format_duration,
    path_of,
    require_text,
    text,
    to_bool,
    to_int,
)

__all__ = [
    "BinaryData",
    "CertificateStatus",
    "DeviceServiceCapabilities",
    "DynamicDNSInformation",
    "IPAddressFilter",
    "NetworkCapabilities",
    "NetworkGateway",
    "NetworkHost",
    "NetworkProtocol",
    "NetworkZeroConfiguration",
    "PrefixedAddress",
    "SecurityCapabilities",
    "SystemCapabilities",
    "SystemLog",
    "SystemLogUri",
    "SystemUris",
]


#: The namespace of ``xmime:contentType`` on ``tt:BinaryData``.
_XMIME = "http://www.w3.org/2005/05/xmlmime"


def _texts(element: etree._Element, name: str) -> tuple[str, ...]:
    """The non-empty stripped texts of every child called ``name``."""
    return tuple(value for node in children(element, name) if (value := text(node)))


@dataclass(frozen=True, slots=True)
class NetworkGateway:
    """``tt:NetworkGateway``: the default gateways, as address strings."""

    ipv4_addresses: tuple[str, ...] = ()
    ipv6_addresses: tuple[str, ...] = ()

    @classmethod
    def from_xml(cls, element: etree._Element) -> NetworkGateway:
        return cls(
            ipv4_addresses=_texts(element, "IPv4Address"),
            ipv6_addresses=_texts(element, "IPv6Address"),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "NetworkGateway")
        for address in self.ipv4_addresses:
            sub(node, TT, "IPv4Address", address)
        for address in self.ipv6_addresses:
            sub(node, TT, "IPv6Address", address)
        return node


@dataclass(frozen=True, slots=True)
class NetworkProtocol:
    """``tt:NetworkProtocol``: ``name`` is ``HTTP``, ``HTTPS`` or ``RTSP``.

    ``ports`` keeps every port in the camera's order, including ``0``: the Axis
    Q6045-E lists HTTP on ``80`` and ``0`` (corpus
    ``device/axis_Q6045-E_GetNetworkProtocols.xml``).
    """

    name: str
    enabled: bool
    ports: tuple[int, ...] = ()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetNetworkProtocols"
    ) -> NetworkProtocol:
        ports = tuple(
            to_int(node.text or "", element=node, operation=operation)
            for node in children(element, "Port")
            if (node.text or "").strip()
        )
        return cls(
            name=require_text(element, "Name", operation=operation),
            enabled=bool(bool_at(element, "Enabled", operation=operation)),
            ports=ports,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "NetworkProtocols")
        sub(node, TT, "Name", self.name)
        sub(node, TT, "Enabled", xml_bool(self.enabled))
        for port in self.ports:
            sub(node, TT, "Port", str(port))
        return node


@dataclass(frozen=True, slots=True)
class SystemLogUri:
    """One ``tt:SystemLogUri``: ``log_type`` is ``System`` or ``Access``.

    ``uri`` is ``None`` when the camera lists the log with an empty ``Uri``, as
    the Hikvision DS-2DF7276-AEL does (corpus
    ``device/hikvision_DS-2DF7276-AEL_GetSystemUris.xml``).
    """

    log_type: str
    uri: str | None

    @classmethod
    def from_xml(cls, element: etree._Element) -> SystemLogUri:
        return cls(log_type=text(element, "Type") or "System", uri=text(element, "Uri") or None)

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TT, "SystemLog")
        sub(node, TT, "Type", self.log_type)
        sub(node, TT, "Uri", self.uri or "")
        return node


@dataclass(frozen=True, slots=True)
class SystemUris:
    """The GetSystemUris answer: HTTP addresses to download logs, support data, backups.

    An empty URI element reads as ``None`` (no such download).
    """

    system_logs: tuple[SystemLogUri, ...] = ()
    support_info_uri: str | None = None
    system_backup_uri: str | None = None

    @classmethod
    def from_xml(cls, element: etree._Element) -> SystemUris:
        log_list = child(element, "SystemLogUris")
        logs = (
            tuple(SystemLogUri.from_xml(node) for node in children(log_list, "SystemLog"))
            if log_list is not None
            else ()
        )
        return cls(
            system_logs=logs,
            support_info_uri=text(element, "SupportInfoUri") or None,
            system_backup_uri=text(element, "SystemBackupUri") or None,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Write the answer's children into ``parent`` (the GetSystemUrisResponse)."""
        if self.system_logs:
            log_list = sub(parent, TDS, "SystemLogUris")
            for log in self.system_logs:
                log.to_xml(log_list)
        if self.support_info_uri is not None:
            sub(parent, TDS, "SupportInfoUri", self.support_info_uri)
        if self.system_backup_uri is not None:
            sub(parent, TDS, "SystemBackupUri", self.system_backup_uri)
        return parent


@dataclass(frozen=True, slots=True)
class DynamicDNSInformation:
    """``tt:DynamicDNSInformation``: ``dns_type`` is ``NoUpdate``, ``ClientUpdates``
    or ``ServerUpdates``; ``ttl`` is the record's time to live.

    Tolerates a TTL in bare seconds where the schema wants ``xs:duration``: the
    Axis Q6045-E sends ``<tt:TTL>30</tt:TTL>`` (corpus
    ``device/axis_Q6045-E_GetDynamicDNS.xml``). We always write the duration form.
    """

    dns_type: str
    name: str | None = None
    ttl: timedelta | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetDynamicDNS"
    ) -> DynamicDNSInformation:
        return cls(
            dns_type=require_text(element, "Type", operation=operation),
            name=text(element, "Name") or None,
            ttl=duration_at(element, "TTL", operation=operation),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "DynamicDNSInformation")
        sub(node, TT, "Type", self.dns_type)
        if self.name is not None:
            sub(node, TT, "Name", self.name)
        if self.ttl is not None:
            sub(node, TT, "TTL", format_duration(self.ttl))
        return node


@dataclass(frozen=True, slots=True)
class NetworkZeroConfiguration:
    """``tt:NetworkZeroConfiguration``: link-local (zeroconf) addressing of one interface.

    Hikvision firmware lists the interface's LAN address here rather than a
    169.254/16 one (corpus ``device/hikvision_DS-2CD2012-I_GetZeroConfiguration.xml``);
    we report what the camera says.
    """

    interface_token: str
    enabled: bool
    addresses: tuple[str, ...] = ()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetZeroConfiguration"
    ) -> NetworkZeroConfiguration:
        return cls(
            interface_token=require_text(element, "InterfaceToken", operation=operation),
            enabled=bool(bool_at(element, "Enabled", operation=operation)),
            addresses=_texts(element, "Addresses"),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "ZeroConfiguration")
        sub(node, TT, "InterfaceToken", self.interface_token)
        sub(node, TT, "Enabled", xml_bool(self.enabled))
        for address in self.addresses:
            sub(node, TT, "Addresses", address)
        return node


@dataclass(frozen=True, slots=True)
class IPAddressFilter:
    """``tt:IPAddressFilter``: ``filter_type`` is ``Allow`` or ``Deny`` for the listed
    prefixes. An empty list with ``Deny`` (Hikvision, TRENDnet) denies nobody."""

    filter_type: str
    ipv4_addresses: tuple[PrefixedAddress, ...] = ()
    ipv6_addresses: tuple[PrefixedAddress, ...] = ()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetIPAddressFilter"
    ) -> IPAddressFilter:
        return cls(
            filter_type=require_text(element, "Type", operation=operation),
            ipv4_addresses=tuple(
                PrefixedAddress.from_xml(node, operation=operation)
                for node in children(element, "IPv4Address")
            ),
            ipv6_addresses=tuple(
                PrefixedAddress.from_xml(node, operation=operation)
                for node in children(element, "IPv6Address")
            ),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "IPAddressFilter")
        sub(node, TT, "Type", self.filter_type)
        for address in self.ipv4_addresses:
            address.to_xml(node, "IPv4Address")
        for address in self.ipv6_addresses:
            address.to_xml(node, "IPv6Address")
        return node


# --- GetServiceCapabilities (device service) -------------------------------------------
#
# The three capability groups are flat attribute sets. Each field maps to one
# attribute; unknown attributes (older firmware still sends the pre-2.x
# ``FirmwareUpgrade``) are ignored.


def _bool_attr(element: etree._Element, name: str, operation: str) -> bool | None:
    raw = attr(element, name)
    if not raw:
        return None
    return to_bool(raw, element=element, operation=operation)


def _int_attr(element: etree._Element, name: str, operation: str) -> int | None:
    raw = attr(element, name)
    if not raw:
        return None
    return to_int(raw, element=element, operation=operation)


def _int_list_attr(element: etree._Element, name: str, operation: str) -> tuple[int, ...]:
    raw = attr(element, name) or ""
    return tuple(to_int(item, element=element, operation=operation) for item in raw.split())


def _set_bool(node: etree._Element, name: str, value: bool | None) -> None:
    if value is not None:
        node.set(name, xml_bool(value))


def _set_int(node: etree._Element, name: str, value: int | None) -> None:
    if value is not None:
        node.set(name, str(value))


@dataclass(frozen=True, slots=True)
class NetworkCapabilities:
    """``tds:NetworkCapabilities``. ``None`` means the camera did not say."""

    ip_filter: bool | None = None
    zero_configuration: bool | None = None
    ip_version6: bool | None = None
    dyn_dns: bool | None = None
    dot11_configuration: bool | None = None
    dot1x_configurations: int | None = None
    hostname_from_dhcp: bool | None = None
    ntp: int | None = None
    dhcp_v6: bool | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetServiceCapabilities"
    ) -> NetworkCapabilities:
        op = operation
        return cls(
            ip_filter=_bool_attr(element, "IPFilter", op),
            zero_configuration=_bool_attr(element, "ZeroConfiguration", op),
            ip_version6=_bool_attr(element, "IPVersion6", op),
            dyn_dns=_bool_attr(element, "DynDNS", op),
            dot11_configuration=_bool_attr(element, "Dot11Configuration", op),
            dot1x_configurations=_int_attr(element, "Dot1XConfigurations", op),
            hostname_from_dhcp=_bool_attr(element, "HostnameFromDHCP", op),
            ntp=_int_attr(element, "NTP", op),
            dhcp_v6=_bool_attr(element, "DHCPv6", op),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "Network")
        _set_bool(node, "IPFilter", self.ip_filter)
        _set_bool(node, "ZeroConfiguration", self.zero_configuration)
        _set_bool(node, "IPVersion6", self.ip_version6)
        _set_bool(node, "DynDNS", self.dyn_dns)
        _set_bool(node, "Dot11Configuration", self.dot11_configuration)
        _set_int(node, "Dot1XConfigurations", self.dot1x_configurations)
        _set_bool(node, "HostnameFromDHCP", self.hostname_from_dhcp)
        _set_int(node, "NTP", self.ntp)
        _set_bool(node, "DHCPv6", self.dhcp_v6)
        return node


@dataclass(frozen=True, slots=True)
class SecurityCapabilities:
    """``tds:SecurityCapabilities`` (the flags a client uses to pick how to log in).

    ``username_token`` and ``http_digest`` say which authentication the camera
    accepts; the DS-2DF7276-AEL says ``HttpDigest="false"`` (corpus
    ``device/hikvision_DS-2DF7276-AEL_GetServiceCapabilities.xml``).
    """

    tls1_0: bool | None = None
    tls1_1: bool | None = None
    tls1_2: bool | None = None
    onboard_key_generation: bool | None = None
    access_policy_config: bool | None = None
    default_access_policy: bool | None = None
    dot1x: bool | None = None
    remote_user_handling: bool | None = None
    x509_token: bool | None = None
    saml_token: bool | None = None
    kerberos_token: bool | None = None
    username_token: bool | None = None
    http_digest: bool | None = None
    rel_token: bool | None = None
    supported_eap_methods: tuple[int, ...] = ()
    max_users: int | None = None
    max_user_name_length: int | None = None
    max_password_length: int | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetServiceCapabilities"
    ) -> SecurityCapabilities:
        op = operation
        return cls(
            tls1_0=_bool_attr(element, "TLS1.0", op),
            tls1_1=_bool_attr(element, "TLS1.1", op),
            tls1_2=_bool_attr(element, "TLS1.2", op),
            onboard_key_generation=_bool_attr(element, "OnboardKeyGeneration", op),
            access_policy_config=_bool_attr(element, "AccessPolicyConfig", op),
            default_access_policy=_bool_attr(element, "DefaultAccessPolicy", op),
            dot1x=_bool_attr(element, "Dot1X", op),
            remote_user_handling=_bool_attr(element, "RemoteUserHandling", op),
            x509_token=_bool_attr(element, "X.509Token", op),
            saml_token=_bool_attr(element, "SAMLToken", op),
            kerberos_token=_bool_attr(element, "KerberosToken", op),
            username_token=_bool_attr(element, "UsernameToken", op),
            http_digest=_bool_attr(element, "HttpDigest", op),
            rel_token=_bool_attr(element, "RELToken", op),
            supported_eap_methods=_int_list_attr(element, "SupportedEAPMethods", op),
            max_users=_int_attr(element, "MaxUsers", op),
            max_user_name_length=_int_attr(element, "MaxUserNameLength", op),
            max_password_length=_int_attr(element, "MaxPasswordLength", op),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "Security")
        _set_bool(node, "TLS1.0", self.tls1_0)
        _set_bool(node, "TLS1.1", self.tls1_1)
        _set_bool(node, "TLS1.2", self.tls1_2)
        _set_bool(node, "OnboardKeyGeneration", self.onboard_key_generation)
        _set_bool(node, "AccessPolicyConfig", self.access_policy_config)
        _set_bool(node, "DefaultAccessPolicy", self.default_access_policy)
        _set_bool(node, "Dot1X", self.dot1x)
        _set_bool(node, "RemoteUserHandling", self.remote_user_handling)
        _set_bool(node, "X.509Token", self.x509_token)
        _set_bool(node, "SAMLToken", self.saml_token)
        _set_bool(node, "KerberosToken", self.kerberos_token)
        _set_bool(node, "UsernameToken", self.username_token)
        _set_bool(node, "HttpDigest", self.http_digest)
        _set_bool(node, "RELToken", self.rel_token)
        if self.supported_eap_methods:
            node.set("SupportedEAPMethods", " ".join(map(str, self.supported_eap_methods)))
        _set_int(node, "MaxUsers", self.max_users)
        _set_int(node, "MaxUserNameLength", self.max_user_name_length)
        _set_int(node, "MaxPasswordLength", self.max_password_length)
        return node


@dataclass(frozen=True, slots=True)
class SystemCapabilities:
    """``tds:SystemCapabilities``: discovery, backup, logging and upgrade support."""

    discovery_resolve: bool | None = None
    discovery_bye: bool | None = None
    remote_discovery: bool | None = None
    system_backup: bool | None = None
    system_logging: bool | None = None
    http_firmware_upgrade: bool | None = None
    http_system_backup: bool | None = None
    http_system_logging: bool | None = None
    http_support_information: bool | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetServiceCapabilities"
    ) -> SystemCapabilities:
        op = operation
        return cls(
            discovery_resolve=_bool_attr(element, "DiscoveryResolve", op),
            discovery_bye=_bool_attr(element, "DiscoveryBye", op),
            remote_discovery=_bool_attr(element, "RemoteDiscovery", op),
            system_backup=_bool_attr(element, "SystemBackup", op),
            system_logging=_bool_attr(element, "SystemLogging", op),
            http_firmware_upgrade=_bool_attr(element, "HttpFirmwareUpgrade", op),
            http_system_backup=_bool_attr(element, "HttpSystemBackup", op),
            http_system_logging=_bool_attr(element, "HttpSystemLogging", op),
            http_support_information=_bool_attr(element, "HttpSupportInformation", op),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "System")
        _set_bool(node, "DiscoveryResolve", self.discovery_resolve)
        _set_bool(node, "DiscoveryBye", self.discovery_bye)
        _set_bool(node, "RemoteDiscovery", self.remote_discovery)
        _set_bool(node, "SystemBackup", self.system_backup)
        _set_bool(node, "SystemLogging", self.system_logging)
        _set_bool(node, "HttpFirmwareUpgrade", self.http_firmware_upgrade)
        _set_bool(node, "HttpSystemBackup", self.http_system_backup)
        _set_bool(node, "HttpSystemLogging", self.http_system_logging)
        _set_bool(node, "HttpSupportInformation", self.http_support_information)
        return node


@dataclass(frozen=True, slots=True)
class DeviceServiceCapabilities:
    """``tds:DeviceServiceCapabilities``: the device service's Network, Security and
    System groups (a missing group reads as all-unknown)."""

    network: NetworkCapabilities = NetworkCapabilities()
    security: SecurityCapabilities = SecurityCapabilities()
    system: SystemCapabilities = SystemCapabilities()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetServiceCapabilities"
    ) -> DeviceServiceCapabilities:
        network = child(element, "Network")
        security = child(element, "Security")
        system = child(element, "System")
        return cls(
            network=NetworkCapabilities.from_xml(network, operation=operation)
            if network is not None
            else NetworkCapabilities(),
            security=SecurityCapabilities.from_xml(security, operation=operation)
            if security is not None
            else SecurityCapabilities(),
            system=SystemCapabilities.from_xml(system, operation=operation)
            if system is not None
            else SystemCapabilities(),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "Capabilities")
        self.network.to_xml(node)
        self.security.to_xml(node)
        self.system.to_xml(node)
        return node


@dataclass(frozen=True, slots=True)
class SystemLog:
    """``tt:SystemLog``: the log as text, or a reference to a MTOM attachment.

    ``text`` keeps the camera's text with surrounding white space stripped
    (Hikvision starts it with a newline, corpus
    ``device/hikvision_DS-2CD2012-I_GetSystemLog.xml``). ``attachment`` is the
    ``xop:Include`` ``href`` when the log came as a binary attachment; we do not
    fetch it.
    """

    text: str | None = None
    attachment: str | None = None

    @classmethod
    def from_xml(cls, element: etree._Element) -> SystemLog:
        binary = child(element, "Binary")
        include = child(binary, "Include")
        return cls(text=text(element, "String"), attachment=attr(include, "href"))

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "SystemLog")
        if self.text is not None:
            sub(node, TT, "String", self.text)
        return node


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """``tt:CertificateStatus``: whether the certificate with this ID is in use."""

    certificate_id: str
    status: bool

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetCertificatesStatus"
    ) -> CertificateStatus:
        return cls(
            certificate_id=require_text(element, "CertificateID", operation=operation),
            status=bool(bool_at(element, "Status", operation=operation)),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TDS, "CertificateStatus")
        sub(node, TT, "CertificateID", self.certificate_id)
        sub(node, TT, "Status", xml_bool(self.status))
        return node


@dataclass(frozen=True, slots=True)
class BinaryData:
    """``tt:BinaryData``: decoded bytes and the optional ``xmime:contentType``.

    Raises :class:`RemoteProtocolError` when ``Data`` is not Base64. White space
    inside the Base64 text (line-wrapped by Axis, corpus
    ``device/axis_Q6045-E_GetAccessPolicy.xml``) is allowed.
    """

    data: bytes
    content_type: str | None = None

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str = "GetAccessPolicy") -> BinaryData:
        raw = "".join((text(element, "Data") or "").split())
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise RemoteProtocolError(
                "Base64 data expected", operation=operation, path=path_of(element)
            ) from None
        return cls(data=data, content_type=attr(element, "contentType"))

    def to_xml(self, parent: etree._Element, name: str = "PolicyFile") -> etree._Element:
        node = sub(parent, TDS, name)
        if self.content_type is not None:
            node.set(f"{{{_XMIME}}}contentType", self.content_type)
        sub(node, TT, "Data", base64.b64encode(self.data).decode("ascii"))
        return node
