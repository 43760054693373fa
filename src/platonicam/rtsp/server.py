"""The RTSP server: live streams mounted at paths, served to many clients over TCP or UDP.

Strategy:

* **One subscription per mount.** :meth:`RtspServer.mount` subscribes once to
  the :class:`~platonicam.rtsp.stream.LiveStream` (when the server runs) and
  keeps that subscription for as long as the path is mounted. Each access unit
  is packetized once into RTP packets (one SSRC and one sequence-number space
  per mount and track) and the same bytes go to every playing client; TCP clients get
  them ``$``-framed on their RTSP connection, UDP clients get datagrams from
  the server's one RTP/RTCP port pair. Nothing is packetized while nobody plays.
* **Start at a keyframe.** PLAY is answered when the next keyframe arrives, so
  ``RTP-Info`` names the exact sequence number and RTP time of the first packet
  the client gets. Keyframes carry the parameter sets in-band too (prepended
  when the source did not), so a decoder can start without the SDP's copy.
* **Never buffer without bound.** A TCP client whose socket buffer holds more
  than :data:`TCP_HIGH_WATER` bytes misses packets until the next keyframe
  after it drained; UDP simply drops. A client that disconnects only ends its
  own session.
* **Sessions** (RFC 2326 §12.37) expire after ``session_timeout`` seconds
  without a request, RTCP or interleaved data from the client. A TCP-interleaved
  session also ends with its connection; a UDP session outlives it until
  TEARDOWN or timeout, as the RFC intends. A session has the mount's video
  track (``trackID=0``) and, when the mount has them, its AAC audio track
  (``trackID=2``) and its ONVIF metadata track (``trackID=1``); a second SETUP
  of a track replaces its transport instead of adding a track.
* **Metadata.** A mount's optional
  :class:`~platonicam.rtsp.metadata.MetadataSource` is subscribed like the
  video; each document goes out as RTP packets of its own SSRC and sequence
  space (marker on the last, see :mod:`platonicam.rtsp.metadata`) to the
  playing sessions that set the track up, with its own RTCP sender reports.
  A congested TCP client misses whole documents, never parts of one.
* **Audio.** When a mount's stream is an
  :class:`~platonicam.rtsp.stream.AudioStream` whose ``audio`` is set at
  DESCRIBE, the SDP has an ``m=audio`` section (RFC 3640 ``mpeg4-generic``,
  ``AAC-hbr``, see :mod:`platonicam.rtsp.aac`). The mount subscribes to
  ``subscribe_audio()`` once its video subscription delivered its first access
  unit (only then does a gateway's camera know its sound), and ends it with the
  video's, on-demand included; a failing audio source silences the audio
  track only. Each frame goes out once for all sessions that set the track up,
  one frame per packet (fragmented when larger), in its own SSRC and sequence
  space, a sender report ahead of a session's first packet; a congested TCP
  client misses whole frames. The RTP time is a random offset plus the
  frame's timestamp (sample-rate ticks), and never goes backwards: when the
  source's timestamps do (a camera reconnected: its clock starts again) or run
  more than :data:`MAX_AUDIO_JUMP` seconds ahead of the time that passed, the
  offset is re-based so the RTP time goes on by the time that passed here
  since the previous frame (at least one frame), and a sender report with the
  new mapping goes out with the next packet. A session whose stream's AAC
  track changed (rate, channels, config) since its SETUP is ended, as for
  reconfigured video. ``RTP-Info`` names, for the audio, the RTP time of the
  first video picture's wall clock, so players line both tracks up from the
  start.
* **Reconfiguration.** DESCRIBE always answers with the stream's current
  description. When access units of a new ``generation`` arrive, sessions set
  up for an older one are ended and their connections closed, so clients
  reconnect and fetch the new SDP.
* **Wall clock.** An RTCP sender report goes out when a client starts and every
  :data:`SENDER_REPORT_INTERVAL` seconds on each track, mapping RTP time to the
  access units' (documents', audio frames') ``wallclock``: what lets players
  and our client line the tracks up.
* **On demand.** A mount made with ``on_demand=True`` subscribes only when a
  client asks for it: DESCRIBE, SETUP and PLAY wait (at most
  :data:`PLAY_START_TIMEOUT`) for its first access unit, so the description is
  the live one. Once no session has used it for ``idle_timeout`` seconds the
  subscription is closed again (the source, e.g. a camera, can disconnect).
* **Mounts made on request.** A server given a ``resolver`` asks it about
  paths nobody mounted (on DESCRIBE, and on SETUP of a track under such a
  path) and about the paths it mounted that way (on every DESCRIBE, so a path
  that went away answers 404 and its sessions end). Such a mount is removed
  once it has been idle for ``idle_timeout`` seconds.
* **Per-mount access.** A mount's ``authorize`` callable sees every request
  that names it without one of its sessions (DESCRIBE, a session's first
  SETUP, a sessionless GET_PARAMETER) and answers who asks or 401 with its
  challenge. A session, created by an authorized SETUP and named by 64 random
  bits, then authorizes its own PLAY, PAUSE, TEARDOWN and keep-alives on its
  mount (and nothing on another one). Credentials may
  ride in the URL's query: when the DESCRIBE URL has one, the SDP names each
  track by an absolute URL carrying the same query, because clients disagree
  on whether a relative control URL inherits the query (an absolute one is
  used as is by FFmpeg, GStreamer and live555). Queries never reach the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import socket
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Final, Self

from platonicam.rtsp import h264, h265
from platonicam.rtsp.aac import AAC_PAYLOAD_TYPE, SAMPLES_PER_FRAME, describe_aac_media
from platonicam.rtsp.aac import packetize as packetize_aac
from platonicam.rtsp.auth import DigestVerifier, PasswordLookup
from platonicam.rtsp.errors import RtpError, RtspError, RtspProtocolError
from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
    TransportSpec,
    interleaved_header,
    parse_session,
    parse_transport,
)
from platonicam.rtsp.metadata import (
    METADATA_CLOCK_RATE,
    METADATA_PAYLOAD_TYPE,
    MetadataDocument,
    MetadataSource,
    describe_metadata_media,
)
from platonicam.rtsp.metadata import packetize as packetize_metadata
from platonicam.rtsp.rtp import RtcpSenderReport, RtpPacket, ntp_from_unix, random_ssrc
from platonicam.rtsp.sdp import VIDEO_PAYLOAD_TYPE, describe_stream
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    AudioStream,
    LiveStream,
    StreamDescription,
    VideoCodec,
)
from platonicam.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DEFAULT_SESSION_TIMEOUT: Final = 60.0
#: Seconds between RTCP sender reports to each playing client.
SENDER_REPORT_INTERVAL: Final = 5.0
#: Bytes queued for a TCP client beyond which it skips forward to the next keyframe.
TCP_HIGH_WATER: Final = 1024 * 1024
#: How long PLAY waits for a keyframe before answering 503.
PLAY_START_TIMEOUT: Final = 10.0
#: The control name of the (only) track of a mount.
TRACK_CONTROL: Final = "trackID=0"
#: The control name of a mount's metadata track (when it has a metadata source).
METADATA_CONTROL: Final = "trackID=1"
#: The control name of a mount's AAC audio track (when its stream has sound).
AUDIO_CONTROL: Final = "trackID=2"
#: Seconds the source's audio timestamps may run ahead of the time that passed before
#: the server takes it for a restarted clock (and re-bases the RTP time).
MAX_AUDIO_JUMP: Final = 2.0
#: Default seconds an on-demand mount stays subscribed after its last session ended.
DEFAULT_IDLE_TIMEOUT: Final = 10.0
PUBLIC_METHODS: Final = (
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
)
SERVER_NAME: Final = "PlatoniCam"
_METHODS: Final = frozenset(m.strip() for m in PUBLIC_METHODS.split(","))

Address = tuple[str, int]
_Reply = Callable[..., RtspResponse]


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """A mount authorizer's answer: ``principal`` (who asks, for the log) when the request
    may use the mount; otherwise ``None``, and ``challenge`` is the ``WWW-Authenticate``
    value of the 401 answer (none is sent when it is ``None``)."""

    principal: str | None
    challenge: str | None = None


#: Decides whether a request (without a session) may use a mount; must not block.
MountAuthorizer = Callable[[RtspRequest], AccessDecision]


@dataclass(frozen=True, slots=True)
class Mountpoint:
    """What a resolver mounts at a path (the arguments of :meth:`RtspServer.mount`)."""

    stream: LiveStream
    metadata: MetadataSource | None = None
    authorize: MountAuthorizer | None = None
    on_demand: bool = False


#: Asked about a path (unquoted, without slashes around it) nobody mounted: what to serve
#: there, or ``None`` (404). Raise :class:`RtspError` when it cannot tell (500).
MountResolver = Callable[[str], Awaitable[Mountpoint | None]]


class _TcpSink:
    """Interleaved delivery on the client's RTSP connection."""

    def __init__(
        self, transport: asyncio.WriteTransport, channels: tuple[int, int], high_water: int
    ) -> None:
        self.transport = transport
        self.channels = channels
        self.high_water = high_water

    def describe(self, ssrc: int) -> TransportSpec:
        return TransportSpec("RTP/AVP/TCP", interleaved=self.channels, ssrc=ssrc)

    @property
    def congested(self) -> bool:
        return self.transport.get_write_buffer_size() > self.high_water

    def send_rtp(self, packets: Sequence[bytes]) -> None:
        if self.transport.is_closing():
            return
        header = interleaved_header
        channel = self.channels[0]
        self.transport.writelines([header(channel, len(p)) + p for p in packets])

    def send_rtcp(self, packet: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(interleaved_header(self.channels[1], len(packet)) + packet)


class _UdpSink:
    """Datagrams from the server's port pair to the client's ``client_port`` pair."""

    def __init__(self, ports: _UdpPorts, rtp: Address, rtcp: Address) -> None:
        self.ports = ports
        self.rtp = rtp
        self.rtcp = rtcp

    def describe(self, ssrc: int) -> TransportSpec:
        return TransportSpec(
            "RTP/AVP",
            client_port=(self.rtp[1], self.rtcp[1]),
            server_port=self.ports.numbers,
            ssrc=ssrc,
        )

    @property
    def congested(self) -> bool:
        return False

    def send_rtp(self, packets: Sequence[bytes]) -> None:
        for packet in packets:
            self.ports.rtp.sendto(packet, self.rtp)

    def send_rtcp(self, packet: bytes) -> None:
        self.ports.rtcp.sendto(packet, self.rtcp)


class _UdpActivity(asyncio.DatagramProtocol):
    """Receives what clients send to our ports (RTCP receiver reports, NAT punches)."""

    def __init__(self, server: RtspServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._server._udp_activity((str(addr[0]), int(str(addr[1]))))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a client that went away: its session times out.
        log.debug("UDP error from a client: %s", exc)


@dataclass(slots=True)
class _UdpPorts:
    rtp: asyncio.DatagramTransport
    rtcp: asyncio.DatagramTransport
    numbers: tuple[int, int]

    def close(self) -> None:
        self.rtp.close()
        self.rtcp.close()


class _Track:
    """One RTP stream of a mount (video, metadata or audio): its SSRC, sequence
    space, random RTP time offset, sent counts, and the (wall clock, RTP time)
    pair its sender reports announce."""

    def __init__(self, payload_type: int) -> None:
        self.payload_type = payload_type
        self.ssrc = random_ssrc()
        self.sequence = secrets.randbits(16)
        self.offset = secrets.randbits(32)
        self.packets = 0
        self.octets = 0
        self.mapping: tuple[float, int] = (0.0, self.offset)
        self._last_report = float("-inf")

    def packets_of(self, payloads: Sequence[bytes], rtp_time: int, wallclock: float) -> list[bytes]:
        """RTP packets of one media unit (the marker on its last packet); the unit's
        ``wallclock`` becomes what the next sender report maps ``rtp_time`` to."""
        last = len(payloads) - 1
        packets = [
            bytes(
                RtpPacket(
                    self.payload_type,
                    (self.sequence + index) & 0xFFFF,
                    rtp_time,
                    self.ssrc,
                    payload,
                    marker=index == last,
                )
            )
            for index, payload in enumerate(payloads)
        ]
        self.sequence = (self.sequence + len(payloads)) & 0xFFFF
        self.packets += len(payloads)
        self.octets += sum(len(p) for p in payloads)
        self.mapping = (wallclock, rtp_time)
        return packets

    def report(self) -> bytes:
        """An RTCP sender report of the current mapping and counts."""
        wallclock, rtp_time = self.mapping
        return bytes(
            RtcpSenderReport(
                ssrc=self.ssrc,
                ntp_timestamp=ntp_from_unix(wallclock),
                rtp_timestamp=rtp_time,
                packet_count=self.packets,
                octet_count=self.octets,
            )
        )

    def due_report(self) -> bytes | None:
        """A sender report when :data:`SENDER_REPORT_INTERVAL` passed since the last one."""
        now = asyncio.get_running_loop().time()
        if now - self._last_report < SENDER_REPORT_INTERVAL:
            return None
        self._last_report = now
        return self.report()

    def report_soon(self) -> None:
        """Make the next :meth:`due_report` send one (the mapping changed)."""
        self._last_report = float("-inf")


class _Session:
    """One client's RTSP session on one mount."""

    def __init__(self, session_id: str, connection: _Connection, mount: _Mount, now: float) -> None:
        self.id = session_id
        self.connection = connection
        self.mount = mount
        self.generation = mount.stream.description.generation
        self.sink: _TcpSink | _UdpSink | None = None
        self.track_uri = ""
        self.metadata_sink: _TcpSink | _UdpSink | None = None
        self.metadata_uri = ""
        self.metadata_reported = False
        self.audio_sink: _TcpSink | _UdpSink | None = None
        self.audio_uri = ""
        #: The AAC track the session's SETUP was told of (a different one ends it).
        self.audio_description: AudioDescription | None = None
        self.audio_reported = False
        self.state = "ready"  # ready -> starting (PLAY waits for a keyframe) -> playing
        self.last_activity = now
        self.skipping = False
        self.on_start: Callable[[int, int], None] | None = None
        self.started: asyncio.Future[None] | None = None

    def deliver(
        self, packets: Sequence[bytes], keyframe: bool, first: tuple[int, int], report: bytes | None
    ) -> None:
        sink = self.sink
        if sink is None and self.metadata_sink is None and self.audio_sink is None:
            return
        if self.state == "starting":
            if not keyframe:
                return
            self.state = "playing"
            if self.on_start is not None:
                self.on_start(*first)
                self.on_start = None
            if self.started is not None and not self.started.done():
                self.started.set_result(None)
            report = self.mount.video.report()
        elif self.state != "playing":
            return
        if sink is None:
            return  # a metadata or audio session: it started with the video, gets no video
        if self.skipping or sink.congested:
            if not keyframe or sink.congested:
                self.skipping = True
                return
            self.skipping = False
        sink.send_rtp(packets)
        if report is not None:
            sink.send_rtcp(report)

    def deliver_metadata(self, packets: Sequence[bytes], report: bytes | None) -> None:
        """Send one whole metadata document (or nothing, when not playing or congested)."""
        sink = self.metadata_sink
        if sink is None or self.state != "playing" or sink.congested:
            return
        if not self.metadata_reported:
            # The first packets come with a sender report, so the client can map
            # them to wall-clock time (and line them up with the video) at once.
            report = self.mount.metadata_track.report()
            self.metadata_reported = True
        if report is not None:
            sink.send_rtcp(report)
        sink.send_rtp(packets)

    def deliver_audio(self, packets: Sequence[bytes], report: bytes | None) -> None:
        """Send one whole AAC frame (or nothing, when not playing or congested)."""
        sink = self.audio_sink
        if sink is None or self.state != "playing" or sink.congested:
            return
        if not self.audio_reported:
            # As for metadata: a sender report ahead of the first packet, so the client
            # places the audio on the wall clock (and beside the video) from the start.
            report = self.mount.audio_track.report()
            self.audio_reported = True
        if report is not None:
            sink.send_rtcp(report)
        sink.send_rtp(packets)


class _Mount:
    """A mounted stream: its one subscription, its RTP state and its playing sessions."""

    def __init__(
        self,
        server: RtspServer,
        path: str,
        stream: LiveStream,
        metadata: MetadataSource | None = None,
        *,
        authorize: MountAuthorizer | None = None,
        on_demand: bool = False,
        resolved: bool = False,
    ) -> None:
        self.server = server
        self.path = path
        self.stream = stream
        self.metadata = metadata
        self.authorize = authorize
        self.on_demand = on_demand
        #: Made by the server's resolver (asked again on DESCRIBE, removed when idle).
        self.resolved = resolved
        #: Set at the first access unit of the current subscription.
        self.first_unit = asyncio.Event()
        #: Requests waiting in :meth:`ready`, and when the mount was last used (loop time).
        self.waiters = 0
        self.used_at = 0.0
        self.video = _Track(VIDEO_PAYLOAD_TYPE)
        self.metadata_track = _Track(METADATA_PAYLOAD_TYPE)
        self.metadata_task: asyncio.Task[None] | None = None
        self._metadata_epoch: float | None = None
        #: The stream, when it may carry sound (its ``audio`` says whether it does now).
        self.audio_stream = stream if isinstance(stream, AudioStream) else None
        self.audio_track = _Track(AAC_PAYLOAD_TYPE)
        self.audio_task: asyncio.Task[None] | None = None
        #: RTP time minus source timestamp (not wrapped), the last frame's (source
        #: timestamp, loop time it came, RTP time not wrapped, wall clock), the sample rate.
        self._audio_offset = self.audio_track.offset
        self._audio_last: tuple[int, float, int, float] | None = None
        self._audio_rate = 0
        self.sessions: set[_Session] = set()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Subscribe, unless the mount is on demand (then :meth:`ready` subscribes)."""
        if not self.on_demand:
            self._subscribe()

    @property
    def subscribed(self) -> bool:
        return self.task is not None and not self.task.done()

    def _subscribe(self) -> None:
        loop = asyncio.get_running_loop()
        self.first_unit = asyncio.Event()
        self.task = loop.create_task(self._run(), name=f"rtsp-mount-{self.path}")
        if self.metadata is not None and (self.metadata_task is None or self.metadata_task.done()):
            self.metadata_task = loop.create_task(
                self._run_metadata(self.metadata), name=f"rtsp-metadata-{self.path}"
            )

    async def ready(self, timeout: float) -> bool:
        """Whether the stream can be described and played now: always for a mount that
        is not on demand; otherwise subscribe if needed and wait (at most ``timeout``
        seconds) for the subscription's first access unit."""
        if not self.on_demand:
            return True
        loop = asyncio.get_running_loop()
        self.used_at = loop.time()
        if not self.subscribed:
            self._subscribe()
        first, task = self.first_unit, self.task
        if first.is_set():
            return True
        assert task is not None
        self.waiters += 1
        waiter = loop.create_task(first.wait())
        try:
            await asyncio.wait({waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.waiters -= 1
            self.used_at = loop.time()
            waiter.cancel()
        return first.is_set() and not task.done()

    async def stop(self) -> None:
        """Unsubscribe (the audio ends with the video, in :meth:`_run`)."""
        if self.metadata_task is not None:
            await cancel_and_wait(self.metadata_task)
            self.metadata_task = None
        if self.task is not None:
            await cancel_and_wait(self.task)
            self.task = None

    async def _run_metadata(self, source: MetadataSource) -> None:
        documents = source.subscribe()
        try:
            async for document in documents:
                self.publish_metadata(document)
        except Exception:
            # A failing metadata source only silences the metadata track.
            log.exception("the metadata source mounted at %s failed", self.path)
        finally:
            if isinstance(documents, AsyncGenerator):
                await documents.aclose()

    def publish_metadata(self, document: MetadataDocument) -> None:
        """Packetize one metadata document and hand it to every session playing the track."""
        receivers = [s for s in self.sessions if s.metadata_sink is not None]
        if not receivers:
            return
        if self._metadata_epoch is None:
            self._metadata_epoch = document.wallclock
        track = self.metadata_track
        ticks = round((document.wallclock - self._metadata_epoch) * METADATA_CLOCK_RATE)
        rtp_time = (track.offset + ticks) & 0xFFFFFFFF
        payloads = packetize_metadata(document.xml, self.server.max_payload)
        packets = track.packets_of(payloads, rtp_time, document.wallclock)
        report = track.due_report()
        for session in receivers:
            session.deliver_metadata(packets, report)

    @property
    def audio(self) -> AudioDescription | None:
        """The stream's AAC track now (``None`` without one)."""
        return None if self.audio_stream is None else self.audio_stream.audio

    async def _run_audio(self, stream: AudioStream) -> None:
        frames = stream.subscribe_audio()
        try:
            async for frame in frames:
                self.publish_audio(frame)
        except Exception:
            # A failing audio source only silences the audio track.
            log.exception("the audio of the stream mounted at %s failed", self.path)
        finally:
            if isinstance(frames, AsyncGenerator):
                await frames.aclose()

    def _audio_time(self, frame: AudioFrame, rate: int) -> int:
        """The frame's RTP time, not wrapped: the track's offset plus the frame's
        timestamp, re-based when the source's clock jumped (see the module docstring)."""
        now = asyncio.get_running_loop().time()
        last = self._audio_last
        if last is not None:
            timestamp, seen_at, rtp_time, _ = last
            ticks = frame.timestamp - timestamp
            if ticks <= 0 or ticks / rate - (now - seen_at) > MAX_AUDIO_JUMP:
                # The source restarted its clock (a camera reconnected): carry ours on by
                # the time that passed here since the last frame, at least one frame, so
                # the RTP time only grows; the next sender report maps it anew.
                target = rtp_time + max(round((now - seen_at) * rate), SAMPLES_PER_FRAME)
                self._audio_offset = target - frame.timestamp
                self.audio_track.report_soon()
                log.info("audio of %s: the source's clock jumped; RTP time re-based", self.path)
        rtp_time = self._audio_offset + frame.timestamp
        self._audio_last = (frame.timestamp, now, rtp_time, frame.wallclock)
        return rtp_time

    def publish_audio(self, frame: AudioFrame) -> None:
        """Packetize one AAC frame and hand it to every session playing the audio track."""
        audio = self.audio
        if audio is not None:
            self._audio_rate = audio.sample_rate
        if self._audio_rate <= 0:
            return  # frames of a track the stream never described
        rtp_time = self._audio_time(frame, self._audio_rate) & 0xFFFFFFFF
        receivers = [s for s in self.sessions if s.audio_sink is not None]
        if not receivers:
            return
        for session in receivers:
            if audio is not None and session.audio_description != audio:
                # The camera's sound changed (another rate or channel count): the client
                # must read the new description, as for reconfigured video.
                log.info("audio of %s changed; ending session %s", self.path, session.id)
                self.server._end_session(session, close_connection=True)
        receivers = [s for s in receivers if s.audio_sink is not None]
        if not receivers:
            return
        try:
            payloads = packetize_aac(frame.data, self.server.max_payload)
        except RtpError as exc:
            log.debug("skipping an AAC frame of %s: %s", self.path, exc)
            return
        track = self.audio_track
        packets = track.packets_of(payloads, rtp_time, frame.wallclock)
        report = track.due_report()
        for session in receivers:
            session.deliver_audio(packets, report)

    def audio_start_time(self) -> int:
        """The audio RTP time of the video's newest access unit's wall clock: the instant
        a PLAY's ``RTP-Info`` names for every track (RFC 2326 §12.33)."""
        last = self._audio_last
        if last is None:
            return self._audio_offset & 0xFFFFFFFF
        _, _, rtp_time, wallclock = last
        ticks = round((self.video.mapping[0] - wallclock) * self._audio_rate)
        return (rtp_time + ticks) & 0xFFFFFFFF

    async def _run(self) -> None:
        units = self.stream.subscribe()
        first = self.first_unit
        try:
            async for unit in units:
                if not first.is_set():
                    first.set()
                    self._start_audio()
                self.publish(unit)
        except Exception:
            # A failing source ends its own mount's sessions, never the server.
            log.exception("the stream mounted at %s failed", self.path)
        finally:
            if isinstance(units, AsyncGenerator):
                await units.aclose()
            await cancel_and_wait(self.audio_task)
            self.audio_task = None
            for session in list(self.sessions):
                self.server._end_session(session, close_connection=True)

    def _start_audio(self) -> None:
        """Subscribe to the audio too, once the video came: the sound of a source (a
        camera joined through the gateway) is known only then, and it lives and ends
        with the video subscription."""
        if self.audio_stream is not None and self.audio_task is None:
            self.audio_task = asyncio.get_running_loop().create_task(
                self._run_audio(self.audio_stream), name=f"rtsp-audio-{self.path}"
            )

    def publish(self, unit: AccessUnit) -> None:
        """Packetize one access unit and hand the packets to every playing session."""
        if not self.sessions:
            return
        for session in list(self.sessions):
            if session.generation != unit.generation:
                log.info("stream %s was reconfigured; ending session %s", self.path, session.id)
                self.server._end_session(session, close_connection=True)
        if not self.sessions:
            return
        description = self.stream.description
        nal_units = unit.nal_units
        if unit.keyframe:
            nal_units = _with_parameter_sets(description, nal_units)
        codec = h264 if description.codec is VideoCodec.H264 else h265
        payloads = codec.packetize(nal_units, self.server.max_payload)
        track = self.video
        rtp_time = (unit.timestamp + track.offset) & 0xFFFFFFFF
        first = (track.sequence, rtp_time)
        packets = track.packets_of(payloads, rtp_time, unit.wallclock)
        report = track.due_report()
        for session in list(self.sessions):
            session.deliver(packets, unit.keyframe, first, report)


def _without_query(uri: str) -> str:
    """``uri`` without its query (which may carry credentials: never logged)."""
    return uri.split("?", 1)[0]


def _control(uri: str, name: str) -> str:
    """The SDP control URL of track ``name`` for a DESCRIBE of ``uri``: the relative
    name, or an absolute URL repeating the query when ``uri`` has one."""
    split = urllib.parse.urlsplit(uri)
    if not split.query or not split.scheme or not split.netloc:
        return name
    base = urllib.parse.urlunsplit((split.scheme, split.netloc, split.path.rstrip("/"), "", ""))
    return f"{base}/{name}?{split.query}"


def _with_parameter_sets(
    description: StreamDescription, nal_units: tuple[bytes, ...]
) -> tuple[bytes, ...]:
    codec = h264 if description.codec is VideoCodec.H264 else h265
    if any(codec.nal_type(nal) in codec.PARAMETER_SET_TYPES for nal in nal_units if nal):
        return nal_units
    # Keep access unit delimiters first, as both standards require.
    head = tuple(n for n in nal_units[:1] if n and codec.nal_type(n) == codec.AUD)
    return head + description.parameter_sets + nal_units[len(head) :]


class _Connection:
    """One client's RTSP connection: reads requests and answers them in order."""

    def __init__(
        self, server: RtspServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        transport = writer.transport
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport
        peer = writer.get_extra_info("peername")
        self.peer_host = str(peer[0]) if peer else "127.0.0.1"
        self.sessions: set[_Session] = set()

    def write(self, response: RtspResponse) -> None:
        if not self.transport.is_closing():
            self.transport.write(bytes(response))

    def close(self) -> None:
        self.transport.close()

    async def run(self) -> None:
        parser = RtspParser()
        while True:
            try:
                event = parser.next_event()
            except RtspProtocolError as exc:
                log.info("closing RTSP connection from %s: %s", self.peer_host, exc)
                self.write(RtspResponse(400, Headers.of({"Server": SERVER_NAME})))
                return
            if event is NEED_DATA:
                try:
                    data = await self.reader.read(65536)
                except ConnectionError:
                    return
                parser.receive_data(data)
                continue
            if isinstance(event, ConnectionClosed):
                return
            if isinstance(event, InterleavedData):
                # RTCP receiver reports over TCP: proof the client is alive.
                self.server._touch(self.sessions)
                continue
            if isinstance(event, RtspResponse):
                continue
            try:
                response = await self.server._answer(self, event)
            except (RtspError, OSError) as exc:
                # E.g. no UDP port pair could be bound: this request fails, the connection lives.
                log.warning("RTSP %s %s failed: %s", event.method, _without_query(event.uri), exc)
                response = RtspResponse(500, Headers.of({"CSeq": event.headers.get("CSeq") or "0"}))
            if response is not None:
                self.write(response)


class RtspServer:
    """An RTSP/1.0 server for live streams (see the module docstring for its behaviour).

    ``authenticator`` maps a username to its password; when given, every method
    but OPTIONS needs HTTP Digest credentials (realm ``realm``). Bind to
    ``host``/``port`` (port 0 picks a free one, read it from :attr:`port` after
    :meth:`start`). Use as ``async with RtspServer(...) as server:``.

    ``session_timeout`` is in seconds; ``max_payload`` caps RTP payloads in
    bytes; ``tcp_high_water`` is the per-client backlog (bytes) beyond which a
    TCP client skips to the next keyframe. ``resolver`` mounts paths on request
    and ``idle_timeout`` is how long (seconds) an on-demand mount stays
    subscribed, and a resolved one mounted, without sessions (see the module
    docstring).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        authenticator: PasswordLookup | None = None,
        *,
        realm: str = "PlatoniCam",
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        max_payload: int = 1400,
        tcp_high_water: int = TCP_HIGH_WATER,
        resolver: MountResolver | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.host = host
        self._resolver = resolver
        self.idle_timeout = idle_timeout
        self._requested_port = port
        self._verifier = DigestVerifier(realm, authenticator) if authenticator else None
        self.session_timeout = session_timeout
        # Whole seconds in the Session header (RFC 2326 §12.37); round up, never to 0.
        self._timeout_header = max(1, math.ceil(session_timeout))
        self.max_payload = max_payload
        self.tcp_high_water = tcp_high_water
        self._mounts: dict[str, _Mount] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: dict[_Connection, asyncio.Task[None]] = {}
        self._udp_clients: dict[Address, _Session] = {}
        self._udp: _UdpPorts | None = None
        self._server: asyncio.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._port = 0

    # -- life cycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (valid after :meth:`start`)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def session_ids(self) -> frozenset[str]:
        """The ids of the sessions alive now."""
        return frozenset(self._sessions)

    @property
    def connection_count(self) -> int:
        """How many client connections are open now."""
        return len(self._connections)

    @property
    def mounted(self) -> frozenset[str]:
        """The paths mounted now (those a resolver mounted included)."""
        return frozenset(self._mounts)

    @property
    def subscribed(self) -> frozenset[str]:
        """The mounted paths whose stream is subscribed now."""
        return frozenset(path for path, mount in self._mounts.items() if mount.subscribed)

    def url(self, path: str) -> str:
        """``rtsp://host:port/path`` of a mount on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"rtsp://{host}:{self._port}/{path.strip('/')}"

    async def start(self) -> None:
        """Listen, and subscribe to every mounted stream. Raises ``OSError`` if the bind fails."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle_connection, self.host, self._requested_port
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        for mount in self._mounts.values():
            mount.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap(), name="rtsp-reaper")

    async def close(self) -> None:
        """Stop listening, end every session and connection, and unsubscribe from every stream."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._reaper is not None:
            await cancel_and_wait(self._reaper)
        for mount in self._mounts.values():
            await mount.stop()
        for session in list(self._sessions.values()):
            self._end_session(session, close_connection=False)
        tasks = list(self._connections.values())
        for connection in list(self._connections):
            connection.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def mount(
        self,
        path: str,
        stream: LiveStream,
        metadata: MetadataSource | None = None,
        *,
        authorize: MountAuthorizer | None = None,
        on_demand: bool = False,
    ) -> None:
        """Serve ``stream`` at ``rtsp://host:port/path``, with an ONVIF metadata
        track (:data:`METADATA_CONTROL`) fed by ``metadata`` when given.

        ``authorize`` decides who may use the path; ``on_demand`` subscribes to
        the stream only while clients use it (see the module docstring).
        Raises :class:`RtspError` when ``path`` is empty or already mounted.
        """
        self._add_mount(path, Mountpoint(stream, metadata, authorize, on_demand), resolved=False)

    def _add_mount(self, path: str, point: Mountpoint, *, resolved: bool) -> _Mount:
        key = path.strip("/")
        if not key:
            raise RtspError("cannot mount a stream at the root path")
        if key in self._mounts:
            raise RtspError(f"a stream is already mounted at {key!r}")
        mount = _Mount(
            self,
            key,
            point.stream,
            point.metadata,
            authorize=point.authorize,
            on_demand=point.on_demand,
            resolved=resolved,
        )
        if self._server is not None:
            mount.used_at = asyncio.get_running_loop().time()
        self._mounts[key] = mount
        if self._server is not None:
            mount.start()
        return mount

    async def unmount(self, path: str) -> None:
        """Stop serving ``path``: its sessions end and its subscription is closed."""
        mount = self._mounts.pop(path.strip("/"), None)
        if mount is not None:
            await mount.stop()
            for session in list(mount.sessions):
                self._end_session(session, close_connection=True)
            for session in list(self._sessions.values()):
                if session.mount is mount:
                    self._end_session(session, close_connection=True)

    # -- connections and sessions ---------------------------------------------------------

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connection = _Connection(self, reader, writer)
        task = asyncio.current_task()
        assert task is not None
        self._connections[connection] = task
        try:
            await connection.run()
        finally:
            self._connections.pop(connection, None)
            for session in list(connection.sessions):
                if not isinstance(session.sink, _UdpSink):
                    self._end_session(session, close_connection=False)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    def _end_session(self, session: _Session, *, close_connection: bool) -> None:
        self._sessions.pop(session.id, None)
        session.mount.sessions.discard(session)
        session.connection.sessions.discard(session)
        for old in (session.sink, session.metadata_sink, session.audio_sink):
            if isinstance(old, _UdpSink):
                self._udp_clients.pop(old.rtp, None)
                self._udp_clients.pop(old.rtcp, None)
        if session.started is not None and not session.started.done():
            session.started.set_result(None)  # PLAY, if waiting, answers 454
        session.sink = None
        session.metadata_sink = None
        session.audio_sink = None
        session.state = "ended"
        if close_connection:
            session.connection.close()

    def _touch(self, sessions: set[_Session]) -> None:
        now = asyncio.get_running_loop().time()
        for session in sessions:
            session.last_activity = now

    def _udp_activity(self, source: Address) -> None:
        session = self._udp_clients.get(source)
        if session is not None:
            self._touch({session})

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        period = max(0.05, min(1.0, self.session_timeout / 4, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for session in list(self._sessions.values()):
                if now - session.last_activity > self.session_timeout:
                    log.info("RTSP session %s timed out", session.id)
                    self._end_session(session, close_connection=False)
            await self._release_idle(now)

    async def _release_idle(self, now: float) -> None:
        """Unsubscribe on-demand mounts, and remove resolved ones, idle for ``idle_timeout``."""
        used = {session.mount for session in self._sessions.values()}
        for mount in list(self._mounts.values()):
            if mount in used or mount.waiters:
                mount.used_at = now
                continue
            if now - mount.used_at < self.idle_timeout:
                continue
            if mount.resolved:
                log.info("RTSP mount %s idle: removed", mount.path)
                await self.unmount(mount.path)
            elif mount.on_demand and mount.subscribed:
                log.info("RTSP mount %s idle: unsubscribed", mount.path)
                await mount.stop()

    async def _udp_ports(self) -> _UdpPorts:
        if self._udp is not None:
            return self._udp
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(64):
            rtp_sock = socket.socket(family, socket.SOCK_DGRAM)
            rtcp_sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp_sock.bind((self.host, 0))
                number = int(rtp_sock.getsockname()[1])
                if number % 2 or number == 65535:
                    raise OSError("odd RTP port")
                rtcp_sock.bind((self.host, number + 1))
            except OSError:
                rtp_sock.close()
                rtcp_sock.close()
                continue
            rtp, _ = await loop.create_datagram_endpoint(lambda: _UdpActivity(self), sock=rtp_sock)
            rtcp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpActivity(self), sock=rtcp_sock
            )
            self._udp = _UdpPorts(rtp, rtcp, (number, number + 1))
            return self._udp
        raise RtspError("no free even/odd UDP port pair for RTP")

    # -- requests -------------------------------------------------------------------------

    @staticmethod
    def _path(uri: str) -> str:
        return urllib.parse.unquote(urllib.parse.urlsplit(uri).path).strip("/")

    async def _resolve(self, request: RtspRequest) -> None:
        """Ask the resolver about the path a DESCRIBE or SETUP names, and (un)mount
        what it says (see the module docstring)."""
        resolver = self._resolver
        if resolver is None or request.method not in ("DESCRIBE", "SETUP"):
            return
        found = self._find_mount(request.uri)
        if found is not None and not found[0].resolved:
            return  # mounted by hand: the resolver has no say
        path = self._path(request.uri)
        if request.method == "SETUP":
            if found is not None:
                return
            head, _, control = path.rpartition("/")
            if control in (TRACK_CONTROL, METADATA_CONTROL, AUDIO_CONTROL):
                path = head
        if not path:
            return
        point = await resolver(path)
        current = self._mounts.get(path)
        if point is None:
            if current is not None and current.resolved:
                log.info("RTSP mount %s is gone: removed", path)
                await self.unmount(path)
            return
        if current is None:
            self._add_mount(path, point, resolved=True)

    def _find_mount(self, uri: str) -> tuple[_Mount, str] | None:
        path = self._path(uri)
        best: _Mount | None = None
        for key, mount in self._mounts.items():
            if (path == key or path.startswith(key + "/")) and (
                best is None or len(key) > len(best.path)
            ):
                best = mount
        if best is None:
            return None
        return best, path[len(best.path) :].strip("/")

    async def _answer(self, connection: _Connection, request: RtspRequest) -> RtspResponse | None:
        cseq = request.headers.get("CSeq")
        base: dict[str, str] = {"Server": SERVER_NAME}
        if cseq is not None:
            base = {"CSeq": cseq, **base}

        def reply(
            status: int, extra: dict[str, str] | None = None, body: bytes = b""
        ) -> RtspResponse:
            return RtspResponse(status, Headers.of({**base, **(extra or {})}), body)

        if cseq is None:
            return reply(400)
        loop = asyncio.get_running_loop()
        session: _Session | None = None
        session_header = request.headers.get("Session")
        if session_header is not None:
            session = self._sessions.get(parse_session(session_header)[0])
            if session is not None:
                session.last_activity = loop.time()
        method = request.method
        if method not in _METHODS:
            return reply(501, {"Public": PUBLIC_METHODS})
        if method == "OPTIONS":
            return reply(200, {"Public": PUBLIC_METHODS})
        if self._verifier is not None:
            verdict = self._verifier.verify(
                method, request.headers.get("Authorization"), loop.time()
            )
            if verdict.username is None:
                challenge = self._verifier.challenge(loop.time(), stale=verdict.stale)
                return reply(401, {"WWW-Authenticate": str(challenge)})
        if session_header is not None and session is None:
            return reply(454)
        await self._resolve(request)
        found = self._find_mount(request.uri)
        if (
            found is not None
            and found[0].authorize is not None
            and (session is None or session.mount is not found[0])
        ):
            # The mount the URL names decides who may use it, unless the request comes
            # with a session of that mount (whose SETUP was authorized).
            decision = found[0].authorize(request)
            if decision.principal is None:
                log.info(
                    "RTSP %s %s from %s refused",
                    method,
                    _without_query(request.uri),
                    connection.peer_host,
                )
                extra = (
                    {} if decision.challenge is None else {"WWW-Authenticate": decision.challenge}
                )
                return reply(401, extra)
        if method == "DESCRIBE":
            return await self._describe(request, reply)
        if method == "SETUP":
            return await self._setup(connection, request, session, reply)
        if method in ("GET_PARAMETER", "SET_PARAMETER"):
            if method == "SET_PARAMETER" and request.body.strip():
                return reply(451)
            return reply(200)
        if session is None:
            return reply(454)
        session_value = f"{session.id};timeout={self._timeout_header}"
        if method == "PLAY":
            return await self._play(connection, request, session, reply, session_value)
        if method == "PAUSE":
            if session.state in ("playing", "starting"):
                session.state = "ready"
                session.mount.sessions.discard(session)
            return reply(200, {"Session": session_value})
        if method == "TEARDOWN":
            self._end_session(session, close_connection=False)
            return reply(200, {"Session": session.id})
        raise AssertionError(f"unhandled method {method}")  # _METHODS and the branches agree

    async def _describe(self, request: RtspRequest, reply: _Reply) -> RtspResponse:
        found = self._find_mount(request.uri)
        if found is None or found[1]:
            return reply(404)
        mount = found[0]
        if not await mount.ready(PLAY_START_TIMEOUT):
            log.warning("cannot describe %s: no video from its stream", mount.path)
            return reply(503)
        try:
            sdp = describe_stream(
                mount.stream.description,
                control=_control(request.uri, TRACK_CONTROL),
                session_id=mount.video.ssrc,
                address=self.host,
            )
        except RtspError as exc:
            log.warning("cannot describe %s: %s", mount.path, exc)
            return reply(503)
        audio = mount.audio
        if audio is not None:
            media = describe_aac_media(audio, control=_control(request.uri, AUDIO_CONTROL))
            sdp = replace(sdp, media=(*sdp.media, media))
        if mount.metadata is not None:
            media = describe_metadata_media(control=_control(request.uri, METADATA_CONTROL))
            sdp = replace(sdp, media=(*sdp.media, media))
        base = _without_query(request.uri).rstrip("/") + "/"
        return reply(
            200,
            {"Content-Type": "application/sdp", "Content-Base": base},
            str(sdp).encode(),
        )

    async def _setup(
        self,
        connection: _Connection,
        request: RtspRequest,
        session: _Session | None,
        reply: _Reply,
    ) -> RtspResponse:
        found = self._find_mount(request.uri)
        if found is None or found[1] not in (TRACK_CONTROL, "", METADATA_CONTROL, AUDIO_CONTROL):
            return reply(404)
        mount = found[0]
        kind = {METADATA_CONTROL: "metadata", AUDIO_CONTROL: "audio"}.get(found[1], "video")
        if kind == "metadata" and mount.metadata is None:
            return reply(404)
        if session is not None and session.mount is not mount:
            return reply(459)
        if session is not None and session.state != "ready":
            return reply(455)
        if not await mount.ready(PLAY_START_TIMEOUT):
            return reply(503)
        audio = mount.audio
        if kind == "audio" and audio is None:
            return reply(404)
        transport_header = request.headers.get("Transport")
        if transport_header is None:
            return reply(461)
        try:
            specs = parse_transport(transport_header)
        except RtspProtocolError:
            return reply(400)
        chosen: TransportSpec | None = None
        for spec in specs:
            if spec.unicast and (spec.is_tcp or (spec.protocol == "RTP/AVP" and spec.client_port)):
                chosen = spec
                break
        if chosen is None:
            return reply(461)
        loop = asyncio.get_running_loop()
        if session is None:
            session = _Session(secrets.token_hex(8), connection, mount, loop.time())
            self._sessions[session.id] = session
            connection.sessions.add(session)
        else:
            previous = {
                "video": session.sink,
                "metadata": session.metadata_sink,
                "audio": session.audio_sink,
            }[kind]
            if isinstance(previous, _UdpSink):
                self._udp_clients.pop(previous.rtp, None)
                self._udp_clients.pop(previous.rtcp, None)
        sink: _TcpSink | _UdpSink
        if chosen.is_tcp:
            # A session's data rides on the connection that set it up.
            if session.connection is not connection:
                session.connection.sessions.discard(session)
                session.connection = connection
                connection.sessions.add(session)
            channels = chosen.interleaved or ((2, 3) if kind == "audio" else (0, 1))
            sink = _TcpSink(connection.transport, channels, self.tcp_high_water)
        else:
            assert chosen.client_port is not None
            ports = await self._udp_ports()
            rtp = (connection.peer_host, chosen.client_port[0])
            rtcp = (connection.peer_host, chosen.client_port[1])
            sink = _UdpSink(ports, rtp, rtcp)
            self._udp_clients[rtp] = session
            self._udp_clients[rtcp] = session
        if kind == "metadata":
            session.metadata_sink = sink
            session.metadata_uri = request.uri
            ssrc = mount.metadata_track.ssrc
        elif kind == "audio":
            session.audio_sink = sink
            session.audio_uri = request.uri
            session.audio_description = audio
            ssrc = mount.audio_track.ssrc
        else:
            session.sink = sink
            session.track_uri = request.uri
            ssrc = mount.video.ssrc
        session.generation = mount.stream.description.generation
        return reply(
            200,
            {
                "Transport": str(sink.describe(ssrc)),
                "Session": f"{session.id};timeout={self._timeout_header}",
            },
        )

    async def _play(
        self,
        connection: _Connection,
        request: RtspRequest,
        session: _Session,
        reply: _Reply,
        session_value: str,
    ) -> RtspResponse | None:
        if session.sink is None and session.metadata_sink is None and session.audio_sink is None:
            return reply(455)
        if session.state != "ready":
            return reply(200, {"Session": session_value})
        if not await session.mount.ready(PLAY_START_TIMEOUT):
            return reply(503, {"Session": session_value})
        if session.state != "ready":  # ended (or played by a pipelined request) meanwhile
            return reply(454 if session.state == "ended" else 200, {"Session": session_value})
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_start(sequence: int, rtp_time: int) -> None:
            infos = []
            mount = session.mount
            if session.sink is not None:
                infos.append(f"url={session.track_uri};seq={sequence};rtptime={rtp_time}")
            if session.audio_sink is not None:
                infos.append(
                    f"url={session.audio_uri};seq={mount.audio_track.sequence};"
                    f"rtptime={mount.audio_start_time()}"
                )
            if session.metadata_sink is not None:
                track = mount.metadata_track
                infos.append(
                    f"url={session.metadata_uri};seq={track.sequence};rtptime={track.mapping[1]}"
                )
            info = ",".join(infos)
            headers = {"Session": session_value, "Range": "npt=0.000-", "RTP-Info": info}
            connection.write(reply(200, headers))

        session.on_start = on_start
        session.started = started
        session.state = "starting"
        session.mount.sessions.add(session)
        try:
            await asyncio.wait_for(started, PLAY_START_TIMEOUT)
        except TimeoutError:
            session.state = "ready"
            session.on_start = None
            session.mount.sessions.discard(session)
            return reply(503, {"Session": session_value})
        if session.state == "ended":
            return reply(454)
        return None  # on_start wrote the answer, ahead of the first packet
