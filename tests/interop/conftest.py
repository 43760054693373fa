"""Independent ONVIF clients against the reference device: the shared set-up.

Strategy: the device is the real process composition root
(:class:`~platonicam.device.runtime.DeviceRuntime`: SOAP app on uvicorn, RTSP
server, test-pattern streams) on 127.0.0.1 with ephemeral ports, running its
own event loop in a thread for the whole session, so the clients (which run as
subprocesses: onvif-zeep-async under its own virtualenv, the Node ``onvif``
package under node) can be waited for with plain blocking calls while the
device keeps answering. Tests reach into the device only through
:meth:`InteropDevice.run` (a function executed on the device's loop), to fire
events and to read the state the clients' answers are checked against.

Both clients are installed on first use (``.venv-zeep`` and
``node/node_modules``, both gitignored); when PyPI or npm cannot be reached the
tests fail with the installer's message, never skip: an interop run that
silently did not happen would read as a pass in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from platonicam.device.runtime import DeviceRuntime

HERE = Path(__file__).parent
ZEEP_VENV = HERE / ".venv-zeep"
ZEEP_PYTHON = ZEEP_VENV / "bin" / "python"
#: The version Home Assistant pins at the time of writing (4.x line).
ZEEP_REQUIREMENT = "onvif-zeep-async==4.3.0"
NODE_DIR = HERE / "node"
ADMIN_PASSWORD = "interop-admin-1"
_INSTALL_TIMEOUT = 600.0

T = TypeVar("T")


def _run_installer(command: list[str], cwd: Path | None, what: str) -> None:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"cannot install {what}: {exc}", pytrace=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        pytest.fail(
            f"cannot install {what} ({' '.join(command)} exited {done.returncode}):\n{tail}",
            pytrace=False,
        )


def _zeep_installed() -> bool:
    if not ZEEP_PYTHON.exists():
        return False
    wanted = ZEEP_REQUIREMENT.split("==")[1]
    probe = subprocess.run(
        [
            str(ZEEP_PYTHON),
            "-c",
            "import importlib.metadata as m; print(m.version('onvif-zeep-async'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == wanted


@pytest.fixture(scope="session")
def zeep_python() -> Path:
    """The interpreter of a virtualenv holding onvif-zeep-async (created if missing)."""
    if not _zeep_installed():
        if not ZEEP_PYTHON.exists():
            _run_installer([sys.executable, "-m", "venv", str(ZEEP_VENV)], None, "a virtualenv")
        _run_installer(
            [str(ZEEP_PYTHON), "-m", "pip", "install", "--quiet", ZEEP_REQUIREMENT],
            None,
            ZEEP_REQUIREMENT,
        )
        if not _zeep_installed():
            pytest.fail(f"{ZEEP_REQUIREMENT} is not importable after installing it", pytrace=False)
    return ZEEP_PYTHON


def _node_installed() -> bool:
    installed = NODE_DIR / "node_modules" / "onvif" / "package.json"
    lock = NODE_DIR / "package-lock.json"
    if not installed.exists() or not lock.exists():
        return False
    locked = json.loads(lock.read_text())["packages"]["node_modules/onvif"]["version"]
    return bool(json.loads(installed.read_text())["version"] == locked)


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, with the Node ``onvif`` package installed from the lock file."""
    node_path = shutil.which("node")
    npm_path = shutil.which("npm")
    if node_path is None or npm_path is None:
        pytest.fail("node and npm are needed for the Node onvif interop tests", pytrace=False)
    if not _node_installed():
        _run_installer(
            [npm_path, "ci", "--no-audit", "--no-fund"], NODE_DIR, "the Node onvif package"
        )
    return node_path


@dataclass(frozen=True, slots=True)
class ClientRun:
    """What one client subprocess printed: JSON lines, parsed."""

    lines: list[dict[str, Any]]
    stderr: str

    @property
    def single(self) -> dict[str, Any]:
        assert len(self.lines) == 1, self.lines
        return self.lines[0]


class InteropDevice:
    """A :class:`DeviceRuntime` on its own event loop in a thread."""

    host = "127.0.0.1"
    username = "admin"
    password = ADMIN_PASSWORD

    def __init__(self, data_dir: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._runtime = DeviceRuntime(
            data_dir, self.host, 0, 0, discovery=False, admin_password=ADMIN_PASSWORD
        )
        self._stop: asyncio.Event | None = None
        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, name="interop-device", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.result(timeout=60)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with self._runtime:
                self._started.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(exc)
            raise

    def close(self) -> None:
        stop = self._stop
        if stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout=30)

    @property
    def port(self) -> int:
        return self._runtime.port

    @property
    def rtsp_port(self) -> int:
        return self._runtime.rtsp_port

    def run(self, function: Callable[[DeviceRuntime], T]) -> T:
        """Call ``function(runtime)`` on the device's loop and return its result
        (the runtime is not thread-safe: events and state are touched there only)."""
        future: Future[T] = Future()

        def call() -> None:
            try:
                future.set_result(function(self._runtime))
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(call)
        return future.result(timeout=10)

    def client(
        self, command: list[str], *, timeout: float = 60.0, cwd: Path | None = None
    ) -> ClientRun:
        """Run a client script to its end; it must exit 0 and print JSON lines."""
        env = {**os.environ, "NODE_NO_WARNINGS": "1"}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False
        )
        assert done.returncode == 0, f"{command[:2]} exited {done.returncode}:\n{done.stderr}"
        return ClientRun(parse_lines(done.stdout), done.stderr)


def parse_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="session")
def interop_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteropDevice]:
    """One reference device for the whole interop session (its start encodes the
    test-pattern loops, which takes seconds)."""
    device = InteropDevice(tmp_path_factory.mktemp("interop") / "device")
    device.start()
    try:
        yield device
    finally:
        device.close()
