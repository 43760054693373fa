"""The device service's typed operations: ``client.device.<method>()``.

Each method builds the request with :mod:`platonicam.onvif.services.device`,
sends it through the client (which picks the authentication and translates
faults) and parses the answer. Faults raise
:class:`~platonicam.onvif.errors.SoapFaultError` subclasses; requests that
could not be valid raise :class:`~platonicam.onvif.errors.LocalProtocolError`
before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
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
)
from platonicam.onvif.models.network import (
    BinaryData,
    CertificateStatus,
    DeviceServiceCapabilities,
    DynamicDNSInformation,
    IPAddressFilter,
    NetworkGateway,
    NetworkProtocol,
    NetworkZeroConfiguration,
    SystemLog,
    SystemUris,
)
from platonicam.onvif.services import device as ops
from platonicam.onvif.services import network

_DEVICE = ServiceKind.DEVICE


class DeviceService(Facade):
    __slots__ = ()

    async def get_system_date_and_time(self) -> SystemDateAndTime:
        """The camera's clock (no credentials needed)."""
        payload = await self._client.call(
            _DEVICE, ops.build_get_system_date_and_time(), authenticated=False
        )
        return ops.parse_get_system_date_and_time(payload)

    async def set_system_date_and_time(
        self,
        date_time_type: DateTimeType,
        *,
        daylight_savings: bool = False,
        time_zone: str | None = None,
        utc: datetime | None = None,
    ) -> None:
        """Set the clock by hand (``Manual`` with an aware ``utc``) or hand it to NTP.

        ``time_zone`` is a POSIX TZ string. Call
        :meth:`OnvifClient.refresh_clock_offset` afterwards: WS-Security stamps
        follow the camera's clock.
        """
        request = ops.build_set_system_date_and_time(
            date_time_type, daylight_savings=daylight_savings, time_zone=time_zone, utc=utc
        )
        ops.parse_set_system_date_and_time(await self._client.call(_DEVICE, request))

    async def get_services(self, *, include_capability: bool = False) -> list[Service]:
        payload = await self._client.call(
            _DEVICE, ops.build_get_services(include_capability=include_capability)
        )
        return ops.parse_get_services(payload)

    async def get_capabilities(self, category: str = "All") -> Capabilities:
        payload = await self._client.call(_DEVICE, ops.build_get_capabilities(category))
        return ops.parse_get_capabilities(payload)

    async def get_device_information(self) -> DeviceInformation:
        """Manufacturer, model, firmware version, serial number and hardware id."""
        payload = await self._client.call(_DEVICE, ops.build_get_device_information())
        return ops.parse_get_device_information(payload)

    async def get_hostname(self) -> HostnameInformation:
        payload = await self._client.call(_DEVICE, ops.build_get_hostname())
        return ops.parse_get_hostname(payload)

    async def set_hostname(self, name: str) -> None:
        """Set a fixed host name (white space is refused before sending)."""
        payload = await self._client.call(_DEVICE, ops.build_set_hostname(name))
        ops.parse_set_hostname(payload)

    async def get_network_interfaces(self) -> list[NetworkInterface]:
        payload = await self._client.call(_DEVICE, ops.build_get_network_interfaces())
        return ops.parse_get_network_interfaces(payload)

    async def get_dns(self) -> DNSInformation:
        payload = await self._client.call(_DEVICE, ops.build_get_dns())
        return ops.parse_get_dns(payload)

    async def set_dns(
        self,
        from_dhcp: bool,
        *,
        search_domains: Sequence[str] = (),
        dns_manual: Sequence[IPAddress] = (),
    ) -> None:
        request = ops.build_set_dns(from_dhcp, search_domains=search_domains, dns_manual=dns_manual)
        ops.parse_set_dns(await self._client.call(_DEVICE, request))

    async def get_ntp(self) -> NTPInformation:
        payload = await self._client.call(_DEVICE, ops.build_get_ntp())
        return ops.parse_get_ntp(payload)

    async def set_ntp(self, from_dhcp: bool, *, ntp_manual: Sequence[NetworkHost] = ()) -> None:
        request = ops.build_set_ntp(from_dhcp, ntp_manual=ntp_manual)
        ops.parse_set_ntp(await self._client.call(_DEVICE, request))

    async def get_scopes(self) -> list[Scope]:
        payload = await self._client.call(_DEVICE, ops.build_get_scopes())
        return ops.parse_get_scopes(payload)

    async def set_scopes(self, scopes: Sequence[str]) -> None:
        """Replace the configurable scopes (at least one URI)."""
        payload = await self._client.call(_DEVICE, ops.build_set_scopes(scopes))
        ops.parse_set_scopes(payload)

    async def get_users(self) -> list[User]:
        """The camera's accounts, without passwords."""
        payload = await self._client.call(_DEVICE, ops.build_get_users())
        return ops.parse_get_users(payload)

    async def create_users(self, users: Sequence[User]) -> None:
        payload = await self._client.call(_DEVICE, ops.build_create_users(users))
        ops.parse_create_users(payload)

    async def set_user(self, users: Sequence[User]) -> None:
        """Change the password and level of existing users."""
        payload = await self._client.call(_DEVICE, ops.build_set_user(users))
        ops.parse_set_user(payload)

    async def delete_users(self, usernames: Sequence[str]) -> None:
        payload = await self._client.call(_DEVICE, ops.build_delete_users(usernames))
        ops.parse_delete_users(payload)

    async def get_discovery_mode(self) -> DiscoveryMode:
        payload = await self._client.call(_DEVICE, ops.build_get_discovery_mode())
        return ops.parse_get_discovery_mode(payload)

    async def set_discovery_mode(self, mode: DiscoveryMode) -> None:
        payload = await self._client.call(_DEVICE, ops.build_set_discovery_mode(mode))
        ops.parse_set_discovery_mode(payload)

    async def get_relay_outputs(self) -> list[RelayOutput]:
        payload = await self._client.call(_DEVICE, ops.build_get_relay_outputs())
        return ops.parse_get_relay_outputs(payload)

    async def system_reboot(self) -> str:
        """Reboot the camera; returns its message (``Rebooting in 90 seconds``)."""
        payload = await self._client.call(_DEVICE, ops.build_system_reboot())
        return ops.parse_system_reboot(payload)

    async def get_network_default_gateway(self) -> NetworkGateway:
        """The default IPv4/IPv6 gateways."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_network_default_gateway()
        )
        return network.parse_get_network_default_gateway(payload)

    async def get_network_protocols(self) -> list[NetworkProtocol]:
        """HTTP, HTTPS, RTSP ... with their ports and whether each is on."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_network_protocols())
        return network.parse_get_network_protocols(payload)

    async def get_system_uris(self) -> SystemUris:
        """Where to download the system log, support information and backup."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_system_uris())
        return network.parse_get_system_uris(payload)

    async def get_dynamic_dns(self) -> DynamicDNSInformation:
        """The dynamic DNS settings."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_dynamic_dns())
        return network.parse_get_dynamic_dns(payload)

    async def get_zero_configuration(self) -> NetworkZeroConfiguration:
        """Link-local (zero configuration) addressing."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_zero_configuration()
        )
        return network.parse_get_zero_configuration(payload)

    async def get_dp_addresses(self) -> list[NetworkHost]:
        """The remote discovery proxy addresses."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_dp_addresses())
        return network.parse_get_dp_addresses(payload)

    async def get_ip_address_filter(self) -> IPAddressFilter:
        """The IP address filter (allow or deny lists)."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_ip_address_filter())
        return network.parse_get_ip_address_filter(payload)

    async def get_wsdl_url(self) -> str:
        """The device's WSDL location (informational)."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_wsdl_url())
        return network.parse_get_wsdl_url(payload)

    async def get_service_capabilities(self) -> DeviceServiceCapabilities:
        """The device service's network, security and system capabilities."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_service_capabilities()
        )
        return network.parse_get_service_capabilities(payload)

    async def get_remote_discovery_mode(self) -> str:
        """Whether remote (proxy) discovery is on."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_remote_discovery_mode()
        )
        return network.parse_get_remote_discovery_mode(payload)

    async def get_certificates_status(self) -> list[CertificateStatus]:
        """Which server certificates are enabled."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_certificates_status()
        )
        return network.parse_get_certificates_status(payload)

    async def get_client_certificate_mode(self) -> bool:
        """Whether TLS client authentication is required."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_client_certificate_mode()
        )
        return network.parse_get_client_certificate_mode(payload)

    async def get_access_policy(self) -> BinaryData:
        """The access policy document (vendor-defined contents)."""
        payload = await self._client.call(ServiceKind.DEVICE, network.build_get_access_policy())
        return network.parse_get_access_policy(payload)

    async def get_system_log(self, log_type: str = "System") -> SystemLog:
        """The system or access log (``log_type`` ``System`` or ``Access``)."""
        payload = await self._client.call(
            ServiceKind.DEVICE, network.build_get_system_log(log_type)
        )
        return network.parse_get_system_log(payload)
