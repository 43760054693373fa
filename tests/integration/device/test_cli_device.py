"""``platonicam device`` as a subprocess on 127.0.0.1: clients, ffprobe, triggers, users, reboot.

Every subprocess is bounded by timeouts and killed in the fixtures' finalizers.
Discovery answers unicast on a free port of 127.0.0.1 (``--discovery-port``),
so nothing multicasts; the multicast side (Hello, Bye on SIGTERM) runs in a
network namespace in ``test_runtime_netns.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from platonicam.discovery import probe_unicast
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import OnvifError
from tests.conftest import LoopbackOnlyTransport

PASSWORD = "device-admin-secret-1"
FFPROBE = "/usr/bin/ffprobe"


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DeviceProcess:
    process: subprocess.Popen[str]
    data_dir: Path
    port: int
    rtsp_port: int
    discovery_port: int
    output: list[str]

    @contextlib.asynccontextmanager
    async def client(
        self, username: str = "admin", password: str = PASSWORD
    ) -> AsyncIterator[OnvifClient]:
        """A connected client whose loopback-only transport is closed afterwards."""
        transport = LoopbackOnlyTransport()
        try:
            async with OnvifClient(
                "127.0.0.1", self.port, username, password, transport=transport
            ) as client:
                yield client
        finally:
            await transport.aclose()


def read_until_ready(process: subprocess.Popen[str], timeout: float = 60.0) -> list[str]:
    """stdout lines up to and including ``READY ...``; fails with stderr if it exits.

    Reads the pipe's descriptor directly (no Python buffering), so ``select``
    never sleeps on lines already read into a buffer.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    pending = b""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.2):
                if process.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                lines.append(raw.decode())
                if lines[-1].startswith("READY "):
                    return lines
    stderr = process.stderr.read() if process.stderr and process.poll() is not None else ""
    pytest.fail(f"device did not become ready: {lines!r} {stderr}")


def start_device(
    data_dir: Path, *extra: str, password: str | None = PASSWORD
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PLATONICAM_ADMIN_PASSWORD"}
    if password is not None:
        env["PLATONICAM_ADMIN_PASSWORD"] = password
    return subprocess.Popen(
        [sys.executable, "-m", "platonicam", "device", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return process.returncode


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platonicam", "device", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeviceProcess]:
    data_dir = tmp_path_factory.mktemp("device")
    port, rtsp_port = free_port(), free_port()
    discovery_port = free_port(socket.SOCK_DGRAM)
    process = start_device(
        data_dir,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--rtsp-port",
        str(rtsp_port),
        "--discovery-port",
        str(discovery_port),
        "--name",
        "Test Door",
        "--location",
        "lab",
    )
    try:
        output = read_until_ready(process)
        yield DeviceProcess(process, data_dir, port, rtsp_port, discovery_port, output)
    finally:
        stop(process)


def test_ready_output_names_the_addresses_and_no_password(device: DeviceProcess) -> None:
    text = "\n".join(device.output)
    assert f"http://127.0.0.1:{device.port}/onvif/device_service" in text
    assert f"rtsp://127.0.0.1:{device.rtsp_port}/profile/Profile_1_main" in text
    assert PASSWORD not in text  # given by the environment: never echoed
    assert device.output[-1] == (
        f"READY port={device.port} rtsp_port={device.rtsp_port} "
        f"discovery_port={device.discovery_port}"
    )
    assert (device.data_dir / "control.sock").stat().st_mode & 0o777 == 0o600


async def test_client_reads_profiles_and_ffprobe_reads_the_stream(device: DeviceProcess) -> None:
    async with device.client() as client:
        info = await client.device.get_device_information()
        profiles = await client.media.get_profiles()
        main = next(p for p in profiles if p.token == "Profile_1_main")
        uri = await client.media.get_stream_uri(main.token)
    assert info.manufacturer == "PlatoniCam"
    encoder = main.video_encoder_configuration
    assert encoder is not None
    assert encoder.resolution is not None
    assert uri.uri == f"rtsp://127.0.0.1:{device.rtsp_port}/profile/Profile_1_main"
    with_credentials = uri.uri.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")
    probe = await asyncio.to_thread(
        subprocess.run,
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
            with_credentials,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    (stream,) = json.loads(probe.stdout)["streams"]
    assert stream == {
        "codec_name": "h264",
        "width": encoder.resolution.width,
        "height": encoder.resolution.height,
    }
    # Without credentials the RTSP server refuses.
    refused = await asyncio.to_thread(
        subprocess.run,
        [FFPROBE, "-v", "error", "-rtsp_transport", "tcp", uri.uri],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0
    assert "401" in refused.stderr


async def test_unicast_probe_finds_the_device_with_its_scopes(device: DeviceProcess) -> None:
    (found,) = await probe_unicast("127.0.0.1", port=device.discovery_port, timeout=1.0, repeat=1)
    assert found.xaddrs == (f"http://127.0.0.1:{device.port}/onvif/device_service",)
    assert (found.name, found.location, found.model) == ("Test Door", "lab", "Reference Camera")
    assert found.profiles == ("S", "T")


async def test_trigger_motion_reaches_a_pullpoint_within_two_seconds(
    device: DeviceProcess,
) -> None:
    async with device.client() as client:
        subscription = await client.events.create_pull_point_subscription(
            initial_termination=timedelta(minutes=1)
        )
        initial = await subscription.pull(timedelta(seconds=1))
        motion_initial = [e for e in initial if e.topic == "VideoSource/MotionAlarm"]
        assert [e.data for e in motion_initial] == [{"State": "false"}]
        started = time.monotonic()
        done = cli("trigger", "motion", "--state", "on", "--data-dir", str(device.data_dir))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "motion: motion, cell_motion changed"
        events = await subscription.pull(timedelta(seconds=2))
        elapsed = time.monotonic() - started
        off = cli("trigger", "motion", "--state", "off", "--data-dir", str(device.data_dir))
        assert off.returncode == 0, off.stderr
        after = await subscription.pull(timedelta(seconds=2))
    motion = [e for e in events if e.topic == "VideoSource/MotionAlarm"]
    assert [(e.source, e.data) for e in motion] == [
        ({"Source": "VideoSource_1"}, {"State": "true"})
    ]
    cell = [e for e in events if e.topic == "RuleEngine/CellMotionDetector/Motion"]
    assert [e.data for e in cell] == [{"IsMotion": "true"}]
    assert elapsed < 2.0 + 2.0  # the CLI process start included; the event itself comes at once
    assert [e.data for e in after if e.topic == "VideoSource/MotionAlarm"] == [{"State": "false"}]


def test_trigger_input_and_bad_arguments(device: DeviceProcess) -> None:
    data = ("--data-dir", str(device.data_dir))
    done = cli("trigger", "input", "2", "--state", "on", *data)
    assert (done.returncode, done.stdout.strip()) == (0, "input: digital_input changed")
    missing = cli("trigger", "input", "9", "--state", "on", *data)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no digital input 9 (the device has 4)"
    unknown = cli("trigger", "smoke", *data)
    assert unknown.returncode == 2
    assert "Traceback" not in unknown.stderr


async def test_users_cli_while_the_device_runs(device: DeviceProcess) -> None:
    data = ("--data-dir", str(device.data_dir))
    env = {"NEW_USER_PASSWORD": "operator-secret-9"}
    created = cli(
        "users", "create", "olga", "--level", "Operator", "--password-env", "NEW_USER_PASSWORD",
        *data, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = cli("users", "list", *data)
    assert listed.stdout.splitlines() == ["admin\tAdministrator", "olga\tOperator"]
    async with device.client("olga", "operator-secret-9") as client:
        users_seen = await client.device.get_device_information()
    assert users_seen.model == "Reference Camera"
    updated = cli("users", "update", "olga", "--level", "User", *data)
    assert updated.returncode == 0, updated.stderr
    assert cli("users", "list", *data).stdout.splitlines()[1] == "olga\tUser"
    deleted = cli("users", "delete", "olga", *data)
    assert deleted.returncode == 0, deleted.stderr
    assert cli("users", "list", *data).stdout.splitlines() == ["admin\tAdministrator"]
    with pytest.raises(OnvifError):
        async with device.client("olga", "operator-secret-9") as client:
            await client.device.get_device_information()
    last_admin = cli("users", "delete", "admin", *data)
    assert last_admin.returncode == 2
    assert "at least one Administrator" in last_admin.stderr


async def test_system_reboot_comes_back(device: DeviceProcess) -> None:
    async with device.client() as client:
        before = await client.device.get_device_information()
        message = await client.device.system_reboot()
    assert message
    started = time.monotonic()
    back = None
    while time.monotonic() - started < 20:
        try:
            async with device.client() as client:
                back = await client.device.get_device_information()
            break
        except OnvifError:
            await asyncio.sleep(0.2)
    assert back == before
    assert time.monotonic() - started < 10
    assert device.process.poll() is None


# ------------------------------------------------------------------ start, stop, errors


def test_generated_password_printed_once_and_sigterm_exits_zero(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    ports = ("--port", str(free_port()), "--rtsp-port", str(free_port()), "--no-discovery")
    first = start_device(data_dir, *ports, password=None)
    try:
        lines = read_until_ready(first)
    finally:
        code = stop(first)
    assert code == 0
    (line,) = [x for x in lines if x.startswith("The first administrator")]
    password = line.split("password ", 1)[1].split(" ", 1)[0]
    assert len(password) >= 16
    assert password not in (data_dir / "users.yaml").read_text()
    second = start_device(data_dir, *ports, password=None)
    try:
        again = read_until_ready(second)
    finally:
        assert stop(second) == 0
    assert not any(x.startswith("The first administrator") or password in x for x in again)
    assert not (data_dir / "control.sock").exists()


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_device(
            tmp_path / "d", "--port", str(port), "--rtsp-port", str(free_port()), "--no-discovery"
        )
        try:
            _, stderr = process.communicate(timeout=60)
        finally:
            stop(process)
    assert process.returncode == 2
    assert stderr.strip() == f"error: ONVIF HTTP port {port} on 127.0.0.1 is in use"


def test_bad_yaml_names_file_and_field(tmp_path: Path) -> None:
    data_dir = tmp_path / "bad"
    data_dir.mkdir()
    (data_dir / "device.yaml").write_text("hostname: cam\ndiscovery_mode: Sometimes\n")
    process = start_device(data_dir, "--port", "0", "--rtsp-port", "0", "--no-discovery")
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        stop(process)
    assert process.returncode == 2
    assert stderr.startswith(f"error: {data_dir / 'device.yaml'}: discovery_mode: ")
    assert len(stderr.strip().splitlines()) == 1


def test_trigger_without_a_device_says_so(tmp_path: Path) -> None:
    done = cli("trigger", "motion", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: no device runs with data folder {tmp_path}")


def test_users_cli_without_a_device_edits_the_files(tmp_path: Path) -> None:
    data = ("--data-dir", str(tmp_path / "offline"))
    env = {"P": "viewer-secret-12"}
    created = cli("users", "create", "vic", "--password-env", "P", *data, env=env)
    assert created.returncode == 0, created.stderr
    assert cli("users", "list", *data).stdout.splitlines() == ["vic\tUser"]
    short = cli("users", "create", "sam", "--password-env", "P", *data, env={"P": "short"})
    assert short.returncode == 2
    assert "shorter than 8 characters" in short.stderr
