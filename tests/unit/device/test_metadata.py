"""The reference device's simulated analytics: box geometry and the XML it writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from platonicam.device.metadata import SimulatedAnalytics, box_for_frame, metadata_document
from platonicam.onvif.models.events import BoundingBox
from platonicam.onvif.notification import parse_metadata_stream
from platonicam.rtsp.stream import StreamDescription, VideoCodec

WHEN = datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC)


def test_box_follows_the_painted_square() -> None:
    # 640x480: the square is 120 px, centred vertically (y 180..300), and its
    # left edge goes 0 -> 520 (half-way) -> 0 over the loop.
    assert box_for_frame(640, 480, 0, 100) == BoundingBox(-1.0, 0.25, -0.625, -0.25)
    assert box_for_frame(640, 480, 50, 100) == BoundingBox(0.625, 0.25, 1.0, -0.25)
    quarter = box_for_frame(640, 480, 25, 100)
    assert quarter.left == pytest.approx(2 * 260 / 640 - 1)
    assert quarter.right - quarter.left == pytest.approx(2 * 120 / 640)


def test_document_is_a_metadata_stream_with_one_human() -> None:
    box = BoundingBox(-0.5, 0.25, -0.125, -0.25)
    data = metadata_document(box, utc_time=WHEN, likelihood=0.93)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    frame = parse_metadata_stream(data)
    assert frame.utc_time == WHEN
    (obj,) = frame.objects
    assert (obj.object_id, obj.object_class, obj.likelihood) == (1, "Human", 0.93)
    assert obj.box == box
    assert frame.events == ()


class _Pattern:
    def __init__(self) -> None:
        self.description = StreamDescription(VideoCodec.H264, 320, 240, 25.0, ())
        self.index = 0

    def frame_position(self) -> tuple[int, int]:
        return self.index, 50


class _FixedClock:
    def now(self) -> datetime:
        return WHEN

    def monotonic(self) -> float:
        return 0.0


async def test_simulation_ticks_at_its_rate_with_the_current_frame() -> None:
    pattern = _Pattern()
    analytics = SimulatedAnalytics(pattern, rate=50.0, clock=_FixedClock())
    documents = analytics.subscribe()
    loop = asyncio.get_running_loop()
    start = loop.time()
    first = await anext(documents)
    pattern.index = 25
    second = await anext(documents)
    elapsed = loop.time() - start
    analytics.close()
    with pytest.raises(StopAsyncIteration):
        await anext(documents)
    assert elapsed == pytest.approx(0.02, abs=0.015)
    assert first.wallclock == WHEN.timestamp()
    boxes = [parse_metadata_stream(d.xml).objects[0].box for d in (first, second)]
    assert boxes == [box_for_frame(320, 240, 0, 50), box_for_frame(320, 240, 25, 50)]
    likelihoods = [parse_metadata_stream(d.xml).objects[0].likelihood for d in (first, second)]
    assert likelihoods == [0.91, 0.93]
    with pytest.raises(ValueError, match="not positive"):
        SimulatedAnalytics(pattern, rate=0)
