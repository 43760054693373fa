"""PyAV (FFmpeg) ingest: the per-camera fallback for cameras our own RTSP client cannot read.

Strategy: FFmpeg's demuxer blocks, so it runs in a worker thread that pushes
packets into an asyncio queue through ``call_soon_threadsafe``. Nothing is
decoded: each demuxed packet is already one access unit in Annex B form (FFmpeg's
RTP depacketizer writes start codes), which :func:`annexb_nal_units` splits back
into NAL units, so the units look exactly like those of
:class:`~platonicam.rtsp.client.RtspClient`. That sameness is also what the tests
rely on when they use PyAV as the oracle for our depacketizer.

Timing: ``timestamp`` is the packet's PTS in 90 kHz ticks from the first
packet; ``wallclock`` is the arrival time (FFmpeg keeps its RTCP mapping to
itself). Stopping sets a flag the thread checks after every packet; a blocked
read returns within the read timeout passed to ``av.open``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from fractions import Fraction
from typing import Final
from urllib.parse import quote

import av
import av.container

from platonicam.clock import Clock, SystemClock
from platonicam.rtsp import h264, h265
from platonicam.rtsp.client import RtspCredentials, parse_url
from platonicam.rtsp.errors import RtspConnectionError, RtspError, RtspTimeoutError
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, AccessUnit, StreamDescription, VideoCodec

log = logging.getLogger(__name__)

_CODECS: Final = {"h264": VideoCodec.H264, "hevc": VideoCodec.H265}
#: Packets queued for a slow consumer beyond which non-keyframes are dropped.
MAX_QUEUED: Final = 2000


def annexb_nal_units(data: bytes) -> tuple[bytes, ...]:
    """The NAL units of an Annex B byte string (3- or 4-byte start codes), without start codes.

    A NAL unit never ends in a zero byte (its RBSP ends with a stop bit), so the
    zeros before a 4-byte start code belong to the start code.
    """
    units = []
    for chunk in data.split(b"\x00\x00\x01"):
        nal = chunk.rstrip(b"\x00")
        if nal:
            units.append(nal)
    return tuple(units)


def parameter_sets_from_extradata(extradata: bytes, codec: VideoCodec) -> tuple[bytes, ...]:
    """SPS/PPS (and VPS) from FFmpeg's extradata: Annex B, ``avcC`` or ``hvcC``.

    Returns what it finds, in decoder order; an unreadable record gives ``()``
    (the in-band copies then describe the stream).
    """
    module = h264 if codec is VideoCodec.H264 else h265
    order = (h264.SPS, h264.PPS) if codec is VideoCodec.H264 else (h265.VPS, h265.SPS, h265.PPS)
    if extradata[:3] == b"\x00\x00\x01" or extradata[:4] == b"\x00\x00\x00\x01":
        nal_units: tuple[bytes, ...] = annexb_nal_units(extradata)
    elif codec is VideoCodec.H264:
        nal_units = _avcc_nal_units(extradata)
    else:
        nal_units = _hvcc_nal_units(extradata)
    found: dict[int, bytes] = {}
    for nal in nal_units:
        if nal:
            found.setdefault(module.nal_type(nal), nal)
    return tuple(found[kind] for kind in order if kind in found)


def _sized(data: bytes, offset: int) -> tuple[bytes, int]:
    size = int.from_bytes(data[offset : offset + 2], "big")
    return data[offset + 2 : offset + 2 + size], offset + 2 + size


def _avcc_nal_units(data: bytes) -> tuple[bytes, ...]:
    # ISO/IEC 14496-15 §5.3.3.1: 5 bytes, then SPS count (low 5 bits) and SPS, PPS count and PPS.
    units: list[bytes] = []
    try:
        offset = 5
        for mask in (0x1F, 0xFF):
            count = data[offset] & mask
            offset += 1
            for _ in range(count):
                nal, offset = _sized(data, offset)
                units.append(nal)
    except IndexError:
        return ()
    return tuple(units)


def _hvcc_nal_units(data: bytes) -> tuple[bytes, ...]:
    # ISO/IEC 14496-15 §8.3.3.1: 22 bytes, numOfArrays, then per array type, count, NAL units.
    units: list[bytes] = []
    try:
        arrays = data[22]
        offset = 23
        for _ in range(arrays):
            count = int.from_bytes(data[offset + 1 : offset + 3], "big")
            offset += 3
            for _ in range(count):
                nal, offset = _sized(data, offset)
                units.append(nal)
    except IndexError:
        return ()
    return tuple(units)


def _with_credentials(url: str, credentials: RtspCredentials | None) -> str:
    """The URL FFmpeg needs (it takes credentials only inside the URL); never log it."""
    parsed = parse_url(url)
    credentials = credentials or parsed.credentials
    if credentials is None:
        return parsed.url
    user = quote(credentials.username, safe="")
    password = quote(credentials.password, safe="")
    scheme, rest = parsed.url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


class PyAvSession:
    """One FFmpeg RTSP connection: ``await session.open()``, then :meth:`access_units`.

    ``transport`` is ``"tcp"`` or ``"udp"``; ``timeout`` (seconds) bounds the
    open and each read. Errors are :class:`RtspConnectionError` (FFmpeg could
    not open or read the stream, with FFmpeg's reason, never the URL's
    password), :class:`RtspTimeoutError` and :class:`RtspError` (not H.264/H.265).
    """

    def __init__(
        self,
        url: str,
        credentials: RtspCredentials | None = None,
        *,
        transport: str = "tcp",
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self.url = parse_url(url).url
        self._secret_url = _with_credentials(url, credentials)
        self.transport = transport
        self.timeout = timeout
        self._clock: Clock = clock or SystemClock()
        self._container: av.container.InputContainer | None = None
        self._description: StreamDescription | None = None
        self._queue: asyncio.Queue[AccessUnit | BaseException | None] = asyncio.Queue()
        self._stop = threading.Event()
        self._thread: asyncio.Future[None] | None = None
        self.malformed_packets = 0
        self.bytes_received = 0

    def __repr__(self) -> str:
        return f"PyAvSession(url={self.url!r}, transport={self.transport!r})"

    @property
    def description(self) -> StreamDescription:
        if self._description is None:
            raise RtspError("the stream is not described yet: open() first")
        return self._description

    def _error(self, exc: BaseException) -> RtspError:
        # FFmpeg's messages can quote the URL it was given, credentials included.
        text = str(exc).replace(self._secret_url, self.url)
        return RtspConnectionError(f"FFmpeg cannot read {self.url}: {text}")

    async def open(self) -> None:
        """Open the stream in a worker thread and start demuxing."""
        try:
            container = await asyncio.wait_for(
                asyncio.to_thread(self._open_blocking), self.timeout + 1.0
            )
        except TimeoutError:
            raise RtspTimeoutError(
                f"FFmpeg did not open {self.url} within {self.timeout} s"
            ) from None
        self._container = container
        stream = container.streams.video[0]
        loop = asyncio.get_running_loop()
        self._thread = loop.run_in_executor(None, self._demux, loop, container, stream)

    def _open_blocking(self) -> av.container.InputContainer:
        try:
            container = av.open(
                self._secret_url,
                options={"rtsp_transport": self.transport},
                timeout=(self.timeout, self.timeout),
            )
        except (av.FFmpegError, OSError) as exc:
            raise self._error(exc) from None
        if not container.streams.video:
            container.close()
            raise RtspError(f"{self.url} has no video stream")
        stream = container.streams.video[0]
        name = stream.codec_context.name
        if name not in _CODECS:
            container.close()
            raise RtspError(f"{self.url} carries {name} video, not H.264 or H.265")
        codec = _CODECS[name]
        rate = stream.average_rate or stream.guessed_rate or Fraction(0)
        extradata = stream.codec_context.extradata or b""
        self._description = StreamDescription(
            codec,
            stream.codec_context.width,
            stream.codec_context.height,
            float(rate),
            parameter_sets_from_extradata(bytes(extradata), codec),
        )
        return container

    def _demux(
        self,
        loop: asyncio.AbstractEventLoop,
        container: av.container.InputContainer,
        stream: av.video.stream.VideoStream,
    ) -> None:
        put = self._queue.put_nowait
        first: int | None = None
        base = stream.time_base or Fraction(1, VIDEO_CLOCK_RATE)
        try:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    break
                if packet.size == 0:
                    continue
                data = bytes(packet)
                pts = packet.pts if packet.pts is not None else packet.dts
                ticks = 0 if pts is None else round(pts * base * VIDEO_CLOCK_RATE)
                if first is None:
                    first = ticks
                unit = AccessUnit(
                    nal_units=annexb_nal_units(data),
                    timestamp=ticks - first,
                    keyframe=bool(packet.is_keyframe),
                    wallclock=self._clock.now().timestamp(),
                )
                self.bytes_received += len(data)
                if self._queue.qsize() < MAX_QUEUED or unit.keyframe:
                    loop.call_soon_threadsafe(put, unit)
            loop.call_soon_threadsafe(put, RtspConnectionError(f"{self.url} ended the stream"))
        except (av.FFmpegError, OSError) as exc:
            if not self._stop.is_set():
                loop.call_soon_threadsafe(put, self._error(exc))
        finally:
            container.close()

    async def access_units(self) -> AsyncIterator[AccessUnit]:
        """Access units until the stream ends or fails (raises as :meth:`open` does)."""
        while True:
            try:
                async with asyncio.timeout(self.timeout + 1.0):
                    item = await self._queue.get()
            except TimeoutError:
                raise RtspTimeoutError(f"{self.url} sent no media for {self.timeout} s") from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def close(self) -> None:
        """Stop the demuxer thread (within one read timeout) and close the container."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(Exception):
                await self._thread
            self._thread = None
        self._queue.put_nowait(None)
