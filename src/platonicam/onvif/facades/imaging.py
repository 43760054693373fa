"""The imaging service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.imaging import (
    FocusMove,
    ImagingOptions,
    ImagingServiceCapabilities,
    ImagingSettings,
)
from platonicam.onvif.services import imaging as ops


class ImagingService(Facade):
    __slots__ = ()

    async def get_service_capabilities(self) -> ImagingServiceCapabilities:
        payload = await self._client.call(ServiceKind.IMAGING, ops.build_get_service_capabilities())
        return ops.parse_get_service_capabilities(payload)

    async def get_imaging_settings(self, video_source_token: str) -> ImagingSettings:
        """The video source's current imaging settings (fields it does not report are ``None``)."""
        payload = await self._client.call(
            ServiceKind.IMAGING, ops.build_get_imaging_settings(video_source_token)
        )
        return ops.parse_get_imaging_settings(payload)

    async def set_imaging_settings(
        self,
        video_source_token: str,
        settings: ImagingSettings,
        force_persistence: bool = True,
        options: ImagingOptions | None = None,
    ) -> None:
        """Change the fields set in ``settings``; the others stay as they are.

        With ``options`` (from :meth:`get_options`), values outside the allowed
        ranges or modes raise :class:`LocalProtocolError` naming the field and
        what is allowed, and nothing is sent. ``force_persistence=False`` asks
        the camera to forget the change at reboot.
        """
        if options is not None:
            options.check(settings)
        request = ops.build_set_imaging_settings(
            video_source_token, settings, force_persistence=force_persistence
        )
        ops.parse_set_imaging_settings(await self._client.call(ServiceKind.IMAGING, request))

    async def get_options(self, video_source_token: str) -> ImagingOptions:
        """The ranges and modes the video source accepts."""
        payload = await self._client.call(
            ServiceKind.IMAGING, ops.build_get_options(video_source_token)
        )
        return ops.parse_get_options(payload)

    async def move(self, video_source_token: str, focus: FocusMove) -> None:
        """Move the focus (absolute, relative or continuous)."""
        payload = await self._client.call(
            ServiceKind.IMAGING, ops.build_move(video_source_token, focus)
        )
        ops.parse_move(payload)

    async def stop(self, video_source_token: str) -> None:
        """Stop a focus movement."""
        payload = await self._client.call(ServiceKind.IMAGING, ops.build_stop(video_source_token))
        ops.parse_stop(payload)
