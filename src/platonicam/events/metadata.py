"""Analytics metadata from the RTSP metadata track: objects per camera, for overlays.

Each metadata access unit is one ``tt:MetadataStream`` document, read by
:func:`platonicam.onvif.notification.parse_metadata_stream` (boxes already in
ONVIF's normalised -1..1 coordinates, ``y`` up). :class:`MetadataTracker`
keeps, per camera, the objects the frames describe, and hands back the events
a document carries (Axis puts its event notifications in the same track:
corpus ``events/axis_unknown_MetadataStream-*.xml``) as normalized events.

Strategy for object lifetime: cameras differ in whether a frame lists every
object in the scene or only the ones that changed, and few send an explicit
removal. So objects are merged by ``ObjectId`` and an object disappears when no
frame has mentioned it for ``ttl`` (2 s by default, several frames at any
usual metadata rate). Overlays then fade stale boxes instead of freezing them.

Pure: no I/O, no event loop; the caller passes the receive time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from platonicam.events.model import Event, EventKind
from platonicam.events.notification import read_notifications
from platonicam.events.parsers.generic import CLASS_KINDS
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import BoundingBox, MetadataObject
from platonicam.onvif.notification import parse_metadata_stream
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import children

__all__ = ["MetadataTracker", "MetadataUpdate", "TrackedObject"]


@dataclass(frozen=True, slots=True)
class TrackedObject:
    """One object on screen: its class (as the camera named it, and as an
    :class:`EventKind` when we know the class), confidence 0..1, normalised box,
    and when a frame last mentioned it (frame time, else receive time)."""

    object_id: int
    object_class: str | None
    kind: EventKind | None
    likelihood: float | None
    box: BoundingBox | None
    parent_id: int | None
    seen: datetime

    @classmethod
    def from_metadata(cls, item: MetadataObject, seen: datetime) -> TrackedObject:
        name = item.object_class
        return cls(
            object_id=item.object_id,
            object_class=name,
            kind=CLASS_KINDS.get(name.lower()) if name is not None else None,
            likelihood=item.likelihood,
            box=item.box,
            parent_id=item.parent_id,
            seen=seen,
        )


@dataclass(frozen=True, slots=True)
class MetadataUpdate:
    """What one document changed: the camera's objects after it (by id), and
    the normalized events it carried."""

    camera_id: str
    time: datetime
    objects: tuple[TrackedObject, ...]
    events: tuple[Event, ...] = ()


class MetadataTracker:
    """Objects per camera, fed one ``tt:MetadataStream`` document at a time.

    ``malformed`` counts documents :meth:`feed` refused.
    """

    def __init__(
        self, *, ttl: timedelta = timedelta(seconds=2), registry: TopicRegistry | None = None
    ) -> None:
        self.ttl = ttl
        self._registry = registry
        self._objects: dict[str, dict[int, TrackedObject]] = {}
        self.malformed = 0

    def feed(self, camera_id: str, data: bytes, *, received: datetime) -> MetadataUpdate:
        """Take one metadata access unit from ``camera_id``.

        Objects are stamped with the frame's ``UtcTime`` (``received`` when it
        has none). Raises :class:`RemoteProtocolError` (and counts it) when the
        payload is not a readable ``tt:MetadataStream``; the objects kept so far
        stay as they were.
        """
        try:
            frame = parse_metadata_stream(data)
        except RemoteProtocolError:
            self.malformed += 1
            raise
        stamp = frame.utc_time or received
        known = self._objects.setdefault(camera_id, {})
        for item in frame.objects:
            known[item.object_id] = TrackedObject.from_metadata(item, stamp)
        events: tuple[Event, ...] = ()
        if frame.events:
            # Read again for the events' own XML (payload_xml), one message at a time.
            root = parse_xml(data.rstrip(b"\x00 \t\r\n"), operation="MetadataStream")
            found: list[Event] = []
            for block in children(root, "Event"):
                batch = read_notifications(
                    block, camera_id=camera_id, received=received, registry=self._registry
                )
                found.extend(batch.events)
            events = tuple(found)
        return MetadataUpdate(
            camera_id=camera_id,
            time=stamp,
            objects=self.objects(camera_id, now=max(stamp, received)),
            events=events,
        )

    def objects(self, camera_id: str, *, now: datetime) -> tuple[TrackedObject, ...]:
        """The camera's objects mentioned within ``ttl`` before ``now``, by id
        (older ones are forgotten)."""
        known = self._objects.get(camera_id)
        if not known:
            return ()
        horizon = now - self.ttl
        for object_id in [i for i, o in known.items() if o.seen < horizon]:
            del known[object_id]
        return tuple(known[i] for i in sorted(known))

    def forget(self, camera_id: str) -> None:
        """Drop everything kept for ``camera_id`` (its stream ended)."""
        self._objects.pop(camera_id, None)
