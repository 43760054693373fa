"""The RTSP client's pure layers: the handshake against a scripted server, and the receivers."""

from __future__ import annotations

import pytest

from platonicam.rtsp import h264, h265
from platonicam.rtsp.aac import packetize as packetize_aac
from platonicam.rtsp.auth import DigestVerifier
from platonicam.rtsp.client import (
    AacReceiver,
    AudioDescription,
    AudioFrame,
    ClientHandshake,
    RtspClient,
    RtspCredentials,
    VideoReceiver,
    parse_url,
    resolve_control,
)
from platonicam.rtsp.errors import (
    RtpError,
    RtspAuthenticationError,
    RtspError,
    RtspProtocolError,
    RtspStatusError,
    SdpError,
)
from platonicam.rtsp.message import Headers, RtspRequest, RtspResponse
from platonicam.rtsp.receivers import _Budget
from platonicam.rtsp.rtp import RtcpSenderReport, RtpPacket, ntp_from_unix
from platonicam.rtsp.sdp import describe_stream
from platonicam.rtsp.stream import StreamDescription, VideoCodec

SPS = bytes.fromhex("6742c01e8c8d40a02f2f00f08844")
PPS = bytes.fromhex("68ce3c80")
IDR = bytes([0x65]) + bytes(range(1, 200))
P_SLICE = bytes([0x41]) + bytes(range(50, 90))
STREAM = StreamDescription(VideoCodec.H264, 320, 180, 25.0, (SPS, PPS))
URL = "rtsp://127.0.0.1:8554/cam"


def response(status: int, request: RtspRequest, **headers: str) -> RtspResponse:
    fields = [("CSeq", request.headers.get("CSeq") or "0")]
    body = headers.pop("body", "").encode()
    fields.extend((name.replace("_", "-"), value) for name, value in headers.items())
    return RtspResponse(status, Headers(tuple(fields)), body)


def sdp_text(extra_media: str = "") -> str:
    return str(describe_stream(STREAM, control="trackID=0")) + extra_media


class TestUrl:
    def test_credentials_leave_the_url(self) -> None:
        parsed = parse_url("rtsp://admin:p%40ss%3Aword@10.0.0.9/Streaming/101")
        assert parsed.url == "rtsp://10.0.0.9/Streaming/101"
        assert (parsed.host, parsed.port, parsed.tls) == ("10.0.0.9", 554, False)
        assert parsed.credentials == RtspCredentials("admin", "p@ss:word")
        assert "p@ss" not in repr(parsed)

    def test_rtsps_defaults_to_port_322(self) -> None:
        parsed = parse_url("rtsps://cam.example:7441/live")
        assert (parsed.url, parsed.port, parsed.tls) == (
            "rtsps://cam.example:7441/live",
            7441,
            True,
        )
        assert parse_url("rtsps://cam.example/live").port == 322

    def test_other_schemes_are_refused_without_echoing_the_url(self) -> None:
        with pytest.raises(RtspError) as caught:
            parse_url("http://admin:hunter2@cam/")
        assert str(caught.value) == "not an rtsp:// or rtsps:// URL (scheme 'http')"

    @pytest.mark.parametrize(
        ("base", "control", "expected"),
        [
            ("rtsp://h/live/", "trackID=1", "rtsp://h/live/trackID=1"),
            # Hikvision-style base without a trailing slash still means "append".
            (
                "rtsp://h/Streaming/Channels/101",
                "trackID=1",
                "rtsp://h/Streaming/Channels/101/trackID=1",
            ),
            ("rtsp://h/live/", "rtsp://other/x", "rtsp://other/x"),
            ("rtsp://h/live/", "*", "rtsp://h/live/"),
            ("rtsp://h/live/", None, "rtsp://h/live/"),
        ],
    )
    def test_resolve_control(self, base: str, control: str | None, expected: str) -> None:
        assert resolve_control(base, control) == expected

    def test_client_repr_hides_the_password(self) -> None:
        client = RtspClient("rtsp://admin:hunter2@127.0.0.1/cam")
        assert "hunter2" not in repr(client)
        assert repr(client) == (
            "RtspClient(url='rtsp://127.0.0.1/cam', username='admin', transport='tcp', "
            "state='options')"
        )
        assert "hunter2" not in repr(RtspCredentials("admin", "hunter2"))


class ScriptedServer:
    """Answers handshake requests like a camera with Digest auth (no sockets)."""

    def __init__(
        self,
        password: str = "secret",  # noqa: S107 - test data
        *,
        public: str = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER",
    ) -> None:
        self.verifier = DigestVerifier("cam", lambda user: password if user == "admin" else None)
        self.public = public
        self.seen: list[RtspRequest] = []

    def answer(self, request: RtspRequest) -> RtspResponse:
        self.seen.append(request)
        if request.method == "OPTIONS":
            return response(200, request, Public=self.public)
        verdict = self.verifier.verify(request.method, request.headers.get("Authorization"), 10.0)
        if verdict.username is None:
            return response(401, request, WWW_Authenticate=str(self.verifier.challenge(10.0)))
        if request.method == "DESCRIBE":
            return response(
                200,
                request,
                Content_Base=URL + "/",
                Content_Type="application/sdp",
                body=sdp_text(),
            )
        if request.method == "SETUP":
            transport = request.headers.get("Transport") or ""
            return response(
                200, request, Transport=transport + ";ssrc=1234ABCD", Session="f00d;timeout=30"
            )
        return response(200, request, Session="f00d")


def run_handshake(handshake: ClientHandshake, server: ScriptedServer) -> None:
    for _ in range(20):
        if handshake.state == "setup":
            for track in handshake.tracks_needing_ports:
                handshake.set_client_ports(track, (50000, 50001))
        request = handshake.next_request()
        if request is None:
            return
        handshake.receive(server.answer(request))
    raise AssertionError("the handshake did not finish")


class TestHandshake:
    def test_digest_login_setup_and_play_over_tcp(self) -> None:
        server = ScriptedServer()
        handshake = ClientHandshake(URL, RtspCredentials("admin", "secret"))
        run_handshake(handshake, server)
        assert [(r.method, r.uri) for r in server.seen] == [
            ("OPTIONS", URL),
            ("DESCRIBE", URL),
            ("DESCRIBE", URL),
            ("SETUP", URL + "/trackID=0"),
            ("PLAY", URL + "/"),
        ]
        assert [r.cseq for r in server.seen] == [1, 2, 3, 4, 5]
        assert server.seen[1].headers.get("Authorization") is None
        assert (server.seen[2].headers.get("Authorization") or "").startswith(
            'Digest username="admin"'
        )
        assert server.seen[3].headers.get("Transport") == "RTP/AVP/TCP;unicast;interleaved=0-1"
        assert server.seen[4].headers.get("Session") == "f00d"
        assert handshake.state == "playing"
        assert handshake.session_timeout == 30
        assert handshake.video == STREAM
        assert handshake.tracks[0].ssrc == 0x1234ABCD
        assert handshake.keepalive_method == "GET_PARAMETER"
        keepalive = handshake.keepalive_request()
        assert (keepalive.method, keepalive.uri, keepalive.headers.get("Session")) == (
            "GET_PARAMETER",
            URL + "/",
            "f00d",
        )
        assert server.answer(keepalive).status == 200  # still authorised
        teardown = handshake.teardown_request()
        assert teardown is not None
        assert teardown.method == "TEARDOWN"
        assert handshake.teardown_request() is None

    def test_options_is_the_keepalive_when_get_parameter_is_not_public(self) -> None:
        server = ScriptedServer(public="OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
        handshake = ClientHandshake(URL, RtspCredentials("admin", "secret"))
        run_handshake(handshake, server)
        assert handshake.keepalive_request().method == "OPTIONS"

    def test_udp_asks_for_ports_and_sends_client_port(self) -> None:
        server = ScriptedServer()
        handshake = ClientHandshake(URL, RtspCredentials("admin", "secret"), transport="udp")
        run_handshake(handshake, server)
        setup = next(r for r in server.seen if r.method == "SETUP")
        assert setup.headers.get("Transport") == "RTP/AVP;unicast;client_port=50000-50001"

    def test_wrong_password_names_the_user_not_the_password(self) -> None:
        handshake = ClientHandshake(URL, RtspCredentials("admin", "wrong-pass"))
        with pytest.raises(RtspAuthenticationError) as caught:
            run_handshake(handshake, ScriptedServer())
        assert str(caught.value) == f"DESCRIBE {URL} refused the credentials of user 'admin'"
        assert caught.value.status == 401
        assert "wrong-pass" not in str(caught.value)

    def test_401_without_credentials(self) -> None:
        handshake = ClientHandshake(URL)
        with pytest.raises(RtspAuthenticationError) as caught:
            run_handshake(handshake, ScriptedServer())
        assert str(caught.value) == f"DESCRIBE {URL} needs credentials and none are configured"

    def test_basic_when_it_is_the_only_challenge(self) -> None:
        handshake = ClientHandshake(URL, RtspCredentials("admin", "secret"))
        handshake.receive(response(200, handshake.next_request() or _never(), Public="DESCRIBE"))
        first = handshake.next_request()
        assert first is not None
        handshake.receive(response(401, first, WWW_Authenticate='Basic realm="cam"'))
        second = handshake.next_request()
        assert second is not None
        assert second.headers.get("Authorization") == "Basic YWRtaW46c2VjcmV0"
        assert second.cseq == 3

    def test_error_status_is_raised_with_method_and_code(self) -> None:
        handshake = ClientHandshake(URL)
        handshake.receive(response(200, handshake.next_request() or _never()))
        describe = handshake.next_request()
        assert describe is not None
        with pytest.raises(RtspStatusError) as caught:
            handshake.receive(
                RtspResponse(404, Headers.of({"CSeq": "2"}), reason="Stream Not Found")
            )
        assert (caught.value.status, caught.value.method) == (404, "DESCRIBE")
        assert str(caught.value) == f"DESCRIBE {URL} was answered 404 Stream Not Found"

    def test_sdp_without_video_is_an_sdp_error(self) -> None:
        handshake = ClientHandshake(URL)
        handshake.receive(response(200, handshake.next_request() or _never()))
        describe = handshake.next_request() or _never()
        body = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"
        with pytest.raises(SdpError, match="no video"):
            handshake.receive(response(200, describe, body=body))

    def test_setup_without_session_is_a_protocol_error(self) -> None:
        handshake = ClientHandshake(URL)
        handshake.receive(response(200, handshake.next_request() or _never()))
        describe = handshake.next_request() or _never()
        handshake.receive(response(200, describe, body=sdp_text()))
        setup = handshake.next_request() or _never()
        with pytest.raises(RtspProtocolError, match="without a Session header"):
            handshake.receive(response(200, setup, Transport="RTP/AVP/TCP;interleaved=0-1"))

    def test_aac_audio_is_set_up_on_channels_2_3(self) -> None:
        audio = (
            "m=audio 0 RTP/AVP 97\r\n"
            "a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"
            "a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
            "indexlength=3;indexdeltalength=3;config=1190\r\n"
            "a=control:trackID=1\r\n"
        )
        handshake = ClientHandshake(URL)
        handshake.receive(response(200, handshake.next_request() or _never()))
        describe = handshake.next_request() or _never()
        handshake.receive(response(200, describe, Content_Base=URL + "/", body=sdp_text(audio)))
        assert handshake.audio == AudioDescription("AAC", 48000, 2, bytes.fromhex("1190"))
        assert [(t.kind, t.uri, t.interleaved) for t in handshake.tracks] == [
            ("video", URL + "/trackID=0", (0, 1)),
            ("audio", URL + "/trackID=1", (2, 3)),
        ]
        setups = []
        for _ in range(2):
            setup = handshake.next_request() or _never()
            setups.append(setup.headers.get("Transport"))
            handshake.receive(
                response(200, setup, Transport=setup.headers.get("Transport") or "", Session="s1")
            )
        assert setups == [
            "RTP/AVP/TCP;unicast;interleaved=0-1",
            "RTP/AVP/TCP;unicast;interleaved=2-3",
        ]
        assert handshake.state == "play"


def _never() -> RtspRequest:
    raise AssertionError("expected a request")


def rtp(seq: int, ts: int, payload: bytes, marker: bool = False, pt: int = 96) -> bytes:
    return bytes(RtpPacket(pt, seq & 0xFFFF, ts & 0xFFFFFFFF, 0xABCD, payload, marker))


class TestVideoReceiver:
    def test_parameter_sets_in_own_packets_join_the_idr(self) -> None:
        receiver = VideoReceiver(STREAM, 96)
        # SPS and PPS as single-NAL packets with the IDR's timestamp, the PPS even
        # marked (as some cameras do): they must still land in the IDR's unit.
        assert receiver.rtp(rtp(1, 9000, SPS), 1.0) == []
        assert receiver.rtp(rtp(2, 9000, PPS, marker=True), 1.0) == []
        units = []
        fragments = h264.packetize([IDR], max_payload=100)
        for index, payload in enumerate(fragments):
            # No marker on the last fragment either: the timestamp change ends the unit.
            units += receiver.rtp(rtp(3 + index, 9000, payload, marker=False), 1.0)
        units += receiver.rtp(rtp(3 + len(fragments), 12600, P_SLICE, marker=True), 1.04)
        assert len(units) == 2
        idr, p = units
        assert idr.nal_units == (SPS, PPS, IDR)
        assert idr.keyframe
        assert idr.timestamp == 0
        assert p.nal_units == (P_SLICE,)
        assert not p.keyframe
        assert p.timestamp == 3600
        # No sender report yet: the arrival of the packet that completed each unit
        # (the IDR's unmarked end was only known when the P-frame arrived).
        assert (idr.wallclock, p.wallclock) == (1.04, 1.04)

    def test_sender_report_maps_wallclock(self) -> None:
        receiver = VideoReceiver(STREAM, 96)
        report = RtcpSenderReport(0xABCD, ntp_from_unix(1_700_000_000.0), 90_000, 10, 1000)
        receiver.rtcp(bytes(report))
        assert receiver.wallclock_mapped
        [unit] = receiver.rtp(rtp(1, 90_000 + 45_000, IDR, marker=True), 5.0)
        assert unit.wallclock == pytest.approx(1_700_000_000.5, abs=1e-6)

    def test_timestamps_unwrap_past_2_32(self) -> None:
        receiver = VideoReceiver(STREAM, 96)
        first = receiver.rtp(rtp(1, 0xFFFFF000, IDR, marker=True), 0.0)
        second = receiver.rtp(rtp(2, 0x00000800, P_SLICE, marker=True), 0.0)
        assert [u.timestamp for u in first + second] == [0, 0x1800]

    def test_in_band_parameter_sets_update_the_description(self) -> None:
        new_pps = bytes.fromhex("68ee3c81")
        receiver = VideoReceiver(STREAM, 96)
        receiver.rtp(rtp(1, 0, h264.packetize([SPS, new_pps, IDR], aggregate=True)[0], True), 0.0)
        assert receiver.description.parameter_sets == (SPS, new_pps)
        assert receiver.description.width == 320

    def test_loss_drops_units_until_the_next_keyframe(self) -> None:
        receiver = VideoReceiver(STREAM, 96)
        fragments = h264.packetize([IDR], max_payload=100)
        out = receiver.rtp(rtp(1, 0, fragments[0]), 0.0)
        out += receiver.rtp(rtp(3, 0, fragments[2]), 0.0)  # seq 2 lost
        out += receiver.rtp(rtp(10, 3600, P_SLICE, marker=True), 0.0)
        out += receiver.rtp(rtp(11, 7200, P_SLICE, marker=True), 0.0)
        assert out == []
        assert receiver.dropped_units == 3
        [unit] = receiver.rtp(rtp(12, 10800, IDR, marker=True), 0.0)
        assert unit.keyframe

    def test_garbage_is_counted_and_skipped(self) -> None:
        receiver = VideoReceiver(STREAM, 96)
        assert receiver.rtp(b"\x00garbage-not-rtp", 0.0) == []
        [first] = receiver.rtp(rtp(1, 0, IDR, marker=True), 0.0)
        assert first.nal_units == (IDR,)
        assert receiver.rtp(rtp(2, 3600, bytes([0x1E, 1, 2]), marker=True), 0.0) == []  # type 30
        assert receiver.rtp(rtp(3, 7200, IDR, pt=8, marker=True), 0.0) == []
        # The skipped packets count as lost: the next P-frame cannot be trusted.
        assert receiver.rtp(rtp(4, 10800, P_SLICE, marker=True), 0.0) == []
        [again] = receiver.rtp(rtp(5, 14400, IDR, marker=True), 0.0)
        assert again.keyframe
        assert receiver.malformed_packets == 3
        assert receiver.dropped_units == 2

    def test_too_much_garbage_fails_the_stream(self) -> None:
        receiver = VideoReceiver(STREAM, 96, _Budget(5))
        for _ in range(5):
            receiver.rtp(b"junk", 0.0)
        with pytest.raises(RtpError, match="6 of the last 6 RTP packets were malformed"):
            receiver.rtp(b"junk", 0.0)

    def test_budget_forgets_old_garbage(self) -> None:
        budget = _Budget(3)
        for _ in range(3):
            budget.record(True)
        for _ in range(100):
            budget.record(False)
        for _ in range(3):
            budget.record(True)
        assert budget.total == 6

    def test_h265_fu_and_parameter_sets(self) -> None:
        vps = bytes([0x40, 0x01]) + b"\x0c\x01\xff\xff"
        sps = bytes([0x42, 0x01]) + b"\x01\x01\x60"
        pps = bytes([0x44, 0x01]) + b"\xc1\x72"
        idr = bytes([0x26, 0x01]) + bytes(range(1, 256)) * 2
        description = StreamDescription(VideoCodec.H265, 0, 0, 0.0, ())
        receiver = VideoReceiver(description, 96)
        units = []
        payloads = h265.packetize([vps, sps, pps], aggregate=True) + h265.packetize([idr], 120)
        for index, payload in enumerate(payloads):
            units += receiver.rtp(rtp(index, 0, payload, index == len(payloads) - 1), 0.0)
        [unit] = units
        assert unit.nal_units == (vps, sps, pps, idr)
        assert unit.keyframe
        assert receiver.description.parameter_sets == (vps, sps, pps)


class TestAacReceiver:
    def test_two_frames_in_one_packet(self) -> None:
        description = AudioDescription("AAC", 48000, 2, b"\x11\x90")
        receiver = AacReceiver(description, 97, _Budget(10))
        frames = [b"\x21" * 10, b"\x22" * 7]
        headers = b"".join((len(f) << 3).to_bytes(2, "big") for f in frames)
        payload = (16 * len(frames)).to_bytes(2, "big") + headers + b"".join(frames)
        out = receiver.rtp(rtp(1, 1000, payload, True, pt=97), 3.0)
        assert [(f.data, f.timestamp, f.wallclock) for f in out] == [
            (frames[0], 0, 3.0),
            (frames[1], 1024, 3.0),
        ]

    def test_a_frame_in_fragments_is_joined(self) -> None:
        receiver = AacReceiver(AudioDescription("AAC", 48000, 1, b"\x11\x88"), 97, _Budget(10))
        frame = bytes(range(256)) * 8  # 2048 bytes: more than one packet
        payloads = packetize_aac(frame, 700)
        assert len(payloads) == 3
        out: list[AudioFrame] = []
        for index, payload in enumerate(payloads):
            last = index == len(payloads) - 1
            out += receiver.rtp(rtp(5 + index, 4800, payload, last, pt=97), 2.0)
        assert [(f.data, f.timestamp) for f in out] == [(frame, 0)]

    def test_truncated_frame_is_malformed(self) -> None:
        budget = _Budget(10)
        receiver = AacReceiver(AudioDescription("AAC", 8000, 1, b""), 97, budget)
        payload = (16).to_bytes(2, "big") + (100 << 3).to_bytes(2, "big") + b"short"
        assert receiver.rtp(rtp(1, 0, payload, True, pt=97), 0.0) == []
        assert budget.total == 1
