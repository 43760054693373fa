"""Analytics metadata in the running service: the embedded reference device's metadata
track (its simulated detector follows the test pattern's square) read over the camera's
one media connection, served by ``GET /metadata`` and ``WS /metadata/ws``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import websockets

from platonicam.device.metadata import metadata_document
from platonicam.onvif.models.events import BoundingBox
from platonicam.rtsp.metadata import MetadataDocument, MetadataSource
from platonicam.rtsp.stream import LiveStream
from tests.integration.media.live_service import LiveService, live_service

pytestmark = pytest.mark.timeout(240)

METADATA = "/api/cameras/demo/metadata"
LIKELIHOODS = (0.91, 0.93, 0.95, 0.92, 0.9)  # what the device's simulated detector says


async def poll(
    service: LiveService, done: Callable[[dict[str, Any]], bool], limit: float = 60
) -> dict[str, Any]:
    """GET the camera's metadata until ``done`` holds (the first GET opens the stream)."""
    async with asyncio.timeout(limit):
        while True:
            reply = await service.client.get(METADATA, headers=service.headers)
            assert reply.status_code == 200, reply.text
            body: dict[str, Any] = reply.json()
            if done(body):
                return body
            await asyncio.sleep(0.1)


def check_box(box: dict[str, float]) -> None:
    for edge in ("left", "top", "right", "bottom"):
        assert -1.0 <= box[edge] <= 1.0
    assert box["left"] < box["right"]
    assert box["top"] > box["bottom"]  # ONVIF's y points up


def rtsp_sessions(service: LiveService) -> int:
    # The embedded device's RTSP server: how many connections the service holds to it.
    return len(service.app.state.demo.runtime._live().rtsp.session_ids)


async def remount(service: LiveService, metadata: Callable[[], MetadataSource | None]) -> None:
    """Serve the demo device's profiles again with another metadata source (or none)."""
    services = service.app.state.demo.runtime._live()
    async with services.mount_lock:
        for token, (_, live) in list(services.mounts.items()):
            path = services.streams.rtsp_path(token)
            await services.rtsp.unmount(path)
            stream: LiveStream = live
            services.rtsp.mount(path, stream, metadata())


class BrokenAnalytics:
    """A camera whose analytics sends unreadable documents between good ones."""

    BAD = (
        b"\xff\xfe not XML at all",
        b"<tt:Frame xmlns:tt='http://www.onvif.org/ver10/schema'/>",  # not a MetadataStream
        b"<tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'><tt:Video",
    )

    async def subscribe(self) -> AsyncGenerator[MetadataDocument, None]:
        box = BoundingBox(left=-0.5, top=0.5, right=0.25, bottom=-0.25)
        count = 0
        while True:
            now = datetime.now().astimezone()
            if count % 2:
                xml = metadata_document(box, utc_time=now, likelihood=0.75, object_id=42)
            else:
                xml = self.BAD[(count // 2) % len(self.BAD)]
            count += 1
            yield MetadataDocument(xml=xml, wallclock=now.timestamp())
            await asyncio.sleep(0.1)


async def test_objects_over_get_and_websocket(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        client = service.client
        assert (await client.get(METADATA)).status_code == 401

        body = await poll(service, lambda b: bool(b["objects"]))
        assert (body["cameraId"], body["state"], body["hasTrack"]) == ("demo", "live", True)
        assert body["malformed"] == 0
        assert body["documents"] >= 1
        [human] = body["objects"]
        assert (human["id"], human["class"], human["kind"]) == (1, "Human", "person")
        assert human["confidence"] in LIKELIHOODS
        assert human["parentId"] is None
        check_box(human["box"])
        # The square is a quarter of the picture high, vertically centred.
        assert human["box"]["top"] - human["box"]["bottom"] == pytest.approx(0.5, abs=0.01)
        assert datetime.fromisoformat(human["lastSeen"]).tzinfo is not None
        # Objects and video come over the one connection the gateway opened.
        assert rtsp_sessions(service) == 1

        # Live updates over the WebSocket, with a media token like the MSE socket.
        urls = (await client.get("/api/cameras/demo/stream", headers=service.headers)).json()
        socket = f"{service.base.replace('http', 'ws', 1)}/api/cameras/demo/metadata/ws"
        assert urls["metadata"] == f"{socket}?token={urls['token']}"
        lefts: list[float] = []
        async with websockets.connect(urls["metadata"]) as ws:
            async with asyncio.timeout(30):
                while len(lefts) < 6:
                    message = json.loads(await ws.recv())
                    assert (message["cameraId"], message["hasTrack"]) == ("demo", True)
                    for item in message["objects"]:
                        assert item["class"] == "Human"
                        check_box(item["box"])
                        lefts.append(item["box"]["left"])
            assert rtsp_sessions(service) == 1
        assert len(set(lefts)) > 1  # the square moves, and so does its box

        # Refused without a token, before the socket is accepted.
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(socket):
                pass
        assert rtsp_sessions(service) == 1


async def test_no_track_and_malformed_documents(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        # A camera without a metadata track: an answer, not an error.
        await remount(service, lambda: None)
        body = await poll(service, lambda b: b["hasTrack"] is not None)
        assert (body["state"], body["hasTrack"], body["objects"]) == ("live", False, [])
        assert body["documents"] == 0

        # A camera whose analytics sends unreadable documents: counted, skipped, and
        # the video goes on over the same connection.
        await service.app.state.media.gateway.close_camera("demo")
        await remount(service, BrokenAnalytics)
        body = await poll(service, lambda b: b["malformed"] >= 6 and bool(b["objects"]))
        assert body["hasTrack"] is True
        [item] = body["objects"]
        assert (item["id"], item["class"], item["confidence"]) == (42, "Human", 0.75)
        assert item["box"] == {"left": -0.5, "top": 0.5, "right": 0.25, "bottom": -0.25}
        stats_path = "/api/cameras/demo/stream/stats"
        first = (await service.client.get(stats_path, headers=service.headers)).json()
        await asyncio.sleep(1.0)
        second = (await service.client.get(stats_path, headers=service.headers)).json()
        assert first["state"] == second["state"] == "live"
        assert second["bytes_in"] > first["bytes_in"]
        assert second["reconnects"] == 0
        snapshot = await service.client.get(
            "/api/cameras/demo/stream/snapshot.jpg", headers=service.headers
        )
        assert snapshot.status_code == 200
        assert snapshot.content.startswith(b"\xff\xd8")
