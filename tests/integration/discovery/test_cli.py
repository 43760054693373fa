"""`platonicam discover` as a user runs it: a subprocess, unicast to a responder on loopback.

Unicast to 127.0.0.1 only; the multicast CLI run lives in test_netns.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from platonicam.discovery.messages import NETWORK_VIDEO_TRANSMITTER, TargetService
from tests.integration.discovery.responder import TestResponder

CAMERA = TargetService(
    "urn:uuid:5e3a0000-0000-4000-8000-000000000001",
    (NETWORK_VIDEO_TRANSMITTER,),
    (
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/name/Loop%20Cam",
        "onvif://www.onvif.org/hardware/LC-1",
        "onvif://www.onvif.org/MAC/00:11:22:33:44:55",
    ),
    ("http://169.254.9.9/onvif/device_service", "http://127.0.0.1:8000/onvif/device_service"),
    1,
)


async def _cli(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "COLUMNS": "160"}  # a wide table: rows on one line each
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "platonicam",
        "discover",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_unicast_json() -> None:
    # interfaces=(): the responder joins no multicast group; it only answers unicast.
    async with TestResponder(CAMERA, port=0, interfaces=()) as responder:
        code, out, err = await _cli(
            "--unicast", f"127.0.0.1:{responder.port}", "--json", "--timeout", "1"
        )
    assert code == 0, err
    assert len(responder.stats.probes) == 3  # repeated, one MessageID
    assert len(set(responder.stats.probes)) == 1
    document = json.loads(out)
    assert document["mode"] == "unicast"
    assert document["timeout"] == 1.0
    assert document["count"] == 1
    assert document["candidates"] == [
        {
            "endpoint_reference": CAMERA.endpoint_reference,
            "manufacturer": None,
            "model": "LC-1",
            "name": "Loop Cam",
            "location": None,
            "mac": "00:11:22:33:44:55",
            "serial_number": None,
            "profiles": ["S"],
            "host": "127.0.0.1",
            "port": 8000,
            "xaddr": "http://127.0.0.1:8000/onvif/device_service",
            "xaddrs": list(CAMERA.xaddrs),
            "types": ["{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter"],
            "scopes": list(CAMERA.scopes),
            "metadata_version": 1,
        }
    ]


async def test_unicast_table() -> None:
    async with TestResponder(CAMERA, port=0, interfaces=()) as responder:
        code, out, err = await _cli("--unicast", f"127.0.0.1:{responder.port}", "--timeout", "1")
    assert code == 0, err
    assert "1 device(s) found" in out
    row = next(line for line in out.splitlines() if "Loop Cam" in line)
    for value in ("LC-1", "127.0.0.1", "8000", "00:11:22:33:44:55"):
        assert value in row


async def test_errors_are_one_line_without_traceback() -> None:
    code, out, err = await _cli("--unicast", "127.0.0.1:9", "--type", "foo:Bar", "--json")
    assert code == 1
    assert out == ""
    assert err.strip() == (
        "error: unknown type prefix 'foo' in 'foo:Bar' (known: dn, pub, tds, wsdp)"
    )
    code, out, err = await _cli("--unicast", "127.0.0.1:notaport", "--timeout", "0.2")
    assert (code, out) == (1, "")
    assert err.strip() == "error: bad port in '127.0.0.1:notaport'"
    assert "Traceback" not in err
