"""The watch page in headless Chromium (Debian's, driven by Playwright) against the running
service and its embedded reference camera, all on loopback: MSE and LL-HLS play for real."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import shutil
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.integration.media.live_service import LiveService, live_service

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries outside hosts at every start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
H264_MIME = 'video/mp4; codecs="avc1.640028"'

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


@contextlib.asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 960, "height": 720},
        )
        try:
            yield context
        finally:
            await context.close()


async def log_in(page: Page, service: LiveService, mode: str) -> None:
    await page.goto(f"{service.base}/watch?mode={mode}&camera=demo")
    # Fail (never hang) when this browser cannot play what we serve.
    supported = await page.evaluate(
        "(mime) => 'MediaSource' in window && MediaSource.isTypeSupported(mime)", H264_MIME
    )
    if mode == "mse" and not supported:
        pytest.fail(f"MediaSource.isTypeSupported is false for {H264_MIME} in this Chromium")
    if mode == "hls":
        native = await page.evaluate(
            "document.createElement('video').canPlayType('application/vnd.apple.mpegurl')"
        )
        if not native:
            pytest.fail("this Chromium cannot play HLS natively (canPlayType is empty)")
    await page.fill("#username", "admin")
    await page.fill("#password", service.admin_password)
    await page.click("#login button[type=submit]")


async def current_time(page: Page) -> float:
    value = await page.evaluate("document.getElementById('video').currentTime")
    return float(value)


async def wait_playing(page: Page, limit: float) -> float:
    """Seconds until ``video.currentTime`` passes 0.5; fails with the page's error text."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < limit:
        if await current_time(page) > 0.5:
            return loop.time() - started
        error = await page.text_content("#player-error")
        if error:
            pytest.fail(f"the player reported: {error}")
        await asyncio.sleep(0.2)
    pytest.fail(f"video.currentTime did not advance within {limit} s")


async def picture_spread(page: Page) -> float:
    """Standard deviation of the grey levels of a screenshot of the video (0 for blank)."""
    png = await page.locator("#video").screenshot()
    with av.open(io.BytesIO(png), mode="r") as container:
        frame = next(container.decode(video=0))
    small = frame.reformat(width=160, height=90, format="gray")
    plane = small.planes[0]
    rows = bytes(plane)
    pixels = [rows[y * plane.line_size + x] for y in range(90) for x in range(160)]
    return statistics.pstdev(pixels)


@pytest.mark.parametrize("mode", ["mse", "hls"])
async def test_the_watch_page_plays_live_video(tmp_path: Path, mode: str) -> None:
    async with (
        live_service(tmp_path / "data") as service,
        browser(tmp_path / "profile") as context,
    ):
        page = await context.new_page()
        await log_in(page, service, mode)
        await wait_playing(page, 60)
        first = await current_time(page)
        await asyncio.sleep(2.0)
        second = await current_time(page)
        assert second - first > 1.0, (first, second)
        assert await page.get_attribute("body", "data-mode") == mode
        assert await picture_spread(page) > 5.0
        if mode == "mse":
            assert "avc1." in (await page.text_content("#codec") or "")
            # The latency the page measured from the camera's SEI stamps.
            shown = await page.text_content("#latency") or ""
            match = re.fullmatch(r"(-?\d+) ms", shown.strip())
            assert match is not None, shown
            assert -500 < int(match[1]) < 5000
