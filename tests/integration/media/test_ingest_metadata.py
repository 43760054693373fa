"""The ingest's metadata track against our RTSP server on loopback: it rides the video's
connection, and a camera that refuses it still gets its video read."""

from __future__ import annotations

import asyncio
from typing import Any

from platonicam.device.metadata import SimulatedAnalytics
from platonicam.media.ingest import Ingest, IngestState
from platonicam.onvif.notification import parse_metadata_stream
from platonicam.rtsp.message import RtspResponse
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.server import METADATA_CONTROL, RtspServer
from tests.integration.media.test_ingest import closing, fast_backoff, pattern, take


class RefusesMetadata(RtspServer):
    """A camera that offers a metadata track in its SDP but answers its SETUP 461."""

    refused = 0

    async def _setup(self, connection: Any, request: Any, session: Any, reply: Any) -> RtspResponse:
        if request.uri.rstrip("/").endswith(METADATA_CONTROL):
            self.refused += 1
            response: RtspResponse = reply(461)
            return response
        return await super()._setup(connection, request, session, reply)


async def take_documents(ingest: Ingest, count: int, limit: float) -> list[MetadataDocument]:
    documents = ingest.subscribe_metadata()
    out: list[MetadataDocument] = []
    try:
        async with asyncio.timeout(limit):
            while len(out) < count:
                out.append(await anext(documents))
    finally:
        await documents.aclose()
    return out


async def test_metadata_rides_the_video_connection() -> None:
    stream = await pattern()
    analytics = SimulatedAnalytics(stream, rate=10)
    try:
        async with RtspServer() as server:
            server.mount("cam", stream, analytics)
            ingest = Ingest("cam-1", server.url("cam"), idle_timeout=0.3)
            async with closing(ingest):
                assert ingest.has_metadata is None  # not reached yet
                video = ingest.subscribe()
                reading = asyncio.ensure_future(take_documents(ingest, 4, 20))
                units = await take(video, 25, 20)
                documents = await reading
                assert ingest.has_metadata is True
                assert len(server.session_ids) == 1  # one connection carries both
                assert ingest.metadata_documents >= 4
                await video.aclose()
            # Metadata off: no track is asked for, and there is nothing to read.
            plain = Ingest("cam-2", server.url("cam"), metadata=False)
            async with closing(plain):
                video = plain.subscribe()
                await take(video, 5, 20)
                assert plain.has_metadata is False
                assert [d async for d in plain.subscribe_metadata()] == []
                await video.aclose()
    finally:
        analytics.close()
    assert units[0].keyframe
    for document in documents:
        [human] = parse_metadata_stream(document.xml).objects
        assert human.object_class == "Human"
    # PyAV mode has no metadata: its subscription ends at once, without connecting.
    pyav = Ingest("cam-3", "rtsp://127.0.0.1:9/none", mode="pyav")
    assert [d async for d in pyav.subscribe_metadata()] == []
    assert pyav.state is IngestState.IDLE
    await pyav.close()


async def test_a_refused_metadata_track_falls_back_to_video_only() -> None:
    stream = await pattern()
    analytics = SimulatedAnalytics(stream)
    try:
        async with RefusesMetadata() as server:
            server.mount("cam", stream, analytics)
            ingest = Ingest("cam-1", server.url("cam"), backoff=fast_backoff())
            async with closing(ingest):
                units = await take(ingest.subscribe(), 10, 30)
                assert ingest.state is IngestState.LIVE
                assert ingest.has_metadata is False
                assert server.refused == 1  # asked once, then video only
                assert ingest.stats().access_units >= 10
    finally:
        analytics.close()
    assert units[0].keyframe
