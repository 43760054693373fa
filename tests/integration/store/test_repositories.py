"""Repositories against real databases: SQLite and PostgreSQL, the same assertions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from platonicam.service.jobs.errors import JobError, JobNotFoundError
from platonicam.service.jobs.model import (
    DesiredSettings,
    DesiredStream,
    Job,
    JobStatus,
    StepName,
    StepStatus,
)
from platonicam.service.jobs.sql_store import SqlJobStore
from platonicam.service.jobs.store import INTERRUPTED_REASON, JobStore
from platonicam.store.database import Database
from platonicam.store.records import CameraChanges, NewCamera, Role
from platonicam.store.repositories import (
    AuditRepository,
    CameraRepository,
    RefreshTokenRepository,
    UserRepository,
)
from platonicam.store.repositories.errors import ConflictError, NotFoundError
from platonicam.store.secrets import CredentialCipher
from platonicam.store.tables import CameraRow
from tests.conftest import FakeClock

CAMERA_PASSWORD = "Cam-Pa55word!"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(Fernet.generate_key())


async def test_users_crud_grants_and_token_version(database: Database, clock: FakeClock) -> None:
    users = UserRepository(database.sessions, clock)
    assert await users.count() == 0
    alice = await users.create("alice", Role.OPERATOR, "hash-a")
    assert (alice.name, alice.role, alice.disabled, alice.token_version) == (
        "alice",
        Role.OPERATOR,
        False,
        0,
    )
    assert alice.created_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    with pytest.raises(ConflictError, match="a user named 'alice' already exists"):
        await users.create("alice", Role.VIEWER, "other")
    await users.create("bob", Role.VIEWER, "hash-b")
    assert [u.name for u in await users.list()] == ["alice", "bob"]
    assert await users.password_hash("alice") == "hash-a"
    assert await users.password_hash("nobody") is None

    await users.grant("alice", "cam-1")
    await users.grant("alice", "cam-1")  # twice: no error, one grant
    granted = await users.grant("alice", "cam-2")
    assert granted.grants == frozenset({"cam-1", "cam-2"})
    assert (await users.revoke("alice", "cam-1")).grants == frozenset({"cam-2"})
    with pytest.raises(NotFoundError, match="no grant named 'alice/cam-1'"):
        await users.revoke("alice", "cam-1")

    clock.advance(60)
    changed = await users.update("alice", role=Role.ADMIN)
    assert (changed.role, changed.token_version) == (Role.ADMIN, 1)
    assert changed.updated_at == datetime(2026, 3, 4, 5, 7, 7, tzinfo=UTC)
    assert (await users.update("alice", password_hash="hash-a2")).token_version == 2
    assert await users.password_hash("alice") == "hash-a2"
    # Enabling again does not revoke; disabling does.
    assert (await users.update("alice", disabled=True)).token_version == 3
    assert (await users.update("alice", disabled=False)).token_version == 3

    assert await users.drop_camera_grants("cam-2") == 1
    assert (await users.require("alice")).grants == frozenset()
    await users.grant("bob", "cam-9")
    await users.delete("bob")
    assert await users.get("bob") is None
    with pytest.raises(NotFoundError, match="no user named 'bob'"):
        await users.delete("bob")
    with pytest.raises(NotFoundError):
        await users.update("bob", role=Role.ADMIN)
    assert [u.name for u in await users.list()] == ["alice"]


async def test_refresh_tokens_are_single_use_and_expire(
    database: Database, clock: FakeClock
) -> None:
    users = UserRepository(database.sessions, clock)
    tokens = RefreshTokenRepository(database.sessions, clock)
    user = await users.create("carol", Role.VIEWER, "h")
    expires = clock.now() + timedelta(hours=1)
    await tokens.add("a" * 64, user.id, expires)
    await tokens.add("b" * 64, user.id, expires)
    assert await tokens.consume("a" * 64) == user.id
    # Reusing a spent token fails and revokes the user's other refresh tokens.
    assert await tokens.consume("a" * 64) is None
    assert await tokens.consume("b" * 64) is None

    await tokens.add("c" * 64, user.id, expires)
    clock.advance(3600)
    assert await tokens.consume("c" * 64) is None  # expired exactly now
    await tokens.add("d" * 64, user.id, clock.now() + timedelta(seconds=10))
    await tokens.add("e" * 64, user.id, clock.now() - timedelta(seconds=1))
    assert await tokens.purge_expired() == 1
    # A new password revokes outstanding refresh tokens.
    await users.update("carol", password_hash="new")
    assert await tokens.consume("d" * 64) is None


async def test_cameras_crud_with_encrypted_password(
    database: Database, clock: FakeClock, cipher: CredentialCipher
) -> None:
    cameras = CameraRepository(database.sessions, cipher, clock)
    created = await cameras.create(
        NewCamera(
            name="Gate",
            host="127.0.0.1",
            port=8080,
            username="onvif",
            password=CAMERA_PASSWORD,
            manufacturer="Axis",
            model="Q6045-E",
            scopes=("onvif://www.onvif.org/name/Gate",),
        )
    )
    assert created.id.startswith("cam-")
    assert len(created.id) == 16
    assert created.has_password is True
    assert created.scopes == ("onvif://www.onvif.org/name/Gate",)
    assert CAMERA_PASSWORD not in repr(created)

    # At rest the password is a Fernet token, not the password.
    async with database.sessions() as session:
        stored = await session.scalar(select(CameraRow.password_encrypted))
    assert stored is not None
    assert CAMERA_PASSWORD not in stored
    assert stored.startswith("gAAAAA")
    credentials = await cameras.credentials(created.id)
    assert (credentials.username, credentials.password) == ("onvif", CAMERA_PASSWORD)
    assert CAMERA_PASSWORD not in repr(credentials)

    with pytest.raises(ConflictError, match=r"a camera at 127\.0\.0\.1:8080"):
        await cameras.create(NewCamera(name="Again", host="127.0.0.1", port=8080))
    other = await cameras.create(NewCamera(name="Attic", host="127.0.0.2", id="cam-attic"))
    assert (other.id, other.port, other.has_password, other.verify_tls) == (
        "cam-attic",
        80,
        False,
        True,
    )
    assert [c.name for c in await cameras.list()] == ["Attic", "Gate"]
    assert [c.id for c in await cameras.list(frozenset({"cam-attic"}))] == ["cam-attic"]
    assert await cameras.list(frozenset()) == []

    clock.advance(5)
    updated = await cameras.update(
        created.id, CameraChanges(name="Front gate", password="n3w-Secret", verify_tls=False)
    )
    assert (updated.name, updated.host, updated.verify_tls) == ("Front gate", "127.0.0.1", False)
    assert updated.updated_at - updated.created_at == timedelta(seconds=5)
    assert (await cameras.credentials(created.id)).password == "n3w-Secret"
    cleared = await cameras.update(created.id, CameraChanges(clear_password=True))
    assert cleared.has_password is False
    assert (await cameras.credentials(created.id)).password is None
    with pytest.raises(ConflictError, match=r"127\.0\.0\.2:80"):
        await cameras.update(created.id, CameraChanges(host="127.0.0.2", port=80))

    users = UserRepository(database.sessions, clock)
    await users.create("dave", Role.VIEWER, "h")
    await users.grant("dave", "cam-attic")
    await cameras.delete("cam-attic")
    assert await cameras.get("cam-attic") is None
    assert (await users.require("dave")).grants == frozenset()
    with pytest.raises(NotFoundError, match="no camera named 'cam-attic'"):
        await cameras.require("cam-attic")


async def test_audit_log_filters_and_pages(database: Database, clock: FakeClock) -> None:
    audit = AuditRepository(database.sessions, clock)
    for n in range(5):
        clock.advance(1)
        await audit.record(
            "admin" if n % 2 == 0 else "olga",
            "camera.update",
            f"change {n}",
            camera_id="cam-1" if n < 3 else "cam-2",
        )
    newest = await audit.list(limit=2)
    assert [e.summary for e in newest] == ["change 4", "change 3"]
    assert newest[0].at == datetime(2026, 3, 4, 5, 6, 12, tzinfo=UTC)
    older = await audit.list(limit=2, before_id=newest[-1].id)
    assert [e.summary for e in older] == ["change 2", "change 1"]
    assert [e.summary for e in await audit.list(actor="olga")] == ["change 3", "change 1"]
    assert [e.summary for e in await audit.list(camera_id="cam-2")] == ["change 4", "change 3"]
    assert await audit.list(action="user.create") == []


def _job(job_id: str, camera_id: str, created: datetime, status: JobStatus) -> Job:
    job = Job(
        job_id=job_id,
        camera_id=camera_id,
        status=status,
        desired=DesiredSettings(stream=DesiredStream(bitrate_kbps=4096, fps=25.0)),
        created_at=created,
        updated_at=created,
        auto_rollback=True,
    )
    if status is JobStatus.IN_PROGRESS:
        steps = tuple(
            replace(step, status=StepStatus.COMPLETED, started_at=created, finished_at=created)
            if step.name is StepName.CONNECT
            else replace(step, status=StepStatus.IN_PROGRESS, started_at=created)
            if step.name is StepName.READ_CURRENT
            else step
            for step in job.steps
        )
        job = replace(job, steps=steps)
    return job


async def test_sql_job_store_round_trips_and_survives_a_restart(
    database: Database, clock: FakeClock
) -> None:
    store: JobStore = SqlJobStore(database.sessions, clock)
    t0 = clock.now()
    running = _job("job-1", "cam-1", t0, JobStatus.IN_PROGRESS)
    done = _job("job-2", "cam-1", t0 + timedelta(seconds=1), JobStatus.COMPLETED)
    pending = _job("job-3", "cam-2", t0 + timedelta(seconds=2), JobStatus.PENDING)
    for job in (running, done, pending):
        await store.create(job)
    with pytest.raises(JobError, match="a job with id 'job-1' already exists"):
        await store.create(running)
    assert await store.get("job-1") == running
    assert await store.get("nope") is None
    assert [j.job_id for j in await store.list_by_camera("cam-1")] == ["job-2", "job-1"]
    assert [j.job_id for j in await store.list_by_camera("cam-1", limit=1)] == ["job-2"]

    moved = replace(done, error="just a note", updated_at=t0 + timedelta(seconds=9))
    await store.update(moved)
    assert await store.get("job-2") == moved
    with pytest.raises(JobNotFoundError):
        await store.update(_job("job-9", "cam-1", t0, JobStatus.PENDING))

    # A new process over the same database: the restart closes the unfinished jobs.
    clock.advance(30)
    restarted: JobStore = SqlJobStore(database.sessions, clock)
    changed = await restarted.mark_interrupted_on_start()
    assert sorted(j.job_id for j in changed) == ["job-1", "job-3"]
    after = await restarted.get("job-1")
    assert after is not None
    assert (after.status, after.error, after.updated_at) == (
        JobStatus.FAILED,
        INTERRUPTED_REASON,
        clock.now(),
    )
    step = after.step(StepName.READ_CURRENT)
    assert (step.status, step.message) == (StepStatus.FAILED, INTERRUPTED_REASON)
    assert after.step(StepName.CONNECT).status is StepStatus.COMPLETED
    assert (await restarted.get("job-2")) == moved  # finished jobs are untouched
    assert await restarted.mark_interrupted_on_start() == []
