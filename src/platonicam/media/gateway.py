"""The media gateway: one hub per camera, opened on demand, closed when nobody watches.

Strategy:

* **On demand.** :meth:`Gateway.hub` opens a camera's feed (an
  :class:`~platonicam.media.ingest.Ingest`, built by the ``opener`` the service
  supplies: it knows the camera's stream URL and password, the gateway never
  does) and its :class:`~platonicam.media.hub.Hub` when the first viewer
  arrives; later viewers share them. Concurrent first requests open one feed.
* **Idle close or always on.** A hub with no MSE viewer and no HLS request for
  ``idle_timeout`` seconds is closed (its feed disconnects) by a reaper that
  looks every ``poll_interval`` seconds; cameras in ``always_on`` are opened by
  :meth:`Gateway.start` and never reaped.
* **A failed camera is retried by its next viewer**, not in a loop: a feed
  that went ``failed`` (a refused password, a missing path) is restarted when
  someone asks for it again; a hub whose feed ended is replaced.
* **Metadata beside the video.** When the service sets a metadata consumer
  (:meth:`Gateway.set_metadata_consumer`), every open camera whose feed
  carries metadata (:class:`MetadataFeed`, as :class:`Ingest` does) gets a task
  that hands the feed's documents to it, for as long as the hub is open: the
  same connection as the video. A reader that is not a viewer (a metadata
  WebSocket) keeps the camera from being reaped with :meth:`Gateway.hold`.
* **State and stats** per camera (:meth:`Gateway.stats`): the feed's state
  and reason, bitrate and fps in, bytes in and out, reconnects, viewers (MSE
  connections plus HLS clients seen in the last :data:`HLS_VIEWER_WINDOW`
  seconds), parts muxed and slow viewers skipped forward.

Time is read from ``clock.monotonic()``, so tests drive the idle close with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.media.hub import DEFAULT_MAX_LAG, Hub
from platonicam.media.ingest import IngestState, IngestStats, IngestStatus
from platonicam.media.snapshot import SnapshotCache
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import AccessUnit, StreamDescription

__all__ = [
    "CameraStats",
    "Feed",
    "FeedOpener",
    "Gateway",
    "MetadataConsumer",
    "MetadataFeed",
]

log = logging.getLogger(__name__)

#: Default seconds a hub stays open after its last viewer left.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
#: An HLS client counts as a viewer for this many seconds after its last request.
HLS_VIEWER_WINDOW: Final = 10.0


class Feed(Protocol):
    """A camera's live stream as the gateway uses it (:class:`Ingest` is one)."""

    @property
    def description(self) -> StreamDescription: ...

    @property
    def status(self) -> IngestStatus: ...

    def subscribe(self) -> AsyncIterator[AccessUnit]: ...

    def stats(self) -> IngestStats: ...

    def restart(self) -> None: ...

    async def close(self) -> None: ...


FeedOpener = Callable[[str], Awaitable[Feed]]


@runtime_checkable
class MetadataFeed(Protocol):
    """A feed that may carry the camera's analytics metadata track (:class:`Ingest` is one)."""

    @property
    def has_metadata(self) -> bool | None: ...

    def subscribe_metadata(self) -> AsyncIterator[MetadataDocument]: ...


#: Takes one camera's metadata documents (camera id, documents) until they end or it is
#: cancelled (when the camera's hub closes).
MetadataConsumer = Callable[[str, AsyncIterator[MetadataDocument]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CameraStats:
    """One camera's stream as the API shows it.

    ``state`` is ``idle`` (no hub open), ``connecting``, ``live``, ``retrying``
    or ``failed`` (``reason`` says why for the last two). Rates are over the
    ingest's stats window; byte counts since the hub opened
    (``bytes_out`` is what viewers were sent, ``bytes_muxed`` what was muxed once for all).
    """

    camera_id: str
    state: str
    reason: str | None
    bitrate_bps: float
    fps: float
    viewers: int
    mse_viewers: int
    hls_viewers: int
    bytes_in: int
    bytes_muxed: int
    bytes_out: int
    reconnects: int
    parts: int
    muxed: int
    skips: int
    mime: str | None
    width: int | None
    height: int | None


@dataclass(slots=True)
class _Entry:
    feed: Feed
    hub: Hub
    snapshots: SnapshotCache
    last_activity: float
    hls_clients: dict[str, float] = field(default_factory=dict)
    metadata_task: asyncio.Task[None] | None = None


class Gateway:
    """Hubs by camera id (see the module docstring)."""

    def __init__(
        self,
        opener: FeedOpener,
        *,
        clock: Clock | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        always_on: Iterable[str] = (),
        poll_interval: float = 1.0,
        max_lag: float = DEFAULT_MAX_LAG,
    ) -> None:
        self._opener = opener
        self._clock: Clock = clock or SystemClock()
        self.idle_timeout = idle_timeout
        self.always_on = frozenset(always_on)
        self.poll_interval = poll_interval
        self.max_lag = max_lag
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False
        self._metadata_consumer: MetadataConsumer | None = None
        # Readers that are not viewers (metadata sockets) keeping a camera open, by camera id.
        self._holds: dict[str, int] = {}

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Start the idle reaper and open every always-on camera (errors are logged)."""
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(
                self._reap_forever(), name="media-gateway-reaper"
            )
        for camera_id in sorted(self.always_on):
            try:
                await self.hub(camera_id)
            except PlatonicamError as exc:
                log.warning("always-on camera %s: %s", camera_id, exc)

    async def aclose(self) -> None:
        """Close every hub and feed; the gateway refuses work afterwards."""
        self._closed = True
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
        for camera_id in list(self._entries):
            await self.close_camera(camera_id)

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- hubs ------------------------------------------------------------------------

    async def hub(self, camera_id: str) -> Hub:
        """The camera's hub, opening its feed if needed; counts as activity.

        Raises whatever the opener raises (unknown camera, no stream URL) and
        ``RuntimeError`` once the gateway is closed.
        """
        if self._closed:
            raise RuntimeError("the media gateway is closed")
        lock = self._locks.setdefault(camera_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(camera_id)
            if entry is not None and entry.hub.closed:
                await self.close_camera(camera_id)
                entry = None
            if entry is None:
                feed = await self._opener(camera_id)
                hub = Hub(camera_id, feed, max_lag=self.max_lag)
                hub.start()
                entry = _Entry(feed, hub, SnapshotCache(self._clock), self._clock.monotonic())
                self._entries[camera_id] = entry
                self._start_metadata(camera_id, entry)
                log.info("camera %s: media hub opened", camera_id)
            elif entry.feed.status.state is IngestState.FAILED:
                entry.feed.restart()
            entry.last_activity = self._clock.monotonic()
            return entry.hub

    def opened(self, camera_id: str) -> Hub | None:
        """The camera's hub if it is open, without opening it."""
        entry = self._entries.get(camera_id)
        return entry.hub if entry is not None else None

    @property
    def cameras(self) -> frozenset[str]:
        """Ids of the cameras with an open hub."""
        return frozenset(self._entries)

    def touch(self, camera_id: str, client: str | None = None) -> None:
        """Record activity (an HLS request from ``client``) so the hub is not reaped."""
        entry = self._entries.get(camera_id)
        if entry is None:
            return
        now = self._clock.monotonic()
        entry.last_activity = now
        if client is not None:
            entry.hls_clients[client] = now

    async def snapshot(self, camera_id: str) -> bytes:
        """A JPEG of the camera's newest keyframe (cached briefly; see :mod:`.snapshot`)."""
        hub = await self.hub(camera_id)
        entry = self._entries[camera_id]
        return await entry.snapshots.jpeg(hub.latest_keyframe)

    async def close_camera(self, camera_id: str) -> None:
        """Close the camera's hub and feed now (the next viewer opens them again)."""
        entry = self._entries.pop(camera_id, None)
        if entry is None:
            return
        await self._stop_metadata(entry)
        await entry.hub.close()
        with contextlib.suppress(PlatonicamError, OSError):
            await entry.feed.close()
        log.info("camera %s: media hub closed", camera_id)

    # -- metadata --------------------------------------------------------------------

    async def set_metadata_consumer(self, consumer: MetadataConsumer | None) -> None:
        """Hand every open (and later opened) camera's metadata documents to ``consumer``;
        ``None`` stops (and waits for) the consumers' tasks."""
        self._metadata_consumer = consumer
        for camera_id, entry in list(self._entries.items()):
            await self._stop_metadata(entry)
            self._start_metadata(camera_id, entry)

    def metadata_track(self, camera_id: str) -> bool | None:
        """Whether the camera's open feed carries a metadata track: ``None`` when no
        hub is open or the camera was not reached yet; ``False`` for feeds that
        cannot carry one."""
        entry = self._entries.get(camera_id)
        if entry is None:
            return None
        if not isinstance(entry.feed, MetadataFeed):
            return False
        return entry.feed.has_metadata

    @contextlib.contextmanager
    def hold(self, camera_id: str) -> Iterator[None]:
        """Keep the camera's hub from being reaped while inside (a reader that is no
        MSE or HLS viewer); its idle period starts when the last holder leaves."""
        self._holds[camera_id] = self._holds.get(camera_id, 0) + 1
        try:
            yield
        finally:
            left = self._holds.pop(camera_id) - 1
            if left:
                self._holds[camera_id] = left
            self.touch(camera_id)

    async def wait_live(self, camera_id: str, timeout: float) -> IngestState | None:
        """Wait (at most ``timeout`` seconds) until the camera's open feed is live or
        failed; returns its state then (``None`` when no hub is open)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await asyncio.sleep(0)  # a feed just restarted by hub() leaves ``failed`` on its first turn
        while True:
            entry = self._entries.get(camera_id)
            if entry is None:
                return None
            state = entry.feed.status.state
            if state in (IngestState.LIVE, IngestState.FAILED) or loop.time() >= deadline:
                return state
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))

    def _start_metadata(self, camera_id: str, entry: _Entry) -> None:
        consumer = self._metadata_consumer
        if consumer is None or not isinstance(entry.feed, MetadataFeed):
            return
        entry.metadata_task = asyncio.get_running_loop().create_task(
            self._run_metadata(consumer, camera_id, entry.feed),
            name=f"media-metadata-{camera_id}",
        )

    async def _run_metadata(
        self, consumer: MetadataConsumer, camera_id: str, feed: MetadataFeed
    ) -> None:
        documents = feed.subscribe_metadata()
        try:
            await consumer(camera_id, documents)
        except Exception:  # a broken consumer silences the metadata, never the video
            log.exception("camera %s: the metadata consumer failed", camera_id)
        finally:
            if isinstance(documents, AsyncGenerator):
                await documents.aclose()

    @staticmethod
    async def _stop_metadata(entry: _Entry) -> None:
        task, entry.metadata_task = entry.metadata_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- idle close ------------------------------------------------------------------

    async def reap(self) -> list[str]:
        """Close the hubs idle for ``idle_timeout`` seconds; returns their camera ids."""
        now = self._clock.monotonic()
        idle = [
            camera_id
            for camera_id, entry in self._entries.items()
            if camera_id not in self.always_on
            and not entry.hub.busy
            and not self._holds.get(camera_id)
            and now - entry.last_activity >= self.idle_timeout
        ]
        for camera_id in idle:
            await self.close_camera(camera_id)
        return idle

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.reap()
            except Exception:  # pragma: no cover - keep reaping whatever one close did
                log.exception("closing idle media hubs failed")

    # -- stats -----------------------------------------------------------------------

    def stats(self, camera_id: str) -> CameraStats:
        """The camera's stream state and figures (``idle`` with zeros when no hub is open)."""
        entry = self._entries.get(camera_id)
        if entry is None:
            return CameraStats(
                camera_id, "idle", None, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None
            )
        now = self._clock.monotonic()
        for client, seen in list(entry.hls_clients.items()):
            if now - seen > HLS_VIEWER_WINDOW:
                del entry.hls_clients[client]
        status = entry.feed.status
        ingest = entry.feed.stats()
        hub = entry.hub.stats()
        epoch = entry.hub.epoch
        hls = len(entry.hls_clients)
        return CameraStats(
            camera_id=camera_id,
            state=status.state.value,
            reason=status.reason,
            bitrate_bps=ingest.bitrate_bps,
            fps=ingest.fps,
            viewers=hub.mse_viewers + hls,
            mse_viewers=hub.mse_viewers,
            hls_viewers=hls,
            bytes_in=ingest.bytes_received,
            bytes_muxed=hub.bytes_muxed,
            bytes_out=hub.bytes_sent,
            reconnects=ingest.reconnects,
            parts=hub.parts,
            muxed=hub.muxed,
            skips=hub.skips,
            mime=epoch.mime if epoch is not None else None,
            width=epoch.width if epoch is not None else None,
            height=epoch.height if epoch is not None else None,
        )
