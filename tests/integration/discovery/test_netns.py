"""Multicast discovery for real, inside a private network namespace per scenario.

Each test runs ``netns_scenarios.py SCENARIO`` under ``unshare -n`` (only a
loopback, plus a veth pair for peers that skip loopback) and asserts on the JSON
it prints. Nothing here multicasts on this machine's interfaces. Without
permission to create a namespace the tests fail, with the reason: they do not
skip, because a skipped discovery test hides a broken discovery.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[3]
LOOPBACK = "ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo"
VETH = (
    "ip link add vethA type veth peer name vethB; ip addr add 10.250.0.1/24 dev vethA; "
    "ip link set vethA up; ip link set vethB up; ip route replace 224.0.0.0/4 dev vethA"
)

ALPHA = "urn:uuid:00000000-0000-4000-8000-00000000000a"
BETA = "urn:uuid:00000000-0000-4000-8000-00000000000b"
GAMMA = "urn:uuid:00000000-0000-4000-8000-00000000000c"
WSDD = "urn:uuid:00000000-0000-4000-8000-0000000000dd"


def _check_unshare() -> None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("discovery tests need util-linux 'unshare' and iproute2 'ip' on PATH")
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", LOOPBACK], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.fail(
            "cannot create a private network namespace (unshare -n needs root or "
            f"CAP_SYS_ADMIN), so multicast discovery cannot be tested: {probe.stderr.strip()}"
        )


def run_scenario(name: str, *, veth: bool = False) -> dict[str, Any]:
    _check_unshare()
    setup = f"{LOOPBACK}; {VETH}" if veth else LOOPBACK
    command = (
        f"{setup}; exec {sys.executable} -m tests.integration.discovery.netns_scenarios {name}"
    )
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, f"scenario {name} failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_multicast_probe_finds_two_devices_once_each() -> None:
    result = run_scenario("multicast_two")
    # Alpha answers every probe twice and gets three copies: listed once all the same.
    assert sorted(result["streamed"]) == [ALPHA, BETA]
    assert result["first_arrival_s"] < 0.5  # streamed as it arrived, not at the timeout
    assert result["alpha_probes"] == 6  # 3 sends by each of the two scans
    assert result["alpha_probe_ids"] == 2  # one MessageID per scan, repeated
    assert result["beta_probes"] == 6
    alpha, beta = result["listed"]
    assert alpha == {
        "endpoint_reference": ALPHA,
        "name": "Alpha Cam",
        "model": "A-100",
        "mac": None,
        "host": "127.0.0.1",
        "port": 8080,
        "profiles": ["S"],
        "types": [
            "{http://www.onvif.org/ver10/device/wsdl}Device",
            "{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter",
        ],
    }
    # Beta lists a link-local XAddr first: the LAN one is chosen.
    assert (beta["host"], beta["port"], beta["mac"]) == ("127.0.0.2", 8000, "aa:bb:cc:dd:ee:ff")


def test_type_and_scope_filters() -> None:
    result = run_scenario("filters")
    assert result["by_scope"] == ["Alpha Cam"]
    assert result["by_profile"] == ["Beta"]
    # Beta (dn:NetworkVideoTransmitter only) does not answer a tds:Device probe. Gamma
    # answers everything; as an ONVIF device answering an ONVIF probe it is kept.
    assert result["by_type"] == ["Alpha Cam", "Gamma"]
    # "hardware/A" is a string prefix of "hardware/A-100" but not a segment prefix; Gamma's
    # unfiltered answer is dropped by the client's own scope check.
    assert result["prefix_only"] == []
    assert result["everything"] == ["Alpha Cam", "Beta", "Gamma"]


def test_unicast_probe() -> None:
    result = run_scenario("unicast")
    assert [c["endpoint_reference"] for c in result["default_port"]] == [ALPHA]
    assert result["alpha_probes"] == 3
    (other,) = result["other_port"]
    assert (other["endpoint_reference"], other["name"]) == (BETA, "Beta")


def test_resolve_by_endpoint_reference() -> None:
    result = run_scenario("resolve")
    assert result["found"]["endpoint_reference"] == BETA
    assert result["found_xaddrs"] == [
        "http://169.254.1.2/onvif/device_service",
        "http://127.0.0.2:8000/onvif/device_service",
    ]
    assert result["missing"] is None
    assert result["direct"]["endpoint_reference"] == GAMMA
    assert result["direct"]["host"] == "127.0.0.3"


def test_listener_hears_hello_and_bye_once() -> None:
    result = run_scenario("hello_bye")
    assert result["events"] == [
        {
            "kind": "hello",
            "endpoint_reference": GAMMA,
            "name": "Gamma",
            "host": "127.0.0.3",
            "source": "127.0.0.1",
        },
        {
            "kind": "bye",
            "endpoint_reference": GAMMA,
            "name": None,
            "host": None,
            "source": "127.0.0.1",
        },
    ]


def test_non_camera_answers_are_ignored() -> None:
    result = run_scenario("non_camera")
    assert result["default"] == [ALPHA]
    assert result["no_type_filter"] == [ALPHA]
    # Asked for explicitly, the wsdd host's own types are a match.
    assert result["asked_for_wsdd_types"] == [WSDD]


def test_malformed_datagrams_are_skipped() -> None:
    result = run_scenario("malformed")
    assert result["found"] == [ALPHA]
    # Four junk datagrams from Alpha plus Beta's answer without an endpoint reference.
    assert result["malformed_logged"] == 5


def test_sockets_are_closed_after_cancel_break_and_error() -> None:
    result = run_scenario("cancellation")
    assert result["responder"] == 1
    assert result["task_cancelled"] is True
    assert (result["after_cancel"], result["after_break"], result["after_error"]) == (0, 0, 0)
    assert result["error"] == (
        "DiscoveryNetworkError: cannot open a discovery socket: "
        "203.0.113.7: Cannot assign requested address"
    )


def test_interop_wsdiscovery_publisher_found_by_our_probe() -> None:
    result = run_scenario("wsdiscovery_publisher", veth=True)
    (found,) = result["found"]
    assert found["name"] == "Interop Cam"
    assert found["model"] == "WSD-1"
    assert (found["host"], found["port"]) == ("10.250.0.1", 8080)
    assert found["endpoint_reference"].startswith("urn:uuid:")
    assert result["scoped"] == ["Interop Cam"]
    assert result["prefix_not_segment"] == []


def test_interop_our_responder_answers_wsdiscovery_probe() -> None:
    result = run_scenario("wsdiscovery_probe", veth=True)
    assert result["eprs"] == [ALPHA]


def test_cli_unicast_json_on_default_port() -> None:
    result = run_scenario("cli_default_port")
    assert result["returncode"] == 0, result["stderr"]
    document = json.loads(result["stdout"])
    assert document["mode"] == "unicast"
    assert document["count"] == 1
    (camera,) = document["candidates"]
    assert camera["endpoint_reference"] == ALPHA
    assert (camera["name"], camera["model"], camera["port"]) == ("Alpha Cam", "A-100", 8080)
