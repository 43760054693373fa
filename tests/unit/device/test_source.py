"""The test-pattern source: settings, the encoded loop, and live playing to subscribers.

No sockets. Streams play at real time, so the loops here are tiny (160x96,
50 fps, a 0.2 s GOP, 0.4 s per loop) to keep each test well under a second or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator

import av
import pytest

from platonicam.device.source import (
    EncoderSettings,
    SourceError,
    TestPatternStream,
    VideoProfile,
    encode_loop,
    encode_loop_blocking,
    is_idr,
    nal_type,
    split_annexb,
)
from platonicam.rtsp.sei import parse_latency_sei
from platonicam.rtsp.stream import AccessUnit, VideoCodec
from tests.conftest import FakeClock

FPS = 50
GOP = 10
TICKS = 90_000 // FPS  # 1800 ticks of the 90 kHz clock per frame

SMALL = EncoderSettings(
    codec=VideoCodec.H264,
    width=160,
    height=96,
    fps=FPS,
    bitrate_kbps=200,
    gop=GOP,
    profile=VideoProfile.BASELINE,
    loop_seconds=0.4,
)


async def take(units: AsyncGenerator[AccessUnit, None], count: int) -> list[AccessUnit]:
    out: list[AccessUnit] = []
    async with contextlib.aclosing(units):
        async for unit in units:
            out.append(unit)
            if len(out) == count:
                break
    return out


def picture_size(units: list[AccessUnit], codec: VideoCodec) -> tuple[int, int]:
    """Decode with PyAV (an independent decoder) and return the first picture's size."""
    decoder = av.CodecContext.create("h264" if codec is VideoCodec.H264 else "hevc", "r")
    data = b"".join(b"\x00\x00\x00\x01" + nal for unit in units for nal in unit.nal_units)
    frames = decoder.decode(av.Packet(data)) + decoder.decode(None)
    assert frames, "nothing decoded"
    return frames[0].width, frames[0].height


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "frames"),
    [
        (EncoderSettings(fps=25, gop=50), 100),  # two GOPs of 2 s
        (EncoderSettings(fps=25, gop=25), 100),  # two 1 s GOPs < 4 s: four GOPs
        (EncoderSettings(fps=30, gop=150), 300),  # two 5 s GOPs
        (SMALL, 20),
        (EncoderSettings(fps=50, gop=10, loop_seconds=0.3), 20),  # rounded up to whole GOPs
        (EncoderSettings(fps=50, gop=10, loop_seconds=0.01), 10),  # at least one GOP
    ],
)
def test_loop_length_is_whole_gops(settings: EncoderSettings, frames: int) -> None:
    assert settings.loop_frames == frames


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 161}, "resolution 161x96 is not even"),
        ({"height": 8}, "resolution 160x8 is not even and >= 16"),
        ({"fps": 0}, "frame rate 0 is not in"),
        ({"gop": 0}, "GOP length 0"),
        ({"bitrate_kbps": 8}, "bitrate 8 kbit/s"),
        ({"profile": VideoProfile.MAIN10}, "profile Main10 is not a H264 profile"),
        ({"codec": VideoCodec.H265}, "profile Baseline is not a H265 profile"),
        ({"loop_seconds": 0.0}, "loop length 0.0 s"),
    ],
)
def test_invalid_settings_are_refused(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "codec": SMALL.codec,
        "width": SMALL.width,
        "height": SMALL.height,
        "fps": SMALL.fps,
        "bitrate_kbps": SMALL.bitrate_kbps,
        "gop": SMALL.gop,
        "profile": SMALL.profile,
        "loop_seconds": SMALL.loop_seconds,
    }
    values.update(changes)
    with pytest.raises(SourceError, match=message):
        EncoderSettings(**values)  # type: ignore[arg-type]


# --- Annex B --------------------------------------------------------------------------


def test_split_annexb_handles_both_start_codes_and_trailing_zeros() -> None:
    stream = b"\x00\x00\x00\x01\x67\x42\x00\x00\x01\x68\xce\x00\x00\x00\x00\x01\x65\x88\x00"
    assert split_annexb(stream) == [b"\x67\x42", b"\x68\xce", b"\x65\x88"]
    assert split_annexb(b"no start code") == []


# --- the encoded loop -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "profile", "parameter_set_types"),
    [
        (VideoCodec.H264, VideoProfile.HIGH, [7, 8]),
        (VideoCodec.H265, VideoProfile.MAIN, [32, 33, 34]),
    ],
)
def test_loop_has_one_idr_per_gop_and_parameter_sets(
    codec: VideoCodec, profile: VideoProfile, parameter_set_types: list[int]
) -> None:
    settings = EncoderSettings(
        codec=codec, width=160, height=96, fps=FPS, gop=GOP, profile=profile, loop_seconds=0.4
    )
    loop = encode_loop_blocking(settings, "unit")
    assert (loop.codec, loop.width, loop.height, loop.gop) == (codec, 160, 96, GOP)
    assert len(loop.frames) == 20
    assert [nal_type(ps, codec) for ps in loop.parameter_sets] == parameter_set_types
    for index, frame in enumerate(loop.frames):
        idrs = [nal for nal in frame.nal_units if is_idr(nal, codec)]
        assert frame.keyframe is (index % GOP == 0)
        assert bool(idrs) is frame.keyframe
        # The SEI goes before the first slice, after the parameter sets.
        vcl_types = [nal_type(nal, codec) for nal in frame.nal_units[frame.first_vcl :]]
        assert vcl_types
        assert all(t <= (5 if codec is VideoCodec.H264 else 31) for t in vcl_types)
        header_types = [nal_type(nal, codec) for nal in frame.nal_units[: frame.first_vcl]]
        if frame.keyframe:
            # repeat-headers: every IDR carries its parameter sets in band.
            assert set(parameter_set_types) <= set(header_types)
    assert picture_size(
        [AccessUnit(f.nal_units, 0, f.keyframe, 0.0) for f in loop.frames], codec
    ) == (160, 96)


async def test_encode_loop_is_cached_and_shared_by_concurrent_callers() -> None:
    settings = EncoderSettings(
        width=176, height=144, fps=FPS, gop=GOP, bitrate_kbps=100, loop_seconds=0.2
    )
    loops = await asyncio.gather(*(encode_loop(settings, "shared") for _ in range(8)))
    assert all(loop is loops[0] for loop in loops)
    assert await encode_loop(settings, "shared") is loops[0]
    # Another label is another picture.
    assert await encode_loop(settings, "other") is not loops[0]


async def test_fifty_devices_with_one_profile_share_one_loop() -> None:
    settings = EncoderSettings(width=128, height=72, fps=FPS, gop=GOP, loop_seconds=0.2)
    streams = await asyncio.gather(
        *(TestPatternStream.create(settings, "bench") for _ in range(50))
    )
    parameter_sets = {id(stream.description.parameter_sets) for stream in streams}
    assert len(parameter_sets) == 1
    for stream in streams:
        stream.close()


# --- playing --------------------------------------------------------------------------


async def test_subscribers_get_identical_units_from_a_keyframe_with_sei(
    fake_clock: FakeClock,
) -> None:
    stream = await TestPatternStream.create(SMALL, "fan-out", clock=fake_clock)
    results = await asyncio.gather(*(take(stream.subscribe(), 25) for _ in range(4)))
    stream.close()
    first = results[0]
    assert all(other == first for other in results[1:])
    assert all(a is b for other in results[1:] for a, b in zip(first, other, strict=True))
    assert first[0].keyframe
    assert [u.keyframe for u in first].count(True) == 3  # 25 frames, GOP 10
    for unit in first:
        seis = [parse_latency_sei(nal, VideoCodec.H264) for nal in unit.nal_units]
        stamps = [s for s in seis if s is not None]
        assert stamps == [fake_clock.now().timestamp()] == [unit.wallclock]
        # Right before the first slice.
        sei_at = seis.index(stamps[0])
        assert nal_type(unit.nal_units[sei_at + 1], VideoCodec.H264) in (1, 5)
        assert all(nal_type(n, VideoCodec.H264) not in (1, 5) for n in unit.nal_units[:sei_at])


async def test_timestamps_grow_evenly_across_loop_restarts() -> None:
    stream = await TestPatternStream.create(SMALL, "timestamps")
    units = await take(stream.subscribe(), 50)  # two and a half loops of 20 frames
    stream.close()
    steps = {b.timestamp - a.timestamp for a, b in itertools.pairwise(units)}
    assert steps == {TICKS}
    keyframes = [i for i, unit in enumerate(units) if unit.keyframe]
    assert keyframes == [0, 10, 20, 30, 40]
    # The loop really restarted: the same coded picture came back, later in time.
    loop_start = [u for u in units if u.nal_units[-1] == units[0].nal_units[-1]]
    assert len(loop_start) == 3
    assert loop_start[1].timestamp - loop_start[0].timestamp == 20 * TICKS
    # Frames are sent at the frame rate (wall clock stamps 20 ms apart on average).
    duration = units[-1].wallclock - units[0].wallclock
    assert duration == pytest.approx(49 / FPS, abs=0.1)


async def test_a_slow_subscriber_skips_to_a_keyframe_and_others_are_unaffected() -> None:
    stream = await TestPatternStream.create(SMALL, "slow", queue_size=4)
    slow = stream.subscribe()
    slow_first = await anext(slow)
    fast_task = asyncio.create_task(take(stream.subscribe(), 40))
    await asyncio.sleep(0.5)  # 25 frames pass; the slow queue holds 4
    slow_rest = [await anext(slow) for _ in range(12)]
    fast = await fast_task
    await slow.aclose()
    stream.close()

    assert {b.timestamp - a.timestamp for a, b in itertools.pairwise(fast)} == {TICKS}
    assert slow_first.keyframe
    # After the stall the slow one resumes at a keyframe, far ahead of where it was...
    assert slow_rest[0].keyframe
    assert slow_rest[0].timestamp - slow_first.timestamp >= 20 * TICKS
    # ...and from there it gets every unit the fast one got.
    fast_by_ts = {unit.timestamp: unit for unit in fast}
    later = [u for u in slow_rest if u.timestamp in fast_by_ts]
    assert later
    assert all(fast_by_ts[u.timestamp] is u for u in later)
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(slow_rest)]
    for gap, unit in zip(gaps, slow_rest[1:], strict=True):
        assert gap == TICKS or unit.keyframe  # a jump only ever lands on a keyframe


async def test_reconfigure_switches_at_an_idr_with_a_new_description() -> None:
    stream = await TestPatternStream.create(SMALL, "reconf")
    before = stream.description
    subscription = stream.subscribe()
    old = [await anext(subscription) for _ in range(5)]
    bigger = EncoderSettings(
        codec=VideoCodec.H265,
        width=192,
        height=108,
        fps=25,
        bitrate_kbps=300,
        gop=5,
        profile=VideoProfile.MAIN,
        loop_seconds=0.4,
    )
    await stream.reconfigure(bigger)
    after = stream.description
    assert (before.generation, before.codec, before.width, before.height) == (
        0,
        VideoCodec.H264,
        160,
        96,
    )
    assert (after.generation, after.codec, after.width, after.height, after.fps) == (
        1,
        VideoCodec.H265,
        192,
        108,
        25,
    )
    assert after.bitrate_kbps == 300
    assert [nal_type(ps, VideoCodec.H265) for ps in after.parameter_sets] == [32, 33, 34]
    units = [await anext(subscription) for _ in range(12)]
    await subscription.aclose()
    stream.close()
    switched = next(i for i, unit in enumerate(units) if unit.generation == 1)
    new = units[switched:]
    assert all(unit.generation == 0 for unit in units[:switched])
    assert new[0].keyframe
    assert [unit.keyframe for unit in new[:6]] == [True, False, False, False, False, True]
    assert picture_size(new, VideoCodec.H265) == (192, 108)
    # Timestamps keep growing through the switch, at the new rate after it.
    all_units = old + units
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(all_units))
    assert {b.timestamp - a.timestamp for a, b in itertools.pairwise(new)} == {90_000 // 25}
    # Unchanged settings: nothing happens.
    await stream.reconfigure(bigger)
    assert stream.description is after


async def test_close_ends_every_subscription() -> None:
    stream = await TestPatternStream.create(SMALL, "close")

    async def drain() -> int:
        return sum([1 async for _ in stream.subscribe()])

    tasks = [asyncio.create_task(drain()) for _ in range(3)]
    await asyncio.sleep(0.15)
    stream.close()
    counts = await asyncio.wait_for(asyncio.gather(*tasks), timeout=1)
    assert all(count >= 1 for count in counts)
    assert stream.subscriber_count == 0
    assert not stream.playing
    assert [unit async for unit in stream.subscribe()] == []


async def test_the_timer_stops_without_subscribers_and_time_keeps_counting() -> None:
    stream = await TestPatternStream.create(SMALL, "idle")
    assert not stream.playing
    first = await take(stream.subscribe(), 3)
    assert stream.subscriber_count == 0
    assert not stream.playing
    await asyncio.sleep(0.3)
    second = await take(stream.subscribe(), 3)
    stream.close()
    assert first[0].timestamp == 0
    # The pause shows in the timestamps: about 0.3 s (plus the wait for a keyframe).
    assert second[0].timestamp - first[-1].timestamp >= 0.3 * 90_000
    assert second[0].keyframe


async def test_current_gop_runs_from_a_keyframe_to_now_even_when_idle() -> None:
    stream = await TestPatternStream.create(SMALL, "gop")
    gop = stream.current_gop()
    assert gop[0].keyframe
    assert 1 <= len(gop) <= GOP
    assert not any(unit.keyframe for unit in gop[1:])
    await asyncio.sleep(0.1)  # five frames of real time later the position has moved
    assert stream.current_gop() != gop
    stream.close()
