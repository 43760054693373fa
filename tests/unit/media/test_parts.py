"""The partitioner: parts of the target duration, segments at keyframes, numbering, timing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platonicam.media.errors import MuxError
from platonicam.media.hls import Playlist
from platonicam.media.parts import Part, Partitioner, choose_part_target
from platonicam.rtsp.stream import AccessUnit, VideoCodec
from tests.unit.media.encoded import encode


def units(timestamps: list[int], keyframes: set[int], generation: int = 0) -> list[AccessUnit]:
    return [
        AccessUnit((bytes([0x65 if i in keyframes else 0x41, i % 256]),), ts, i in keyframes,
                   1_000.0 + ts / 90_000, generation)
        for i, ts in enumerate(timestamps)
    ]  # fmt: skip


def run(partitioner: Partitioner, stream: list[AccessUnit]) -> list[Part]:
    parts = [part for unit in stream for part in partitioner.push(unit)]
    return parts + partitioner.flush()


def layout(parts: list[Part]) -> list[tuple[int, int, int, bool, bool]]:
    return [(p.media_sequence, p.index, len(p.units), p.independent, p.ends_segment) for p in parts]


@pytest.mark.parametrize(
    ("fps", "ticks"),
    [(25, 19_800), (30, 19_500), (29.97, 19_520), (15, 21_000), (10, 22_500), (2, 67_500)],
)
def test_part_target_is_whole_frames_plus_half_a_frame(fps: float, ticks: int) -> None:
    assert choose_part_target(fps) == ticks


def test_part_target_needs_a_positive_rate() -> None:
    with pytest.raises(MuxError, match=r"^cannot choose a part target for 0 frames per second$"):
        choose_part_target(0)


def test_real_stream_parts_and_segments() -> None:
    _, stream = encode(VideoCodec.H264, frames=100, gop=25)
    partitioner = Partitioner(part_target=19_800, segment_target=180_000, frame_duration=3600)
    parts = run(partitioner, list(stream))
    # Two-second segments of two one-second GOPs, 0.2 s parts, a keyframe part every 5.
    expected = []
    for msn in range(2):
        for index in range(10):
            expected.append((msn, index, 5, index % 5 == 0, index == 9))
    assert layout(parts) == expected
    assert [p.sequence_number for p in parts] == list(range(1, 21))
    assert all(p.duration == 18_000 <= partitioner.part_target for p in parts)
    assert [p.decode_time for p in parts] == [18_000 * i for i in range(20)]
    assert partitioner.media_sequence == 2
    # Every keyframe starts a part; no part holds one anywhere else.
    for part in parts:
        assert [t.unit.keyframe for t in part.units[1:]] == [False] * 4


def test_segment_waits_for_the_next_keyframe_with_a_long_gop() -> None:
    # 10 fps, keyframe every 4 s, 1 s segment target: segments follow the GOP.
    stream = units([9000 * i for i in range(81)], {0, 40, 80})
    partitioner = Partitioner(part_target=22_500, segment_target=90_000, frame_duration=9000)
    parts = run(partitioner, stream)
    segments = [p for p in parts if p.ends_segment]
    # Two-frame parts; the last unit, flushed, makes a segment of its own.
    assert [(p.media_sequence, p.index) for p in segments] == [(0, 19), (1, 19), (2, 0)]
    assert sum(p.duration for p in parts if p.media_sequence == 0) == 360_000
    assert [p.independent for p in parts if p.index == 0] == [True, True, True]


def test_max_segment_splits_a_long_gop_at_a_part_boundary() -> None:
    stream = units([9000 * i for i in range(80)], {0})
    partitioner = Partitioner(
        part_target=22_500, segment_target=90_000, frame_duration=9000, max_segment=180_000
    )
    parts = run(partitioner, stream)
    first_parts = [p for p in parts if p.index == 0]
    assert [p.media_sequence for p in first_parts] == [0, 1, 2, 3]
    # Only the first segment starts with a keyframe; the forced ones do not.
    assert [p.independent for p in first_parts] == [True, False, False, False]
    for msn in range(4):
        assert sum(p.duration for p in parts if p.media_sequence == msn) == 180_000


def test_units_before_the_first_keyframe_are_dropped_and_time_starts_there() -> None:
    stream = units([1000 + 3600 * i for i in range(12)], {3, 8})
    parts = run(Partitioner(part_target=18_000, segment_target=18_000, frame_duration=3600), stream)
    assert parts[0].units[0].unit is stream[3]
    assert parts[0].decode_time == 0
    assert layout(parts) == [(0, 0, 5, True, True), (1, 0, 4, True, True)]


def test_jittery_camera_timestamps_keep_parts_under_target_and_time_continuous() -> None:
    # 29.97 fps from a capture clock: 3003 ticks give or take a few.
    jitter = [0, 4, -3, 2, -5, 1]
    stamps = [3003 * i + jitter[i % len(jitter)] for i in range(120)]
    stream = units(stamps, {0, 60})
    target = choose_part_target(29.97)
    parts = run(Partitioner(part_target=target, segment_target=90_000, frame_duration=3003), stream)
    assert all(p.duration <= target for p in parts)
    assert all(p.duration >= 0.85 * target for p in parts[:-1] if not p.ends_segment)
    assert [len(p.units) for p in parts[:3]] == [6, 6, 6]
    clock = 0
    for part in parts:
        for timed in part.units:
            assert timed.decode_time == clock
            assert timed.duration > 0
            clock += timed.duration
    assert [p.media_sequence for p in parts if p.independent] == [0, 1]


def test_a_timestamp_that_does_not_advance_is_nudged_forward() -> None:
    stream = units([0, 3600, 3600, 10_800, 14_400], {0})
    parts = run(Partitioner(part_target=90_000, segment_target=90_000, frame_duration=3600), stream)
    (part,) = parts
    assert [(t.decode_time, t.duration) for t in part.units] == [
        (0, 3600), (3600, 1), (3601, 7199), (10_800, 3600), (14_400, 3600),
    ]  # fmt: skip


def test_a_longer_frame_than_expected_closes_the_part_before_it() -> None:
    # Four 0.05 s frames, then one of 0.15 s: it does not fit the 0.22 s part.
    stream = units([0, 4500, 9000, 13_500, 18_000, 31_500, 36_000], {0})
    parts = run(Partitioner(part_target=19_800, segment_target=90_000, frame_duration=4500), stream)
    assert [len(p.units) for p in parts] == [4, 1, 2]
    assert all(p.duration <= 19_800 for p in parts)


def test_generation_change_is_refused() -> None:
    partitioner = Partitioner(part_target=19_800, segment_target=90_000, frame_duration=3600)
    partitioner.push(units([0], {0})[0])
    with pytest.raises(MuxError, match=r"^unit of generation 1 pushed into generation 0$"):
        partitioner.push(units([3600], {0}, generation=1)[0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"part_target": 0, "segment_target": 90_000, "frame_duration": 3600},
        {"part_target": 20_000, "segment_target": 10_000, "frame_duration": 3600},
        {"part_target": 20_000, "segment_target": 90_000, "frame_duration": 3600,
         "max_segment": 80_000},
    ],
)  # fmt: skip
def test_bad_configuration_is_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(MuxError):
        Partitioner(**kwargs)


def test_first_media_sequence_and_flush_on_empty() -> None:
    partitioner = Partitioner(
        part_target=19_800, segment_target=90_000, frame_duration=3600, first_media_sequence=41
    )
    assert partitioner.flush() == []
    parts = run(partitioner, units([0, 3600], {0}))
    assert layout(parts) == [(41, 0, 2, True, True)]
    assert partitioner.media_sequence == 42


@given(
    steps=st.lists(st.integers(min_value=-100, max_value=12_000), min_size=1, max_size=200),
    keyframe_flags=st.lists(st.booleans(), min_size=200, max_size=200),
    part_target=st.integers(min_value=10_000, max_value=30_000),
)
def test_partitioner_invariants(
    steps: list[int], keyframe_flags: list[bool], part_target: int
) -> None:
    stamps = [0]
    for step in steps:
        stamps.append(stamps[-1] + step)  # steps may be zero or negative: camera glitches
    keyframes = {0} | {i for i, flag in enumerate(keyframe_flags[: len(stamps)]) if flag}
    stream = units(stamps, keyframes)
    partitioner = Partitioner(part_target=part_target, segment_target=90_000, frame_duration=3600)
    parts = run(partitioner, stream)
    # Nothing lost, nothing reordered.
    assert [t.unit for p in parts for t in p.units] == stream
    clock = 0
    position = (0, 0)
    for number, part in enumerate(parts, start=1):
        assert part.sequence_number == number
        assert (part.media_sequence, part.index) == position
        position = (part.media_sequence + 1, 0) if part.ends_segment else (
            part.media_sequence, part.index + 1)  # fmt: skip
        assert part.duration <= part_target or len(part.units) == 1
        assert part.independent == part.units[0].unit.keyframe
        assert not any(t.unit.keyframe for t in part.units[1:])
        if part.index == 0:
            assert part.independent
        for timed in part.units:
            assert (timed.decode_time, timed.duration > 0) == (clock, True)
            clock += timed.duration
    assert parts[-1].ends_segment
    # The playlist model accepts the same parts, in order.
    longest = max(
        sum(p.duration for p in parts if p.media_sequence == msn)
        for msn in {p.media_sequence for p in parts}
    )
    playlist = Playlist(
        target_duration=max(1, round(longest / 90_000 + 0.5)),
        part_target=max(part_target, max(p.duration for p in parts)),
    )
    for part in parts:
        playlist.add_part(part.media_sequence, part.index, part.duration,
                          independent=part.independent, ends_segment=part.ends_segment,
                          wallclock=part.wallclock)  # fmt: skip
    assert playlist.last_part == (parts[-1].media_sequence, parts[-1].index)
