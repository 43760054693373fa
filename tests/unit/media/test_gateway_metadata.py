"""The gateway hands each open camera's metadata documents to the service's consumer, for
as long as the camera's hub is open; a holder keeps the hub from the idle reaper
(scripted sources and a fake clock, no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from platonicam.media.gateway import Feed, Gateway
from platonicam.media.ingest import Ingest, IngestState
from platonicam.rtsp.metadata import MetadataDocument
from tests.conftest import FakeClock
from tests.unit.media.test_ingest import Scripted, make, settle, until
from tests.unit.media.test_ingest_metadata import WithMetadata, doc, put


class Consumer:
    def __init__(self) -> None:
        self.got: list[tuple[str, float]] = []
        self.ended: list[str] = []

    async def __call__(self, camera_id: str, documents: AsyncIterator[MetadataDocument]) -> None:
        try:
            async for document in documents:
                self.got.append((camera_id, document.wallclock))
        finally:
            self.ended.append(camera_id)


def gateway_of(sources: dict[str, Scripted], clock: FakeClock) -> Gateway:
    async def opener(camera_id: str) -> Feed:
        ingest: Ingest = make([sources[camera_id]], clock, stall_timeout=1e6)
        return ingest

    return Gateway(opener, clock=clock, idle_timeout=30.0, poll_interval=3600)


async def test_documents_reach_the_consumer_while_the_hub_is_open(fake_clock: FakeClock) -> None:
    source, plain = WithMetadata(), Scripted()
    gateway = gateway_of({"a": source, "b": plain}, fake_clock)
    consumer = Consumer()
    await gateway.set_metadata_consumer(consumer)
    assert gateway.metadata_track("a") is None  # not open
    await gateway.hub("a")
    await gateway.hub("b")
    assert await gateway.wait_live("a", 5) is IngestState.LIVE
    assert await gateway.wait_live("b", 5) is IngestState.LIVE
    assert (gateway.metadata_track("a"), gateway.metadata_track("b")) == (True, False)
    put(source, doc(1))
    await until(lambda: consumer.got == [("a", 1001.0)])

    # A holder (a metadata socket) keeps the hub open past its idle period...
    with gateway.hold("a"):
        fake_clock.advance(60.0)
        assert await gateway.reap() == ["b"]
    # ...which starts when the last holder leaves.
    fake_clock.advance(29.0)
    assert await gateway.reap() == []
    fake_clock.advance(1.0)
    assert await gateway.reap() == ["a"]
    assert sorted(consumer.ended) == ["a", "b"]
    assert gateway.metadata_track("a") is None
    await gateway.aclose()


async def test_a_consumer_set_later_takes_the_open_cameras(fake_clock: FakeClock) -> None:
    source = WithMetadata()
    gateway = gateway_of({"a": source}, fake_clock)
    await gateway.hub("a")
    assert await gateway.wait_live("a", 5) is IngestState.LIVE
    put(source, doc(1))  # nobody takes it
    await until(lambda: source.queue.empty())
    consumer = Consumer()
    await gateway.set_metadata_consumer(consumer)
    await settle()  # its task subscribes on its first turn
    put(source, doc(2))
    await until(lambda: consumer.got == [("a", 1002.0)])
    await gateway.set_metadata_consumer(None)
    assert consumer.ended == ["a"]
    put(source, doc(3))
    await until(lambda: source.queue.empty())
    assert consumer.got == [("a", 1002.0)]
    await gateway.aclose()
