"""``platonicam camera add|list|show|settings|apply|rollback`` against a real service.

Everything is a real process on loopback: ``platonicam serve`` (temporary
data folder, multicast discovery off), ``platonicam device`` (the reference
camera, with RTSP), and the CLI itself, run once per command with its own
config folder (``XDG_CONFIG_HOME``) so the token cache is the test's. After an
apply, Debian's ``/usr/bin/ffprobe`` reads the device's RTSP stream: the new
resolution must be what it sees. No output may contain a password.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FFPROBE = "/usr/bin/ffprobe"
CAMERA_PASSWORD = "cam-secret-Q8v3"
SERVICE_URL = re.compile(r"running at (http://127\.0\.0\.1:\d+)")
ADMIN_PASSWORD = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)
DEVICE_READY = re.compile(r"READY port=(\d+) rtsp_port=(\d+)")


def _environment(**extra: str) -> dict[str, str]:
    # No proxies (every address here is loopback) and none of the caller's
    # PLATONICAM_ settings.
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PLATONICAM_") and "proxy" not in k.lower()
    }
    return {**keep, **extra}


def _start(
    arguments: list[str], pattern: re.Pattern[str], env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "platonicam", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    output = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output += line
        if pattern.search(output):
            return process, output
    _stop(process)
    raise AssertionError(f"{arguments[0]} did not start: {output}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@dataclass
class Setup:
    url: str
    admin_password: str
    device_port: int
    config: Path
    secrets: tuple[str, ...]

    def cli(
        self, *arguments: str, config: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``platonicam camera ARGUMENTS --server URL``; standard input is empty."""
        result = subprocess.run(
            [sys.executable, "-m", "platonicam", "camera", *arguments, "--server", self.url],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=90,
            check=False,
            env=_environment(
                XDG_CONFIG_HOME=str(config or self.config),
                ADMIN_PW=self.admin_password,
                CAM_PW=CAMERA_PASSWORD,
                COLUMNS="200",  # rich tables at full width, one row per line
                **env,
            ),
        )
        for secret in self.secrets:
            assert secret not in result.stdout + result.stderr
        return result


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("cli-service")
    service, output = _start(
        ["serve", "--port", "0", "--data-dir", str(root / "service")],
        SERVICE_URL,
        _environment(
            PLATONICAM_DISCOVERY__MULTICAST="false",
            PLATONICAM_DISCOVERY__UNICAST_TARGETS="[]",
        ),
    )
    try:
        device, device_output = _start(
            [
                "device",
                "--port",
                "0",
                "--rtsp-port",
                "0",
                "--no-discovery",
                "--data-dir",
                str(root / "device"),
            ],
            DEVICE_READY,
            _environment(PLATONICAM_ADMIN_PASSWORD=CAMERA_PASSWORD),
        )
    except BaseException:
        _stop(service)
        raise
    try:
        url, password = SERVICE_URL.search(output), ADMIN_PASSWORD.search(output)
        ready = DEVICE_READY.search(device_output)
        assert url is not None
        assert password is not None
        assert ready is not None
        yield Setup(
            url[1],
            password[1],
            int(ready[1]),
            root / "config",
            (password[1], CAMERA_PASSWORD),
        )
    finally:
        _stop(device)
        _stop(service)


def _ffprobe_size(device_port: int, tmp: Path) -> tuple[str, int, int]:
    """Codec, width and height of the device's main stream, as ffprobe reads them."""
    info = subprocess.run(
        [
            sys.executable,
            "-m",
            "platonicam",
            "camera",
            "info",
            "127.0.0.1",
            "--port",
            str(device_port),
            "--password-env",
            "CAM_PW",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=_environment(CAM_PW=CAMERA_PASSWORD),
    )
    (profile,) = [p for p in json.loads(info.stdout)["profiles"] if p["token"].endswith("main")]
    uri = profile["stream_uri"]
    assert uri.startswith("rtsp://127.0.0.1:")
    probe = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
            uri.replace("rtsp://", f"rtsp://admin:{CAMERA_PASSWORD}@"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (stream,) = json.loads(probe.stdout)["streams"]
    return stream["codec_name"], stream["width"], stream["height"]


def test_add_list_show_settings_then_apply_and_rollback(setup: Setup, tmp_path: Path) -> None:
    added = setup.cli(
        "add",
        "--ip",
        "127.0.0.1",
        "--port",
        str(setup.device_port),
        "--username",
        "admin",
        "--password-env",
        "CAM_PW",
        "--name",
        "Yard",
        "--login-password-env",
        "ADMIN_PW",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    camera = json.loads(added.stdout)
    assert (camera["name"], camera["ip"], camera["port"]) == (
        "Yard",
        "127.0.0.1",
        setup.device_port,
    )
    assert camera["hasPassword"] is True
    assert "password" not in camera
    camera_id = camera["id"]

    # The token is cached, readable by its owner only: no password needed now.
    tokens = setup.config / "platonicam" / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert set(json.loads(tokens.read_text())) == {f"{setup.url}|admin"}

    listed = setup.cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(c["id"], c["name"]) for c in json.loads(listed.stdout)["cameras"]] == [
        (camera_id, "Yard")
    ]
    table = setup.cli("list")
    assert table.returncode == 0, table.stderr
    assert "Yard" in table.stdout
    assert f"127.0.0.1:{setup.device_port}" in table.stdout

    shown = setup.cli("show", camera_id, "--json")
    assert json.loads(shown.stdout)["manufacturer"] == "PlatoniCam"

    current = setup.cli("settings", camera_id, "--json")
    assert current.returncode == 0, current.stderr
    stream = json.loads(current.stdout)["currentSettings"]["stream"]
    assert (stream["resolution"], stream["codec"], stream["gop"]) == ("1920x1080", "H264", 50)
    assert "1920x1080" in setup.cli("settings", camera_id).stdout

    applied = setup.cli(
        "apply", camera_id, "--resolution", "1280x720", "--bitrate-mbps", "2", "--gop", "25"
    )
    assert applied.returncode == 0, applied.stderr
    # The progress went to stderr, step by step; the verification to stdout.
    for step in ("connect", "read_current", "plan", "apply_stream", "read_back", "verify"):
        assert f"{step}: done" in applied.stderr
    assert "100%" in applied.stderr
    assert "completed" in applied.stdout
    assert "verified" in applied.stdout
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:6]]
        for line in applied.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows == {
        "stream.resolution": ["1920x1080", "1280x720", "1280x720", "ok"],
        "stream.bitrateMbps": ["4.096", "2", "2", "ok"],
        "stream.gop": ["50", "25", "25", "ok"],
    }
    assert _ffprobe_size(setup.device_port, tmp_path) == ("h264", 1280, 720)

    again = setup.cli("apply", camera_id, "--resolution", "640x360", "--json")
    assert again.returncode == 0, again.stderr
    job = json.loads(again.stdout)
    assert job["status"] == "completed"
    assert job["progress"] == 100
    assert job["result"]["verification_status"] == "verified"
    assert job["result"]["applied_settings"] == {"stream": {"resolution": "640x360"}}

    rolled = setup.cli("rollback", job["job_id"], "--json")
    assert rolled.returncode == 0, rolled.stderr
    rollback = json.loads(rolled.stdout)["result"]["rollback"]
    assert (rollback["status"], rollback["verification_status"]) == ("completed", "verified")
    assert rollback["applied_settings"] == {"stream": {"resolution": "1280x720"}}
    after = json.loads(setup.cli("settings", camera_id, "--json").stdout)
    assert after["currentSettings"]["stream"]["resolution"] == "1280x720"
    assert _ffprobe_size(setup.device_port, tmp_path) == ("h264", 1280, 720)


def test_an_impossible_setting_is_one_line_naming_the_allowed_values(setup: Setup) -> None:
    login = setup.cli("list", "--password-env", "ADMIN_PW")
    assert login.returncode == 0, login.stderr
    cameras = json.loads(setup.cli("list", "--json").stdout)["cameras"]
    camera_id = cameras[0]["id"]

    refused = setup.cli("apply", camera_id, "--resolution", "1281x720")

    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(
        "error: Nothing was sent: stream.resolution 1281x720 is not offered for H264 (allowed: "
    )
    assert "Traceback" not in refused.stderr


def test_wrong_login_password_is_one_line_and_exit_2(setup: Setup, tmp_path: Path) -> None:
    refused = setup.cli(
        "list", "--password-env", "WRONG", config=tmp_path, WRONG="not-the-password-1"
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "error: Wrong user name or password. "
        "Try: check --user and the password (--password-env VAR or the prompt)\n"
    )
    assert "not-the-password-1" not in refused.stderr
    assert not (tmp_path / "platonicam" / "tokens.json").exists()


def test_no_password_and_no_terminal_is_one_line(setup: Setup, tmp_path: Path) -> None:
    refused = setup.cli("list", config=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: a login to the service is needed and no password was given for admin. "
        "Try: --password-env VAR (or --login-password-env VAR for add)\n"
    )


def test_unknown_camera_and_job_are_one_line(setup: Setup) -> None:
    assert setup.cli("list", "--password-env", "ADMIN_PW").returncode == 0
    missing = setup.cli("show", "no-such-camera")
    assert missing.returncode == 2
    assert missing.stderr == (
        "error: No camera named 'no-such-camera'. "
        "Try: `platonicam camera list` shows the camera ids\n"
    )
    no_job = setup.cli("rollback", "0123456789abcdef", "--json")
    assert no_job.returncode == 2
    assert no_job.stdout == ""
    assert no_job.stderr.startswith("error: ")
    assert no_job.stderr.count("\n") == 1


def test_an_unreachable_service_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "platonicam", "camera", "list", "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
        env=_environment(XDG_CONFIG_HOME=str(tmp_path), PLATONICAM_SERVER="http://127.0.0.1:9"),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: cannot reach the PlatoniCam service at http://127.0.0.1:9 ("
    )
    assert result.stderr.endswith(
        "Try: start it with `platonicam serve`, or give --server URL (or set PLATONICAM_SERVER)\n"
    )


def test_an_expired_access_token_is_refreshed_without_a_password(setup: Setup) -> None:
    assert setup.cli("list", "--password-env", "ADMIN_PW").returncode == 0
    tokens = setup.config / "platonicam" / "tokens.json"
    cached = json.loads(tokens.read_text())
    key = f"{setup.url}|admin"
    old_refresh = cached[key]["refresh_token"]
    cached[key]["expires_at"] = 0
    tokens.write_text(json.dumps(cached))

    listed = setup.cli("list", "--json")  # no password source: stdin is empty

    assert listed.returncode == 0, listed.stderr
    renewed = json.loads(tokens.read_text())[key]
    assert renewed["refresh_token"] != old_refresh
    assert renewed["expires_at"] > time.time()
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
