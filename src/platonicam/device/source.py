"""The reference device's picture: a looped, pre-encoded test pattern (or file) played live.

Strategy: a device must cost almost no CPU, because one machine runs dozens of
them (the service benchmark runs 50). So nothing is encoded per frame while
streaming. :func:`encode_loop` encodes a short loop of a moving test pattern
once per :class:`EncoderSettings` (with libx264 or libx265 through PyAV, in a
worker thread) into closed GOPs whose first frame is an IDR, so the loop can
restart at its first frame without the decoder noticing. Loops are cached by
settings and label, so fifty devices with the same profile share one encode.

A :class:`TestPatternStream` (or a :class:`FileStream`) then *plays* the loop:
one event-loop timer per stream fires once per frame, rewrites the timestamp
(so it keeps growing across loop restarts and reconfigurations), inserts the
latency SEI stamped with the wall-clock time of sending (see
:mod:`platonicam.rtsp.sei`) and puts the same :class:`AccessUnit` object into
each subscriber's bounded queue. With no subscriber the timer stops; the
loop position keeps following real time, so a snapshot still moves.

With sound (``audio``), a stream is also an ``AudioStream``: an
:class:`~platonicam.device.audio.AudioLoopStream` beside it plays the AAC beep
loop on the wall clock, with its own timer, running only while someone
subscribes to the audio. Picture and sound are not one loop: both follow the
wall clock, which is what keeps them in step.

``SetVideoEncoderConfiguration`` really changes the stream:
:meth:`TestPatternStream.reconfigure` encodes (or fetches from the cache) a loop
for the new settings and switches to it at its IDR, with a new ``generation``
and description.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.video.frame
from av.video.codeccontext import VideoCodecContext

from platonicam.clock import Clock, SystemClock
from platonicam.device.audio import AudioLoopStream, AudioSettings, encode_audio_loop
from platonicam.errors import PlatonicamError
from platonicam.rtsp.fanout import UnitQueue
from platonicam.rtsp.sei import build_latency_sei
from platonicam.rtsp.stream import (
    VIDEO_CLOCK_RATE,
    AccessUnit,
    AudioDescription,
    AudioFrame,
    StreamDescription,
    VideoCodec,
)


class SourceError(PlatonicamError):
    """A video source could not be built: bad settings, an encoder failure, an unusable file."""


class VideoProfile(enum.StrEnum):
    """Codec profiles, spelled as ONVIF's ``H264Profile`` / Media2 ``Profile`` values."""

    BASELINE = "Baseline"
    MAIN = "Main"
    HIGH = "High"
    MAIN10 = "Main10"


_PROFILES: dict[VideoCodec, frozenset[VideoProfile]] = {
    VideoCodec.H264: frozenset({VideoProfile.BASELINE, VideoProfile.MAIN, VideoProfile.HIGH}),
    VideoCodec.H265: frozenset({VideoProfile.MAIN, VideoProfile.MAIN10}),
}

#: Shortest default loop, in seconds (see :attr:`EncoderSettings.loop_frames`).
DEFAULT_LOOP_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """What the encoder produces; hashable, so it keys the loop cache.

    ``fps`` is frames per second, ``bitrate_kbps`` the target (and VBV maximum)
    in kbit/s, ``gop`` the keyframe interval in frames. ``loop_seconds`` is the
    loop length; ``None`` means two GOPs, but at least
    :data:`DEFAULT_LOOP_SECONDS`. Raises :class:`SourceError` for values an
    encoder cannot take (odd sizes, a profile of the other codec, ...).
    """

    codec: VideoCodec = VideoCodec.H264
    width: int = 1280
    height: int = 720
    fps: float = 25.0
    bitrate_kbps: int = 2048
    gop: int = 50
    profile: VideoProfile = VideoProfile.MAIN
    loop_seconds: float | None = None

    def __post_init__(self) -> None:
        # 4:2:0 chroma needs even sizes; 16x16 is below every encoder's useful minimum.
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise SourceError(f"resolution {self.width}x{self.height} is not even and >= 16")
        if self.width > 8192 or self.height > 4320:
            raise SourceError(f"resolution {self.width}x{self.height} is larger than 8192x4320")
        if not 0 < self.fps <= 240:
            raise SourceError(f"frame rate {self.fps} is not in (0, 240]")
        if self.bitrate_kbps < 16:
            raise SourceError(f"bitrate {self.bitrate_kbps} kbit/s is below 16")
        if self.gop < 1:
            raise SourceError(f"GOP length {self.gop} is not a positive frame count")
        if self.profile not in _PROFILES[self.codec]:
            raise SourceError(f"profile {self.profile} is not a {self.codec} profile")
        if self.loop_seconds is not None and not self.loop_seconds > 0:
            raise SourceError(f"loop length {self.loop_seconds} s is not positive")

    @property
    def loop_frames(self) -> int:
        """Frames in the loop: ``loop_seconds`` rounded up to whole GOPs (at least one)."""
        seconds = self.loop_seconds
        if seconds is None:
            seconds = max(2 * self.gop / self.fps, DEFAULT_LOOP_SECONDS)
        gops = max(1, math.ceil(round(seconds * self.fps, 6) / self.gop))
        return gops * self.gop


@dataclass(frozen=True, slots=True)
class LoopFrame:
    """One access unit of a loop, before timestamps and the latency SEI are added.

    ``first_vcl`` is the index in ``nal_units`` of the first slice NAL: the
    SEI goes right before it (after any AUD, parameter sets and encoder SEI).
    """

    nal_units: tuple[bytes, ...]
    keyframe: bool
    first_vcl: int


@dataclass(frozen=True, slots=True)
class EncodedLoop:
    """A playable loop: frames in decode order, the first one an IDR.

    ``gop`` is the keyframe interval in frames (``None`` for a file whose
    interval is not constant).
    """

    codec: VideoCodec
    width: int
    height: int
    fps: float
    parameter_sets: tuple[bytes, ...]
    frames: tuple[LoopFrame, ...]
    bitrate_kbps: int | None = None
    gop: int | None = None

    def description(self, generation: int) -> StreamDescription:
        return StreamDescription(
            codec=self.codec,
            width=self.width,
            height=self.height,
            fps=self.fps,
            parameter_sets=self.parameter_sets,
            bitrate_kbps=self.bitrate_kbps,
            generation=generation,
        )

    def annexb(self) -> bytes:
        """The whole loop as an Annex B byte stream (4-byte start codes), e.g. for ffprobe."""
        return b"".join(
            b"\x00\x00\x00\x01" + nal for frame in self.frames for nal in frame.nal_units
        )


# --- Annex B ---------------------------------------------------------------------------


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream, start codes and trailing zero bytes removed."""
    units: list[bytes] = []
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        following = data.find(b"\x00\x00\x01", begin)
        # A NAL never ends in 0x00, so trailing zeros are the next 4-byte start
        # code's first byte or trailing_zero_8bits.
        unit = data[begin : len(data) if following < 0 else following].rstrip(b"\x00")
        if unit:
            units.append(unit)
        start = following
    return units


def nal_type(nal: bytes, codec: VideoCodec) -> int:
    """The ``nal_unit_type`` of a NAL unit (H.264: 5 bits of byte 0; H.265: 6 bits)."""
    return nal[0] & 0x1F if codec is VideoCodec.H264 else (nal[0] >> 1) & 0x3F


def is_vcl(nal: bytes, codec: VideoCodec) -> bool:
    """Whether the NAL unit carries a slice (H.264 types 1-5, H.265 types 0-31)."""
    kind = nal_type(nal, codec)
    return 1 <= kind <= 5 if codec is VideoCodec.H264 else kind <= 31


def is_idr(nal: bytes, codec: VideoCodec) -> bool:
    """Whether the NAL unit is an IDR slice (H.264 type 5, H.265 IDR_W_RADL/IDR_N_LP)."""
    kind = nal_type(nal, codec)
    return kind == 5 if codec is VideoCodec.H264 else kind in (19, 20)


def _parameter_set_types(codec: VideoCodec) -> tuple[int, ...]:
    # H.264: SPS 7, PPS 8. H.265: VPS 32, SPS 33, PPS 34.
    return (7, 8) if codec is VideoCodec.H264 else (32, 33, 34)


def _loop_frame(nals: Sequence[bytes], keyframe: bool, codec: VideoCodec) -> LoopFrame:
    first_vcl = next((i for i, nal in enumerate(nals) if is_vcl(nal, codec)), len(nals))
    return LoopFrame(nal_units=tuple(nals), keyframe=keyframe, first_vcl=first_vcl)


def _extract_parameter_sets(nals: Iterable[bytes], codec: VideoCodec) -> tuple[bytes, ...]:
    wanted = _parameter_set_types(codec)
    found: dict[int, bytes] = {}
    for nal in nals:
        kind = nal_type(nal, codec)
        if kind in wanted and kind not in found:
            found[kind] = nal
    if len(found) != len(wanted):
        raise SourceError(f"the first keyframe lacks {codec} parameter sets")
    return tuple(found[kind] for kind in wanted)


# --- the test pattern -----------------------------------------------------------------

# A 3x5 pixel font: each glyph is five rows of three columns ("#" = lit).
_FONT: dict[str, str] = {
    "0": "###,#.#,#.#,#.#,###", "1": ".#.,##.,.#.,.#.,###", "2": "###,..#,###,#..,###",
    "3": "###,..#,.##,..#,###", "4": "#.#,#.#,###,..#,..#", "5": "###,#..,###,..#,###",
    "6": "###,#..,###,#.#,###", "7": "###,..#,.#.,.#.,.#.", "8": "###,#.#,###,#.#,###",
    "9": "###,#.#,###,..#,###", "A": ".#.,#.#,###,#.#,#.#", "B": "##.,#.#,##.,#.#,##.",
    "C": "###,#..,#..,#..,###", "D": "##.,#.#,#.#,#.#,##.", "E": "###,#..,##.,#..,###",
    "F": "###,#..,##.,#..,#..", "G": "###,#..,#.#,#.#,###", "H": "#.#,#.#,###,#.#,#.#",
    "I": "###,.#.,.#.,.#.,###", "J": "..#,..#,..#,#.#,###", "K": "#.#,#.#,##.,#.#,#.#",
    "L": "#..,#..,#..,#..,###", "M": "#.#,###,###,#.#,#.#", "N": "##.,#.#,#.#,#.#,#.#",
    "O": "###,#.#,#.#,#.#,###", "P": "###,#.#,###,#..,#..", "Q": "###,#.#,#.#,###,..#",
    "R": "##.,#.#,##.,#.#,#.#", "S": "###,#..,###,..#,###", "T": "###,.#.,.#.,.#.,.#.",
    "U": "#.#,#.#,#.#,#.#,###", "V": "#.#,#.#,#.#,#.#,.#.", "W": "#.#,#.#,###,###,#.#",
    "X": "#.#,#.#,.#.,#.#,#.#", "Y": "#.#,#.#,.#.,.#.,.#.", "Z": "###,..#,.#.,#..,###",
    " ": "...,...,...,...,...", "-": "...,...,###,...,...", "_": "...,...,...,...,###",
    ".": "...,...,...,...,.#.", ":": "...,.#.,...,.#.,...", "/": "..#,..#,.#.,#..,#..",
    "#": "#.#,###,#.#,###,#.#", "?": "###,..#,.##,...,.#.",
}  # fmt: skip

_BLACK = 16
_WHITE = 235


def _render_text(text: str, scale: int, max_width: int) -> list[bytes]:
    """Luma rows (``5 * scale`` plus a border) of ``text`` in white on black, clipped."""
    glyphs = [_FONT.get(ch, _FONT["?"]).split(",") for ch in text.upper()]
    rows: list[bytes] = []
    blank = b""
    for glyph_row in range(5):
        line = bytearray([_BLACK]) * scale
        for glyph in glyphs:
            for cell in glyph[glyph_row]:
                line += bytes([_WHITE if cell == "#" else _BLACK]) * scale
            line += bytes([_BLACK]) * scale
        row = bytes(line[:max_width])
        blank = bytes([_BLACK]) * len(row)
        rows.extend([row] * scale)
    return [blank] * scale + rows + [blank] * scale


class _Painter:
    """Draws frame ``i`` of the pattern into 4:2:0 planes.

    A horizontal luma gradient over coloured chroma gradients, a white box
    bouncing left to right and back once per loop (so the loop's end meets its
    start), the label and a frame counter. Built from whole byte rows: one
    ``bytearray`` copy plus a few dozen slice assignments per frame.
    """

    def __init__(self, width: int, height: int, frames: int, label: str) -> None:
        self.width, self.height, self.frames, self.label = width, height, frames, label
        self.box = max(8, (height // 4) & ~1)
        self.scale = max(1, height // 120)
        self._bases: dict[tuple[int, int], tuple[bytes, bytes, bytes]] = {}

    def _base(self, y_stride: int, c_stride: int) -> tuple[bytes, bytes, bytes]:
        key = (y_stride, c_stride)
        if key not in self._bases:
            w, h = self.width, self.height
            gradient = bytes(_BLACK + (_WHITE - _BLACK) * x // (w - 1) for x in range(w))
            luma = (gradient + bytes(y_stride - w)) * h
            cw, ch = w // 2, h // 2
            u_rows = [bytes([64 + 128 * y // ch]) * cw + bytes(c_stride - cw) for y in range(ch)]
            v_row = bytes(192 - 128 * x // cw for x in range(cw)) + bytes(c_stride - cw)
            self._bases[key] = (luma, b"".join(u_rows), v_row * ch)
        return self._bases[key]

    def paint(self, frame: av.video.frame.VideoFrame, index: int) -> None:
        y_plane, u_plane, v_plane = frame.planes
        stride = y_plane.line_size
        luma_base, u_bytes, v_bytes = self._base(stride, u_plane.line_size)
        luma = bytearray(luma_base)
        # Triangle wave: 0 at the first and last frame, the far right half-way.
        phase = index / self.frames
        x0 = round((1 - abs(2 * phase - 1)) * (self.width - self.box))
        y0 = (self.height - self.box) // 2
        box_row = bytes([_WHITE]) * self.box
        for y in range(y0, y0 + self.box):
            luma[y * stride + x0 : y * stride + x0 + self.box] = box_row
        text_y = 0
        for text in (self.label, f"#{index:05d}"):
            for row in _render_text(text, self.scale, self.width):
                if text_y >= self.height:
                    break
                luma[text_y * stride : text_y * stride + len(row)] = row
                text_y += 1
        y_plane.update(bytes(luma))
        u_plane.update(u_bytes)
        v_plane.update(v_bytes)


# --- encoding -------------------------------------------------------------------------

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[EncoderSettings, str], EncodedLoop] = OrderedDict()
_cache_lock = threading.Lock()
_key_locks: dict[tuple[EncoderSettings, str], threading.Lock] = {}


def _encoder_options(settings: EncoderSettings) -> tuple[str, str, dict[str, str]]:
    """(codec name, pixel format, private options) for low-latency closed-GOP encoding."""
    common = (
        f"keyint={settings.gop}:min-keyint={settings.gop}:scenecut=0:bframes=0:open-gop=0"
        f":repeat-headers=1:vbv-maxrate={settings.bitrate_kbps}"
        f":vbv-bufsize={settings.bitrate_kbps}"
    )
    profile = settings.profile.value.lower()
    if settings.codec is VideoCodec.H264:
        return (
            "libx264",
            "yuv420p",
            {"preset": "superfast", "tune": "zerolatency", "profile": profile,
             "x264-params": common},
        )  # fmt: skip
    pix_fmt = "yuv420p10le" if settings.profile is VideoProfile.MAIN10 else "yuv420p"
    return (
        "libx265",
        pix_fmt,
        # x265 prints its banner and statistics to stderr unless told not to.
        {"preset": "ultrafast", "tune": "zerolatency", "profile": profile,
         "x265-params": common + ":log-level=error"},
    )  # fmt: skip


def video_codec_context(name: str, mode: Literal["r", "w"]) -> VideoCodecContext:
    """A PyAV video codec context (``name`` is an FFmpeg codec, e.g. ``libx264``, ``hevc``)."""
    ctx = av.CodecContext.create(name, mode)
    if not isinstance(ctx, VideoCodecContext):
        raise SourceError(f"{name} is not a video codec")
    return ctx


def _frame_rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def encode_loop_blocking(settings: EncoderSettings, label: str) -> EncodedLoop:
    """Encode the test-pattern loop now, on this thread (see :func:`encode_loop`).

    Raises :class:`SourceError` when the encoder fails or does not produce
    exactly one IDR at the start of every GOP.
    """
    codec_name, pix_fmt, options = _encoder_options(settings)
    rate = _frame_rate(settings.fps)
    try:
        ctx = video_codec_context(codec_name, "w")
        ctx.width = settings.width
        ctx.height = settings.height
        ctx.pix_fmt = pix_fmt
        ctx.time_base = 1 / rate
        ctx.framerate = rate
        ctx.bit_rate = settings.bitrate_kbps * 1000
        ctx.gop_size = settings.gop
        ctx.max_b_frames = 0
        ctx.options = options
        painter = _Painter(settings.width, settings.height, settings.loop_frames, label)
        packets: list[bytes] = []
        for index in range(settings.loop_frames):
            frame = av.VideoFrame(settings.width, settings.height, "yuv420p")
            painter.paint(frame, index)
            if pix_fmt != "yuv420p":
                frame = frame.reformat(format=pix_fmt)
            frame.pts = index
            packets.extend(bytes(p) for p in ctx.encode(frame))
        packets.extend(bytes(p) for p in ctx.encode(None))
    except (av.FFmpegError, ValueError) as exc:
        raise SourceError(f"{codec_name} could not encode {settings}: {exc}") from exc
    if len(packets) != settings.loop_frames:
        raise SourceError(f"{codec_name} gave {len(packets)} packets for "
                          f"{settings.loop_frames} frames")  # fmt: skip
    frames: list[LoopFrame] = []
    for index, packet in enumerate(packets):
        nals = split_annexb(packet)
        idr = any(is_idr(nal, settings.codec) for nal in nals)
        if idr != (index % settings.gop == 0):
            raise SourceError(f"{codec_name} put an IDR at frame {index} "
                              f"(GOP {settings.gop}) or missed one")  # fmt: skip
        frames.append(_loop_frame(nals, idr, settings.codec))
    return EncodedLoop(
        codec=settings.codec,
        width=settings.width,
        height=settings.height,
        fps=settings.fps,
        parameter_sets=_extract_parameter_sets(frames[0].nal_units, settings.codec),
        frames=tuple(frames),
        bitrate_kbps=settings.bitrate_kbps,
        gop=settings.gop,
    )


def cached_encode_loop(settings: EncoderSettings, label: str) -> EncodedLoop:
    """:func:`encode_loop_blocking` through the shared LRU cache (thread-safe).

    Concurrent callers with the same key wait for one encode instead of
    starting their own.
    """
    key = (settings, label)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        loop = encode_loop_blocking(settings, label)
        with _cache_lock:
            _cache[key] = loop
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
            _key_locks.pop(key, None)
        return loop


async def encode_loop(settings: EncoderSettings, label: str) -> EncodedLoop:
    """The loop for ``settings`` with ``label`` drawn on it, encoded in a worker thread.

    The event loop never blocks; results are cached (LRU of a few), so many
    devices with the same settings and label share one encode. Raises
    :class:`SourceError`.
    """
    return await asyncio.to_thread(cached_encode_loop, settings, label)


# --- playing --------------------------------------------------------------------------


class LoopStream:
    """Plays an :class:`EncodedLoop` live to many subscribers (a ``LiveStream``).

    One timer per stream, running only while someone subscribes. Each
    subscriber has a bounded queue of ``queue_size`` units (default: two
    GOPs or two seconds, whichever is more); a subscriber whose queue is full
    loses what it had queued and resumes at the next keyframe, while the others
    are unaffected. ``clock`` gives the wall-clock time stamped into each unit
    and its SEI (``SystemClock`` by default); frame timing uses the event loop.
    ``audio``, when given, is the sound played beside the picture (the stream
    then has an ``audio`` description; it is closed with the stream).
    """

    def __init__(
        self,
        loop: EncodedLoop,
        *,
        clock: Clock | None = None,
        queue_size: int | None = None,
        audio: AudioLoopStream | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._audio = audio
        self._loop = loop
        self._generation = 0
        self._description = loop.description(0)
        self._queue_size = queue_size or max(2 * (loop.gop or 0), math.ceil(2 * loop.fps))
        self._subscribers: set[UnitQueue] = set()
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        # Where the loop is: the last frame sent (or that would have been sent:
        # while paused, the position keeps following real time).
        self._pos = len(loop.frames) - 1
        self._last_ts = -round(VIDEO_CLOCK_RATE / loop.fps)
        self._last_time: float | None = None
        # The current segment of evenly spaced frames: its start time and
        # timestamp, and the index in it of the next frame.
        self._seg_time = 0.0
        self._seg_ts = 0
        self._seg_index = 0

    @property
    def description(self) -> StreamDescription:
        return self._description

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def playing(self) -> bool:
        """Whether the frame timer runs (it does exactly while someone subscribes)."""
        return self._timer is not None

    @property
    def audio(self) -> AudioDescription | None:
        """The AAC track (``None`` for a silent stream)."""
        return self._audio.audio if self._audio is not None else None

    @property
    def audio_player(self) -> AudioLoopStream | None:
        """What plays the sound (``None`` for a silent stream)."""
        return self._audio

    def subscribe_audio(self) -> AsyncGenerator[AudioFrame, None]:
        """The AAC frames from the one playing now on (nothing for a silent
        stream), until :meth:`close`; see :meth:`AudioLoopStream.subscribe_audio`."""
        if self._audio is None:
            return _no_audio()
        return self._audio.subscribe_audio()

    async def subscribe(self) -> AsyncGenerator[AccessUnit, None]:
        """Access units from the next keyframe on, until :meth:`close`.

        A consumer that stops early should ``aclose()`` the generator (or use
        ``contextlib.aclosing``) so its queue is released at once rather than
        when the generator is collected.
        """
        if self._closed:
            return
        subscriber = UnitQueue(self._queue_size)
        self._subscribers.add(subscriber)
        self._start()
        try:
            async for unit in subscriber.units():
                yield unit
        finally:
            self._subscribers.discard(subscriber)
            if not self._subscribers:
                self._pause()

    def frame_position(self) -> tuple[int, int]:
        """``(index, frames)``: the loop frame showing now and the loop's length
        (what the analytics simulation needs to follow the moving box)."""
        return self._position(asyncio.get_running_loop().time()), len(self._loop.frames)

    def close(self) -> None:
        """Stop the timer and end every subscription (their iterators finish). Idempotent."""
        self._closed = True
        self._pause()
        for subscriber in self._subscribers:
            subscriber.end()
        if self._audio is not None:
            self._audio.close()

    def current_gop(self) -> tuple[AccessUnit, ...]:
        """The units from the most recent keyframe to the current frame (for snapshots)."""
        loop = self._loop
        pos = self._position(asyncio.get_running_loop().time())
        start = pos
        while start > 0 and not loop.frames[start].keyframe:
            start -= 1
        wallclock = self._clock.now().timestamp()
        return tuple(
            AccessUnit(
                nal_units=loop.frames[i].nal_units,
                timestamp=0,
                keyframe=loop.frames[i].keyframe,
                wallclock=wallclock,
                generation=self._generation,
            )
            for i in range(start, pos + 1)
        )

    def _switch(self, loop: EncodedLoop) -> None:
        """Play ``loop`` from its first frame (an IDR) from the next frame on."""
        now = asyncio.get_running_loop().time()
        old_fps = self._loop.fps
        self._loop = loop
        self._generation += 1
        self._description = loop.description(self._generation)
        self._pos = len(loop.frames) - 1
        if self._timer is not None:
            # The timer already waits for the next frame's time; start a segment there.
            next_time = self._seg_time + self._seg_index / old_fps
            self._new_segment(next_time, self._last_ts + round(VIDEO_CLOCK_RATE / old_fps))
        else:
            self._last_time = now

    def _position(self, now: float) -> int:
        if self._timer is not None or self._last_time is None:
            return self._pos
        elapsed = math.floor((now - self._last_time) * self._loop.fps)
        return (self._pos + max(0, elapsed)) % len(self._loop.frames)

    def _new_segment(self, start: float, first_ts: int) -> None:
        self._seg_time, self._seg_ts, self._seg_index = start, first_ts, 0

    def _start(self) -> None:
        if self._timer is not None or self._closed:
            return
        aloop = asyncio.get_running_loop()
        now = aloop.time()
        if self._last_time is None:
            first_ts = 0  # never played: start at the loop's first frame, timestamp 0
        else:
            # Resume where real time has got to, with timestamps that kept counting.
            self._pos = self._position(now)
            first_ts = self._last_ts + max(1, round((now - self._last_time) * VIDEO_CLOCK_RATE))
        self._new_segment(now, first_ts)
        self._timer = aloop.call_at(now, self._tick)

    def _pause(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        aloop = asyncio.get_running_loop()
        loop = self._loop
        self._pos = (self._pos + 1) % len(loop.frames)
        frame = loop.frames[self._pos]
        ts = self._seg_ts + round(self._seg_index * VIDEO_CLOCK_RATE / loop.fps)
        wallclock = self._clock.now().timestamp()
        sei = build_latency_sei(wallclock, loop.codec)
        cut = frame.first_vcl
        unit = AccessUnit(
            nal_units=(*frame.nal_units[:cut], sei, *frame.nal_units[cut:]),
            timestamp=ts,
            keyframe=frame.keyframe,
            wallclock=wallclock,
            generation=self._generation,
        )
        self._last_ts = ts
        self._last_time = self._seg_time + self._seg_index / loop.fps
        self._publish(unit)
        self._seg_index += 1
        due = self._seg_time + self._seg_index / loop.fps
        now = aloop.time()
        if now - due > 1.0:
            # The event loop stalled for over a second: do not burst to catch
            # up, start evenly spaced frames again from now.
            self._new_segment(now, ts + max(1, round((now - self._last_time) * VIDEO_CLOCK_RATE)))
            due = now
        self._timer = aloop.call_at(due, self._tick)

    def _publish(self, unit: AccessUnit) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(unit)


async def _no_audio() -> AsyncGenerator[AudioFrame, None]:
    return
    yield  # an async generator that ends at once


class TestPatternStream(LoopStream):
    """The moving test pattern for one device profile, reconfigurable at run time.

    Build it with :meth:`create` (which encodes, or reuses a cached loop).
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        loop: EncodedLoop,
        settings: EncoderSettings,
        label: str,
        *,
        clock: Clock | None = None,
        queue_size: int | None = None,
        audio: AudioLoopStream | None = None,
    ) -> None:
        super().__init__(loop, clock=clock, queue_size=queue_size, audio=audio)
        self._settings = settings
        self._label = label
        self._requests = 0

    @classmethod
    async def create(
        cls,
        settings: EncoderSettings,
        label: str,
        *,
        clock: Clock | None = None,
        queue_size: int | None = None,
        audio: AudioSettings | None = None,
    ) -> TestPatternStream:
        """Encode (or fetch) the loop, and the sound's with ``audio``; the stream
        starts at generation 0.

        Raises :class:`SourceError` (or :class:`~platonicam.device.audio.AudioError`).
        """
        if audio is None:
            loop = await encode_loop(settings, label)
            return cls(loop, settings, label, clock=clock, queue_size=queue_size)
        loop, sound = await asyncio.gather(encode_loop(settings, label), encode_audio_loop(audio))
        player = AudioLoopStream(sound, clock=clock)
        return cls(loop, settings, label, clock=clock, queue_size=queue_size, audio=player)

    @property
    def settings(self) -> EncoderSettings:
        return self._settings

    @property
    def label(self) -> str:
        return self._label

    async def reconfigure(self, settings: EncoderSettings) -> None:
        """Re-encode for ``settings`` and switch to it at an IDR with a new generation.

        When this returns, :attr:`description` is the new one and the next unit
        sent is the new loop's IDR. Same settings: nothing changes. When calls
        overlap, the last one wins. Raises :class:`SourceError` (the stream
        keeps playing the old settings).
        """
        if settings == self._settings:
            return
        self._requests += 1
        request = self._requests
        loop = await encode_loop(settings, self._label)
        if request != self._requests or self._closed:
            return
        self._settings = settings
        self._switch(loop)


# --- files ----------------------------------------------------------------------------


def load_file_loop(path: Path) -> EncodedLoop:
    """Read an H.264/H.265 file's packets into a loop (Annex B, from its first keyframe).

    Containers (MP4, MKV) are rewritten to Annex B with the ``*_mp4toannexb``
    bitstream filter; raw ``.h264``/``.h265`` streams pass through. Raises
    :class:`SourceError` for another codec, no keyframe, or B-frames (their
    reordering cannot survive timestamps rewritten in decode order).
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SourceError(f"{path} has no video stream")
            stream = container.streams.video[0]
            name = stream.codec_context.name
            codecs = {"h264": VideoCodec.H264, "hevc": VideoCodec.H265}
            if name not in codecs:
                raise SourceError(f"{path} is {name}, not H.264 or H.265")
            codec = codecs[name]
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            width, height = stream.codec_context.width, stream.codec_context.height
            bsf = av.BitStreamFilterContext(f"{name}_mp4toannexb", stream)
            raw: list[tuple[bytes, bool, int | None]] = []
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                for out in bsf.filter(packet):
                    raw.append((bytes(out), out.is_keyframe, out.pts))
            for out in bsf.filter(None):
                raw.append((bytes(out), out.is_keyframe, out.pts))
    except av.FFmpegError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    pts = [p for _, _, p in raw if p is not None]
    if any(b <= a for a, b in itertools.pairwise(pts)):
        raise SourceError(f"{path} has B-frames (presentation order differs from decode order)")
    start = next((i for i, (_, key, _) in enumerate(raw) if key), None)
    if start is None:
        raise SourceError(f"{path} has no keyframe")
    frames = [_loop_frame(split_annexb(data), key, codec) for data, key, _ in raw[start:]]
    keys = [i for i, frame in enumerate(frames) if frame.keyframe]
    intervals = {b - a for a, b in itertools.pairwise(keys)}
    return EncodedLoop(
        codec=codec,
        width=width,
        height=height,
        fps=float(rate),
        parameter_sets=_extract_parameter_sets(frames[0].nal_units, codec),
        frames=tuple(frames),
        gop=intervals.pop() if len(intervals) == 1 else None,
    )


class FileStream(LoopStream):
    """A file's video, looped forever with rewritten timestamps (the alternative source)."""

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Clock | None = None,
        queue_size: int | None = None,
    ) -> FileStream:
        """Load ``path`` in a worker thread. Raises :class:`SourceError`."""
        loop = await asyncio.to_thread(load_file_loop, path)
        return cls(loop, clock=clock, queue_size=queue_size)
