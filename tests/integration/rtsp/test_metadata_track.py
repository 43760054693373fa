"""Our RTSP server's optional metadata track, read by our client over TCP and UDP on loopback."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator

import pytest

from platonicam.rtsp.client import RtspClient, TransportMode
from platonicam.rtsp.errors import RtspError, RtspStatusError
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import VideoCodec
from tests.integration.rtsp.pattern import PatternStream


class CountingSource:
    """Documents numbered 0, 1, 2... every 50 ms; the 3rd is larger than one RTP packet."""

    def __init__(self) -> None:
        self.subscriptions = 0

    def xml(self, n: int) -> bytes:
        padding = b"<tt:VideoAnalytics/>" * (300 if n % 3 == 2 else 0)
        return (
            b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">'
            + padding
            + f"<!-- {n} --></tt:MetadataStream>".encode()
        )

    async def subscribe(self) -> AsyncGenerator[MetadataDocument, None]:
        self.subscriptions += 1
        n = 0
        while True:
            yield MetadataDocument(self.xml(n), wallclock=time.time())
            n += 1
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_documents_arrive_whole_and_in_order(transport: TransportMode) -> None:
    source = CountingSource()
    async with RtspServer(max_payload=1000) as server:
        server.mount("cam", PatternStream(VideoCodec.H264), source)
        async with RtspClient(server.url("cam"), transport=transport, metadata=True) as client:
            assert [t.kind for t in client.handshake.tracks] == ["video", "metadata"]
            got: list[MetadataDocument] = []
            async for document in client.metadata_documents():
                got.append(document)
                if len(got) == 6:
                    break
    assert source.subscriptions == 1
    # Consecutive, whole documents (one in three spans several packets).
    first = int(got[0].xml.rsplit(b"<!-- ", 1)[1].split(b" ")[0])
    assert [d.xml for d in got] == [source.xml(first + i) for i in range(6)]
    assert max(len(d.xml) for d in got) > 6000
    # 50 ms apart on the 90 kHz clock, and on the sender's wall clock.
    steps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(got)]
    assert all(4000 <= s <= 6500 for s in steps), steps
    assert got[0].wallclock == pytest.approx(time.time(), abs=2.0)


async def test_a_mount_without_metadata_offers_no_track() -> None:
    async with RtspServer() as server:
        server.mount("cam", PatternStream(VideoCodec.H264))
        async with RtspClient(server.url("cam"), metadata=True) as client:
            assert not client.has_metadata
            with pytest.raises(RtspError, match="no metadata track"):
                await anext(client.metadata_documents())
        # Asking for the track by its control name anyway is a 404.
        raw = RtspClient(server.url("cam") + "/trackID=1")
        with pytest.raises(RtspStatusError) as caught:
            async with raw:
                pass
        assert caught.value.status == 404
