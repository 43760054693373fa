"""The real service on a loopback socket with its embedded demo camera, for media tests.

``create_app(demo=True)`` runs the reference device in-process on 127.0.0.1
(ONVIF, RTSP, discovery by unicast only) and registers it as camera ``demo``;
uvicorn serves the app on a free 127.0.0.1 port, so independent players
(ffprobe, ffmpeg, Chromium) can reach it. Nothing listens beyond loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from platonicam.config import load_settings
from platonicam.service.app import create_app
from tests.integration.service.foundation import FAST_PASSWORDS

ADMIN_LINE = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (pytest owns the process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class LiveService:
    app: FastAPI
    base: str
    admin_password: str
    client: httpx.AsyncClient
    headers: dict[str, str]

    @property
    def demo_password(self) -> str:
        demo = self.app.state.demo
        return str(demo._password)


@contextlib.asynccontextmanager
async def live_service(data_dir: Path) -> AsyncIterator[LiveService]:
    """Start the service with the demo camera; yield it logged in as the first admin."""
    console = io.StringIO()
    settings = load_settings(None, data_dir=data_dir)
    app = create_app(settings, passwords=FAST_PASSWORDS, console=console, demo=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = _Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(120):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the service did not start")
                await asyncio.sleep(0.05)
        match = ADMIN_LINE.search(console.getvalue())
        assert match is not None, console.getvalue()
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            reply = await client.post(
                "/api/auth/token", data={"username": "admin", "password": match[1]}
            )
            reply.raise_for_status()
            headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}
            yield LiveService(app, base, match[1], client, headers)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        sock.close()


async def run(*command: str, timeout: float) -> tuple[int, str, str]:
    """Run an independent tool; (return code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")
