"""Events as the API returns them: stored pages, live messages, a camera's subscription."""

from __future__ import annotations

from datetime import datetime

from platonicam.events.model import Event
from platonicam.events.pullpoint import PullPointStatus
from platonicam.onvif.models.events import format_event_time
from platonicam.service.schemas.base import ApiModel
from platonicam.store.repositories.events import StoredEvent


class EventOut(ApiModel):
    """One normalized event; the same keys as the MQTT payload and the live feeds.

    ``id`` is the stored row's (``null`` on the live feeds, which do not wait
    for the database); ``time`` is ``xs:dateTime`` UTC text; ``payloadXml`` is
    the notification as received, only when asked for (``payload=true``).
    """

    id: int | None = None
    camera: str
    kind: str
    topic: str
    raw_topic: str
    source: dict[str, str]
    data: dict[str, str]
    state: bool | None
    time: str | None
    property_operation: str | None
    payload_xml: str | None = None

    @classmethod
    def of(cls, event: Event, *, id: int | None = None, payload: bool = False) -> EventOut:
        return cls(
            id=id,
            camera=event.camera_id,
            kind=event.kind.value,
            topic=event.topic,
            raw_topic=event.raw_topic,
            source=dict(event.source),
            data=dict(event.data),
            state=event.state,
            time=format_event_time(event.time) if event.time is not None else None,
            property_operation=(
                event.property_operation.value if event.property_operation is not None else None
            ),
            payload_xml=event.payload_xml if payload else None,
        )

    @classmethod
    def stored(cls, item: StoredEvent, *, payload: bool = False) -> EventOut:
        return cls.of(item.event, id=item.id, payload=payload)


class EventPageOut(ApiModel):
    """Newest first; pass ``next`` as ``cursor`` for the following page (``null``: last page)."""

    events: list[EventOut]
    next: str | None


class EventStatusOut(ApiModel):
    """A camera's event subscription: ``state`` is ``starting``, ``subscribed``,
    ``renewing``, ``retrying``, ``failed`` or ``stopped``; ``mode`` is ``pullpoint``
    or ``push`` (``null`` until chosen); counters since the service started
    (``pulls`` for PullPoint, ``notifies`` for push); ``terminationTime`` on the
    camera's clock."""

    camera_id: str
    state: str
    mode: str | None = None
    subscriptions: int
    renewals: int
    pulls: int
    notifies: int = 0
    events: int
    duplicates: int
    malformed: int
    failures: int
    last_error: str | None
    absolute_termination: bool
    termination_time: datetime | None

    @classmethod
    def of(cls, status: PullPointStatus) -> EventStatusOut:
        return cls(
            camera_id=status.camera_id,
            state=status.state.value,
            mode=status.mode,
            subscriptions=status.subscriptions,
            renewals=status.renewals,
            pulls=status.pulls,
            notifies=status.notifies,
            events=status.events,
            duplicates=status.duplicates,
            malformed=status.malformed,
            failures=status.failures,
            last_error=status.last_error,
            absolute_termination=status.absolute_termination,
            termination_time=status.termination_time,
        )
