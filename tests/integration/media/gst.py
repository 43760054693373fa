"""Start Debian's GStreamer RTSP server (``gst_rtsp_server.py`` beside this file) for a test.

The helper runs under the SYSTEM Python, which has the GObject bindings; tests
are skipped when those packages are not installed (``scripts/install`` installs
them on Debian).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")


def gstreamer_available() -> bool:
    """Whether the system Python can import GStreamer's RTSP server bindings."""
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import GstRtspServer"
    )
    result = subprocess.run(  # a one-off check at collection time
        [SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30, check=False
    )
    return result.returncode == 0


needs_gstreamer = pytest.mark.skipif(
    not gstreamer_available(), reason="GStreamer's RTSP server (python3-gst-1.0) is not installed"
)


@contextlib.asynccontextmanager
async def gst_server(
    codec: str, gop: int, *, port: int = 0, audio: bool = False
) -> AsyncIterator[str]:
    """Run the server (bound to 127.0.0.1) and yield its stream's URL; stops it on exit.
    ``audio`` adds an AAC track (a camera with sound)."""
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON,
        str(SCRIPT),
        "--codec",
        codec,
        "--gop",
        str(gop),
        "--port",
        str(port),
        *(["--audio"] if audio else []),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            line = (await process.stdout.readline()).decode().split()
        assert line[:1] == ["READY"], f"the GStreamer server did not start: {line}"
        yield f"rtsp://127.0.0.1:{line[1]}/test"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        await process.communicate()
