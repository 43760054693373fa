"""``GET /health``: open to everyone, says only whether the service can work."""

from __future__ import annotations

from typing import Literal

from platonicam.service.schemas.base import ApiModel


class HealthOut(ApiModel):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unavailable"]
