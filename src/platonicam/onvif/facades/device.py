"""The device service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.device import Capabilities, Service, SystemDateAndTime
from platonicam.onvif.services import device as ops


class DeviceService(Facade):
    __slots__ = ()

    async def get_system_date_and_time(self) -> SystemDateAndTime:
        """The camera's clock (no credentials needed)."""
        payload = await self._client.call(
            ServiceKind.DEVICE, ops.build_get_system_date_and_time(), authenticated=False
        )
        return ops.parse_get_system_date_and_time(payload)

    async def get_services(self, *, include_capability: bool = False) -> list[Service]:
        payload = await self._client.call(
            ServiceKind.DEVICE, ops.build_get_services(include_capability=include_capability)
        )
        return ops.parse_get_services(payload)

    async def get_capabilities(self, category: str = "All") -> Capabilities:
        payload = await self._client.call(ServiceKind.DEVICE, ops.build_get_capabilities(category))
        return ops.parse_get_capabilities(payload)
