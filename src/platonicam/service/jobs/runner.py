"""Running an apply: connect, read, plan, apply, read back, verify, and roll back.

Strategy: a job is a fixed list of steps (:class:`StepName`), each run under a
timeout and recorded (started, finished, message) and persisted in the
:class:`JobStore` the moment it changes, so a client polling the job, or a
restarted service, sees where it got to. A step that fails never raises out
of the runner: a camera's :class:`OnvifError`, a refused plan or a timeout
becomes the step's message and the job's ``error``; the job's status then
says what the camera is left with:

- ``completed``: every change was sent and reads back as sent;
- ``partial``: some of it took (an apply step failed, or some fields read back
  differently, or nothing could be read back after sending);
- ``failed``: nothing took (connect, read or plan failed, every apply step
  failed, or every sent field reads back unchanged).

The camera's previous values of every planned field are stored in the job
before anything is sent. :meth:`ApplyRunner.rollback` plans and applies them
the same way (plan against fresh values, apply, read back, verify) and records
the outcome in ``result.rollback``; ``auto_rollback=True`` does that by itself,
on the same connection, after a ``failed`` or ``partial`` apply that sent
something.

Concurrency: one apply or rollback at a time per camera. A second one while
the first runs is *refused* with :class:`CameraBusyError` (the REST layer
answers 409) rather than queued: settings queued behind a change the caller
has not seen the outcome of are rarely still what they want. Different cameras
run side by side; :meth:`ApplyRunner.apply_batch` bounds how many at once.

Passwords: the connector hands over the secrets of each camera
(:attr:`CameraLink.secrets`); every message recorded is scrubbed of them, in
case firmware echoes a request back in a fault.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import ActionNotSupported, InvalidArgValue
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.imaging import ImagingOptions, ImagingSettings
from platonicam.onvif.models.media import VideoEncoderConfigurationOptions
from platonicam.onvif.settings import normalize_settings
from platonicam.service.jobs.errors import (
    CameraBusyError,
    JobNotFoundError,
    RollbackError,
)
from platonicam.service.jobs.model import (
    ApplyResult,
    DesiredSettings,
    FieldValue,
    Job,
    JobStatus,
    Mismatch,
    RollbackResult,
    Step,
    StepName,
    StepStatus,
    VerificationStatus,
    flatten,
    initial_steps,
    unflatten,
)
from platonicam.service.jobs.plan import CameraState, Plan, current_values, make_plan, verify
from platonicam.service.jobs.store import JobStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: What a step waits for the camera before it is failed, in seconds.
DEFAULT_STEP_TIMEOUT: Final = 30.0
_REDACTED: Final = "***"


@dataclass(frozen=True, slots=True)
class CameraLink:
    """A camera to talk to: an *unconnected* client (the runner's connect step
    connects it and closes it at the end) and the secrets to keep out of every
    record (its password)."""

    client: OnvifClient
    secrets: tuple[str, ...] = field(default=(), repr=False)


#: Opens the camera known to the service as ``camera_id``; raising a
#: :class:`PlatonicamError` (an unknown camera) fails the connect step.
Connector = Callable[[str], Awaitable[CameraLink]]
ProgressCallback = Callable[[Job], Awaitable[None]]


async def read_state(client: OnvifClient, *, with_options: bool = True) -> CameraState:
    """Read the main profile's encoder configuration and its video source's
    imaging settings (and, with ``with_options``, what the camera allows for
    them) from a connected client.

    Tolerates cameras that fault with ``ActionNotSupported``/``InvalidArgVal``
    on the options requests or on imaging: those parts are ``None`` and the
    plan leaves the judging to the camera.
    """
    profiles = await client.media.get_profiles()
    settings = normalize_settings(profiles, None)
    main_token = settings.stream.profile_token if settings.stream is not None else None
    main = next((p for p in profiles if p.token == main_token), None)
    encoder = main.video_encoder_configuration if main is not None else None
    encoder_options: VideoEncoderConfigurationOptions | None = None
    if with_options and encoder is not None and main is not None:
        try:
            encoder_options = await client.media.get_video_encoder_configuration_options(
                configuration_token=encoder.token, profile_token=main.token
            )
        except (ActionNotSupported, InvalidArgValue):
            encoder_options = None
    imaging: ImagingSettings | None = None
    imaging_options: ImagingOptions | None = None
    source = settings.video_source_token
    if source is not None and client.has_service(ServiceKind.IMAGING):
        try:
            imaging = await client.imaging.get_imaging_settings(source)
        except ActionNotSupported:
            imaging = None
        if with_options and imaging is not None:
            try:
                imaging_options = await client.imaging.get_options(source)
            except (ActionNotSupported, InvalidArgValue):
                imaging_options = None
    return CameraState(
        settings=normalize_settings(profiles, imaging, profile_token=main_token),
        encoder=encoder,
        encoder_options=encoder_options,
        imaging=imaging,
        imaging_options=imaging_options,
        media2=client.is_profile_t,
    )


def _redact(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, _REDACTED)
    return message


def _show(value: FieldValue | None) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(mismatches: Sequence[Mismatch]) -> str:
    """``read back differently: stream.bitrate_kbps expected 8000, got 4096``."""
    parts = [f"{m.field} expected {_show(m.expected)}, got {_show(m.actual)}" for m in mismatches]
    return "read back differently: " + "; ".join(parts)


class _Failed:
    """A step that failed (its message is already recorded)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _StepLog:
    """The steps of one apply or rollback, written out after every change."""

    def __init__(
        self,
        clock: Clock,
        publish: Callable[[tuple[Step, ...]], Awaitable[None]],
    ) -> None:
        self._clock = clock
        self._publish = publish
        self.steps = initial_steps()
        self.secrets: tuple[str, ...] = ()

    def _get(self, name: StepName) -> Step:
        return next(step for step in self.steps if step.name is name)

    def _put(self, updated: Step) -> None:
        self.steps = tuple(updated if s.name is updated.name else s for s in self.steps)

    async def begin(self, name: StepName) -> None:
        now = self._clock.now()
        self._put(replace(self._get(name), status=StepStatus.IN_PROGRESS, started_at=now))
        await self._publish(self.steps)

    async def end(self, name: StepName, status: StepStatus, message: str | None = None) -> None:
        """Finish a step; a skipped step keeps ``started_at`` empty (it never ran)."""
        now = self._clock.now()
        step = self._get(name)
        started = step.started_at or (None if status is StepStatus.SKIPPED else now)
        text = _redact(message, self.secrets) if message is not None else None
        self._put(replace(step, status=status, message=text, started_at=started, finished_at=now))
        await self._publish(self.steps)

    def message(self, name: StepName) -> str | None:
        return self._get(name).message


@dataclass(slots=True)
class _Session:
    """The connection one job (and its automatic rollback) uses."""

    camera_id: str
    link: CameraLink | None = None

    async def aclose(self) -> None:
        if self.link is not None:
            await self.link.client.aclose()


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: JobStatus
    verification: VerificationStatus
    plan: Plan | None = None
    applied: dict[str, FieldValue] = field(default_factory=dict)
    attempted: frozenset[str] = frozenset()
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None


class ApplyRunner:
    """Runs apply jobs and rollbacks against cameras reached through ``connector``.

    ``step_timeout`` (seconds) bounds every step; ``on_progress`` is awaited with
    the job after every step change (after it was stored). ``clock`` stamps the
    steps; ``new_id`` makes job ids (random UUIDs by default).
    """

    def __init__(
        self,
        store: JobStore,
        connector: Connector,
        *,
        clock: Clock | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self._store = store
        self._connector = connector
        self._clock: Clock = clock or SystemClock()
        self._step_timeout = step_timeout
        self._on_progress = on_progress
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._busy: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task[Job]] = {}

    # ----------------------------------------------------------------- public

    def busy_with(self, camera_id: str) -> str | None:
        """The id of the job running on the camera now, if any."""
        return self._busy.get(camera_id)

    async def apply(
        self, camera_id: str, desired: DesiredSettings, *, auto_rollback: bool = False
    ) -> Job:
        """Run an apply to the end and return the finished job.

        Raises :class:`CameraBusyError` (before creating a job) when the camera
        is busy. Camera failures do not raise: they are in the job.
        """
        job = await self._prepare(camera_id, desired, auto_rollback)
        return await self._run(job)

    async def start(
        self, camera_id: str, desired: DesiredSettings, *, auto_rollback: bool = False
    ) -> Job:
        """Create the job (``pending``), run it in the background and return at
        once; :meth:`wait` (or polling the store) gives the outcome. Raises
        :class:`CameraBusyError` like :meth:`apply`."""
        job = await self._prepare(camera_id, desired, auto_rollback)
        self._tasks[job.job_id] = asyncio.create_task(self._run(job), name=f"apply-{job.job_id}")
        return job

    async def wait(self, job_id: str) -> Job:
        """The job once it finished (started with :meth:`start`), or as stored."""
        task = self._tasks.get(job_id)
        if task is not None:
            return await asyncio.shield(task)
        job = await self._store.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    async def apply_batch(
        self,
        items: Sequence[tuple[str, DesiredSettings]],
        *,
        concurrency: int = 4,
        auto_rollback: bool = False,
    ) -> list[Job]:
        """Apply to many cameras, at most ``concurrency`` at a time; returns the
        finished jobs in the order of ``items``.

        Every job is created (``pending``) before the first one runs. A camera
        that is busy, or listed twice, gets a ``failed`` job saying so instead
        of an exception, so one bad entry does not stop the batch.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        jobs: list[Job] = []
        for camera_id, desired in items:
            try:
                jobs.append(await self._prepare(camera_id, desired, auto_rollback))
            except CameraBusyError as exc:
                jobs.append(await self._refused(camera_id, desired, auto_rollback, str(exc)))
        gate = asyncio.Semaphore(concurrency)

        async def run(job: Job) -> Job:
            if job.status.finished:
                return job
            async with gate:
                return await self._run(job)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(job)) for job in jobs]
        return [task.result() for task in tasks]

    async def start_batch(
        self,
        items: Sequence[tuple[str, DesiredSettings]],
        *,
        concurrency: int = 4,
        auto_rollback: bool = False,
    ) -> list[Job]:
        """:meth:`apply_batch` in the background: every job is created (a busy or
        repeated camera's as ``failed``) and returned at once, in the order of
        ``items``; at most ``concurrency`` run at a time, and :meth:`wait`
        gives each one's outcome."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        jobs: list[Job] = []
        for camera_id, desired in items:
            try:
                jobs.append(await self._prepare(camera_id, desired, auto_rollback))
            except CameraBusyError as exc:
                jobs.append(await self._refused(camera_id, desired, auto_rollback, str(exc)))
        gate = asyncio.Semaphore(concurrency)

        async def run(job: Job) -> Job:
            async with gate:
                return await self._run(job)

        for job in jobs:
            if not job.status.finished:
                self._tasks[job.job_id] = asyncio.create_task(run(job), name=f"apply-{job.job_id}")
        return jobs

    async def rollback(self, job_id: str) -> Job:
        """Put back the values the job changed (its ``previous``), verify, and
        record the outcome in ``result.rollback``; returns the updated job.

        Raises :class:`JobNotFoundError`, :class:`RollbackError` (the job is
        still running, or changed nothing) or :class:`CameraBusyError`.
        """
        job = await self._store.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        if not job.status.finished:
            raise RollbackError(f"job {job_id} is still {job.status.value}: wait for it to finish")
        if job.previous is None or job.previous.is_empty:
            raise RollbackError(f"job {job_id} has no previous values to put back")
        self._claim(job.camera_id, job.job_id)
        session = _Session(job.camera_id)
        try:
            return await self._roll_back(job, job.previous, session, automatic=False)
        finally:
            await session.aclose()
            self._release(job.camera_id, job.job_id)

    async def aclose(self) -> None:
        """Cancel the background jobs (they stay ``in_progress`` in the store until
        :meth:`JobStore.mark_interrupted_on_start` fails them at the next start)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # ----------------------------------------------------------------- jobs

    def _claim(self, camera_id: str, job_id: str) -> None:
        running = self._busy.get(camera_id)
        if running is not None:
            raise CameraBusyError(camera_id, running)
        self._busy[camera_id] = job_id

    def _release(self, camera_id: str, job_id: str) -> None:
        if self._busy.get(camera_id) == job_id:
            del self._busy[camera_id]

    async def _prepare(self, camera_id: str, desired: DesiredSettings, auto_rollback: bool) -> Job:
        now = self._clock.now()
        job = Job(
            job_id=self._new_id(),
            camera_id=camera_id,
            status=JobStatus.PENDING,
            desired=desired,
            created_at=now,
            updated_at=now,
            auto_rollback=auto_rollback,
        )
        # Claimed before the first await, so two callers cannot both pass the check.
        self._claim(camera_id, job.job_id)
        try:
            await self._store.create(job)
        except BaseException:
            self._release(camera_id, job.job_id)
            raise
        return job

    async def _refused(
        self, camera_id: str, desired: DesiredSettings, auto_rollback: bool, reason: str
    ) -> Job:
        now = self._clock.now()
        job = Job(
            job_id=self._new_id(),
            camera_id=camera_id,
            status=JobStatus.FAILED,
            desired=desired,
            created_at=now,
            updated_at=now,
            steps=tuple(Step(name, StepStatus.SKIPPED) for name in StepName),
            auto_rollback=auto_rollback,
            error=reason,
        )
        await self._store.create(job)
        return job

    async def _save(self, job: Job) -> Job:
        job = replace(job, updated_at=self._clock.now())
        await self._store.update(job)
        if self._on_progress is not None:
            await self._on_progress(job)
        return job

    async def _run(self, job: Job) -> Job:
        session = _Session(job.camera_id)
        current = job

        async def publish(steps: tuple[Step, ...]) -> None:
            nonlocal current
            current = await self._save(replace(current, status=JobStatus.IN_PROGRESS, steps=steps))

        async def planned(plan: Plan) -> None:
            nonlocal current
            # Stored before anything is sent: a crash mid-apply still leaves
            # what to roll back to.
            current = replace(current, previous=plan.previous)

        log = _StepLog(self._clock, publish)
        try:
            outcome = await self._execute(job.desired, log, session, on_plan=planned)
            result = ApplyResult(
                applied_settings=unflatten(outcome.applied),
                verification_status=outcome.verification,
                changes=outcome.plan.changes if outcome.plan is not None else (),
                mismatches=outcome.mismatches,
            )
            current = await self._save(
                replace(current, status=outcome.status, result=result, error=outcome.error)
            )
            wants_rollback = outcome.status in (JobStatus.FAILED, JobStatus.PARTIAL)
            if job.auto_rollback and wants_rollback and outcome.attempted and outcome.plan:
                previous = {
                    name: value
                    for name, value in flatten(outcome.plan.previous).items()
                    if name in outcome.attempted
                }
                if previous:
                    current = await self._roll_back(
                        current, unflatten(previous), session, automatic=True
                    )
            return current
        finally:
            await session.aclose()
            self._release(job.camera_id, job.job_id)
            self._tasks.pop(job.job_id, None)

    async def _roll_back(
        self, job: Job, previous: DesiredSettings, session: _Session, *, automatic: bool
    ) -> Job:
        result = job.result or ApplyResult(DesiredSettings(), VerificationStatus.UNVERIFIED)
        current = job

        def record(steps: tuple[Step, ...], outcome: _Outcome | None) -> RollbackResult:
            return RollbackResult(
                automatic=automatic,
                status=outcome.status if outcome is not None else JobStatus.IN_PROGRESS,
                steps=steps,
                applied_settings=unflatten(outcome.applied) if outcome else DesiredSettings(),
                verification_status=(
                    outcome.verification if outcome else VerificationStatus.UNVERIFIED
                ),
                mismatches=outcome.mismatches if outcome else (),
                error=outcome.error if outcome else None,
                finished_at=self._clock.now() if outcome else None,
            )

        async def publish(steps: tuple[Step, ...]) -> None:
            nonlocal current
            rollback = record(steps, None)
            current = await self._save(replace(current, result=replace(result, rollback=rollback)))

        log = _StepLog(self._clock, publish)
        outcome = await self._execute(previous, log, session)
        rollback = record(log.steps, outcome)
        return await self._save(replace(current, result=replace(result, rollback=rollback)))

    # ----------------------------------------------------------------- steps

    async def _attempt(
        self, log: _StepLog, name: StepName, action: Callable[[], Awaitable[T]]
    ) -> T | _Failed:
        await log.begin(name)
        try:
            async with asyncio.timeout(self._step_timeout):
                value = await action()
        except TimeoutError:
            message = (
                f"{name.value} timed out after {self._step_timeout:g} s (the camera did not answer)"
            )
        except PlatonicamError as exc:
            # OnvifError from the camera, PlanError from the plan, the connector's own.
            message = str(exc)
        except Exception as exc:
            # A bug must not leave the job in_progress forever; the traceback goes to
            # the log, the job only says what kind of error it was.
            logger.exception("step %s failed unexpectedly", name.value)
            message = f"unexpected error: {type(exc).__name__}: {exc}"
        else:
            await log.end(name, StepStatus.COMPLETED)
            return value
        await log.end(name, StepStatus.FAILED, message)
        return _Failed(log.message(name) or message)

    async def _connect(self, session: _Session) -> None:
        link = await self._connector(session.camera_id)
        session.link = link
        await link.client.connect()

    async def _execute(
        self,
        desired: DesiredSettings,
        log: _StepLog,
        session: _Session,
        *,
        on_plan: Callable[[Plan], Awaitable[None]] | None = None,
    ) -> _Outcome:
        unverified = VerificationStatus.UNVERIFIED

        async def connect() -> None:
            await self._connect(session)
            if session.link is not None:
                log.secrets = session.link.secrets

        if session.link is None:
            connected = await self._attempt(log, StepName.CONNECT, connect)
            if isinstance(connected, _Failed):
                return _Outcome(JobStatus.FAILED, unverified, error=connected.message)
        else:
            log.secrets = session.link.secrets
            await log.begin(StepName.CONNECT)
            await log.end(StepName.CONNECT, StepStatus.COMPLETED, "connection reused")
        assert session.link is not None
        client = session.link.client

        state = await self._attempt(log, StepName.READ_CURRENT, lambda: read_state(client))
        if isinstance(state, _Failed):
            return _Outcome(JobStatus.FAILED, unverified, error=state.message)

        async def plan_step() -> Plan:
            plan = make_plan(desired, state)
            if on_plan is not None:
                await on_plan(plan)
            return plan

        plan = await self._attempt(log, StepName.PLAN, plan_step)
        if isinstance(plan, _Failed):
            return _Outcome(JobStatus.FAILED, unverified, error=plan.message)

        errors: list[str] = []
        applied: dict[str, FieldValue] = {}
        attempted: set[str] = set()

        encoder_target = plan.encoder_target
        if encoder_target is not None:
            stream_fields = {c.field for c in plan.stream_changes}
            attempted |= stream_fields
            sent = await self._attempt(
                log,
                StepName.APPLY_STREAM,
                lambda: client.media.set_video_encoder_configuration(encoder_target),
            )
            if isinstance(sent, _Failed):
                errors.append(sent.message)
            else:
                applied.update({c.field: c.new for c in plan.stream_changes})
        else:
            await log.end(StepName.APPLY_STREAM, StepStatus.SKIPPED, "no stream changes")

        imaging_target, source = plan.imaging_target, plan.video_source_token
        if imaging_target is not None and source is not None:
            attempted |= {c.field for c in plan.imaging_changes}
            sent = await self._attempt(
                log,
                StepName.APPLY_IMAGING,
                lambda: client.imaging.set_imaging_settings(source, imaging_target),
            )
            if isinstance(sent, _Failed):
                errors.append(sent.message)
            else:
                applied.update({c.field: c.new for c in plan.imaging_changes})
        else:
            await log.end(StepName.APPLY_IMAGING, StepStatus.SKIPPED, "no imaging changes")

        tried = frozenset(attempted)
        if plan.is_noop:
            for name in (StepName.READ_BACK, StepName.VERIFY):
                await log.end(name, StepStatus.SKIPPED, "nothing to change")
            return _Outcome(JobStatus.COMPLETED, VerificationStatus.VERIFIED, plan=plan)
        if not applied:
            for name in (StepName.READ_BACK, StepName.VERIFY):
                await log.end(name, StepStatus.SKIPPED, "nothing was applied")
            return _Outcome(
                JobStatus.FAILED, unverified, plan=plan, attempted=tried, error="; ".join(errors)
            )

        after = await self._attempt(
            log, StepName.READ_BACK, lambda: read_state(client, with_options=False)
        )
        if isinstance(after, _Failed):
            await log.end(StepName.VERIFY, StepStatus.SKIPPED, "nothing was read back")
            return _Outcome(
                JobStatus.PARTIAL,
                unverified,
                applied=applied,
                plan=plan,
                attempted=tried,
                error="; ".join([*errors, after.message]),
            )

        mismatches = verify(applied, current_values(after))
        await log.begin(StepName.VERIFY)
        if mismatches:
            await log.end(StepName.VERIFY, StepStatus.FAILED, _describe(mismatches))
            errors.append(log.message(StepName.VERIFY) or _describe(mismatches))
        else:
            await log.end(
                StepName.VERIFY, StepStatus.COMPLETED, f"{len(applied)} field(s) read back as sent"
            )
        took = len(applied) - len(mismatches)
        if not errors:
            status = JobStatus.COMPLETED
        else:
            status = JobStatus.PARTIAL if took > 0 else JobStatus.FAILED
        return _Outcome(
            status,
            VerificationStatus.MISMATCH if mismatches else VerificationStatus.VERIFIED,
            applied=applied,
            mismatches=mismatches,
            plan=plan,
            attempted=tried,
            error="; ".join(errors) or None,
        )
