"""Apply, verify and roll back against the reference device, over HTTP on loopback.

The device is the real one (``platonicam.device``, served by uvicorn on an
ephemeral 127.0.0.1 port, with WS-Security and Digest users); the values to
change to are picked from the options it advertises, and what it holds after
each job is read with a separate client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from platonicam.service.jobs.model import (
    DesiredImage,
    DesiredSettings,
    DesiredStream,
    JobStatus,
    StepName,
    VerificationStatus,
)
from platonicam.service.jobs.plan import CameraState, current_values
from platonicam.service.jobs.runner import ApplyRunner, CameraLink, read_state
from platonicam.service.jobs.store import MemoryJobStore
from tests.integration.device.conftest import ADMIN, RunningDevice, start_device


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[RunningDevice]:
    running, server, task = await start_device(tmp_path / "data")
    yield running
    server.should_exit = True
    await task


def runner_for(
    device: RunningDevice, credentials: tuple[str, str] = ADMIN
) -> tuple[ApplyRunner, MemoryJobStore]:
    async def connect(camera_id: str) -> CameraLink:
        assert camera_id == "ref"
        return CameraLink(device.client(credentials), secrets=(credentials[1],))

    store = MemoryJobStore()
    return ApplyRunner(store, connect, step_timeout=10.0), store


async def read(device: RunningDevice) -> CameraState:
    async with device.client() as client:
        return await read_state(client)


def stream_target(state: CameraState) -> DesiredStream:
    """Values different from the current ones, inside the device's options."""
    encoder, options = state.encoder, state.encoder_options
    assert encoder is not None
    assert encoder.encoding is not None
    assert options is not None
    option = options.for_encoding(encoder.encoding)
    assert option is not None
    assert option.bitrate_range is not None
    assert option.gov_length_range is not None
    low, high = option.bitrate_range.min, option.bitrate_range.max
    gops = option.gov_length_range
    return DesiredStream(
        resolution=next(r for r in option.resolutions if r != encoder.resolution),
        bitrate_kbps=low if encoder.bitrate_limit != low else high,
        gop=gops.min if encoder.gov_length != gops.min else gops.max,
    )


async def test_apply_reads_back_what_the_device_took_and_rollback_restores_it(
    device: RunningDevice,
) -> None:
    before = await read(device)
    assert before.imaging is not None
    assert before.imaging_options is not None
    assert before.imaging_options.brightness is not None
    brightness_range = before.imaging_options.brightness
    brightness = brightness_range.min
    if before.imaging.brightness == brightness:
        brightness = brightness_range.max
    desired = DesiredSettings(
        stream=stream_target(before), image=DesiredImage(brightness=brightness)
    )

    runner, store = runner_for(device)
    job = await runner.apply("ref", desired)

    assert job.error is None
    assert job.status is JobStatus.COMPLETED
    assert job.result is not None
    assert job.result.verification_status is VerificationStatus.VERIFIED
    assert job.result.applied_settings == desired
    after = current_values(await read(device))
    for change in job.result.changes:
        assert after[change.field] == change.new
    assert job.previous is not None

    rolled = await runner.rollback(job.job_id)
    assert rolled.result is not None
    assert rolled.result.rollback is not None
    assert rolled.result.rollback.status is JobStatus.COMPLETED
    assert rolled.result.rollback.verification_status is VerificationStatus.VERIFIED
    assert current_values(await read(device)) == current_values(before)
    assert await store.get(job.job_id) == rolled


async def test_an_impossible_bitrate_is_refused_before_anything_is_sent(
    device: RunningDevice,
) -> None:
    before = await read(device)
    assert before.encoder is not None
    assert before.encoder.encoding is not None
    assert before.encoder_options is not None
    option = before.encoder_options.for_encoding(before.encoder.encoding)
    assert option is not None
    assert option.bitrate_range is not None
    too_high = option.bitrate_range.max + 1000
    runner, _ = runner_for(device)

    job = await runner.apply("ref", DesiredSettings(stream=DesiredStream(bitrate_kbps=too_high)))

    assert job.status is JobStatus.FAILED
    assert job.error == (
        f"the camera cannot take these settings: stream.bitrate_kbps {too_high} is outside "
        f"what the camera allows for {before.encoder.encoding.value} "
        f"(allowed: {option.bitrate_range.min}..{option.bitrate_range.max} kbit/s)"
    )
    assert job.step(StepName.APPLY_STREAM).started_at is None
    assert current_values(await read(device)) == current_values(before)


async def test_a_wrong_password_fails_the_job_without_the_password_in_it(
    device: RunningDevice,
) -> None:
    runner, _ = runner_for(device, ("admin", "not-the-password-42"))
    job = await runner.apply("ref", DesiredSettings(image=DesiredImage(brightness=10.0)))
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert "refused user 'admin'" in job.error
    assert "not-the-password-42" not in json.dumps(job.to_json())
    failed = [step for step in job.steps if step.status.value == "failed"]
    assert [step.name for step in failed] == [StepName.READ_CURRENT]
