"""The events service's typed operations."""

from __future__ import annotations

from platonicam.onvif.facades.base import Facade


class EventService(Facade):
    __slots__ = ()
