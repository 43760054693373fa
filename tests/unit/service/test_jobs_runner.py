"""The apply runner against in-memory cameras that really change.

The cameras (tests/unit/service/fake_camera.py) speak SOAP through the client's
transport seam, so every request and answer goes through the real builders,
parsers and models."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from platonicam.errors import PlatonicamError
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.imaging import ExposureMode
from platonicam.onvif.models.media import VideoEncoding
from platonicam.service.jobs.errors import CameraBusyError, JobNotFoundError, RollbackError
from platonicam.service.jobs.model import (
    Change,
    DesiredSettings,
    DesiredStream,
    Job,
    JobStatus,
    Mismatch,
    StepName,
    StepStatus,
    VerificationStatus,
    desired_from_json,
)
from platonicam.service.jobs.runner import ApplyRunner, CameraLink
from platonicam.service.jobs.store import MemoryJobStore
from tests.unit.service.fake_camera import FakeCamera, Gauge, imaging_settings, main_encoder

PASSWORD = "hunter2-secret"

DESIRED = desired_from_json(
    {
        "stream": {"resolution": "1280x720", "fps": 20, "bitrateMbps": 8.0, "gop": 40},
        "exposure": {"mode": "MANUAL", "exposureTime": 2000, "gain": 6},
        "image": {"brightness": 60},
    }
)


class UnknownCamera(PlatonicamError):
    pass


class Harness:
    """Cameras by id, a store, and a runner connecting to them."""

    def __init__(self, *cameras: FakeCamera, step_timeout: float = 5.0) -> None:
        self.cameras = {camera.name: camera for camera in cameras}
        self.store = MemoryJobStore()
        self.progress: list[Job] = []
        self.runner = ApplyRunner(
            self.store,
            self.connect,
            step_timeout=step_timeout,
            on_progress=self.record,
        )

    async def connect(self, camera_id: str) -> CameraLink:
        camera = self.cameras.get(camera_id)
        if camera is None:
            raise UnknownCamera(f"no camera {camera_id!r} is registered")
        client = OnvifClient("127.0.0.1", 80, "admin", PASSWORD, transport=camera)
        return CameraLink(client, secrets=(PASSWORD,))

    async def record(self, job: Job) -> None:
        stored = await self.store.get(job.job_id)
        assert stored == job  # persisted before anyone is told
        self.progress.append(job)


def statuses(job: Job) -> dict[str, str]:
    return {step.name.value: step.status.value for step in job.steps}


async def test_an_apply_changes_the_camera_and_verifies_it() -> None:
    camera = FakeCamera("cam1")
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED)

    assert camera.encoder == replace(
        main_encoder(),
        resolution=Resolution(1280, 720),
        frame_rate_limit=20.0,
        bitrate_limit=8000,
        gov_length=40,
    )
    assert camera.imaging.exposure is not None
    assert camera.imaging.exposure.mode is ExposureMode.MANUAL
    assert camera.imaging.exposure.exposure_time == 2000.0
    assert camera.imaging.exposure.gain == 6.0
    assert camera.imaging.brightness == 60.0
    assert camera.imaging.contrast == 50.0  # not asked for, not touched

    assert job.status is JobStatus.COMPLETED
    assert job.error is None
    assert statuses(job) == {name.value: "completed" for name in StepName}
    assert job.step(StepName.VERIFY).message == "8 field(s) read back as sent"
    assert job.result is not None
    assert job.result.verification_status is VerificationStatus.VERIFIED
    assert job.result.applied_settings == DESIRED
    assert job.result.mismatches == ()
    assert job.previous == desired_from_json(
        {
            "stream": {"resolution": "1920x1080", "fps": 25, "bitrateMbps": 4.096, "gop": 50},
            "exposure": {"mode": "AUTO", "exposureTime": 10000, "gain": 0},
            "image": {"brightness": 50},
        }
    )
    assert await harness.store.get(job.job_id) == job
    data = job.to_json()
    assert (data["status"], data["progress"], data["currentStep"]) == ("completed", 100, None)
    # The imaging calls went to the profile's video source, found by itself.
    assert camera.requests.count("SetImagingSettings") == 1
    assert camera.requests.count("SetVideoEncoderConfiguration") == 1


async def test_progress_is_stored_and_reported_after_every_step() -> None:
    harness = Harness(FakeCamera("cam1"))
    job = await harness.runner.apply("cam1", DESIRED)
    seen = harness.progress
    assert [j.progress for j in seen] == sorted(j.progress for j in seen)
    assert [j.current_step for j in seen if j.current_step is not None][:3] == [
        StepName.CONNECT,
        StepName.READ_CURRENT,
        StepName.READ_CURRENT,
    ]
    assert {j.status for j in seen[:-1]} == {JobStatus.IN_PROGRESS}
    # Every step is seen running, then finished: 2 updates per step, plus the final one.
    assert len(seen) == 2 * len(StepName) + 1
    # The previous values are stored as soon as the plan is made, before anything is sent.
    applying = next(
        j for j in seen if j.step(StepName.APPLY_STREAM).status is StepStatus.IN_PROGRESS
    )
    assert applying.previous == job.previous
    assert seen[-1] == job


async def test_a_refused_plan_sends_nothing() -> None:
    camera = FakeCamera("cam1")
    harness = Harness(camera)
    desired = desired_from_json({"stream": {"resolution": "4000x3000", "bitrateMbps": 99}})
    job = await harness.runner.apply("cam1", desired)
    assert job.status is JobStatus.FAILED
    assert job.error == (
        "the camera cannot take these settings: stream.resolution 4000x3000 is not offered "
        "for H264 (allowed: 1920x1080, 1280x720, 640x360); stream.bitrate_kbps 99000 is "
        "outside what the camera allows for H264 (allowed: 256..16384 kbit/s)"
    )
    assert job.step(StepName.PLAN).status is StepStatus.FAILED
    assert job.step(StepName.APPLY_STREAM).status is StepStatus.PENDING
    assert not [r for r in camera.requests if r.startswith("Set")]
    assert camera.encoder == main_encoder()
    assert job.result is not None
    assert job.result.verification_status is VerificationStatus.UNVERIFIED


async def test_a_noop_plan_completes_without_sending() -> None:
    camera = FakeCamera("cam1")
    harness = Harness(camera)
    desired = desired_from_json({"stream": {"resolution": "1920x1080", "gop": 50}})
    job = await harness.runner.apply("cam1", desired)
    assert job.status is JobStatus.COMPLETED
    assert statuses(job) == {
        "connect": "completed",
        "read_current": "completed",
        "plan": "completed",
        "apply_stream": "skipped",
        "apply_imaging": "skipped",
        "read_back": "skipped",
        "verify": "skipped",
    }
    assert job.step(StepName.VERIFY).message == "nothing to change"
    assert job.step(StepName.VERIFY).started_at is None  # skipped steps never ran
    assert job.previous == DesiredSettings()
    assert not [r for r in camera.requests if r.startswith("Set")]


async def test_a_lying_camera_is_caught_by_verify_and_the_job_is_partial() -> None:
    camera = FakeCamera("cam1", lie_about_bitrate=True)
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED)
    assert job.status is JobStatus.PARTIAL
    assert job.result is not None
    assert job.result.verification_status is VerificationStatus.MISMATCH
    assert job.result.mismatches == (Mismatch("stream.bitrate_kbps", 8000, 4096),)
    assert job.step(StepName.VERIFY).status is StepStatus.FAILED
    assert job.error == "read back differently: stream.bitrate_kbps expected 8000, got 4096"
    assert job.result.to_json()["mismatches"] == [
        {"field": "stream.bitrateMbps", "expected": 8.0, "actual": 4.096}
    ]
    assert job.result.rollback is None  # not asked for
    assert camera.encoder.resolution == Resolution(1280, 720)


async def test_auto_rollback_restores_what_a_lying_camera_took() -> None:
    camera = FakeCamera("cam1", lie_about_bitrate=True)
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED, auto_rollback=True)
    assert job.status is JobStatus.PARTIAL  # what the apply did
    assert job.result is not None
    rollback = job.result.rollback
    assert rollback is not None
    assert rollback.automatic
    assert rollback.status is JobStatus.COMPLETED
    assert rollback.verification_status is VerificationStatus.VERIFIED
    assert rollback.steps[0].message == "connection reused"
    # The camera is back where it was before the apply.
    assert camera.encoder == main_encoder()
    assert camera.imaging == imaging_settings()
    assert await harness.store.get(job.job_id) == job


async def test_a_fault_on_set_imaging_settings_is_partial_with_the_camera_message() -> None:
    camera = FakeCamera(
        "cam1",
        fault_on={"SetImagingSettings"},
        fault_reason=f"rejected for user admin with password {PASSWORD}",
    )
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED)
    assert job.status is JobStatus.PARTIAL
    assert statuses(job) == {
        "connect": "completed",
        "read_current": "completed",
        "plan": "completed",
        "apply_stream": "completed",
        "apply_imaging": "failed",
        "read_back": "completed",
        "verify": "completed",
    }
    expected = (
        "camera answered to SetImagingSettings with SOAP fault "
        "Sender/InvalidArgVal/SettingsInvalid: rejected for user admin with password ***"
    )
    assert job.step(StepName.APPLY_IMAGING).message == expected
    assert job.error == expected
    assert job.result is not None
    assert job.result.applied_settings == DesiredSettings(stream=DESIRED.stream)
    assert job.result.verification_status is VerificationStatus.VERIFIED
    assert camera.encoder.bitrate_limit == 8000
    assert camera.imaging == imaging_settings()
    # The password never reaches a record, whatever the camera echoes.
    assert PASSWORD not in json.dumps(job.to_json())
    assert all(PASSWORD not in json.dumps(j.to_json()) for j in harness.progress)


async def test_a_failed_apply_rolls_back_by_itself_when_asked() -> None:
    camera = FakeCamera("cam1", fault_on={"SetImagingSettings"})
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED, auto_rollback=True)
    assert job.status is JobStatus.PARTIAL
    assert job.result is not None
    assert job.result.rollback is not None
    # Only the stream had changed; putting it back needs no imaging call, so the
    # faulting SetImagingSettings is not sent again.
    assert job.result.rollback.status is JobStatus.COMPLETED
    assert job.result.rollback.applied_settings == DesiredSettings(
        stream=DesiredStream(resolution=Resolution(1920, 1080), fps=25.0, bitrate_kbps=4096, gop=50)
    )
    assert camera.encoder == main_encoder()
    assert camera.requests.count("SetImagingSettings") == 1


async def test_every_apply_step_failing_is_failed() -> None:
    camera = FakeCamera("cam1", fault_on={"SetImagingSettings", "SetVideoEncoderConfiguration"})
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED, auto_rollback=True)
    assert job.status is JobStatus.FAILED
    assert job.step(StepName.READ_BACK).message == "nothing was applied"
    assert job.result is not None
    assert job.result.applied_settings == DesiredSettings()
    # The camera did not change, so the rollback plans nothing and sends nothing.
    assert job.result.rollback is not None
    assert job.result.rollback.status is JobStatus.COMPLETED
    assert camera.requests.count("SetVideoEncoderConfiguration") == 1


@pytest.mark.parametrize(
    ("operation", "step"),
    [("GetSystemDateAndTime", "connect"), ("GetProfiles", "read_current")],
)
async def test_a_camera_that_hangs_fails_the_step_with_a_timeout(operation: str, step: str) -> None:
    camera = FakeCamera("cam1", hang_on={operation})
    harness = Harness(camera, step_timeout=0.2)
    job = await harness.runner.apply("cam1", DESIRED)
    assert job.status is JobStatus.FAILED
    assert job.error == f"{step} timed out after 0.2 s (the camera did not answer)"
    assert statuses(job)[step] == "failed"
    assert harness.runner.busy_with("cam1") is None  # released


async def test_a_hang_while_applying_is_partial_and_names_the_step() -> None:
    camera = FakeCamera("cam1", hang_on={"SetImagingSettings"})
    harness = Harness(camera, step_timeout=0.2)
    job = await harness.runner.apply("cam1", DESIRED)
    assert job.status is JobStatus.PARTIAL
    assert job.error == "apply_imaging timed out after 0.2 s (the camera did not answer)"


async def test_an_unknown_camera_fails_the_connect_step() -> None:
    harness = Harness()
    job = await harness.runner.apply("nope", DESIRED)
    assert job.status is JobStatus.FAILED
    assert job.error == "no camera 'nope' is registered"


async def test_a_second_apply_to_a_busy_camera_is_refused() -> None:
    camera = FakeCamera("cam1", delay=0.01)
    harness = Harness(camera)
    first = await harness.runner.start("cam1", DESIRED)
    assert first.status is JobStatus.PENDING
    assert harness.runner.busy_with("cam1") == first.job_id
    with pytest.raises(CameraBusyError) as caught:
        await harness.runner.apply("cam1", DESIRED)
    assert str(caught.value) == (
        f"camera 'cam1' is busy: job {first.job_id} is still running on it "
        "(one apply at a time per camera)"
    )
    done = await harness.runner.wait(first.job_id)
    assert done.status is JobStatus.COMPLETED
    assert len(await harness.store.list_by_camera("cam1")) == 1
    # Free again once the first one finished.
    again = await harness.runner.apply("cam1", DesiredSettings())
    assert again.status is JobStatus.COMPLETED


async def test_batch_apply_respects_the_concurrency_bound() -> None:
    gauge = Gauge()
    cameras = [FakeCamera(f"cam{i}", delay=0.005, gauge=gauge) for i in range(5)]
    harness = Harness(*cameras)
    jobs = await harness.runner.apply_batch(
        [(camera.name, DESIRED) for camera in cameras], concurrency=2
    )
    assert [job.camera_id for job in jobs] == ["cam0", "cam1", "cam2", "cam3", "cam4"]
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    assert all(camera.encoder.bitrate_limit == 8000 for camera in cameras)
    assert gauge.peak == 2  # two cameras at once, never three


async def test_a_batch_records_a_busy_or_repeated_camera_as_a_failed_job() -> None:
    harness = Harness(FakeCamera("cam1"), FakeCamera("cam2"))
    jobs = await harness.runner.apply_batch(
        [("cam1", DESIRED), ("cam2", DESIRED), ("cam1", DesiredSettings())], concurrency=3
    )
    assert [job.status for job in jobs] == [
        JobStatus.COMPLETED,
        JobStatus.COMPLETED,
        JobStatus.FAILED,
    ]
    assert jobs[2].error == (
        f"camera 'cam1' is busy: job {jobs[0].job_id} is still running on it "
        "(one apply at a time per camera)"
    )
    assert {step.status for step in jobs[2].steps} == {StepStatus.SKIPPED}
    with pytest.raises(ValueError, match="concurrency must be at least 1, got 0"):
        await harness.runner.apply_batch([], concurrency=0)


async def test_rollback_puts_the_previous_values_back_and_verifies() -> None:
    camera = FakeCamera("cam1")
    harness = Harness(camera)
    job = await harness.runner.apply("cam1", DESIRED)
    assert camera.encoder != main_encoder()
    rolled = await harness.runner.rollback(job.job_id)
    assert camera.encoder == main_encoder()
    assert camera.imaging == imaging_settings()
    assert rolled.status is JobStatus.COMPLETED  # the apply's own outcome is kept
    assert rolled.result is not None
    rollback = rolled.result.rollback
    assert rollback is not None
    assert not rollback.automatic
    assert rollback.status is JobStatus.COMPLETED
    assert rollback.verification_status is VerificationStatus.VERIFIED
    assert rollback.applied_settings == job.previous
    assert rollback.steps[0].message is None  # a fresh connection
    assert await harness.store.get(job.job_id) == rolled
    result = rolled.to_json()["result"]
    assert isinstance(result, dict)
    assert result["rollback"] == rollback.to_json()


async def test_rollback_refusals() -> None:
    camera = FakeCamera("cam1", delay=0.01)
    harness = Harness(camera)
    with pytest.raises(JobNotFoundError, match="no job with id 'missing'"):
        await harness.runner.rollback("missing")
    noop = await harness.runner.apply("cam1", DesiredSettings())
    with pytest.raises(RollbackError, match=f"job {noop.job_id} has no previous values"):
        await harness.runner.rollback(noop.job_id)
    done = await harness.runner.apply("cam1", DESIRED)
    running = await harness.runner.start("cam1", DesiredSettings())
    with pytest.raises(RollbackError, match=f"job {running.job_id} is still pending"):
        await harness.runner.rollback(running.job_id)
    with pytest.raises(CameraBusyError):
        await harness.runner.rollback(done.job_id)
    await harness.runner.wait(running.job_id)


async def test_a_media1_camera_is_planned_and_applied_through_ver10() -> None:
    camera = FakeCamera("cam1", media2=False)
    harness = Harness(camera)
    refused = await harness.runner.apply(
        "cam1", DesiredSettings(stream=DesiredStream(codec=VideoEncoding.H265))
    )
    assert refused.error == (
        "the camera cannot take these settings: stream.codec H265 needs Media2 (Profile T), "
        "which the camera does not offer; stream.codec H265: the camera does not offer H.265 "
        "(allowed: H264)"
    )
    job = await harness.runner.apply("cam1", DESIRED)
    assert job.status is JobStatus.COMPLETED
    assert camera.encoder.gov_length == 40
    assert "SetVideoEncoderConfiguration" in camera.requests


async def test_start_runs_in_the_background_and_aclose_cancels() -> None:
    camera = FakeCamera("cam1", hang_on={"GetProfiles"})
    harness = Harness(camera, step_timeout=30)
    job = await harness.runner.start("cam1", DESIRED)
    await asyncio.sleep(0.05)
    stored = await harness.store.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.IN_PROGRESS
    assert stored.current_step is StepName.READ_CURRENT
    await harness.runner.aclose()
    # Left in progress: the next start of the service marks it failed.
    marked = await harness.store.mark_interrupted_on_start()
    assert [j.job_id for j in marked] == [job.job_id]
    assert marked[0].error == "interrupted by a service restart"
    assert marked[0].step(StepName.READ_CURRENT).status is StepStatus.FAILED


def test_changes_are_recorded_in_the_result() -> None:
    change = Change("stream.gop", 50, 40)
    assert change.to_json() == {"field": "stream.gop", "old": 50, "new": 40}
