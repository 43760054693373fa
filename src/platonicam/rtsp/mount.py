"""A mounted stream: its one subscription, packetized once for all its playing sessions.

Strategy:

* **One subscription per mount.** A mount subscribes once to its
  :class:`~platonicam.rtsp.stream.LiveStream` (when the server runs) and keeps
  that subscription for as long as the path is mounted. Each access unit is
  packetized once into RTP packets (one SSRC and one sequence-number space per
  mount and track, see :mod:`platonicam.rtsp.track`) and the same bytes go to
  every playing session. Nothing is packetized while nobody plays. Keyframes
  carry the parameter sets in-band (prepended when the source did not), so a
  decoder can start without the SDP's copy.
* **Metadata.** A mount's optional
  :class:`~platonicam.rtsp.metadata.MetadataSource` is subscribed like the
  video; each document goes out as RTP packets of its own SSRC and sequence
  space (marker on the last, see :mod:`platonicam.rtsp.metadata`) to the
  playing sessions that set the track up, with its own RTCP sender reports.
* **Audio.** When a mount's stream is an
  :class:`~platonicam.rtsp.stream.AudioStream` whose ``audio`` is set at
  DESCRIBE, the SDP has an ``m=audio`` section (RFC 3640 ``mpeg4-generic``,
  ``AAC-hbr``, see :mod:`platonicam.rtsp.aac`). The mount subscribes to
  ``subscribe_audio()`` once its video subscription delivered its first access
  unit (only then does a gateway's camera know its sound), and ends it with the
  video's, on-demand included; a failing audio source silences the audio
  track only. Each frame goes out once for all sessions that set the track up,
  one frame per packet (fragmented when larger), in its own SSRC and sequence
  space. The RTP time is a random offset plus the frame's timestamp
  (sample-rate ticks), and never goes backwards: when the source's timestamps
  do (a camera reconnected: its clock starts again) or run more than
  :data:`MAX_AUDIO_JUMP` seconds ahead of the time that passed, the offset is
  re-based so the RTP time goes on by the time that passed here since the
  previous frame (at least one frame), and a sender report with the new
  mapping goes out with the next packet. A session whose stream's AAC track
  changed (rate, channels, config) since its SETUP is ended, as for
  reconfigured video. ``RTP-Info`` names, for the audio, the RTP time of the
  first video picture's wall clock (:meth:`Mount.audio_start_time`), so
  players line both tracks up from the start.
* **Reconfiguration.** When access units of a new ``generation`` arrive,
  sessions set up for an older one are ended and their connections closed, so
  clients reconnect and fetch the new SDP. A failing source ends its own
  mount's sessions, never the server.
* **On demand.** A mount made with ``on_demand=True`` subscribes only when a
  request needs it (:meth:`Mount.ready` waits for the first access unit), and
  until the server finds it idle and calls :meth:`Mount.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Final

from platonicam.rtsp import h264, h265
from platonicam.rtsp.aac import AAC_PAYLOAD_TYPE, SAMPLES_PER_FRAME
from platonicam.rtsp.aac import packetize as packetize_aac
from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.metadata import (
    METADATA_CLOCK_RATE,
    METADATA_PAYLOAD_TYPE,
    MetadataDocument,
    MetadataSource,
)
from platonicam.rtsp.metadata import packetize as packetize_metadata
from platonicam.rtsp.mountpoint import MountAuthorizer
from platonicam.rtsp.sdp import VIDEO_PAYLOAD_TYPE
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    AudioStream,
    LiveStream,
    StreamDescription,
    VideoCodec,
)
from platonicam.rtsp.track import Track
from platonicam.tasks import cancel_and_wait

if TYPE_CHECKING:
    from platonicam.rtsp.session import Session

log = logging.getLogger(__name__)

#: Seconds the source's audio timestamps may run ahead of the time that passed before
#: the server takes it for a restarted clock (and re-bases the RTP time).
MAX_AUDIO_JUMP: Final = 2.0


class Mount:
    """A mounted stream: its one subscription, its RTP state and its playing sessions.

    ``max_payload`` caps RTP payloads in bytes; ``end_session`` ends a session and
    closes its connection (the mount's stream failed or changed under it).
    """

    def __init__(
        self,
        path: str,
        stream: LiveStream,
        metadata: MetadataSource | None = None,
        *,
        max_payload: int,
        end_session: Callable[[Session], None],
        authorize: MountAuthorizer | None = None,
        on_demand: bool = False,
        resolved: bool = False,
    ) -> None:
        self.max_payload = max_payload
        self._end_session = end_session
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
        self.video = Track(VIDEO_PAYLOAD_TYPE)
        self.metadata_track = Track(METADATA_PAYLOAD_TYPE)
        self.metadata_task: asyncio.Task[None] | None = None
        self._metadata_epoch: float | None = None
        #: The stream, when it may carry sound (its ``audio`` says whether it does now).
        self.audio_stream = stream if isinstance(stream, AudioStream) else None
        self.audio_track = Track(AAC_PAYLOAD_TYPE)
        self.audio_task: asyncio.Task[None] | None = None
        #: RTP time minus source timestamp (not wrapped), the last frame's (source
        #: timestamp, loop time it came, RTP time not wrapped, wall clock), the sample rate.
        self._audio_offset = self.audio_track.offset
        self._audio_last: tuple[int, float, int, float] | None = None
        self._audio_rate = 0
        self.sessions: set[Session] = set()
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
        payloads = packetize_metadata(document.xml, self.max_payload)
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
                self._end_session(session)
        receivers = [s for s in receivers if s.audio_sink is not None]
        if not receivers:
            return
        try:
            payloads = packetize_aac(frame.data, self.max_payload)
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
                self._end_session(session)

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
                self._end_session(session)
        if not self.sessions:
            return
        description = self.stream.description
        nal_units = unit.nal_units
        if unit.keyframe:
            nal_units = _with_parameter_sets(description, nal_units)
        codec = h264 if description.codec is VideoCodec.H264 else h265
        payloads = codec.packetize(nal_units, self.max_payload)
        track = self.video
        rtp_time = (unit.timestamp + track.offset) & 0xFFFFFFFF
        first = (track.sequence, rtp_time)
        packets = track.packets_of(payloads, rtp_time, unit.wallclock)
        report = track.due_report()
        for session in list(self.sessions):
            session.deliver(packets, unit.keyframe, first, report)


def _with_parameter_sets(
    description: StreamDescription, nal_units: tuple[bytes, ...]
) -> tuple[bytes, ...]:
    codec = h264 if description.codec is VideoCodec.H264 else h265
    if any(codec.nal_type(nal) in codec.PARAMETER_SET_TYPES for nal in nal_units if nal):
        return nal_units
    # Keep access unit delimiters first, as both standards require.
    head = tuple(n for n in nal_units[:1] if n and codec.nal_type(n) == codec.AUD)
    return head + description.parameter_sets + nal_units[len(head) :]
