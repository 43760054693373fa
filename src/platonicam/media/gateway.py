"""The media gateway: one hub per camera, opened on demand, closed when nobody watches.

Strategy:

* **On demand.** :meth:`Gateway.hub` opens a camera's feed (an
  :class:`~platonicam.media.ingest.Ingest`, built by the ``opener`` the service
  supplies: it knows the camera's stream URL and password, the gateway never
  does) and its :class:`~platonicam.media.hub.Hub` when the first viewer
  arrives; later viewers share them. Concurrent first requests open one feed.
* **Idle close or always on.** A hub with no MSE viewer and no HLS request for
  ``idle_timeout`` seconds is closed (its feed disconnects) by a reaper that
  looks every ``poll_interval`` seconds. Cameras in ``always_on`` are never
  reaped: :meth:`Gateway.start` opens them (waiting at most ``start_timeout``
  seconds, so a camera that does not answer never holds up the service), and
  the same loop keeps them open: one that could not be opened, or whose feed
  went ``failed``, is tried again after a backoff (1 s doubling to a minute),
  so an always-on camera comes back by itself after a power cut or a
  password fix, with nobody watching.
* **The camera table.** With a ``catalog`` (the registered cameras, each with
  a fingerprint of what its feed is opened from), the gateway compares it
  with its hubs every ``catalog_interval`` seconds, and at once after
  :meth:`Gateway.cameras_changed`: an always-on camera registered later is
  opened, a deleted camera's hub is closed, and a camera whose address or
  credentials changed is reopened (always-on) or closed (the next viewer opens
  it with the new ones). Without a catalog every always-on camera is kept open.
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
    Hashable,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.media.hub import DEFAULT_MAX_LAG, Hub
from platonicam.media.ingest import Backoff, IngestState, IngestStats, IngestStatus
from platonicam.media.snapshot import SnapshotCache
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import AccessUnit, StreamDescription
from platonicam.tasks import cancel_and_wait

__all__ = [
    "CameraStats",
    "Catalog",
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
#: Default seconds between two looks at the camera table (the ``catalog``).
DEFAULT_CATALOG_INTERVAL: Final = 5.0
#: Default seconds :meth:`Gateway.start` waits for the always-on cameras to open.
DEFAULT_START_TIMEOUT: Final = 5.0


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


#: The registered cameras: camera id -> a fingerprint of what its feed is opened from
#: (address, credentials); a changed fingerprint reopens the camera's feed.
Catalog = Callable[[], Awaitable[Mapping[str, Hashable]]]

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
    #: The catalog's fingerprint of the camera when it was opened (None: not listed yet).
    fingerprint: Hashable | None = None
    #: How many catalog listings had begun when it was opened: a listing begun
    #: earlier may predate the camera and must not close it.
    listing: int = 0


@dataclass(slots=True)
class _Keeper:
    """Keeping one always-on camera open: its retry pace and the opening under way."""

    backoff: Backoff = field(default_factory=lambda: Backoff(initial=1.0, factor=2.0, cap=60.0))
    #: ``loop.time()`` before which nothing is tried again.
    retry_at: float = 0.0
    #: A failed feed was seen and its restart is due at ``retry_at``.
    restart_due: bool = False
    opening: asyncio.Task[None] | None = None


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
        catalog: Catalog | None = None,
        catalog_interval: float = DEFAULT_CATALOG_INTERVAL,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self._opener = opener
        self._clock: Clock = clock or SystemClock()
        self.idle_timeout = idle_timeout
        self.always_on = frozenset(always_on)
        self.poll_interval = poll_interval
        self.max_lag = max_lag
        self.catalog_interval = catalog_interval
        self.start_timeout = start_timeout
        self._catalog = catalog
        #: The last listing of the camera table (None: no catalog, or not listed yet).
        self._registered: Mapping[str, Hashable] | None = None
        self._listings = 0
        self._changed = asyncio.Event()
        self._keepers: dict[str, _Keeper] = {}
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False
        self._metadata_consumer: MetadataConsumer | None = None
        # Readers that are not viewers (metadata sockets) keeping a camera open, by camera id.
        self._holds: dict[str, int] = {}

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Start the housekeeping loop (idle close, always-on cameras, the catalog) and
        open the always-on cameras, waiting for them at most ``start_timeout`` seconds
        (a camera that cannot be opened is logged and tried again later)."""
        if self._reaper is not None:
            return
        await self._refresh_catalog()
        opening = self._keep_always_on()
        self._reaper = asyncio.get_running_loop().create_task(
            self._reap_forever(), name="media-gateway-reaper"
        )
        if opening:
            await asyncio.wait(opening, timeout=self.start_timeout)

    async def aclose(self) -> None:
        """Close every hub and feed; the gateway refuses work afterwards."""
        self._closed = True
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            await cancel_and_wait(reaper)
        for keeper in self._keepers.values():
            if keeper.opening is not None:
                await cancel_and_wait(keeper.opening)
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
                entry.listing = self._listings
                if self._registered is not None:
                    entry.fingerprint = self._registered.get(camera_id)
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
            await cancel_and_wait(task)

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
        loop = asyncio.get_running_loop()
        next_listing = loop.time() + self.catalog_interval
        while True:
            # Woken early by cameras_changed(): the table is listed at once.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._changed.wait()
            try:
                if self._changed.is_set() or loop.time() >= next_listing:
                    self._changed.clear()
                    next_listing = loop.time() + self.catalog_interval
                    await self._refresh_catalog()
                await self.reap()
                self._keep_always_on()
            except Exception:  # pragma: no cover - keep going whatever one camera did
                log.exception("media gateway housekeeping failed")

    # -- always on and the camera table ----------------------------------------------

    def cameras_changed(self) -> None:
        """Look at the camera table soon (a camera was added, changed or deleted)."""
        self._changed.set()

    async def _refresh_catalog(self) -> None:
        """List the camera table; close the hubs of deleted cameras and of changed ones."""
        if self._catalog is None:
            return
        self._listings += 1
        listing = self._listings
        try:
            registered = dict(await self._catalog())
        except Exception:  # the database hiccupped: keep the last listing, try next round
            log.exception("listing the cameras for the media gateway failed")
            return
        self._registered = registered
        for camera_id in [c for c in self._keepers if c not in registered]:
            keeper = self._keepers.pop(camera_id)
            if keeper.opening is not None:
                keeper.opening.cancel()
        for camera_id, entry in list(self._entries.items()):
            if entry.listing >= listing:
                continue  # opened while listing: the listing may predate it
            if camera_id in registered and entry.fingerprint is None:
                entry.fingerprint = registered[camera_id]
                continue
            if camera_id in registered and entry.fingerprint == registered[camera_id]:
                continue
            async with self._locks.setdefault(camera_id, asyncio.Lock()):
                if self._entries.get(camera_id) is not entry:
                    continue
                why = "changed" if camera_id in registered else "was deleted"
                log.info("camera %s %s: closing its media hub", camera_id, why)
                await self.close_camera(camera_id)

    def _keep_always_on(self) -> list[asyncio.Task[None]]:
        """Open the always-on cameras that are not open and restart failed ones, each
        at its backoff's pace; returns the openings started."""
        started: list[asyncio.Task[None]] = []
        if self._closed:
            return started
        loop = asyncio.get_running_loop()
        now = loop.time()
        for camera_id in sorted(self.always_on):
            if self._registered is not None and camera_id not in self._registered:
                continue  # not registered (yet): the catalog says when it is
            keeper = self._keepers.setdefault(camera_id, _Keeper())
            if keeper.opening is not None and not keeper.opening.done():
                continue
            entry = self._entries.get(camera_id)
            state = entry.feed.status.state if entry is not None else None
            if state is IngestState.LIVE:
                keeper.backoff.reset()
                keeper.restart_due = False
            if now < keeper.retry_at:
                continue
            if entry is None or entry.hub.closed:
                keeper.opening = loop.create_task(
                    self._open_always_on(camera_id, keeper), name=f"media-always-on-{camera_id}"
                )
                started.append(keeper.opening)
            elif state is IngestState.FAILED:
                # Failed means retrying cannot help until something changes; for a
                # camera nobody watches, something may have (a password typed in at
                # the camera): try again, ever more slowly.
                if keeper.restart_due:
                    log.info("always-on camera %s failed: trying it again", camera_id)
                    entry.feed.restart()
                    keeper.restart_due = False
                else:
                    keeper.retry_at = now + keeper.backoff.next()
                    keeper.restart_due = True
        return started

    async def _open_always_on(self, camera_id: str, keeper: _Keeper) -> None:
        try:
            await self.hub(camera_id)
        except Exception as exc:  # one camera's trouble must not stop the others
            delay = keeper.backoff.next()
            keeper.retry_at = asyncio.get_running_loop().time() + delay
            detail = str(exc) if isinstance(exc, PlatonicamError | OSError) else repr(exc)
            log.warning(
                "always-on camera %s cannot be opened (trying again in %.0f s): %s",
                camera_id,
                delay,
                detail,
            )

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
