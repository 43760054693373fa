"""The events repository on a migrated SQLite file: storing, filters, keyset paging, retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from platonicam.events.model import Event, EventKind
from platonicam.onvif.models.events import PropertyOperation
from platonicam.store.database import Database
from platonicam.store.repositories.events import (
    EventRepository,
    InvalidCursor,
    StoredEvent,
    decode_cursor,
    encode_cursor,
)
from tests.conftest import FakeClock

T0 = datetime(2026, 1, 2, 3, 0, 0, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
def repo(database: Database, clock: FakeClock) -> EventRepository:
    return EventRepository(database.sessions, clock)


def motion(camera: str, at: datetime | None, state: bool = True) -> Event:
    return Event(
        camera_id=camera,
        kind=EventKind.MOTION,
        topic="VideoSource/MotionAlarm",
        raw_topic="tns1:VideoSource/MotionAlarm",
        source={"Source": "VideoSource_1"},
        data={"State": "true" if state else "false"},
        state=state,
        time=at,
        property_operation=PropertyOperation.CHANGED,
        payload_xml="<wsnt:NotificationMessage/>",
    )


def tamper(camera: str, at: datetime) -> Event:
    return Event(
        camera_id=camera,
        kind=EventKind.TAMPER,
        topic="VideoSource/GlobalSceneChange/ImagingService",
        raw_topic="tns1:VideoSource/GlobalSceneChange/ImagingService",
        source={"Source": "VideoSource_1"},
        data={"State": "true"},
        state=True,
        time=at,
    )


async def test_an_event_comes_back_as_it_was_stored(repo: EventRepository) -> None:
    stored = await repo.add(motion("cam-1", T0, state=False))
    page = await repo.list()
    assert page.next is None
    assert page.events == (stored,)
    (only,) = page.events
    assert only.event == motion("cam-1", T0, state=False)
    assert only.event.time == T0
    assert only.event.time.tzinfo is not None
    assert only.to_json(include_payload=True) == {
        "id": stored.id,
        "camera": "cam-1",
        "kind": "motion",
        "topic": "VideoSource/MotionAlarm",
        "rawTopic": "tns1:VideoSource/MotionAlarm",
        "source": {"Source": "VideoSource_1"},
        "data": {"State": "false"},
        "state": False,
        "time": "2026-01-02T03:00:00Z",
        "propertyOperation": "Changed",
        "payloadXml": "<wsnt:NotificationMessage/>",
    }


async def test_an_event_without_time_is_stamped_with_the_clock(
    repo: EventRepository, clock: FakeClock
) -> None:
    stored = await repo.add(motion("cam-1", None))
    assert stored.event.time == clock.now()
    (listed,) = (await repo.list()).events
    assert listed.event.time == clock.now()


async def test_filters_by_camera_kind_and_time_range(repo: EventRepository) -> None:
    await repo.add_many(
        [
            motion("cam-1", T0),
            tamper("cam-1", T0 + timedelta(seconds=1)),
            motion("cam-2", T0 + timedelta(seconds=2)),
            motion("cam-1", T0 + timedelta(seconds=3)),
        ]
    )

    def summary(items: tuple[StoredEvent, ...]) -> list[tuple[str, str, int]]:
        return [
            (i.event.camera_id, i.event.kind.value, int((i.event.time - T0).total_seconds()))
            for i in items
            if i.event.time is not None
        ]

    everything = await repo.list()
    assert summary(everything.events) == [
        ("cam-1", "motion", 3),
        ("cam-2", "motion", 2),
        ("cam-1", "tamper", 1),
        ("cam-1", "motion", 0),
    ]
    assert summary((await repo.list(camera_ids=["cam-2"])).events) == [("cam-2", "motion", 2)]
    assert summary((await repo.list(kinds=[EventKind.TAMPER])).events) == [("cam-1", "tamper", 1)]
    ranged = await repo.list(since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3))
    assert summary(ranged.events) == [("cam-2", "motion", 2), ("cam-1", "tamper", 1)]
    # No grants: nothing, not everything.
    assert (await repo.list(camera_ids=[])).events == ()
    assert await repo.count() == 4


async def test_paging_returns_every_event_exactly_once_even_with_equal_times(
    repo: EventRepository,
) -> None:
    # 25 events, many sharing a second (cameras stamp whole seconds).
    events = [motion(f"cam-{i % 3}", T0 + timedelta(seconds=i // 4)) for i in range(25)]
    stored = await repo.add_many(events)
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await repo.list(limit=7, cursor=cursor)
        pages += 1
        seen += [item.id for item in page.events]
        if page.next is None:
            break
        cursor = page.next
        # Inserted while paging: newer than everything, so not on later pages.
        if pages == 1:
            await repo.add(motion("cam-9", T0 + timedelta(hours=1)))
    assert pages == 4
    assert sorted(seen) == sorted(item.id for item in stored)
    assert len(seen) == len(set(seen)) == 25
    # Newest first; equal times by descending id.
    expected = sorted(stored, key=lambda s: (s.event.time, s.id), reverse=True)
    assert seen == [item.id for item in expected]


async def test_paging_with_a_filter_and_an_exact_last_page(repo: EventRepository) -> None:
    await repo.add_many([motion("cam-1", T0 + timedelta(seconds=i)) for i in range(6)])
    await repo.add_many([motion("cam-2", T0 + timedelta(seconds=i)) for i in range(6)])
    first = await repo.list(camera_ids=["cam-2"], limit=3)
    assert first.next is not None
    second = await repo.list(camera_ids=["cam-2"], limit=3, cursor=first.next)
    assert second.next is None  # exactly 6: no empty third page
    ids = [e.id for e in first.events + second.events]
    assert len(set(ids)) == 6
    assert {e.event.camera_id for e in first.events + second.events} == {"cam-2"}


async def test_bad_cursors_and_limits_are_refused(repo: EventRepository) -> None:
    with pytest.raises(InvalidCursor, match="paging cursor 'nonsense' is not one this API"):
        await repo.list(cursor="nonsense")
    with pytest.raises(ValueError, match="limit must be 1 to 1000, got 0"):
        await repo.list(limit=0)
    cursor = encode_cursor(T0, 42)
    assert decode_cursor(cursor) == (T0, 42)
    naive = encode_cursor(datetime(2026, 1, 1), 1)
    with pytest.raises(InvalidCursor):
        decode_cursor(naive)


async def test_retention_deletes_rows_older_than_the_limit(
    repo: EventRepository, clock: FakeClock
) -> None:
    now = clock.now()
    await repo.add_many(
        [
            motion("cam-1", now - timedelta(days=40)),
            motion("cam-1", now - timedelta(days=31)),
            motion("cam-1", now - timedelta(days=29)),
            motion("cam-2", now - timedelta(hours=1)),
        ]
    )
    assert await repo.apply_retention(timedelta(days=30)) == 2
    left = (await repo.list()).events
    assert [
        round((now - e.event.time).total_seconds() / 86400)
        for e in left
        if e.event.time is not None
    ] == [0, 29]
    assert await repo.apply_retention(timedelta(days=30)) == 0
    clock.advance(2 * 86400)
    assert await repo.apply_retention(timedelta(days=30)) == 1
    assert await repo.count() == 1
