"""One normalised view of a camera's settings and of what it can do.

The service compares, applies and verifies settings in these terms, whatever
mix of Media/Media2 and Imaging a camera speaks. The pure functions
(:func:`normalize_settings`, :func:`summarize_capabilities`) take models; the
two ``read_*`` coroutines gather those models from a connected client.

Units: bitrate in kbit/s as ONVIF writes it (``bitrate_mbps`` derives Mbit/s),
frame rate in frames per second, GOP in frames, exposure time in microseconds,
gain and levels in the camera's own units (its options give the range).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from platonicam.onvif.errors import ActionNotSupported, OnvifError, ServiceNotSupported
from platonicam.onvif.models.common import Resolution, ServiceKind
from platonicam.onvif.models.imaging import (
    BacklightCompensationMode,
    ExposureMode,
    ImagingSettings,
    IrCutFilterMode,
    WideDynamicMode,
)
from platonicam.onvif.models.media import (
    EncodingOptions,
    MediaProfile,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
)

if TYPE_CHECKING:
    from platonicam.onvif.client import OnvifClient


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """The encoder settings of one media profile."""

    profile_token: str
    profile_name: str
    encoder_token: str | None
    codec: VideoEncoding | None
    resolution: Resolution | None
    fps: float | None
    bitrate_kbps: int | None
    gop: int | None
    encoder_profile: str | None
    quality: float | None

    @property
    def bitrate_mbps(self) -> float | None:
        return None if self.bitrate_kbps is None else self.bitrate_kbps / 1000


@dataclass(frozen=True, slots=True)
class ExposureSettings:
    mode: ExposureMode | None
    exposure_time_us: float | None
    gain: float | None
    min_exposure_time_us: float | None
    max_exposure_time_us: float | None
    min_gain: float | None
    max_gain: float | None


@dataclass(frozen=True, slots=True)
class LowLightSettings:
    wdr_mode: WideDynamicMode | None
    wdr_level: float | None
    ir_cut_filter: IrCutFilterMode | None
    backlight_mode: BacklightCompensationMode | None
    backlight_level: float | None


@dataclass(frozen=True, slots=True)
class ImageSettings:
    brightness: float | None
    contrast: float | None
    sharpness: float | None
    color_saturation: float | None


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """What a camera is doing now. ``stream`` is the main (first) profile's settings;
    ``streams`` lists every profile's. Imaging parts are ``None`` when the camera has
    no imaging service or the profile no video source."""

    stream: StreamSettings | None
    streams: tuple[StreamSettings, ...]
    video_source_token: str | None
    exposure: ExposureSettings | None
    low_light: LowLightSettings | None
    image: ImageSettings | None


def stream_settings(profile: MediaProfile) -> StreamSettings:
    encoder = profile.video_encoder_configuration
    return StreamSettings(
        profile_token=profile.token,
        profile_name=profile.name,
        encoder_token=encoder.token if encoder else None,
        codec=encoder.encoding if encoder else None,
        resolution=encoder.resolution if encoder else None,
        fps=encoder.frame_rate_limit if encoder else None,
        bitrate_kbps=encoder.bitrate_limit if encoder else None,
        gop=encoder.gov_length if encoder else None,
        encoder_profile=encoder.profile if encoder else None,
        quality=encoder.quality if encoder else None,
    )


def video_source_token(profile: MediaProfile | None) -> str | None:
    """The video source a profile reads from: the token Imaging calls need."""
    if profile is None or profile.video_source_configuration is None:
        return None
    return profile.video_source_configuration.source_token


def normalize_settings(
    profiles: Sequence[MediaProfile],
    imaging: ImagingSettings | None,
    *,
    profile_token: str | None = None,
) -> CameraSettings:
    """Fold profiles and imaging settings into one :class:`CameraSettings`.

    ``profile_token`` picks the main profile; by default the first one that has a
    video encoder (some cameras list audio-only or metadata-only profiles first).
    """
    streams = tuple(stream_settings(p) for p in profiles)
    main: MediaProfile | None = None
    if profile_token is not None:
        main = next((p for p in profiles if p.token == profile_token), None)
    if main is None:
        main = next((p for p in profiles if p.video_encoder_configuration is not None), None)
    if main is None and profiles:
        main = profiles[0]
    exposure = low_light = image = None
    if imaging is not None:
        e = imaging.exposure
        exposure = ExposureSettings(
            mode=e.mode if e else None,
            exposure_time_us=e.exposure_time if e else None,
            gain=e.gain if e else None,
            min_exposure_time_us=e.min_exposure_time if e else None,
            max_exposure_time_us=e.max_exposure_time if e else None,
            min_gain=e.min_gain if e else None,
            max_gain=e.max_gain if e else None,
        )
        wdr = imaging.wide_dynamic_range
        blc = imaging.backlight_compensation
        low_light = LowLightSettings(
            wdr_mode=wdr.mode if wdr else None,
            wdr_level=wdr.level if wdr else None,
            ir_cut_filter=imaging.ir_cut_filter,
            backlight_mode=blc.mode if blc else None,
            backlight_level=blc.level if blc else None,
        )
        image = ImageSettings(
            brightness=imaging.brightness,
            contrast=imaging.contrast,
            sharpness=imaging.sharpness,
            color_saturation=imaging.color_saturation,
        )
    return CameraSettings(
        stream=stream_settings(main) if main is not None else None,
        streams=streams,
        video_source_token=video_source_token(main),
        exposure=exposure,
        low_light=low_light,
        image=image,
    )


@dataclass(frozen=True, slots=True)
class CapabilitySummary:
    """What a camera can do, in the terms the service and the CLI show."""

    codecs: tuple[VideoEncoding, ...]
    resolutions: dict[VideoEncoding, tuple[Resolution, ...]]
    max_resolution: Resolution | None
    max_fps: float | None
    bitrate_range_kbps: tuple[int, int] | None
    encoder_profiles: tuple[str, ...]
    profile_s: bool
    profile_t: bool
    profile_m: bool
    profile_g: bool
    h265: bool
    ptz: bool
    imaging: bool
    events: bool
    analytics: bool
    #: A media profile streams sound (it has an audio encoder configuration).
    audio: bool = False


_PROFILE_SCOPE = "onvif://www.onvif.org/profile/"


def _profiles_from_scopes(scopes: Iterable[str]) -> set[str]:
    found = set()
    for scope in scopes:
        lowered = scope.strip().lower()
        if lowered.startswith(_PROFILE_SCOPE):
            found.add(lowered[len(_PROFILE_SCOPE) :].strip("/"))
    return found


def summarize_capabilities(
    services: Iterable[ServiceKind],
    options: Sequence[VideoEncoderConfigurationOptions],
    *,
    scopes: Iterable[str] = (),
    profiles: Sequence[MediaProfile] = (),
) -> CapabilitySummary:
    """Summarise the services a device offers, its encoder options and its scopes.

    Profile membership comes from the ``onvif://www.onvif.org/Profile/...``
    scopes the device announces (``Streaming`` is Profile S) and from its
    services: Media means S-style streaming, Media2 T-style (many Media2 devices
    announce only ``Profile/Streaming``).
    """
    kinds = set(services)
    announced = _profiles_from_scopes(scopes)
    if not any(option_set.encodings for option_set in options):
        # No options to read (some firmware faults on
        # GetVideoEncoderConfigurationOptions): what the profiles use now is
        # what the camera certainly can do.
        options = [_options_from_profiles(profiles)]
    resolutions: dict[VideoEncoding, list[Resolution]] = {}
    max_fps: float | None = None
    bitrate_low: int | None = None
    bitrate_high: int | None = None
    encoder_profiles: list[str] = []
    for option_set in options:
        for option in option_set.encodings:
            known = resolutions.setdefault(option.encoding, [])
            known.extend(r for r in option.resolutions if r not in known)
            top = max(
                [
                    *option.frame_rates,
                    *([option.frame_rate_range.max] if option.frame_rate_range else []),
                ],
                default=None,
            )
            if top is not None and (max_fps is None or top > max_fps):
                max_fps = top
            if option.bitrate_range is not None:
                low, high = option.bitrate_range.min, option.bitrate_range.max
                bitrate_low = low if bitrate_low is None else min(bitrate_low, low)
                bitrate_high = high if bitrate_high is None else max(bitrate_high, high)
            encoder_profiles.extend(p for p in option.profiles if p not in encoder_profiles)
    all_resolutions = [r for rs in resolutions.values() for r in rs]
    max_resolution = max(all_resolutions, key=lambda r: (r.width * r.height, r.width), default=None)
    codecs = tuple(resolutions)
    return CapabilitySummary(
        codecs=codecs,
        resolutions={codec: tuple(rs) for codec, rs in resolutions.items()},
        max_resolution=max_resolution,
        max_fps=max_fps,
        bitrate_range_kbps=(bitrate_low, bitrate_high)
        if bitrate_low is not None and bitrate_high is not None
        else None,
        encoder_profiles=tuple(encoder_profiles),
        profile_s="streaming" in announced or "s" in announced or ServiceKind.MEDIA in kinds,
        profile_t="t" in announced or ServiceKind.MEDIA2 in kinds,
        profile_m="m" in announced,
        profile_g="g" in announced,
        h265=VideoEncoding.H265 in codecs,
        ptz=ServiceKind.PTZ in kinds,
        imaging=ServiceKind.IMAGING in kinds,
        events=ServiceKind.EVENTS in kinds,
        analytics=ServiceKind.ANALYTICS in kinds,
        audio=any(p.audio_encoder_configuration_token for p in profiles),
    )


def _options_from_profiles(profiles: Sequence[MediaProfile]) -> VideoEncoderConfigurationOptions:
    by_codec: dict[VideoEncoding, tuple[list[Resolution], list[float]]] = {}
    for profile in profiles:
        encoder = profile.video_encoder_configuration
        if encoder is None or encoder.encoding is None:
            continue
        resolutions, rates = by_codec.setdefault(encoder.encoding, ([], []))
        if encoder.resolution is not None and encoder.resolution not in resolutions:
            resolutions.append(encoder.resolution)
        if encoder.frame_rate_limit is not None:
            rates.append(encoder.frame_rate_limit)
    return VideoEncoderConfigurationOptions(
        encodings=tuple(
            EncodingOptions(encoding=codec, resolutions=tuple(res), frame_rates=tuple(rates))
            for codec, (res, rates) in by_codec.items()
        )
    )


async def read_settings(client: OnvifClient, *, profile_token: str | None = None) -> CameraSettings:
    """Read profiles and the main profile's imaging settings and normalise them.

    A camera without Imaging (or that refuses it for this source) gives
    ``None`` imaging parts rather than an error.
    """
    profiles = await client.media.get_profiles()
    partial = normalize_settings(profiles, None, profile_token=profile_token)
    imaging: ImagingSettings | None = None
    if partial.video_source_token and client.has_service(ServiceKind.IMAGING):
        try:
            imaging = await client.imaging.get_imaging_settings(partial.video_source_token)
        except (ActionNotSupported, ServiceNotSupported):
            imaging = None
    return normalize_settings(profiles, imaging, profile_token=profile_token)


async def read_capability_summary(
    client: OnvifClient, *, profiles: Sequence[MediaProfile] | None = None
) -> CapabilitySummary:
    """Ask the camera for its encoder options (per profile, as most cameras need)
    and its scopes, and summarise them with its service list. Pass ``profiles``
    when they were just read, to save the request."""
    if profiles is None:
        profiles = await client.media.get_profiles()
    options: list[VideoEncoderConfigurationOptions] = []
    seen: set[str] = set()
    for profile in profiles:
        encoder = profile.video_encoder_configuration
        if encoder is None or encoder.token in seen:
            continue
        seen.add(encoder.token)
        try:
            options.append(
                await client.media.get_video_encoder_configuration_options(
                    configuration_token=encoder.token, profile_token=profile.token
                )
            )
        except OnvifError:
            # One encoder's options failing (some firmware faults on the sub
            # stream's) should not hide the others.
            continue
    try:
        scopes = [scope.item for scope in await client.device.get_scopes()]
    except OnvifError:
        scopes = []
    kinds = [e.kind for e in client.services.values() if e.kind is not None]
    return summarize_capabilities(kinds, options, scopes=scopes, profiles=profiles)
