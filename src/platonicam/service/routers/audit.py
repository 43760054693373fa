"""``GET /api/audit``: who changed what on which camera, newest first (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from platonicam.service.deps import Admin, Context
from platonicam.service.schemas.audit import AuditEntryOut, AuditPage
from platonicam.service.schemas.problem import problem_responses

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=problem_responses(401, 403, 422))


@router.get("")
async def list_audit(
    context: Context,
    actor: Admin,
    user: Annotated[str | None, Query(max_length=64)] = None,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Entries filtered by user, camera or action; page back with ``before_id``."""
    entries = await context.audit.list(
        actor=user, camera_id=camera_id, action=action, before_id=before_id, limit=limit
    )
    next_before = entries[-1].id if len(entries) == limit else None
    return AuditPage(entries=[AuditEntryOut.of(e) for e in entries], next_before_id=next_before)
