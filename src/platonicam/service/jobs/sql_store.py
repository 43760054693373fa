"""Apply jobs in the database: the SQL implementation of ``service.jobs.store.JobStore``.

Each job is one row: the columns queries need (id, camera, status, times) and
the whole job as :meth:`Job.to_json` wrote it, read back with
:meth:`Job.from_json`. The runner writes after every step, so after a crash the
row holds the last step the job reached, and :meth:`mark_interrupted_on_start`
closes it.

It lives with the apply engine rather than in ``platonicam.store`` so that the
store never imports the service layer; it uses the store's table and sessions.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from platonicam.clock import Clock
from platonicam.service.jobs.errors import JobError, JobNotFoundError
from platonicam.service.jobs.model import Job, JobStatus
from platonicam.service.jobs.store import interrupted
from platonicam.store.tables import JobRow

_UNFINISHED = (JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)


def _load(row: JobRow) -> Job:
    return Job.from_json(row.document)


class SqlJobStore:
    """Jobs in the ``jobs`` table; satisfies :class:`platonicam.service.jobs.store.JobStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(self, job: Job) -> None:
        """Store a new job; :class:`JobError` when its id is taken."""
        async with self._sessions.begin() as session:
            session.add(
                JobRow(
                    id=job.job_id,
                    camera_id=job.camera_id,
                    status=job.status.value,
                    document=job.to_json(),
                    created_at=job.created_at,
                    updated_at=job.updated_at,
                )
            )
            try:
                await session.flush()
            except IntegrityError:
                raise JobError(f"a job with id {job.job_id!r} already exists") from None

    async def update(self, job: Job) -> None:
        """Replace a stored job; :class:`JobNotFoundError` when it is not stored."""
        async with self._sessions.begin() as session:
            row = await session.get(JobRow, job.job_id)
            if row is None:
                raise JobNotFoundError(job.job_id)
            row.status = job.status.value
            row.document = job.to_json()
            row.updated_at = job.updated_at

    async def get(self, job_id: str) -> Job | None:
        async with self._sessions() as session:
            row = await session.get(JobRow, job_id)
            return _load(row) if row is not None else None

    async def list_by_camera(self, camera_id: str, *, limit: int | None = None) -> list[Job]:
        """The camera's jobs, newest first (by creation time)."""
        query = (
            select(JobRow)
            .where(JobRow.camera_id == camera_id)
            .order_by(JobRow.created_at.desc(), JobRow.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._sessions() as session:
            return [_load(row) for row in (await session.scalars(query)).all()]

    async def mark_interrupted_on_start(self) -> list[Job]:
        """Every job still pending or in progress becomes failed with the restart reason."""
        now = self._clock.now()
        changed: list[Job] = []
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(select(JobRow).where(JobRow.status.in_(_UNFINISHED)))
            ).all()
            for row in rows:
                job = interrupted(_load(row), now)
                row.status = job.status.value
                row.document = job.to_json()
                row.updated_at = job.updated_at
                changed.append(job)
        return changed
