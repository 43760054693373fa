"""One client's RTSP session on one mount, and how the mount's packets reach it.

Strategy:

* **Start at a keyframe.** PLAY makes a session ``starting``; it begins with the
  next keyframe, and only then is PLAY answered (``on_start``), so ``RTP-Info``
  names the exact sequence number and RTP time of the first packet the client
  gets. A sender report of each track goes with its first packets, so the
  client places them on the wall clock (and beside the video) at once.
* **Never buffer without bound.** A TCP client whose socket buffer holds more
  than the server's high-water mark (its sink is ``congested``) misses packets
  until the next keyframe after it drained; it misses whole metadata documents
  and AAC frames, never parts of one. UDP simply drops.
* A session has the mount's video track and, when the mount has them, its AAC
  audio track and its ONVIF metadata track, each with its own sink (set by
  SETUP); a session without the video starts with the video all the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from platonicam.rtsp.sinks import TcpSink, UdpSink
from platonicam.rtsp.stream import AudioDescription

if TYPE_CHECKING:
    from platonicam.rtsp.mount import Mount
    from platonicam.rtsp.server import _Connection


class Session:
    """One client's RTSP session on one mount."""

    def __init__(self, session_id: str, connection: _Connection, mount: Mount, now: float) -> None:
        self.id = session_id
        self.connection = connection
        self.mount = mount
        self.generation = mount.stream.description.generation
        self.sink: TcpSink | UdpSink | None = None
        self.track_uri = ""
        self.metadata_sink: TcpSink | UdpSink | None = None
        self.metadata_uri = ""
        self.metadata_reported = False
        self.audio_sink: TcpSink | UdpSink | None = None
        self.audio_uri = ""
        #: The AAC track the session's SETUP was told of (a different one ends it).
        self.audio_description: AudioDescription | None = None
        self.audio_reported = False
        self.state = "ready"  # ready -> starting (PLAY waits for a keyframe) -> playing
        self.last_activity = now
        self.skipping = False
        self.on_start: Callable[[int, int], None] | None = None
        self.started: asyncio.Future[None] | None = None

    def deliver(
        self, packets: Sequence[bytes], keyframe: bool, first: tuple[int, int], report: bytes | None
    ) -> None:
        sink = self.sink
        if sink is None and self.metadata_sink is None and self.audio_sink is None:
            return
        if self.state == "starting":
            if not keyframe:
                return
            self.state = "playing"
            if self.on_start is not None:
                self.on_start(*first)
                self.on_start = None
            if self.started is not None and not self.started.done():
                self.started.set_result(None)
            report = self.mount.video.report()
        elif self.state != "playing":
            return
        if sink is None:
            return  # a metadata or audio session: it started with the video, gets no video
        if self.skipping or sink.congested:
            if not keyframe or sink.congested:
                self.skipping = True
                return
            self.skipping = False
        sink.send_rtp(packets)
        if report is not None:
            sink.send_rtcp(report)

    def deliver_metadata(self, packets: Sequence[bytes], report: bytes | None) -> None:
        """Send one whole metadata document (or nothing, when not playing or congested)."""
        sink = self.metadata_sink
        if sink is None or self.state != "playing" or sink.congested:
            return
        if not self.metadata_reported:
            # The first packets come with a sender report, so the client can map
            # them to wall-clock time (and line them up with the video) at once.
            report = self.mount.metadata_track.report()
            self.metadata_reported = True
        if report is not None:
            sink.send_rtcp(report)
        sink.send_rtp(packets)

    def deliver_audio(self, packets: Sequence[bytes], report: bytes | None) -> None:
        """Send one whole AAC frame (or nothing, when not playing or congested)."""
        sink = self.audio_sink
        if sink is None or self.state != "playing" or sink.congested:
            return
        if not self.audio_reported:
            # As for metadata: a sender report ahead of the first packet, so the client
            # places the audio on the wall clock (and beside the video) from the start.
            report = self.mount.audio_track.report()
            self.audio_reported = True
        if report is not None:
            sink.send_rtcp(report)
        sink.send_rtp(packets)
