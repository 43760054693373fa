"""Types used by more than one ONVIF service."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ServiceKind(enum.StrEnum):
    """The ONVIF services the client knows by name, keyed by their WSDL namespace."""

    DEVICE = "device"
    MEDIA = "media"
    MEDIA2 = "media2"
    IMAGING = "imaging"
    PTZ = "ptz"
    EVENTS = "events"
    ANALYTICS = "analytics"
    DEVICEIO = "deviceio"

    @property
    def namespace(self) -> str:
        return _NAMESPACE_BY_KIND[self]

    @classmethod
    def from_namespace(cls, namespace: str) -> ServiceKind | None:
        return _KIND_BY_NAMESPACE.get(namespace.strip())


_NAMESPACE_BY_KIND: dict[ServiceKind, str] = {
    ServiceKind.DEVICE: "http://www.onvif.org/ver10/device/wsdl",
    ServiceKind.MEDIA: "http://www.onvif.org/ver10/media/wsdl",
    ServiceKind.MEDIA2: "http://www.onvif.org/ver20/media/wsdl",
    ServiceKind.IMAGING: "http://www.onvif.org/ver20/imaging/wsdl",
    ServiceKind.PTZ: "http://www.onvif.org/ver20/ptz/wsdl",
    ServiceKind.EVENTS: "http://www.onvif.org/ver10/events/wsdl",
    ServiceKind.ANALYTICS: "http://www.onvif.org/ver20/analytics/wsdl",
    ServiceKind.DEVICEIO: "http://www.onvif.org/ver10/deviceIO/wsdl",
}
_KIND_BY_NAMESPACE = {namespace: kind for kind, namespace in _NAMESPACE_BY_KIND.items()}


@dataclass(frozen=True, slots=True)
class Version:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor:02d}"


@dataclass(frozen=True, slots=True)
class Resolution:
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True, slots=True)
class IntRange:
    min: int
    max: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.min <= value <= self.max


@dataclass(frozen=True, slots=True)
class FloatRange:
    min: float
    max: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.min <= value <= self.max
