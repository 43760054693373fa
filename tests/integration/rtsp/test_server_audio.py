"""Our RTSP server's AAC track (RFC 3640), read on loopback by ffprobe, ffmpeg, GStreamer's
rtspsrc and our own client: a test pattern with a real AAC tone, as a camera with sound."""

from __future__ import annotations

import array
import asyncio
import functools
import itertools
import json
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import pytest

from platonicam.rtsp.client import RtspClient, TransportMode
from platonicam.rtsp.errors import RtspConnectionError
from platonicam.rtsp.message import parse_session
from platonicam.rtsp.rtp import RtpPacket
from platonicam.rtsp.sdp import SessionDescription, describe_media
from platonicam.rtsp.server import AUDIO_CONTROL, RtspServer
from platonicam.rtsp.stream import AccessUnit, AudioDescription, AudioFrame, VideoCodec
from tests.integration.media.gst import SYSTEM_PYTHON, needs_gstreamer
from tests.integration.rtsp.conftest import FFMPEG, FFPROBE, run, wait_until
from tests.integration.rtsp.pattern import PatternStream
from tests.integration.rtsp.rawclient import RawRtspClient

pytestmark = pytest.mark.timeout(180)

RATE = 48_000
SAMPLES = 1024
#: Seconds the test camera's clock is behind the real time.
SKEW = -3.7
GST_PLAY = str(Path(__file__).parents[1] / "media" / "gst_rtsp_play.py")


@functools.cache
def encode_tone(seconds: int = 2) -> tuple[bytes, tuple[bytes, ...]]:
    """(AudioSpecificConfig, raw AAC frames) of a 440 Hz stereo tone, encoded once."""
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = RATE
    context.layout = "stereo"
    context.format = "fltp"
    context.bit_rate = 128_000
    context.time_base = Fraction(1, RATE)
    context.open()
    packets = []
    for index in range(seconds * RATE // SAMPLES):
        start = index * SAMPLES
        samples = array.array(
            "f", (0.3 * math.sin(2 * math.pi * 440 * (start + i) / RATE) for i in range(SAMPLES))
        ).tobytes()
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=SAMPLES)
        for plane in frame.planes:
            plane.update(samples)
        frame.sample_rate = RATE
        frame.pts = start
        packets.extend(context.encode(frame))
    packets.extend(context.encode(None))
    config = bytes(context.extradata or b"")
    assert config[:2] == bytes.fromhex("1190"), config.hex()  # AAC-LC, 48 kHz, stereo
    return config, tuple(bytes(p) for p in packets)


class SoundPatternStream(PatternStream):
    """The test pattern with an AAC tone: an ``AudioStream``, as a camera with sound.

    Frames are paced by the wall clock; each subscription's timestamps count from 0
    (as a camera session's do) and their wall clock is exact (as RTCP gives it), on a
    camera clock :data:`SKEW` seconds behind ours (pictures too), so a receiver that
    took arrival times for it would be caught.
    :meth:`restart_audio_clock` starts the timestamps at 0 again (a camera reconnect);
    ``fail_after`` frames make the audio fail.
    """

    def __init__(self, *, sound: bool = True, fail_after: int | None = None) -> None:
        super().__init__(VideoCodec.H264)
        config, self.frames = encode_tone()
        self._audio = AudioDescription("AAC", RATE, 2, config) if sound else None
        self.fail_after = fail_after
        self.sent: list[AudioFrame] = []
        self.audio_subscriptions = 0
        self.audio_active = 0
        self._restarts = 0

    @property
    def audio(self) -> AudioDescription | None:
        return self._audio

    async def subscribe(self) -> AsyncGenerator[AccessUnit, None]:
        units = super().subscribe()
        assert isinstance(units, AsyncGenerator)
        try:
            async for unit in units:
                yield replace(unit, wallclock=unit.wallclock + SKEW)
        finally:
            await units.aclose()

    def change_audio(self) -> None:
        assert self._audio is not None
        self._audio = replace(self._audio, channels=1)

    def restart_audio_clock(self) -> None:
        self._restarts += 1

    async def subscribe_audio(self) -> AsyncIterator[AudioFrame]:
        self.audio_subscriptions += 1
        self.audio_active += 1
        try:
            loop = asyncio.get_running_loop()
            start, unix = loop.time(), time.time() + SKEW
            base, restarts = 0, self._restarts
            for index in itertools.count():
                if self.fail_after is not None and index == self.fail_after:
                    raise OSError("the microphone fell off")
                if restarts != self._restarts:
                    base, restarts = index, self._restarts
                delay = start + index * SAMPLES / RATE - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                frame = AudioFrame(
                    self.frames[index % len(self.frames)],
                    (index - base) * SAMPLES,
                    unix + index * SAMPLES / RATE,
                )
                self.sent.append(frame)
                yield frame
        finally:
            self.audio_active -= 1


async def probe(url: str, transport: str) -> dict[str, dict[str, object]]:
    result = await run(
        [
            FFPROBE, "-v", "error", "-rtsp_transport", transport,
            "-show_entries", "stream=codec_type,codec_name,sample_rate,channels",
            "-of", "json", url,
        ],
        60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {s["codec_type"]: s for s in json.loads(result.stdout)["streams"]}


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_ffprobe_finds_h264_and_aac(transport: str) -> None:
    async with RtspServer() as server:
        server.mount("cam", SoundPatternStream())
        streams = await probe(server.url("cam"), transport)
    assert set(streams) == {"video", "audio"}
    assert streams["video"]["codec_name"] == "h264"
    audio = streams["audio"]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)


@pytest.mark.parametrize(
    ("transport", "max_payload"),
    # 100-byte payloads cut every AAC frame into fragments the client must join.
    [("tcp", 1400), ("udp", 1400), ("tcp", 100)],
)
async def test_our_client_gets_the_frames_sent_on_their_wall_clock(
    transport: TransportMode, max_payload: int
) -> None:
    source = SoundPatternStream()
    async with RtspServer(max_payload=max_payload) as server:
        server.mount("cam", source)
        # Two viewers share the one audio subscription.
        async with (
            RtspClient(server.url("cam"), transport=transport) as client,
            RtspClient(server.url("cam"), transport=transport) as other,
        ):
            assert client.audio == source.audio
            assert [t.kind for t in client.handshake.tracks] == ["video", "audio"]
            got: list[AudioFrame] = []
            video: list[AccessUnit] = []
            async with asyncio.timeout(60):
                async for item in client.media():
                    if isinstance(item, AudioFrame):
                        got.append(item)
                    elif isinstance(item, AccessUnit):
                        video.append(item)
                    if len(got) >= 60 and len(video) >= 10:
                        received_at = time.time()
                        break
                async for item in other.media():
                    if isinstance(item, AudioFrame):
                        break
            assert source.audio_subscriptions == 1
    # The frames arrive whole and in order, 1024 ticks apart, each on its source's wall clock.
    first = next(
        (
            i
            for i, sent in enumerate(source.sent)
            if sent.data == got[0].data and abs(sent.wallclock - got[0].wallclock) < 0.05
        ),
        None,
    )
    assert first is not None, f"no frame like the first one was sent at {got[0].wallclock}"
    sent = source.sent[first : first + len(got)]
    assert [f.data for f in got] == [f.data for f in sent]
    assert [f.timestamp for f in got] == [k * SAMPLES for k in range(len(got))]
    errors = [abs(a.wallclock - b.wallclock) for a, b in zip(got, sent, strict=True)]
    assert max(errors) < 0.05, max(errors)
    # And near the video's (the pattern stamps pictures with the time they go out).
    assert abs(got[-1].wallclock - video[-1].wallclock) < 1.0
    assert video[-1].wallclock == pytest.approx(received_at + SKEW, abs=1.0)


async def test_ffmpeg_decodes_both_tracks_without_an_error() -> None:
    async with RtspServer() as server:
        server.mount("cam", SoundPatternStream())
        result = await run(
            [
                FFMPEG, "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
                "-i", server.url("cam"), "-map", "0:v", "-map", "0:a", "-t", "3", "-f", "null", "-",
            ],
            90,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


async def test_fragmented_frames_record_and_decode(tmp_path: Path) -> None:
    """RTP payloads of 200 bytes split every AAC frame (~300 bytes) in two (RFC 3640
    §3.2.3); ffmpeg joins them, records 3 s of both tracks over UDP, and they decode."""
    recording = tmp_path / "three-seconds.mp4"
    async with RtspServer(max_payload=200) as server:
        server.mount("cam", SoundPatternStream())
        result = await run(
            [
                FFMPEG, "-nostdin", "-v", "error", "-rtsp_transport", "udp",
                "-i", server.url("cam"), "-t", "3", "-c", "copy", "-y", str(recording),
            ],
            90,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    counted = await run(
        [
            FFPROBE, "-v", "error", "-count_packets",
            "-show_entries", "stream=codec_type,codec_name,nb_read_packets,start_time",
            "-of", "json", str(recording),
        ],
        60,
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    streams = {s["codec_type"]: s for s in json.loads(counted.stdout)["streams"]}
    # 3 s: 75 pictures at 25 fps, ~140 AAC frames at 48 kHz.
    assert int(streams["video"]["nb_read_packets"]) >= 60
    assert int(streams["audio"]["nb_read_packets"]) >= 110
    # Both tracks start together: the sender reports put them on one clock.
    start = float(streams["audio"]["start_time"]) - float(streams["video"]["start_time"])
    assert abs(start) < 0.5, streams
    decoded = await run(
        [FFMPEG, "-nostdin", "-v", "error", "-i", str(recording), "-f", "null", "-"], 60
    )
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stderr.strip() == ""


@needs_gstreamer
async def test_gstreamer_decodes_both_tracks() -> None:
    async with RtspServer() as server:
        server.mount("cam", SoundPatternStream())
        result = await run(
            [SYSTEM_PYTHON, GST_PLAY, server.url("cam"), "--frames", "1", "--audio", "40",
             "--timeout", "60"],
            90,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["audio"] >= 40, report
    assert report["frames"] >= 1, report
    assert (report["rate"], report["channels"]) == (RATE, 2)


async def test_a_mount_without_sound_describes_its_video_only() -> None:
    async with RtspServer() as server:
        plain = PatternStream(VideoCodec.H264)
        silent = SoundPatternStream(sound=False)  # an AudioStream, without a track now
        server.mount("plain", plain)
        server.mount("silent", silent)
        async with RawRtspClient("127.0.0.1", server.port) as client:
            for path, stream in (("plain", plain), ("silent", silent)):
                reply = await client.request("DESCRIBE", server.url(path))
                assert reply.status == 200
                sdp = SessionDescription.parse(reply.body.decode())
                assert "m=audio" not in reply.body.decode()
                assert sdp.media == (describe_media(stream.description, control="trackID=0"),)
                setup = await client.request(
                    "SETUP",
                    f"{server.url(path)}/{AUDIO_CONTROL}",
                    {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"},
                )
                assert setup.status == 404


async def test_the_audio_rtp_time_never_goes_back_when_the_source_clock_restarts() -> None:
    source = SoundPatternStream()
    async with RtspServer() as server:
        server.mount("cam", source)
        async with RawRtspClient("127.0.0.1", server.port) as raw:
            url = server.url("cam")
            assert (await raw.request("DESCRIBE", url)).status == 200
            setup = await raw.request(
                "SETUP", f"{url}/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
            )
            session = parse_session(setup.headers.get("Session") or "")[0]
            audio = await raw.request(
                "SETUP",
                f"{url}/{AUDIO_CONTROL}",
                {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3", "Session": session},
            )
            assert audio.status == 200
            play = await raw.request("PLAY", url, {"Session": session})
            assert play.status == 200
            infos = {
                fields["url"]: fields
                for fields in (
                    dict(item.split("=", 1) for item in entry.split(";"))
                    for entry in (play.headers.get("RTP-Info") or "").split(",")
                )
            }

            def audio_packets() -> list[RtpPacket]:
                return [RtpPacket.parse(p.payload) for p in raw.interleaved if p.channel == 2]

            async with asyncio.timeout(60):
                while len(audio_packets()) < 20:
                    await raw.read_interleaved(len(raw.interleaved) + 1)
                source.restart_audio_clock()
                before = len(audio_packets())
                while len(audio_packets()) < before + 20:
                    await raw.read_interleaved(len(raw.interleaved) + 1)
    times = [p.timestamp for p in audio_packets()]
    # RTP-Info names the audio's RTP time at the first picture's instant: the first frame
    # sent comes just after it (by the frames' and pictures' wall clocks).
    audio_info = infos[f"{url}/{AUDIO_CONTROL}"]
    assert int(audio_info["seq"]) == audio_packets()[0].sequence_number
    lead = ((times[0] - int(audio_info["rtptime"]) + 2**31) & 0xFFFFFFFF) - 2**31
    assert -0.25 < lead / RATE < 0.5, lead
    steps = [(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(times)]
    # Never backwards (a step "back" would be near 2**32), one frame or more at a time;
    # the restart costs the time that passed (a frame, plus scheduling), not a leap.
    assert all(SAMPLES <= step < 10 * RATE for step in steps), steps
    assert sum(step != SAMPLES for step in steps) <= 3, steps
    assert [p.marker for p in audio_packets()] == [True] * len(times)


async def test_a_failing_audio_source_silences_only_the_audio(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = SoundPatternStream(fail_after=30)
    async with RtspServer() as server:
        server.mount("cam", source)
        async with RtspClient(server.url("cam")) as client:
            pictures = 0
            async with asyncio.timeout(60):
                async for item in client.media():
                    pictures += isinstance(item, AccessUnit)
                    if pictures == 40:  # 1.6 s of video, well past the audio's 0.64 s
                        break
            assert server.session_ids  # the session lives on
    assert "the audio of the stream mounted at cam failed" in caplog.text
    assert source.audio_active == 0


async def test_a_changed_audio_track_ends_the_sessions_that_described_the_old_one() -> None:
    source = SoundPatternStream()
    async with RtspServer() as server:
        server.mount("cam", source)
        async with RtspClient(server.url("cam")) as client:
            async with asyncio.timeout(30):
                async for item in client.media():
                    if isinstance(item, AudioFrame):
                        break
                source.change_audio()
                with pytest.raises(RtspConnectionError):
                    async for _ in client.media():
                        pass
        # A new client is told of the new track.
        async with RtspClient(server.url("cam")) as client:
            assert client.audio == source.audio
            assert client.audio is not None
            assert client.audio.channels == 1


async def test_on_demand_audio_comes_and_goes_with_the_video() -> None:
    source = SoundPatternStream()
    async with RtspServer(idle_timeout=0.3) as server:
        server.mount("cam", source, on_demand=True)
        assert source.audio_subscriptions == 0
        async with RtspClient(server.url("cam")) as client:
            async with asyncio.timeout(30):
                async for item in client.media():
                    if isinstance(item, AudioFrame):
                        break
            assert (source.active, source.audio_active) == (1, 1)
        await wait_until(lambda: source.active == 0 and source.audio_active == 0, 30)
        assert server.subscribed == frozenset()
        # Asked again: video and audio are subscribed again, the RTP time still goes on.
        async with RtspClient(server.url("cam")) as client:
            async with asyncio.timeout(30):
                async for item in client.media():
                    if isinstance(item, AudioFrame):
                        break
        assert source.audio_subscriptions == 2
