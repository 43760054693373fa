"""``platonicam device`` with multicast discovery, inside a private network namespace.

The scenario (``python -m tests.integration.device.test_runtime_netns``) runs
under ``unshare -n`` with only loopback: it starts the device bound to
0.0.0.0, hears its Hello, finds it with a multicast probe, sends SIGTERM and
hears its Bye. It refuses to run when it sees any interface but loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from platonicam.discovery import AnnouncementListener, discover

ROOT = Path(__file__).resolve().parents[3]
Result = dict[str, Any]


async def sigterm_says_bye() -> Result:
    data_dir = tempfile.mkdtemp()
    env = {**os.environ, "PLATONICAM_ADMIN_PASSWORD": "netns-admin-secret"}
    async with AnnouncementListener(interfaces=["127.0.0.1"]) as listener:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "platonicam",
            "device",
            "--bind",
            "0.0.0.0",
            "--port",
            "18080",
            "--rtsp-port",
            "18554",
            "--data-dir",
            data_dir,
            "--name",
            "Netns Cam",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert process.stdout is not None
            async with asyncio.timeout(60):
                while not (line := (await process.stdout.readline()).decode()).startswith("READY"):
                    if not line:
                        raise RuntimeError("device exited before READY")
            hello = await listener.next_within(2.0)
            found = await discover(timeout=1.0, interfaces=["127.0.0.1"])
            process.terminate()
            async with asyncio.timeout(20):
                code = await process.wait()
            bye = await listener.next_within(2.0)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    return {
        "hello": None if hello is None else [hello.kind, hello.candidate.name],
        "found": [[c.name, list(c.xaddrs)] for c in found],
        "bye": None if bye is None else [bye.kind, bye.endpoint_reference],
        "hello_epr": None if hello is None else hello.endpoint_reference,
        "code": code,
    }


pytestmark = pytest.mark.netns


def test_device_announces_answers_multicast_and_says_bye_on_sigterm() -> None:
    from tests.integration.discovery import test_netns

    test_netns._check_unshare()
    module = "tests.integration.device.test_runtime_netns"
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", f"{test_netns.LOOPBACK}; exec {sys.executable} -m {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hello"] == ["hello", "Netns Cam"]
    assert result["found"] == [["Netns Cam", ["http://127.0.0.1:18080/onvif/device_service"]]]
    assert result["bye"] == ["bye", result["hello_epr"]]
    assert result["code"] == 0


if __name__ == "__main__":
    from tests.integration.discovery.netns_scenarios import _refuse_real_networks

    _refuse_real_networks()
    print(json.dumps(asyncio.run(sigterm_says_bye())))
