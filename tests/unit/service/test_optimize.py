"""The rule-based recommender: exact values for known cameras and scenes."""

from __future__ import annotations

import pytest

from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.imaging import ExposureMode, IrCutFilterMode, WideDynamicMode
from platonicam.onvif.models.media import VideoEncoding
from platonicam.service.jobs.model import DesiredStream
from platonicam.service.optimize import (
    CameraAbilities,
    Lighting,
    Motion,
    Priority,
    RuleBasedRecommender,
    Scene,
    SceneType,
)

RESOLUTIONS = (Resolution(3840, 2160), Resolution(1920, 1080), Resolution(1280, 720))
BOTH = CameraAbilities(
    codecs=(VideoEncoding.H264, VideoEncoding.H265),
    resolutions={VideoEncoding.H264: RESOLUTIONS, VideoEncoding.H265: RESOLUTIONS},
    max_fps=30.0,
    bitrate_range_kbps=(64, 16384),
)
H264_ONLY = CameraAbilities(
    codecs=(VideoEncoding.H264,),
    resolutions={VideoEncoding.H264: RESOLUTIONS[1:]},
    max_fps=20.0,
)
recommender = RuleBasedRecommender()


def stream_of(abilities: CameraAbilities, scene: Scene) -> DesiredStream:
    stream = recommender.recommend(abilities, scene).settings.stream
    assert stream is not None
    return stream


def test_h265_where_supported_with_bitrate_from_pixels_and_gop_from_fps() -> None:
    result = recommender.recommend(BOTH, Scene())
    assert result.settings.stream == DesiredStream(
        resolution=Resolution(3840, 2160),
        codec=VideoEncoding.H265,
        fps=15.0,
        # 3840*2160*15*0.07*0.6 = 5225 kbit/s, in whole 100 kbit/s.
        bitrate_kbps=5200,
        gop=30,
    )
    assert result.recommender == "rules-v1"
    assert result.confidence == 1.0
    assert result.reasons[0] == "H.265: the camera supports it and it needs about 40 % fewer bits"


def test_h264_only_camera_and_frame_rate_capped_by_the_camera() -> None:
    stream = stream_of(H264_ONLY, Scene(type=SceneType.TRAFFIC, motion=Motion.HIGH))
    assert stream == DesiredStream(
        resolution=Resolution(1920, 1080),
        codec=VideoEncoding.H264,
        fps=20.0,
        bitrate_kbps=4100,  # 1920*1080*20*0.1 = 4147 kbit/s
        gop=20,  # one second for high motion
    )


def test_bandwidth_priority_stops_at_1080p_and_respects_the_ceiling() -> None:
    stream = stream_of(BOTH, Scene(priority=Priority.BANDWIDTH, max_bitrate_kbps=800))
    assert (stream.resolution, stream.bitrate_kbps) == (Resolution(1920, 1080), 800)


def test_compatibility_keeps_h264() -> None:
    assert stream_of(BOTH, Scene(priority=Priority.COMPATIBILITY)).codec is VideoEncoding.H264


def test_low_light_caps_frame_rate_and_turns_on_wdr_for_backlit_entrances() -> None:
    result = recommender.recommend(
        BOTH, Scene(type=SceneType.ENTRANCE, lighting=Lighting.NIGHT, motion=Motion.HIGH)
    )
    stream, low_light, exposure = (
        result.settings.stream,
        result.settings.low_light,
        result.settings.exposure,
    )
    assert stream is not None
    assert low_light is not None
    assert exposure is not None
    assert (stream.fps, stream.gop) == (15.0, 15)
    assert exposure.mode is ExposureMode.AUTO
    assert (low_light.wdr_mode, low_light.ir_cut_filter) == (
        WideDynamicMode.ON,
        IrCutFilterMode.AUTO,
    )
    assert "15 fps for low light (longer exposure per frame)" in result.reasons


def test_bitrate_is_raised_to_the_cameras_minimum() -> None:
    tiny = CameraAbilities(
        codecs=(VideoEncoding.H264,),
        resolutions={VideoEncoding.H264: (Resolution(320, 180),)},
        bitrate_range_kbps=(512, 4096),
    )
    assert stream_of(tiny, Scene(motion=Motion.LOW)).bitrate_kbps == 512


def test_a_camera_without_h264_or_h265_is_refused() -> None:
    with pytest.raises(ValueError, match=r"neither H\.264 nor H\.265"):
        recommender.recommend(CameraAbilities(codecs=(VideoEncoding.JPEG,)), Scene())
