"""Our RTSP server's on-demand mounts, resolver and per-mount authorizer, on loopback,
against our raw client and independent players (ffprobe, GStreamer's rtspsrc)."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

from platonicam.rtsp.errors import RtspError
from platonicam.rtsp.message import RtspRequest
from platonicam.rtsp.sdp import SessionDescription
from platonicam.rtsp.server import AccessDecision, Mountpoint, RtspServer
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec
from tests.integration.media.gst import SYSTEM_PYTHON
from tests.integration.rtsp.conftest import ffprobe_stream, run, wait_until
from tests.integration.rtsp.pattern import PatternStream
from tests.integration.rtsp.rawclient import RawRtspClient

#: GStreamer's rtspsrc as an independent player (run by the system Python).
GST_PLAY = str(Path(__file__).parents[1] / "media" / "gst_rtsp_play.py")
CHALLENGE = 'Bearer realm="test"'
EXPECTED = {"codec_name": "h264", "width": 320, "height": 240, "avg_frame_rate": "25/1"}


def token_check(request: RtspRequest) -> AccessDecision:
    """Allows ``?token=good`` only."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.uri).query)
    if query.get("token") == ["good"]:
        return AccessDecision("viewer")
    return AccessDecision(None, CHALLENGE)


def controls(sdp: bytes) -> list[str | None]:
    return [media.control for media in SessionDescription.parse(sdp.decode()).media]


async def test_on_demand_mount_subscribes_only_while_used() -> None:
    stream = PatternStream(VideoCodec.H264, width=320, height=240, fps=25)
    async with RtspServer(idle_timeout=0.3) as server:
        server.mount("cam", stream, on_demand=True)
        await asyncio.sleep(0.5)
        assert stream.subscriptions == 0  # nobody asked: the source stays closed
        assert server.subscribed == frozenset()

        assert await ffprobe_stream(server.url("cam"), "tcp") == EXPECTED
        assert stream.subscriptions == 1
        # The client left: the subscription closes after the idle timeout, not before.
        await wait_until(lambda: server.subscribed == frozenset(), 10)
        assert stream.active == 0
        assert server.mounted == frozenset({"cam"})  # mounted by hand: it stays

        assert await ffprobe_stream(server.url("cam"), "udp") == EXPECTED
        assert stream.subscriptions == 2


async def test_a_source_that_ends_at_once_is_503_without_waiting() -> None:
    class Broken:
        description = StreamDescription(VideoCodec.H264, 320, 240, 25.0, (b"\x67", b"\x68"))

        async def subscribe(self) -> AsyncIterator[AccessUnit]:
            return
            yield  # an async generator that ends before its first unit

    async with RtspServer() as server:
        server.mount("cam", Broken(), on_demand=True)
        async with RawRtspClient("127.0.0.1", server.port) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            reply = await client.request("DESCRIBE", server.url("cam"))
            assert reply.status == 503
            assert loop.time() - started < 5  # not PLAY_START_TIMEOUT (10 s)


async def test_mount_authorizer_with_the_credentials_in_the_query() -> None:
    stream = PatternStream(VideoCodec.H264, width=320, height=240, fps=25)
    async with RtspServer(idle_timeout=5) as server:
        server.mount("cameras/one", stream, authorize=token_check, on_demand=True)
        other = PatternStream(VideoCodec.H264, width=320, height=240, fps=25)
        server.mount("cameras/two", other, authorize=token_check, on_demand=True)
        url = server.url("cameras/one")
        async with RawRtspClient("127.0.0.1", server.port) as client:
            for uri in (url, f"{url}?token=bad", f"{url}?other=good"):
                refused = await client.request("DESCRIBE", uri)
                assert refused.status == 401
                assert refused.headers.get("WWW-Authenticate") == CHALLENGE
            assert stream.subscriptions == 0  # strangers never open the source
            # OPTIONS stays open, as clients send it before anything else.
            assert (await client.request("OPTIONS", url)).status == 200

            described = await client.request("DESCRIBE", f"{url}?token=good")
            assert described.status == 200
            assert described.headers.get("Content-Base") == f"{url}/"
            # Tracks are named by absolute URLs repeating the query.
            assert controls(described.body) == [f"{url}/trackID=0?token=good"]

            transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
            # The relative form, without the token and without a session: refused.
            bare = await client.request("SETUP", f"{url}/trackID=0", transport)
            assert bare.status == 401
            setup = await client.request("SETUP", f"{url}/trackID=0?token=good", transport)
            assert setup.status == 200
            session = {"Session": (setup.headers.get("Session") or "").split(";")[0]}
            # From here on the session authorizes, whatever URL the client uses.
            play = await client.request("PLAY", f"{url}/", session)
            assert play.status == 200
            assert "token=good" in (play.headers.get("RTP-Info") or "")
            assert (await client.request("GET_PARAMETER", f"{url}/", session)).status == 200
            # A made-up session is no way in.
            forged = await client.request("PLAY", f"{url}/", {"Session": "0123456789abcdef"})
            assert forged.status == 454
            # A session of one mount opens no other.
            two = server.url("cameras/two")
            assert (await client.request("DESCRIBE", two, session)).status == 401
            assert other.subscriptions == 0
            assert (await client.request("TEARDOWN", f"{url}/", session)).status == 200
        assert server.session_ids == frozenset()

        # Independent players with the token in the URL, over TCP and UDP.
        assert await ffprobe_stream(f"{url}?token=good", "udp") == EXPECTED
        played = await run(
            [SYSTEM_PYTHON, GST_PLAY, f"{url}?token=good", "--frames", "25"], timeout=60
        )
        assert played.returncode == 0, played.stdout + played.stderr
        assert json.loads(played.stdout) == {
            "frames": 25,
            "width": 320,
            "height": 240,
            "framerate": "25/1",
        }
        refused_gst = await run(
            [SYSTEM_PYTHON, GST_PLAY, f"{url}?token=bad", "--frames", "1"], timeout=60
        )
        assert refused_gst.returncode == 1
        assert "Unauthorized" in json.loads(refused_gst.stdout)["error"]


async def test_resolver_mounts_paths_on_request_and_forgets_them() -> None:
    streams = {"cameras/a": PatternStream(VideoCodec.H264, width=320, height=240, fps=25)}
    asked: list[str] = []

    async def resolve(path: str) -> Mountpoint | None:
        asked.append(path)
        if path == "cameras/broken":
            raise RtspError("the directory is down")
        stream = streams.get(path)
        return None if stream is None else Mountpoint(stream, on_demand=True)

    async with RtspServer(resolver=resolve, idle_timeout=0.3) as server:
        assert server.mounted == frozenset()
        async with RawRtspClient("127.0.0.1", server.port) as client:
            assert (await client.request("DESCRIBE", server.url("cameras/b"))).status == 404
            assert (await client.request("DESCRIBE", server.url("cameras/broken"))).status == 500
            assert asked == ["cameras/b", "cameras/broken"]
            assert server.mounted == frozenset()

        assert await ffprobe_stream(server.url("cameras/a"), "tcp") == EXPECTED
        assert "cameras/a" in asked
        # Idle: unsubscribed and unmounted; the next client mounts it again.
        stream_a = streams["cameras/a"]
        await wait_until(lambda: server.mounted == frozenset() and stream_a.active == 0, 10)

        async with RawRtspClient("127.0.0.1", server.port) as client:
            url = server.url("cameras/a")
            assert (await client.request("DESCRIBE", url)).status == 200
            setup = await client.request(
                "SETUP", f"{url}/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
            )
            session = {"Session": (setup.headers.get("Session") or "").split(";")[0]}
            assert (await client.request("PLAY", url, session)).status == 200
            assert len(server.session_ids) == 1
            # The path went away: the next DESCRIBE is 404 and its sessions end.
            del streams["cameras/a"]
            async with RawRtspClient("127.0.0.1", server.port) as other:
                assert (await other.request("DESCRIBE", url)).status == 404
            assert server.session_ids == frozenset()
            assert server.mounted == frozenset()
            assert await client.wait_closed(10)
