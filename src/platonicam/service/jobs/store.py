"""Where jobs are kept: the :class:`JobStore` protocol and an in-memory store.

The runner writes the job after every step, so a store always holds the last
state a job reached. The service backs the protocol with its database
(``service/jobs/sql_store.py``, keeping :meth:`Job.to_json` per job); this
in-memory one serves tests and the embedded single-process default's unit
tests. Both must survive a restart the same way: :meth:`JobStore.mark_interrupted_on_start`
turns every job that was pending or running when the process died into a
failed one with the reason :data:`INTERRUPTED_REASON`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Final, Protocol

from platonicam.clock import Clock, SystemClock
from platonicam.service.jobs.errors import JobError, JobNotFoundError
from platonicam.service.jobs.model import Job, JobStatus, StepStatus

INTERRUPTED_REASON: Final = "interrupted by a service restart"


class JobStore(Protocol):
    """Persistence of jobs. Every method is safe to call from the event loop."""

    async def create(self, job: Job) -> None:
        """Store a new job; :class:`JobError` when its id is taken."""
        ...

    async def update(self, job: Job) -> None:
        """Replace a stored job; :class:`JobNotFoundError` when it is not stored."""
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def list_by_camera(self, camera_id: str, *, limit: int | None = None) -> list[Job]:
        """The camera's jobs, newest first (by creation time)."""
        ...

    async def mark_interrupted_on_start(self) -> list[Job]:
        """Call once at start-up, before any job runs: every job still ``pending``
        or ``in_progress`` becomes ``failed`` with :data:`INTERRUPTED_REASON`
        (its running step too). Returns the jobs it changed."""
        ...


def interrupted(job: Job, now: datetime) -> Job:
    """``job`` as a restart leaves it: failed, its unfinished steps marked."""
    steps = tuple(
        replace(step, status=StepStatus.FAILED, message=INTERRUPTED_REASON, finished_at=now)
        if step.status is StepStatus.IN_PROGRESS
        else step
        for step in job.steps
    )
    return replace(
        job, status=JobStatus.FAILED, steps=steps, error=INTERRUPTED_REASON, updated_at=now
    )


class MemoryJobStore:
    """Jobs in a dict: lost when the process ends, which is what tests want.

    Restarts are simulated by building a new store over the old one's jobs
    (``MemoryJobStore(old.snapshot())``).
    """

    def __init__(self, jobs: dict[str, Job] | None = None, *, clock: Clock | None = None) -> None:
        self._jobs: dict[str, Job] = dict(jobs or {})
        self._clock: Clock = clock or SystemClock()

    def snapshot(self) -> dict[str, Job]:
        return dict(self._jobs)

    async def create(self, job: Job) -> None:
        if job.job_id in self._jobs:
            raise JobError(f"a job with id {job.job_id!r} already exists")
        self._jobs[job.job_id] = job

    async def update(self, job: Job) -> None:
        if job.job_id not in self._jobs:
            raise JobNotFoundError(job.job_id)
        self._jobs[job.job_id] = job

    async def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def list_by_camera(self, camera_id: str, *, limit: int | None = None) -> list[Job]:
        jobs = sorted(
            (job for job in self._jobs.values() if job.camera_id == camera_id),
            key=lambda job: job.created_at,
            reverse=True,
        )
        return jobs if limit is None else jobs[:limit]

    async def mark_interrupted_on_start(self) -> list[Job]:
        now = self._clock.now()
        changed = [
            interrupted(job, now)
            for job in self._jobs.values()
            if job.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)
        ]
        for job in changed:
            self._jobs[job.job_id] = job
        return changed
