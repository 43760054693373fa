"""The ingest's metadata documents: fanned out beside the video, bounded, across reconnects
(scripted sources and a fake clock, no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from platonicam.media.ingest import IngestState
from platonicam.rtsp.errors import RtspConnectionError
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import AccessUnit
from tests.conftest import FakeClock
from tests.unit.media.test_ingest import Scripted, make, settle, unit, until


class WithMetadata(Scripted):
    """A scripted source with a metadata track: ``media()`` carries both kinds."""

    has_metadata = True

    async def media(self) -> AsyncIterator[object]:
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item

    async def access_units(self) -> AsyncIterator[AccessUnit]:  # pragma: no cover - not used
        raise AssertionError("a source with metadata is read through media()")
        yield


def doc(n: int) -> MetadataDocument:
    return MetadataDocument(xml=f"<doc n='{n}'/>".encode(), wallclock=1000.0 + n)


def put(source: Scripted, item: object) -> None:
    source.queue.put_nowait(item)  # type: ignore[arg-type]


async def test_documents_fan_out_beside_the_video(fake_clock: FakeClock) -> None:
    source = WithMetadata()
    ingest = make([source], fake_clock)
    assert ingest.has_metadata is None
    first, second = ingest.subscribe_metadata(), ingest.subscribe_metadata()
    units = ingest.subscribe()
    readers = [asyncio.ensure_future(anext(it)) for it in (first, second)]
    video = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    assert ingest.has_metadata is True
    put(source, doc(1))
    put(source, unit(0, keyframe=True))
    put(source, doc(2))
    assert [(await r).xml for r in readers] == [b"<doc n='1'/>"] * 2
    assert (await asyncio.wait_for(video, 1)).keyframe
    assert (await asyncio.wait_for(anext(first), 1)).xml == b"<doc n='2'/>"
    assert (await asyncio.wait_for(anext(second), 1)).wallclock == 1002.0
    assert ingest.metadata_documents == 2
    assert ingest.stats().access_units == 1  # documents are not video
    await ingest.close()
    # Closing ends every subscription.
    assert [d async for d in first] == []
    assert [d async for d in second] == []


async def test_a_slow_reader_loses_the_oldest_documents(fake_clock: FakeClock) -> None:
    source = WithMetadata()
    ingest = make([source], fake_clock, metadata_queue_size=2)
    documents = ingest.subscribe_metadata()
    reader = asyncio.ensure_future(anext(documents))
    await until(lambda: ingest.state is IngestState.LIVE)
    put(source, doc(0))
    assert (await asyncio.wait_for(reader, 1)).wallclock == 1000.0
    for n in range(1, 6):
        put(source, doc(n))
    await until(lambda: ingest.metadata_documents == 6)
    assert ingest.metadata_dropped == 3
    got = [(await anext(documents)).wallclock for _ in range(2)]
    assert got == [1004.0, 1005.0]
    await documents.aclose()
    await ingest.close()


async def test_documents_continue_across_a_reconnect(fake_clock: FakeClock) -> None:
    first, plain, third = WithMetadata(), Scripted(), WithMetadata()
    ingest = make([first, plain, third], fake_clock, stall_timeout=60.0)
    documents = ingest.subscribe_metadata()
    reader = asyncio.ensure_future(anext(documents))
    await until(lambda: ingest.state is IngestState.LIVE)
    put(first, doc(1))
    assert (await asyncio.wait_for(reader, 1)).wallclock == 1001.0
    put(first, RtspConnectionError("dropped"))
    await until(lambda: ingest.state is IngestState.RETRYING)
    fake_clock.advance(1.0)
    # Back, but now without a track (the camera's configuration changed): nothing to read.
    await until(lambda: ingest.state is IngestState.LIVE and ingest.has_metadata is False)
    put(plain, RtspConnectionError("dropped again"))
    await until(lambda: ingest.state is IngestState.RETRYING)
    fake_clock.advance(2.0)  # no video since the last drop: the backoff doubled
    await until(lambda: ingest.state is IngestState.LIVE and ingest.has_metadata is True)
    put(third, doc(3))
    assert (await asyncio.wait_for(anext(documents), 1)).wallclock == 1003.0
    await documents.aclose()
    await ingest.close()


async def test_a_metadata_reader_alone_keeps_the_camera_open(fake_clock: FakeClock) -> None:
    source = WithMetadata()
    ingest = make([source], fake_clock, idle_timeout=10.0, stall_timeout=60.0)
    documents = ingest.subscribe_metadata()
    reader = asyncio.ensure_future(anext(documents))
    await until(lambda: ingest.state is IngestState.LIVE)  # it opened the camera
    fake_clock.advance(30.0)
    await settle()
    assert ingest.state is IngestState.LIVE
    put(source, doc(1))
    await asyncio.wait_for(reader, 1)
    await documents.aclose()
    fake_clock.advance(10.0)
    await until(lambda: ingest.state is IngestState.IDLE)
    assert source.closed
    await ingest.close()


async def test_metadata_off_yields_nothing(fake_clock: FakeClock) -> None:
    ingest = make([WithMetadata()], fake_clock, metadata=False)
    assert [d async for d in ingest.subscribe_metadata()] == []
    assert ingest.state is IngestState.IDLE  # and it did not connect for it
    await ingest.close()
