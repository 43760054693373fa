"""The device's AAC beep: the encoded loop, decoded back by PyAV, and its live pacing.

No sockets. The loop is decoded with FFmpeg's own ``aac`` decoder (independent
of how it was cut). Pacing tests play at real time for well under a second,
except one that waits for a whole second of the wall clock to hear its beep;
a clock set just before a loop boundary (an injected :class:`Clock`) shows
the wrap without waiting 8 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from array import array
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import av
import pytest

from platonicam.device.audio import (
    AudioError,
    AudioLoop,
    AudioLoopStream,
    AudioSettings,
    audio_specific_config,
    cached_audio_loop,
    encode_audio_loop,
)
from platonicam.device.source import EncoderSettings, TestPatternStream, VideoProfile
from platonicam.rtsp.stream import AudioFrame, AudioStream, VideoCodec

RATE = 48_000
FRAME = 1024
FRAME_SECONDS = FRAME / RATE
LEVEL = AudioSettings().level
# An onset is where the signal first exceeds this after 10 ms below it.
THRESHOLD = LEVEL / 5


@pytest.fixture(scope="module")
def loop() -> AudioLoop:
    return cached_audio_loop(AudioSettings())


def decode(frames: Sequence[bytes], config: bytes, channel: int = 0) -> array[float]:
    """One channel of the PCM that PyAV's aac decoder makes of raw AAC frames."""
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = config
    pcm = array("f")
    for data in frames:
        for frame in decoder.decode(av.Packet(data)):
            plane = frame.planes[channel]
            assert frame.format.name == "fltp"
            pcm.frombytes(bytes(plane)[: frame.samples * 4])
    return pcm


def onsets(pcm: Sequence[float], start: int) -> list[int]:
    """Sample indexes (from ``start``) where a beep begins after 10 ms of silence
    (the 10 ms before ``start`` count)."""
    found: list[int] = []
    quiet = 0
    for i in range(max(0, start - RATE // 100), len(pcm)):
        if i < start:
            quiet = quiet + 1 if abs(pcm[i]) <= THRESHOLD else 0
            continue
        if abs(pcm[i]) > THRESHOLD:
            if quiet >= RATE // 100:
                found.append(i)
            quiet = 0
        else:
            quiet += 1
    return found


def zero_crossings(pcm: Sequence[float]) -> int:
    return sum(1 for a, b in itertools.pairwise(pcm) if (a < 0) != (b < 0))


class ShiftedClock:
    """The system clock moved by ``offset`` seconds (a clock that was set)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic()


async def take(frames: AsyncIterator[AudioFrame], count: int) -> list[tuple[float, AudioFrame]]:
    """``count`` frames with the Unix time each arrived at."""
    out: list[tuple[float, AudioFrame]] = []
    async for frame in frames:
        out.append((time.time(), frame))
        if len(out) == count:
            break
    return out


# --- the loop -------------------------------------------------------------------------


def test_the_loop_is_eight_seconds_of_mono_aac_lc(loop: AudioLoop) -> None:
    assert len(loop.frames) == 375  # 8 s * 48000 / 1024: whole frames and whole seconds
    assert loop.description.codec == "AAC"
    assert (loop.description.sample_rate, loop.description.channels) == (48_000, 1)
    # AAC-LC (object type 2), 48 kHz (index 3), one channel.
    assert loop.description.config == bytes([0x11, 0x88]) == audio_specific_config(48_000, 1)
    assert all(not frame.startswith(b"\xff\xf1") for frame in loop.frames)  # no ADTS headers
    # Silence is cheap: the whole loop is a few tens of KB at most.
    assert 2_000 < loop.size < 80_000


def test_the_loop_decodes_to_a_beep_at_every_second_and_wraps_seamlessly(
    loop: AudioLoop,
) -> None:
    # Played twice in a row, after the loop's last frame (what a decoder joining
    # mid-stream has seen), so the wrap between the passes is exercised.
    decoded = decode([loop.frames[-1], *loop.frames, *loop.frames], loop.description.config)
    assert len(decoded) == FRAME + 2 * 8 * RATE
    found = [i - FRAME for i in onsets(decoded, start=FRAME)]
    pcm = decoded[FRAME:]  # after the lead-in frame
    # Sixteen beeps, each within a millisecond of its whole second (the sine
    # starts at phase 0, so the threshold is crossed a sample or two late).
    assert len(found) == 16
    for second, onset in enumerate(found):
        assert abs(onset - second * RATE) <= RATE // 1000, (second, onset)
    for second in range(16):
        start = second * RATE
        beep = pcm[start : start + RATE // 10]
        assert max(abs(x) for x in beep) == pytest.approx(LEVEL, rel=0.1)
        # 1 kHz: 2 crossings a millisecond over the steady middle 60 ms.
        middle = pcm[start + RATE // 50 : start + RATE // 50 + 60 * RATE // 1000]
        assert zero_crossings(middle) == pytest.approx(120, abs=3)
        # 100 ms long, then silence until the next second.
        after = pcm[start + RATE // 10 + RATE // 100 : start + RATE - RATE // 40]
        assert max(abs(x) for x in after) < 0.01


def test_stereo_carries_the_beep_on_both_channels() -> None:
    stereo = cached_audio_loop(AudioSettings(channels=2, bitrate_kbps=96))
    assert stereo.description.channels == 2
    assert stereo.description.config == bytes([0x11, 0x90])
    frames = [stereo.frames[-1], *stereo.frames[:60]]  # the first second and a bit
    for channel in (0, 1):
        pcm = decode(frames, stereo.description.config, channel)
        found = [i - FRAME for i in onsets(pcm, start=FRAME)]
        assert len(found) == 2
        assert abs(found[0]) <= RATE // 1000
        assert abs(found[1] - RATE) <= RATE // 1000


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sample_rate": 44_100}, "needs a 256 s loop"),
        ({"sample_rate": 47_000}, "not an AAC rate"),
        ({"channels": 6}, "only mono and stereo"),
        ({"bitrate_kbps": 8}, "not in \\[16, 320\\]"),
        ({"tone_hz": 30_000.0}, "below half the sample rate"),
        ({"beep_seconds": 1.5}, "beep length"),
    ],
)
def test_settings_a_loop_cannot_have_are_refused(settings: dict[str, float], message: str) -> None:
    with pytest.raises(AudioError, match=message):
        AudioSettings(**settings)  # type: ignore[arg-type]


async def test_the_encode_is_shared() -> None:
    first, second = await asyncio.gather(encode_audio_loop(), encode_audio_loop())
    assert first is second is cached_audio_loop(AudioSettings())


# --- playing --------------------------------------------------------------------------


async def test_frames_follow_the_wall_clock_from_now_with_continuous_timestamps(
    loop: AudioLoop,
) -> None:
    stream = AudioLoopStream(loop)
    frames = stream.subscribe_audio()
    before = time.time()
    first = await anext(frames)
    after = time.time()
    rest = await take(frames, 30)
    await frames.aclose()
    stream.close()
    # The first frame is the one playing when the subscription started.
    assert before - FRAME_SECONDS - 0.001 <= first.wallclock <= after
    assert first.timestamp == 0
    for k, (arrived, frame) in enumerate(rest, start=1):
        assert frame.timestamp == k * FRAME
        assert frame.wallclock == pytest.approx(first.wallclock + k * FRAME_SECONDS, abs=1e-6)
        # Sent when due: never early (beyond timer rounding), late only by load.
        assert frame.wallclock - 0.005 <= arrived <= frame.wallclock + 1.0
        number = round(frame.wallclock * RATE / FRAME)
        assert frame.data is loop.frames[number % len(loop.frames)]


async def test_the_beep_starts_on_a_whole_second_of_the_wall_clock(loop: AudioLoop) -> None:
    stream = AudioLoopStream(loop)
    received: list[AudioFrame] = []
    async with contextlib.aclosing(stream.subscribe_audio()) as frames:
        async for frame in frames:
            received.append(frame)
            # Until 200 ms past the first whole second after the first frame's end.
            if frame.wallclock > math.ceil(received[0].wallclock + FRAME_SECONDS) + 0.2:
                break
    stream.close()
    assert {b.timestamp - a.timestamp for a, b in itertools.pairwise(received)} == {FRAME}
    pcm = decode([f.data for f in received], loop.description.config)
    (onset,) = onsets(pcm, start=FRAME)
    beep_at = received[0].wallclock + onset / RATE
    assert beep_at == pytest.approx(round(beep_at), abs=0.001)


async def test_timestamps_and_the_beep_run_on_across_the_loop_wrap(loop: AudioLoop) -> None:
    # A clock 150 ms before the next multiple of 8 s: the loop wraps right away.
    now = time.time()
    boundary = (math.floor(now / 8) + 2) * 8
    stream = AudioLoopStream(loop, clock=ShiftedClock(boundary - 0.15 - now))
    async with contextlib.aclosing(stream.subscribe_audio()) as frames:
        received = [frame for _, frame in await take(frames, 20)]
    stream.close()
    numbers = [round(f.wallclock * RATE / FRAME) % len(loop.frames) for f in received]
    wrap = numbers.index(0)
    assert 0 < wrap < 15
    assert numbers[wrap - 1] == len(loop.frames) - 1
    assert [f.data for f in received] == [loop.frames[n] for n in numbers]
    assert [f.timestamp for f in received] == [k * FRAME for k in range(20)]
    pcm = decode([f.data for f in received], loop.description.config)
    (onset,) = onsets(pcm, start=FRAME)
    assert received[0].wallclock + onset / RATE == pytest.approx(boundary, abs=0.001)


async def test_a_late_subscriber_starts_at_now_and_shares_the_frames(loop: AudioLoop) -> None:
    stream = AudioLoopStream(loop)
    early = stream.subscribe_audio()
    first = await anext(early)
    task = asyncio.create_task(take(early, 25))
    await asyncio.sleep(0.2)
    late = stream.subscribe_audio()
    joined = time.time()
    late_frames = [frame for _, frame in await take(late, 5)]
    early_frames = [frame for _, frame in await task]
    await late.aclose()
    await early.aclose()
    stream.close()
    assert late_frames[0].timestamp > first.timestamp + 4 * FRAME  # not from the start
    assert abs(late_frames[0].wallclock - joined) < 0.5
    by_timestamp = {frame.timestamp: frame for frame in early_frames}
    assert all(by_timestamp[frame.timestamp] is frame for frame in late_frames)


async def test_a_slow_subscriber_loses_its_oldest_frames_only(loop: AudioLoop) -> None:
    stream = AudioLoopStream(loop, queue_size=4)
    slow = stream.subscribe_audio()
    slow_first = await anext(slow)
    fast = asyncio.create_task(take(stream.subscribe_audio(), 24))
    await asyncio.sleep(0.35)  # ~16 frames pass; the slow queue keeps the newest 4
    queued = [await anext(slow) for _ in range(4)]
    following = await anext(slow)
    fast_frames = [frame for _, frame in await fast]
    await slow.aclose()
    stream.close()
    assert {b.timestamp - a.timestamp for a, b in itertools.pairwise(fast_frames)} == {FRAME}
    assert queued[0].timestamp >= slow_first.timestamp + 8 * FRAME  # the oldest went
    steps = [b.timestamp - a.timestamp for a, b in itertools.pairwise([*queued, following])]
    assert steps == [FRAME] * 4  # what it kept, and what came next, is continuous
    by_timestamp = {frame.timestamp: frame for frame in fast_frames}
    assert all(by_timestamp[f.timestamp] is f for f in queued if f.timestamp in by_timestamp)


async def test_the_timer_runs_only_while_someone_listens(loop: AudioLoop) -> None:
    stream = AudioLoopStream(loop)
    await asyncio.sleep(0.1)
    assert (stream.playing, stream.sent) == (False, 0)
    frames = stream.subscribe_audio()
    await anext(frames)
    assert stream.playing
    await frames.aclose()
    assert not stream.playing
    sent = stream.sent
    await asyncio.sleep(0.1)
    assert stream.sent == sent
    # A quick re-subscribe does not send a frame twice.
    again = stream.subscribe_audio()
    resumed = await anext(again)
    assert resumed.timestamp > 0
    # close() ends a subscription that is waiting.
    waiting = asyncio.create_task(take(again, 1000))
    await asyncio.sleep(0.05)
    stream.close()
    await asyncio.wait_for(waiting, timeout=10)
    assert not stream.playing
    assert [f async for f in stream.subscribe_audio()] == []


# --- the test pattern with sound ------------------------------------------------------

VIDEO = EncoderSettings(
    codec=VideoCodec.H264,
    width=160,
    height=96,
    fps=50,
    bitrate_kbps=200,
    gop=10,
    profile=VideoProfile.BASELINE,
    loop_seconds=0.4,
)


async def test_a_test_pattern_with_sound_is_an_audio_stream(loop: AudioLoop) -> None:
    stream = await TestPatternStream.create(VIDEO, "sound", audio=AudioSettings())
    player = stream.audio_player
    assert player is not None
    assert isinstance(stream, AudioStream)
    assert stream.audio == loop.description
    # Watching the picture does not play the sound.
    async with contextlib.aclosing(stream.subscribe()) as units:
        await anext(units)
        await anext(units)
        assert not player.playing
    frames = stream.subscribe_audio()
    frame = await anext(frames)
    assert frame.data in loop.frames
    ending = asyncio.create_task(take(frames, 1000))
    await asyncio.sleep(0.05)
    stream.close()  # ends the sound's subscriptions too
    await asyncio.wait_for(ending, timeout=10)
    assert not player.playing


async def test_a_silent_test_pattern_has_no_audio() -> None:
    stream = await TestPatternStream.create(VIDEO, "silent")
    assert stream.audio is None
    assert stream.audio_player is None
    assert [frame async for frame in stream.subscribe_audio()] == []
    stream.close()
