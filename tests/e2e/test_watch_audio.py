"""A camera with sound on the watch page: real Chromium plays the video and decodes the
AAC track, over MSE and over LL-HLS. The camera is Debian's GStreamer RTSP server sending
H.264 + AAC, read by the service through the demo camera's ``stream_url`` option."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.playback import wait_advancing
from tests.e2e.test_watch_page import browser, current_time, log_in, wait_playing
from tests.integration.media.gst import gst_server, needs_gstreamer
from tests.integration.media.live_service import live_service

pytestmark = [pytest.mark.timeout(300), needs_gstreamer]

# Chromium's own counters of what its decoders consumed (not in other browsers).
DECODED = (
    "(() => { const v = document.getElementById('video');"
    " return [v.webkitAudioDecodedByteCount, v.webkitVideoDecodedByteCount]; })()"
)
# Where each track's data ends, from the SourceBuffer of the MSE player (one buffer
# with both tracks: its buffered ranges are where both have data).
BUFFERED = (
    "(() => { const b = document.getElementById('video').buffered;"
    " return b.length ? [b.start(b.length - 1), b.end(b.length - 1)] : null; })()"
)


@pytest.mark.parametrize("mode", ["mse", "hls"])
async def test_the_watch_page_plays_a_camera_with_sound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    async with gst_server("h264", 25, audio=True) as url:
        monkeypatch.setenv("PLATONICAM_MEDIA__CAMERAS", json.dumps({"demo": {"stream_url": url}}))
        async with (
            live_service(tmp_path / "data") as service,
            browser(tmp_path / "profile") as context,
        ):
            page = await context.new_page()
            await log_in(page, service, mode)
            await wait_playing(page, 60)
            start = await current_time(page)
            audio_before, video_before = await page.evaluate(DECODED)
            now = await wait_advancing(page, start + 1.0, 30, "a camera with sound")
            audio_after, video_after = await page.evaluate(DECODED)
            # Both decoders keep consuming while the picture moves on.
            assert video_after > video_before
            assert audio_after > audio_before > 0, (audio_before, audio_after)
            if mode == "mse":
                assert "mp4a.40.2" in (await page.text_content("#codec") or "")
                # The buffer both tracks share reaches past the playhead: the audio is
                # on the video's timeline, not appended after it.
                ranges = await page.evaluate(BUFFERED)
                assert ranges is not None
                assert ranges[0] <= now < ranges[1] + 0.5, (ranges, now)
                assert await page.text_content("#player-error") in ("", None)
            # The page starts muted (autoplay); one click turns the sound on, and
            # playback goes on (no stall once both tracks are there).
            assert await page.evaluate("document.getElementById('video').muted")
            assert not await page.is_disabled("#sound")
            await page.click("#sound")
            assert not await page.evaluate("document.getElementById('video').muted")
            assert await page.text_content("#sound") == "Sound on"
            await asyncio.sleep(2)
            assert await current_time(page) > now + 1.0


async def test_a_camera_without_sound_has_no_sound_button(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with gst_server("h264", 25) as url:
        monkeypatch.setenv("PLATONICAM_MEDIA__CAMERAS", json.dumps({"demo": {"stream_url": url}}))
        async with (
            live_service(tmp_path / "data") as service,
            browser(tmp_path / "profile") as context,
        ):
            page = await context.new_page()
            await log_in(page, service, "mse")
            await wait_playing(page, 60)
            assert "mp4a" not in (await page.text_content("#codec") or "")
            assert await page.is_disabled("#sound")
            assert await page.get_attribute("#sound", "title") == "this camera sends no sound"
