"""One camera's hub: access units in, ready-made fMP4 parts out, shared by every viewer.

Strategy:

* **Subscribe once.** The hub holds a single subscription to its camera's
  stream (an :class:`~platonicam.media.ingest.Ingest`, or anything with
  ``subscribe()`` and ``description``), runs the LL-HLS
  :class:`~platonicam.media.parts.Partitioner` and muxes each part into an
  fMP4 fragment exactly once (:attr:`Hub.muxed` counts them). HLS requests
  then hand out the same ``bytes`` objects, as MSE viewers do with the frames
  below: the cost of a viewer is a socket write, never a mux.
* **Keep the last GOP(s).** Parts are kept for the playlist's sliding window
  and, whatever the camera's GOP length, back to the newest part that starts
  with a keyframe. A new viewer starts at once from that part
  (:meth:`Hub.viewer`): no waiting for the next keyframe.
* **Epochs.** Everything one init segment describes is an :class:`Epoch`. A
  new stream generation (other parameter sets, codec or size), or a gap in the
  timeline (the camera dropped and came back, or frames were lost) starts a new
  epoch: a new init segment, a new partitioner and a new playlist whose media
  sequence numbers carry on from the old one, and part and segment names that
  carry the epoch, so a name is never reused for other bytes.
* **Blocking reload.** A playlist request for a part that does not exist yet
  waits on an asyncio event for that part (:meth:`Hub.wait_for`), which is set
  the moment the part is published; a request too far ahead is refused by
  :meth:`~platonicam.media.hls.Playlist.reload_decision`.
* **Slow viewers.** A :class:`HubViewer` is a cursor into the hub's parts,
  not a queue: a viewer that falls more than ``max_lag`` behind the live edge
  jumps forward to the newest keyframe part (counted in
  :attr:`HubViewer.skipped`), so memory never grows with a slow client.
* **Frames for MSE.** A part closes only when its last frame's successor has
  arrived, ~200 ms after its first frame: too late for MSE's latency target.
  So every access unit is also muxed at once, alone, as a :class:`MediaFrame`
  (``prft`` + ``moof`` + ``mdat``, the whole MSE binary message, made once and
  shared by every MSE viewer; :attr:`Hub.frames_muxed` counts them). A frame's
  real duration is known only when the next one arrives, and holding it back
  would cost that interval: the sample gets the epoch's frame interval (the
  announced one, or the measured one when the camera is slower), ``tfdt`` the
  real decode time, and the player appends in ``sequence`` mode, where MSE
  treats a gap over two frame durations as a discontinuity and carries its
  timeline on. The decode times are the
  partitioner's (90 kHz from the epoch's first keyframe), so a frame has the
  same ``tfdt`` as in its part. Frames are kept from the newest keyframe on
  (the GOP cache: a new MSE viewer starts there at once) and, besides, for
  ``max_lag`` seconds, so a viewer a frame or two behind when a keyframe comes
  does not lose them. A :class:`FrameViewer` is a cursor into them, with the
  same skip rule as :class:`HubViewer`.
* **AAC audio rides along.** When the source has an AAC track (``audio`` and
  ``subscribe_audio()``, as :class:`~platonicam.media.ingest.Ingest` has), an
  epoch's init segment has two tracks (video 1, audio 2, timescale the sample
  rate). The epoch's first keyframe is time 0 for both: the first audio frame
  after it is placed by wall clock (RTCP-derived when the camera sends sender
  reports), the ones after it by their RTP timestamps (re-anchored on a jump,
  e.g. after a reconnect). Frames before time 0 are dropped. Each part's
  fragment carries, in a second ``traf`` of its ``moof``, the audio frames that
  arrived since the previous part and start before the part's end; a frame
  that arrives after its part was published goes with the next one (its
  ``tfdt`` still places it right). MSE frames do the same per video frame: the
  audio that came since the previous video frame rides in the next one's
  ``moof`` (a frame interval of delay, 33-40 ms, for one message per video
  frame: with 47 AAC frames a second, a message each would triple the sends
  per viewer). A source without audio muxes exactly as before.

Nothing here decodes video; nothing here does network I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

from platonicam.errors import PlatonicamError
from platonicam.media.errors import MediaError
from platonicam.media.fmp4 import (
    AUDIO_TRACK_ID,
    VIDEO_TRACK_ID,
    AudioDescription,
    Sample,
    TrackRun,
    init_segment,
    media_fragment,
    mime_type,
    producer_reference_time,
    single_sample_fragment,
    video_sample,
)
from platonicam.media.hls import Playlist, ReloadDecision
from platonicam.media.parts import Part, Partitioner, choose_part_target
from platonicam.rtsp.sei import H264_NAL_SEI, H265_NAL_PREFIX_SEI, parse_latency_sei
from platonicam.rtsp.stream import (
    VIDEO_CLOCK_RATE,
    AccessUnit,
    AudioFrame,
    AudioStream,
    StreamDescription,
    VideoCodec,
)
from platonicam.rtsp.stream import AudioDescription as AudioTrack
from platonicam.tasks import cancel_and_wait

__all__ = [
    "Epoch",
    "FrameViewer",
    "Hub",
    "HubStats",
    "HubViewer",
    "MediaFrame",
    "MediaPart",
    "StreamSource",
]

log = logging.getLogger(__name__)

_Item = TypeVar("_Item")

#: Segments end at the first keyframe after this many seconds...
SEGMENT_TARGET: Final = 2.0
#: ... and never last longer than this (EXT-X-TARGETDURATION), whatever the GOP.
MAX_SEGMENT: Final = 4
#: Complete segments listed in the playlist (and kept in memory).
WINDOW: Final = 6
#: Default seconds a viewer may lag behind the live edge before it skips to a keyframe.
DEFAULT_MAX_LAG: Final = 2.0
#: Rendered playlists kept (one per query string, i.e. per media token, and kind).
_MAX_RENDERED: Final = 256
#: Frame rate assumed when the description does not state one.
FALLBACK_FPS: Final = 25.0
#: PCM samples in one AAC-LC frame: an audio sample's duration (track ticks).
AAC_FRAME_SAMPLES: Final = 1024
#: Seconds an audio frame's RTP time may drift from its wall clock before it is re-anchored.
_AUDIO_REANCHOR: Final = 0.5
#: AAC frames waiting for their part at most (~10 s at 48 kHz).
_MAX_PENDING_AUDIO: Final = 512
#: mfhd sequence numbers run 1..2**32-1.
_MAX_SEQUENCE: Final = 0xFFFF_FFFF


class StreamSource(Protocol):
    """What the hub reads: a :class:`~platonicam.rtsp.stream.LiveStream` (``Ingest`` fits).

    ``description`` may raise until the first connection; the hub reads it only
    after a unit has arrived.
    """

    @property
    def description(self) -> StreamDescription: ...

    def subscribe(self) -> AsyncIterator[AccessUnit]: ...


async def _feed(items: AsyncIterator[_Item], take: Callable[[_Item], object]) -> None:
    """Hand every item to ``take`` until the iterator ends; close it however this ends."""
    try:
        async for item in items:
            take(item)
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(PlatonicamError, OSError):
                await aclose()


@dataclass(frozen=True, slots=True)
class Epoch:
    """What one init segment describes: ``init`` is the segment, ``mime`` the MSE type.

    ``message`` is the JSON text an MSE viewer receives before ``init``
    (encoded once here, sent to every viewer as is).
    """

    number: int
    generation: int
    description: StreamDescription
    init: bytes
    mime: str
    width: int
    height: int
    message: str
    audio: AudioDescription | None = None


@dataclass(frozen=True, slots=True)
class MediaPart:
    """A published part: its fMP4 fragment and where it sits.

    ``order`` counts every part the hub published (across epochs) from 0;
    ``media_sequence``/``index`` name it in its epoch's playlist; ``duration``
    and ``start`` (the hub's running timeline) are 90 kHz ticks; ``stamp`` is
    the Unix time its first access unit was captured, from the latency SEI
    the unit carries (:mod:`platonicam.rtsp.sei`) or else the unit's own
    wall clock. ``message`` is the JSON side message MSE viewers get before
    ``data``.
    """

    order: int
    epoch: int
    media_sequence: int
    index: int
    duration: int
    start: int
    independent: bool
    ends_segment: bool
    stamp: float
    data: bytes
    message: str

    @property
    def end(self) -> int:
        """``start + duration``: where the next part begins on the hub's timeline."""
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One access unit published on its own, for MSE (see the module docstring).

    ``order`` counts every frame the hub published (across epochs) from 0 and
    is also the fragment's ``mfhd`` sequence number minus one (modulo 2**32-1);
    ``epoch`` is the :class:`Epoch` whose init segment decodes it;
    ``decode_time`` is its ``tfdt`` (90 kHz ticks on the epoch's timeline) and
    ``duration`` the one its sample was given (the epoch's frame interval);
    ``start`` places it on the hub's running frame timeline (for the lag of
    viewers); ``stamp`` is its capture time (Unix seconds, also in the
    ``prft``); ``data`` is the whole MSE message: ``prft`` + ``moof`` + ``mdat``.
    With sound, ``audio_frames`` AAC frames (those that arrived since the
    previous video frame) ride in a second ``traf`` of the same ``moof``.
    """

    order: int
    epoch: Epoch
    decode_time: int
    duration: int
    start: int
    keyframe: bool
    stamp: float
    data: bytes
    audio_frames: int = 0


@dataclass(frozen=True, slots=True)
class HubStats:
    """What the hub did: parts published and muxed, frames muxed for MSE, bytes muxed
    (parts and frames) and sent, viewers skipped."""

    parts: int
    muxed: int
    bytes_muxed: int
    bytes_sent: int
    epochs: int
    skips: int
    mse_viewers: int
    frames: int


def unit_stamp(unit: AccessUnit, codec: VideoCodec) -> float:
    """The capture time of ``unit``: its latency SEI if it has one, else ``unit.wallclock``."""
    for nal in unit.nal_units:
        if not nal:
            continue
        if codec is VideoCodec.H264:
            is_sei = nal[0] & 0x1F == H264_NAL_SEI
        else:
            is_sei = (nal[0] >> 1) & 0x3F == H265_NAL_PREFIX_SEI
        if is_sei:
            stamp = parse_latency_sei(nal, codec)
            if stamp is not None:
                return stamp
    return unit.wallclock


class _EpochState:
    """The mutable side of an epoch: its partitioner, playlist and timing."""

    __slots__ = (
        "audio_anchor",
        "audio_last",
        "audio_pending",
        "audio_track",
        "base_wallclock",
        "epoch",
        "frame",
        "frame_audio",
        "frame_base",
        "last_decode",
        "last_timestamp",
        "partitioner",
        "playlist",
    )

    def __init__(self, epoch: Epoch, first_media_sequence: int, fps: float) -> None:
        part_target = choose_part_target(fps)
        self.epoch = epoch
        self.frame = max(1, round(VIDEO_CLOCK_RATE / fps))
        self.partitioner = Partitioner(
            part_target=part_target,
            segment_target=round(SEGMENT_TARGET * VIDEO_CLOCK_RATE),
            frame_duration=self.frame,
            max_segment=MAX_SEGMENT * VIDEO_CLOCK_RATE,
            first_media_sequence=first_media_sequence,
        )
        self.playlist = Playlist(
            target_duration=MAX_SEGMENT,
            part_target=part_target,
            window=WINDOW,
            init_uri=f"init-{epoch.number}.mp4",
            segment_uri=f"s{epoch.number}-{{msn}}.m4s",
            part_uri=f"p{epoch.number}-{{msn}}.{{part}}.m4s",
            first_media_sequence=first_media_sequence,
        )
        self.last_timestamp: int | None = None
        # The per-frame (MSE) timeline: the epoch's first keyframe is decode time 0.
        self.frame_base: int | None = None
        self.last_decode: int | None = None
        # Audio: the first keyframe's wall clock (time 0), the (RTP time, decode time) the
        # track is anchored at, the last decode time, and frames waiting for their part.
        self.base_wallclock: float | None = None
        self.audio_anchor: tuple[int, int] | None = None
        self.audio_last: int | None = None
        self.audio_pending: list[tuple[int, bytes]] = []
        self.frame_audio: list[tuple[int, bytes]] = []  # for the next MSE frame
        # The source's track this epoch was opened with (a change needs a new epoch).
        self.audio_track: AudioTrack | None = None


class Hub:
    """The live parts of one camera (see the module docstring).

    ``max_lag`` (seconds) is how far behind the live edge a viewer may fall
    before it skips to the newest keyframe part. ``stamp`` reads the capture
    time of an access unit (default :func:`unit_stamp`).
    """

    def __init__(
        self,
        camera_id: str,
        source: StreamSource,
        *,
        max_lag: float = DEFAULT_MAX_LAG,
        stamp: Callable[[AccessUnit, VideoCodec], float] = unit_stamp,
    ) -> None:
        self.camera_id = camera_id
        self.source = source
        self.max_lag = max_lag
        self._stamp = stamp
        self._state: _EpochState | None = None
        self._epochs: dict[int, Epoch] = {}
        self._epoch_count = 0
        self._parts: deque[MediaPart] = deque()
        self._by_name: dict[tuple[int, int, int], MediaPart] = {}
        self._order = 0
        self._timeline = 0
        self._latest_key: MediaPart | None = None
        self._latest_key_unit: tuple[AccessUnit, StreamDescription] | None = None
        self._new_part = asyncio.Event()
        self._waiters: dict[tuple[int, int | None], asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._audio_task: asyncio.Task[None] | None = None
        self._closed = False
        self._muxed = 0
        self._bytes = 0
        self._skips = 0
        #: Open MSE connections and bytes handed to viewers: the outputs keep these up to date.
        self.mse_viewers = 0
        self.bytes_sent = 0
        self._ready_waiters = 0
        self._last_seen: int | None = None
        self._frame_ticks: float | None = None
        self._rendered: dict[
            tuple[bool, str], tuple[tuple[int, tuple[int, int] | None, bool], str]
        ] = {}
        self._frames: deque[MediaFrame] = deque()
        self._frame_order = 0
        self._frame_timeline = 0
        self._frame_bytes = 0
        self._latest_key_frame: MediaFrame | None = None
        self._new_frame = asyncio.Event()

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to the source (once; later calls do nothing)."""
        if self._task is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=f"hub-{self.camera_id}")
            if isinstance(self.source, AudioStream):
                self._audio_task = loop.create_task(
                    self._run_audio(), name=f"hub-audio-{self.camera_id}"
                )

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Stop reading the source and wake every waiter (viewers then end). Idempotent."""
        self._closed = True
        for task in (self._task, self._audio_task):
            await cancel_and_wait(task)
        self._task = self._audio_task = None
        self._wake_all()

    async def _run(self) -> None:
        try:
            await _feed(self.source.subscribe(), self.push)
        finally:
            self._closed = True
            if self._audio_task is not None:
                self._audio_task.cancel()
            self._wake_all()

    async def _run_audio(self) -> None:
        source = self.source
        assert isinstance(source, AudioStream)
        await _feed(source.subscribe_audio(), self.push_audio)

    def _wake_all(self) -> None:
        for event in self._waiters.values():
            event.set()
        self._waiters.clear()
        self._new_part.set()
        self._new_part = asyncio.Event()
        self._new_frame.set()
        self._new_frame = asyncio.Event()

    # -- ingest ------------------------------------------------------------------------

    def push(self, unit: AccessUnit) -> list[MediaPart]:
        """Take the next access unit; returns the parts it completed (already published).

        The unit itself is published at once as a :class:`MediaFrame` for MSE.
        A unit of a new generation, one after a gap in the timeline, or a
        keyframe after the source's audio track changed closes the current
        epoch; the next keyframe opens a new one. Units before the
        first keyframe of an epoch are dropped (nothing could decode them).
        """
        state = self._state
        published: list[MediaPart] = []
        self._observe(unit)
        if state is not None:
            # A unit further from the last than a part may last cannot join any part:
            # the camera dropped and came back, or lost frames. Close the epoch there.
            gap = (
                state.last_timestamp is not None
                and unit.timestamp - state.last_timestamp > state.partitioner.part_target
            )
            # A keyframe after the audio track changed (appeared, went, or another
            # sample rate after a reconnect) needs a new init segment too.
            audio_changed = unit.keyframe and self._source_audio() != state.audio_track
            if unit.generation != state.epoch.generation or gap or audio_changed:
                published += self._finish_epoch(state)
                state = self._state = None
        if state is None:
            if not unit.keyframe:
                return published
            state = self._open_epoch(unit)
            if state is None:
                return published
        state.last_timestamp = unit.timestamp
        if unit.keyframe:
            self._latest_key_unit = (unit, state.epoch.description)
        # MSE viewers first: the frame goes out before the part work below.
        self._publish_frame(state, unit)
        try:
            for part in state.partitioner.push(unit):
                published.append(self._publish(state, part))
        except MediaError as exc:
            # Timing the partitioner or playlist cannot take (a camera whose real frame
            # rate is far below what it announced): start over at the next keyframe, with
            # the frame rate measured meanwhile.
            log.warning("camera %s: %s; starting a new epoch", self.camera_id, exc)
            self._state = None
        return published

    def push_audio(self, frame: AudioFrame) -> int | None:
        """Take the next AAC frame; returns its decode time on the epoch's audio track, or
        ``None`` when it is dropped (no epoch with audio yet, before the epoch's time 0,
        or on audio already taken). It goes out with the next video frame (MSE) and
        the part whose time it falls in (HLS)."""
        state = self._state
        if state is None or state.epoch.audio is None or state.base_wallclock is None:
            return None
        rate = state.epoch.audio.sample_rate
        by_clock = round((frame.wallclock - state.base_wallclock) * rate)
        anchor = state.audio_anchor
        if anchor is not None:
            decode = anchor[1] + frame.timestamp - anchor[0]
            if abs(decode - by_clock) > _AUDIO_REANCHOR * rate:
                anchor = None  # the RTP clock jumped (a reconnect): go by the wall clock
        if anchor is None:
            decode = by_clock
        if decode < 0 or (state.audio_last is not None and decode <= state.audio_last):
            return None  # before the epoch's time 0, or on audio already sent
        if anchor is None:
            state.audio_anchor = (frame.timestamp, decode)
        state.audio_last = decode
        for pending in (state.audio_pending, state.frame_audio):
            pending.append((decode, frame.data))
            if len(pending) > _MAX_PENDING_AUDIO:
                # Audio far ahead of the video (it stalled): the oldest frames go.
                del pending[: len(pending) - _MAX_PENDING_AUDIO]
        return decode

    def _part_fragment(self, state: _EpochState, part: Part) -> bytes:
        """The part's fragment: its video, and the pending audio that starts before its end."""
        codec = state.epoch.description.codec
        audio = state.epoch.audio
        if audio is None or not state.audio_pending:
            return part.fragment(codec)
        # Audio ticks before the part's end, on the same (epoch) timeline.
        end = (part.decode_time + part.duration) * audio.sample_rate // VIDEO_CLOCK_RATE
        pending = state.audio_pending
        count = 0
        while count < len(pending) and pending[count][0] < end:
            count += 1
        if count == 0:
            return part.fragment(codec)
        taken, state.audio_pending = pending[:count], pending[count:]
        video = TrackRun(
            VIDEO_TRACK_ID,
            part.decode_time,
            tuple(video_sample(timed.unit, timed.duration, codec) for timed in part.units),
        )
        return media_fragment(part.sequence_number, video, _audio_run(taken))

    def _source_audio(self) -> AudioTrack | None:
        source = self.source
        return source.audio if isinstance(source, AudioStream) else None

    def _mux_audio(self, track: AudioTrack | None) -> AudioDescription | None:
        """The source's AAC track as the muxer needs it; ``None`` without one, or for a
        configuration we cannot read (then the video goes on alone)."""
        if track is None:
            return None
        try:
            return AudioDescription.from_audio_specific_config(track.config)
        except MediaError as exc:
            log.warning("camera %s: ignoring its AAC track: %s", self.camera_id, exc)
            return None

    def _observe(self, unit: AccessUnit) -> None:
        """Follow the real frame interval (an average of plausible ones)."""
        last, self._last_seen = self._last_seen, unit.timestamp
        if last is None:
            return
        delta = unit.timestamp - last
        if 0 < delta < 2 * VIDEO_CLOCK_RATE:
            previous = self._frame_ticks
            self._frame_ticks = delta if previous is None else (7 * previous + delta) / 8

    def _epoch_fps(self, description: StreamDescription) -> float:
        """The frame rate to plan parts for: the announced one, or the measured one when
        the camera is slower than it says (parts must fit whole frames)."""
        fps = description.fps if description.fps > 0 else FALLBACK_FPS
        if self._frame_ticks is not None:
            fps = min(fps, VIDEO_CLOCK_RATE / self._frame_ticks)
        return fps

    def _open_epoch(self, unit: AccessUnit) -> _EpochState | None:
        try:
            description = self.source.description
        except PlatonicamError as exc:  # pragma: no cover - a source that has units has one
            log.warning("camera %s: no stream description: %s", self.camera_id, exc)
            return None
        if description.generation != unit.generation:
            # The description changed again since this unit was sent: wait for the next keyframe.
            return None
        track = self._source_audio()
        audio = self._mux_audio(track)
        try:
            init = init_segment(description, audio)
            mime = mime_type(description, audio)
        except MediaError as exc:
            log.warning("camera %s: cannot mux this stream: %s", self.camera_id, exc)
            return None
        number = self._epoch_count
        self._epoch_count += 1
        width, height = _init_size(init, description)
        message = json.dumps(
            {
                "type": "init",
                "mime": mime,
                "epoch": number,
                "codec": description.codec.value,
                "width": width,
                "height": height,
                "fps": description.fps,
            },
            separators=(",", ":"),
        )
        epoch = Epoch(
            number, unit.generation, description, init, mime, width, height, message, audio
        )
        self._epochs[number] = epoch
        first_msn = 0
        previous = self._parts[-1] if self._parts else None
        if previous is not None:
            first_msn = previous.media_sequence + 1
        state = _EpochState(epoch, first_msn, self._epoch_fps(description))
        state.base_wallclock = unit.wallclock
        state.audio_track = track
        self._state = state
        log.info("camera %s: epoch %d (%s)", self.camera_id, number, mime)
        return state

    def _finish_epoch(self, state: _EpochState) -> list[MediaPart]:
        published = [self._publish(state, part) for part in state.partitioner.flush()]
        # Requests blocked on the old epoch re-read the new one.
        for event in self._waiters.values():
            event.set()
        self._waiters.clear()
        return published

    def _publish(self, state: _EpochState, part: Part) -> MediaPart:
        codec = state.epoch.description.codec
        data = self._part_fragment(state, part)
        self._muxed += 1
        stamp = self._stamp(part.units[0].unit, codec)
        epoch = state.epoch.number
        message = json.dumps(
            {
                "type": "part",
                "epoch": epoch,
                "msn": part.media_sequence,
                "part": part.index,
                "duration": part.duration / VIDEO_CLOCK_RATE,
                "independent": part.independent,
                "stamp": stamp,
            },
            separators=(",", ":"),
        )
        media = MediaPart(
            order=self._order,
            epoch=epoch,
            media_sequence=part.media_sequence,
            index=part.index,
            duration=part.duration,
            start=self._timeline,
            independent=part.independent,
            ends_segment=part.ends_segment,
            stamp=stamp,
            data=data,
            message=message,
        )
        self._order += 1
        self._timeline += part.duration
        self._bytes += len(data)
        state.playlist.add_part(
            part.media_sequence,
            part.index,
            part.duration,
            independent=part.independent,
            ends_segment=part.ends_segment,
            wallclock=stamp,
        )
        self._parts.append(media)
        self._by_name[(epoch, part.media_sequence, part.index)] = media
        if media.independent:
            self._latest_key = media
        self._prune(state)
        for key, event in list(self._waiters.items()):
            if state.playlist.reload_decision(*key) is not ReloadDecision.WAIT:
                event.set()
                del self._waiters[key]
        self._new_part.set()
        self._new_part = asyncio.Event()
        return media

    def _publish_frame(self, state: _EpochState, unit: AccessUnit) -> MediaFrame:
        """Mux ``unit`` alone (``prft`` + ``moof`` + ``mdat``), keep it, wake MSE viewers."""
        if state.frame_base is None:
            state.frame_base = unit.timestamp
        decode_time = unit.timestamp - state.frame_base
        last = state.last_decode
        if last is not None:
            # As the partitioner does: a timestamp that does not advance is nudged past.
            decode_time = max(decode_time, last + 1)
            self._frame_timeline += decode_time - last
        elif self._frames:
            self._frame_timeline += self._frames[-1].duration  # a new epoch carries on
        state.last_decode = decode_time
        codec = state.epoch.description.codec
        # The real duration is only known at the next frame: the epoch's frame interval
        # (the announced rate, or the measured one when the camera is slower).
        duration = state.frame
        stamp = self._stamp(unit, codec)
        sequence = self._frame_order % _MAX_SEQUENCE + 1
        prft = producer_reference_time(VIDEO_TRACK_ID, max(0.0, stamp), decode_time)
        sample = video_sample(unit, duration, codec)
        audio, state.frame_audio = state.frame_audio, []
        if audio:
            # The AAC frames that came since the last video frame ride in this one's
            # moof: one message per video frame, with or without sound.
            video = TrackRun(VIDEO_TRACK_ID, decode_time, (sample,))
            data = prft + media_fragment(sequence, video, _audio_run(audio))
        else:
            data = single_sample_fragment(
                sequence, VIDEO_TRACK_ID, decode_time, sample, prefix=prft
            )
        frame = MediaFrame(
            order=self._frame_order,
            epoch=state.epoch,
            decode_time=decode_time,
            duration=duration,
            start=self._frame_timeline,
            keyframe=unit.keyframe,
            stamp=stamp,
            data=data,
            audio_frames=len(audio),
        )
        self._frame_order += 1
        self._frame_bytes += len(data)
        self._frames.append(frame)
        if unit.keyframe:
            self._latest_key_frame = frame
        # Keep the GOP cache, and whatever is within max_lag of the newest frame.
        keep_from = self._latest_key_frame.order if self._latest_key_frame else frame.order
        horizon = frame.start - round(self.max_lag * VIDEO_CLOCK_RATE)
        frames = self._frames
        while frames[0].order < keep_from and frames[0].start < horizon:
            frames.popleft()
        self._new_frame.set()
        self._new_frame = asyncio.Event()
        return frame

    def _prune(self, state: _EpochState) -> None:
        """Drop parts that left the playlist window, but never the newest keyframe part."""
        segments = state.playlist.segments
        first_msn = segments[0].media_sequence if segments else state.playlist.next_part[0]
        keep_from = self._latest_key.order if self._latest_key is not None else self._order
        horizon = self._timeline - WINDOW * MAX_SEGMENT * VIDEO_CLOCK_RATE
        while self._parts:
            oldest = self._parts[0]
            if oldest.epoch == state.epoch.number:
                listed = oldest.media_sequence >= first_msn
            else:
                # A player may still fetch what the old epoch's last playlist listed.
                listed = oldest.end > horizon
            if listed or oldest.order >= keep_from:
                break
            self._parts.popleft()
            del self._by_name[(oldest.epoch, oldest.media_sequence, oldest.index)]
            # Parts are in order, so the epoch of the new oldest part is the oldest still used.
            still_used = self._parts[0].epoch if self._parts else state.epoch.number
            for number in [n for n in self._epochs if n < still_used]:
                del self._epochs[number]

    # -- what outputs read ---------------------------------------------------------------

    @property
    def epoch(self) -> Epoch | None:
        """The current epoch, ``None`` before the first keyframe."""
        return self._state.epoch if self._state is not None else None

    @property
    def playlist(self) -> Playlist | None:
        """The current epoch's playlist, ``None`` before the first keyframe."""
        return self._state.playlist if self._state is not None else None

    @property
    def muxed(self) -> int:
        """How many part fragments were muxed: one per part, whatever the number of viewers."""
        return self._muxed

    @property
    def frames_muxed(self) -> int:
        """How many MSE frame fragments were muxed: one per frame, whatever the viewers."""
        return self._frame_order

    @property
    def latest_keyframe_frame(self) -> MediaFrame | None:
        """The newest keyframe as an MSE frame (where a new MSE viewer starts)."""
        return self._latest_key_frame

    @property
    def newest_frame(self) -> MediaFrame | None:
        return self._frames[-1] if self._frames else None

    def frames(self) -> tuple[MediaFrame, ...]:
        """Every MSE frame kept in memory, oldest first."""
        return tuple(self._frames)

    @property
    def latest_keyframe_part(self) -> MediaPart | None:
        """The newest part that starts with a keyframe (where a new viewer starts)."""
        return self._latest_key

    @property
    def latest_keyframe(self) -> tuple[AccessUnit, StreamDescription] | None:
        """The newest keyframe access unit and the description it decodes with (snapshots)."""
        return self._latest_key_unit

    @property
    def newest(self) -> MediaPart | None:
        return self._parts[-1] if self._parts else None

    def parts(self) -> tuple[MediaPart, ...]:
        """Every part kept in memory, oldest first."""
        return tuple(self._parts)

    def epoch_by_number(self, number: int) -> Epoch | None:
        return self._epochs.get(number)

    def part(self, epoch: int, media_sequence: int, index: int) -> MediaPart | None:
        """A kept part by its playlist name, or ``None``."""
        return self._by_name.get((epoch, media_sequence, index))

    def segment(self, epoch: int, media_sequence: int) -> bytes | None:
        """A complete segment (its parts' fragments, concatenated) or ``None``."""
        found = [p for p in self._parts if p.epoch == epoch and p.media_sequence == media_sequence]
        if not found or not found[-1].ends_segment or found[0].index != 0:
            return None
        return b"".join(p.data for p in found)

    def stats(self) -> HubStats:
        return HubStats(
            parts=self._order,
            muxed=self._muxed,
            bytes_muxed=self._bytes + self._frame_bytes,
            bytes_sent=self.bytes_sent,
            epochs=self._epoch_count,
            skips=self._skips,
            mse_viewers=self.mse_viewers,
            frames=self._frame_order,
        )

    async def wait_ready(self, timeout: float) -> Epoch:
        """The current epoch once it has a first part; ``TimeoutError`` after ``timeout`` s.

        Raises :class:`MediaError` when the hub closes first.
        """
        self._ready_waiters += 1
        try:
            return await self._wait_ready(timeout)
        finally:
            self._ready_waiters -= 1

    async def _wait_ready(self, timeout: float) -> Epoch:
        async with asyncio.timeout(timeout):
            while (
                self._state is None
                or self.newest is None
                or self.newest.epoch != (self._state.epoch.number)
            ):
                if self._closed:
                    raise MediaError(f"the stream of camera {self.camera_id} ended")
                await self._new_part.wait()
        return self._state.epoch

    async def wait_for(self, msn: int | None, part: int | None, timeout: float) -> ReloadDecision:
        """Wait until the current playlist satisfies ``_HLS_msn``/``_HLS_part`` (blocking reload).

        Returns READY (render now), BAD_REQUEST (answer 400) or, once the hub
        has closed, WAIT (answer 503); raises
        ``TimeoutError`` when ``timeout`` seconds pass first (answer 503).
        Each awaited part has one :class:`asyncio.Event`, shared by every
        request for it and set when the part is published.
        """
        async with asyncio.timeout(timeout):
            while True:
                state = self._state
                if state is None:
                    await self._new_part.wait()
                    continue
                decision = state.playlist.reload_decision(msn, part)
                if decision is not ReloadDecision.WAIT or self._closed:
                    return decision
                key = (msn if msn is not None else 0, part)
                event = self._waiters.get(key)
                if event is None:
                    event = self._waiters[key] = asyncio.Event()
                await event.wait()

    def render(self, query: str = "", *, legacy: bool = False) -> str:
        """The current playlist as text (LL-HLS, or plain with ``legacy``), each URI with
        ``query``. Rendered once per new part and query, however many players ask.

        Raises :class:`MediaError` before the first keyframe.
        """
        state = self._state
        if state is None:
            raise MediaError(f"camera {self.camera_id} has no playlist yet")
        playlist = state.playlist
        version = (state.epoch.number, playlist.last_part, playlist.ended)
        cached = self._rendered.get((legacy, query))
        if cached is not None and cached[0] == version:
            return cached[1]
        text = playlist.render_legacy(query=query) if legacy else playlist.render(query=query)
        if len(self._rendered) >= _MAX_RENDERED:
            self._rendered.clear()
        self._rendered[(legacy, query)] = (version, text)
        return text

    @property
    def busy(self) -> bool:
        """Whether anyone uses the hub right now: an MSE viewer, or a request waiting."""
        return self.mse_viewers > 0 or bool(self._waiters) or self._ready_waiters > 0

    def waiting(self) -> int:
        """How many distinct parts blocked playlist requests are waiting for."""
        return len(self._waiters)

    def viewer(self, max_lag: float | None = None) -> HubViewer:
        """A new cursor that starts at the newest keyframe part (see :class:`HubViewer`)."""
        return HubViewer(self, self.max_lag if max_lag is None else max_lag)

    def frame_viewer(self, max_lag: float | None = None) -> FrameViewer:
        """A new MSE cursor that starts at the newest keyframe frame (see :class:`FrameViewer`)."""
        return FrameViewer(self, self.max_lag if max_lag is None else max_lag)

    # -- used by viewers ---------------------------------------------------------------

    def _after(self, order: int) -> MediaPart | None:
        if not self._parts:
            return None
        index = order - self._parts[0].order
        if 0 <= index < len(self._parts):
            return self._parts[index]
        return None

    def _frame_after(self, order: int) -> MediaFrame | None:
        if not self._frames:
            return None
        index = order - self._frames[0].order
        if 0 <= index < len(self._frames):
            return self._frames[index]
        return None

    def _count_skip(self) -> None:
        self._skips += 1


def _audio_run(frames: list[tuple[int, bytes]]) -> TrackRun:
    """The audio track run of (decode time, AAC frame) pairs in order: each sample lasts
    until the next one starts (a lost frame widens its predecessor instead of leaving
    a hole players stall at), the last one frame."""
    samples = tuple(
        Sample(
            data,
            (frames[i + 1][0] - decode) if i + 1 < len(frames) else AAC_FRAME_SAMPLES,
            True,
        )
        for i, (decode, data) in enumerate(frames)
    )
    return TrackRun(AUDIO_TRACK_ID, frames[0][0], samples)


class HubViewer:
    """One viewer's position in a hub: yields an :class:`Epoch` whenever the epoch changes,
    then the parts in order.

    Starts at the newest keyframe part. When the live edge gets more than
    ``max_lag`` seconds ahead of the viewer's next part (or that part has
    already left memory), it jumps to the newest keyframe part after its
    position; :attr:`skipped` counts the parts jumped over. It holds no parts
    itself: a slow viewer costs nothing but its socket's buffer.
    """

    def __init__(self, hub: Hub, max_lag: float) -> None:
        self._hub = hub
        self._max_lag = round(max_lag * VIDEO_CLOCK_RATE)
        self._next: int | None = None
        self._epoch: int | None = None
        self.skipped = 0
        self.sent = 0

    async def next(self) -> Epoch | MediaPart | None:
        """The next thing to send; ``None`` once the hub has closed."""
        hub = self._hub
        while True:
            if self._next is None:
                start = hub.latest_keyframe_part
                if start is not None:
                    self._next = start.order
            if self._next is not None:
                item = self._take()
                if item is not None:
                    return item
            if hub.closed:
                return None
            await hub._new_part.wait()

    def _take(self) -> Epoch | MediaPart | None:
        hub = self._hub
        assert self._next is not None
        newest = hub.newest
        if newest is None or self._next > newest.order:
            return None
        part = hub._after(self._next)
        behind = part is None or newest.end - part.start > self._max_lag
        if behind:
            key = hub.latest_keyframe_part
            if key is not None and key.order > self._next:
                self.skipped += key.order - self._next
                hub._count_skip()
                self._next = key.order
                part = key
            elif part is None:
                # Gone from memory and no newer keyframe: the newest keyframe is all there is.
                part = key
                if part is None:
                    return None
                self._next = part.order
        assert part is not None
        if part.epoch != self._epoch:
            epoch = hub.epoch_by_number(part.epoch)
            if epoch is None:  # pragma: no cover - an epoch stays while its parts do
                self._next = part.order + 1
                return None
            self._epoch = part.epoch
            return epoch
        self._next = part.order + 1
        self.sent += 1
        return part


class FrameViewer:
    """One MSE viewer's position in a hub's frames: yields an :class:`Epoch` whenever the
    epoch changes, then the :class:`MediaFrame` objects in order.

    Starts at the newest keyframe frame (the GOP cache goes out at once). When
    the newest frame is more than ``max_lag`` seconds ahead of the viewer's next
    one (or that one has left memory), it jumps to the newest keyframe frame;
    :attr:`skipped` counts the frames jumped over. Like :class:`HubViewer` it
    holds nothing itself.
    """

    def __init__(self, hub: Hub, max_lag: float) -> None:
        self._hub = hub
        self._max_lag = round(max_lag * VIDEO_CLOCK_RATE)
        self._next: int | None = None
        self._epoch: Epoch | None = None
        self.skipped = 0
        self.sent = 0

    async def next(self) -> Epoch | MediaFrame | None:
        """The next thing to send; ``None`` once the hub has closed."""
        hub = self._hub
        while True:
            if self._next is None:
                start = hub.latest_keyframe_frame
                if start is not None:
                    self._next = start.order
            if self._next is not None:
                item = self._take()
                if item is not None:
                    return item
            if hub.closed:
                return None
            await hub._new_frame.wait()

    def _take(self) -> Epoch | MediaFrame | None:
        hub = self._hub
        assert self._next is not None
        newest = hub.newest_frame
        if newest is None or self._next > newest.order:
            return None
        frame = hub._frame_after(self._next)
        if frame is None or newest.start - frame.start > self._max_lag:
            # Frames are kept back to the newest keyframe, so a frame gone from memory
            # always has a newer keyframe to jump to.
            key = hub.latest_keyframe_frame
            if key is not None and key.order > self._next:
                self.skipped += key.order - self._next
                hub._count_skip()
                frame = key
                self._next = key.order
            if frame is None:  # pragma: no cover - see above
                return None
        if frame.epoch is not self._epoch:
            self._epoch = frame.epoch
            return frame.epoch
        self._next = frame.order + 1
        self.sent += 1
        return frame


def _init_size(init: bytes, description: StreamDescription) -> tuple[int, int]:
    """Width and height as the init segment states them (the SPS's, cropping applied)."""
    marker = init.find(b"tkhd")
    if marker < 0:  # pragma: no cover - init_segment always writes one
        return description.width, description.height
    # tkhd v0 (14496-12 8.3.2): 84 bytes after the type; width and height (16.16) end it.
    end = marker + 4 + 84
    width = int.from_bytes(init[end - 8 : end - 6], "big")
    height = int.from_bytes(init[end - 4 : end - 2], "big")
    if width and height:
        return width, height
    return description.width, description.height  # pragma: no cover
