"""The camera ingest against real RTSP servers on loopback: fan-out, reconnect, hang, PyAV mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator

import pytest

from platonicam.device.source import EncoderSettings, TestPatternStream
from platonicam.media.ingest import Backoff, Ingest, IngestState
from platonicam.rtsp.client import RtspCredentials
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import AccessUnit, VideoCodec
from tests.integration.media.gst import gst_server, needs_gstreamer
from tests.integration.rtsp.conftest import wait_until

PASSWORD = "ingest-s3cret"


async def pattern(codec: VideoCodec = VideoCodec.H264, gop: int = 25) -> TestPatternStream:
    settings = EncoderSettings(codec, 320, 180, 25.0, 300, gop)
    return await TestPatternStream.create(settings, f"ingest {codec} {gop}")


async def take(units: AsyncIterator[AccessUnit], count: int, limit: float) -> list[AccessUnit]:
    out = []
    async with asyncio.timeout(limit):
        while len(out) < count:
            out.append(await anext(units))
    return out


async def wait_state(ingest: Ingest, state: IngestState, limit: float) -> None:
    await wait_until(lambda: ingest.state is state, limit)


@contextlib.asynccontextmanager
async def closing(ingest: Ingest) -> AsyncIterator[Ingest]:
    try:
        yield ingest
    finally:
        await ingest.close()


def fast_backoff() -> Backoff:
    return Backoff(initial=0.1, factor=2.0, cap=0.5, jitter=0.1)


@pytest.mark.parametrize("mode", ["rtsp", "pyav"])
async def test_two_subscribers_share_one_connection(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam", stream)
        ingest = Ingest(
            "cam-1",
            server.url("cam"),
            RtspCredentials("admin", PASSWORD),
            mode,  # type: ignore[arg-type]
            idle_timeout=0.3,
        )
        async with closing(ingest):
            assert ingest.state is IngestState.IDLE
            first = ingest.subscribe()
            second = ingest.subscribe()
            a = await take(first, 30, 15)
            b = await take(second, 30, 15)
            assert ingest.state is IngestState.LIVE
            assert len(server.session_ids) == 1  # one connection for both viewers
            assert stream.subscriber_count == 1
            stats = ingest.stats()
            description = ingest.description
            await first.aclose()
            await second.aclose()
            await wait_state(ingest, IngestState.IDLE, 5)  # idle close after the last left
            assert server.session_ids == frozenset()
    assert a[0].keyframe
    assert b[0].keyframe
    assert [u.timestamp for u in a[1:]] == [a[0].timestamp + 3600 * i for i in range(1, 30)]
    assert (description.codec, description.width, description.height) == (VideoCodec.H264, 320, 180)
    assert description.parameter_sets == stream.description.parameter_sets
    assert stats.viewers == 2
    assert stats.access_units >= 30
    assert stats.bytes_received > 0
    assert 15 < stats.fps < 35
    assert stats.bitrate_bps > 0
    assert stats.reconnects == 0
    assert PASSWORD not in repr(ingest)
    assert PASSWORD not in caplog.text


async def test_server_restart_resumes_subscribers_at_a_keyframe() -> None:
    stream = await pattern(gop=25)
    server = RtspServer()
    server.mount("cam", stream)
    await server.start()
    port = server.port
    ingest = Ingest("cam-2", server.url("cam"), timeout=2, backoff=fast_backoff(), always_on=True)
    async with closing(ingest):
        ingest.start()
        units = ingest.subscribe()
        before = await take(units, 10, 10)
        states: list[IngestState] = []
        await server.close()
        await wait_state(ingest, IngestState.RETRYING, 10)
        states.append(ingest.state)
        reason = ingest.status.reason
        # The camera comes back on the same port.
        server = RtspServer(port=port)
        server.mount("cam", stream)
        await server.start()
        try:
            after = await take(units, 30, 15)
            await wait_state(ingest, IngestState.LIVE, 5)
            stats = ingest.stats()
        finally:
            await units.aclose()
            await ingest.close()
            await server.close()
    assert states == [IngestState.RETRYING]
    assert reason is not None
    assert after[0].keyframe  # the same iterator resumed at a keyframe
    assert after[0].timestamp > before[-1].timestamp  # timestamps kept growing
    assert after[0].generation == before[0].generation  # same stream, same generation
    assert stats.reconnects >= 1


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass
    writer.close()


async def test_a_hanging_camera_times_out_and_is_retried() -> None:
    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ingest = Ingest(
        "cam-3", f"rtsp://127.0.0.1:{port}/cam", timeout=0.3, backoff=fast_backoff(), always_on=True
    )
    try:
        ingest.start()
        await wait_until(lambda: ingest.status.attempt >= 3, 10)
        status = ingest.status
    finally:
        await ingest.close()
        server.close()
        await server.wait_closed()
    assert status.state is IngestState.RETRYING
    assert status.reason == f"OPTIONS rtsp://127.0.0.1:{port}/cam got no answer within 0.3 s"


async def test_wrong_password_fails_with_the_reason() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam", stream)
        url = server.url("cam").replace("rtsp://", "rtsp://admin:wrong-one@")
        ingest = Ingest("cam-4", url, backoff=fast_backoff(), always_on=True)
        async with closing(ingest):
            ingest.start()
            await wait_state(ingest, IngestState.FAILED, 10)
            status = ingest.status
    assert status.reason == f"DESCRIBE {server.url('cam')} refused the credentials of user 'admin'"
    assert "wrong-one" not in repr(ingest)


@needs_gstreamer
@pytest.mark.parametrize("codec", ["h264", "h265"])
async def test_ingest_from_gstreamer(codec: str) -> None:
    async with gst_server(codec, 25) as url:
        ingest = Ingest("cam-5", url)
        async with closing(ingest):
            units: AsyncGenerator[AccessUnit, None] = ingest.subscribe()
            got = await take(units, 30, 15)
            await units.aclose()
            description = ingest.description
    assert got[0].keyframe
    expected = VideoCodec.H264 if codec == "h264" else VideoCodec.H265
    # GStreamer's SDP has no size: it is read from the SPS.
    assert (description.codec, description.width, description.height) == (expected, 320, 180)
