"""Applying settings as tracked jobs: ``POST /api/apply``, status, rollback, batch.

``POST /api/apply`` checks before it creates a job: the settings are read
(every malformed key named), the camera is read and the plan made against its
options, so an impossible resolution or bitrate answers 422 naming the field
and the allowed values, and nothing is sent. The job then runs in the
background (connect, read, plan, apply stream, apply imaging, read back,
verify) and ``GET /api/apply/status/{job_id}`` follows it. Batches skip the
synchronous check: each camera's refusal is in its own job.

The camera is named by ``id`` (a registered camera, its stored credentials) or
by ``ip``/``port`` with ``credentials``, as in the original contract. A
registered camera at that address is used as itself (grant checked, stored
credentials); an unregistered one only by admins, as no one can hold a grant
for it. Operators apply and roll back; viewers follow jobs of their cameras.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from platonicam.service.cameras import CameraAddress, CameraLogin
from platonicam.service.deps import Context, Operator, Viewer, check_camera
from platonicam.service.errors import PermissionDenied
from platonicam.service.jobs.errors import CameraBusyError, DesiredSettingsError, JobNotFoundError
from platonicam.service.jobs.model import (
    DesiredSettings,
    Job,
    desired_from_json,
    flatten,
    json_field_name,
    value_to_json,
)
from platonicam.service.jobs.plan import make_plan
from platonicam.service.jobs.runner import read_state
from platonicam.service.schemas.apply import (
    ApplyIn,
    BatchApplyIn,
    BatchOut,
    CameraRefIn,
    JobOut,
    SettingsIn,
)
from platonicam.service.schemas.problem import problem_responses
from platonicam.store.records import Role, UserRecord

router = APIRouter(
    prefix="/api/apply", tags=["apply"], responses=problem_responses(401, 403, 404, 422)
)


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job.to_json())


def _desired(settings: SettingsIn) -> DesiredSettings:
    desired = desired_from_json(settings.as_json())
    if desired.is_empty:
        raise DesiredSettingsError(["settings: nothing to change (every section is empty)"])
    return desired


async def resolve_camera(context: Context, user: UserRecord, ref: CameraRefIn) -> str:
    """The id the job runs under; 403/404 for a camera the user may not use or
    that does not exist (see the module docstring)."""
    if ref.id is not None:
        check_camera(user, ref.id)
        return (await context.cameras.require(ref.id)).id
    assert ref.ip is not None  # the model requires id or ip
    host = ref.ip.strip("[]")
    registered = next(
        (c for c in await context.cameras.list() if c.host == host and c.port == ref.port), None
    )
    if registered is not None:
        check_camera(user, registered.id)
        return registered.id
    if user.role is not Role.ADMIN:
        raise PermissionDenied(
            f"no registered camera at {host}:{ref.port}: only an admin may change an "
            "unregistered camera; register it with POST /api/cameras or name it by id"
        )
    credentials = ref.credentials
    login = CameraLogin(
        credentials.username if credentials else None,
        credentials.password if credentials else None,
    )
    return context.camera_manager.remember_address(CameraAddress(host, ref.port), login)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(409, 501, 502, 504),
)
async def apply_settings(context: Context, user: Operator, body: ApplyIn) -> JobOut:
    """Check the settings against the camera's options, then start the job."""
    desired = _desired(body.settings)
    camera_id = await resolve_camera(context, user, body.camera)
    running = context.runner.busy_with(camera_id)
    if running is not None:
        raise CameraBusyError(camera_id, running)
    async with context.camera_manager.client(camera_id) as client:
        state = await read_state(client)
    make_plan(desired, state)  # PlanError (422) names every impossible field
    job = await context.runner.start(camera_id, desired, auto_rollback=body.auto_rollback)
    await context.audit.record(
        user.name,
        "apply.start",
        f"started job {job.job_id} on camera {camera_id}: {_fields(desired)}",
        camera_id=camera_id,
    )
    return job_out(job)


@router.post("/batch", status_code=status.HTTP_202_ACCEPTED)
async def apply_batch(context: Context, user: Operator, body: BatchApplyIn) -> BatchOut:
    """The same settings to many cameras, ``concurrency`` at a time; one job each."""
    desired = _desired(body.settings)
    camera_ids = [await resolve_camera(context, user, ref) for ref in body.cameras]
    jobs = await context.runner.start_batch(
        [(camera_id, desired) for camera_id in camera_ids],
        concurrency=body.concurrency,
        auto_rollback=body.auto_rollback,
    )
    for job in jobs:
        await context.audit.record(
            user.name,
            "apply.start",
            f"started job {job.job_id} on camera {job.camera_id} (batch): {_fields(desired)}",
            camera_id=job.camera_id,
        )
    return BatchOut(jobs=[job_out(job) for job in jobs])


@router.get("/status/{job_id}")
async def job_status(context: Context, user: Viewer, job_id: str) -> JobOut:
    """Where the job is: status, progress (0..100), current step, steps, result."""
    job = await context.jobs.get(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    check_camera(user, job.camera_id)
    return job_out(job)


@router.post("/{job_id}/rollback", responses=problem_responses(409))
async def rollback_job(context: Context, user: Operator, job_id: str) -> JobOut:
    """Put back the values the job changed, read them back and verify; the
    outcome is in ``result.rollback``."""
    job = await context.jobs.get(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    check_camera(user, job.camera_id)
    rolled = await context.runner.rollback(job_id)
    rollback = rolled.result.rollback if rolled.result is not None else None
    await context.audit.record(
        user.name,
        "apply.rollback",
        f"rolled back job {job_id} on camera {job.camera_id}: "
        f"{rollback.status.value if rollback is not None else 'nothing done'}",
        camera_id=job.camera_id,
    )
    return job_out(rolled)


def _fields(desired: DesiredSettings) -> str:
    """The changed fields and values, for the audit log (settings hold no secrets)."""
    return ", ".join(
        f"{json_field_name(name)}={value_to_json(name, value)}"
        for name, value in flatten(desired).items()
    )
