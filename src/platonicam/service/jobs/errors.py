"""Errors of the apply engine.

::

    JobError                    (platonicam.errors.PlatonicamError)
    ├── DesiredSettingsError    the desired settings (REST JSON) are malformed
    ├── PlanError               the camera cannot take the settings (checked against its
    │                           options before anything is sent); lists every field
    ├── CameraBusyError         another apply or rollback holds the camera
    ├── JobNotFoundError        no job with that id
    └── RollbackError           the job cannot be rolled back (still running, nothing stored)

The REST layer maps them to statuses: 422, 422, 409, 404, 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from platonicam.errors import PlatonicamError


class JobError(PlatonicamError):
    """Base class of the apply engine's errors."""


class DesiredSettingsError(JobError):
    """The desired settings could not be read; ``problems`` names each bad key."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid desired settings: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One field the camera cannot take. ``field`` is the dotted snake_case path
    (``stream.resolution``); ``message`` starts with it and names the allowed values."""

    field: str
    message: str


class PlanError(JobError):
    """The camera's options rule out at least one desired value; nothing was sent."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "the camera cannot take these settings: "
            + "; ".join(problem.message for problem in self.problems)
        )


class CameraBusyError(JobError):
    """An apply or rollback is already running on the camera."""

    def __init__(self, camera_id: str, job_id: str) -> None:
        self.camera_id = camera_id
        self.job_id = job_id
        super().__init__(
            f"camera {camera_id!r} is busy: job {job_id} is still running on it "
            "(one apply at a time per camera)"
        )


class JobNotFoundError(JobError):
    """No job has this id."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job with id {job_id!r}")


class RollbackError(JobError):
    """The job cannot be rolled back."""
