"""Snapshots: the newest keyframe decoded by FFmpeg, encoded as JPEG, cached briefly."""

from __future__ import annotations

import io
from dataclasses import replace

import av
import pytest

from platonicam.media.snapshot import SnapshotCache, SnapshotError, keyframe_jpeg
from platonicam.rtsp.stream import VideoCodec
from tests.conftest import FakeClock
from tests.unit.media.encoded import encode


@pytest.mark.parametrize("codec", list(VideoCodec))
def test_a_keyframe_becomes_a_jpeg_of_its_size(codec: VideoCodec) -> None:
    description, units = encode(codec)
    jpeg = keyframe_jpeg(units[0], description)
    assert jpeg[:3] == b"\xff\xd8\xff"
    with av.open(io.BytesIO(jpeg), mode="r") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)


def test_a_non_picture_is_a_snapshot_error() -> None:
    description, units = encode(VideoCodec.H264)
    broken = replace(units[0], nal_units=(b"\x65\x00\x00",))
    with pytest.raises(SnapshotError):
        keyframe_jpeg(broken, replace(description, parameter_sets=()))


async def test_the_jpeg_is_cached_for_max_age() -> None:
    clock = FakeClock()
    cache = SnapshotCache(clock, max_age=1.0)
    description, units = encode(VideoCodec.H264)
    with pytest.raises(SnapshotError, match="not sent a keyframe"):
        await cache.jpeg(None)
    first = await cache.jpeg((units[0], description))
    clock.advance(0.5)
    assert await cache.jpeg((units[25], description)) is first
    assert cache.decodes == 1
    clock.advance(0.6)
    second = await cache.jpeg((units[25], description))
    assert cache.decodes == 2
    assert second != first  # the picture moved
