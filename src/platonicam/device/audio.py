"""The reference device's sound: a looped, pre-encoded AAC beep played live on the wall clock.

Strategy: like the picture (:mod:`platonicam.device.source`), nothing is
encoded while streaming. :func:`encode_audio_loop` encodes a short loop once
per :class:`AudioSettings` with FFmpeg's built-in ``aac`` encoder (through
PyAV, in a worker thread, cached for every device of the process), and an
:class:`AudioLoopStream` replays its frames.

The sound is made for A/V sync checks: a 100 ms 1 kHz beep that starts exactly
at every whole second of the wall clock (Unix time), silence between. So the
loop is *anchored to Unix time*: AAC frame number ``g`` (counted from the
epoch, ``g * 1024`` samples) carries the loop's frame ``g mod n`` and has
``wallclock = g * 1024 / sample_rate``. For the beep to land on whole seconds
the loop must be a whole number of frames *and* of seconds: the shortest such
loop is ``lcm(1024, sample_rate)`` samples, 8 s (375 frames) at 48 kHz. Audio
and video share the wall clock but not a loop: each is paced by it on its own.

The loop is mono, AAC-LC, 48 kHz, 64 kbit/s by default: the beep is the same
on every channel, so stereo would only double the bytes; mono AAC-LC plays in
every browser (MSE and HLS) and RTSP client. Silence costs the encoder a few
bytes a frame, so the loop is ~16 KB.

AAC frames are independently parsable but not independent: the decoder
overlaps each frame's window with the previous one's. The encoder therefore
sees the loop's last two frames before it and its first two after it, and the
loop keeps only the frames whose windows lie on the loop, so that frame
``n - 1`` followed by frame ``0`` decodes seamlessly at the wrap.
"""

from __future__ import annotations

import asyncio
import math
import threading
from array import array
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
import av.audio.frame
from av.audio.codeccontext import AudioCodecContext

from platonicam.clock import Clock, SystemClock
from platonicam.errors import PlatonicamError
from platonicam.rtsp.fanout import DropOldestQueue
from platonicam.rtsp.stream import AudioDescription, AudioFrame

__all__ = [
    "AAC_FRAME_SAMPLES",
    "AudioError",
    "AudioLoop",
    "AudioLoopStream",
    "AudioSettings",
    "audio_specific_config",
    "cached_audio_loop",
    "encode_audio_loop",
    "encode_audio_loop_blocking",
]

#: PCM samples in one AAC-LC frame.
AAC_FRAME_SAMPLES: Final = 1024
#: Sampling frequencies of an AudioSpecificConfig's 4-bit index (14496-3 table 1.18).
_AAC_RATES: Final = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                     11025, 8000, 7350)  # fmt: skip
#: Longest loop accepted (44.1 kHz would need 256 s: not a small loop).
_MAX_LOOP_SECONDS: Final = 16
#: AAC frames a subscriber may have queued (~2 s at 48 kHz): late audio is useless.
DEFAULT_AUDIO_QUEUE: Final = 96
#: A tick this far off the wall clock means the event loop stalled or the clock
#: was set: restart the pacing from the current frame rather than burst or wait.
_RESYNC_SECONDS: Final = 1.0


class AudioError(PlatonicamError):
    """The sound could not be built: bad settings or an encoder failure."""


@dataclass(frozen=True, slots=True)
class AudioSettings:
    """What the AAC loop sounds like; hashable, so it keys the loop cache.

    ``level`` is the beep's peak amplitude (0.25 is -12 dBFS). Raises
    :class:`AudioError` for values the loop cannot have.
    """

    sample_rate: int = 48_000
    channels: int = 1
    bitrate_kbps: int = 64
    tone_hz: float = 1000.0
    beep_seconds: float = 0.1
    level: float = 0.25

    def __post_init__(self) -> None:
        if self.sample_rate not in _AAC_RATES:
            raise AudioError(f"sample rate {self.sample_rate} Hz is not an AAC rate")
        if self.loop_seconds > _MAX_LOOP_SECONDS:
            raise AudioError(
                f"a beep on whole seconds at {self.sample_rate} Hz needs a "
                f"{self.loop_seconds} s loop (at most {_MAX_LOOP_SECONDS})"
            )
        if self.channels not in (1, 2):
            raise AudioError(f"{self.channels} channels: only mono and stereo are encoded")
        if not 16 <= self.bitrate_kbps <= 320:
            raise AudioError(f"AAC bitrate {self.bitrate_kbps} kbit/s is not in [16, 320]")
        if not 0 < self.tone_hz < self.sample_rate / 2:
            raise AudioError(f"tone {self.tone_hz} Hz is not below half the sample rate")
        if not 0 < self.beep_seconds < 1:
            raise AudioError(f"beep length {self.beep_seconds} s is not in (0, 1)")
        if not 0 < self.level <= 1:
            raise AudioError(f"beep level {self.level} is not in (0, 1]")

    @property
    def loop_samples(self) -> int:
        """Samples in the loop: the least multiple of both a frame and a second."""
        return math.lcm(AAC_FRAME_SAMPLES, self.sample_rate)

    @property
    def loop_seconds(self) -> int:
        return self.loop_samples // self.sample_rate

    @property
    def loop_frames(self) -> int:
        return self.loop_samples // AAC_FRAME_SAMPLES


@dataclass(frozen=True, slots=True)
class AudioLoop:
    """A playable AAC loop: raw frames (no ADTS header) whose frame 0 starts a second."""

    description: AudioDescription
    frames: tuple[bytes, ...]
    settings: AudioSettings

    @property
    def frame_seconds(self) -> float:
        return AAC_FRAME_SAMPLES / self.description.sample_rate

    @property
    def size(self) -> int:
        """Bytes of AAC in the loop."""
        return sum(len(frame) for frame in self.frames)


def audio_specific_config(sample_rate: int, channels: int) -> bytes:
    """The two-byte AudioSpecificConfig of AAC-LC (object type 2), 1024-sample frames.

    FFmpeg's encoder appends an explicit "no SBR" extension (5 bytes in all);
    the plain form is what cameras send and every decoder reads.
    """
    index = _AAC_RATES.index(sample_rate)
    # audioObjectType(5) samplingFrequencyIndex(4) channelConfiguration(4)
    # then GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag, all 0.
    return ((2 << 11) | (index << 7) | (channels << 3)).to_bytes(2, "big")


def _pcm(settings: AudioSettings) -> array[float]:
    """One loop of float samples: a beep at the start of every second, silence between."""
    rate = settings.sample_rate
    step = 2 * math.pi * settings.tone_hz / rate
    # The sine starts at phase 0: no step at the onset, which stays sample-exact.
    length = round(settings.beep_seconds * rate)
    beep = array("f", (settings.level * math.sin(step * i) for i in range(length)))
    second = beep + array("f", bytes(4 * (rate - len(beep))))
    return second * settings.loop_seconds


def encode_audio_loop_blocking(settings: AudioSettings) -> AudioLoop:
    """Encode one loop (blocks for a fraction of a second: call it in a worker thread)."""
    rate, size = settings.sample_rate, AAC_FRAME_SAMPLES
    pcm = _pcm(settings)
    # Two frames of the loop's end before it and two of its start after it:
    # the kept frames' windows then overlap the loop's own neighbours (module doc).
    preroll = 2 * size
    signal = pcm[-preroll:] + pcm + pcm[:preroll]
    layout = "mono" if settings.channels == 1 else "stereo"
    try:
        codec = av.CodecContext.create("aac", "w")
        assert isinstance(codec, AudioCodecContext)
        codec.sample_rate = rate
        codec.layout = layout
        codec.format = "fltp"
        codec.bit_rate = settings.bitrate_kbps * 1000
        codec.time_base = Fraction(1, rate)
        codec.open()
        packets: dict[int, bytes] = {}
        for start in range(0, len(signal), size):
            frame = av.audio.frame.AudioFrame(format="fltp", layout=layout, samples=size)
            chunk = signal[start : start + size].tobytes()
            for plane in frame.planes:
                plane.update(chunk)
            frame.sample_rate = rate
            frame.pts = start
            for packet in codec.encode(frame):
                if packet.pts is not None:
                    packets[packet.pts] = bytes(packet)
        for packet in codec.encode(None):
            if packet.pts is not None:
                packets[packet.pts] = bytes(packet)
        extradata = bytes(codec.extradata or b"")
    except (av.FFmpegError, ValueError) as exc:
        raise AudioError(f"the aac encoder failed for {settings}: {exc}") from exc
    config = audio_specific_config(rate, settings.channels)
    if extradata[:2] != config:
        raise AudioError(
            f"the aac encoder's AudioSpecificConfig {extradata.hex()} is not "
            f"AAC-LC {rate} Hz {layout} ({config.hex()})"
        )
    # The packet stamped p decodes to input samples [p, p + 1024).
    starts = range(preroll, preroll + settings.loop_samples, size)
    missing = [pts for pts in starts if pts not in packets]
    if missing:
        raise AudioError(f"the aac encoder gave no packet for samples {missing[:3]}")
    return AudioLoop(
        description=AudioDescription(
            codec="AAC", sample_rate=rate, channels=settings.channels, config=config
        ),
        frames=tuple(packets[pts] for pts in starts),
        settings=settings,
    )


_cache: dict[AudioSettings, AudioLoop] = {}
_cache_lock = threading.Lock()


def cached_audio_loop(settings: AudioSettings) -> AudioLoop:
    """:func:`encode_audio_loop_blocking`, once per settings for the whole process.

    The lock is held while encoding, so concurrent devices wait for one encode
    (a few tens of milliseconds) instead of each running their own.
    """
    with _cache_lock:
        loop = _cache.get(settings)
        if loop is None:
            loop = _cache[settings] = encode_audio_loop_blocking(settings)
        return loop


async def encode_audio_loop(settings: AudioSettings | None = None) -> AudioLoop:
    """The loop for ``settings`` (default: :class:`AudioSettings`), encoded in a
    worker thread and cached. Raises :class:`AudioError`."""
    return await asyncio.to_thread(cached_audio_loop, settings or AudioSettings())


# --- playing --------------------------------------------------------------------------


class AudioLoopStream:
    """Plays an :class:`AudioLoop` live on the wall clock (an ``AudioStream``).

    Frame ``g`` (from the Unix epoch) is sent when ``clock`` reaches its
    ``wallclock``, ``g * 1024 / sample_rate``; ``timestamp`` counts 1024 per
    frame from the first frame sent, across loop wrap-arounds and pauses (a
    pause, or a stall of over a second, leaves a gap as long as it lasted, as
    lost packets do; a clock set back keeps it growing by 1024). One event-loop
    timer, running only while someone subscribes. A subscriber joins at the
    frame playing now and has a bounded queue of ``queue_size`` frames; when
    it falls behind it loses the oldest.
    """

    def __init__(
        self, loop: AudioLoop, *, clock: Clock | None = None, queue_size: int | None = None
    ) -> None:
        self._loop = loop
        self._clock: Clock = clock or SystemClock()
        self._queue_size = queue_size or DEFAULT_AUDIO_QUEUE
        self._rate = loop.description.sample_rate
        self._subscribers: set[DropOldestQueue[AudioFrame]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._next = 0  # the epoch frame number the timer sends next
        self._last: int | None = None  # the last frame number sent
        self._last_ts = 0
        self.sent = 0  # frames sent since creation (for tests and stats)

    @property
    def audio(self) -> AudioDescription:
        return self._loop.description

    @property
    def loop(self) -> AudioLoop:
        return self._loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def playing(self) -> bool:
        """Whether the frame timer runs (exactly while someone subscribes)."""
        return self._timer is not None

    @property
    def closed(self) -> bool:
        return self._closed

    async def subscribe_audio(self) -> AsyncGenerator[AudioFrame, None]:
        """AAC frames from the one playing now on, until :meth:`close`.

        Stop early with ``aclose()`` (or ``contextlib.aclosing``) so the queue,
        and the timer with the last subscriber, go at once.
        """
        if self._closed:
            return
        subscriber: DropOldestQueue[AudioFrame] = DropOldestQueue(self._queue_size)
        self._subscribers.add(subscriber)
        self._start()
        try:
            while True:
                frame = await subscriber.queue.get()
                if frame is None:
                    return
                yield frame
        finally:
            self._subscribers.discard(subscriber)
            if not self._subscribers:
                self._pause()

    def close(self) -> None:
        """Stop the timer and end every subscription. Idempotent."""
        self._closed = True
        self._pause()
        for subscriber in self._subscribers:
            subscriber.offer(None)

    def _frame_at(self, wall: float) -> int:
        """The number of the frame playing at Unix time ``wall``."""
        return math.floor(wall * self._rate / AAC_FRAME_SAMPLES)

    def _wallclock(self, number: int) -> float:
        # Integer product, one rounding: a frame starting a second gets it exactly.
        return number * AAC_FRAME_SAMPLES / self._rate

    def _start(self) -> None:
        if self._timer is not None or self._closed:
            return
        wall = self._clock.now().timestamp()
        now = self._frame_at(wall)
        # A quick re-subscribe must not send the last frame again.
        self._next = now if self._last is None else max(now, self._last + 1)
        self._schedule(wall)

    def _pause(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self, wall: float) -> None:
        delay = max(0.0, self._wallclock(self._next) - wall)
        self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        wall = self._clock.now().timestamp()
        number = self._next
        if abs(wall - self._wallclock(number)) > _RESYNC_SECONDS:
            number = self._frame_at(wall)  # stalled, or the clock was set: rejoin it
        last = self._last
        if last is None:
            timestamp = 0
        elif number > last:
            timestamp = self._last_ts + (number - last) * AAC_FRAME_SAMPLES
        else:  # the clock went back: timestamps still only grow
            timestamp = self._last_ts + AAC_FRAME_SAMPLES
        frames = self._loop.frames
        frame = AudioFrame(
            data=frames[number % len(frames)],
            timestamp=timestamp,
            wallclock=self._wallclock(number),
        )
        self._last, self._last_ts, self._next = number, timestamp, number + 1
        self.sent += 1
        for subscriber in self._subscribers:
            subscriber.offer(frame)
        self._schedule(wall)
