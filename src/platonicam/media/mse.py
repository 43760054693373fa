"""Media Source Extensions over a WebSocket: the browser's low-latency path.

The protocol (this docstring is its specification), server to browser; the
browser sends nothing we read:

1. a text message, JSON ``{"type": "init", "mime": "video/mp4; codecs=\\"avc1...\\"",
   "epoch": N, "codec": ..., "width": ..., "height": ..., "fps": ...}``: what to
   pass to ``MediaSource.addSourceBuffer`` (the first message always is one);
2. a binary message: the init segment of that epoch (``ftyp`` + ``moov``);
3. then one binary message per frame (access unit), sent the moment the hub
   has it: ``prft`` + ``moof`` + ``mdat`` (ISO/IEC 14496-12), nothing else:

   * ``prft`` (ProducerReferenceTimeBox, 8.16.5), 32 bytes: size 32, type
     ``prft``, version 1, flags 24 (the time the frame was captured),
     ``reference_track_ID`` 1, ``ntp_timestamp`` (64 bits: seconds since
     1900-01-01 UTC in the high 32 bits, the fraction in the low 32; Unix
     seconds = NTP seconds - 2208988800, plus 2**32 once NTP seconds wrap in
     2036) and ``media_time`` (64 bits), the frame's decode time, equal to the
     ``tfdt`` that follows. The time is the frame's capture stamp: the latency
     SEI the camera put in it (:mod:`platonicam.rtsp.sei`), else when the
     gateway received it. The page shows now - stamp at the playhead;
   * ``moof`` with ``mfhd`` (sequence number: the hub's frame counter + 1, so a
     jump of more than one means frames were skipped) and one ``traf``:
     ``tfdt`` is the frame's real decode time (90 kHz), the ``trun`` has one
     sample whose duration is the stream's frame interval (the real one is
     known only when the next frame arrives; it is not waited for), sync
     sample flags on keyframes;
   * ``mdat``: the sample (length-prefixed NAL units).

   The message can be appended to the ``SourceBuffer`` as it is: MSE parsers
   skip top-level boxes they do not use (Chromium's does, ``prft`` included).

4. when the camera has AAC audio, the init segment has two tracks (video 1,
   audio 2, whose timescale is the sample rate), the ``mime`` names both codecs
   (``video/mp4; codecs="avc1...,mp4a.40.2"``), and a frame message's ``moof``
   may have a second ``traf``: track 2, ``tfdt`` the first AAC frame's decode
   time on the epoch's timeline, one sync sample per AAC frame that arrived
   since the previous video frame (each lasting until the next, the last 1024
   ticks), their raw AAC data after the video's in the ``mdat``. The ``prft``
   still describes the video frame.

The first frame after an init segment is a keyframe: a new viewer gets the
frames from the newest keyframe on at once (the hub's GOP cache), then live
frames. When the stream is reconfigured (a new epoch) steps 1 and 2 come again.
The player appends in ``sequence`` mode: a new epoch, a skip forward, or a gap
of more than two frame durations is a discontinuity after which MSE simply
continues the timeline.

Every message's bytes were produced once by the hub; this module only sends
them. A viewer whose socket cannot keep up blocks in ``send`` (the WebSocket
server's write buffer has a high-water mark), falls behind the live edge, and
its :class:`~platonicam.media.hub.FrameViewer` then jumps to the newest
keyframe: nothing is buffered per viewer beyond the socket's own buffer.
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
    """How a session went: frames and init segments sent, frames skipped, bytes sent."""

    frames: int
    inits: int
    skipped: int
    bytes_sent: int

    @property
    def parts(self) -> int:
        """The media messages sent: :attr:`frames` (the name from when they were parts)."""
        return self.frames


async def stream_mse(
    hub: Hub, sink: MseSink, *, max_lag: float | None = None, limit: int | None = None
) -> MseSession:
    """Send ``hub``'s stream to ``sink`` until the hub closes, the sink fails, or
    ``limit`` frames were sent.

    Starts at the hub's newest keyframe (at once when the hub has one).
    Counts the viewer in ``hub.mse_viewers`` while it runs. Errors raised by
    the sink (the client went away) propagate to the caller.
    """
    viewer = hub.frame_viewer(max_lag)
    frames = inits = sent = 0
    hub.mse_viewers += 1
    try:
        while limit is None or frames < limit:
            item = await viewer.next()
            if item is None:
                break
            if isinstance(item, Epoch):
                await sink.send_text(item.message)
                await sink.send_bytes(item.init)
                inits += 1
                size = len(item.message) + len(item.init)
            else:
                await sink.send_bytes(item.data)
                frames += 1
                size = len(item.data)
            sent += size
            hub.bytes_sent += size
    finally:
        hub.mse_viewers -= 1
    return MseSession(frames, inits, viewer.skipped, sent)
