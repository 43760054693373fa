"""Cutting a stream of access units into LL-HLS parts and segments.

Strategy: the :class:`Partitioner` holds back exactly one access unit, because
a unit's duration is only known when the next one arrives (duration = next
decode time - this decode time, so decode times stay continuous by
construction). When a unit's duration becomes known it joins the open part;
the part is closed at once, without waiting for another frame, when the held
unit cannot join it: the held unit is a keyframe (every keyframe starts a part,
so parts marked INDEPENDENT begin with it and a new viewer starts there), or
one more frame of the last one's length would take the part past its target.
A segment ends where a part ends and the next unit is a keyframe, once the
segment has lasted its target duration; or, when ``max_segment`` is set and
the camera's GOP is longer than that, at the part boundary that keeps the
segment under it (the next segment then starts without a keyframe).

Decode times count 90 kHz ticks from the first keyframe pushed. Units before
the first keyframe are dropped: nothing before it can be decoded. A timestamp
that does not advance (a camera glitch) is nudged one tick past the previous
one instead of producing a zero or negative sample duration.

Numbering: ``sequence_number`` counts every part from 1 (it becomes the
fragment's ``mfhd`` sequence number); ``media_sequence`` is the segment's Media
Sequence Number and ``index`` the part's index within it (from 0), as the
playlist names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from platonicam.media.errors import MuxError
from platonicam.media.fmp4 import VIDEO_TRACK_ID, TrackRun, media_fragment, video_sample
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, AccessUnit, VideoCodec

__all__ = ["Part", "Partitioner", "TimedUnit", "choose_part_target"]

#: The LL-HLS part durations the gateway aims for (seconds): short enough for low
#: latency, long enough that a part is not mostly moof overhead.
PART_TARGET_RANGE: Final = (0.2, 0.333)


@dataclass(frozen=True, slots=True)
class TimedUnit:
    """An access unit placed on the output timeline (90 kHz ticks)."""

    unit: AccessUnit
    decode_time: int
    duration: int


@dataclass(frozen=True, slots=True)
class Part:
    """A run of access units that becomes one fMP4 fragment and one LL-HLS part.

    ``independent`` means the part starts with a keyframe; ``ends_segment``
    that it is the last part of its segment.
    """

    sequence_number: int
    media_sequence: int
    index: int
    units: tuple[TimedUnit, ...]
    independent: bool
    ends_segment: bool

    @property
    def decode_time(self) -> int:
        """Decode time of the first unit (90 kHz ticks)."""
        return self.units[0].decode_time

    @property
    def duration(self) -> int:
        """Sum of the units' durations (90 kHz ticks)."""
        return sum(unit.duration for unit in self.units)

    @property
    def wallclock(self) -> float:
        """Unix time at which the first unit was produced (for EXT-X-PROGRAM-DATE-TIME)."""
        return self.units[0].unit.wallclock

    def fragment(self, codec: VideoCodec) -> bytes:
        """The part as an fMP4 fragment (``moof`` + ``mdat``) of the video track."""
        samples = tuple(video_sample(timed.unit, timed.duration, codec) for timed in self.units)
        run = TrackRun(VIDEO_TRACK_ID, self.decode_time, samples)
        return media_fragment(self.sequence_number, run)


def choose_part_target(fps: float) -> int:
    """A part target (90 kHz ticks) for a stream of ``fps`` frames per second.

    The smallest whole number of frames lasting at least 200 ms, plus half a
    frame of slack so timestamp jitter from a camera's capture clock does not
    push a full part over the target (parts then fill 85 % or more of it, as
    RFC 8216bis asks). Raises :class:`MuxError` for a rate that is not positive.
    """
    if not fps > 0:
        raise MuxError(f"cannot choose a part target for {fps} frames per second")
    frames = max(1, math.ceil(PART_TARGET_RANGE[0] * fps - 1e-9))
    return round((frames + 0.5) * VIDEO_CLOCK_RATE / fps)


class Partitioner:
    """Turns access units of one stream generation into :class:`Part` objects.

    ``part_target``, ``segment_target`` and ``max_segment`` are 90 kHz ticks.
    A part never lasts longer than ``part_target`` unless a single unit does
    (choose the target with :func:`choose_part_target` so that cannot happen).
    ``frame_duration`` is the duration given to the last unit by :meth:`flush`.
    ``first_media_sequence`` is the Media Sequence Number of the first segment.
    """

    def __init__(
        self,
        *,
        part_target: int,
        segment_target: int,
        frame_duration: int,
        max_segment: int | None = None,
        first_media_sequence: int = 0,
    ) -> None:
        if part_target <= 0 or frame_duration <= 0 or segment_target < part_target:
            raise MuxError("part target, frame duration must be positive, segment >= part target")
        if max_segment is not None and max_segment < segment_target:
            raise MuxError("max_segment must be at least segment_target")
        self.part_target = part_target
        self.segment_target = segment_target
        self.max_segment = max_segment
        self.frame_duration = frame_duration
        self._base: int | None = None
        self._generation: int | None = None
        self._held: tuple[AccessUnit, int] | None = None  # (unit, decode time)
        self._open: list[TimedUnit] = []
        self._open_duration = 0
        self._segment_duration = 0  # of the open segment's closed parts
        self._next_sequence = 1
        self._media_sequence = first_media_sequence
        self._index = 0

    @property
    def media_sequence(self) -> int:
        """Media Sequence Number of the segment being filled."""
        return self._media_sequence

    def push(self, unit: AccessUnit) -> list[Part]:
        """Add the next access unit (in decode order); returns the parts it completed.

        Raises :class:`MuxError` when the unit belongs to another stream
        generation (a reconfigured stream needs a new init segment and a new
        partitioner).
        """
        if self._generation is None:
            if not unit.keyframe:
                return []
            self._generation = unit.generation
            self._base = unit.timestamp
        elif unit.generation != self._generation:
            raise MuxError(
                f"unit of generation {unit.generation} pushed into generation {self._generation}"
            )
        assert self._base is not None
        decode_time = unit.timestamp - self._base
        held = self._held
        self._held = None
        parts: list[Part] = []
        if held is not None:
            previous, previous_time = held
            decode_time = max(decode_time, previous_time + 1)
            parts = self._place(
                TimedUnit(previous, previous_time, decode_time - previous_time), unit
            )
        self._held = (unit, decode_time)
        return parts

    def flush(self) -> list[Part]:
        """Close the stream: the held unit gets ``frame_duration`` and every open part is returned.

        The last part returned ends its segment. The partitioner can be pushed
        to afterwards (the next unit continues the timeline).
        """
        if self._held is None:
            return []
        unit, decode_time = self._held
        self._held = None
        parts = self._place(TimedUnit(unit, decode_time, self.frame_duration), None)
        if self._open:
            parts.append(self._close(ends_segment=True))
        return parts

    def _place(self, timed: TimedUnit, following: AccessUnit | None) -> list[Part]:
        parts: list[Part] = []
        if self._open and self._open_duration + timed.duration > self.part_target:
            # The last frame ran longer than the one before it: close without it.
            parts.append(self._close(ends_segment=self._forced_end(timed.duration)))
        self._open.append(timed)
        self._open_duration += timed.duration
        if following is None:
            return parts
        segment_so_far = self._segment_duration + self._open_duration
        if following.keyframe:
            # Slack of half a frame: jittery timestamps must not push a segment a whole GOP on.
            ends = segment_so_far + timed.duration // 2 >= self.segment_target
            parts.append(self._close(ends_segment=ends))
        elif self._open_duration + timed.duration > self.part_target:
            parts.append(self._close(ends_segment=self._forced_end(timed.duration)))
        return parts

    def _forced_end(self, next_duration: int) -> bool:
        """Whether the segment must end before a unit of ``next_duration`` (``max_segment``)."""
        if self.max_segment is None:
            return False
        total = self._segment_duration + self._open_duration + next_duration
        return total > self.max_segment

    def _close(self, *, ends_segment: bool) -> Part:
        part = Part(
            sequence_number=self._next_sequence,
            media_sequence=self._media_sequence,
            index=self._index,
            units=tuple(self._open),
            independent=self._open[0].unit.keyframe,
            ends_segment=ends_segment,
        )
        self._next_sequence += 1
        self._open = []
        self._open_duration = 0
        if ends_segment:
            self._media_sequence += 1
            self._index = 0
            self._segment_duration = 0
        else:
            self._index += 1
            self._segment_duration += part.duration
        return part
