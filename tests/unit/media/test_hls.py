"""LL-HLS and plain HLS playlists against RFC 8216bis, and blocking-reload decisions."""

from __future__ import annotations

import re

import pytest

from platonicam.media import hls
from platonicam.media.errors import MuxError
from platonicam.media.hls import Playlist, ReloadDecision

PART = 18_000  # 0.2 s in 90 kHz ticks
T0 = 1_767_323_045.0  # 2026-01-02T03:04:05Z


def feed(playlist: Playlist, segments: int, parts_per_segment: int = 5, extra: int = 0) -> None:
    """Add ``segments`` complete segments of 0.2 s parts, then ``extra`` parts of an open one."""
    msn, _ = playlist.next_part
    for count, closed in [(parts_per_segment, True)] * segments + [(extra, False)]:
        for index in range(count):
            playlist.add_part(
                msn,
                index,
                PART,
                independent=index == 0,
                ends_segment=closed and index == count - 1,
                wallclock=T0 + (msn * parts_per_segment + index) * 0.2,
            )
        msn += closed


def make(window: int = 3) -> Playlist:
    return Playlist(target_duration=1, part_target=19_800, window=window)


def test_low_latency_playlist_text() -> None:
    playlist = make()
    feed(playlist, 2, extra=2)
    assert playlist.render(query="?t=abc") == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:9\n"
        "#EXT-X-TARGETDURATION:1\n"
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.66000\n"
        "#EXT-X-PART-INF:PART-TARGET=0.22000\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        '#EXT-X-MAP:URI="init.mp4?t=abc"\n'
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z\n"
        '#EXT-X-PART:DURATION=0.20000,URI="part0.0.m4s?t=abc",INDEPENDENT=YES\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part0.1.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part0.2.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part0.3.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part0.4.m4s?t=abc"\n'
        "#EXTINF:1.00000,\n"
        "seg0.m4s?t=abc\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:06.000Z\n"
        '#EXT-X-PART:DURATION=0.20000,URI="part1.0.m4s?t=abc",INDEPENDENT=YES\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part1.1.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part1.2.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part1.3.m4s?t=abc"\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part1.4.m4s?t=abc"\n'
        "#EXTINF:1.00000,\n"
        "seg1.m4s?t=abc\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:07.000Z\n"
        '#EXT-X-PART:DURATION=0.20000,URI="part2.0.m4s?t=abc",INDEPENDENT=YES\n'
        '#EXT-X-PART:DURATION=0.20000,URI="part2.1.m4s?t=abc"\n'
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part2.2.m4s?t=abc"\n'
    )


def test_legacy_playlist_has_complete_segments_only() -> None:
    playlist = make()
    feed(playlist, 2, extra=2)
    assert playlist.render_legacy() == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:7\n"
        "#EXT-X-TARGETDURATION:1\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        '#EXT-X-MAP:URI="init.mp4"\n'
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z\n"
        "#EXTINF:1.00000,\n"
        "seg0.m4s\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:06.000Z\n"
        "#EXTINF:1.00000,\n"
        "seg1.m4s\n"
    )


def test_window_slides_and_media_sequence_advances() -> None:
    playlist = make(window=3)
    sequences = []
    for _ in range(6):
        feed(playlist, 1)
        text = playlist.render()
        match = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)$", text, re.MULTILINE)
        assert match is not None
        sequences.append(int(match.group(1)))
        uris = re.findall(r"^seg(\d+)\.m4s$", text, re.MULTILINE)
        assert [int(u) for u in uris] == list(range(sequences[-1], sequences[-1] + len(uris)))
    assert sequences == [0, 0, 0, 1, 2, 3]
    assert [s.media_sequence for s in playlist.segments] == [3, 4, 5]


def test_part_tags_only_near_the_live_edge() -> None:
    playlist = make(window=6)
    feed(playlist, 6, extra=1)
    text = playlist.render()
    # Three target durations (3 s) back from the end: the open segment and segments 3-5.
    assert sorted({int(m) for m in re.findall(r'URI="part(\d+)\.', text)}) == [3, 4, 5, 6]
    assert text.count("#EXTINF:") == 6


def test_rfc8216bis_rules_hold_on_a_long_run() -> None:
    playlist = make(window=4)
    feed(playlist, 9, extra=3)
    text = playlist.render()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    # Header tags come before the first media segment tag.
    first_media = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-PROGRAM"))
    header = [line.split(":")[0] for line in lines[:first_media]]
    assert header == ["#EXTM3U", "#EXT-X-VERSION", "#EXT-X-TARGETDURATION",
                      "#EXT-X-SERVER-CONTROL", "#EXT-X-PART-INF", "#EXT-X-MEDIA-SEQUENCE",
                      "#EXT-X-MAP"]  # fmt: skip
    part_target = float(re.findall(r"PART-TARGET=([\d.]+)", text)[0])
    hold_back = float(re.findall(r"PART-HOLD-BACK=([\d.]+)", text)[0])
    assert hold_back >= 3 * part_target
    durations = [float(d) for d in re.findall(r"#EXT-X-PART:DURATION=([\d.]+)", text)]
    assert durations
    assert all(d <= part_target for d in durations)
    target = int(re.findall(r"#EXT-X-TARGETDURATION:(\d+)", text)[0])
    assert all(round(float(d)) <= target for d in re.findall(r"#EXTINF:([\d.]+),", text))
    # Exactly one preload hint, last but for rendition reports, naming the next part.
    assert [line for line in lines if "PRELOAD-HINT" in line] == [lines[-1]]
    assert lines[-1] == '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part9.3.m4s"'
    # Keyframe parts (index 0 here) and only they are INDEPENDENT.
    for line in lines:
        if line.startswith("#EXT-X-PART:"):
            assert ("INDEPENDENT=YES" in line) == bool(re.search(r"part\d+\.0\.m4s", line))


def test_preload_hint_after_a_segment_ends_names_the_next_segment() -> None:
    playlist = make()
    feed(playlist, 1)
    assert playlist.next_part == (1, 0)
    assert playlist.render().endswith('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part1.0.m4s"\n')


def test_rendition_reports_and_custom_names() -> None:
    playlist = Playlist(
        target_duration=2,
        part_target=30_000,
        init_uri="e7/init.mp4",
        segment_uri="e7/s{msn}.mp4",
        part_uri="e7/p{msn}-{part}.mp4",
        first_media_sequence=100,
    )
    playlist.add_part(100, 0, 30_000, independent=True, ends_segment=False, wallclock=T0)
    text = playlist.render(rendition_reports=[hls.RenditionReport("../low/live.m3u8", 100, 0)])
    assert "#EXT-X-MEDIA-SEQUENCE:100\n" in text
    assert '#EXT-X-MAP:URI="e7/init.mp4"\n' in text
    assert '#EXT-X-PART:DURATION=0.33333,URI="e7/p100-0.mp4",INDEPENDENT=YES\n' in text
    assert text.endswith(
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e7/p100-1.mp4"\n'
        '#EXT-X-RENDITION-REPORT:URI="../low/live.m3u8",LAST-MSN=100,LAST-PART=0\n'
    )


def test_ended_playlist() -> None:
    playlist = make()
    feed(playlist, 2, extra=1)
    with pytest.raises(MuxError, match=r"^cannot end a playlist whose last segment is open$"):
        playlist.end()
    playlist.add_part(2, 1, PART, independent=False, ends_segment=True, wallclock=T0)
    playlist.end()
    assert playlist.render().endswith("seg2.m4s\n#EXT-X-ENDLIST\n")
    assert "PRELOAD-HINT" not in playlist.render()
    assert playlist.render_legacy().endswith("seg2.m4s\n#EXT-X-ENDLIST\n")
    assert playlist.reload_decision(9, 0) is ReloadDecision.READY
    with pytest.raises(MuxError, match=r"^the playlist has ended$"):
        playlist.add_part(3, 0, PART, independent=True, ends_segment=False, wallclock=T0)


@pytest.mark.parametrize(
    ("msn", "part", "decision"),
    [
        (None, None, ReloadDecision.READY),  # no directives
        (None, 1, ReloadDecision.BAD_REQUEST),  # _HLS_part without _HLS_msn
        (-1, None, ReloadDecision.BAD_REQUEST),
        (1, -1, ReloadDecision.BAD_REQUEST),
        (0, None, ReloadDecision.READY),  # a complete segment in the playlist
        (1, None, ReloadDecision.READY),
        (2, None, ReloadDecision.WAIT),  # segment 2 is still open
        (2, 0, ReloadDecision.READY),
        (2, 1, ReloadDecision.READY),  # the newest part
        (2, 2, ReloadDecision.WAIT),  # the preload-hinted part
        (2, 15, ReloadDecision.WAIT),  # 14 parts ahead of 2.1: ceil(3 s / 0.22 s)
        (2, 16, ReloadDecision.BAD_REQUEST),
        (1, 9, ReloadDecision.READY),  # later parts exist (2.0, 2.1)
        (3, 0, ReloadDecision.WAIT),
        (4, 0, ReloadDecision.WAIT),  # two segments ahead is allowed
        (5, 0, ReloadDecision.BAD_REQUEST),  # more than two is not
        (5, None, ReloadDecision.BAD_REQUEST),
    ],
)
def test_blocking_reload_decisions(
    msn: int | None, part: int | None, decision: ReloadDecision
) -> None:
    playlist = make()
    feed(playlist, 2, extra=2)
    assert playlist.advance_part_limit == 14
    assert playlist.reload_decision(msn, part) is decision


def test_blocking_reload_waits_for_the_next_segment_when_asking_past_a_closed_one() -> None:
    playlist = make()
    feed(playlist, 1)
    assert playlist.reload_decision(0, 5) is ReloadDecision.WAIT  # segment 0 has parts 0-4
    playlist.add_part(1, 0, PART, independent=True, ends_segment=False, wallclock=T0)
    assert playlist.reload_decision(0, 5) is ReloadDecision.READY


def test_blocking_reload_before_any_part() -> None:
    playlist = make()
    assert playlist.reload_decision(0, 0) is ReloadDecision.WAIT
    assert playlist.reload_decision(1, None) is ReloadDecision.WAIT
    assert playlist.reload_decision(2, None) is ReloadDecision.BAD_REQUEST


def test_advance_part_limit_for_long_parts_and_block_timeout() -> None:
    playlist = Playlist(target_duration=4, part_target=108_000)  # 1.2 s parts
    assert playlist.advance_part_limit == 3
    assert playlist.block_timeout == 12.0


@pytest.mark.parametrize(
    ("msn", "index", "duration", "ends", "message"),
    [
        (0, 1, PART, False, r"^part 0\.1 added where \(0, 0\) was due$"),
        (1, 0, PART, False, r"^part 1\.0 added where \(0, 0\) was due$"),
        (0, 0, 19_801, False, r"^part 0\.0 lasts 0\.22001 s, over the part target 0\.22000 s$"),
        (0, 0, 0, False, r"^part 0\.0 lasts 0\.00000 s"),
    ],
)
def test_out_of_order_or_oversized_parts_are_refused(
    msn: int, index: int, duration: int, ends: bool, message: str
) -> None:
    with pytest.raises(MuxError, match=message):
        make().add_part(msn, index, duration, independent=True, ends_segment=ends, wallclock=T0)


def test_segment_over_the_target_duration_is_refused() -> None:
    playlist = make()
    for index in range(7):
        playlist.add_part(0, index, PART, independent=index == 0, ends_segment=False, wallclock=T0)
    with pytest.raises(
        MuxError, match=r"^segment 0 lasts 1\.60000 s, over the target duration 1 s$"
    ):
        playlist.add_part(0, 7, PART, independent=False, ends_segment=False, wallclock=T0)


def test_playlist_configuration_is_checked() -> None:
    with pytest.raises(MuxError, match="part target is longer than the target duration"):
        Playlist(target_duration=1, part_target=100_000)
    with pytest.raises(MuxError, match="must be positive"):
        Playlist(target_duration=0, part_target=18_000)


def test_multivariant_playlist() -> None:
    text = hls.render_multivariant(
        [
            hls.Variant("main/live.m3u8", 4_500_000, "hvc1.1.6.L120.90", 1920, 1080, 30),
            hls.Variant("sub/live.m3u8", 600_000, "avc1.4D401E,mp4a.40.2", 640, 360),
        ],
        query="?t=x",
    )
    assert text == (
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=4500000,CODECS="hvc1.1.6.L120.90",RESOLUTION=1920x1080,'
        "FRAME-RATE=30.000\n"
        "main/live.m3u8?t=x\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=600000,CODECS="avc1.4D401E,mp4a.40.2",RESOLUTION=640x360\n'
        "sub/live.m3u8?t=x\n"
    )
    with pytest.raises(MuxError, match="at least one variant"):
        hls.render_multivariant([])


def test_cache_control_values() -> None:
    assert hls.MEDIA_CACHE_CONTROL == "max-age=31536000, immutable"
    assert hls.PLAYLIST_CACHE_CONTROL == "no-cache"
    assert hls.INIT_CACHE_CONTROL == "no-cache"
    assert hls.BLOCKED_PLAYLIST_CACHE_CONTROL.startswith("max-age=")


def test_delta_update_skips_segments_older_than_can_skip_until() -> None:
    playlist = Playlist(target_duration=1, part_target=19_800, window=12, can_skip_until=6.0)
    feed(playlist, 10, extra=2)
    full = playlist.render()
    assert (
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.66000,CAN-SKIP-UNTIL=6.0\n"
        in full
    )
    delta = playlist.render(skip=True)
    lines = delta.splitlines()
    start = lines.index("#EXT-X-MEDIA-SEQUENCE:0")
    # Segments 0-3 end 6.4 s or more before the end of the playlist; segment 4 ends 5.4 s before.
    assert lines[start + 1 : start + 4] == [
        "#EXT-X-SKIP:SKIPPED-SEGMENTS=4",
        '#EXT-X-MAP:URI="init.mp4"',
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:09.000Z",
    ]
    assert re.findall(r"^seg(\d+)\.m4s$", delta, re.MULTILINE) == [str(n) for n in range(4, 10)]
    # What remains is the full playlist's tail, line for line.
    assert full.endswith(delta[delta.index("#EXTINF:") :])
    assert delta.endswith('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part10.2.m4s"\n')


def test_skip_is_ignored_without_can_skip_until() -> None:
    playlist = make(window=12)
    feed(playlist, 10)
    assert playlist.render(skip=True) == playlist.render()
    assert "CAN-SKIP-UNTIL" not in playlist.render()


def test_can_skip_until_must_cover_six_target_durations() -> None:
    with pytest.raises(MuxError, match=r"^CAN-SKIP-UNTIL must be at least six target durations$"):
        Playlist(target_duration=2, part_target=19_800, can_skip_until=11.0)
