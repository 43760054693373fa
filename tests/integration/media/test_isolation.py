"""A camera that sends garbage, then stalls, harms no other camera of the same service.

One ``platonicam serve`` process with two cameras on loopback:

* a good one: the reference device in a process of its own;
* a bad one, written here: the reference device's ONVIF side (the SOAP app with no
  video, its GetStreamUri naming our port) in front of :class:`BadCamera`, a real
  RTSP server (asyncio) that answers OPTIONS, DESCRIBE (a valid H.264 SDP), SETUP and
  PLAY properly and then misbehaves: first garbage (malformed RTP inside valid ``$``
  framing on one connection, bytes that break the framing on the next), then a stall
  (nothing at all, the socket kept open, keep-alives answered).

Viewers of the good camera, an MSE WebSocket and an LL-HLS client doing blocking
playlist reloads through the service's HTTP API as players do, keep receiving video
at the camera's frame rate (frames counted from the fMP4 ``trun`` boxes, compared
loosely: a functional check, not a benchmark) while the bad camera's stats say
``retrying`` (or ``failed``) with the reason; ``/health`` answers; the service logs
no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import pytest
import websockets

from platonicam.clock import SystemClock
from platonicam.device.app import create_device_app
from platonicam.device.core import DeviceOptions
from platonicam.device.source import EncoderSettings, encode_loop
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams
from platonicam.media.fmp4 import VIDEO_TRACK_ID
from platonicam.onvif.models.device import User, UserLevel
from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
    interleaved_header,
)
from platonicam.rtsp.sdp import describe_stream
from platonicam.rtsp.stream import StreamDescription, VideoCodec
from tests.integration.device.conftest import serve
from tests.integration.media.processes import (
    DEVICE_PASSWORD,
    DeviceProcess,
    ServiceProcess,
    service_process,
)

pytestmark = pytest.mark.timeout(180)

Mode = Literal["garbage", "stall"]
#: The reference device's main profile runs at 25 frames per second.
GOOD_FPS = 25.0


# -- the bad camera ---------------------------------------------------------------------


@dataclass
class BadCamera:
    """An RTSP server on 127.0.0.1 that completes the handshake, then misbehaves (``mode``)."""

    description: StreamDescription
    mode: Mode = "garbage"
    port: int = 0
    connections: int = 0
    plays: int = 0
    garbage_sent: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        parser = RtspParser()
        misbehaving: asyncio.Task[None] | None = None
        try:
            while chunk := await reader.read(65536):
                parser.receive_data(chunk)
                while (event := parser.next_event()) is not NEED_DATA:
                    if isinstance(event, ConnectionClosed):
                        return
                    if isinstance(event, InterleavedData):
                        continue  # the client's RTCP receiver reports
                    assert isinstance(event, RtspRequest), event
                    writer.write(bytes(self._answer(event)))
                    if event.method == "PLAY" and misbehaving is None:
                        self.plays += 1
                        if self.mode == "garbage":
                            misbehaving = asyncio.create_task(self._garbage(writer, number))
                            self._tasks.add(misbehaving)
                            misbehaving.add_done_callback(self._tasks.discard)
                        # "stall": nothing is sent, ever; requests are still answered.
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the client gave up on us: that is the point
        finally:
            if misbehaving is not None:
                misbehaving.cancel()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    def _answer(self, request: RtspRequest) -> RtspResponse:
        fields = [("CSeq", request.headers.get("CSeq") or "0")]
        body = b""
        if request.method == "OPTIONS":
            fields.append(("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"))
        elif request.method == "DESCRIBE":
            body = str(describe_stream(self.description)).encode()
            fields += [("Content-Type", "application/sdp"), ("Content-Base", request.uri + "/")]
        elif request.method == "SETUP":
            fields += [
                ("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=0BADCAFE"),
                ("Session", "5eed;timeout=60"),
            ]
        elif request.method in ("PLAY", "GET_PARAMETER", "TEARDOWN"):
            fields.append(("Session", "5eed"))
            if request.method == "PLAY":
                fields.append(("Range", "npt=0.000-"))
        else:
            return RtspResponse(405, Headers.of(fields))
        return RtspResponse(200, Headers.of(fields), body)

    async def _garbage(self, writer: asyncio.StreamWriter, number: int) -> None:
        """Odd connections: RTP packets that are not RTP (version 0), well framed, on the
        video's channels. Even ones: bytes that are neither ``$`` framing nor RTSP."""
        while True:
            if number % 2:
                chunk = b"".join(
                    interleaved_header(index % 2, 40) + bytes([index % 64]) * 40
                    for index in range(100)
                )
            else:
                chunk = b"\xff\x00\xfe garbage \x01" * 1000
            writer.write(chunk)
            self.garbage_sent += len(chunk)
            await writer.drain()
            await asyncio.sleep(0.05)


@dataclass
class BadOnvifCamera:
    camera: BadCamera
    onvif_port: int


@contextlib.asynccontextmanager
async def bad_onvif_camera(data_dir: Path) -> AsyncIterator[BadOnvifCamera]:
    """:class:`BadCamera` behind the reference device's ONVIF side (GetStreamUri names it)."""
    loop = await encode_loop(EncoderSettings(VideoCodec.H264, 320, 180, 25.0, 300, 25), "bad")
    camera = BadCamera(loop.description(0))
    await camera.start()
    app = create_device_app(
        DeviceState.load(data_dir),
        NullStreams(rtsp_port=camera.port),
        DeviceOptions(clock=SystemClock(), reboot_delay=0.0),
    )
    app.device.users.create([User("admin", UserLevel.ADMINISTRATOR, DEVICE_PASSWORD)])
    await app.device.start()
    server, task, port = await serve(app)
    try:
        yield BadOnvifCamera(camera, port)
    finally:
        server.should_exit = True
        await task
        await camera.close()


# -- what the viewers of the good camera receive ------------------------------------------


def trun_samples(data: bytes) -> int:
    """Video frames (``trun`` sample counts of track 1; the demo camera's AAC rides in
    track 2) in the ``moof`` boxes of an fMP4 message (0 for an init segment)."""
    frames = 0

    def walk(start: int, end: int) -> None:
        nonlocal frames
        offset = start
        track = None
        while offset + 8 <= end:
            size = int.from_bytes(data[offset : offset + 4], "big")
            kind = data[offset + 4 : offset + 8]
            if size < 8 or offset + size > end:
                raise AssertionError(f"a broken box {kind!r} at {offset} in {len(data)} bytes")
            if kind in (b"moof", b"traf"):
                walk(offset + 8, offset + size)
            elif kind == b"tfhd":
                track = int.from_bytes(data[offset + 12 : offset + 16], "big")
            elif kind == b"trun" and track == VIDEO_TRACK_ID:
                frames += int.from_bytes(data[offset + 12 : offset + 16], "big")
            offset += size

    walk(0, len(data))
    return frames


@dataclass
class Reception:
    """Media messages (parts, or frames for MSE) and frames received, with arrival times."""

    arrivals: list[tuple[float, int]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, frames: int) -> None:
        self.arrivals.append((asyncio.get_running_loop().time(), frames))
        self.started.set()

    def window(self, start: float, end: float) -> tuple[float, float, float]:
        """(messages/s, frames/s, longest silence in s) between ``start`` and ``end``."""
        inside = [(at, frames) for at, frames in self.arrivals if start <= at <= end]
        span = end - start
        times = [start] + [at for at, _ in inside] + [end]
        gap = max(b - a for a, b in itertools.pairwise(times))
        return len(inside) / span, sum(frames for _, frames in inside) / span, gap


async def mse_viewer(url: str, reception: Reception) -> None:
    """A WebSocket viewer that counts what it is sent (init segments are not counted)."""
    async with websockets.connect(url, max_size=None, compression=None) as socket:
        async for message in socket:
            if isinstance(message, bytes) and (frames := trun_samples(message)):
                reception.add(frames)


PART = re.compile(r'#EXT-X-PART:DURATION=[\d.]+,URI="([^"]+)"')
HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p\d+-(\d+)\.(\d+)\.m4s')


async def hls_viewer(client: httpx.AsyncClient, playlist: str, reception: Reception) -> None:
    """An LL-HLS client: blocking reloads for the hinted part, then every new part listed."""
    base = playlist.rsplit("/", 1)[0]
    seen: set[str] | None = None
    url = playlist
    while True:
        reply = await client.get(url)
        if reply.status_code != 200:  # 503 when a part took too long: reload plainly
            url = playlist
            await asyncio.sleep(0.1)
            continue
        parts = PART.findall(reply.text)
        if seen is None:
            seen = set(parts)  # what was there before we came: not counted
        for uri in parts:
            if uri not in seen:
                seen.add(uri)
                part = await client.get(f"{base}/{uri}")
                assert part.status_code == 200, (uri, part.status_code)
                reception.add(trun_samples(part.content))
        hint = HINT.search(reply.text)
        url = playlist if hint is None else f"{playlist}&_HLS_msn={hint[1]}&_HLS_part={hint[2]}"


# -- the test ------------------------------------------------------------------------------


async def stats_of(
    client: httpx.AsyncClient, headers: dict[str, str], camera_id: str
) -> dict[str, object]:
    reply = await client.get(f"/api/cameras/{camera_id}/stream/stats", headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


async def wait_stats(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    camera_id: str,
    condition: Callable[[dict[str, object]], bool],
    timeout: float = 20,
) -> dict[str, object]:
    """Poll the camera's stream stats until ``condition`` holds (fail after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        stats = await stats_of(client, headers, camera_id)
        if condition(stats):
            return stats
        assert loop.time() < deadline, stats
        await asyncio.sleep(0.2)


async def watch_bad_camera(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    camera_id: str,
    done: Callable[[dict[str, object]], bool],
    limit: float,
) -> list[dict[str, object]]:
    """Poll the bad camera's stats until ``done`` says so; every answer seen."""
    seen: list[dict[str, object]] = []
    async with asyncio.timeout(limit):
        while not seen or not done(seen[-1]):
            await asyncio.sleep(0.2)
            seen.append(await stats_of(client, headers, camera_id))
            health = await client.get("/health")
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok", health.text
    return seen


def check_good_reception(name: str, reception: Reception, start: float, end: float) -> str:
    messages, frames, gap = reception.window(start, end)
    assert 0.6 * GOOD_FPS <= frames <= 1.4 * GOOD_FPS, (name, messages, frames, gap)
    assert messages >= 1.0, (name, messages, frames, gap)
    assert gap < 3.0, (name, messages, frames, gap)
    return f"{name}: {messages:.1f} messages/s, {frames:.1f} frames/s, longest gap {gap:.2f} s"


def retrying_with_reason(stats: dict[str, object]) -> bool:
    return stats["state"] in ("retrying", "failed") and bool(stats["reason"])


async def test_a_bad_camera_harms_no_other(tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        # The cameras start while the service does; the service stops first (its viewers'
        # handlers end on the good camera's next frame), then the cameras.
        device = DeviceProcess(tmp_path / "good")
        stack.push_async_callback(device.stop)
        starting = asyncio.create_task(device.start())
        stack.push_async_callback(asyncio.wait, [starting])
        bad = await stack.enter_async_context(bad_onvif_camera(tmp_path / "bad"))
        service = await stack.enter_async_context(service_process(tmp_path / "service"))
        await starting
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=service.base, timeout=30)
        )
        await run_scenario(service, client, device.port, bad)
    assert service.process.returncode == 0, service.log
    assert "Traceback" not in service.log, service.log


async def run_scenario(
    service: ServiceProcess, client: httpx.AsyncClient, good_port: int, bad: BadOnvifCamera
) -> None:
    headers = await service.login(client)
    good_id = await service.add_camera(client, headers, "Good", good_port)
    bad_id = await service.add_camera(client, headers, "Bad", bad.onvif_port)
    good_urls = (await client.get(f"/api/cameras/{good_id}/stream", headers=headers)).json()
    bad_urls = (await client.get(f"/api/cameras/{bad_id}/stream", headers=headers)).json()

    mse, hls = Reception(), Reception()
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as group:
        viewers = [
            group.create_task(mse_viewer(good_urls["mse"], mse)),
            group.create_task(hls_viewer(client, good_urls["hls"]["low_latency"], hls)),
        ]
        try:
            async with asyncio.timeout(60):
                await mse.started.wait()
                await hls.started.wait()

            # (a) garbage: malformed RTP on one connection, bytes that break the framing on
            # the next, and so on. A player asking for the bad camera's playlist opens its
            # feed (which then stays open for the gateway's idle timeout, 30 s).
            bad_playlist = group.create_task(client.get(bad_urls["hls"]["low_latency"]))
            started = loop.time()
            reasons: set[str] = set()

            def both_garbage_reasons(stats: dict[str, object]) -> bool:
                if retrying_with_reason(stats):
                    reasons.add(str(stats["reason"]))
                framing = any("message head" in reason for reason in reasons)
                rtp = any("RTP packets were malformed" in reason for reason in reasons)
                return framing and rtp and loop.time() - started > 6.0

            await watch_bad_camera(client, headers, bad_id, both_garbage_reasons, 30)
            garbage_window = (started, loop.time())
            assert bad.camera.plays >= 2
            assert bad.camera.garbage_sent > 0

            # (b) a stall: PLAY answered, then silence on an open socket.
            bad.camera.mode = "stall"
            started = loop.time()
            plays = bad.camera.plays
            seen = await watch_bad_camera(
                client,
                headers,
                bad_id,
                lambda stats: (
                    retrying_with_reason(stats)
                    and "no video" in str(stats["reason"])
                    and bad.camera.plays > plays
                ),
                30,
            )
            stall_window = (started, loop.time())
            assert seen[-1]["parts"] == 0, seen[-1]
            assert seen[-1]["bitrate_bps"] == 0, seen[-1]

            # A viewer of the silent camera leaves: the service notices although no frame
            # was ever sent to it (else the hub is held, and shutdown waits, forever).
            async with websockets.connect(bad_urls["mse"], open_timeout=30) as socket:
                await wait_stats(client, headers, bad_id, lambda s: s["mse_viewers"] == 1)
                await socket.close()
            await wait_stats(client, headers, bad_id, lambda s: s["mse_viewers"] == 0)

            report = [
                check_good_reception(f"{name} ({phase})", reception, *window)
                for phase, window in (("garbage", garbage_window), ("stall", stall_window))
                for name, reception in (("MSE", mse), ("LL-HLS", hls))
            ]
            good = await stats_of(client, headers, good_id)
            assert good["state"] == "live", good
            assert good["reconnects"] == 0, good
            # The bad camera's player got a clear answer, not a hang or a server error.
            refused = await asyncio.wait_for(bad_playlist, 30)
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "stream_unavailable", refused.text
            print("\n".join(report))
        finally:
            for viewer in viewers:
                viewer.cancel()
