"""The planner: diffs against the camera's values, refusals naming field and allowed
values, and the read-back comparison. Pure: no camera, no event loop."""

from __future__ import annotations

from dataclasses import replace

import pytest

from platonicam.onvif.models.common import Resolution
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
from platonicam.onvif.models.media import VideoEncoding
from platonicam.onvif.settings import normalize_settings
from platonicam.service.jobs.errors import PlanError
from platonicam.service.jobs.model import (
    Change,
    DesiredExposure,
    DesiredImage,
    DesiredLowLight,
    DesiredSettings,
    DesiredStream,
    Mismatch,
    desired_from_json,
)
from platonicam.service.jobs.plan import CameraState, current_values, make_plan, verify
from tests.unit.service.fake_camera import (
    encoder_options,
    imaging_options,
    imaging_settings,
    main_encoder,
    main_profile,
)


def state(
    *, h265: bool = True, media2: bool = True, imaging: ImagingSettings | None = None
) -> CameraState:
    encoder = main_encoder()
    settings = imaging if imaging is not None else imaging_settings()
    return CameraState(
        settings=normalize_settings([main_profile(encoder)], settings),
        encoder=encoder,
        encoder_options=encoder_options(h265=h265),
        imaging=settings,
        imaging_options=imaging_options(),
        media2=media2,
    )


def refusal(desired: DesiredSettings, camera: CameraState | None = None) -> list[str]:
    with pytest.raises(PlanError) as caught:
        make_plan(desired, camera or state())
    return [problem.message for problem in caught.value.problems]


def stream(**values: object) -> DesiredSettings:
    return DesiredSettings(stream=DesiredStream(**values))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("desired", "message"),
    [
        (
            stream(resolution=Resolution(3840, 2160)),
            "stream.resolution 3840x2160 is not offered for H264 "
            "(allowed: 1920x1080, 1280x720, 640x360)",
        ),
        (
            stream(bitrate_kbps=50000),
            "stream.bitrate_kbps 50000 is outside what the camera allows for H264 "
            "(allowed: 256..16384 kbit/s)",
        ),
        (
            stream(fps=30.0),
            "stream.fps 30 is outside what the camera allows for H264 (allowed: 5, 10, 15, 20, 25)",
        ),
        (
            stream(gop=500),
            "stream.gop 500 is outside what the camera allows for H264 (allowed: 1..250 frames)",
        ),
        (
            stream(encoder_profile="Main10"),
            "stream.encoder_profile Main10 is not offered for H264 (allowed: Baseline, Main, High)",
        ),
        (
            DesiredSettings(image=DesiredImage(brightness=150.0)),
            "image.brightness 150 is outside the camera's range 0..100",
        ),
        (
            DesiredSettings(image=DesiredImage(color_saturation=-1.0)),
            "image.color_saturation -1 is outside the camera's range 0..100",
        ),
        (
            DesiredSettings(exposure=DesiredExposure(mode=ExposureMode.MANUAL, gain=101.0)),
            "exposure.gain 101 is outside the camera's range 0..100",
        ),
        (
            DesiredSettings(exposure=DesiredExposure(exposure_time_us=5.0)),
            "exposure.exposure_time_us 5 is outside the camera's range 10..40000",
        ),
        (
            DesiredSettings(low_light=DesiredLowLight(wdr_level=100.5)),
            "low_light.wdr_level 100.5 is outside the camera's range 0..100",
        ),
    ],
    ids=[
        "resolution",
        "bitrate",
        "fps-list",
        "gop",
        "encoder-profile",
        "brightness",
        "saturation",
        "gain",
        "exposure-time",
        "wdr-level",
    ],
)
def test_an_impossible_value_is_refused_naming_the_field_and_the_allowed_values(
    desired: DesiredSettings, message: str
) -> None:
    assert refusal(desired) == [message]


def test_h265_on_a_camera_without_it() -> None:
    assert refusal(stream(codec=VideoEncoding.H265), state(h265=False)) == [
        "stream.codec H265: the camera does not offer H.265 (allowed: H264)"
    ]


def test_a_codec_the_camera_does_not_offer() -> None:
    assert refusal(stream(codec=VideoEncoding.JPEG)) == [
        "stream.codec JPEG is not offered by the camera (allowed: H264, H265)"
    ]


def test_h265_needs_media2_and_whole_frame_rates_without_it() -> None:
    camera = state(media2=False)
    assert refusal(stream(codec=VideoEncoding.H265, fps=12.5), camera) == [
        "stream.codec H265 needs Media2 (Profile T), which the camera does not offer",
        "stream.fps 12.5 must be a whole number on a camera without Media2",
        "stream.fps 12.5 is outside what the camera allows for H265 (allowed: 5, 10, 15, 20, 25)",
    ]


def test_a_mode_the_camera_does_not_offer() -> None:
    options = replace(imaging_options(), ir_cut_filter_modes=(IrCutFilterMode.AUTO,))
    camera = replace(state(), imaging_options=options)
    desired = DesiredSettings(low_light=DesiredLowLight(ir_cut_filter=IrCutFilterMode.ON))
    assert refusal(desired, camera) == [
        "low_light.ir_cut_filter ON is not one of the camera's modes (AUTO)"
    ]


def test_every_impossible_field_is_listed_at_once() -> None:
    desired = desired_from_json(
        {
            "stream": {"resolution": "4000x3000", "bitrateMbps": 40, "fps": 60},
            "image": {"contrast": 101},
        }
    )
    with pytest.raises(PlanError) as caught:
        make_plan(desired, state())
    assert [p.field for p in caught.value.problems] == [
        "stream.resolution",
        "stream.fps",
        "stream.bitrate_kbps",
        "image.contrast",
    ]
    assert str(caught.value) == (
        "the camera cannot take these settings: "
        "stream.resolution 4000x3000 is not offered for H264 "
        "(allowed: 1920x1080, 1280x720, 640x360); "
        "stream.fps 60 is outside what the camera allows for H264 (allowed: 5, 10, 15, 20, 25); "
        "stream.bitrate_kbps 40000 is outside what the camera allows for H264 "
        "(allowed: 256..16384 kbit/s); "
        "image.contrast 101 is outside the camera's range 0..100"
    )


def test_a_new_codec_checks_the_unchanged_fields_against_its_own_limits() -> None:
    # 16384 kbit/s is fine for H.264 but above this camera's H.265 limit (12288).
    camera = replace(state(), encoder=replace(main_encoder(), bitrate_limit=16000))
    assert refusal(stream(codec=VideoEncoding.H265), camera) == [
        "stream.bitrate_kbps 16000 is outside what the camera allows for H265 "
        "(allowed: 256..12288 kbit/s)"
    ]


def test_imaging_on_a_camera_without_imaging_is_refused_per_section() -> None:
    camera = replace(state(), imaging=None, imaging_options=None)
    desired = DesiredSettings(
        exposure=DesiredExposure(gain=3.0), image=DesiredImage(brightness=10.0)
    )
    assert refusal(desired, camera) == [
        "exposure: the camera reports no imaging settings for its main profile's video source",
        "image: the camera reports no imaging settings for its main profile's video source",
    ]


def test_stream_on_a_profile_without_encoder_is_refused() -> None:
    camera = replace(state(), encoder=None)
    assert refusal(stream(gop=10), camera) == [
        "stream: the camera's main profile has no video encoder configuration to change"
    ]


def test_exposure_values_without_any_mode_are_refused() -> None:
    camera = state(imaging=replace(imaging_settings(), exposure=None))
    assert refusal(DesiredSettings(exposure=DesiredExposure(gain=5.0)), camera) == [
        "exposure.mode: the camera reports no exposure mode; give one to set exposure values"
    ]


def test_values_are_not_checked_when_the_camera_gives_no_options() -> None:
    camera = replace(state(), encoder_options=None, imaging_options=None)
    plan = make_plan(
        DesiredSettings(
            stream=DesiredStream(resolution=Resolution(3840, 2160)),
            image=DesiredImage(brightness=150.0),
        ),
        camera,
    )
    assert plan.expected == {"stream.resolution": Resolution(3840, 2160), "image.brightness": 150.0}


# --------------------------------------------------------------------------- diffs


def test_a_plan_where_nothing_differs_is_valid_and_sends_nothing() -> None:
    desired = desired_from_json(
        {
            "stream": {"resolution": "1920x1080", "codec": "H264", "fps": 25, "bitrateMbps": 4.096},
            "exposure": {"mode": "AUTO"},
            "lowLight": {"wdr": "OFF", "irCutFilter": "AUTO", "backlight": "OFF"},
            "image": {"brightness": 50, "contrast": 50, "sharpness": 50, "saturation": 50},
        }
    )
    plan = make_plan(desired, state())
    assert plan.is_noop
    assert plan.changes == ()
    assert plan.encoder_target is None
    assert plan.imaging_target is None
    assert plan.previous == DesiredSettings()


def test_only_differing_fields_are_changed_and_merged_into_the_current_encoder() -> None:
    desired = desired_from_json(
        {"stream": {"resolution": "1280x720", "fps": 25, "bitrateMbps": 2, "gop": 25}}
    )
    plan = make_plan(desired, state())
    assert plan.stream_changes == (
        Change("stream.resolution", Resolution(1920, 1080), Resolution(1280, 720)),
        Change("stream.bitrate_kbps", 4096, 2000),
        Change("stream.gop", 50, 25),
    )
    assert plan.encoder_target == replace(
        main_encoder(), resolution=Resolution(1280, 720), bitrate_limit=2000, gov_length=25
    )
    assert plan.imaging_changes == ()
    assert plan.imaging_target is None
    assert plan.profile_token == "profile_1"
    assert plan.video_source_token == "vs0"
    assert plan.previous == DesiredSettings(
        stream=DesiredStream(resolution=Resolution(1920, 1080), bitrate_kbps=4096, gop=50)
    )


def test_a_codec_change_picks_a_profile_the_new_codec_offers() -> None:
    camera = replace(state(), encoder=replace(main_encoder(), profile="High"))
    plan = make_plan(stream(codec=VideoEncoding.H265), camera)
    assert plan.stream_changes == (
        Change("stream.codec", VideoEncoding.H264, VideoEncoding.H265),
        Change("stream.encoder_profile", "High", "Main"),
    )
    assert plan.encoder_target is not None
    assert plan.encoder_target.profile == "Main"


def test_imaging_sends_only_what_changes_with_the_modes_the_types_require() -> None:
    current = replace(
        imaging_settings(),
        exposure=Exposure(mode=ExposureMode.MANUAL, exposure_time=8000.0, gain=10.0),
    )
    desired = DesiredSettings(
        exposure=DesiredExposure(gain=20.0),
        low_light=DesiredLowLight(wdr_level=70.0, backlight_mode=BacklightCompensationMode.ON),
        image=DesiredImage(sharpness=50.0, contrast=40.0),
    )
    plan = make_plan(desired, state(imaging=current))
    assert plan.imaging_target == ImagingSettings(
        backlight_compensation=BacklightCompensation(BacklightCompensationMode.ON),
        contrast=40.0,
        exposure=Exposure(mode=ExposureMode.MANUAL, gain=20.0),
        wide_dynamic_range=WideDynamicRange(WideDynamicMode.OFF, level=70.0),
    )
    assert [c.field for c in plan.imaging_changes] == [
        "exposure.gain",
        "low_light.wdr_level",
        "low_light.backlight_mode",
        "image.contrast",
    ]
    assert plan.encoder_target is None


def test_current_values_read_the_encoder_and_imaging() -> None:
    assert current_values(state()) == {
        "stream.resolution": Resolution(1920, 1080),
        "stream.codec": VideoEncoding.H264,
        "stream.fps": 25.0,
        "stream.bitrate_kbps": 4096,
        "stream.gop": 50,
        "stream.encoder_profile": "Main",
        "exposure.mode": ExposureMode.AUTO,
        "exposure.exposure_time_us": 10000.0,
        "exposure.gain": 0.0,
        "low_light.wdr_mode": WideDynamicMode.OFF,
        "low_light.wdr_level": 50.0,
        "low_light.ir_cut_filter": IrCutFilterMode.AUTO,
        "low_light.backlight_mode": BacklightCompensationMode.OFF,
        "image.brightness": 50.0,
        "image.contrast": 50.0,
        "image.sharpness": 50.0,
        "image.color_saturation": 50.0,
    }


# --------------------------------------------------------------------------- verify


@pytest.mark.parametrize(
    ("name", "expected", "actual", "same"),
    [
        ("stream.bitrate_kbps", 4000, 4096, True),  # within 64 kbit/s
        ("stream.bitrate_kbps", 8000, 8384, True),  # within 5 %
        ("stream.bitrate_kbps", 8000, 4096, False),
        ("stream.fps", 30.0, 29.97, True),
        ("stream.fps", 25.0, 20.0, False),
        ("image.brightness", 60.0, 60.000001, True),
        ("image.brightness", 60.0, 61.0, False),
        ("stream.codec", VideoEncoding.H265, VideoEncoding.H264, False),
        ("stream.resolution", Resolution(1280, 720), Resolution(1280, 720), True),
    ],
)
def test_verify_tolerates_what_cameras_round(
    name: str, expected: object, actual: object, same: bool
) -> None:
    result = verify({name: expected}, {name: actual})  # type: ignore[dict-item]
    assert result == (() if same else (Mismatch(name, expected, actual),))  # type: ignore[arg-type]


def test_verify_reports_a_field_the_camera_no_longer_reports() -> None:
    assert verify({"image.sharpness": 30.0}, {}) == (Mismatch("image.sharpness", 30.0, None),)
