"""The watch page outlives the service: ``platonicam serve`` is killed (``kill -9``) under two
pages (MSE over WebSocket and LL-HLS), then started again on the same port over the same
data folder (its token secret and database, so the pages' session stays valid). Without a
reload each page reconnects by itself, with fresh stream URLs, and plays on. The login form
goes away after login, and comes back after log-out or when the service refuses the stored
session.

All on loopback: the service and the reference device as processes, Debian's Chromium
driven by Playwright.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.playback import buffered_end, wait_advancing, wait_stalled
from tests.e2e.test_watch_page import CHROMIUM, browser, current_time, picture_spread
from tests.integration.media.processes import DeviceProcess, free_port, service_process

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]

SESSION_KEY = "platonicam.session"  # where watch.js keeps the session (sessionStorage)
WAIT_MS = 30_000  # Playwright's waits for the page (a loaded 2-core machine)


async def log_in(page: Page, password: str) -> None:
    await page.fill("#username", "admin")
    await page.fill("#password", password)
    await page.click("#login button[type=submit]")


async def plays_on(page: Page, mode: str) -> None:
    """The page plays again, reconnected by itself, in the same document and session."""
    # The HLS player starts a new timeline: no bar to pass there, but progress.
    await expect(page.locator("#connection")).to_contain_text("playing", timeout=WAIT_MS)
    resumed = await current_time(page)
    await asyncio.sleep(2.0)
    assert await current_time(page) - resumed > 1.0, mode
    assert await picture_spread(page) > 5.0, mode
    assert await page.evaluate("window.sameDocument === true"), mode
    assert await page.text_content("#player-error") == "", mode
    assert int(await page.get_attribute("body", "data-reconnects") or "0") >= 1, mode
    # The session outlived the restart: no login asked for.
    await expect(page.locator("#login")).to_be_hidden()
    assert await page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}') !== null"), mode


async def test_the_page_reconnects_by_itself_when_the_service_is_killed_and_restarted(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "service"
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        device = DeviceProcess(tmp_path / "device")
        stack.push_async_callback(device.stop)
        starting = asyncio.create_task(device.start())
        stack.push_async_callback(asyncio.wait, [starting])
        first = await stack.enter_async_context(service_process(data_dir, port))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=first.base, timeout=30))
        context = await stack.enter_async_context(browser(tmp_path / "profile"))
        await starting
        headers = await first.login(client)
        camera_id = await first.add_camera(client, headers, "Porch", device.port)

        pages = {mode: await context.new_page() for mode in ("mse", "hls")}
        for mode, page in pages.items():
            await page.goto(f"{first.base}/watch?mode={mode}&camera={camera_id}")
            await expect(page.locator("#login")).to_be_visible()
            await expect(page.locator("#account")).to_be_hidden()
            await log_in(page, first.admin_password)
        for page in pages.values():
            await expect(page.locator("#login")).to_be_hidden(timeout=WAIT_MS)
            await expect(page.locator("#account")).to_be_visible()
            await expect(page.locator("#who")).to_have_text("admin")
        for mode, page in pages.items():
            await wait_advancing(page, 0.0, 60, f"{mode} before the kill")
            assert await page.get_attribute("body", "data-mode") == mode
            # A reload would lose this: the pages must recover by themselves.
            await page.evaluate("window.sameDocument = true")

        first.process.kill()
        await first.process.wait()
        for page in pages.values():
            # The page says what it does: it waits, then tries again (and again: nobody
            # answers). MSE sees its WebSocket close; Chromium's HLS only stalls.
            connection = page.locator("#connection")
            await expect(connection).to_contain_text("reconnecting in", timeout=WAIT_MS)
            await expect(connection).to_contain_text("no stream", timeout=WAIT_MS)
        # The old MSE video plays out, then stops: where it stopped is the bar to pass.
        mse = pages["mse"]
        stopped = max(await wait_stalled(mse, 30), await buffered_end(mse))

        second = await stack.enter_async_context(
            service_process(data_dir, port, first.admin_password)
        )
        assert second.base == first.base
        await wait_advancing(mse, stopped, 60, "mse after the restart")
        await asyncio.gather(*(plays_on(page, mode) for mode, page in pages.items()))
        await pages["hls"].close()

        page = mse
        login_form, account = page.locator("#login"), page.locator("#account")
        # Log out: the form is back, the stored session gone, the player stopped for good.
        await page.click("#logout")
        await expect(login_form).to_be_visible()
        await expect(account).to_be_hidden()
        await expect(page.locator("#viewer")).to_be_hidden()
        assert await page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}') === null")
        await asyncio.sleep(1.5)
        assert await page.get_attribute("body", "data-connection") == "logged-out"
        assert await page.evaluate("document.getElementById('video').getAttribute('src')") is None

        # Logged in again, a reload keeps the session; a refused access token is traded
        # for a new one with the refresh token, without asking anything.
        await log_in(page, first.admin_password)
        await expect(login_form).to_be_hidden(timeout=WAIT_MS)
        await page.evaluate(
            f"(() => {{ const s = JSON.parse(sessionStorage.getItem('{SESSION_KEY}'));"
            f" s.access = 'forged'; sessionStorage.setItem('{SESSION_KEY}', JSON.stringify(s));"
            " })()"
        )
        await page.reload()
        await expect(page.locator("#camera option")).to_have_count(1, timeout=WAIT_MS)
        await expect(login_form).to_be_hidden()
        stored = await page.evaluate(f"JSON.parse(sessionStorage.getItem('{SESSION_KEY}'))")
        assert stored["user"] == "admin"
        assert stored["access"] != "forged"

        # A session the service refuses (and a refresh token it refuses too) brings the
        # form back with a word on why, instead of a retry loop.
        await page.evaluate(
            f"sessionStorage.setItem('{SESSION_KEY}',"
            " JSON.stringify({user: 'admin', access: 'forged', refresh: 'forged'}))"
        )
        await page.reload()
        await expect(login_form).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#login-error")).to_contain_text("log in again")
        assert await page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}') === null")
    assert second.process.returncode == 0, second.log
    for service in (first, second):
        assert "Traceback" not in service.log, service.log
