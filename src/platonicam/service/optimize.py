"""Recommended settings for a camera and a scene: the rules behind ``POST /api/optimize``.

Strategy: :class:`Recommender` is the interface the route calls; the built-in
:class:`RuleBasedRecommender` is pure arithmetic on what the camera can do
(:class:`CameraAbilities`) and what it looks at (:class:`Scene`), so an
external model (a service, a learned policy) can replace it by implementing
the same one method. Every recommendation stays inside the camera's
abilities, so it can be sent to ``POST /api/apply`` as it is, and every
choice comes with its reason.

The rules, in order:

- **codec**: H.265 where the camera offers it (about 40 % fewer bits for the
  same picture), else H.264; ``compatibility`` priority keeps H.264, which every
  browser and NVR decodes.
- **resolution**: the largest the codec allows; ``bandwidth`` priority stops at
  1080p, the size most viewers show anyway.
- **frame rate**: from the scene's motion (8 low, 15 medium, 25 high, 30 for
  traffic), capped by the camera; a dark scene gets at most 15 so the shutter
  can stay open longer.
- **bitrate**: pixels x frames x bits per pixel, with bits per pixel from the
  motion (0.05 / 0.07 / 0.1 for H.264), times 0.6 for H.265, 1.2 for low light
  (sensor noise costs bits), 0.7 for ``bandwidth`` and 1.3 for ``quality``
  priority; then clamped to the camera's range and the caller's ceiling and
  rounded to 0.1 Mbit/s.
- **GOP**: two seconds of frames (one second for high motion, so a viewer
  joining or a recorder cutting waits less for a keyframe).
- **low light**: automatic exposure, IR cut filter on automatic, WDR on for
  scenes with backlight (entrances, windows) or mixed light.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Final, Protocol

from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.imaging import (
    BacklightCompensationMode,
    ExposureMode,
    IrCutFilterMode,
    WideDynamicMode,
)
from platonicam.onvif.models.media import VideoEncoding
from platonicam.onvif.settings import CapabilitySummary
from platonicam.service.jobs.model import (
    DesiredExposure,
    DesiredLowLight,
    DesiredSettings,
    DesiredStream,
)

#: 1920x1080: where ``bandwidth`` priority stops.
FULL_HD_PIXELS: Final = 1920 * 1080
#: Bits per pixel per frame for H.264, by motion.
H264_BITS_PER_PIXEL: Final = {"low": 0.05, "medium": 0.07, "high": 0.1}
H265_FACTOR: Final = 0.6
LOW_LIGHT_FACTOR: Final = 1.2
PRIORITY_FACTOR: Final = {"bandwidth": 0.7, "balanced": 1.0, "quality": 1.3, "compatibility": 1.0}
FPS_BY_MOTION: Final = {"low": 8.0, "medium": 15.0, "high": 25.0}
TRAFFIC_FPS: Final = 30.0
DARK_MAX_FPS: Final = 15.0


class SceneType(enum.StrEnum):
    INDOOR = "indoor"
    OUTDOOR = "outdoor"
    ENTRANCE = "entrance"
    PARKING = "parking"
    TRAFFIC = "traffic"
    RETAIL = "retail"


class Lighting(enum.StrEnum):
    DAYLIGHT = "daylight"
    MIXED = "mixed"
    LOW_LIGHT = "low_light"
    NIGHT = "night"

    @property
    def dark(self) -> bool:
        return self in (Lighting.LOW_LIGHT, Lighting.NIGHT)


class Motion(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Priority(enum.StrEnum):
    BALANCED = "balanced"
    QUALITY = "quality"
    BANDWIDTH = "bandwidth"
    COMPATIBILITY = "compatibility"


@dataclass(frozen=True, slots=True)
class Scene:
    """What the camera looks at and what matters most.

    ``max_bitrate_kbps`` is the caller's ceiling (uplink or storage budget).
    """

    type: SceneType = SceneType.OUTDOOR
    lighting: Lighting = Lighting.DAYLIGHT
    motion: Motion = Motion.MEDIUM
    priority: Priority = Priority.BALANCED
    backlight: bool = False
    max_bitrate_kbps: int | None = None


@dataclass(frozen=True, slots=True)
class CameraAbilities:
    """What the recommender may choose from. ``resolutions`` per codec; an
    empty mapping means unknown (the recommender then keeps the resolution).
    ``bitrate_range_kbps`` in kbit/s, ``max_fps`` in frames per second."""

    codecs: tuple[VideoEncoding, ...]
    resolutions: dict[VideoEncoding, tuple[Resolution, ...]] = field(default_factory=dict)
    max_fps: float | None = None
    bitrate_range_kbps: tuple[int, int] | None = None
    imaging: bool = True

    @classmethod
    def of(cls, summary: CapabilitySummary) -> CameraAbilities:
        return cls(
            codecs=summary.codecs,
            resolutions=dict(summary.resolutions),
            max_fps=summary.max_fps,
            bitrate_range_kbps=summary.bitrate_range_kbps,
            imaging=summary.imaging,
        )


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Settings to apply, why each was chosen, and how sure the recommender is (0..1)."""

    settings: DesiredSettings
    reasons: tuple[str, ...]
    confidence: float
    recommender: str


class Recommender(Protocol):
    """Anything that turns a camera's abilities and a scene into settings."""

    @property
    def name(self) -> str: ...

    def recommend(self, abilities: CameraAbilities, scene: Scene) -> Recommendation:
        """Settings inside ``abilities``; raises :class:`ValueError` when the
        camera offers nothing to recommend for (no H.264 and no H.265)."""
        ...


class RuleBasedRecommender:
    """The built-in rules (see the module docstring)."""

    @property
    def name(self) -> str:
        return "rules-v1"

    def recommend(self, abilities: CameraAbilities, scene: Scene) -> Recommendation:
        reasons: list[str] = []
        codec = self._codec(abilities, scene, reasons)
        resolution = self._resolution(abilities.resolutions.get(codec, ()), scene, reasons)
        fps = self._fps(abilities.max_fps, scene, reasons)
        bitrate = self._bitrate(abilities, scene, codec, resolution, fps, reasons)
        gop = max(1, round(fps * (1 if scene.motion is Motion.HIGH else 2)))
        reasons.append(
            f"GOP {gop}: a keyframe every {'second' if scene.motion is Motion.HIGH else '2 s'}"
        )
        stream = DesiredStream(
            resolution=resolution, codec=codec, fps=fps, bitrate_kbps=bitrate, gop=gop
        )
        exposure = low_light = None
        if abilities.imaging:
            exposure = DesiredExposure(mode=ExposureMode.AUTO)
            wdr = (
                scene.backlight
                or scene.type is SceneType.ENTRANCE
                or (scene.lighting is Lighting.MIXED)
            )
            low_light = DesiredLowLight(
                wdr_mode=WideDynamicMode.ON if wdr else WideDynamicMode.OFF,
                ir_cut_filter=IrCutFilterMode.AUTO,
                backlight_mode=(
                    BacklightCompensationMode.ON
                    if scene.backlight
                    else BacklightCompensationMode.OFF
                ),
            )
            reasons.append(
                "automatic exposure and IR cut filter: the camera follows the light through the day"
            )
            if wdr:
                reasons.append("WDR on: bright and dark areas in one picture")
        # Known resolutions and frame-rate limits make the result surer.
        confidence = (
            0.5
            + 0.2 * bool(abilities.resolutions)
            + 0.15 * (abilities.max_fps is not None)
            + 0.15 * (abilities.bitrate_range_kbps is not None)
        )
        return Recommendation(
            settings=DesiredSettings(stream=stream, exposure=exposure, low_light=low_light),
            reasons=tuple(reasons),
            confidence=round(confidence, 2),
            recommender=self.name,
        )

    @staticmethod
    def _codec(abilities: CameraAbilities, scene: Scene, reasons: list[str]) -> VideoEncoding:
        offered = set(abilities.codecs)
        if VideoEncoding.H265 in offered and scene.priority is not Priority.COMPATIBILITY:
            reasons.append("H.265: the camera supports it and it needs about 40 % fewer bits")
            return VideoEncoding.H265
        if VideoEncoding.H264 in offered:
            reasons.append("H.264: decoded by every browser and recorder")
            return VideoEncoding.H264
        if VideoEncoding.H265 in offered:
            reasons.append("H.265: the camera offers no H.264")
            return VideoEncoding.H265
        raise ValueError("the camera offers neither H.264 nor H.265")

    @staticmethod
    def _resolution(
        offered: tuple[Resolution, ...], scene: Scene, reasons: list[str]
    ) -> Resolution | None:
        if not offered:
            return None
        ranked = sorted(offered, key=lambda r: (r.width * r.height, r.width), reverse=True)
        if scene.priority is Priority.BANDWIDTH:
            fitting = [r for r in ranked if r.width * r.height <= FULL_HD_PIXELS]
            if fitting:
                reasons.append(f"{fitting[0]}: the largest up to 1080p, to save bandwidth")
                return fitting[0]
        reasons.append(f"{ranked[0]}: the largest resolution the camera offers")
        return ranked[0]

    @staticmethod
    def _fps(max_fps: float | None, scene: Scene, reasons: list[str]) -> float:
        wanted = TRAFFIC_FPS if scene.type is SceneType.TRAFFIC else FPS_BY_MOTION[scene.motion]
        why = "traffic" if scene.type is SceneType.TRAFFIC else f"{scene.motion.value} motion"
        if scene.lighting.dark and wanted > DARK_MAX_FPS:
            wanted, why = DARK_MAX_FPS, "low light (longer exposure per frame)"
        if max_fps is not None and wanted > max_fps:
            wanted, why = max_fps, "the camera's maximum"
        reasons.append(f"{wanted:g} fps for {why}")
        return wanted

    @staticmethod
    def _bitrate(
        abilities: CameraAbilities,
        scene: Scene,
        codec: VideoEncoding,
        resolution: Resolution | None,
        fps: float,
        reasons: list[str],
    ) -> int | None:
        if resolution is None:
            return None
        bits_per_pixel = H264_BITS_PER_PIXEL[scene.motion]
        if codec is VideoEncoding.H265:
            bits_per_pixel *= H265_FACTOR
        if scene.lighting.dark:
            bits_per_pixel *= LOW_LIGHT_FACTOR
        bits_per_pixel *= PRIORITY_FACTOR[scene.priority]
        kbps = resolution.width * resolution.height * fps * bits_per_pixel / 1000
        limits = []
        if abilities.bitrate_range_kbps is not None:
            low, high = abilities.bitrate_range_kbps
            kbps = min(max(kbps, low), high)
            limits.append("the camera's range")
        if scene.max_bitrate_kbps is not None and kbps > scene.max_bitrate_kbps:
            kbps = scene.max_bitrate_kbps
            limits.append("your ceiling")
        # Whole 100 kbit/s steps, staying inside the range the value was clamped to.
        rounded = max(100, math.floor(kbps / 100) * 100) if kbps >= 100 else math.ceil(kbps)
        if abilities.bitrate_range_kbps is not None:
            rounded = max(rounded, abilities.bitrate_range_kbps[0])
        reasons.append(
            f"{rounded / 1000:g} Mbit/s for {resolution} at {fps:g} fps in {codec.value}"
            + (f" (within {' and '.join(limits)})" if limits else "")
        )
        return int(rounded)
