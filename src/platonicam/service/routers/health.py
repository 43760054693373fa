"""``GET /health``: the one route open without a token; reveals nothing but liveness."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from platonicam import __version__
from platonicam.service.deps import Context
from platonicam.service.schemas.health import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": HealthOut}})
async def health(context: Context, response: Response) -> HealthOut:
    """``ok`` when the database answers; 503 with ``degraded`` when it does not."""
    try:
        async with context.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        response.status_code = 503
        return HealthOut(status="degraded", version=__version__, database="unavailable")
    return HealthOut(status="ok", version=__version__, database="ok")
