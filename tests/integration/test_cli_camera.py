"""`platonicam camera info` as a user runs it: a subprocess against a replayed camera.

The replay camera runs on its own loop in a thread; the CLI is the real
``python -m platonicam`` process. Every test checks that the password shows up
in no output.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import trustme

from platonicam.testing import ReplayCamera, ReplayCameraThread
from tests.corpus import CORPUS

PASSWORD = "s3cret-Pass-77"
TRENDNET = "trendnet_TV-IP320PI"


def run_cli(
    port: int, *extra: str, password: str = PASSWORD, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATONICAM_")}
    env["CAM_PASSWORD"] = password
    args: Sequence[str] = [
        sys.executable,
        "-m",
        "platonicam",
        "camera",
        "info",
        "127.0.0.1",
        "--port",
        str(port),
        "--user",
        "admin",
        *extra,
    ]
    if stdin is None and "--password-env" not in extra:
        args = [*args, "--password-env", "CAM_PASSWORD"]
    result = subprocess.run(
        args, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    assert password not in result.stdout
    assert password not in result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def trendnet() -> Iterator[ReplayCamera]:
    camera = ReplayCamera(CORPUS, TRENDNET, auth="digest", password=PASSWORD)
    with ReplayCameraThread(camera) as running:
        yield running


def test_json_report(trendnet: ReplayCamera) -> None:
    result = run_cli(trendnet.port, "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    # device/trendnet_TV-IP320PI_GetDeviceInformation.xml
    assert report["identity"] == {
        "manufacturer": "TRENDnet",
        "model": "TV-IP320PI",
        "firmware_version": "V5.3.4 build 160830",
        "serial_number": "TV-IP320PI20161206AAWR863642784",
        "hardware_id": "88",
    }
    assert report["auth_mode"] == "digest"
    assert report["clock"]["camera_utc"] == "2018-02-27T18:36:51+00:00"
    assert report["clock"]["offset_seconds"] < -200_000_000  # years behind
    services = {s["kind"]: s for s in report["services"] if s["kind"]}
    assert services["media"]["version"] == "2.40"
    assert services["media"]["url"] == f"http://127.0.0.1:{trendnet.port}/onvif/Media"
    assert services["deviceio"]["version"] == "2.21"
    # media/trendnet_TV-IP320PI_GetProfiles.xml
    profiles = {p["token"]: p for p in report["profiles"]}
    assert list(profiles) == ["Profile_1", "Profile_2"]
    main = profiles["Profile_1"]
    assert main["name"] == "mainStream"
    assert main["encoder"] == {
        "token": "VideoEncoderToken_1",
        "name": "VideoEncoder_1",
        "encoding": "H264",
        "width": 1280,
        "height": 720,
        "frame_rate_limit": 30.0,
        "bitrate_limit_kbps": 2048,
        "gov_length": 60,
        "profile": "Main",
        "quality": 3.0,
    }
    assert profiles["Profile_2"]["encoder"]["encoding"] == "JPEG"
    # media/trendnet_TV-IP320PI_GetStreamUri.xml and _GetSnapshotUri.xml, on loopback.
    assert main["stream_uri"] == (
        "rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast&profile=Profile_2"
    )
    assert main["snapshot_uri"] == (
        f"http://127.0.0.1:{trendnet.port}/onvif-http/snapshot?Profile_2"
    )
    capabilities = report["capabilities"]
    assert capabilities["profile_s"] is True
    assert capabilities["profile_t"] is False
    assert capabilities["codecs"] == ["H264", "JPEG"]
    assert capabilities["h265"] is False
    assert capabilities["resolutions"] == ["1280x720", "352x240"]
    assert capabilities["max_fps"] == 30.0
    assert capabilities["ptz"] is False
    assert capabilities["events"] is True
    assert capabilities["audio"] is False  # no audio encoder in the captured profiles


def test_tables(trendnet: ReplayCamera) -> None:
    result = run_cli(trendnet.port)
    assert result.returncode == 0, result.stderr
    for expected in ("TV-IP320PI", "TRENDnet", "Profile_1", "mainStream", "1280x720", "H264"):
        assert expected in result.stdout


def test_password_prompt_when_no_env_option(trendnet: ReplayCamera) -> None:
    result = run_cli(trendnet.port, "--json", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["identity"]["model"] == "TV-IP320PI"


def test_missing_environment_variable() -> None:
    result = run_cli(1, "--password-env", "PLATONICAM_TEST_NOT_SET")
    assert result.returncode == 2
    assert "PLATONICAM_TEST_NOT_SET is not set" in result.stderr


# ----------------------------------------------------------------------------- failures


def _single_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Try:" in lines[0]
    return lines[0]


def test_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = _single_error_line(run_cli(port))
    assert f"cannot connect to 127.0.0.1:{port}" in line
    assert "--port" in line


def test_timeout() -> None:
    camera = ReplayCamera(CORPUS, TRENDNET, hang={"GetSystemDateAndTime"})
    with ReplayCameraThread(camera) as running:
        line = _single_error_line(run_cli(running.port, "--timeout", "0.5"))
    assert "accepted the connection but did not answer in time" in line


def test_wrong_password(trendnet: ReplayCamera) -> None:
    line = _single_error_line(run_cli(trendnet.port, password="wrong-pass-1"))
    assert "wrong username or password" in line


def test_wrong_password_with_ws_security() -> None:
    camera = ReplayCamera(
        CORPUS, TRENDNET, auth="ws-security", password=PASSWORD, camera_time=datetime.now(UTC)
    )
    with ReplayCameraThread(camera) as running:
        line = _single_error_line(run_cli(running.port, password="wrong-pass-1"))
    assert "wrong username or password" in line


def test_clock_skew() -> None:
    # The camera reports its captured 2018 clock but checks tokens against today:
    # no offset can help, and the clocks are years apart.
    captured = (CORPUS / "device/trendnet_TV-IP320PI_GetSystemDateAndTime.xml").read_bytes()
    camera = ReplayCamera(
        CORPUS,
        TRENDNET,
        auth="ws-security",
        password=PASSWORD,
        camera_time=datetime.now(UTC),
        responses={"GetSystemDateAndTime": captured},
    )
    with ReplayCameraThread(camera) as running:
        line = _single_error_line(run_cli(running.port))
    assert "its clock is" in line
    assert "days behind ours" in line
    assert "set the camera's time (NTP)" in line


def test_not_an_onvif_device() -> None:
    camera = ReplayCamera(
        CORPUS, TRENDNET, responses={"GetSystemDateAndTime": b"<html><body>router</body></html>"}
    )
    with ReplayCameraThread(camera) as running:
        line = _single_error_line(run_cli(running.port))
    assert f"127.0.0.1:{running.port} did not answer like an ONVIF device" in line


@pytest.fixture(scope="module")
def tls_context() -> ssl.SSLContext:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_tls_untrusted_then_insecure(tls_context: ssl.SSLContext) -> None:
    camera = ReplayCamera(
        CORPUS, TRENDNET, auth="digest", password=PASSWORD, ssl_context=tls_context
    )
    with ReplayCameraThread(camera) as running:
        line = _single_error_line(run_cli(running.port, "--https"))
        assert "TLS certificate" in line
        assert "--insecure" in line
        result = run_cli(running.port, "--https", "--insecure", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["services"][0]["url"] == f"https://127.0.0.1:{running.port}/onvif/device_service"
