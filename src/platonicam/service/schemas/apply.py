"""``POST /api/apply`` and the job it returns, in the original contract's shape.

Desired settings are typed here for the OpenAPI document; their values are
then read (and checked, naming each bad key) by
:func:`platonicam.service.jobs.model.desired_from_json`, the same reader the
job store uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import ConfigDict, Field, JsonValue, model_validator

from platonicam.service.jobs.model import JsonObject
from platonicam.service.schemas.cameras import CAMERA_ID_PATTERN, HOST_PATTERN
from platonicam.service.schemas.contract import ContractModel


class StreamIn(ContractModel):
    """Main-profile encoder: ``resolution`` as ``1920x1080``, ``codec`` ``H264``/``H265``,
    ``bitrateMbps`` in Mbit/s, ``gop`` in frames, ``profile`` as the camera spells it."""

    resolution: str | None = Field(default=None, max_length=20)
    codec: str | None = Field(default=None, max_length=10)
    fps: float | None = Field(default=None, gt=0, le=1000)
    bitrate_mbps: float | None = Field(default=None, alias="bitrateMbps", gt=0, le=1000)
    gop: int | None = Field(default=None, ge=1, le=10000)
    profile: str | None = Field(default=None, max_length=32)


class ExposureIn(ContractModel):
    """``mode`` ``AUTO``/``MANUAL``; ``exposureTime`` in microseconds; ``gain`` in dB."""

    mode: str | None = Field(default=None, max_length=10)
    exposure_time: float | None = Field(default=None, alias="exposureTime", ge=0, le=1e8)
    gain: float | None = Field(default=None, ge=-1000, le=1000)


class LowLightIn(ContractModel):
    """``wdr`` and ``backlight`` ``ON``/``OFF``; ``irCutFilter`` ``ON``/``OFF``/``AUTO``."""

    wdr: str | None = Field(default=None, max_length=10)
    wdr_level: float | None = Field(default=None, alias="wdrLevel", ge=-1e6, le=1e6)
    ir_cut_filter: str | None = Field(default=None, alias="irCutFilter", max_length=10)
    backlight: str | None = Field(default=None, max_length=10)


class ImageIn(ContractModel):
    """Levels in the camera's own ranges (its imaging options give them)."""

    brightness: float | None = Field(default=None, ge=-1e6, le=1e6)
    contrast: float | None = Field(default=None, ge=-1e6, le=1e6)
    sharpness: float | None = Field(default=None, ge=-1e6, le=1e6)
    saturation: float | None = Field(default=None, ge=-1e6, le=1e6)


class SettingsIn(ContractModel):
    """Desired settings; every section and key is optional (left out: unchanged)."""

    stream: StreamIn | None = None
    exposure: ExposureIn | None = None
    low_light: LowLightIn | None = Field(default=None, alias="lowLight")
    image: ImageIn | None = None

    def as_json(self) -> JsonObject:
        """The REST JSON :func:`desired_from_json` reads (only what was given)."""
        dumped: JsonObject = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped


class CredentialsIn(ContractModel):
    username: str | None = Field(default=None, max_length=128)
    password: str | None = Field(default=None, max_length=256, repr=False)


class CameraRefIn(ContractModel):
    """The camera to change: ``id`` of a registered camera (its stored credentials
    are used), or ``ip``/``port`` with ``credentials`` (kept in memory only).
    Other keys (a whole camera object from discovery) are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, pattern=CAMERA_ID_PATTERN)
    ip: str | None = Field(default=None, pattern=HOST_PATTERN)
    port: int = Field(default=80, ge=1, le=65535)
    credentials: CredentialsIn | None = None

    @model_validator(mode="after")
    def _id_or_address(self) -> Self:
        if self.id is None and self.ip is None:
            raise ValueError("name the camera by id, or by ip and port")
        return self


class ApplyIn(ContractModel):
    """``verifyAfterApply`` is accepted for the original clients; settings are
    always read back and verified (it costs one request). ``autoRollback`` puts
    the previous values back by itself when the apply fails or partly fails."""

    camera: CameraRefIn
    settings: SettingsIn
    apply_via: Literal["onvif"] = Field(default="onvif", alias="applyVia")
    verify_after_apply: bool = Field(default=True, alias="verifyAfterApply")
    auto_rollback: bool = Field(default=False, alias="autoRollback")


class BatchApplyIn(ContractModel):
    """The same settings for many cameras, at most ``concurrency`` at a time."""

    cameras: list[CameraRefIn] = Field(min_length=1, max_length=200)
    settings: SettingsIn
    concurrency: int = Field(default=4, ge=1, le=32)
    apply_via: Literal["onvif"] = Field(default="onvif", alias="applyVia")
    verify_after_apply: bool = Field(default=True, alias="verifyAfterApply")
    auto_rollback: bool = Field(default=False, alias="autoRollback")


class StepOut(ContractModel):
    name: str
    status: Literal["pending", "in_progress", "completed", "failed", "skipped"]
    message: str | None
    started_at: datetime | None = Field(alias="startedAt")
    finished_at: datetime | None = Field(alias="finishedAt")


class JobOut(ContractModel):
    """A job as ``GET /api/apply/status/{job_id}`` shows it. ``result`` holds
    ``applied_settings``, ``verification_status`` (``verified``, ``mismatch``,
    ``unverified``), ``changes``, ``mismatches`` and ``rollback``."""

    job_id: str
    camera_id: str = Field(alias="cameraId")
    status: Literal["pending", "in_progress", "completed", "failed", "partial"]
    progress: int
    current_step: str | None = Field(alias="currentStep")
    steps: list[StepOut]
    result: dict[str, JsonValue] | None
    desired: dict[str, JsonValue]
    previous: dict[str, JsonValue] | None
    auto_rollback: bool = Field(alias="autoRollback")
    error: str | None
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class BatchOut(ContractModel):
    jobs: list[JobOut]
