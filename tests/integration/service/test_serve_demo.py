"""``platonicam serve --demo`` as a subprocess: one command, a working camera.

The service starts on a free loopback port with a temporary data folder,
prints its URL and the generated admin password; the demo camera is
registered, its settings read over ONVIF, and discovery finds it by a unicast
probe to loopback only (multicast off).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

URL = re.compile(r"running at (http://127\.0\.0\.1:\d+)")
PASSWORD = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLATONICAM_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platonicam",
            "serve",
            "--demo",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    output = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output += line
        if URL.search(output):
            break
    try:
        url, password = URL.search(output), PASSWORD.search(output)
        assert url is not None, output
        assert password is not None, output
        yield url[1], password[1], process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def test_serve_demo_shows_a_working_camera(
    served: tuple[str, str, subprocess.Popen[str]],
) -> None:
    url, password, _ = served
    with httpx.Client(base_url=url, timeout=20) as client:
        assert client.get("/health").json()["status"] == "ok"
        login = client.post("/api/auth/token", data={"username": "admin", "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        cameras = client.get("/api/cameras", headers=headers).json()["cameras"]
        assert [(c["id"], c["name"], c["ip"]) for c in cameras] == [
            ("demo", "Demo camera", "127.0.0.1")
        ]
        assert cameras[0]["hasPassword"] is True
        settings = client.get("/api/cameras/demo/current-settings", headers=headers).json()
        assert settings["currentSettings"]["stream"]["resolution"] == "1920x1080"
        assert settings["currentSettings"]["stream"]["codec"] == "H264"
        found = client.get("/api/discover?timeout=1", headers=headers).json()
        (camera,) = found["cameras"]
        # The only probe went to the demo device on loopback: no multicast.
        assert (camera["ip"], camera["name"], camera["registered_camera_id"]) == (
            "127.0.0.1",
            "Demo camera",
            "demo",
        )
        assert camera["xaddrs"][0].startswith("http://127.0.0.1:")
