"""The media service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade


class MediaService(Facade):
    __slots__ = ()
