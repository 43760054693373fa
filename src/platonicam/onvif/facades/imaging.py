"""The imaging service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade


class ImagingService(Facade):
    __slots__ = ()
