"""Waiting on a watch page's ``<video>`` in the e2e tests: playing on, stalling, buffered."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page

from tests.e2e.test_watch_page import current_time


async def wait_advancing(page: Page, past: float, limit: float, what: str) -> float:
    """Wait until ``video.currentTime`` is beyond ``past`` + 1 s; its value then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        now = await current_time(page)
        if now > past + 1.0:
            return now
        await asyncio.sleep(0.2)
    shown = [await page.text_content(f"#{name}") for name in ("state", "connection")]
    error = await page.text_content("#player-error")
    pytest.fail(f"{what}: currentTime stayed at {await current_time(page)} ({shown!r}, {error!r})")


async def wait_stalled(page: Page, limit: float) -> float:
    """Wait until ``video.currentTime`` has not moved for a second; its value then."""
    async with asyncio.timeout(limit):
        last, still = await current_time(page), 0
        while still < 4:
            await asyncio.sleep(0.25)
            now = await current_time(page)
            still = still + 1 if now == last else 0
            last = now
    return last


async def buffered_end(page: Page) -> float:
    """Where the video's last buffered range ends (seconds; 0 before any)."""
    value = await page.evaluate(
        "(() => { const b = document.getElementById('video').buffered;"
        " return b.length ? b.end(b.length - 1) : 0; })()"
    )
    return float(value)
