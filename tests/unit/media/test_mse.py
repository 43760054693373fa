"""MSE over WebSocket, with a recording sink in place of the socket."""

from __future__ import annotations

import asyncio
import json

import pytest

from platonicam.media.hub import Hub
from platonicam.media.mse import stream_mse
from tests.unit.media.boxes import parse
from tests.unit.media.test_hub import FPS, FRAME, ScriptedSource, feed, prft_stamp, stream


class RecordingSink:
    """Keeps every message; ``gate`` (when set) holds each binary send until opened."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.messages: list[str | bytes] = []
        self.gate = gate
        self.blocked = asyncio.Event()

    async def send_text(self, data: str) -> None:
        self.messages.append(data)

    async def send_bytes(self, data: bytes) -> None:
        if self.gate is not None and not self.gate.is_set():
            self.blocked.set()
            await self.gate.wait()
        self.messages.append(data)


async def test_codec_json_then_init_then_one_binary_message_per_frame() -> None:
    description, units = stream(80)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:31])  # the keyframe at frame 25 is cached before the viewer arrives
    sink = RecordingSink()
    task = asyncio.create_task(stream_mse(hub, sink, limit=20))
    await asyncio.sleep(0.01)
    assert hub.mse_viewers == 1
    feed(hub, units[31:])
    session = await asyncio.wait_for(task, 5)
    assert hub.mse_viewers == 0
    messages = sink.messages
    head = json.loads(messages[0])
    assert head["type"] == "init"
    assert head["mime"].startswith('video/mp4; codecs="avc1.')
    assert (head["width"], head["height"]) == (320, 180)
    assert isinstance(messages[1], bytes)
    assert messages[1][4:8] == b"ftyp"
    # Then one binary message per frame and no text at all: prft + moof + mdat.
    frames = messages[2:]
    assert len(frames) == 20
    decode_times = []
    for index, data in enumerate(frames):
        assert isinstance(data, bytes)
        prft, moof, _mdat = parse(data)
        assert (prft.kind, moof.kind, _mdat.kind) == ("prft", "moof", "mdat")
        stamp, media_time = prft_stamp(prft)
        tfdt = moof.child("traf/tfdt").field(">Q", 4)[0]
        assert media_time == tfdt
        decode_times.append(tfdt)
        # The frame's capture stamp (here the units' wall clock: they carry no SEI).
        assert stamp == pytest.approx(1_767_323_045.0 + (25 + index) / FPS, abs=1e-6)
        assert moof.child("mfhd").field(">I", 4)[0] == 26 + index
    # Starts at the cached keyframe, then every frame in order.
    assert decode_times == [(25 + i) * FRAME for i in range(20)]
    flags = parse(frames[0])[1].child("traf/trun").field(">I", 20)[0]
    assert flags == 0x0200_0000  # a sync sample
    assert session.frames == session.parts == 20
    assert session.inits == 1
    assert session.skipped == 0
    assert session.bytes_sent == sum(len(m) for m in messages)
    assert hub.stats().bytes_sent == session.bytes_sent


async def test_fifty_viewers_share_the_bytes_of_one_mux_per_frame() -> None:
    description, units = stream(60)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:5])
    sinks = [RecordingSink() for _ in range(50)]
    tasks = [asyncio.create_task(stream_mse(hub, sink, limit=40)) for sink in sinks]
    await asyncio.sleep(0.01)
    for unit in units[5:45]:
        feed(hub, [unit])
        await asyncio.sleep(0)
    sessions = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert all(session.frames == 40 for session in sessions)
    assert hub.frames_muxed == 45  # one mux per frame, not one per frame and viewer
    first = sinks[0].messages
    for sink in sinks[1:]:
        assert all(a is b for a, b in zip(first, sink.messages, strict=True))


async def test_a_viewer_whose_socket_blocks_is_skipped_to_a_keyframe() -> None:
    description, units = stream(200, gop=25)
    hub = Hub("cam", ScriptedSource(description), max_lag=1.0)
    feed(hub, units[:10])
    gate = asyncio.Event()
    slow = RecordingSink(gate)
    fast = RecordingSink()
    slow_task = asyncio.create_task(stream_mse(hub, slow))
    fast_task = asyncio.create_task(stream_mse(hub, fast))
    await asyncio.wait_for(slow.blocked.wait(), 5)  # stuck sending the init segment
    for unit in units[10:160]:  # six seconds of video while the slow socket is stuck
        feed(hub, [unit])
        await asyncio.sleep(0)
    gate.set()
    await asyncio.sleep(0.05)
    await hub.close()
    slow_session = await asyncio.wait_for(slow_task, 5)
    fast_session = await asyncio.wait_for(fast_task, 5)
    slow_frames = [m for m in slow.messages[2:] if isinstance(m, bytes)]
    fast_frames = [m for m in fast.messages[2:] if isinstance(m, bytes)]
    assert slow_session.skipped > 0
    assert fast_session.skipped == 0
    assert fast_session.frames == 160
    # The slow one lost the middle but resumed at a keyframe and reached the live edge.
    # (It was stuck before its first frame, the keyframe at frame 0.)
    numbers = [parse(m)[1].child("mfhd").field(">I", 4)[0] for m in slow_frames]
    assert numbers == list(range(151, 161))
    resumed = parse(slow_frames[0])[1].child("traf/trun").field(">I", 20)[0]
    assert resumed == 0x0200_0000  # a sync sample: the keyframe at frame 150
    assert slow_session.skipped == 150
    assert len(slow_frames) < len(fast_frames)
    assert slow_frames[-1] is fast_frames[-1]
    assert hub.stats().skips == 1
