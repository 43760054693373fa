"""``POST /api/optimize``: a scene in, recommended settings (in apply's shape) out."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from platonicam.service.optimize import Lighting, Motion, Priority, SceneType
from platonicam.service.schemas.apply import SettingsIn
from platonicam.service.schemas.cameras import CAMERA_ID_PATTERN
from platonicam.service.schemas.contract import ContractModel


class SceneIn(ContractModel):
    """What the camera looks at; ``maxBitrateMbps`` caps the recommendation."""

    type: SceneType = SceneType.OUTDOOR
    lighting: Lighting = Lighting.DAYLIGHT
    motion: Motion = Motion.MEDIUM
    priority: Priority = Priority.BALANCED
    backlight: bool = False
    max_bitrate_mbps: float | None = Field(default=None, alias="maxBitrateMbps", gt=0, le=1000)


class AbilitiesIn(ContractModel):
    """A camera's abilities given by hand (no camera is contacted): codecs such as
    ``H264``/``H265``, resolutions as ``1920x1080``, the bitrate range in Mbit/s."""

    supported_codecs: list[str] = Field(min_length=1, max_length=8)
    resolutions: list[str] = Field(default_factory=list, max_length=64)
    max_fps: float | None = Field(default=None, gt=0, le=1000)
    bitrate_range_mbps: list[float] | None = Field(default=None, min_length=2, max_length=2)
    imaging: bool = True


class OptimizeIn(ContractModel):
    """Name a registered camera (``cameraId``: its capabilities are read from it)
    or describe one (``capabilities``)."""

    camera_id: str | None = Field(default=None, alias="cameraId", pattern=CAMERA_ID_PATTERN)
    capabilities: AbilitiesIn | None = None
    scene: SceneIn = Field(default_factory=SceneIn)

    @model_validator(mode="after")
    def _camera_or_capabilities(self) -> Self:
        if (self.camera_id is None) == (self.capabilities is None):
            raise ValueError("give either cameraId or capabilities")
        return self


class OptimizeOut(ContractModel):
    """``recommendedSettings`` can be sent as ``settings`` to ``POST /api/apply``."""

    camera_id: str | None = Field(alias="cameraId")
    recommended_settings: SettingsIn = Field(alias="recommendedSettings")
    reasons: list[str]
    confidence: float
    recommender: str
