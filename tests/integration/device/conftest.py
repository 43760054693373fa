"""A reference device served by uvicorn on 127.0.0.1 (ephemeral port), and clients for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from platonicam.clock import Clock, SystemClock
from platonicam.device.app import DeviceApp, create_device_app
from platonicam.device.core import DeviceOptions
from platonicam.device.state import DeviceState
from platonicam.device.streams import NullStreams, StreamManager
from platonicam.onvif.client import AuthMode, OnvifClient
from platonicam.onvif.models.device import User, UserLevel
from tests.conftest import LoopbackOnlyTransport

ADMIN = ("admin", "admin-secret-1")
OPERATOR = ("operator", "operator-secret-1")
VIEWER = ("viewer", "viewer-secret-1")


@dataclass
class RunningDevice:
    app: DeviceApp
    port: int
    streams: StreamManager
    reboots: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(
        self,
        credentials: tuple[str, str] | None = ADMIN,
        *,
        auth_mode: AuthMode = "auto",
        clock: Clock | None = None,
    ) -> OnvifClient:
        username, password = credentials if credentials is not None else (None, None)
        return OnvifClient(
            "127.0.0.1",
            self.port,
            username,
            password,
            transport=LoopbackOnlyTransport(),
            auth_mode=auth_mode,
            clock=clock,
        )


async def serve(app: DeviceApp) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, port


async def start_device(
    data_dir: Path,
    *,
    clock: Clock | None = None,
    streams: StreamManager | None = None,
    channels: int = 1,
) -> tuple[RunningDevice, uvicorn.Server, asyncio.Task[None]]:
    state = DeviceState.load(data_dir, channels=channels)
    reboots: list[str] = []

    async def reboot() -> None:
        reboots.append("reboot")

    options = DeviceOptions(clock=clock or SystemClock(), reboot=reboot, reboot_delay=0.0)
    stream_manager = streams or NullStreams(rtsp_port=8554)
    app = create_device_app(state, stream_manager, options)
    if not state.users.users:
        app.device.users.create(
            [
                User(ADMIN[0], UserLevel.ADMINISTRATOR, ADMIN[1]),
                User(OPERATOR[0], UserLevel.OPERATOR, OPERATOR[1]),
                User(VIEWER[0], UserLevel.USER, VIEWER[1]),
            ]
        )
    await app.device.start()
    server, task, port = await serve(app)
    return RunningDevice(app, port, stream_manager, reboots), server, task


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[RunningDevice]:
    running, server, task = await start_device(tmp_path / "data")
    yield running
    server.should_exit = True
    await task
