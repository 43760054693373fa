"""HLS and Low-Latency HLS playlists (RFC 8216bis) from one sliding-window model.

Strategy: :class:`Playlist` records parts as the partitioner produces them
(numbers, durations, keyframe starts, wall-clock times) and nothing else: the
bytes live in the hub. The same model renders

* the Low-Latency media playlist: server control (blocking reload, part hold
  back), the part target, ``EXT-X-PART`` tags for the segments near the live
  edge, the open segment's parts and an ``EXT-X-PRELOAD-HINT`` naming the part
  that comes next;
* a plain HLS media playlist of complete segments only, for players that know
  nothing of parts;

and answers, for a request's ``_HLS_msn``/``_HLS_part``, whether the current
playlist satisfies it, the request must wait, or it is a bad request
(:meth:`Playlist.reload_decision`, RFC 8216bis 6.2.5.2). Durations are kept
in 90 kHz ticks and written with five decimals, so a part that fits its target
in ticks also fits it as written.

URIs are relative names built from templates; the caller appends its media
token with ``query`` because players do not carry a playlist's query string
over to the URIs inside it. Segment and part names must never be reused for
different bytes (they are served as immutable): a hub that restarts its
numbering puts a fresh epoch into the templates.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from platonicam.media.errors import MuxError
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE

__all__ = [
    "BLOCKED_PLAYLIST_CACHE_CONTROL",
    "INIT_CACHE_CONTROL",
    "MEDIA_CACHE_CONTROL",
    "PLAYLIST_CACHE_CONTROL",
    "Playlist",
    "PlaylistPart",
    "PlaylistSegment",
    "ReloadDecision",
    "RenditionReport",
    "Variant",
    "render_multivariant",
]

#: A playlist fetched without delivery directives changes with every part: revalidate each time.
PLAYLIST_CACHE_CONTROL: Final = "no-cache"
#: A response to ``_HLS_msn``/``_HLS_part`` satisfies that request for good (a later copy
#: would only hold more), so it may be cached briefly, which lets a CDN collapse the
#: identical blocked requests of many viewers into one.
BLOCKED_PLAYLIST_CACHE_CONTROL: Final = "max-age=60"
#: Parts and segments never change once published.
MEDIA_CACHE_CONTROL: Final = "max-age=31536000, immutable"
#: ``init.mp4`` changes when the stream is reconfigured (a new generation).
INIT_CACHE_CONTROL: Final = "no-cache"

LL_HLS_VERSION: Final = 9
# EXT-X-MAP in a playlist without I-frames only needs version 6 (RFC 8216 7); fMP4
# players all handle 7, which Apple's authoring guide asks for.
LEGACY_VERSION: Final = 7


class ReloadDecision(enum.Enum):
    """What to do with a playlist request that carries delivery directives."""

    READY = "ready"  # the current playlist satisfies it: answer now
    WAIT = "wait"  # hold the request until a later part or segment is added
    BAD_REQUEST = "bad_request"  # answer 400: malformed or too far ahead


@dataclass(frozen=True, slots=True)
class PlaylistPart:
    """A published part: its index in the segment, duration (90 kHz ticks), keyframe start."""

    index: int
    duration: int
    independent: bool


@dataclass(frozen=True, slots=True)
class PlaylistSegment:
    """A segment of the window; ``complete`` once its last part has been added."""

    media_sequence: int
    parts: tuple[PlaylistPart, ...]
    program_date_time: datetime
    complete: bool

    @property
    def duration(self) -> int:
        """Sum of the parts' durations (90 kHz ticks)."""
        return sum(part.duration for part in self.parts)


@dataclass(frozen=True, slots=True)
class RenditionReport:
    """Another rendition's live edge, for ``EXT-X-RENDITION-REPORT``."""

    uri: str
    last_msn: int
    last_part: int


@dataclass(frozen=True, slots=True)
class Variant:
    """One entry of a multivariant playlist. ``bandwidth`` is the peak in bits per second."""

    uri: str
    bandwidth: int
    codecs: str
    width: int
    height: int
    frame_rate: float | None = None


def _seconds(ticks: int) -> str:
    return f"{ticks / VIDEO_CLOCK_RATE:.5f}"


def _date_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Playlist:
    """The sliding window of one rendition's segments and parts.

    ``target_duration`` is EXT-X-TARGETDURATION in whole seconds: every
    segment, rounded to the nearest second, must fit it. ``part_target`` is the
    part target in 90 kHz ticks: every part must fit it. ``window`` is how many
    complete segments stay listed besides the open one. Templates take
    ``{msn}`` and, for parts, ``{part}``. ``can_skip_until`` (seconds, at
    least six target durations) advertises Playlist Delta Updates: a client may
    then ask for a playlist with the older segments replaced by
    ``EXT-X-SKIP`` (:meth:`render` with ``skip=True``); it only pays off when
    the window is longer than that.
    """

    def __init__(
        self,
        *,
        target_duration: int,
        part_target: int,
        window: int = 6,
        init_uri: str = "init.mp4",
        segment_uri: str = "seg{msn}.m4s",
        part_uri: str = "part{msn}.{part}.m4s",
        first_media_sequence: int = 0,
        can_skip_until: float | None = None,
    ) -> None:
        if can_skip_until is not None and can_skip_until < 6 * target_duration:
            raise MuxError("CAN-SKIP-UNTIL must be at least six target durations")
        if target_duration < 1 or part_target <= 0 or window < 1:
            raise MuxError("target duration, part target and window must be positive")
        if part_target > target_duration * VIDEO_CLOCK_RATE:
            raise MuxError("the part target is longer than the target duration")
        self.target_duration = target_duration
        self.part_target = part_target
        self.window = window
        self.init_uri = init_uri
        self.segment_uri = segment_uri
        self.part_uri = part_uri
        self.can_skip_until = can_skip_until
        self._segments: deque[PlaylistSegment] = deque()
        self._next: tuple[int, int] = (first_media_sequence, 0)
        self._ended = False

    # --- building ---------------------------------------------------------------------

    @property
    def segments(self) -> tuple[PlaylistSegment, ...]:
        """The window, oldest first; the last one may be open."""
        return tuple(self._segments)

    @property
    def next_part(self) -> tuple[int, int]:
        """(media sequence, part index) of the part that will be added next."""
        return self._next

    @property
    def last_part(self) -> tuple[int, int] | None:
        """(media sequence, part index) of the newest part, or ``None`` before the first."""
        if not self._segments:
            return None
        newest = self._segments[-1]
        return newest.media_sequence, newest.parts[-1].index

    def add_part(
        self,
        media_sequence: int,
        index: int,
        duration: int,
        *,
        independent: bool,
        ends_segment: bool,
        wallclock: float,
    ) -> None:
        """Publish the next part (numbers as :class:`~platonicam.media.parts.Part` gives them).

        ``wallclock`` (Unix seconds) dates the segment when this is its first
        part. Raises :class:`MuxError` for a part out of order, a part longer
        than the part target, or a segment that outgrows the target duration.
        """
        if self._ended:
            raise MuxError("the playlist has ended")
        if (media_sequence, index) != self._next:
            raise MuxError(f"part {media_sequence}.{index} added where {self._next} was due")
        if not 0 < duration <= self.part_target:
            raise MuxError(
                f"part {media_sequence}.{index} lasts {_seconds(duration)} s, "
                f"over the part target {_seconds(self.part_target)} s"
            )
        part = PlaylistPart(index, duration, independent)
        if index == 0:
            segment = PlaylistSegment(
                media_sequence, (part,), datetime.fromtimestamp(wallclock, UTC), ends_segment
            )
        else:
            open_segment = self._segments.pop()
            segment = PlaylistSegment(
                media_sequence,
                (*open_segment.parts, part),
                open_segment.program_date_time,
                ends_segment,
            )
        if round(segment.duration / VIDEO_CLOCK_RATE) > self.target_duration:
            raise MuxError(
                f"segment {media_sequence} lasts {_seconds(segment.duration)} s, "
                f"over the target duration {self.target_duration} s"
            )
        self._segments.append(segment)
        self._next = (media_sequence + 1, 0) if ends_segment else (media_sequence, index + 1)
        complete = sum(1 for listed in self._segments if listed.complete)
        while complete > self.window:
            self._segments.popleft()
            complete -= 1

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` was called: no part will be added again."""
        return self._ended

    def end(self) -> None:
        """Mark the stream finished: playlists get ``EXT-X-ENDLIST`` and no preload hint.

        Raises :class:`MuxError` while a segment is still open.
        """
        if self._segments and not self._segments[-1].complete:
            raise MuxError("cannot end a playlist whose last segment is open")
        self._ended = True

    # --- blocking reload -----------------------------------------------------------------

    @property
    def block_timeout(self) -> float:
        """Seconds to hold a blocked request before answering 503 (three target durations)."""
        return 3.0 * self.target_duration

    @property
    def advance_part_limit(self) -> int:
        """How many parts ahead of the newest a request may ask for (RFC 8216bis 6.2.5.2)."""
        seconds = self.part_target / VIDEO_CLOCK_RATE
        return math.ceil(3 / seconds) if seconds < 1 else 3

    def reload_decision(self, msn: int | None, part: int | None) -> ReloadDecision:
        """Whether the playlist satisfies ``_HLS_msn=msn&_HLS_part=part`` now.

        Satisfied means the stream has ended, or the playlist holds that
        part, or (without ``part``) that complete segment, or anything later.
        A part without an MSN, a negative number, an MSN more than two past
        the newest segment, or a part more than :attr:`advance_part_limit`
        past the newest part is a bad request.
        """
        if msn is None:
            return ReloadDecision.BAD_REQUEST if part is not None else ReloadDecision.READY
        if msn < 0 or (part is not None and part < 0):
            return ReloadDecision.BAD_REQUEST
        if self._ended:
            return ReloadDecision.READY
        last = self.last_part
        newest_msn, newest_part = last if last is not None else (self._next[0] - 1, -1)
        if msn > newest_msn + 2:
            return ReloadDecision.BAD_REQUEST
        if part is None:
            complete = [s.media_sequence for s in self._segments if s.complete]
            done = bool(complete) and complete[-1] >= msn
            return ReloadDecision.READY if done else ReloadDecision.WAIT
        if msn == newest_msn and part > newest_part + self.advance_part_limit:
            return ReloadDecision.BAD_REQUEST
        if last is not None and last >= (msn, part):
            return ReloadDecision.READY
        return ReloadDecision.WAIT

    # --- rendering -----------------------------------------------------------------------

    def _segment_name(self, msn: int, query: str) -> str:
        return self.segment_uri.format(msn=msn) + query

    def _part_name(self, msn: int, index: int, query: str) -> str:
        return self.part_uri.format(msn=msn, part=index) + query

    def render(
        self,
        *,
        query: str = "",
        skip: bool = False,
        rendition_reports: Sequence[RenditionReport] = (),
    ) -> str:
        """The Low-Latency HLS media playlist.

        Parts are listed for the segments that end within three target
        durations of the live edge (older part tags are dropped, as RFC
        8216bis advises). ``query`` (e.g. ``"?token=..."``) is appended to
        every URI. ``skip`` (a request's ``_HLS_skip=YES``) renders a delta
        update when ``can_skip_until`` is set, and is ignored otherwise.
        """
        part_target = _seconds(self.part_target)
        control = f"CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={_seconds(3 * self.part_target)}"
        if self.can_skip_until is not None:
            control += f",CAN-SKIP-UNTIL={self.can_skip_until:.1f}"
        lines = [
            "#EXTM3U",
            f"#EXT-X-VERSION:{LL_HLS_VERSION}",
            f"#EXT-X-TARGETDURATION:{self.target_duration}",
            f"#EXT-X-SERVER-CONTROL:{control}",
            f"#EXT-X-PART-INF:PART-TARGET={part_target}",
        ]
        lines += self._media_lines(query, parts=True, skip=skip and self.can_skip_until is not None)
        if self._ended:
            lines.append("#EXT-X-ENDLIST")
        else:
            msn, index = self._next
            hint = self._part_name(msn, index, query)
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{hint}"')
        for report in rendition_reports:
            lines.append(
                f'#EXT-X-RENDITION-REPORT:URI="{report.uri}",'
                f"LAST-MSN={report.last_msn},LAST-PART={report.last_part}"
            )
        return "\n".join(lines) + "\n"

    def render_legacy(self, *, query: str = "") -> str:
        """A plain HLS media playlist: complete segments only, no part or server-control tags."""
        lines = [
            "#EXTM3U",
            f"#EXT-X-VERSION:{LEGACY_VERSION}",
            f"#EXT-X-TARGETDURATION:{self.target_duration}",
        ]
        lines += self._media_lines(query, parts=False)
        if self._ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def _skippable(self, segments: Sequence[PlaylistSegment]) -> int:
        """How many leading segments end at least ``can_skip_until`` before the playlist does."""
        assert self.can_skip_until is not None
        boundary = self.can_skip_until * VIDEO_CLOCK_RATE
        after = 0  # duration of everything after the segment being looked at
        count = len(segments)
        for segment in reversed(segments):
            if after >= boundary:
                break
            after += segment.duration
            count -= 1
        return count

    def _media_lines(self, query: str, *, parts: bool, skip: bool = False) -> list[str]:
        segments = [s for s in self._segments if parts or s.complete]
        first = segments[0].media_sequence if segments else self._next[0]
        lines = [f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        if skip:
            skipped = self._skippable(segments)
            if skipped:
                lines.append(f"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}")
                segments = segments[skipped:]
        lines.append(f'#EXT-X-MAP:URI="{self.init_uri}{query}"')
        # Part tags for the newest segments covering three target durations.
        with_parts = 0
        if parts:
            covered = 0
            for segment in reversed(segments):
                with_parts += 1
                covered += segment.duration
                if covered >= 3 * self.target_duration * VIDEO_CLOCK_RATE:
                    break
        for position, segment in enumerate(segments):
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(segment.program_date_time)}")
            if position >= len(segments) - with_parts:
                for part in segment.parts:
                    uri = self._part_name(segment.media_sequence, part.index, query)
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    lines.append(
                        f'#EXT-X-PART:DURATION={_seconds(part.duration)},URI="{uri}"{independent}'
                    )
            if segment.complete:
                lines.append(f"#EXTINF:{_seconds(segment.duration)},")
                lines.append(self._segment_name(segment.media_sequence, query))
        return lines


def render_multivariant(variants: Sequence[Variant], *, query: str = "") -> str:
    """A multivariant playlist with one ``EXT-X-STREAM-INF`` per variant.

    ``CODECS`` must list every codec of the variant (RFC 6381 strings, e.g.
    from :func:`platonicam.media.codecs.codec_string`). Raises
    :class:`MuxError` for an empty list.
    """
    if not variants:
        raise MuxError("a multivariant playlist needs at least one variant")
    lines = ["#EXTM3U"]
    for variant in variants:
        attributes = [
            f"BANDWIDTH={variant.bandwidth}",
            f'CODECS="{variant.codecs}"',
            f"RESOLUTION={variant.width}x{variant.height}",
        ]
        if variant.frame_rate is not None:
            attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(variant.uri + query)
    return "\n".join(lines) + "\n"
