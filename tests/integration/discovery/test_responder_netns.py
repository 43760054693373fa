"""The device-side responder with real multicast, inside a private network namespace.

Each test runs ``python -m tests.integration.discovery.test_responder_netns
SCENARIO`` under ``unshare -n`` (a namespace with only loopback, plus a veth
pair whose both ends stay inside) and asserts on the JSON it prints. The
scenario runner refuses to start when it sees any other interface, so nothing
here can multicast on this machine's networks.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from platonicam.discovery import AnnouncementListener, discover, probe_unicast
from platonicam.discovery.messages import DEVICE, NETWORK_VIDEO_TRANSMITTER, TargetService
from platonicam.discovery.responder import DiscoveryResponder

ROOT = Path(__file__).resolve().parents[3]
VETH = "10.250.0.1"
EPR_A = "urn:uuid:00000000-0000-4000-8000-0000000000a1"
EPR_B = "urn:uuid:00000000-0000-4000-8000-0000000000b1"
Result = dict[str, Any]


def describer(epr: str, name: str) -> Callable[[str], TargetService | None]:
    def describe(local: str) -> TargetService | None:
        return TargetService(
            epr,
            (NETWORK_VIDEO_TRANSMITTER, DEVICE),
            (f"onvif://www.onvif.org/name/{name}", "onvif://www.onvif.org/hardware/REF-1"),
            (f"http://{local}:8080/onvif/device_service",),
            1,
        )

    return describe


# ------------------------------------------------------------------ scenarios (in the namespace)


async def probe_hello_bye() -> Result:
    """Hello on start, ProbeMatches to a multicast probe, Bye on stop."""
    heard: list[Result] = []
    async with AnnouncementListener(interfaces=["127.0.0.1"]) as listener:
        async with DiscoveryResponder(
            describer(EPR_A, "Alpha"), interfaces=["127.0.0.1"]
        ) as responder:
            hello = await listener.next_within(1.0)
            found = await discover(timeout=1.0, interfaces=["127.0.0.1"])
            scoped = await discover(
                timeout=0.8,
                interfaces=["127.0.0.1"],
                scopes=["onvif://www.onvif.org/name/Alpha"],
            )
            unscoped = await discover(
                timeout=0.8,
                interfaces=["127.0.0.1"],
                scopes=["onvif://www.onvif.org/name/Beta"],
            )
            joined = responder.joined
        bye = await listener.next_within(1.0)
        for event in (hello, bye):
            if event is not None:
                heard.append(
                    {
                        "kind": event.kind,
                        "epr": event.endpoint_reference,
                        "xaddrs": list(event.candidate.xaddrs),
                    }
                )
    return {
        "heard": heard,
        "found": [(c.endpoint_reference, c.name, list(c.xaddrs)) for c in found],
        "scoped": [c.name for c in scoped],
        "unscoped": [c.name for c in unscoped],
        "joined": sorted(joined),
    }


async def non_discoverable() -> Result:
    """NonDiscoverable: no Hello, no answer, no Bye."""
    async with AnnouncementListener(interfaces=["127.0.0.1"]) as listener:
        async with DiscoveryResponder(lambda local: None, interfaces=["127.0.0.1"]):
            found = await discover(timeout=1.0, interfaces=["127.0.0.1"])
        heard = await listener.next_within(0.7)
    return {"found": len(found), "heard": heard is not None}


async def two_share_the_port() -> Result:
    """Two responders on port 3702 at once: both answer a multicast probe."""
    async with (
        DiscoveryResponder(describer(EPR_A, "Alpha"), interfaces=["127.0.0.1"]),
        DiscoveryResponder(describer(EPR_B, "Beta"), interfaces=["127.0.0.1"]),
    ):
        found = await discover(timeout=1.0, interfaces=["127.0.0.1"])
    return {"found": sorted(c.endpoint_reference for c in found)}


async def per_interface_xaddrs() -> Result:
    """Joined on loopback and a veth: each probe gets the address it arrived on."""
    async with DiscoveryResponder(describer(EPR_A, "Alpha")) as responder:
        on_lo = await discover(timeout=1.0, interfaces=["127.0.0.1"])
        on_veth = await discover(timeout=1.0, interfaces=[VETH])
        unicast = await probe_unicast(VETH, timeout=1.0)
    return {
        "joined": sorted(responder.joined),
        "lo": [list(c.xaddrs) for c in on_lo],
        "veth": [list(c.xaddrs) for c in on_veth],
        "unicast": [list(c.xaddrs) for c in unicast],
    }


async def wsdiscovery_probe() -> Result:
    """The independent ``wsdiscovery`` package probes our responder over the veth."""
    from wsdiscovery import QName
    from wsdiscovery.discovery import ThreadedWSDiscovery

    async with DiscoveryResponder(describer(EPR_A, "Alpha"), interfaces=[VETH]):
        client = ThreadedWSDiscovery()
        client.start()
        try:
            nvt = QName(NETWORK_VIDEO_TRANSMITTER.namespace, NETWORK_VIDEO_TRANSMITTER.local)
            services = await asyncio.to_thread(client.searchServices, types=[nvt], timeout=2)
        finally:
            client.stop()
    return {
        "services": sorted(
            (s.getEPR(), sorted(s.getXAddrs()), sorted(str(x.getValue()) for x in s.getScopes()))
            for s in services
        )
    }


SCENARIOS: dict[str, Callable[[], Coroutine[Any, Any, Result]]] = {
    "probe_hello_bye": probe_hello_bye,
    "non_discoverable": non_discoverable,
    "two_share_the_port": two_share_the_port,
    "per_interface_xaddrs": per_interface_xaddrs,
    "wsdiscovery_probe": wsdiscovery_probe,
}


def _main() -> None:
    from tests.integration.discovery.netns_scenarios import _refuse_real_networks

    _refuse_real_networks()
    print(json.dumps(asyncio.run(SCENARIOS[sys.argv[1]]())))


# ------------------------------------------------------------------ the tests (outside)

pytestmark = pytest.mark.netns


def run(name: str, *, veth: bool = False) -> Result:
    from tests.integration.discovery import test_netns

    test_netns._check_unshare()
    setup = f"{test_netns.LOOPBACK}; {test_netns.VETH}" if veth else test_netns.LOOPBACK
    command = (
        f"{setup}; exec {sys.executable} -m tests.integration.discovery.test_responder_netns {name}"
    )

    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"scenario {name} failed:\n{done.stderr}"
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_hello_probe_matches_and_bye() -> None:
    result = run("probe_hello_bye")
    xaddr = "http://127.0.0.1:8080/onvif/device_service"
    assert result["heard"] == [
        {"kind": "hello", "epr": EPR_A, "xaddrs": [xaddr]},
        {"kind": "bye", "epr": EPR_A, "xaddrs": []},
    ]
    assert result["found"] == [[EPR_A, "Alpha", [xaddr]]]
    assert result["scoped"] == ["Alpha"]
    assert result["unscoped"] == []
    assert result["joined"] == ["127.0.0.1"]


def test_non_discoverable_is_silent() -> None:
    assert run("non_discoverable") == {"found": 0, "heard": False}


def test_two_responders_share_port_3702() -> None:
    assert run("two_share_the_port")["found"] == [EPR_A, EPR_B]


def test_xaddrs_use_the_address_the_probe_arrived_on() -> None:
    result = run("per_interface_xaddrs", veth=True)
    assert result["joined"] == ["10.250.0.1", "127.0.0.1"]
    assert result["lo"] == [["http://127.0.0.1:8080/onvif/device_service"]]
    assert result["veth"] == [["http://10.250.0.1:8080/onvif/device_service"]]
    assert result["unicast"] == [["http://10.250.0.1:8080/onvif/device_service"]]


def test_interop_wsdiscovery_finds_our_responder() -> None:
    (service,) = run("wsdiscovery_probe", veth=True)["services"]
    epr, xaddrs, scopes = service
    assert epr == EPR_A
    assert xaddrs == [f"http://{VETH}:8080/onvif/device_service"]
    assert scopes == ["onvif://www.onvif.org/hardware/REF-1", "onvif://www.onvif.org/name/Alpha"]


if __name__ == "__main__":
    _main()
