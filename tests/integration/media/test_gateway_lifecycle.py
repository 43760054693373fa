"""The gateway's life cycle against a real RTSP server on loopback: one feed for many viewers,
idle close, always-on, a failed camera, a camera that drops and returns."""

from __future__ import annotations

import asyncio

from platonicam.device.source import EncoderSettings, TestPatternStream
from platonicam.media.gateway import Feed, FeedOpener, Gateway
from platonicam.media.hub import Epoch, MediaPart
from platonicam.media.ingest import Backoff, Ingest
from platonicam.media.mse import stream_mse
from platonicam.rtsp.client import RtspCredentials
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import VideoCodec
from tests.integration.rtsp.conftest import wait_until
from tests.unit.media.test_mse import RecordingSink

PASSWORD = "gateway-s3cret"


async def pattern(gop: int = 25) -> TestPatternStream:
    settings = EncoderSettings(VideoCodec.H264, 320, 180, 25.0, 300, gop)
    return await TestPatternStream.create(settings, f"gateway {gop}")


def opener_for(server: RtspServer, password: str = PASSWORD) -> tuple[list[str], FeedOpener]:
    opened: list[str] = []

    async def open_feed(camera_id: str) -> Feed:
        opened.append(camera_id)
        return Ingest(
            camera_id,
            server.url(camera_id),
            RtspCredentials("admin", password),
            timeout=2,
            backoff=Backoff(initial=0.1, factor=2.0, cap=0.5, jitter=0.1),
        )

    return opened, open_feed


async def test_viewers_share_one_feed_and_an_idle_hub_closes() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam-a", stream)
        opened, open_feed = opener_for(server)
        gateway = Gateway(open_feed, idle_timeout=0.5, poll_interval=0.1)
        async with gateway:
            hubs = await asyncio.gather(*(gateway.hub("cam-a") for _ in range(5)))
            assert all(hub is hubs[0] for hub in hubs)
            assert opened == ["cam-a"]
            hub = hubs[0]
            await hub.wait_ready(15)
            sinks = [RecordingSink() for _ in range(3)]
            sessions = [asyncio.create_task(stream_mse(hub, sink, limit=10)) for sink in sinks]
            done = await asyncio.wait_for(asyncio.gather(*sessions), 30)
            assert len(server.session_ids) == 1  # one RTSP session for every viewer
            stats = gateway.stats("cam-a")
            assert stats.state == "live"
            assert stats.muxed == stats.parts
            assert stats.width == 320
            assert stats.bytes_out == sum(session.bytes_sent for session in done)
            assert all(session.parts == 10 for session in done)
            # Nobody left: the hub closes after the idle timeout and the camera is released.
            await wait_until(lambda: gateway.opened("cam-a") is None, 10)
            await wait_until(lambda: server.session_ids == frozenset(), 10)
            assert gateway.stats("cam-a").state == "idle"
            # The next viewer opens it again.
            again = await gateway.hub("cam-a")
            assert again is not hub
            # Let it connect: closing an ingest in the middle of its RTSP handshake is
            # the ingest's business, not this test's.
            await again.wait_ready(15)
            assert opened == ["cam-a", "cam-a"]


async def test_always_on_cameras_open_at_start_and_stay() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam-b", stream)
        opened, open_feed = opener_for(server)
        gateway = Gateway(
            open_feed,
            idle_timeout=0.2,
            poll_interval=0.05,
            always_on=["cam-b"],
        )
        async with gateway:
            assert opened == ["cam-b"]
            hub = gateway.opened("cam-b")
            assert hub is not None
            await hub.wait_ready(15)
            await asyncio.sleep(0.5)
            assert gateway.opened("cam-b") is hub
            # A viewer arriving later starts at once from the cached keyframe.
            viewer = hub.viewer()
            loop = asyncio.get_running_loop()
            started = loop.time()
            first = await viewer.next()
            second = await viewer.next()
            assert loop.time() - started < 0.1
            assert isinstance(first, Epoch)
            assert isinstance(second, MediaPart)
            assert second.independent


async def test_a_refused_password_is_failed_with_its_reason() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam-c", stream)
        _, open_feed = opener_for(server, password="wrong")
        async with Gateway(open_feed) as gateway:
            await gateway.hub("cam-c")
            await wait_until(lambda: gateway.stats("cam-c").state == "failed", 10)
            stats = gateway.stats("cam-c")
            assert stats.reason is not None
            assert "wrong" not in stats.reason
            assert stats.parts == 0


async def test_viewers_resume_when_the_camera_comes_back() -> None:
    stream = await pattern(gop=25)
    server = RtspServer(authenticator={"admin": PASSWORD}.get)
    server.mount("cam-d", stream)
    await server.start()
    port = server.port
    _, open_feed = opener_for(server)
    async with Gateway(open_feed) as gateway:
        hub = await gateway.hub("cam-d")
        await hub.wait_ready(15)
        sink = RecordingSink()
        viewer = asyncio.create_task(stream_mse(hub, sink))
        await wait_until(lambda: len(sink.messages) >= 6, 10)
        await server.close()
        await wait_until(lambda: gateway.stats("cam-d").state == "retrying", 10)
        before = len(sink.messages)
        server = RtspServer(port=port, authenticator={"admin": PASSWORD}.get)
        server.mount("cam-d", stream)
        await server.start()
        try:
            await wait_until(lambda: len(sink.messages) > before + 10, 20)
            stats = gateway.stats("cam-d")
            assert stats.state == "live"
            assert stats.reconnects == 1
            # The same WebSocket went on: after the gap, a new epoch (init again), then parts.
            texts = [m for m in sink.messages if isinstance(m, str)]
            assert sum('"type":"init"' in text for text in texts) == 2
            assert hub.stats().epochs == 2
        finally:
            viewer.cancel()
            await asyncio.gather(viewer, return_exceptions=True)
            await gateway.close_camera("cam-d")  # the client hangs up before the camera goes
            await server.close()
