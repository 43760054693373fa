"""``GET /api/discover``: the original contract's shape (mixed key styles, kept)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from platonicam.service.schemas.contract import ContractModel


class DiscoveredCameraOut(ContractModel):
    """One camera that answered. ``id`` is its WS-Discovery endpoint UUID (stable:
    ``POST /api/cameras`` takes it as ``discoveryId``); ``registered_camera_id``
    names the registered camera at the same address, if any."""

    id: str
    ip: str | None
    port: int | None
    manufacturer: str | None
    model: str | None
    name: str | None
    location: str | None
    mac: str | None
    scopes: list[str]
    xaddrs: list[str]
    profiles: list[str]
    discovered_at: datetime
    registered_camera_id: str | None


class DiscoverOut(ContractModel):
    """``scanDuration`` in seconds."""

    cameras: list[DiscoveredCameraOut]
    scan_duration: float = Field(alias="scanDuration")
    found_cameras: int = Field(alias="foundCameras")
