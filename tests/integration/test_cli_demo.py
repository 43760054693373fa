"""`platonicam demo`, what the README's run command starts, as a new user meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

COMMAND = [sys.executable, "-m", "platonicam"]


def test_demo_once_prints_what_the_client_read() -> None:
    result = subprocess.run(
        [*COMMAND, "demo", "--once", "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["identity"]["manufacturer"] == "HIKVISION"
    assert report["identity"]["model"] == "DS-2CD2012-I"
    assert report["auth_mode"] == "ws-security"
    assert [p["token"] for p in report["profiles"]] == ["Profile_1", "Profile_2"]
    # Every address the user is shown points at loopback, never the capture's LAN.
    for profile in report["profiles"]:
        assert profile["stream_uri"].startswith("rtsp://127.0.0.1:")
    for service in report["services"]:
        assert service["url"].startswith("http://127.0.0.1:")


def test_demo_keeps_serving_for_camera_info() -> None:
    demo = subprocess.Popen(
        [*COMMAND, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert demo.stdout is not None
        password = port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and port is None:
            line = demo.stdout.readline()
            if not line:
                break
            if line.strip().startswith("export PLATONICAM_DEMO_PASSWORD="):
                password = line.strip().split("=", 1)[1]
            if line.startswith("READY port="):
                port = line.strip().split("=", 1)[1]
        assert password, "the demo never printed the password"
        assert port, "the demo never said it was ready"
        info = subprocess.run(
            [
                *COMMAND,
                "camera",
                "info",
                "127.0.0.1",
                "--port",
                port,
                "--user",
                "admin",
                "--password-env",
                "DEMO_PW",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DEMO_PW": password},
        )
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["identity"]["serial_number"] == (
            "DS-2CD2012-I20150201CCWR501088621"
        )
        wrong = subprocess.run(
            [
                *COMMAND,
                "camera",
                "info",
                "127.0.0.1",
                "--port",
                port,
                "--user",
                "admin",
                "--password-env",
                "DEMO_PW",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DEMO_PW": "not-the-password"},
        )
        assert wrong.returncode == 2
        assert "wrong username or password" in wrong.stderr
        assert "Traceback" not in wrong.stderr
    finally:
        demo.terminate()
        demo.communicate(timeout=30)
