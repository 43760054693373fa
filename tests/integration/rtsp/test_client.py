"""Our RTSP client against our RTSP server and against scripted misbehaving servers (loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from platonicam.device.source import EncoderSettings, TestPatternStream
from platonicam.rtsp import h264, h265
from platonicam.rtsp.client import RtspClient
from platonicam.rtsp.errors import (
    RtpError,
    RtspAuthenticationError,
    RtspConnectionError,
    RtspProtocolError,
    RtspTimeoutError,
)
from platonicam.rtsp.message import (
    NEED_DATA,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
)
from platonicam.rtsp.rtp import RtpPacket
from platonicam.rtsp.sdp import describe_stream
from platonicam.rtsp.sei import parse_latency_sei
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec

USERS = {"admin": "s3cret-pass"}


async def pattern(codec: VideoCodec, gop: int) -> TestPatternStream:
    settings = EncoderSettings(codec, 320, 180, 25.0, 300, gop)
    return await TestPatternStream.create(settings, f"client {codec} {gop}")


async def collect(client: RtspClient, keyframes: int, limit: float) -> list[AccessUnit]:
    """Units until ``keyframes`` keyframes have been seen and the next one starts (bounded)."""
    units: list[AccessUnit] = []
    async with asyncio.timeout(limit):
        async for unit in client.access_units():
            if unit.keyframe and sum(u.keyframe for u in units) == keyframes:
                return units
            units.append(unit)
    return units


def parameter_set_types(codec: VideoCodec) -> tuple[int, ...]:
    return (h264.SPS, h264.PPS) if codec is VideoCodec.H264 else (h265.VPS, h265.SPS, h265.PPS)


@pytest.mark.parametrize(
    ("codec", "gop", "transport"),
    [
        (VideoCodec.H264, 25, "tcp"),
        (VideoCodec.H264, 100, "tcp"),
        (VideoCodec.H265, 25, "tcp"),
        (VideoCodec.H265, 100, "tcp"),
        (VideoCodec.H264, 25, "udp"),
        (VideoCodec.H265, 25, "udp"),
    ],
)
async def test_reads_our_server_with_digest(codec: VideoCodec, gop: int, transport: str) -> None:
    stream = await pattern(codec, gop)
    async with RtspServer(authenticator=USERS.get) as server:
        server.mount("cam", stream)
        client = RtspClient(
            server.url("cam"),
            "admin",
            USERS["admin"],
            transport=transport,
            timeout=10,  # type: ignore[arg-type]
        )
        async with client:
            described = client.description
            units = await collect(client, 1, limit=gop / 25 + 8)
            assert client.malformed_packets == 0
            assert client.dropped_units == 0
            assert len(server.session_ids) == 1
        # close() sent TEARDOWN: the server forgot the session.
        assert server.session_ids == frozenset()
    source = stream.description
    assert (described.codec, described.width, described.height, described.fps) == (
        codec,
        320,
        180,
        25.0,
    )
    assert described.parameter_sets == source.parameter_sets
    assert len(units) == gop
    first = units[0]
    assert first.keyframe
    assert [u.keyframe for u in units[1:]] == [False] * (gop - 1)
    # The server sends the parameter sets in-band before the IDR; they stay in its unit.
    module = h264 if codec is VideoCodec.H264 else h265
    kinds = [module.nal_type(n) for n in first.nal_units]
    assert kinds[: len(source.parameter_sets)] == list(parameter_set_types(codec))
    assert [u.timestamp for u in units] == [3600 * i for i in range(gop)]
    # Wall clock from the RTCP sender report equals the source's stamp in the latency SEI.
    # The report maps an earlier unit's stamp; the source's own scheduling jitter between
    # the two (a few ms on a loaded machine) is all that may differ, far below a frame.
    stamps = [parse_latency_sei(n, codec) for n in first.nal_units]
    stamp = next(s for s in stamps if s is not None)
    assert first.wallclock == pytest.approx(stamp, abs=0.015)
    assert abs(first.wallclock - time.time()) < 15


async def test_wrong_password_is_an_authentication_error() -> None:
    stream = await pattern(VideoCodec.H264, 25)
    async with RtspServer(authenticator=USERS.get) as server:
        server.mount("cam", stream)
        client = RtspClient(server.url("cam"), "admin", "not-the-password", timeout=5)
        with pytest.raises(RtspAuthenticationError) as caught:
            await client.open()
    assert (
        str(caught.value) == f"DESCRIBE {server.url('cam')} refused the credentials of user 'admin'"
    )
    assert "not-the-password" not in str(caught.value)


async def test_keepalive_holds_a_short_session() -> None:
    stream = await pattern(VideoCodec.H264, 25)
    async with RtspServer(session_timeout=2) as server:
        server.mount("cam", stream)
        async with RtspClient(server.url("cam"), timeout=5) as client:
            assert client.handshake.keepalive_method == "GET_PARAMETER"
            units = await collect(client, 4, limit=10)
            assert len(server.session_ids) == 1
    # Four GOPs (4 s) over a session that the server would expire after 2 s of silence.
    assert units[-1].timestamp >= 3 * 90_000


async def test_connection_refused() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(RtspConnectionError, match=f"cannot connect to 127.0.0.1:{port}"):
        await RtspClient(f"rtsp://admin:pw@127.0.0.1:{port}/x", timeout=2).open()


# --- scripted servers -----------------------------------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[int]:
    """A loopback TCP server running ``script`` per connection; yields its port."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, read everything, never answer."""
    while await reader.read(4096):
        pass


async def test_a_server_that_never_answers_times_out() -> None:
    async with scripted(hang) as port:
        client = RtspClient(f"rtsp://127.0.0.1:{port}/cam", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RtspTimeoutError) as caught:
            await client.open()
        elapsed = time.monotonic() - started
    assert str(caught.value) == f"OPTIONS rtsp://127.0.0.1:{port}/cam got no answer within 0.5 s"
    assert 0.4 < elapsed < 2.0


SPS = bytes.fromhex("6742c01e8c8d40a02f2f00f08844")
PPS = bytes.fromhex("68ce3c80")
DESCRIPTION = StreamDescription(VideoCodec.H264, 320, 180, 25.0, (SPS, PPS))


def good_units(count: int) -> list[tuple[bytes, ...]]:
    units: list[tuple[bytes, ...]] = [(SPS, PPS, bytes([0x65]) + bytes(range(1, 250)) * 8)]
    units += [(bytes([0x41, i]) + bytes(range(1, 200)),) for i in range(1, count)]
    return units


def camera(media: Callable[[], list[bytes]]) -> Script:
    """A minimal camera: answers the handshake, then writes ``media()`` after PLAY."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = RtspParser()
        while True:
            event = parser.next_event()
            if event is NEED_DATA:
                data = await reader.read(4096)
                if not data:
                    return
                parser.receive_data(data)
                continue
            if not isinstance(event, RtspRequest):
                continue
            headers = {"CSeq": event.headers.get("CSeq") or "0", "Session": "abc;timeout=60"}
            body = b""
            if event.method == "OPTIONS":
                headers["Public"] = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"
            elif event.method == "DESCRIBE":
                body = str(describe_stream(DESCRIPTION)).encode()
                headers["Content-Base"] = event.uri + "/"
            elif event.method == "SETUP":
                headers["Transport"] = event.headers.get("Transport") or ""
            writer.write(bytes(RtspResponse(200, Headers.of(headers), body)))
            if event.method == "PLAY":
                writer.writelines(media())
            await writer.drain()

    return script


def rtp_frames(units: list[tuple[bytes, ...]], seq: int = 0) -> list[bytes]:
    frames = []
    for index, nal_units in enumerate(units):
        payloads = h264.packetize(nal_units, 500)
        for p_index, payload in enumerate(payloads):
            packet = RtpPacket(96, seq, 3600 * index, 7, payload, p_index == len(payloads) - 1)
            frames.append(bytes(InterleavedData(0, bytes(packet))))
            seq += 1
    return frames


async def drain(client: RtspClient, into: list[AccessUnit]) -> None:
    async with asyncio.timeout(5):
        async for unit in client.access_units():
            into.append(unit)


async def test_garbage_on_the_interleaved_channel_is_counted() -> None:
    units = good_units(10)

    def media() -> list[bytes]:
        frames = rtp_frames(units)
        garbage = [
            bytes(InterleavedData(0, b"\x12not rtp at all")),  # RTP version 0
            bytes(InterleavedData(0, b"\x80")),  # shorter than a header
            bytes(InterleavedData(7, b"\x80\x60" + bytes(20))),  # a channel nobody set up
        ]
        # Garbage before the stream and between two units' packets.
        return garbage + frames[:3] + garbage + frames[3:]

    async with (
        scripted(camera(media)) as port,
        RtspClient(f"rtsp://127.0.0.1:{port}/cam", timeout=3) as client,
    ):
        got = []
        async with asyncio.timeout(5):
            async for unit in client.access_units():
                got.append(unit.nal_units)
                if len(got) == len(units) - 1:  # the last unit ends at the next one
                    break
        assert client.malformed_packets == 6
    assert got == units[:-1]


async def test_bytes_that_break_the_framing_end_the_stream() -> None:
    def media() -> list[bytes]:
        return [*rtp_frames(good_units(3)), b"\x00\xff garbage that is neither $ nor RTSP\r\n\r\n"]

    async with (
        scripted(camera(media)) as port,
        RtspClient(f"rtsp://127.0.0.1:{port}/cam", timeout=3) as client,
    ):
        got: list[AccessUnit] = []
        with pytest.raises(RtspProtocolError):
            await drain(client, got)
    assert [u.keyframe for u in got] == [True, False, False]


async def test_a_flood_of_garbage_fails_the_stream() -> None:
    def media() -> list[bytes]:
        return [bytes(InterleavedData(0, b"\x00junk" * 3)) for _ in range(80)]

    async with (
        scripted(camera(media)) as port,
        RtspClient(f"rtsp://127.0.0.1:{port}/cam", timeout=3, max_malformed=20) as client,
    ):
        with pytest.raises(RtpError, match="21 of the last 21 RTP packets were malformed"):
            await drain(client, [])
        assert client.malformed_packets == 21
