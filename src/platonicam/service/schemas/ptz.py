"""PTZ moves, status and presets of a camera's main PTZ profile.

Coordinates are in the camera's generic spaces: pan and tilt -1..1, zoom 0..1
for positions; velocities and translations -1..1.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from platonicam.service.schemas.base import ApiModel


class PtzMoveIn(ApiModel):
    """``continuous`` moves at a velocity until ``POST .../ptz/stop`` or
    ``timeoutSeconds``; ``relative`` moves by a translation; ``absolute`` to a
    position. ``speed`` (0..1) limits relative and absolute moves."""

    mode: Literal["continuous", "relative", "absolute"]
    pan: float | None = Field(default=None, ge=-1, le=1)
    tilt: float | None = Field(default=None, ge=-1, le=1)
    zoom: float | None = Field(default=None, ge=-1, le=1)
    speed: float | None = Field(default=None, gt=0, le=1)
    timeout_seconds: float | None = Field(default=None, gt=0, le=600)

    @model_validator(mode="after")
    def _axes(self) -> Self:
        if (self.pan is None) != (self.tilt is None):
            raise ValueError("pan and tilt go together")
        if self.pan is None and self.zoom is None:
            raise ValueError("give pan and tilt, zoom, or both")
        return self


class PtzStatusOut(ApiModel):
    profile_token: str
    pan: float | None
    tilt: float | None
    zoom: float | None
    pan_tilt_status: str | None
    zoom_status: str | None
    error: str | None


class PresetOut(ApiModel):
    token: str
    name: str | None
    pan: float | None
    tilt: float | None
    zoom: float | None


class PresetList(ApiModel):
    profile_token: str
    presets: list[PresetOut]


class PresetCreate(ApiModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")


class PresetCreated(ApiModel):
    token: str
    name: str
