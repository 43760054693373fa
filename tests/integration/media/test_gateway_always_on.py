"""Always-on cameras kept open by the gateway against a real RTSP server on loopback: opened
when the camera table lists them, reopened when they change, closed when deleted, and tried
again after they failed, all with nobody watching."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from platonicam.media.gateway import Feed, Gateway
from platonicam.rtsp.server import RtspServer
from tests.integration.media.test_gateway_lifecycle import PASSWORD, opener_for, pattern
from tests.integration.rtsp.conftest import wait_until


async def test_the_camera_table_opens_reopens_and_closes_an_always_on_camera() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam-e", stream)
        opened, open_feed = opener_for(server)
        table: dict[str, Hashable] = {}

        async def catalog() -> dict[str, Hashable]:
            return dict(table)

        gateway = Gateway(
            open_feed,
            always_on=["cam-e"],
            catalog=catalog,
            catalog_interval=60,  # only cameras_changed() makes it look again
            idle_timeout=0.1,
            poll_interval=0.05,
        )
        async with gateway:
            assert opened == []  # configured but not registered: nothing to open
            table["cam-e"] = ("127.0.0.1", 1)
            gateway.cameras_changed()
            await wait_until(lambda: gateway.stats("cam-e").state == "live", 15)
            first = gateway.opened("cam-e")

            table["cam-e"] = ("127.0.0.1", 2)  # a new address or password
            gateway.cameras_changed()
            await wait_until(lambda: gateway.opened("cam-e") not in (None, first), 10)
            await wait_until(lambda: gateway.stats("cam-e").state == "live", 15)
            assert opened == ["cam-e", "cam-e"]

            del table["cam-e"]
            gateway.cameras_changed()
            await wait_until(lambda: gateway.opened("cam-e") is None, 10)
            await wait_until(lambda: server.session_ids == frozenset(), 10)
            await asyncio.sleep(0.3)  # several rounds: it stays closed
            assert gateway.opened("cam-e") is None
            assert opened == ["cam-e", "cam-e"]


async def test_a_failed_always_on_camera_is_tried_again_with_nobody_watching() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        _, open_feed = opener_for(server)
        async with Gateway(open_feed, always_on=["cam-f"], poll_interval=0.05) as gateway:
            # The camera answers 404 for its path (booting): failed, not retried by the ingest.
            await wait_until(lambda: gateway.stats("cam-f").state == "failed", 15)
            server.mount("cam-f", stream)
            await wait_until(lambda: gateway.stats("cam-f").state == "live", 20)
            assert gateway.stats("cam-f").viewers == 0


async def test_an_always_on_camera_that_cannot_be_opened_is_opened_later() -> None:
    stream = await pattern()
    async with RtspServer(authenticator={"admin": PASSWORD}.get) as server:
        server.mount("cam-g", stream)
        _, open_feed = opener_for(server)
        answers = [LookupError("the camera's ONVIF service does not answer yet")]

        async def flaky(camera_id: str) -> Feed:
            if answers:
                raise answers.pop()
            return await open_feed(camera_id)

        gateway = Gateway(flaky, always_on=["cam-g"], poll_interval=0.05)
        async with gateway:
            assert gateway.opened("cam-g") is None
            await wait_until(lambda: gateway.stats("cam-g").state == "live", 20)
