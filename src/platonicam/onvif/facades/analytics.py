"""The analytics service's typed operations (rules and analytics modules)."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.analytics import (
    AnalyticsServiceCapabilities,
    Config,
    SupportedConfigs,
)
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.services import analytics as ops


class AnalyticsService(Facade):
    __slots__ = ()

    async def get_service_capabilities(self) -> AnalyticsServiceCapabilities:
        payload = await self._client.call(
            ServiceKind.ANALYTICS, ops.build_get_service_capabilities()
        )
        return ops.parse_get_service_capabilities(payload)

    async def get_supported_rules(self, configuration_token: str) -> SupportedConfigs:
        """The rule types a video analytics configuration accepts, with their parameters."""
        request = ops.build_get_supported_rules(configuration_token)
        return ops.parse_get_supported_rules(
            await self._client.call(ServiceKind.ANALYTICS, request)
        )

    async def get_rules(self, configuration_token: str) -> list[Config]:
        """The rules configured (line crossing, field detection ...)."""
        request = ops.build_get_rules(configuration_token)
        return ops.parse_get_rules(await self._client.call(ServiceKind.ANALYTICS, request))

    async def get_analytics_modules(self, configuration_token: str) -> list[Config]:
        request = ops.build_get_analytics_modules(configuration_token)
        return ops.parse_get_analytics_modules(
            await self._client.call(ServiceKind.ANALYTICS, request)
        )

    async def get_supported_analytics_modules(self, configuration_token: str) -> SupportedConfigs:
        request = ops.build_get_supported_analytics_modules(configuration_token)
        return ops.parse_get_supported_analytics_modules(
            await self._client.call(ServiceKind.ANALYTICS, request)
        )
