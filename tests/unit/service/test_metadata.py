"""The service's metadata: objects per camera on the camera's clock, live readers, events
to the bus, unreadable documents skipped; and the JSON the API answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from platonicam.device.metadata import metadata_document
from platonicam.events.bus import EventBus
from platonicam.events.model import EventKind
from platonicam.media.gateway import Gateway
from platonicam.onvif.models.events import BoundingBox
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.service.metadata import ClockSkew, MetadataService
from platonicam.service.schemas.metadata import MetadataOut
from tests.conftest import FakeClock
from tests.corpus import CORPUS

BOX = BoundingBox(left=-0.5, top=0.5, right=0.25, bottom=-0.25)


async def no_feed(camera_id: str) -> object:  # pragma: no cover - nothing is opened here
    raise AssertionError("the gateway is not used by these tests")


def service(clock: FakeClock, bus: EventBus | None = None) -> MetadataService:
    return MetadataService(Gateway(no_feed), bus=bus, clock=clock)  # type: ignore[arg-type]


def document(at: datetime, object_id: int = 1, likelihood: float = 0.9) -> bytes:
    return metadata_document(BOX, utc_time=at, likelihood=likelihood, object_id=object_id)


def test_clock_skew_maps_our_time_to_the_cameras() -> None:
    skew = ClockSkew()
    ours = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert skew.camera_time(ours) == ours
    skew.observe(ours - timedelta(hours=1), ours)
    assert skew.offset == timedelta(hours=-1)
    assert skew.camera_time(ours + timedelta(seconds=5)) == ours - timedelta(minutes=59, seconds=55)


def test_objects_expire_after_the_ttl(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)
    snapshot = metadata.take("cam", document(fake_clock.now()))
    assert snapshot is not None
    [item] = snapshot.objects
    assert (item.object_id, item.object_class, item.kind, item.likelihood, item.box) == (
        1,
        "Human",
        EventKind.PERSON,
        0.9,
        BOX,
    )
    assert (snapshot.documents, snapshot.malformed, snapshot.time) == (1, 0, fake_clock.now())
    fake_clock.advance(1.5)
    assert len(metadata.snapshot("cam").objects) == 1
    fake_clock.advance(1.0)
    assert metadata.snapshot("cam").objects == ()
    assert metadata.snapshot("other").objects == ()


def test_a_camera_clock_far_behind_ours_keeps_its_objects(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)
    behind = timedelta(hours=1)
    # The first document's frame looks an hour old: it teaches us the camera's clock.
    metadata.take("cam", document(fake_clock.now() - behind))
    fake_clock.advance(0.2)
    snapshot = metadata.take("cam", document(fake_clock.now() - behind, object_id=2))
    assert snapshot is not None
    assert [o.object_id for o in snapshot.objects] == [2]
    fake_clock.advance(1.5)
    assert [o.object_id for o in metadata.snapshot("cam").objects] == [2]
    fake_clock.advance(1.0)
    assert metadata.snapshot("cam").objects == ()


def test_unreadable_documents_are_counted_and_skipped(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)
    metadata.take("cam", document(fake_clock.now()))
    for junk in (b"", b"\xff\xfe<", b"<a/>", b"<tt:MetadataStream xmlns:tt='x'"):
        assert metadata.take("cam", junk) is None
    snapshot = metadata.snapshot("cam")
    assert (snapshot.documents, snapshot.malformed, len(snapshot.objects)) == (5, 4, 1)


async def test_events_in_the_track_go_to_the_bus(fake_clock: FakeClock) -> None:
    bus = EventBus()
    metadata = service(fake_clock, bus)
    subscription = bus.subscribe()
    data = (CORPUS / "events/axis_unknown_MetadataStream-pir-change.xml").read_bytes()
    snapshot = metadata.take("axis", data)
    assert snapshot is not None
    assert snapshot.events == 1
    event = subscription.get_nowait()
    assert event is not None
    assert (event.camera_id, event.kind, event.state) == ("axis", EventKind.MOTION, True)


async def test_listeners_get_each_snapshot_and_the_end(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)

    async def documents() -> AsyncIterator[MetadataDocument]:
        for n in range(3):
            yield MetadataDocument(document(fake_clock.now(), object_id=n), 0.0)

    with metadata.listen("cam") as listener, metadata.listen("other") as unrelated:
        await metadata.consume("cam", documents())
        got = [await listener.get(timeout=1) for _ in range(4)]
        assert [[o.object_id for o in s.objects] for s in got if s is not None] == [
            [0],
            [0, 1],
            [0, 1, 2],
            [],  # the stream closed: its objects are forgotten
        ]
        try:
            await unrelated.get(timeout=0.01)
        except TimeoutError:
            pass
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError("a reader of another camera got this camera's snapshot")
        await metadata.aclose()
        assert await listener.get(timeout=1) is None  # the service stopped


async def test_a_slow_listener_keeps_the_newest(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)
    with metadata.listen("cam") as listener:
        for n in range(12):
            metadata.take("cam", document(fake_clock.now(), object_id=n))
        assert listener.dropped == 4
        kept = [await listener.get(timeout=1) for _ in range(8)]
    assert [len(s.objects) for s in kept if s is not None] == list(range(5, 13))


def test_the_json_the_api_answers(fake_clock: FakeClock) -> None:
    metadata = service(fake_clock)
    snapshot = metadata.take("cam", document(fake_clock.now(), object_id=7, likelihood=0.93))
    assert snapshot is not None
    body = MetadataOut.of(snapshot, state="live", has_track=True).model_dump(mode="json")
    assert body == {
        "cameraId": "cam",
        "state": "live",
        "hasTrack": True,
        "time": "2026-01-02T03:04:05Z",
        "documents": 1,
        "malformed": 0,
        "events": 0,
        "objects": [
            {
                "id": 7,
                "class": "Human",
                "kind": "person",
                "confidence": 0.93,
                "box": {"left": -0.5, "top": 0.5, "right": 0.25, "bottom": -0.25},
                "parentId": None,
                "lastSeen": "2026-01-02T03:04:05Z",
            }
        ],
    }
