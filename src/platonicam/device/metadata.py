"""The reference device's analytics: a simulated person following the test pattern's box.

The test pattern (:class:`platonicam.device.source.TestPatternStream`) paints a
white square that bounces left to right and back once per loop. This module
pretends an analytics engine detects it as a ``Human``: a few times a second
it writes a ``tt:MetadataStream`` document with one ``tt:Object`` whose
bounding box is the square's, in ONVIF's normalised coordinates (-1..1, ``y``
up), so overlays drawn from the metadata track sit on the square in the video.

:func:`box_for_frame` and :func:`metadata_document` are pure;
:class:`SimulatedAnalytics` is the :class:`~platonicam.rtsp.metadata.MetadataSource`
the RTSP server mounts beside each profile's video.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Final, Protocol

from lxml import etree

from platonicam.clock import Clock, SystemClock
from platonicam.onvif.models.events import BoundingBox, MetadataFrame, MetadataObject, ObjectClass
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import StreamDescription

__all__ = [
    "DEFAULT_RATE",
    "OBJECT_CLASS",
    "SimulatedAnalytics",
    "box_for_frame",
    "metadata_document",
]

#: Documents per second (ONVIF cameras typically send analytics at 2..10 Hz).
DEFAULT_RATE: Final = 5.0
#: The class the simulated detector reports (an ONVIF ``tt:ClassType`` value).
OBJECT_CLASS: Final = "Human"
#: The simulated detector's confidence: it varies a little, as a real one does.
_LIKELIHOODS: Final = (0.91, 0.93, 0.95, 0.92, 0.9)
_OBJECT_ID: Final = 1


class _PatternStream(Protocol):
    """What the simulation reads from the test-pattern stream."""

    @property
    def description(self) -> StreamDescription: ...

    def frame_position(self) -> tuple[int, int]: ...


def box_for_frame(width: int, height: int, index: int, frames: int) -> BoundingBox:
    """The normalised box of the test pattern's white square in frame ``index`` of ``frames``.

    Mirrors the painter in :mod:`platonicam.device.source` (square side
    ``max(8, (height // 4) & ~1)`` pixels, vertically centred, left edge on a
    triangle wave that is 0 at the loop's first frame and at the far right
    half-way). Pixel edges map to -1..1 with ``y`` pointing up, so ``top`` >
    ``bottom``.
    """
    side = max(8, (height // 4) & ~1)
    phase = index / frames if frames else 0.0
    x0 = round((1 - abs(2 * phase - 1)) * (width - side))
    y0 = (height - side) // 2
    return BoundingBox(
        left=2 * x0 / width - 1,
        top=1 - 2 * y0 / height,
        right=2 * (x0 + side) / width - 1,
        bottom=1 - 2 * (y0 + side) / height,
    )


def metadata_document(
    box: BoundingBox, *, utc_time: datetime, likelihood: float, object_id: int = _OBJECT_ID
) -> bytes:
    """One ``tt:MetadataStream`` document (UTF-8 with an XML declaration) holding
    one frame at ``utc_time`` with one :data:`OBJECT_CLASS` object in ``box``."""
    frame = MetadataFrame(
        utc_time=utc_time,
        objects=(
            MetadataObject(
                object_id=object_id,
                box=box,
                classes=(ObjectClass(OBJECT_CLASS, likelihood),),
            ),
        ),
    )
    return etree.tostring(frame.to_xml(), xml_declaration=True, encoding="UTF-8")


class SimulatedAnalytics:
    """Metadata documents for one test-pattern stream, ``rate`` times a second.

    Each subscriber gets its own timer (the RTSP server subscribes once per
    mount); the box follows the frame the stream shows at that moment, and
    the document's ``UtcTime`` and ``wallclock`` come from ``clock``.
    """

    def __init__(
        self, stream: _PatternStream, *, rate: float = DEFAULT_RATE, clock: Clock | None = None
    ) -> None:
        if not rate > 0:
            raise ValueError(f"metadata rate {rate} is not positive")
        self._stream = stream
        self._period = 1.0 / rate
        self._clock: Clock = clock or SystemClock()
        self._closed = False
        self._count = 0

    def document(self) -> MetadataDocument:
        """The document describing the frame showing now."""
        description = self._stream.description
        index, frames = self._stream.frame_position()
        box = box_for_frame(description.width, description.height, index, frames)
        now = self._clock.now()
        likelihood = _LIKELIHOODS[self._count % len(_LIKELIHOODS)]
        self._count += 1
        xml = metadata_document(box, utc_time=now, likelihood=likelihood)
        return MetadataDocument(xml=xml, wallclock=now.timestamp())

    async def subscribe(self) -> AsyncGenerator[MetadataDocument, None]:
        """Documents every ``1 / rate`` seconds until :meth:`close`."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not self._closed:
            yield self.document()
            due += self._period
            # Evenly spaced, but never a burst after the event loop stalled.
            due = max(due, loop.time())
            await asyncio.sleep(due - loop.time())

    def close(self) -> None:
        """End every subscription at its next tick."""
        self._closed = True
