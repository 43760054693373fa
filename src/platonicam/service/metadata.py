"""Analytics metadata in the service: each open camera's objects, for the API and overlays.

Strategy:

- **The video's connection, nothing more.** The media gateway hands every open
  camera's metadata documents (the ONVIF metadata track its ingest set up beside
  the video, :meth:`Gateway.set_metadata_consumer`) to :meth:`MetadataService.consume`,
  for as long as the camera's hub is open. Asking for metadata opens the camera
  like a viewer does; nothing here connects to a camera.
- **One tracker.** A :class:`~platonicam.events.metadata.MetadataTracker` keeps
  every camera's objects by ``ObjectId`` and forgets those no document has
  mentioned for ``ttl``. A document that cannot be read is counted and skipped:
  the objects, and the video, go on.
- **Camera time.** Frames are stamped by the camera's clock, which may be far
  from ours; the tracker compares stamps with "now". So each camera's offset
  (frame time minus our arrival time) is measured from its frames
  (:class:`ClockSkew`) and "now" is read on the camera's clock. Only the first
  document of a camera whose clock is behind ours can be missed.
- **Live readers** (:meth:`MetadataService.listen`) get a snapshot after each
  document, through a bounded queue that drops the oldest snapshot when a
  reader falls behind: an overlay only needs the newest.
- **Events in the track** (Axis puts its notifications there) go to the
  service's event bus, like PullPoint events. A camera told to put its events in
  the metadata stream and also subscribed by PullPoint reports them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Final, Self

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.events.bus import EventBus
from platonicam.events.metadata import MetadataTracker, TrackedObject
from platonicam.events.topics import TopicRegistry
from platonicam.media.gateway import Gateway
from platonicam.rtsp.metadata import MetadataDocument

__all__ = [
    "DEFAULT_TTL",
    "ClockSkew",
    "MetadataListener",
    "MetadataService",
    "MetadataSnapshot",
]

log = logging.getLogger(__name__)

#: How long an object stays after the last document that mentioned it.
DEFAULT_TTL: Final = timedelta(seconds=2)
#: Snapshots a live reader may fall behind by before the oldest are dropped.
LISTENER_QUEUE: Final = 8


class ClockSkew:
    """A camera's clock against ours, measured from the frame times it sends (pure).

    ``offset`` is the camera's time minus ours at the last :meth:`observe`
    (transit delay included, which is what "last seen" needs).
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def camera_time(self, ours: datetime) -> datetime:
        """Our time ``ours`` on the camera's clock."""
        return ours + self.offset

    def observe(self, camera_time: datetime, ours: datetime) -> None:
        """A frame stamped ``camera_time`` arrived at our time ``ours``."""
        self.offset = camera_time - ours


@dataclass(frozen=True, slots=True)
class MetadataSnapshot:
    """A camera's objects now, and what its metadata track brought so far.

    ``time`` is the camera's time of the last document read (``None`` before
    the first); ``documents`` counts documents received, ``malformed`` those
    that could not be read, ``events`` the events they carried.
    """

    camera_id: str
    objects: tuple[TrackedObject, ...]
    time: datetime | None
    documents: int
    malformed: int
    events: int


class MetadataListener:
    """One live reader of a camera's snapshots (see :meth:`MetadataService.listen`)."""

    def __init__(self, camera_id: str, size: int = LISTENER_QUEUE) -> None:
        self.camera_id = camera_id
        self._queue: asyncio.Queue[MetadataSnapshot | None] = asyncio.Queue(maxsize=size)
        self.dropped = 0
        self.closed = False

    def offer(self, snapshot: MetadataSnapshot | None) -> None:
        """Queue ``snapshot`` (``None``: the service stops), dropping the oldest when full."""
        if self.closed:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(snapshot)
        if snapshot is None:
            self.closed = True

    async def get(self, timeout: float | None = None) -> MetadataSnapshot | None:
        """The next snapshot; ``None`` once the service stops. Raises ``TimeoutError``
        after ``timeout`` seconds without one."""
        async with asyncio.timeout(timeout):
            return await self._queue.get()


@dataclass(slots=True)
class _Camera:
    skew: ClockSkew = field(default_factory=ClockSkew)
    time: datetime | None = None
    documents: int = 0
    malformed: int = 0
    events: int = 0
    listeners: set[MetadataListener] = field(default_factory=set)


class MetadataService:
    """Objects per camera from the cameras' metadata tracks (see the module docstring).

    Use ``async with`` (or :meth:`start` / :meth:`aclose`). ``bus`` receives the
    events documents carry (read with ``registry``); ``clock`` stamps arrivals.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        bus: EventBus | None = None,
        registry: TopicRegistry | None = None,
        clock: Clock | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.gateway = gateway
        self.bus = bus
        self.ttl = ttl
        self._clock: Clock = clock or SystemClock()
        self._tracker = MetadataTracker(ttl=ttl, registry=registry)
        self._cameras: dict[str, _Camera] = {}

    async def start(self) -> None:
        await self.gateway.set_metadata_consumer(self.consume)

    async def aclose(self) -> None:
        """Stop taking documents and end every live reader."""
        await self.gateway.set_metadata_consumer(None)
        for camera in self._cameras.values():
            for listener in list(camera.listeners):
                listener.offer(None)
            camera.listeners.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ reading

    def snapshot(self, camera_id: str) -> MetadataSnapshot:
        """The camera's objects mentioned within ``ttl`` (on the camera's clock)."""
        camera = self._cameras.get(camera_id) or _Camera()
        now = camera.skew.camera_time(self._clock.now())
        return MetadataSnapshot(
            camera_id=camera_id,
            objects=self._tracker.objects(camera_id, now=now),
            time=camera.time,
            documents=camera.documents,
            malformed=camera.malformed,
            events=camera.events,
        )

    @contextlib.contextmanager
    def listen(self, camera_id: str) -> Iterator[MetadataListener]:
        """A reader of the camera's snapshots, one after each document read (and
        one with no objects when the camera's stream closes), until the block ends."""
        listener = MetadataListener(camera_id)
        camera = self._camera(camera_id)
        camera.listeners.add(listener)
        try:
            yield listener
        finally:
            listener.closed = True
            camera.listeners.discard(listener)

    # ------------------------------------------------------------------ feeding

    async def consume(self, camera_id: str, documents: AsyncIterator[MetadataDocument]) -> None:
        """Read one camera's documents until they end (the gateway's metadata consumer)."""
        camera = self._camera(camera_id)
        try:
            async for document in documents:
                self.take(camera_id, document.xml)
        finally:
            self._tracker.forget(camera_id)
            self._notify(camera_id, camera)

    def take(self, camera_id: str, xml: bytes) -> MetadataSnapshot | None:
        """Read one document of ``camera_id``: objects to the tracker and the readers,
        events to the bus. Returns the snapshot after it (``None`` when unreadable)."""
        camera = self._camera(camera_id)
        arrival = self._clock.now()
        received = camera.skew.camera_time(arrival)
        camera.documents += 1
        try:
            update = self._tracker.feed(camera_id, xml, received=received)
        except PlatonicamError as exc:
            camera.malformed += 1
            # The first one is worth a line; a camera that keeps sending them is not.
            level = logging.WARNING if camera.malformed == 1 else logging.DEBUG
            log.log(level, "camera %s sent an unreadable metadata document: %s", camera_id, exc)
            return None
        if update.time != received:  # the document had a frame time: the camera's clock
            camera.skew.observe(update.time, arrival)
        camera.time = update.time
        if self.bus is not None:
            for event in update.events:
                self.bus.publish_nowait(event)
        camera.events += len(update.events)
        return self._notify(camera_id, camera)

    def _camera(self, camera_id: str) -> _Camera:
        camera = self._cameras.get(camera_id)
        if camera is None:
            camera = self._cameras[camera_id] = _Camera()
        return camera

    def _notify(self, camera_id: str, camera: _Camera) -> MetadataSnapshot:
        snapshot = self.snapshot(camera_id)
        for listener in list(camera.listeners):
            listener.offer(snapshot)
        return snapshot
