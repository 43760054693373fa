"""The service and the reference device as processes of their own on 127.0.0.1, for fault tests.

:func:`service_process` runs ``platonicam serve`` (port 0 unless told, over a
data folder that may outlive it, no ``PLATONICAM_*`` variables from the caller)
and yields its URL, the first admin's password and everything it wrote on stderr
(its log: warnings, errors and tracebacks reach it through logging's last-resort
handler and uvicorn's).
:class:`DeviceProcess` runs ``platonicam device`` on fixed ports with a data
folder that outlives it, so a test can ``kill -9`` it and start it again where
it was, with the same state files: a camera that loses power and comes back.

Every pipe is drained by a task (a full pipe would block the child) and every
child is killed when the block or the test ends. Nothing listens beyond loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

URL_LINE = re.compile(r"running at (http://127\.0\.0\.1:\d+)")
ADMIN_LINE = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)
DEVICE_USER = "admin"
DEVICE_PASSWORD = "fault-device-pass-3"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without PlatoniCam settings (they would change the child)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLATONICAM_")}
    environment.update(extra)
    return environment


async def _drain(stream: asyncio.StreamReader, sink: list[str]) -> None:
    while line := await stream.readline():
        sink.append(line.decode(errors="replace"))


async def _read_until(
    stream: asyncio.StreamReader, sink: list[str], pattern: re.Pattern[str], timeout: float
) -> re.Match[str] | None:
    """Read lines into ``sink`` until ``pattern`` matches the text so far (or EOF/timeout)."""
    try:
        async with asyncio.timeout(timeout):
            while line := await stream.readline():
                sink.append(line.decode(errors="replace"))
                if match := pattern.search("".join(sink)):
                    return match
    except TimeoutError:
        pass
    return None


async def _end(process: asyncio.subprocess.Process, sig: int, grace: float) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


@dataclass
class ServiceProcess:
    """A running ``platonicam serve``: ``stderr`` holds its log lines so far."""

    base: str
    admin_password: str
    process: asyncio.subprocess.Process
    stdout: list[str]
    stderr: list[str]

    @property
    def log(self) -> str:
        return "".join(self.stderr)

    async def login(self, client: httpx.AsyncClient) -> dict[str, str]:
        """Headers with a bearer token for the first admin."""
        reply = await client.post(
            "/api/auth/token", data={"username": "admin", "password": self.admin_password}
        )
        reply.raise_for_status()
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}

    async def add_camera(
        self, client: httpx.AsyncClient, headers: dict[str, str], name: str, port: int
    ) -> str:
        """Register the ONVIF device at 127.0.0.1:``port``; its camera id."""
        reply = await client.post(
            "/api/cameras",
            json={
                "name": name,
                "ip": "127.0.0.1",
                "port": port,
                "username": DEVICE_USER,
                "password": DEVICE_PASSWORD,
            },
            headers=headers,
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])


@contextlib.asynccontextmanager
async def service_process(
    data_dir: Path, port: int = 0, admin_password: str | None = None
) -> AsyncIterator[ServiceProcess]:
    """``platonicam serve --port PORT --data-dir DATA_DIR``, stopped (SIGINT) at exit.

    A service started again over a data folder that has users prints no password:
    pass the one the first start printed as ``admin_password``.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "platonicam",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # The RTSP restream on a free port: 8554 may be another service's or device's.
        env=child_environment(PLATONICAM_MEDIA__RTSP_PORT="0"),
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stdout: list[str] = []
    stderr: list[str] = []
    drains = [asyncio.create_task(_drain(process.stderr, stderr))]
    try:
        url = await _read_until(process.stdout, stdout, URL_LINE, 90)
        drains.append(asyncio.create_task(_drain(process.stdout, stdout)))
        printed = ADMIN_LINE.search("".join(stdout))
        password = printed[1] if printed is not None else admin_password
        assert url is not None, "".join(stdout + stderr)
        assert password is not None, "".join(stdout + stderr)
        yield ServiceProcess(url[1], password, process, stdout, stderr)
    finally:
        await _end(process, signal.SIGINT, 20)
        for drain in drains:
            drain.cancel()
        await asyncio.gather(*drains, return_exceptions=True)


@dataclass
class DeviceProcess:
    """``platonicam device`` on fixed loopback ports over one data folder (see module doc).

    :meth:`start` may be called again after :meth:`kill`: the same ports, the
    same state files, the same admin password (already stored in the folder).
    """

    data_dir: Path
    port: int = field(default_factory=free_port)
    rtsp_port: int = field(default_factory=free_port)
    output: list[str] = field(default_factory=list)
    starts: int = 0
    _process: asyncio.subprocess.Process | None = None
    _drains: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self, timeout: float = 90) -> None:
        """Start the device and wait for its ``READY`` line."""
        assert not self.running, "the device is already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "platonicam",
            "device",
            "--data-dir",
            str(self.data_dir),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--rtsp-port",
            str(self.rtsp_port),
            "--no-discovery",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=child_environment(PLATONICAM_ADMIN_PASSWORD=DEVICE_PASSWORD),
        )
        self._process = process
        self.starts += 1
        assert process.stdout is not None
        lines: list[str] = []
        ready = await _read_until(process.stdout, lines, re.compile(r"^READY ", re.M), timeout)
        self.output += lines
        if ready is None:
            await self.kill()
            raise AssertionError(f"the device did not start: {''.join(lines)}")
        self._drains.append(asyncio.create_task(_drain(process.stdout, self.output)))

    async def kill(self) -> None:
        """``kill -9``: no TEARDOWN, no FIN from the application, the state files as they are."""
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        for drain in self._drains:
            drain.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)
        self._drains.clear()

    async def stop(self) -> None:
        """SIGTERM (a clean stop), SIGKILL when it does not end in time."""
        if self._process is not None:
            await _end(self._process, signal.SIGTERM, 15)
        await self.kill()


@contextlib.asynccontextmanager
async def device_process(data_dir: Path) -> AsyncIterator[DeviceProcess]:
    """A started :class:`DeviceProcess`, stopped at exit whatever state the test left it in."""
    device = DeviceProcess(data_dir)
    try:
        await device.start()
        yield device
    finally:
        await device.stop()
