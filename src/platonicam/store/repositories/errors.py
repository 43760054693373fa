"""What a repository refuses: a missing row or a clash with an existing one."""

from __future__ import annotations

from platonicam.errors import PlatonicamError


class StoreError(PlatonicamError):
    """Base of the repositories' refusals."""


class NotFoundError(StoreError):
    """The named row does not exist. ``kind`` is "user", "camera" or "job"."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} named {key!r}")
        self.kind = kind
        self.key = key


class ConflictError(StoreError):
    """The row would clash with an existing one (same user name, same camera address)."""
