"""The in-memory job store, and what a restart does to unfinished jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from platonicam.service.jobs.errors import JobError, JobNotFoundError
from platonicam.service.jobs.model import (
    DesiredSettings,
    Job,
    JobStatus,
    Step,
    StepName,
    StepStatus,
)
from platonicam.service.jobs.store import INTERRUPTED_REASON, MemoryJobStore
from tests.conftest import FakeClock

T0 = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def job(job_id: str, camera: str, status: JobStatus, minutes: int = 0) -> Job:
    at = T0 + timedelta(minutes=minutes)
    return Job(job_id, camera, status, DesiredSettings(), created_at=at, updated_at=at)


async def test_create_get_update_and_list_newest_first() -> None:
    store = MemoryJobStore()
    await store.create(job("a", "cam1", JobStatus.COMPLETED, 0))
    await store.create(job("b", "cam1", JobStatus.FAILED, 5))
    await store.create(job("c", "cam2", JobStatus.COMPLETED, 3))
    with pytest.raises(JobError, match="a job with id 'a' already exists"):
        await store.create(job("a", "cam1", JobStatus.PENDING))
    assert [j.job_id for j in await store.list_by_camera("cam1")] == ["b", "a"]
    assert [j.job_id for j in await store.list_by_camera("cam1", limit=1)] == ["b"]
    assert await store.list_by_camera("cam3") == []
    updated = replace(job("a", "cam1", JobStatus.PARTIAL), error="x")
    await store.update(updated)
    assert await store.get("a") == updated
    assert await store.get("zzz") is None
    with pytest.raises(JobNotFoundError, match="no job with id 'zzz'"):
        await store.update(job("zzz", "cam1", JobStatus.PENDING))


async def test_a_restart_fails_the_jobs_it_interrupted(fake_clock: FakeClock) -> None:
    before = MemoryJobStore()
    running_steps = (
        Step(StepName.CONNECT, StepStatus.COMPLETED),
        Step(StepName.READ_CURRENT, StepStatus.COMPLETED),
        Step(StepName.PLAN, StepStatus.COMPLETED),
        Step(StepName.APPLY_STREAM, StepStatus.IN_PROGRESS, started_at=T0),
        Step(StepName.APPLY_IMAGING),
        Step(StepName.READ_BACK),
        Step(StepName.VERIFY),
    )
    await before.create(replace(job("run", "cam1", JobStatus.IN_PROGRESS), steps=running_steps))
    await before.create(job("wait", "cam2", JobStatus.PENDING))
    await before.create(job("done", "cam3", JobStatus.COMPLETED))

    # The process dies; a new one opens the same jobs.
    after = MemoryJobStore(before.snapshot(), clock=fake_clock)
    changed = await after.mark_interrupted_on_start()

    assert sorted(j.job_id for j in changed) == ["run", "wait"]
    run = await after.get("run")
    assert run is not None
    assert run.status is JobStatus.FAILED
    assert run.error == INTERRUPTED_REASON == "interrupted by a service restart"
    assert run.updated_at == fake_clock.now()
    assert run.step(StepName.APPLY_STREAM) == Step(
        StepName.APPLY_STREAM,
        StepStatus.FAILED,
        message="interrupted by a service restart",
        started_at=T0,
        finished_at=fake_clock.now(),
    )
    assert run.step(StepName.APPLY_IMAGING).status is StepStatus.PENDING
    assert run.to_json()["progress"] == 100
    wait = await after.get("wait")
    assert wait is not None
    assert wait.status is JobStatus.FAILED
    done = await after.get("done")
    assert done == job("done", "cam3", JobStatus.COMPLETED)
    assert await after.mark_interrupted_on_start() == []
