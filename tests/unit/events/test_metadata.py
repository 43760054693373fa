"""Analytics metadata: objects kept per camera for overlays, events carried in the track."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from platonicam.events.metadata import MetadataTracker, TrackedObject
from platonicam.events.model import EventKind
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import PropertyOperation
from tests.corpus import CORPUS

T0 = datetime(2026, 4, 1, 10, 0, 0, tzinfo=UTC)

# Two objects in pixel-like coordinates with a frame transformation (the form the
# Analytics spec's examples use): x' = -1 + 0.01 x, y' = 1 - 0.02 y for a
# 200 x 100 image.
FRAME = b"""<?xml version="1.0" encoding="UTF-8"?>
<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">
 <tt:VideoAnalytics>
  <tt:Frame UtcTime="2026-04-01T10:00:00.500Z" Source="VideoSource_1">
   <tt:Transformation><tt:Translate x="-1.0" y="1.0"/>
    <tt:Scale x="0.01" y="-0.02"/></tt:Transformation>
   <tt:Object ObjectId="7">
    <tt:Appearance>
     <tt:Shape><tt:BoundingBox left="20.0" top="30.0" right="60.0" bottom="80.0"/>
      <tt:CenterOfGravity x="40.0" y="55.0"/></tt:Shape>
     <tt:Class><tt:Type Likelihood="0.91">Human</tt:Type>
      <tt:Type Likelihood="0.2">Animal</tt:Type></tt:Class>
    </tt:Appearance>
   </tt:Object>
   <tt:Object ObjectId="9">
    <tt:Appearance><tt:Class><tt:Type Likelihood="0.6">Umbrella</tt:Type></tt:Class></tt:Appearance>
   </tt:Object>
  </tt:Frame>
 </tt:VideoAnalytics>
</tt:MetadataStream>\x00\x00"""

LATER = b"""<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema"><tt:VideoAnalytics>
 <tt:Frame UtcTime="2026-04-01T10:00:01.900Z"><tt:Object ObjectId="9">
  <tt:Appearance><tt:Class><tt:Type Likelihood="0.7">Umbrella</tt:Type></tt:Class></tt:Appearance>
 </tt:Object></tt:Frame></tt:VideoAnalytics></tt:MetadataStream>"""


def test_objects_with_class_confidence_and_normalised_box() -> None:
    tracker = MetadataTracker()
    update = tracker.feed("cam-1", FRAME, received=T0)
    seen = datetime(2026, 4, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert update.time == seen
    assert update.events == ()
    person, other = update.objects
    assert (person.object_id, person.object_class, person.kind) == (7, "Human", EventKind.PERSON)
    assert (person.likelihood, person.parent_id, person.seen) == (0.91, None, seen)
    assert other == TrackedObject(9, "Umbrella", None, 0.6, None, None, seen)
    box = update.objects[0].box
    assert box is not None
    assert (box.left, box.top, box.right, box.bottom) == pytest.approx((-0.8, 0.4, -0.4, -0.6))


def test_objects_expire_after_ttl_and_cameras_are_separate() -> None:
    tracker = MetadataTracker(ttl=timedelta(seconds=1))
    tracker.feed("cam-1", FRAME, received=T0)
    update = tracker.feed("cam-1", LATER, received=T0 + timedelta(seconds=2))
    # Object 7 was last seen at 10:00:00.5, more than 1 s before 10:00:02.
    assert [(o.object_id, o.likelihood) for o in update.objects] == [(9, 0.7)]
    assert tracker.objects("cam-2", now=T0) == ()
    assert tracker.objects("cam-1", now=T0 + timedelta(seconds=10)) == ()
    tracker.feed("cam-1", FRAME, received=T0)
    tracker.forget("cam-1")
    assert tracker.objects("cam-1", now=T0) == ()


def test_events_in_the_metadata_track_are_normalized() -> None:
    data = (CORPUS / "events/axis_unknown_MetadataStream-pir-change.xml").read_bytes()
    update = MetadataTracker().feed("axis-1", data, received=T0)
    assert update.objects == ()
    assert update.time == T0  # an event-only document has no frame time
    [event] = update.events
    assert (event.camera_id, event.kind, event.state) == ("axis-1", EventKind.MOTION, True)
    assert event.property_operation is PropertyOperation.CHANGED
    assert event.payload_xml is not None
    assert event.payload_xml.startswith("<wsnt:NotificationMessage")


def test_unreadable_document_is_counted_and_keeps_objects() -> None:
    tracker = MetadataTracker()
    tracker.feed("cam-1", FRAME, received=T0)
    with pytest.raises(RemoteProtocolError, match="expected tt:MetadataStream, got <Frame>"):
        tracker.feed(
            "cam-1", b"<tt:Frame xmlns:tt='http://www.onvif.org/ver10/schema'/>", received=T0
        )
    assert tracker.malformed == 1
    assert [o.object_id for o in tracker.objects("cam-1", now=T0)] == [7, 9]
