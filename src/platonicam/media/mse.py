"""Media Source Extensions over a WebSocket: the browser's low-latency path.

The protocol, server to browser (the browser sends nothing we read):

1. a text message, JSON ``{"type": "init", "mime": "video/mp4; codecs=\\"avc1...\\"",
   "epoch": N, "codec": ..., "width": ..., "height": ..., "fps": ...}``: what to
   pass to ``MediaSource.addSourceBuffer`` (the first message always is one);
2. a binary message: the init segment of that epoch;
3. for each part, a text message, JSON ``{"type": "part", "epoch": N, "msn": ...,
   "part": ..., "duration": seconds, "independent": bool, "stamp": unix seconds}``
   (``stamp`` is the capture time of the part's first frame, from the latency
   SEI the camera put in it, so the page can show now - stamp at the playhead),
   then a binary message: the part's fMP4 fragment (``moof`` + ``mdat``).

When the stream is reconfigured (a new epoch) steps 1 and 2 come again. The
player appends in ``sequence`` mode, so a new epoch or a skip forward simply
continues the timeline.

Every message's bytes were produced once by the hub; this module only sends
them. A viewer whose socket cannot keep up blocks in ``send`` (the WebSocket
server's write buffer has a high-water mark), falls behind the live edge, and
its :class:`~platonicam.media.hub.HubViewer` then jumps to the newest keyframe:
nothing is buffered per viewer beyond the socket's own buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from platonicam.media.hub import Epoch, Hub

__all__ = ["MseSession", "MseSink", "stream_mse"]


class MseSink(Protocol):
    """Where messages go (a Starlette ``WebSocket`` is one)."""

    async def send_text(self, data: str) -> None: ...

    async def send_bytes(self, data: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class MseSession:
    """How a session went: parts and init segments sent, parts skipped, bytes sent."""

    parts: int
    inits: int
    skipped: int
    bytes_sent: int


async def stream_mse(
    hub: Hub, sink: MseSink, *, max_lag: float | None = None, limit: int | None = None
) -> MseSession:
    """Send ``hub``'s stream to ``sink`` until the hub closes, the sink fails, or
    ``limit`` parts were sent.

    Starts at the hub's newest keyframe part (at once when the hub has one).
    Counts the viewer in ``hub.mse_viewers`` while it runs. Errors raised by
    the sink (the client went away) propagate to the caller.
    """
    viewer = hub.viewer(max_lag)
    parts = inits = sent = 0
    hub.mse_viewers += 1
    try:
        while limit is None or parts < limit:
            item = await viewer.next()
            if item is None:
                break
            if isinstance(item, Epoch):
                await sink.send_text(item.message)
                await sink.send_bytes(item.init)
                inits += 1
                size = len(item.message) + len(item.init)
            else:
                await sink.send_text(item.message)
                await sink.send_bytes(item.data)
                parts += 1
                size = len(item.message) + len(item.data)
            sent += size
            hub.bytes_sent += size
    finally:
        hub.mse_viewers -= 1
    return MseSession(parts, inits, viewer.skipped, sent)
