"""One connection per camera, shared by every viewer: the gateway's ingest.

Strategy:

* **One session at a time.** An :class:`Ingest` owns at most one connection to
  its camera: our :class:`~platonicam.rtsp.client.RtspClient` by default, or a
  :class:`~platonicam.media.pyav_ingest.PyAvSession` (FFmpeg) for cameras our
  client cannot read (``mode="pyav"``). Access units are fanned out to every
  subscriber (the :class:`~platonicam.rtsp.stream.LiveStream` contract: each one
  starts at a keyframe and, when it falls behind its bounded queue, skips to the
  next keyframe). Nothing is decoded.
* **On demand or always on.** The first :meth:`Ingest.subscribe` opens the
  camera; when the last subscriber leaves, the connection closes after
  ``idle_timeout`` seconds unless ``always_on`` (then :meth:`Ingest.start`
  opens it at once and it stays open).
* **Survive the camera.** A dropped connection, a camera that answers nothing
  (the client's ``timeout``), one that stops sending video (the ``stall_timeout``
  watchdog) or one that sends too much garbage (the client's malformed-packet
  budget) ends the session; the ingest goes ``retrying`` and reconnects after an
  exponential backoff with jitter and a cap. Only a session that delivered video
  starts the backoff afresh: a camera that answers PLAY and then sends garbage or
  nothing is retried ever more slowly, not every half second. Subscribers keep their iterators:
  they resume at the first keyframe of the new session, with timestamps that
  keep growing across the gap and a new ``generation`` when the stream
  changed (other parameter sets, codec or size). A refused login, a missing
  path or a stream we cannot carry is ``failed`` with the reason, and is tried
  again only when a new subscriber arrives or :meth:`Ingest.restart` is called.
* **The metadata track rides along.** The RTSP connection also sets up the
  camera's ONVIF metadata track (``tt:MetadataStream`` documents, see
  :mod:`platonicam.rtsp.metadata`) when its SDP offers one: no second
  connection. :meth:`Ingest.subscribe_metadata` fans the documents out like the
  video (bounded queues; a slow reader loses the oldest documents, which are
  independent of each other). Nothing here parses them. A camera that offers
  the track but refuses to set it up is read again without it, so asking for
  metadata never costs the video; PyAV mode has no metadata.
* **So does AAC audio.** When the camera's SDP offers an AAC track our client
  sets it up; :attr:`Ingest.audio` describes it (for the ``mp4a`` sample
  entry) and :meth:`Ingest.subscribe_audio` fans its raw frames out in bounded
  queues (a slow reader loses the oldest). Audio never keeps a camera open by
  itself: it rides on the video subscriptions. PyAV mode has no audio.
* **Time is injected.** Stall detection, idle close, backoff waits and the stats
  windows read ``clock.monotonic()``; the loop only polls every
  ``poll_interval`` seconds, so tests with a fake clock need no sleeping.

The camera's password is kept inside the connection object: it never appears
in :func:`repr`, in state reasons or in log lines (URLs are shown without user
information).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Final, Literal, Protocol, runtime_checkable

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.media import codecs
from platonicam.media.pyav_ingest import PyAvSession
from platonicam.rtsp.client import RtspClient, RtspCredentials, parse_url
from platonicam.rtsp.errors import (
    RtspAuthenticationError,
    RtspError,
    RtspStatusError,
    SdpError,
)
from platonicam.rtsp.fanout import DropOldestQueue, UnitQueue
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    StreamDescription,
    VideoCodec,
)
from platonicam.tasks import cancel_and_wait

log = logging.getLogger(__name__)

IngestMode = Literal["rtsp", "pyav"]

#: Seconds of history behind the bitrate and fps figures.
STATS_WINDOW: Final = 2.0
#: Default seconds without video after which a live session counts as hung.
DEFAULT_STALL_TIMEOUT: Final = 5.0
#: Default seconds a connection stays open after its last subscriber left.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
#: Default per-subscriber queue, in access units (about 4 s at 60 fps).
DEFAULT_QUEUE_SIZE: Final = 256
#: Default per-subscriber queue of metadata documents (about 13 s at 5 documents a second).
DEFAULT_METADATA_QUEUE: Final = 64


class IngestError(PlatonicamError):
    """An ingest used wrongly (no description yet, subscribed after close)."""


class IngestState(enum.StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class IngestStatus:
    """Where the ingest is: ``reason`` says why it is retrying or failed.

    ``since`` is the ``clock.monotonic()`` time of the last change; ``attempt``
    is the number of the connection attempt under way or last made since the
    ingest was last live (0 while waiting right after a live session dropped).
    """

    state: IngestState
    reason: str | None = None
    since: float = 0.0
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class IngestStats:
    """Figures for the API: rates over the last :data:`STATS_WINDOW` seconds, totals since start.

    ``bitrate_bps`` is video payload bits per second; ``bytes_received`` counts
    video payload bytes; ``reconnects`` counts sessions opened after a failure.
    """

    bitrate_bps: float
    fps: float
    viewers: int
    bytes_received: int
    access_units: int
    keyframes: int
    reconnects: int
    malformed_packets: int


class IngestSource(Protocol):
    """What the ingest needs from a connection (RtspClient and PyAvSession both fit)."""

    @property
    def description(self) -> StreamDescription: ...

    @property
    def malformed_packets(self) -> int: ...

    async def open(self) -> None: ...

    def access_units(self) -> AsyncIterator[AccessUnit]: ...

    async def close(self) -> None: ...


@runtime_checkable
class MetadataSession(Protocol):
    """A connection that may carry the ONVIF metadata track beside the video
    (:class:`~platonicam.rtsp.client.RtspClient` opened with ``metadata=True``):
    ``media()`` then yields its :class:`MetadataDocument` objects among the
    access units."""

    @property
    def has_metadata(self) -> bool: ...

    def media(self) -> AsyncIterator[object]: ...


class Backoff:
    """Exponential backoff with jitter and a cap (pure; ``rng`` injectable for tests).

    The n-th :meth:`next` (from 0) is ``min(cap, initial * factor**n)`` scaled
    by a random factor in ``[1 - jitter, 1 + jitter]`` and clipped to ``cap``,
    so many cameras that failed together do not retry in lockstep.
    """

    def __init__(
        self,
        initial: float = 0.5,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or factor < 1 or cap < initial or not 0 <= jitter < 1:
            raise ValueError(
                "backoff needs initial > 0, factor >= 1, cap >= initial, 0 <= jitter < 1"
            )
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self._rng = rng or random.Random()
        self.failures = 0

    def next(self) -> float:
        """The delay before the next attempt (seconds); counts one more failure."""
        base = min(self.cap, self.initial * self.factor ** min(self.failures, 64))
        self.failures += 1
        spread = 1 + self.jitter * (2 * self._rng.random() - 1)
        return min(self.cap, base * spread)

    def reset(self) -> None:
        self.failures = 0


#: AAC frames an audio subscriber may have queued (~5 s at 48 kHz).
AUDIO_QUEUE_SIZE: Final = 256


class _Stop(Exception):
    """Internal: the session ends because nobody watches (not an error)."""


class _Stall(RtspError):
    """Internal: the live session sent no video for ``stall_timeout`` seconds."""


class _MetadataRefused(RtspError):
    """Internal: the camera offered a metadata track but refused to set it up."""


def _permanent(exc: BaseException) -> bool:
    """Errors that retrying cannot fix until someone changes the camera or its settings."""
    if isinstance(exc, RtspAuthenticationError | SdpError):
        return True
    return isinstance(exc, RtspStatusError) and exc.status in (403, 404, 461)


def _fill_from_sps(description: StreamDescription) -> StreamDescription:
    """Width, height (and H.264 fps) from the SPS when the SDP did not carry them."""
    if description.width and description.height:
        return description
    try:
        if description.codec is VideoCodec.H264:
            sps = codecs.parse_h264_sps(codecs.find_parameter_set(description, 7))
            fps = description.fps or (float(sps.frame_rate) if sps.frame_rate else 0.0)
            return replace(description, width=sps.width, height=sps.height, fps=fps)
        hsps = codecs.parse_h265_sps(codecs.find_parameter_set(description, 33))
        return replace(description, width=hsps.width, height=hsps.height)
    except PlatonicamError as exc:
        log.debug("cannot read the stream's size from its SPS: %s", exc)
        return description


class Ingest:
    """One camera's live video, pulled once and shared (a ``LiveStream``; see the module doc).

    ``source_url`` is the camera's ``rtsp://`` or ``rtsps://`` URL; ``credentials``
    (or user information in the URL) log in. ``transport`` is ``"tcp"`` or
    ``"udp"``; ``timeout`` (s) bounds connecting and each answer;
    ``stall_timeout`` (s) is how long a live camera may send no video.
    ``backoff`` paces reconnects; ``max_attempts`` (``None``: forever) turns a
    run of failed attempts into ``failed``. ``metadata`` asks the camera for its
    metadata track too (when its SDP has one). ``opener`` replaces the
    connection factory (tests use it to script sources).
    """

    def __init__(
        self,
        camera_id: str,
        source_url: str,
        credentials: RtspCredentials | None = None,
        mode: IngestMode = "rtsp",
        *,
        transport: Literal["tcp", "udp"] = "tcp",
        timeout: float = 10.0,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        always_on: bool = False,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        clock: Clock | None = None,
        poll_interval: float = 0.05,
        opener: Callable[[], IngestSource] | None = None,
        metadata: bool = True,
        metadata_queue_size: int = DEFAULT_METADATA_QUEUE,
    ) -> None:
        if mode not in ("rtsp", "pyav"):
            raise ValueError(f"mode must be 'rtsp' or 'pyav', not {mode!r}")
        parsed = parse_url(source_url)
        self.camera_id = camera_id
        self.url = parsed.url
        self.mode: IngestMode = mode
        self._source_url = source_url
        self._credentials = credentials or parsed.credentials
        self.transport = transport
        self.timeout = timeout
        self.stall_timeout = stall_timeout
        self.idle_timeout = idle_timeout
        self.always_on = always_on
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self._queue_size = queue_size
        self._clock: Clock = clock or SystemClock()
        self._poll = poll_interval
        self._opener = opener or self._default_opener
        self._status = IngestStatus(IngestState.IDLE, since=self._clock.monotonic())
        self._description: StreamDescription | None = None
        self._subscribers: set[UnitQueue] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._idle_since: float | None = None
        self._last_unit_at = 0.0
        # Timestamp continuity across sessions: offset added to the session's timestamps.
        self._ts_offset = 0
        self._last_ts: int | None = None
        self._last_at = 0.0
        self._session_first = True
        # Whether the current session delivered video: only that earns a fresh backoff.
        self._session_video = False
        self._window: collections.deque[tuple[float, int]] = collections.deque()
        self._bytes = 0
        self._units = 0
        self._keyframes = 0
        self._reconnects = 0
        self._failed_before = False
        self._malformed_done = 0
        self._source: IngestSource | None = None
        self._live = asyncio.Event()
        self.metadata = metadata and mode == "rtsp"
        self._metadata_queue_size = metadata_queue_size
        self._metadata_subscribers: set[DropOldestQueue[MetadataDocument]] = set()
        # Set when the camera refused the metadata track's SETUP: read video only from then on.
        self._metadata_refused = False
        self._has_metadata: bool | None = None
        self.metadata_documents = 0
        self._audio_subscribers: set[DropOldestQueue[AudioFrame]] = set()
        self._audio: AudioDescription | None = None

    def __repr__(self) -> str:
        return (
            f"Ingest(camera_id={self.camera_id!r}, url={self.url!r}, mode={self.mode!r}, "
            f"state={self._status.state.value!r})"
        )

    def _default_opener(self) -> IngestSource:
        if self.mode == "pyav":
            return PyAvSession(
                self._source_url,
                self._credentials,
                transport=self.transport,
                timeout=self.timeout,
                clock=self._clock,
            )
        return RtspClient(
            self._source_url,
            self._credentials.username if self._credentials else None,
            self._credentials.password if self._credentials else None,
            transport=self.transport,
            timeout=self.timeout,
            clock=self._clock,
            metadata=self.metadata and not self._metadata_refused,
        )

    # -- what the API shows ----------------------------------------------------------

    @property
    def status(self) -> IngestStatus:
        return self._status

    @property
    def state(self) -> IngestState:
        return self._status.state

    @property
    def description(self) -> StreamDescription:
        """The current stream; raises :class:`IngestError` before the first connection."""
        if self._description is None:
            raise IngestError(f"camera {self.camera_id} has not been reached yet")
        return self._description

    @property
    def viewers(self) -> int:
        return len(self._subscribers)

    @property
    def has_metadata(self) -> bool | None:
        """Whether the current (or last) session carries a metadata track; ``None``
        before the camera was first reached."""
        return self._has_metadata

    @property
    def audio(self) -> AudioDescription | None:
        """The current (or last) session's AAC track, ``None`` without one (or before
        the camera was first reached, or in PyAV mode)."""
        return self._audio

    async def subscribe_audio(self) -> AsyncGenerator[AudioFrame, None]:
        """The AAC frames as they arrive, across reconnects, until :meth:`close`.

        Frames are raw (no ADTS header); their ``timestamp`` counts the track's
        sample rate from its first packet of the session and ``wallclock`` is
        Unix seconds, as the client found them. This does not open the camera:
        subscribe to the video too. Stop early with ``aclose()``.
        """
        if self._closed:
            return
        reader: DropOldestQueue[AudioFrame] = DropOldestQueue(AUDIO_QUEUE_SIZE)
        self._audio_subscribers.add(reader)
        try:
            while True:
                frame = await reader.queue.get()
                if frame is None:
                    return
                yield frame
        finally:
            self._audio_subscribers.discard(reader)

    @property
    def metadata_dropped(self) -> int:
        """Documents the current metadata subscribers lost for falling behind."""
        return sum(s.dropped for s in self._metadata_subscribers)

    def stats(self) -> IngestStats:
        now = self._clock.monotonic()
        self._trim(now)
        window = self._window
        span = STATS_WINDOW
        if window:
            span = max(now - window[0][0], 1e-3) if len(window) > 1 else STATS_WINDOW
        units = len(window)
        bitrate = 8 * sum(size for _, size in window) / span if units else 0.0
        fps = (
            (units - 1) / (window[-1][0] - window[0][0])
            if units > 1 and window[-1][0] > window[0][0]
            else 0.0
        )
        source = self._source
        malformed = self._malformed_done + (source.malformed_packets if source else 0)
        return IngestStats(
            bitrate_bps=bitrate,
            fps=fps,
            viewers=len(self._subscribers),
            bytes_received=self._bytes,
            access_units=self._units,
            keyframes=self._keyframes,
            reconnects=self._reconnects,
            malformed_packets=malformed,
        )

    def _trim(self, now: float) -> None:
        while self._window and now - self._window[0][0] > STATS_WINDOW:
            self._window.popleft()

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Connect now (if not already running); the way to run an always-on camera."""
        if self._closed:
            raise IngestError(f"the ingest of camera {self.camera_id} is closed")
        if self._task is None or self._task.done():
            self._idle_since = (
                None if self._subscribers or self.always_on else self._clock.monotonic()
            )
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ingest-{self.camera_id}"
            )

    def restart(self) -> None:
        """Try a failed (or idle) camera again at once, with a fresh backoff."""
        self.backoff.reset()
        self.start()

    async def wait_live(self, timeout: float) -> None:
        """Wait until the ingest is live; raises ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            await self._live.wait()

    async def close(self) -> None:
        """Disconnect and end every subscription (their iterators finish). Idempotent."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        for subscriber in self._subscribers:
            subscriber.end()
        # The end, even where it costs a reader its oldest queued item.
        for reader in self._metadata_subscribers:
            reader.offer(None)
        for listener in self._audio_subscribers:
            listener.offer(None)
        self._set(IngestState.IDLE)

    def _set(self, state: IngestState, reason: str | None = None, attempt: int = 0) -> None:
        if state is not self._status.state or reason != self._status.reason:
            log.info(
                "camera %s: %s%s", self.camera_id, state.value, f" ({reason})" if reason else ""
            )
        self._status = IngestStatus(state, reason, self._clock.monotonic(), attempt)
        if state is IngestState.LIVE:
            self._live.set()
        else:
            self._live.clear()

    # -- subscribers -----------------------------------------------------------------

    async def subscribe(self) -> AsyncGenerator[AccessUnit, None]:
        """Access units from the next keyframe on, across reconnects, until :meth:`close`.

        Subscribing opens the camera when it is idle and retries it when it had
        failed. Stop early with ``aclose()`` so the queue is released at once.
        """
        if self._closed:
            return
        subscriber = UnitQueue(self._queue_size)
        self._subscribers.add(subscriber)
        self._idle_since = None
        if self._task is None or self._task.done():
            self.restart()
        try:
            async for unit in subscriber.units():
                yield unit
        finally:
            self._subscribers.discard(subscriber)
            if not self._subscribers and not self._metadata_subscribers:
                self._idle_since = self._clock.monotonic()

    async def subscribe_metadata(self) -> AsyncGenerator[MetadataDocument, None]:
        """The metadata track's documents as they arrive, across reconnects, until
        :meth:`close`; ends at once when metadata is off (or in PyAV mode).

        Like :meth:`subscribe` it opens the camera and keeps it open. A camera
        without a metadata track simply yields nothing (:attr:`has_metadata`
        says so once it was reached). Stop early with ``aclose()``.
        """
        if self._closed or not self.metadata:
            return
        reader: DropOldestQueue[MetadataDocument] = DropOldestQueue(self._metadata_queue_size)
        self._metadata_subscribers.add(reader)
        self._idle_since = None
        if self._task is None or self._task.done():
            self.restart()
        try:
            while True:
                document = await reader.queue.get()
                if document is None:
                    return
                yield document
        finally:
            self._metadata_subscribers.discard(reader)
            if not self._subscribers and not self._metadata_subscribers:
                self._idle_since = self._clock.monotonic()

    def _publish_metadata(self, document: MetadataDocument) -> None:
        self.metadata_documents += 1
        for reader in self._metadata_subscribers:
            reader.offer(document)

    def _publish(self, unit: AccessUnit) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(unit)

    # -- the connection loop ---------------------------------------------------------

    def _idle_expired(self) -> bool:
        if (
            self.always_on
            or self._subscribers
            or self._metadata_subscribers
            or self._idle_since is None
        ):
            return False
        return self._clock.monotonic() - self._idle_since >= self.idle_timeout

    async def _run(self) -> None:
        attempt = 0
        reason: str | None = None
        while True:
            attempt += 1
            if reason is None:
                self._set(IngestState.CONNECTING, attempt=attempt)
            else:
                self._set(IngestState.RETRYING, reason, attempt)
            try:
                await self._session()
            except _Stop:
                self._set(IngestState.IDLE)
                return
            except (PlatonicamError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
                if _permanent(exc):
                    self._set(IngestState.FAILED, reason, attempt)
                    return
                self._failed_before = True
                if self._session_video:
                    attempt = 0  # it had worked: a fresh run of attempts
                    self.backoff.reset()
            if self.max_attempts is not None and attempt >= self.max_attempts:
                self._set(IngestState.FAILED, f"{attempt} attempts failed; last: {reason}", attempt)
                return
            self._set(IngestState.RETRYING, reason, attempt)
            if await self._wait(self.backoff.next()):
                self._set(IngestState.IDLE)
                return

    async def _wait(self, delay: float) -> bool:
        """Sleep ``delay`` clock seconds; ``True`` when the idle timeout expired meanwhile."""
        deadline = self._clock.monotonic() + delay
        while self._clock.monotonic() < deadline:
            if self._idle_expired():
                return True
            await asyncio.sleep(self._poll)
        return self._idle_expired()

    async def _session(self) -> None:
        self._session_video = False
        source = self._opener()
        self._source = source
        pump: asyncio.Task[None] | None = None
        try:
            opening = asyncio.ensure_future(source.open())
            while not opening.done():
                await asyncio.wait({opening}, timeout=self._poll)
                if self._idle_expired() and not opening.done():
                    await cancel_and_wait(opening, ignore=(PlatonicamError, OSError))
                    raise _Stop
            try:
                opening.result()
            except RtspStatusError as exc:
                if self._refused_metadata(source, exc):
                    self._metadata_refused = True
                    raise _MetadataRefused(
                        f"{exc}: the camera refused its metadata track; reading the video only"
                    ) from None
                raise
            self._on_live(source)
            pump = asyncio.ensure_future(self._pump(source))
            while True:
                await asyncio.wait({pump}, timeout=self._poll)
                if pump.done():
                    pump.result()  # raises what ended the stream
                    raise RtspError("the stream ended")
                if self._idle_expired():
                    raise _Stop
                silent = self._clock.monotonic() - self._last_unit_at
                if silent > self.stall_timeout:
                    raise _Stall(
                        f"no video for {silent:.1f} s (stall timeout {self.stall_timeout} s)"
                    )
        finally:
            if pump is not None and not pump.done():
                await cancel_and_wait(pump)
            self._malformed_done += source.malformed_packets
            self._source = None
            with contextlib.suppress(PlatonicamError, OSError):
                await source.close()

    def _refused_metadata(self, source: IngestSource, exc: RtspStatusError) -> bool:
        """Whether a failed open was a later SETUP (the video's had given us a session)
        of a connection that asked for the metadata track: worth one try without it.
        (Were it the audio track instead, the next try fails the same way, and says so.)"""
        if self._metadata_refused or exc.method != "SETUP":
            return False
        if not isinstance(source, RtspClient) or not source.has_metadata:
            return False
        return source.handshake.session_id is not None

    def _on_live(self, source: IngestSource) -> None:
        if self._failed_before:
            self._reconnects += 1
            self._failed_before = False
        self._last_unit_at = self._clock.monotonic()
        self._session_first = True
        self._has_metadata = isinstance(source, MetadataSession) and source.has_metadata
        audio = getattr(source, "audio", None)
        self._audio = audio if isinstance(audio, AudioDescription) else None
        self._adopt(source.description)
        for subscriber in self._subscribers:
            subscriber.waiting_for_keyframe = True
        self._set(IngestState.LIVE)

    def _adopt(self, described: StreamDescription) -> None:
        """Take the session's description; a changed stream gets a new generation."""
        current = self._description
        described = _fill_from_sps(described)
        if current is None:
            self._description = replace(described, generation=0)
            return
        same = (
            current.codec is described.codec
            and current.parameter_sets == described.parameter_sets
            and (current.width, current.height) == (described.width, described.height)
        )
        generation = current.generation if same else current.generation + 1
        if not same or current.fps != described.fps:
            self._description = replace(described, generation=generation)

    async def _pump(self, source: IngestSource) -> None:
        if isinstance(source, MetadataSession) and (source.has_metadata or self._audio is not None):
            # One queue carries every track in arrival order.
            async for item in source.media():
                if isinstance(item, AccessUnit):
                    self._take(source, item)
                elif isinstance(item, MetadataDocument):
                    self._publish_metadata(item)
                elif isinstance(item, AudioFrame):
                    for listener in self._audio_subscribers:
                        listener.offer(item)
            return
        async for unit in source.access_units():
            self._take(source, unit)

    def _take(self, source: IngestSource, unit: AccessUnit) -> None:
        """One video access unit: stats, continuous timestamps, fan-out."""
        now = self._clock.monotonic()
        self._last_unit_at = now
        if not self._session_video:
            # Video, not just an answered PLAY: a camera that then sends garbage or
            # nothing must not get a fresh (fast) backoff on every attempt.
            self._session_video = True
            self.backoff.reset()
        if unit.keyframe:
            self._adopt(source.description)
        assert self._description is not None
        timestamp = self._rebase(unit.timestamp, now)
        out = AccessUnit(
            nal_units=unit.nal_units,
            timestamp=timestamp,
            keyframe=unit.keyframe,
            wallclock=unit.wallclock,
            generation=self._description.generation,
            extras=unit.extras,
        )
        size = sum(len(nal) for nal in unit.nal_units)
        self._bytes += size
        self._units += 1
        self._keyframes += unit.keyframe
        self._window.append((now, size))
        self._trim(now)
        self._publish(out)

    def _rebase(self, timestamp: int, now: float) -> int:
        """Session timestamps made continuous: the first unit after a reconnect follows the
        last one sent by the real time that passed between them (at least one tick)."""
        if self._session_first:
            self._session_first = False
            if self._last_ts is None:
                self._ts_offset = -timestamp
            else:
                gap = max(1, round((now - self._last_at) * 90_000))
                self._ts_offset = self._last_ts + gap - timestamp
        rebased = timestamp + self._ts_offset
        if self._last_ts is not None and rebased <= self._last_ts:
            rebased = self._last_ts + 1  # never backwards, whatever the camera did
        self._last_ts = rebased
        self._last_at = now
        return rebased
