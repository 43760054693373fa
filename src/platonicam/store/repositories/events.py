"""Stored camera events: append in batches, list with keyset paging, delete by age.

Strategy for paging: events are listed newest first, ordered by ``(time, id)``
descending. A page's ``next`` cursor names the last row it returned, and the
next page starts strictly after that pair, so paging never repeats or skips a
row, whatever is inserted or deleted meanwhile (an offset would shift under
inserts). ``id`` breaks ties: cameras stamp whole seconds, and many events of
one burst share a ``time``. The cursor is opaque to clients: URL-safe base64 of
``<time ISO 8601>|<id>``.

Events of cameras that were deleted stay until the retention removes them,
like the audit log, so what happened before a camera was removed stays readable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from platonicam.clock import Clock
from platonicam.events.model import Event, EventKind, JsonValue
from platonicam.onvif.models.events import PropertyOperation
from platonicam.store.tables import EventRow

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "EventPage",
    "EventRepository",
    "InvalidCursor",
    "StoredEvent",
    "decode_cursor",
    "encode_cursor",
]

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
#: Column limits of ``events``: longer topics are cut rather than refused (the
#: full text is still in ``payload``).
_TOPIC_LIMIT: Final = 512


class InvalidCursor(ValueError):
    """A paging cursor that this repository did not write (or that was altered)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: its row ``id`` and the normalized :class:`Event`."""

    id: int
    event: Event

    def to_json(self, *, include_payload: bool = False) -> dict[str, JsonValue]:
        """:meth:`Event.to_json` with ``id`` first (the API's and the live feeds' shape)."""
        return {"id": self.id, **self.event.to_json(include_payload=include_payload)}


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page, newest first; ``next`` is the cursor of the following page, or ``None``."""

    events: tuple[StoredEvent, ...]
    next: str | None


def encode_cursor(time: datetime, row_id: int) -> str:
    """The opaque cursor naming the row ``(time, row_id)``."""
    raw = f"{time.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """``(time, id)`` of a cursor from :func:`encode_cursor`; :class:`InvalidCursor` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        stamp, sep, number = raw.rpartition("|")
        if not sep:
            raise ValueError("no separator")
        time = datetime.fromisoformat(stamp)
        row_id = int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(f"paging cursor {cursor!r} is not one this API returned") from None
    if time.tzinfo is None:
        raise InvalidCursor(f"paging cursor {cursor!r} is not one this API returned")
    return time, row_id


class EventRepository:
    """The ``events`` table. Each method is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def add(self, event: Event) -> StoredEvent:
        """Store one event; see :meth:`add_many`."""
        return (await self.add_many([event]))[0]

    async def add_many(self, events: Sequence[Event]) -> list[StoredEvent]:
        """Store ``events`` in one transaction, in order; returns them with their ids.

        An event without a time is stamped with the clock's now (and returned so).
        """
        rows = [self._row(event) for event in events]
        if not rows:
            return []
        async with self._sessions.begin() as session:
            session.add_all(rows)
            await session.flush()
            return [_stored(row, event) for row, event in zip(rows, events, strict=True)]

    def _row(self, event: Event) -> EventRow:
        source: dict[str, JsonValue] = dict(event.source)
        data: dict[str, JsonValue] = dict(event.data)
        return EventRow(
            camera_id=event.camera_id,
            kind=event.kind.value,
            topic=event.topic[:_TOPIC_LIMIT],
            raw_topic=event.raw_topic[:_TOPIC_LIMIT],
            state=event.state,
            property_operation=(
                event.property_operation.value if event.property_operation is not None else None
            ),
            source=source,
            data=data,
            time=event.time if event.time is not None else self._clock.now(),
            payload=event.payload_xml,
        )

    async def list(
        self,
        *,
        camera_ids: Iterable[str] | None = None,
        kinds: Iterable[EventKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> EventPage:
        """Events newest first, filtered, one page of at most ``limit`` (1..1000).

        ``camera_ids`` ``None`` means every camera; an empty collection matches
        nothing (a viewer without grants). ``since`` is inclusive, ``until``
        exclusive. ``cursor`` continues from a previous page's ``next``; raises
        :class:`InvalidCursor` for one this repository did not write and
        :class:`ValueError` for a ``limit`` out of range.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1 to {MAX_PAGE_SIZE}, got {limit}")
        query = select(EventRow).order_by(EventRow.time.desc(), EventRow.id.desc())
        if camera_ids is not None:
            wanted = sorted(set(camera_ids))
            if not wanted:
                return EventPage((), None)
            query = query.where(EventRow.camera_id.in_(wanted))
        if kinds is not None:
            names = sorted({kind.value for kind in kinds})
            if not names:
                return EventPage((), None)
            query = query.where(EventRow.kind.in_(names))
        if since is not None:
            query = query.where(EventRow.time >= since)
        if until is not None:
            query = query.where(EventRow.time < until)
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    EventRow.time < after_time,
                    and_(EventRow.time == after_time, EventRow.id < after_id),
                )
            )
        async with self._sessions() as session:
            rows = list((await session.scalars(query.limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        events = tuple(_stored(row, _event(row)) for row in rows)
        last = rows[-1] if rows else None
        return EventPage(events, encode_cursor(last.time, last.id) if more and last else None)

    async def count(self) -> int:
        """How many events are stored."""
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(EventRow))
        return int(total or 0)

    async def delete_older_than(self, cutoff: datetime) -> int:
        """Delete events whose ``time`` is before ``cutoff``; returns how many went."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(EventRow).where(EventRow.time < cutoff))
        deleted: int = getattr(result, "rowcount", 0) or 0
        return deleted

    async def apply_retention(self, keep: timedelta) -> int:
        """Delete events older than ``keep`` before the clock's now; returns the count."""
        return await self.delete_older_than(self._clock.now() - keep)


def _stored(row: EventRow, event: Event) -> StoredEvent:
    if event.time is None or event.time != row.time:
        event = Event(
            camera_id=event.camera_id,
            kind=event.kind,
            topic=event.topic,
            raw_topic=event.raw_topic,
            source=event.source,
            data=event.data,
            state=event.state,
            time=row.time,
            property_operation=event.property_operation,
            payload_xml=event.payload_xml,
        )
    return StoredEvent(row.id, event)


def _strings(value: dict[str, JsonValue]) -> dict[str, str]:
    return {str(key): item if isinstance(item, str) else str(item) for key, item in value.items()}


def _kind(value: str) -> EventKind:
    try:
        return EventKind(value)
    except ValueError:
        # A kind a newer version wrote (a downgrade): show it as "other".
        return EventKind.OTHER


def _event(row: EventRow) -> Event:
    operation = None
    if row.property_operation is not None:
        try:
            operation = PropertyOperation(row.property_operation)
        except ValueError:
            operation = None
    return Event(
        camera_id=row.camera_id,
        kind=_kind(row.kind),
        topic=row.topic,
        raw_topic=row.raw_topic,
        source=_strings(row.source or {}),
        data=_strings(row.data or {}),
        state=row.state,
        time=row.time,
        property_operation=operation,
        payload_xml=row.payload,
    )
