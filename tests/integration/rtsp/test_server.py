"""The RTSP server over raw loopback sockets: sessions, transports, timeouts, reconfiguration."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator

import pytest

from platonicam.rtsp import h264
from platonicam.rtsp.message import parse_session, parse_transport
from platonicam.rtsp.rtp import RtcpSenderReport, RtpPacket
from platonicam.rtsp.sdp import SessionDescription
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import AccessUnit
from tests.integration.rtsp.conftest import wait_until
from tests.integration.rtsp.pattern import PatternStream
from tests.integration.rtsp.rawclient import RawRtspClient

TCP_0_1 = "RTP/AVP/TCP;unicast;interleaved=0-1"
TCP_2_3 = "RTP/AVP/TCP;unicast;interleaved=2-3"


async def test_options_and_errors(server: RtspServer) -> None:
    url = server.url("cam")
    async with RawRtspClient("127.0.0.1", server.port) as client:
        options = await client.request("OPTIONS", url)
        assert options.status == 200
        assert "GET_PARAMETER" in (options.headers.get("Public") or "")
        assert (await client.request("DESCRIBE", server.url("nope"))).status == 404
        assert (await client.request("PLAY", url, {"Session": "feedbeef"})).status == 454
        multicast = await client.request(
            "SETUP", url + "/trackID=0", {"Transport": "RTP/AVP;multicast"}
        )
        assert multicast.status == 461
        assert (await client.request("RECORD", url)).status == 501
        assert server.session_ids == frozenset()
    async with RawRtspClient("127.0.0.1", server.port) as client:
        assert client._writer is not None
        client._writer.write(b"NOT RTSP AT ALL\r\n\r\n")
        assert await client.wait_closed(5)


async def test_repeated_describe_and_setup_do_not_add_tracks(
    server: RtspServer, h264_stream: PatternStream
) -> None:
    url = server.url("cam")
    async with RawRtspClient("127.0.0.1", server.port) as client:
        first = await client.request("DESCRIBE", url)
        second = await client.request("DESCRIBE", url)
        assert first.status == second.status == 200
        assert first.body == second.body
        assert first.headers.get("Content-Base") == url + "/"
        sdp = SessionDescription.parse(second.body.decode())
        assert len(sdp.media) == 1
        assert sdp.media[0].control == "trackID=0"
        track = url + "/trackID=0"
        setup1 = await client.request("SETUP", track, {"Transport": TCP_0_1})
        assert setup1.status == 200
        session_id, timeout = parse_session(setup1.headers.get("Session") or "")
        assert timeout == 60
        setup2 = await client.request("SETUP", track, {"Transport": TCP_2_3, "Session": session_id})
        assert setup2.status == 200
        assert parse_session(setup2.headers.get("Session") or "")[0] == session_id
        [transport] = parse_transport(setup2.headers.get("Transport") or "")
        assert transport.interleaved == (2, 3)
        assert server.session_ids == {session_id}

        play = await client.request("PLAY", url + "/", {"Session": session_id})
        assert play.status == 200
        rtp_info = play.headers.get("RTP-Info") or ""
        assert rtp_info.count("url=") == 1
        fields = dict(p.split("=", 1) for p in rtp_info.split(";"))
        assert fields["url"] == track
        packets = await client.read_interleaved(40)
    # Only the replacement transport is used: nothing on channels 0 and 1.
    assert {p.channel for p in packets} == {2, 3}
    rtp = [RtpPacket.parse(p.payload) for p in packets if p.channel == 2]
    rtcp = [RtcpSenderReport.parse(p.payload) for p in packets if p.channel == 3]
    # RTP-Info names exactly the first packet sent, which starts a keyframe whose
    # parameter sets travel in-band ahead of the IDR slice.
    assert rtp[0].sequence_number == int(fields["seq"])
    assert rtp[0].timestamp == int(fields["rtptime"])
    assert [h264.nal_type(p.payload) for p in rtp[:2]] == [h264.SPS, h264.PPS]
    assert rtp[0].payload == h264_stream.description.parameter_sets[0]
    assert all(
        b.sequence_number == (a.sequence_number + 1) & 0xFFFF for a, b in itertools.pairwise(rtp)
    )
    assert len({p.ssrc for p in rtp}) == 1
    assert rtcp[0].ssrc == rtp[0].ssrc
    assert rtcp[0].rtp_timestamp == rtp[0].timestamp


async def test_udp_transport_delivers_to_client_ports(server: RtspServer) -> None:
    url = server.url("cam")
    rtp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rtp_sock.bind(("127.0.0.1", 0))
        rtcp_sock.bind(("127.0.0.1", 0))
        rtp_sock.setblocking(False)
        rtcp_sock.setblocking(False)
        ports = f"{rtp_sock.getsockname()[1]}-{rtcp_sock.getsockname()[1]}"
        async with RawRtspClient("127.0.0.1", server.port) as client:
            setup = await client.request(
                "SETUP", url + "/trackID=0", {"Transport": f"RTP/AVP;unicast;client_port={ports}"}
            )
            assert setup.status == 200
            [transport] = parse_transport(setup.headers.get("Transport") or "")
            assert transport.client_port is not None
            assert f"{transport.client_port[0]}-{transport.client_port[1]}" == ports
            assert transport.server_port is not None
            assert transport.server_port[0] % 2 == 0
            assert transport.server_port[1] == transport.server_port[0] + 1
            session_id = parse_session(setup.headers.get("Session") or "")[0]
            play = await client.request("PLAY", url, {"Session": session_id})
            assert play.status == 200
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(10):
                first = RtpPacket.parse(await loop.sock_recv(rtp_sock, 2048))
                report = RtcpSenderReport.parse(await loop.sock_recv(rtcp_sock, 2048))
            assert h264.nal_type(first.payload) == h264.SPS
            assert report.ssrc == first.ssrc
            teardown = await client.request("TEARDOWN", url, {"Session": session_id})
            assert teardown.status == 200
            assert server.session_ids == frozenset()
    finally:
        rtp_sock.close()
        rtcp_sock.close()


async def test_session_timeout_frees_the_session(h264_stream: PatternStream) -> None:
    async with RtspServer(session_timeout=0.5) as server:
        server.mount("cam", h264_stream)
        url = server.url("cam")
        async with (
            RawRtspClient("127.0.0.1", server.port) as idle,
            RawRtspClient("127.0.0.1", server.port) as alive,
        ):
            transport = {"Transport": "RTP/AVP;unicast;client_port=40000-40001"}
            idle_setup = await idle.request("SETUP", url + "/trackID=0", transport)
            alive_setup = await alive.request("SETUP", url + "/trackID=0", transport)
            idle_id = parse_session(idle_setup.headers.get("Session") or "")[0]
            alive_id = parse_session(alive_setup.headers.get("Session") or "")[0]
            assert idle_setup.headers.get("Session") == f"{idle_id};timeout=1"
            assert server.session_ids == {idle_id, alive_id}
            for _ in range(8):  # 1.6 s of GET_PARAMETER keep-alives every 0.2 s
                await asyncio.sleep(0.2)
                keepalive = await alive.request("GET_PARAMETER", url, {"Session": alive_id})
                assert keepalive.status == 200
            assert server.session_ids == {alive_id}
            gone = await idle.request("GET_PARAMETER", url, {"Session": idle_id})
            assert gone.status == 454


async def test_reconfigured_stream_ends_old_sessions(
    server: RtspServer, h264_stream: PatternStream
) -> None:
    url = server.url("cam")
    async with RawRtspClient("127.0.0.1", server.port) as client:
        old_sdp = SessionDescription.parse((await client.request("DESCRIBE", url)).body.decode())
        setup = await client.request("SETUP", url + "/trackID=0", {"Transport": TCP_0_1})
        session_id = parse_session(setup.headers.get("Session") or "")[0]
        assert (await client.request("PLAY", url, {"Session": session_id})).status == 200
        await client.read_interleaved(5)
        h264_stream.reconfigure()
        assert await client.wait_closed(5)
    assert server.session_ids == frozenset()
    async with RawRtspClient("127.0.0.1", server.port) as client:
        new_sdp = SessionDescription.parse((await client.request("DESCRIBE", url)).body.decode())
    assert old_sdp.origin.split()[2] == "0"
    assert new_sdp.origin.split()[2] == "1"
    assert h264_stream.subscriptions == 1


async def test_disconnect_ends_tcp_session_and_close_unsubscribes(
    h264_stream: PatternStream,
) -> None:
    server = RtspServer()
    server.mount("cam", h264_stream)
    await server.start()
    try:
        url = server.url("cam")
        async with RawRtspClient("127.0.0.1", server.port) as client:
            setup = await client.request("SETUP", url + "/trackID=0", {"Transport": TCP_0_1})
            session_id = parse_session(setup.headers.get("Session") or "")[0]
            assert (await client.request("PLAY", url, {"Session": session_id})).status == 200
            assert server.session_ids == {session_id}
        await wait_until(lambda: not server.session_ids, 5)
        assert h264_stream.active == 1
    finally:
        await server.close()
    assert h264_stream.active == 0
    assert not server.running


async def test_mount_rules(h264_stream: PatternStream) -> None:
    async with RtspServer() as server:
        server.mount("/a/b/", h264_stream)
        assert server.url("a/b") == f"rtsp://127.0.0.1:{server.port}/a/b"
        with pytest.raises(Exception, match="already mounted at 'a/b'"):
            server.mount("a/b", h264_stream)
        await server.unmount("a/b")
        assert h264_stream.active == 0
        async with RawRtspClient("127.0.0.1", server.port) as client:
            assert (await client.request("DESCRIBE", server.url("a/b"))).status == 404


class HeavyStream:
    """Synthetic, undecodable access units big enough to fill a stalled TCP client's buffers."""

    def __init__(self, pattern: PatternStream) -> None:
        self.description = pattern.description
        self.subscriptions = 0

    async def subscribe(self) -> AsyncIterator[AccessUnit]:
        self.subscriptions += 1
        index = 0
        while True:
            keyframe = index % 5 == 0
            header = 0x65 if keyframe else 0x41
            yield AccessUnit(
                nal_units=(bytes((header,)) + bytes(60_000),),
                timestamp=index * 3600,
                keyframe=keyframe,
                wallclock=time.time(),
            )
            index += 1
            await asyncio.sleep(0.01)


async def test_stalled_tcp_client_skips_to_the_next_keyframe(h264_stream: PatternStream) -> None:
    stream = HeavyStream(h264_stream)
    high_water = 256 * 1024
    async with RtspServer(tcp_high_water=high_water) as server:
        server.mount("heavy", stream)
        url = server.url("heavy")
        reader_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        reader_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader_sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(reader_sock, ("127.0.0.1", server.port))
        async with RawRtspClient("127.0.0.1", server.port, sock=reader_sock) as client:
            setup = await client.request("SETUP", url + "/trackID=0", {"Transport": TCP_0_1})
            session_id = parse_session(setup.headers.get("Session") or "")[0]
            assert (await client.request("PLAY", url, {"Session": session_id})).status == 200
            # Stop reading for a while: ~6 MB/s is produced meanwhile.
            peak = 0
            for _ in range(100):
                await asyncio.sleep(0.02)
                for connection in server._connections:
                    peak = max(peak, connection.transport.get_write_buffer_size())
            packets = await client.read_interleaved(3000, timeout=20)
    # The backlog stayed bounded: at most the high-water mark plus one access unit.
    assert 0 < peak <= high_water + 70_000
    rtp = [RtpPacket.parse(p.payload) for p in packets if p.channel == 0]
    gaps = [
        (a, b)
        for a, b in itertools.pairwise(rtp)
        if (b.sequence_number - a.sequence_number) & 0xFFFF != 1
    ]
    assert gaps, "the stalled client should have skipped packets"
    for _, resumed in gaps:
        # Every resumption is the first packet of a keyframe: SPS, in-band.
        assert h264.nal_type(resumed.payload) == h264.SPS
    assert stream.subscriptions == 1
