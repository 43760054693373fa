"""The watch page survives its camera: the reference device, in a process of its own, is
killed (``kill -9``) while two pages watch it (MSE over WebSocket and LL-HLS) and started
again on the same ports with the same state files; without a reload, both pages play on.

All on loopback: ``platonicam serve`` and ``platonicam device`` as processes, Debian's
Chromium driven by Playwright.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from tests.e2e.playback import buffered_end, wait_advancing, wait_stalled
from tests.e2e.test_watch_page import CHROMIUM, browser, current_time, picture_spread
from tests.integration.media.processes import DeviceProcess, ServiceProcess, service_process

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


async def open_watch_page(page: Page, service: ServiceProcess, camera_id: str, mode: str) -> None:
    await page.goto(f"{service.base}/watch?mode={mode}&camera={camera_id}")
    await page.fill("#username", "admin")
    await page.fill("#password", service.admin_password)
    await page.click("#login button[type=submit]")


async def stream_state(client: httpx.AsyncClient, headers: dict[str, str], camera_id: str) -> str:
    reply = await client.get(f"/api/cameras/{camera_id}/stream/stats", headers=headers)
    reply.raise_for_status()
    return str(reply.json()["state"])


async def wait_state(
    client: httpx.AsyncClient, headers: dict[str, str], camera_id: str, state: str, limit: float
) -> None:
    async with asyncio.timeout(limit):
        while True:
            if await stream_state(client, headers, camera_id) == state:
                return
            await asyncio.sleep(0.1)


async def test_pages_resume_without_reload_when_the_camera_is_killed_and_restarted(
    tmp_path: Path,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        # The camera starts while the service and the browser do.
        device = DeviceProcess(tmp_path / "device")
        stack.push_async_callback(device.stop)
        starting = asyncio.create_task(device.start())
        stack.push_async_callback(asyncio.wait, [starting])
        service = await stack.enter_async_context(service_process(tmp_path / "service"))
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=service.base, timeout=30)
        )
        context = await stack.enter_async_context(browser(tmp_path / "profile"))
        await starting
        headers = await service.login(client)
        camera_id = await service.add_camera(client, headers, "Porch", device.port)
        pages = {mode: await context.new_page() for mode in ("mse", "hls")}
        for mode, page in pages.items():
            await open_watch_page(page, service, camera_id, mode)
        stopped: dict[str, float] = {}
        for mode, page in pages.items():
            await wait_advancing(page, 0.0, 60, f"{mode} before the fault")
            assert await page.get_attribute("body", "data-mode") == mode

            # A reload would lose this; the pages must recover by themselves.
            await page.evaluate("window.sameDocument = true")

        await device.kill()
        await wait_state(client, headers, camera_id, "retrying", 20)
        for mode, page in pages.items():
            # The old video plays out, then stops: where it stopped is the bar to pass.
            stopped[mode] = max(await wait_stalled(page, 30), await buffered_end(page))
        await device.start()

        for mode, page in pages.items():
            resumed = await wait_advancing(page, stopped[mode], 60, f"{mode} after the restart")
            # And it goes on playing (not one late frame): 2 s later, over a second more.
            await asyncio.sleep(2.0)
            assert await current_time(page) - resumed > 1.0
            assert await picture_spread(page) > 5.0
            assert await page.evaluate("window.sameDocument === true")
            assert await page.text_content("#player-error") == ""
        stats = (await client.get(f"/api/cameras/{camera_id}/stream/stats", headers=headers)).json()
        assert stats["state"] == "live", stats
        assert stats["reconnects"] == 1, stats
        assert device.starts == 2
    assert service.process.returncode == 0, service.log
    assert "Traceback" not in service.log, service.log
