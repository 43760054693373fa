"""The REST JSON conversions of desired settings and jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.imaging import (
    BacklightCompensationMode,
    ExposureMode,
    IrCutFilterMode,
    WideDynamicMode,
)
from platonicam.onvif.models.media import VideoEncoding
from platonicam.service.jobs.errors import DesiredSettingsError
from platonicam.service.jobs.model import (
    ApplyResult,
    Change,
    DesiredExposure,
    DesiredImage,
    DesiredLowLight,
    DesiredSettings,
    DesiredStream,
    Job,
    JobStatus,
    JsonValue,
    Mismatch,
    RollbackResult,
    Step,
    StepName,
    StepStatus,
    VerificationStatus,
    desired_from_json,
    desired_to_json,
    flatten,
    initial_steps,
    json_field_name,
    unflatten,
)

CONTRACT_EXAMPLE: JsonValue = {
    "stream": {
        "resolution": "1920x1080",
        "codec": "H265",
        "fps": 25,
        "bitrateMbps": 4.0,
        "gop": 50,
        "profile": "Main",
    },
    "exposure": {"mode": "MANUAL", "exposureTime": 8000, "gain": 12.5},
    "lowLight": {"wdr": "ON", "wdrLevel": 60, "irCutFilter": "AUTO", "backlight": "OFF"},
    "image": {"brightness": 55, "contrast": 45, "sharpness": 30, "saturation": 70},
}

TYPED_EXAMPLE = DesiredSettings(
    stream=DesiredStream(
        resolution=Resolution(1920, 1080),
        codec=VideoEncoding.H265,
        fps=25.0,
        bitrate_kbps=4000,
        gop=50,
        encoder_profile="Main",
    ),
    exposure=DesiredExposure(mode=ExposureMode.MANUAL, exposure_time_us=8000.0, gain=12.5),
    low_light=DesiredLowLight(
        wdr_mode=WideDynamicMode.ON,
        wdr_level=60.0,
        ir_cut_filter=IrCutFilterMode.AUTO,
        backlight_mode=BacklightCompensationMode.OFF,
    ),
    image=DesiredImage(brightness=55.0, contrast=45.0, sharpness=30.0, color_saturation=70.0),
)


def test_the_contract_example_reads_into_typed_settings() -> None:
    assert desired_from_json(CONTRACT_EXAMPLE) == TYPED_EXAMPLE


def test_typed_settings_write_the_contract_shape() -> None:
    assert desired_to_json(TYPED_EXAMPLE) == {
        "stream": {
            "resolution": "1920x1080",
            "codec": "H265",
            "fps": 25.0,
            "bitrateMbps": 4.0,
            "gop": 50,
            "profile": "Main",
        },
        "exposure": {"mode": "MANUAL", "exposureTime": 8000.0, "gain": 12.5},
        "lowLight": {"wdr": "ON", "wdrLevel": 60.0, "irCutFilter": "AUTO", "backlight": "OFF"},
        "image": {"brightness": 55.0, "contrast": 45.0, "sharpness": 30.0, "saturation": 70.0},
    }
    assert desired_from_json(desired_to_json(TYPED_EXAMPLE)) == TYPED_EXAMPLE


def test_sections_and_keys_are_optional_and_null_means_unchanged() -> None:
    desired = desired_from_json({"stream": {"bitrateMbps": 2.5, "gop": None}, "image": None})
    assert desired == DesiredSettings(stream=DesiredStream(bitrate_kbps=2500))
    assert desired_to_json(desired) == {"stream": {"bitrateMbps": 2.5}}
    assert desired_from_json({}) == DesiredSettings()
    assert DesiredSettings().is_empty


def test_modes_are_read_regardless_of_case() -> None:
    desired = desired_from_json({"exposure": {"mode": "manual"}, "lowLight": {"wdr": "On"}})
    assert desired.exposure == DesiredExposure(mode=ExposureMode.MANUAL)
    assert desired.low_light == DesiredLowLight(wdr_mode=WideDynamicMode.ON)


def test_every_bad_key_is_listed_with_what_was_expected() -> None:
    with pytest.raises(DesiredSettingsError) as caught:
        desired_from_json(
            {
                "stream": {
                    "resolution": "1920by1080",
                    "codec": "MJPEG",
                    "fps": True,
                    "bitrateMbps": -1,
                    "gop": 12.5,
                    "bitrate": 4,
                },
                "exposure": {"mode": "SEMI"},
                "audio": {},
                "image": [1],
            }
        )
    assert caught.value.problems == (
        "stream.resolution: expected WIDTHxHEIGHT such as '1920x1080', got '1920by1080'",
        "stream.codec: expected 'H264' or 'H265', got 'MJPEG'",
        "stream.fps: expected a number, got True",
        "stream.bitrateMbps: expected a positive number of Mbit/s, got -1",
        "stream.gop: expected a whole number, got 12.5",
        "stream.bitrate: unknown key (known: resolution, codec, fps, bitrateMbps, gop, profile)",
        "exposure.mode: expected 'AUTO' or 'MANUAL', got 'SEMI'",
        "unknown section 'audio' (known: stream, exposure, lowLight, image)",
        "image: expected an object, got [1]",
    )
    assert str(caught.value).startswith("invalid desired settings: stream.resolution: expected")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(DesiredSettingsError, match=r"^invalid desired settings: expected a JSON"):
        desired_from_json(["stream"])


def test_flatten_and_unflatten_are_inverse() -> None:
    flat = flatten(TYPED_EXAMPLE)
    assert flat["stream.bitrate_kbps"] == 4000
    assert flat["low_light.ir_cut_filter"] is IrCutFilterMode.AUTO
    assert len(flat) == 17
    assert unflatten(flat) == TYPED_EXAMPLE
    with pytest.raises(KeyError, match=r"unknown fields: stream\.bitrate"):
        unflatten({"stream.bitrate": 1})


def test_field_names_in_json_are_the_rest_paths() -> None:
    assert json_field_name("stream.bitrate_kbps") == "stream.bitrateMbps"
    assert json_field_name("image.color_saturation") == "image.saturation"
    assert json_field_name("low_light.wdr_mode") == "lowLight.wdr"


T0 = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
T1 = datetime(2026, 5, 6, 7, 8, 10, tzinfo=UTC)


def finished_job() -> Job:
    steps = tuple(
        Step(name, StepStatus.COMPLETED, started_at=T0, finished_at=T1) for name in StepName
    )
    return Job(
        job_id="j1",
        camera_id="cam-1",
        status=JobStatus.PARTIAL,
        desired=DesiredSettings(stream=DesiredStream(bitrate_kbps=8000, gop=25)),
        created_at=T0,
        updated_at=T1,
        steps=steps,
        auto_rollback=True,
        previous=DesiredSettings(stream=DesiredStream(bitrate_kbps=4096, gop=50)),
        result=ApplyResult(
            applied_settings=DesiredSettings(stream=DesiredStream(bitrate_kbps=8000, gop=25)),
            verification_status=VerificationStatus.MISMATCH,
            changes=(
                Change("stream.bitrate_kbps", 4096, 8000),
                Change("stream.gop", 50, 25),
            ),
            mismatches=(Mismatch("stream.bitrate_kbps", 8000, 4096),),
            rollback=RollbackResult(
                automatic=True,
                status=JobStatus.COMPLETED,
                steps=steps,
                applied_settings=DesiredSettings(stream=DesiredStream(gop=50)),
                verification_status=VerificationStatus.VERIFIED,
                finished_at=T1,
            ),
        ),
        error="read back differently: stream.bitrate_kbps expected 8000, got 4096",
    )


def test_a_job_writes_the_rest_shape() -> None:
    data = finished_job().to_json()
    assert list(data)[:6] == ["job_id", "cameraId", "status", "progress", "currentStep", "steps"]
    assert data["job_id"] == "j1"
    assert data["status"] == "partial"
    assert data["progress"] == 100
    assert data["currentStep"] is None
    assert data["steps"][0] == {  # type: ignore[index]
        "name": "connect",
        "status": "completed",
        "message": None,
        "startedAt": "2026-05-06T07:08:09+00:00",
        "finishedAt": "2026-05-06T07:08:10+00:00",
    }
    result = data["result"]
    assert isinstance(result, dict)
    assert result["applied_settings"] == {"stream": {"bitrateMbps": 8.0, "gop": 25}}
    assert result["verification_status"] == "mismatch"
    assert result["mismatches"] == [
        {"field": "stream.bitrateMbps", "expected": 8.0, "actual": 4.096}
    ]
    assert result["changes"] == [
        {"field": "stream.bitrateMbps", "old": 4.096, "new": 8.0},
        {"field": "stream.gop", "old": 50, "new": 25},
    ]
    assert data["previous"] == {"stream": {"bitrateMbps": 4.096, "gop": 50}}
    json.dumps(data)  # plain JSON all the way down


def test_a_job_reads_back_what_it_wrote() -> None:
    job = finished_job()
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job


def test_progress_and_current_step_follow_the_steps() -> None:
    steps = list(initial_steps())
    steps[0] = Step(StepName.CONNECT, StepStatus.COMPLETED)
    steps[1] = Step(StepName.READ_CURRENT, StepStatus.IN_PROGRESS)
    job = Job("j2", "cam", JobStatus.IN_PROGRESS, DesiredSettings(), T0, T0, steps=tuple(steps))
    assert job.progress == 14  # 1 of 7 steps
    assert job.current_step is StepName.READ_CURRENT
    pending = Job("j3", "cam", JobStatus.PENDING, DesiredSettings(), T0, T0)
    assert pending.progress == 0
    assert pending.current_step is StepName.CONNECT
    assert pending.to_json()["currentStep"] == "connect"
