"""Analytics metadata as the API shows it: a camera's objects now, for overlays."""

from __future__ import annotations

from pydantic import Field

from platonicam.events.metadata import TrackedObject
from platonicam.onvif.models.events import format_event_time
from platonicam.service.metadata import MetadataSnapshot
from platonicam.service.schemas.base import ApiModel


class BoxOut(ApiModel):
    """A bounding box in ONVIF's normalised coordinates: -1..1 on both axes, ``x``
    to the right and ``y`` up (``top`` > ``bottom``). On a picture ``w`` x ``h``
    pixels, ``x`` is at ``(x + 1) / 2 * w`` and ``y`` at ``(1 - y) / 2 * h``."""

    left: float
    top: float
    right: float
    bottom: float


class ObjectOut(ApiModel):
    """One object the camera's analytics sees.

    ``id`` is the camera's ``ObjectId``; ``class`` the class it named (``Human``,
    ``Vehicle``...) and ``kind`` ours for it (``person``, ``vehicle``... or
    ``null``); ``confidence`` 0..1; ``lastSeen`` the camera's time of the last
    document mentioning it (``xs:dateTime`` UTC).
    """

    id: int
    object_class: str | None = Field(validation_alias="class", serialization_alias="class")
    kind: str | None
    confidence: float | None
    box: BoxOut | None
    parent_id: int | None
    last_seen: str

    @classmethod
    def of(cls, item: TrackedObject) -> ObjectOut:
        box = item.box
        return cls(
            id=item.object_id,
            object_class=item.object_class,
            kind=item.kind.value if item.kind is not None else None,
            confidence=item.likelihood,
            box=(
                BoxOut(left=box.left, top=box.top, right=box.right, bottom=box.bottom)
                if box is not None
                else None
            ),
            parent_id=item.parent_id,
            last_seen=format_event_time(item.seen),
        )


class MetadataOut(ApiModel):
    """A camera's analytics objects now (those mentioned in the last two seconds).

    ``state`` is its stream's (``idle``, ``connecting``, ``live``, ``retrying``,
    ``failed``); ``hasTrack`` whether the camera sends a metadata track (``null``
    until it was reached); ``time`` the camera's time of the last document read;
    ``documents``, ``malformed`` (unreadable, skipped) and ``events`` count what
    the track brought since the service started.
    """

    camera_id: str
    state: str
    has_track: bool | None
    time: str | None
    documents: int
    malformed: int
    events: int
    objects: list[ObjectOut]

    @classmethod
    def of(cls, snapshot: MetadataSnapshot, *, state: str, has_track: bool | None) -> MetadataOut:
        return cls(
            camera_id=snapshot.camera_id,
            state=state,
            has_track=has_track,
            time=format_event_time(snapshot.time) if snapshot.time is not None else None,
            documents=snapshot.documents,
            malformed=snapshot.malformed,
            events=snapshot.events,
            objects=[ObjectOut.of(item) for item in snapshot.objects],
        )
