"""CameraSettings normalisation and the capability summary, from captured profiles."""

from __future__ import annotations

from platonicam.onvif.models.common import FloatRange, IntRange, Resolution, ServiceKind
from platonicam.onvif.models.imaging import (
    BacklightCompensation,
    BacklightCompensationMode,
    Exposure,
    ExposureMode,
    ImagingSettings,
    IrCutFilterMode,
    WideDynamicMode,
    WideDynamicRange,
)
from platonicam.onvif.models.media import (
    EncodingOptions,
    MediaProfile,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
)
from platonicam.onvif.services import device, imaging, media
from platonicam.onvif.settings import normalize_settings, summarize_capabilities
from tests.corpus import payload

HIKVISION_PROFILES = "media/hikvision_DS-2CD2012-I_GetProfiles.xml"


def test_main_stream_from_captured_profiles() -> None:
    profiles = media.parse_get_profiles(payload(HIKVISION_PROFILES))
    settings = normalize_settings(profiles, None)
    assert settings.stream is not None
    assert settings.stream.profile_token == "Profile_1"
    assert settings.stream.codec is VideoEncoding.H264
    assert settings.stream.resolution == Resolution(1280, 720)
    assert settings.stream.fps == 10.0
    assert settings.stream.bitrate_kbps == 2048
    assert settings.stream.bitrate_mbps == 2.048
    assert settings.stream.gop == 2
    assert settings.stream.encoder_profile == "Main"
    assert [s.profile_token for s in settings.streams] == ["Profile_1", "Profile_2"]
    assert settings.video_source_token == "VideoSource_1"
    assert settings.exposure is None
    assert settings.low_light is None
    assert settings.image is None


def test_profile_token_picks_the_stream() -> None:
    profiles = media.parse_get_profiles(payload(HIKVISION_PROFILES))
    settings = normalize_settings(profiles, None, profile_token="Profile_2")
    assert settings.stream is not None
    assert settings.stream.profile_token == "Profile_2"
    assert settings.stream.resolution != Resolution(1280, 720)


def test_profile_without_encoder_is_not_the_main_stream() -> None:
    profiles = media.parse_get_profiles(payload(HIKVISION_PROFILES))
    audio_only = MediaProfile(token="audio", name="audio only")
    settings = normalize_settings([audio_only, *profiles], None)
    assert settings.stream is not None
    assert settings.stream.profile_token == "Profile_1"
    assert settings.streams[0].codec is None


def test_imaging_parts_from_a_capture() -> None:
    profiles = media.parse_get_profiles(payload(HIKVISION_PROFILES))
    captured = imaging.parse_get_imaging_settings(
        payload("imaging/bosch_FLEXIDOME-indoor-5100i-IR_GetImagingSettings.xml")
    )
    settings = normalize_settings(profiles, captured)
    assert settings.image is not None
    assert (settings.image.brightness, settings.image.contrast) == (128.0, 128.0)
    assert settings.image.color_saturation == 128.0
    assert settings.exposure is not None
    assert settings.exposure.mode is None


def test_exposure_and_low_light() -> None:
    settings = normalize_settings(
        [],
        ImagingSettings(
            exposure=Exposure(mode=ExposureMode.MANUAL, exposure_time=8000.0, gain=12.0),
            wide_dynamic_range=WideDynamicRange(mode=WideDynamicMode.ON, level=60.0),
            ir_cut_filter=IrCutFilterMode.AUTO,
            backlight_compensation=BacklightCompensation(mode=BacklightCompensationMode.OFF),
        ),
    )
    assert settings.stream is None
    assert settings.streams == ()
    assert settings.exposure is not None
    assert settings.exposure.mode is ExposureMode.MANUAL
    assert settings.exposure.exposure_time_us == 8000.0
    assert settings.exposure.gain == 12.0
    assert settings.low_light is not None
    assert settings.low_light.wdr_mode is WideDynamicMode.ON
    assert settings.low_light.wdr_level == 60.0
    assert settings.low_light.ir_cut_filter is IrCutFilterMode.AUTO
    assert settings.low_light.backlight_mode is BacklightCompensationMode.OFF


def _options() -> list[VideoEncoderConfigurationOptions]:
    return [
        VideoEncoderConfigurationOptions(
            encodings=(
                EncodingOptions(
                    encoding=VideoEncoding.H264,
                    resolutions=(Resolution(1920, 1080), Resolution(1280, 720)),
                    frame_rate_range=FloatRange(1, 25),
                    bitrate_range=IntRange(256, 8192),
                    profiles=("Main", "High"),
                ),
                EncodingOptions(
                    encoding=VideoEncoding.H265,
                    resolutions=(Resolution(2560, 1440),),
                    frame_rates=(12.5, 25.0, 30.0),
                    bitrate_range=IntRange(128, 6144),
                    profiles=("Main",),
                ),
            )
        ),
        VideoEncoderConfigurationOptions(
            encodings=(
                EncodingOptions(
                    encoding=VideoEncoding.H264,
                    resolutions=(Resolution(640, 360), Resolution(1280, 720)),
                    frame_rate_range=FloatRange(1, 15),
                ),
            )
        ),
    ]


def test_capability_summary_from_options_and_captured_scopes() -> None:
    scopes = [
        s.item
        for s in device.parse_get_scopes(payload("device/hikvision_DS-2DF7276-AEL_GetScopes.xml"))
    ]
    summary = summarize_capabilities(
        [ServiceKind.DEVICE, ServiceKind.MEDIA, ServiceKind.PTZ, ServiceKind.EVENTS],
        _options(),
        scopes=scopes,
    )
    assert summary.codecs == (VideoEncoding.H264, VideoEncoding.H265)
    assert summary.resolutions[VideoEncoding.H264] == (
        Resolution(1920, 1080),
        Resolution(1280, 720),
        Resolution(640, 360),
    )
    assert summary.max_resolution == Resolution(2560, 1440)
    assert summary.max_fps == 30.0
    assert summary.bitrate_range_kbps == (128, 8192)
    assert summary.encoder_profiles == ("Main", "High")
    assert summary.h265 is True
    assert summary.profile_s is True  # the Hikvision announces Profile/Streaming
    assert summary.profile_g is True  # ... and Profile/G
    assert summary.profile_t is False  # no Media2
    assert summary.ptz
    assert summary.events
    assert not summary.imaging
    assert not summary.analytics


def test_capability_summary_infers_profile_t_from_media2() -> None:
    summary = summarize_capabilities([ServiceKind.MEDIA2], [], scopes=[])
    assert summary.profile_t is True
    assert summary.profile_s is False
    assert summary.codecs == ()
    assert summary.max_resolution is None
    assert summary.max_fps is None
    assert summary.h265 is False


def test_capability_summary_says_whether_a_profile_streams_sound() -> None:
    # The Bosch configures its microphone (AudioSourceConfiguration) in its profiles but
    # no audio encoder: nothing streams sound.
    bosch = media.parse_get_profiles(
        payload("media/bosch_FLEXIDOME-indoor-5100i-IR_GetProfiles.xml")
    )
    assert any(p.audio_source_configuration_token for p in bosch)
    assert not summarize_capabilities([ServiceKind.MEDIA], [], profiles=bosch).audio
    with_sound = [*bosch, MediaProfile("p9", "sound", audio_encoder_configuration_token="aac")]
    assert summarize_capabilities([ServiceKind.MEDIA], [], profiles=with_sound).audio
