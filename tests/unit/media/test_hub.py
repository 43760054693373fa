"""The per-camera hub: one mux per part, instant start, slow viewers, blocking reload, epochs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest

from platonicam.media.hls import ReloadDecision
from platonicam.media.hub import (
    Epoch,
    FrameViewer,
    Hub,
    HubViewer,
    MediaFrame,
    MediaPart,
    unit_stamp,
)
from platonicam.rtsp.sei import build_latency_sei
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec
from tests.unit.media.boxes import Box, parse
from tests.unit.media.encoded import encode

FPS = 25
FRAME = 3600  # 90 kHz ticks per frame at 25 fps


class ScriptedSource:
    """A stream whose units the test hands over one by one (a LiveStream)."""

    def __init__(self, description: StreamDescription) -> None:
        self.description = description
        self.queue: asyncio.Queue[AccessUnit | None] = asyncio.Queue()
        self.subscriptions = 0

    async def subscribe(self) -> AsyncIterator[AccessUnit]:
        self.subscriptions += 1
        while (unit := await self.queue.get()) is not None:
            yield unit


def stream(
    frames: int, gop: int = 25, codec: VideoCodec = VideoCodec.H264
) -> tuple[StreamDescription, list[AccessUnit]]:
    """``frames`` real access units (the encoded 50-frame clip repeated, timestamps running on)."""
    description, clip = encode(codec, frames=50, gop=gop)
    units = []
    for index in range(frames):
        unit = clip[index % len(clip)]
        units.append(
            replace(unit, timestamp=index * FRAME, wallclock=1_767_323_045.0 + index / FPS)
        )
    return description, units


def feed(hub: Hub, units: Sequence[AccessUnit]) -> list[MediaPart]:
    return [part for unit in units for part in hub.push(unit)]


async def drain(viewer: HubViewer, hub: Hub) -> list[Epoch | MediaPart]:
    """Everything a viewer can take now without waiting."""
    items: list[Epoch | MediaPart] = []
    while True:
        try:
            async with asyncio.timeout(0.01):
                item = await viewer.next()
        except TimeoutError:
            return items
        assert item is not None
        items.append(item)


async def drain_frames(viewer: FrameViewer) -> list[Epoch | MediaFrame]:
    """Everything an MSE viewer can take now without waiting."""
    items: list[Epoch | MediaFrame] = []
    while True:
        try:
            async with asyncio.timeout(0.01):
                item = await viewer.next()
        except TimeoutError:
            return items
        assert item is not None
        items.append(item)


async def test_every_part_is_muxed_once_whatever_the_viewer_count() -> None:
    description, units = stream(100)
    hub = Hub("cam", ScriptedSource(description))
    viewers = [hub.viewer(max_lag=60) for _ in range(20)]
    published = feed(hub, units[:10])
    received = [await drain(viewer, hub) for viewer in viewers]
    published += feed(hub, units[10:])
    for viewer, got in zip(viewers, received, strict=True):
        got += await drain(viewer, hub)
    assert hub.muxed == len(published) == hub.stats().muxed
    assert hub.stats().parts == len(published)
    parts = [item for item in received[0] if isinstance(item, MediaPart)]
    assert [p.order for p in parts] == [p.order for p in published]
    for got in received[1:]:
        others = [item for item in got if isinstance(item, MediaPart)]
        # The very same bytes objects: handed out, never re-muxed per viewer.
        assert all(a.data is b.data for a, b in zip(parts, others, strict=True))
    assert isinstance(received[0][0], Epoch)
    assert received[0][0].init[4:8] == b"ftyp"


async def test_a_new_viewer_starts_at_once_from_the_newest_keyframe() -> None:
    description, units = stream(62, gop=25)  # keyframes at frames 0, 25 and 50
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units)
    viewer = hub.viewer()
    items = await drain(viewer, hub)
    epoch, first = items[0], items[1]
    assert isinstance(epoch, Epoch)
    assert epoch.mime.startswith('video/mp4; codecs="avc1.')
    assert (epoch.width, epoch.height) == (320, 180)
    assert isinstance(first, MediaPart)
    assert first.independent
    assert first is hub.latest_keyframe_part
    assert first.start == 50 * FRAME
    # Its fragment's decode time is the keyframe's: the player starts right there.
    moof = parse(first.data)[0]
    tfdt = moof.child("traf").child("tfdt")
    assert tfdt.field(">Q", 4)[0] == 50 * FRAME
    assert all(isinstance(item, MediaPart) for item in items[1:])
    # Frames 50-59 make two whole parts; frame 60 waits for its part to fill.
    assert sum(p.duration for p in items[1:] if isinstance(p, MediaPart)) == 10 * FRAME
    side = json.loads(first.message)
    assert side["type"] == "part"
    assert side["independent"] is True
    assert side["stamp"] == pytest.approx(1_767_323_045.0 + 50 / FPS)


async def test_a_slow_viewer_skips_forward_to_the_next_keyframe() -> None:
    description, units = stream(200, gop=25)
    hub = Hub("cam", ScriptedSource(description), max_lag=1.0)
    slow = hub.viewer()
    patient = hub.viewer(max_lag=60)
    feed(hub, units[:30])
    assert isinstance(await slow.next(), Epoch)
    first = await slow.next()
    await drain(patient, hub)
    assert isinstance(first, MediaPart)
    feed(hub, units[30:175])  # the slow viewer reads nothing for 5.8 s of video
    nxt = await slow.next()
    assert isinstance(nxt, MediaPart)
    assert nxt.independent
    assert nxt is hub.latest_keyframe_part
    assert nxt.start == 175 * FRAME - 25 * FRAME  # the keyframe at frame 150
    assert slow.skipped > 0
    assert hub.stats().skips == 1
    # The other viewer, allowed to lag, got every part in order.
    rest = [p for p in await drain(patient, hub) if isinstance(p, MediaPart)]
    orders = [p.order for p in rest]
    assert orders == list(range(orders[0], orders[-1] + 1))
    assert patient.skipped == 0


async def test_blocking_reload_waits_for_the_part_and_refuses_far_ahead() -> None:
    description, units = stream(100)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:20])
    playlist = hub.playlist
    assert playlist is not None
    msn, index = playlist.next_part
    waiter = asyncio.create_task(hub.wait_for(msn, index, timeout=5))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    assert hub.waiting() == 1
    # A second request for the same part shares its event.
    second = asyncio.create_task(hub.wait_for(msn, index, timeout=5))
    await asyncio.sleep(0.01)
    assert hub.waiting() == 1
    produced: list[MediaPart] = []
    position = 20
    while not any((p.media_sequence, p.index) == (msn, index) for p in produced):
        produced += hub.push(units[position])
        position += 1
        await asyncio.sleep(0)
        assert waiter.done() == any((p.media_sequence, p.index) == (msn, index) for p in produced)
    assert await waiter is ReloadDecision.READY
    assert await second is ReloadDecision.READY
    assert hub.waiting() == 0
    assert f"p0-{msn}.{index}.m4s" in playlist.render()
    # Far ahead: refused at once, no waiting.
    assert await hub.wait_for(msn + 5, 0, timeout=5) is ReloadDecision.BAD_REQUEST
    assert await hub.wait_for(msn, index + 100, timeout=5) is ReloadDecision.BAD_REQUEST
    with pytest.raises(TimeoutError):
        await hub.wait_for(msn + 1, 0, timeout=0.05)


async def test_a_new_generation_is_a_new_epoch_with_its_own_init_and_names() -> None:
    description, units = stream(60)
    source = ScriptedSource(description)
    hub = Hub("cam", source)
    viewer = hub.viewer(max_lag=60)
    before = feed(hub, units[:50])
    items = await drain(viewer, hub)
    first_epoch = hub.epoch
    assert first_epoch is not None
    hub_msn = hub.playlist.next_part[0] if hub.playlist else -1
    source.description = replace(description, generation=1)
    later = [replace(u, generation=1, timestamp=(50 + i) * FRAME) for i, u in enumerate(units[:50])]
    after = feed(hub, later)
    epoch = hub.epoch
    assert epoch is not None
    assert (first_epoch.number, epoch.number) == (0, 1)
    assert epoch.generation == 1
    assert hub.stats().epochs == 2
    # The old epoch's open segment was closed; numbering carries on.
    assert after[0].epoch == 0
    assert after[0].ends_segment
    new = [p for p in after if p.epoch == 1]
    assert new[0].media_sequence == hub_msn + 1
    assert new[0].index == 0
    assert new[0].independent
    assert 'URI="init-1.mp4' in (hub.playlist.render() if hub.playlist else "")
    assert hub.part(1, new[0].media_sequence, 0) is new[0]
    items += await drain(viewer, hub)
    kinds = [item.number if isinstance(item, Epoch) else "p" for item in items]
    assert kinds[0] == 0
    assert 1 in kinds
    switch = kinds.index(1)
    assert all(isinstance(i, MediaPart) and i.epoch == 0 for i in items[1:switch])
    assert all(isinstance(i, MediaPart) and i.epoch == 1 for i in items[switch + 1 :])
    assert len(before) + len(after) == hub.muxed


async def test_a_gap_in_the_timeline_starts_a_new_epoch_at_the_next_keyframe() -> None:
    description, units = stream(100)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:40])
    # The camera dropped for 3 s; the ingest resumes at a keyframe with time that kept running.
    resumed = [replace(u, timestamp=u.timestamp + 75 * FRAME) for u in units[50:100]]
    after = feed(hub, resumed)
    assert hub.epoch is not None
    assert hub.epoch.number == 1
    assert all(p.duration <= hub.playlist.part_target for p in after if hub.playlist)
    segment = hub.segment(0, after[0].media_sequence)
    assert segment is not None
    assert segment.endswith(after[0].data)


async def test_segments_concatenate_their_parts() -> None:
    description, units = stream(150)
    hub = Hub("cam", ScriptedSource(description))
    parts = feed(hub, units)
    complete = [p for p in parts if p.ends_segment]
    assert complete
    msn = complete[0].media_sequence
    expected = b"".join(p.data for p in parts if p.media_sequence == msn)
    assert hub.segment(0, msn) == expected
    assert hub.segment(0, parts[-1].media_sequence + 1) is None
    legacy = hub.playlist.render_legacy() if hub.playlist else ""
    assert f"s0-{msn}.m4s" in legacy


def test_the_stamp_comes_from_the_latency_sei() -> None:
    _description, units = stream(1)
    stamped = replace(
        units[0],
        nal_units=(build_latency_sei(1_800_000_000.25, VideoCodec.H264), *units[0].nal_units),
    )
    assert unit_stamp(stamped, VideoCodec.H264) == pytest.approx(1_800_000_000.25)
    assert unit_stamp(units[0], VideoCodec.H264) == units[0].wallclock


async def test_the_hub_subscribes_once_and_its_close_ends_viewers() -> None:
    description, units = stream(40)
    source = ScriptedSource(description)
    hub = Hub("cam", source)
    hub.start()
    hub.start()
    viewer = hub.viewer()
    for unit in units:
        source.queue.put_nowait(unit)
    epoch = await hub.wait_ready(5)
    assert epoch.number == 0
    assert isinstance(await viewer.next(), Epoch)
    assert isinstance(await viewer.next(), MediaPart)
    assert source.subscriptions == 1
    assert hub.playlist is not None
    msn = hub.playlist.next_part[0]
    pending = asyncio.create_task(hub.wait_for(msn + 1, None, timeout=5))
    await asyncio.sleep(0.01)
    await hub.close()
    assert await pending is ReloadDecision.WAIT
    while (item := await viewer.next()) is not None:
        assert isinstance(item, MediaPart)
    assert hub.closed


def test_a_playlist_is_rendered_once_per_part_and_query() -> None:
    description, units = stream(60)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:40])
    first = hub.render("?token=a")
    assert hub.render("?token=a") is first
    assert hub.render("?token=b") is not first
    assert hub.render("?token=a", legacy=True) != first
    assert "?token=a" in first
    feed(hub, units[40:])
    again = hub.render("?token=a")
    assert again != first
    assert hub.playlist is not None
    assert again == hub.playlist.render(query="?token=a")


async def test_a_camera_slower_than_announced_still_streams() -> None:
    description, units = stream(80)  # announced: 25 fps
    hub = Hub("cam", ScriptedSource(description))
    slow = [replace(u, timestamp=i * 22_500) for i, u in enumerate(units)]  # really 4 fps
    parts = feed(hub, slow)
    playlist = hub.playlist
    assert playlist is not None
    assert hub.epoch is not None
    assert hub.epoch.number == 1  # one restart, planned for the measured rate
    assert playlist.part_target >= 22_500
    assert all(p.duration <= playlist.part_target for p in parts if p.epoch == 1)
    assert len([p for p in parts if p.epoch == 1]) > 20


# -- frames for MSE ------------------------------------------------------------------------


def frame_boxes(frame: MediaFrame) -> tuple[Box, Box, Box]:
    """The ``prft``, ``moof`` and ``mdat`` of an MSE frame message (and nothing else)."""
    boxes = parse(frame.data)
    assert [box.kind for box in boxes] == ["prft", "moof", "mdat"]
    return boxes[0], boxes[1], boxes[2]


def prft_stamp(prft: Box) -> tuple[float, int]:
    """(Unix seconds, media time) of a version 1 ``prft``."""
    assert (prft.version, prft.flags) == (1, 24)
    track, ntp, media_time = prft.field(">IQQ", 4)
    assert track == 1
    return (ntp >> 32) - 2_208_988_800 + (ntp & 0xFFFF_FFFF) / 2**32, media_time


async def test_every_frame_is_muxed_once_whatever_the_mse_viewer_count() -> None:
    description, units = stream(100)
    hub = Hub("cam", ScriptedSource(description), max_lag=60)
    viewers = [hub.frame_viewer() for _ in range(20)]
    feed(hub, units[:10])
    received = [await drain_frames(viewer) for viewer in viewers]
    feed(hub, units[10:])
    for viewer, got in zip(viewers, received, strict=True):
        got += await drain_frames(viewer)
    assert hub.frames_muxed == 100 == hub.stats().frames
    frames = [item for item in received[0] if isinstance(item, MediaFrame)]
    assert [f.order for f in frames] == list(range(100))
    for got in received[1:]:
        others = [item for item in got if isinstance(item, MediaFrame)]
        # The very same bytes objects: muxed once in the hub, never per viewer.
        assert all(a.data is b.data for a, b in zip(frames, others, strict=True))
    assert isinstance(received[0][0], Epoch)
    # Each frame alone, at its real decode time, with the capture stamp in its prft.
    for index, frame in enumerate(frames):
        prft, moof, mdat = frame_boxes(frame)
        stamp, media_time = prft_stamp(prft)
        tfdt = moof.child("traf/tfdt").field(">Q", 4)[0]
        assert tfdt == media_time == frame.decode_time == index * FRAME
        assert stamp == pytest.approx(1_767_323_045.0 + index / FPS, abs=1e-6)
        assert moof.child("mfhd").field(">I", 4)[0] == index + 1
        count, _offset, duration, size, flags = moof.child("traf/trun").field(">IiIII", 4)
        assert (count, duration, size) == (1, FRAME, len(mdat.payload))
        assert flags == (0x0200_0000 if units[index].keyframe else 0x0101_0000)


async def test_a_frame_is_published_as_it_arrives() -> None:
    description, units = stream(40)
    hub = Hub("cam", ScriptedSource(description))
    viewer = hub.frame_viewer()
    waiting = asyncio.create_task(drain_frames(viewer))
    for index, unit in enumerate(units[:8]):
        hub.push(unit)
        # Not held back for the next unit: the frame exists the moment its unit does.
        newest = hub.newest_frame
        assert newest is not None
        assert newest.decode_time == index * FRAME
        assert newest.duration == FRAME  # the nominal interval, not yet the measured one
    items = await waiting
    assert [i.order for i in items if isinstance(i, MediaFrame)] == list(range(8))
    # The parts lag behind: the first (200 ms) part is not even closed yet.
    assert hub.muxed == 1


async def test_a_new_mse_viewer_starts_at_once_from_the_gop_cache() -> None:
    description, units = stream(62, gop=25)  # keyframes at frames 0, 25 and 50
    hub = Hub("cam", ScriptedSource(description), max_lag=0.2)
    feed(hub, units)
    # The GOP cache: frames from the newest keyframe on, nothing older beyond max_lag.
    kept = hub.frames()
    assert kept[0] is hub.latest_keyframe_frame
    assert [f.order for f in kept] == list(range(50, 62))
    items = await drain_frames(hub.frame_viewer())
    epoch, first = items[0], items[1]
    assert isinstance(epoch, Epoch)
    assert epoch.init[4:8] == b"ftyp"
    assert isinstance(first, MediaFrame)
    assert first.keyframe
    assert first.epoch is epoch
    assert frame_boxes(first)[1].child("traf/tfdt").field(">Q", 4)[0] == 50 * FRAME
    assert [i.order for i in items[1:] if isinstance(i, MediaFrame)] == list(range(50, 62))


async def test_a_slow_mse_viewer_skips_forward_to_the_newest_keyframe() -> None:
    description, units = stream(200, gop=25)
    hub = Hub("cam", ScriptedSource(description), max_lag=1.0)
    slow = hub.frame_viewer()
    patient = hub.frame_viewer()
    feed(hub, units[:30])
    assert isinstance(await slow.next(), Epoch)
    first = await slow.next()
    assert isinstance(first, MediaFrame)
    assert first.order == 25  # the newest keyframe
    got = [f for f in await drain_frames(patient) if isinstance(f, MediaFrame)]
    # The slow viewer reads nothing for 5.8 s of video (its next frame leaves memory);
    # the other one keeps up.
    for unit in units[30:175]:
        hub.push(unit)
        got += [f for f in await drain_frames(patient) if isinstance(f, MediaFrame)]
    assert hub.frames()[0].order > first.order + 1
    nxt = await slow.next()
    assert isinstance(nxt, MediaFrame)
    assert nxt.keyframe
    assert nxt is hub.latest_keyframe_frame
    assert nxt.order == 150
    assert slow.skipped == 150 - 26
    assert hub.stats().skips == 1
    rest = [f for f in await drain_frames(slow) if isinstance(f, MediaFrame)]
    assert [f.order for f in rest] == list(range(151, 175))
    # Memory stays bounded: the GOP cache plus max_lag, however far the viewers lag.
    assert len(hub.frames()) <= 25 + 25 + 1
    assert [f.order for f in got] == list(range(25, 175))
    assert patient.skipped == 0


async def test_a_new_epoch_sends_its_init_then_frames_from_its_keyframe() -> None:
    description, units = stream(60)
    source = ScriptedSource(description)
    hub = Hub("cam", source)
    viewer = hub.frame_viewer(max_lag=60)
    feed(hub, units[:40])
    items = await drain_frames(viewer)
    source.description = replace(description, generation=1)
    later = [replace(u, generation=1, timestamp=(40 + i) * FRAME) for i, u in enumerate(units[:20])]
    feed(hub, later)
    items += await drain_frames(viewer)
    kinds = [item.number if isinstance(item, Epoch) else "f" for item in items]
    assert kinds.count(0) == 1
    switch = kinds.index(1)
    assert switch == 16  # epoch 0's init, its frames from keyframe 25 on, epoch 1's init
    after = [i for i in items[switch + 1 :] if isinstance(i, MediaFrame)]
    assert len(after) == 20
    assert after[0].keyframe
    assert all(f.epoch.number == 1 for f in after)
    # The new epoch's timeline starts at 0; frame numbers run on without a jump.
    assert after[0].decode_time == 0
    assert frame_boxes(after[0])[1].child("mfhd").field(">I", 4)[0] == 41
    assert [f.order for f in after] == list(range(40, 60))
