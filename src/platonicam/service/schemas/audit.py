"""The audit log as admins read it."""

from __future__ import annotations

from datetime import datetime

from platonicam.service.schemas.base import ApiModel
from platonicam.store.records import AuditEntry


class AuditEntryOut(ApiModel):
    id: int
    at: datetime
    user: str
    action: str
    camera_id: str | None
    summary: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            user=entry.actor,
            action=entry.action,
            camera_id=entry.camera_id,
            summary=entry.summary,
        )


class AuditPage(ApiModel):
    """Newest first; pass ``nextBeforeId`` as ``before_id`` for the page before."""

    entries: list[AuditEntryOut]
    next_before_id: int | None
