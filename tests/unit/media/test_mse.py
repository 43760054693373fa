"""MSE over WebSocket, with a recording sink in place of the socket."""

from __future__ import annotations

import asyncio
import json

from platonicam.media.hub import Hub
from platonicam.media.mse import stream_mse
from tests.unit.media.boxes import parse
from tests.unit.media.test_hub import FRAME, ScriptedSource, feed, stream


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


async def test_codec_json_then_init_then_parts_in_order() -> None:
    description, units = stream(80)
    hub = Hub("cam", ScriptedSource(description))
    feed(hub, units[:31])  # the keyframe part at frame 25 is ready before the viewer arrives
    sink = RecordingSink()
    task = asyncio.create_task(stream_mse(hub, sink, limit=8))
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
    # Then (JSON, fragment) pairs: the JSON names the fragment that follows it.
    pairs = list(zip(messages[2::2], messages[3::2], strict=True))
    assert len(pairs) == 8
    starts = []
    for text, data in pairs:
        assert isinstance(text, str)
        assert isinstance(data, bytes)
        side = json.loads(text)
        assert side["type"] == "part"
        boxes = parse(data)
        assert [box.kind for box in boxes] == ["moof", "mdat"]
        starts.append(boxes[0].child("traf").child("tfdt").field(">Q", 4)[0])
    assert json.loads(str(pairs[0][0]))["independent"] is True
    assert starts[0] == 25 * FRAME  # the keyframe cached before the viewer came
    assert starts == sorted(starts)
    assert session.parts == 8
    assert session.inits == 1
    assert session.skipped == 0
    assert session.bytes_sent == sum(len(m) for m in messages)
    assert hub.stats().bytes_sent == session.bytes_sent


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
    slow_parts = [json.loads(m) for m in slow.messages if isinstance(m, str)][1:]
    fast_parts = [json.loads(m) for m in fast.messages if isinstance(m, str)][1:]
    assert slow_session.skipped > 0
    assert fast_session.skipped == 0
    # The slow one lost the middle but resumed at a keyframe part and reached the live edge.
    assert slow_parts[0]["independent"] is True
    assert len(slow_parts) < len(fast_parts)
    assert slow_parts[-1] == fast_parts[-1]
    assert hub.stats().skips == 1
