"""The audit log: append-only, newest first when read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from platonicam.clock import Clock
from platonicam.store.records import AuditEntry
from platonicam.store.tables import AuditRow

#: Longer summaries are cut: the log says what changed, it is not a data dump.
MAX_SUMMARY = 2000


class AuditRepository:
    """Records who changed what on which camera. Callers write summaries without secrets."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record(
        self, actor: str, action: str, summary: str, *, camera_id: str | None = None
    ) -> AuditEntry:
        row = AuditRow(
            at=self._clock.now(),
            actor=actor,
            action=action,
            camera_id=camera_id,
            summary=summary[:MAX_SUMMARY],
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return _entry(row)

    async def list(
        self,
        *,
        actor: str | None = None,
        camera_id: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; ``before_id`` pages back from an earlier page."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if camera_id is not None:
            query = query.where(AuditRow.camera_id == camera_id)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if before_id is not None:
            query = query.where(AuditRow.id < before_id)
        async with self._sessions() as session:
            return [_entry(row) for row in (await session.scalars(query)).all()]


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        camera_id=row.camera_id,
        summary=row.summary,
    )
