"""The PTZ service's typed operations.

Moves, status and presets take a media profile token (the profile that holds
the PTZ configuration); nodes and configurations take their own tokens.
"""

from __future__ import annotations

from datetime import timedelta

from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.ptz import (
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPreset,
    PTZServiceCapabilities,
    PTZSpeed,
    PTZStatus,
    PTZVector,
)
from platonicam.onvif.services import ptz as ops

_PTZ = ServiceKind.PTZ


class PTZService(Facade):
    __slots__ = ()

    async def get_service_capabilities(self) -> PTZServiceCapabilities:
        payload = await self._client.call(_PTZ, ops.build_get_service_capabilities())
        return ops.parse_get_service_capabilities(payload)

    async def get_nodes(self) -> list[PTZNode]:
        return ops.parse_get_nodes(await self._client.call(_PTZ, ops.build_get_nodes()))

    async def get_node(self, node_token: str) -> PTZNode:
        return ops.parse_get_node(await self._client.call(_PTZ, ops.build_get_node(node_token)))

    async def get_configurations(self) -> list[PTZConfiguration]:
        payload = await self._client.call(_PTZ, ops.build_get_configurations())
        return ops.parse_get_configurations(payload)

    async def get_configuration(self, configuration_token: str) -> PTZConfiguration:
        payload = await self._client.call(_PTZ, ops.build_get_configuration(configuration_token))
        return ops.parse_get_configuration(payload)

    async def get_configuration_options(self, configuration_token: str) -> PTZConfigurationOptions:
        payload = await self._client.call(
            _PTZ, ops.build_get_configuration_options(configuration_token)
        )
        return ops.parse_get_configuration_options(payload)

    async def get_status(self, profile_token: str) -> PTZStatus:
        payload = await self._client.call(_PTZ, ops.build_get_status(profile_token))
        return ops.parse_get_status(payload)

    async def continuous_move(
        self,
        profile_token: str,
        velocity: PTZSpeed,
        *,
        # ONVIF's name for how long the camera keeps moving, not an I/O timeout.
        timeout: timedelta | None = None,
    ) -> None:
        """Move at ``velocity`` until :meth:`stop`, another move, or ``timeout``."""
        request = ops.build_continuous_move(profile_token, velocity, timeout=timeout)
        ops.parse_continuous_move(await self._client.call(_PTZ, request))

    async def absolute_move(
        self, profile_token: str, position: PTZVector, *, speed: PTZSpeed | None = None
    ) -> None:
        request = ops.build_absolute_move(profile_token, position, speed=speed)
        ops.parse_absolute_move(await self._client.call(_PTZ, request))

    async def relative_move(
        self, profile_token: str, translation: PTZVector, *, speed: PTZSpeed | None = None
    ) -> None:
        request = ops.build_relative_move(profile_token, translation, speed=speed)
        ops.parse_relative_move(await self._client.call(_PTZ, request))

    async def stop(self, profile_token: str, *, pan_tilt: bool = True, zoom: bool = True) -> None:
        request = ops.build_stop(profile_token, pan_tilt=pan_tilt, zoom=zoom)
        ops.parse_stop(await self._client.call(_PTZ, request))

    async def get_presets(self, profile_token: str) -> list[PTZPreset]:
        payload = await self._client.call(_PTZ, ops.build_get_presets(profile_token))
        return ops.parse_get_presets(payload)

    async def set_preset(
        self, profile_token: str, *, name: str | None = None, preset_token: str | None = None
    ) -> str:
        """Store the current position; returns the preset's token."""
        request = ops.build_set_preset(profile_token, name=name, preset_token=preset_token)
        return ops.parse_set_preset(await self._client.call(_PTZ, request))

    async def goto_preset(
        self, profile_token: str, preset_token: str, *, speed: PTZSpeed | None = None
    ) -> None:
        request = ops.build_goto_preset(profile_token, preset_token, speed=speed)
        ops.parse_goto_preset(await self._client.call(_PTZ, request))

    async def remove_preset(self, profile_token: str, preset_token: str) -> None:
        request = ops.build_remove_preset(profile_token, preset_token)
        ops.parse_remove_preset(await self._client.call(_PTZ, request))

    async def goto_home_position(
        self, profile_token: str, *, speed: PTZSpeed | None = None
    ) -> None:
        request = ops.build_goto_home_position(profile_token, speed=speed)
        ops.parse_goto_home_position(await self._client.call(_PTZ, request))

    async def set_home_position(self, profile_token: str) -> None:
        request = ops.build_set_home_position(profile_token)
        ops.parse_set_home_position(await self._client.call(_PTZ, request))
