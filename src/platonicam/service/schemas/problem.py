"""The ``application/problem+json`` body (RFC 9457), for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel


class FieldProblemOut(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    """What every error response carries; ``code`` is the stable slug to switch on."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblemOut] | None = None


#: ``responses=`` for routes: each listed status documents the problem body.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {
        status: {
            "model": ProblemOut,
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }
