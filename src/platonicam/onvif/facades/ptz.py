"""The ptz service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade


class PTZService(Facade):
    __slots__ = ()
