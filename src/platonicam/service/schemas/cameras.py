"""Registered cameras as the API shows them. The camera password is write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from platonicam.service.schemas.base import ApiModel
from platonicam.service.schemas.contract import ContractModel
from platonicam.store.records import CameraRecord

#: A host name, an IPv4 address or an IPv6 address (brackets allowed): no spaces,
#: no scheme, no path.
HOST_PATTERN = r"^\[?[A-Za-z0-9][A-Za-z0-9.:%_-]{0,252}\]?$"
CAMERA_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class CameraCreate(ApiModel):
    """Register a camera by address (``ip``, ``port``) or by the ``discoveryId`` of
    a camera ``GET /api/discover`` found. The service connects once with the
    credentials to check them and to read the camera's identity; nothing is
    stored when that fails."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    ip: str | None = Field(default=None, pattern=HOST_PATTERN)
    port: int | None = Field(default=None, ge=1, le=65535)
    discovery_id: str | None = Field(default=None, min_length=1, max_length=100)
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, max_length=256, repr=False)
    use_https: bool = False
    verify_tls: bool = True
    ca_cert_pem: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _address_or_discovery(self) -> Self:
        if (self.ip is None) == (self.discovery_id is None):
            raise ValueError("give either ip (with port) or discoveryId")
        return self


class CameraUpdate(ApiModel):
    """Fields left out stay as they are. A new address or password is checked by
    connecting before it is stored; ``clearPassword`` removes the stored one."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    ip: str | None = Field(default=None, pattern=HOST_PATTERN)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, max_length=256, repr=False)
    clear_password: bool = False
    use_https: bool | None = None
    verify_tls: bool | None = None
    ca_cert_pem: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _one_password_change(self) -> Self:
        if self.clear_password and self.password is not None:
            raise ValueError("give a new password or clearPassword, not both")
        return self


class CameraOut(ApiModel):
    """A registered camera; ``hasPassword`` stands in for the password."""

    id: str
    name: str
    ip: str
    port: int
    username: str | None
    has_password: bool
    use_https: bool
    verify_tls: bool
    manufacturer: str | None
    model: str | None
    firmware_version: str | None
    serial_number: str | None
    hardware_id: str | None
    mac_address: str | None
    scopes: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, camera: CameraRecord) -> CameraOut:
        return cls(
            id=camera.id,
            name=camera.name,
            ip=camera.host,
            port=camera.port,
            username=camera.username,
            has_password=camera.has_password,
            use_https=camera.use_https,
            verify_tls=camera.verify_tls,
            manufacturer=camera.manufacturer,
            model=camera.model,
            firmware_version=camera.firmware_version,
            serial_number=camera.serial_number,
            hardware_id=camera.hardware_id,
            mac_address=camera.mac_address,
            scopes=list(camera.scopes),
            created_at=camera.created_at,
            updated_at=camera.updated_at,
        )


class CameraList(ApiModel):
    cameras: list[CameraOut]


# ------------------------------------------------------------------ capabilities


class DeviceInfoOut(ContractModel):
    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


class VideoEncoderOut(ContractModel):
    """What the main profile's encoder allows for one codec. Bitrates in kbit/s."""

    codec: str
    resolutions: list[str]
    frame_rates: list[float]
    fps_range: list[float] | None
    bitrate_range_kbps: list[int] | None
    gop_range: list[int] | None
    profiles: list[str]


class CapabilitiesOut(ContractModel):
    """The camera's abilities; ``max_resolution`` as ``WIDTHxHEIGHT``."""

    device: DeviceInfoOut
    video_encoders: list[VideoEncoderOut]
    max_resolution: str | None
    supported_codecs: list[str]
    max_fps: float | None
    bitrate_range_mbps: list[float] | None
    h265: bool
    media2: bool
    onvif_profiles: list[str]
    ptz: bool
    imaging: bool
    events: bool
    analytics: bool
    #: Whether a media profile streams sound (AAC reaches MSE, HLS and the restream).
    audio: bool


class CameraCapabilitiesOut(ContractModel):
    camera_id: str = Field(alias="cameraId")
    capabilities: CapabilitiesOut


# ------------------------------------------------------------------ current settings


class StreamSettingsOut(ApiModel):
    """The main profile's encoder: ``bitrateMbps`` in Mbit/s, ``gop`` in frames."""

    profile_token: str
    resolution: str | None
    codec: str | None
    fps: float | None
    bitrate_mbps: float | None
    gop: int | None
    profile: str | None


class ExposureOut(ApiModel):
    """``exposureTime`` in microseconds, ``gain`` in the camera's units."""

    mode: str | None
    exposure_time: float | None
    gain: float | None


class LowLightOut(ApiModel):
    wdr: str | None
    wdr_level: float | None
    ir_cut_filter: str | None
    backlight: str | None


class ImageOut(ApiModel):
    brightness: float | None
    contrast: float | None
    sharpness: float | None
    saturation: float | None


class CurrentSettingsOut(ApiModel):
    """Sections are ``null`` when the camera has no such part (no Imaging service)."""

    stream: StreamSettingsOut | None
    exposure: ExposureOut | None
    low_light: LowLightOut | None
    image: ImageOut | None


class CameraSettingsOut(ApiModel):
    camera_id: str
    current_settings: CurrentSettingsOut


# ------------------------------------------------------------------ reboot


class RebootOut(ApiModel):
    camera_id: str
    message: str
