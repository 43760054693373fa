"""Discovery scenarios that multicast: run ONLY inside a private network namespace.

``python -m tests.integration.discovery.netns_scenarios SCENARIO`` runs one
scenario and prints one JSON object; ``test_netns.py`` starts it under
``unshare -n`` and asserts on that object. It refuses to run when it sees any
interface but loopback and the test veth pair, so a multicast probe can never
reach a real network even if started by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import ifaddr

from platonicam.discovery import (
    AnnouncementListener,
    Candidate,
    TargetService,
    TypeName,
    discover,
    discover_iter,
    probe_unicast,
    resolve,
)
from platonicam.discovery.messages import (
    DEVICE,
    NETWORK_VIDEO_TRANSMITTER,
    WELL_KNOWN_PREFIXES,
    Hello,
    ProbeMatches,
)
from tests.integration.discovery.responder import Behaviour, TestResponder, multicast

VETH = "10.250.0.1"
Result = dict[str, Any]

ALPHA = TargetService(
    "urn:uuid:00000000-0000-4000-8000-00000000000a",
    (DEVICE, NETWORK_VIDEO_TRANSMITTER),
    (
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/name/Alpha%20Cam",
        "onvif://www.onvif.org/hardware/A-100",
        "onvif://www.onvif.org/location/country/norway",
    ),
    ("http://127.0.0.1:8080/onvif/device_service",),
    2,
)
BETA = TargetService(
    "urn:uuid:00000000-0000-4000-8000-00000000000b",
    (NETWORK_VIDEO_TRANSMITTER,),
    (
        "onvif://www.onvif.org/Profile/T",
        "onvif://www.onvif.org/name/Beta",
        "onvif://www.onvif.org/hardware/B-200",
        "onvif://www.onvif.org/MAC/AA-BB-CC-DD-EE-FF",
    ),
    ("http://169.254.1.2/onvif/device_service", "http://127.0.0.2:8000/onvif/device_service"),
    1,
)
GAMMA = TargetService(
    "urn:uuid:00000000-0000-4000-8000-00000000000c",
    (NETWORK_VIDEO_TRANSMITTER,),
    ("onvif://www.onvif.org/name/Gamma", "onvif://www.onvif.org/hardware/G-300"),
    ("http://127.0.0.3/onvif/device_service",),
    1,
)
# What Windows' wsdd announces: a WSD printer-style host, not a camera.
WSDD = TargetService(
    "urn:uuid:00000000-0000-4000-8000-0000000000dd",
    (
        TypeName(WELL_KNOWN_PREFIXES["wsdp"], "Device"),
        TypeName(WELL_KNOWN_PREFIXES["pub"], "Computer"),
    ),
    (),
    ("http://127.0.0.4:5357/00000000-0000-4000-8000-0000000000dd",),
    1,
)


def summary(candidate: Candidate) -> Result:
    return {
        "endpoint_reference": candidate.endpoint_reference,
        "name": candidate.name,
        "model": candidate.model,
        "mac": candidate.mac,
        "host": candidate.host,
        "port": candidate.port,
        "profiles": list(candidate.profiles),
        "types": sorted(str(t) for t in candidate.types),
    }


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def multicast_two() -> Result:
    """Two responders, one answering every probe twice: each device listed once."""
    async with (
        TestResponder(ALPHA, behaviour=Behaviour(copies=2)) as alpha,
        TestResponder(BETA) as beta,
    ):
        started = time.monotonic()
        arrivals: list[tuple[str, float]] = []
        async for candidate in discover_iter(timeout=1.5, repeat=3, interval=0.2):
            arrivals.append((candidate.endpoint_reference, time.monotonic() - started))
        listed = await discover(timeout=1.0)
    return {
        "streamed": [epr for epr, _ in arrivals],
        "first_arrival_s": min(t for _, t in arrivals) if arrivals else None,
        "listed": [summary(c) for c in sorted(listed, key=lambda c: c.endpoint_reference)],
        "alpha_probes": len(alpha.stats.probes),
        "alpha_probe_ids": len(set(alpha.stats.probes)),
        "beta_probes": len(beta.stats.probes),
    }


async def filters() -> Result:
    """Type and scope filters, applied by responders and again by the client."""
    async with (
        TestResponder(ALPHA),
        TestResponder(BETA),
        # Gamma answers every probe whatever it asks: the client must drop it.
        TestResponder(GAMMA, behaviour=Behaviour(answer_all=True)),
    ):
        by_scope = await discover(timeout=1.0, scopes=["onvif://www.onvif.org/name/Alpha%20Cam"])
        by_profile = await discover(timeout=1.0, scopes=["onvif://www.onvif.org/Profile/T"])
        by_type = await discover(timeout=1.0, types=[DEVICE])
        prefix_only = await discover(timeout=1.0, scopes=["onvif://www.onvif.org/hardware/A"])
        everything = await discover(timeout=1.0, types=[])

    def names(candidates: list[Candidate]) -> list[str]:
        return sorted(c.name or "" for c in candidates)

    return {
        "by_scope": names(by_scope),
        "by_profile": names(by_profile),
        "by_type": names(by_type),
        "prefix_only": names(prefix_only),
        "everything": names(everything),
    }


async def unicast() -> Result:
    """A unicast probe to 127.0.0.1, on the default port and on another one."""
    async with TestResponder(ALPHA) as alpha:
        found = await probe_unicast("127.0.0.1", timeout=1.0)
    async with TestResponder(BETA, port=0, interfaces=()) as beta:
        other_port = await probe_unicast("127.0.0.1", port=beta.port, timeout=1.0)
    return {
        "default_port": [summary(c) for c in found],
        "alpha_probes": len(alpha.stats.probes),
        "other_port": [summary(c) for c in other_port],
    }


async def resolve_scenario() -> Result:
    async with TestResponder(ALPHA), TestResponder(BETA):
        found = await resolve(BETA.endpoint_reference, timeout=1.0)
        missing = await resolve("urn:uuid:00000000-0000-4000-8000-000000000999", timeout=0.7)
    async with TestResponder(GAMMA, port=0, interfaces=()) as gamma:
        direct = await resolve(
            GAMMA.endpoint_reference, timeout=1.0, host="127.0.0.1", port=gamma.port
        )
    return {
        "found": summary(found) if found else None,
        "found_xaddrs": list(found.xaddrs) if found else None,
        "missing": missing,
        "direct": summary(direct) if direct else None,
    }


async def hello_bye() -> Result:
    """The listener hears Hello and Bye, once each, and not a wsdd Hello."""
    responder = TestResponder(GAMMA)
    events: list[Result] = []
    async with AnnouncementListener() as listener:
        hello = responder.hello()
        multicast(bytes(hello))
        multicast(bytes(hello))  # a repeated copy (same MessageID)
        multicast(bytes(Hello("urn:uuid:wsdd-hello", WSDD)))
        multicast(b"\x00not xml at all")
        multicast(bytes(responder.bye()))
        while (event := await listener.next_within(0.7)) is not None:
            events.append(
                {
                    "kind": event.kind,
                    "endpoint_reference": event.endpoint_reference,
                    "name": event.candidate.name,
                    "host": event.candidate.host,
                    "source": event.source[0],
                }
            )
    return {"events": events}


async def non_camera() -> Result:
    async with (
        TestResponder(WSDD, behaviour=Behaviour(answer_all=True)),
        TestResponder(ALPHA),
    ):
        found = await discover(timeout=1.0)
        everything = await discover(timeout=1.0, types=[])
        wsdd_asked = await discover(timeout=1.0, types=list(WSDD.types))
    return {
        "default": [c.endpoint_reference for c in found],
        "no_type_filter": sorted(c.endpoint_reference for c in everything),
        "asked_for_wsdd_types": [c.endpoint_reference for c in wsdd_asked],
    }


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def malformed() -> Result:
    """Junk before a real answer, and a responder that only sends junk: no crash."""
    capture = _Capture()
    logging.getLogger("platonicam.discovery").addHandler(capture)
    logging.getLogger("platonicam.discovery").setLevel(logging.INFO)
    junk = (
        b"\xff\xfe garbage",
        b"<Envelope><Body><ProbeMatches/></Body></Envelope>",  # not SOAP
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">',
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    )
    no_epr = bytes(ProbeMatches("urn:uuid:1", None, (TargetService("x"),))).replace(
        b"<a:Address>x</a:Address>", b""
    )
    async with (
        TestResponder(ALPHA, behaviour=Behaviour(junk=junk)),
        TestResponder(BETA, behaviour=Behaviour(raw_answer=no_epr)),
    ):
        found = await discover(timeout=1.0, repeat=1)
    return {
        "found": [c.endpoint_reference for c in found],
        "malformed_logged": sum("malformed" in m for m in capture.messages),
    }


async def cancellation() -> Result:
    """Sockets are closed after cancel, early break, and errors: count open fds."""
    before = open_fds()
    async with TestResponder(ALPHA):
        after_open = open_fds()
        task = asyncio.create_task(discover(timeout=5.0))
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        after_cancel = open_fds()
        stream = discover_iter(timeout=5.0)
        async with contextlib.aclosing(stream):
            async for _ in stream:
                break
        after_break = open_fds()
        try:
            await discover(timeout=1.0, interfaces=["203.0.113.7"])  # not ours: cannot bind
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        after_error = open_fds()
    return {
        "before": before,
        "responder": after_open - before,
        "after_cancel": after_cancel - after_open,
        "after_break": after_break - after_open,
        "after_error": after_error - after_open,
        "error": error,
        "task_cancelled": task.cancelled(),
    }


async def wsdiscovery_publisher() -> Result:
    """The independent ``wsdiscovery`` package publishes a camera; our probe finds it."""
    from wsdiscovery import QName, Scope
    from wsdiscovery.publishing import ThreadedWSPublishing

    publisher = ThreadedWSPublishing()
    publisher.start()
    try:
        publisher.publishService(
            types=[QName(NETWORK_VIDEO_TRANSMITTER.namespace, NETWORK_VIDEO_TRANSMITTER.local)],
            scopes=[
                Scope("onvif://www.onvif.org/name/Interop%20Cam"),
                Scope("onvif://www.onvif.org/hardware/WSD-1"),
            ],
            xAddrs=[f"http://{VETH}:8080/onvif/device_service"],
        )
        found = await discover(timeout=2.0)
        scoped = await discover(timeout=1.5, scopes=["onvif://www.onvif.org/hardware/WSD-1"])
        unscoped = await discover(timeout=1.5, scopes=["onvif://www.onvif.org/hardware/WSD"])
    finally:
        publisher.stop()
    return {
        "found": [summary(c) for c in found],
        "scoped": [c.name for c in scoped],
        "prefix_not_segment": [c.name for c in unscoped],
    }


async def wsdiscovery_probe() -> Result:
    """Our test responder answers the ``wsdiscovery`` package's probe."""
    from wsdiscovery import QName
    from wsdiscovery.discovery import ThreadedWSDiscovery

    target = TargetService(
        ALPHA.endpoint_reference,
        ALPHA.types,
        ALPHA.scopes,
        (f"http://{VETH}/onvif/device_service",),
        1,
    )
    async with TestResponder(target, interfaces=(VETH,)):
        client = ThreadedWSDiscovery()
        client.start()
        try:
            nvt = QName(NETWORK_VIDEO_TRANSMITTER.namespace, NETWORK_VIDEO_TRANSMITTER.local)
            services = await asyncio.to_thread(client.searchServices, types=[nvt], timeout=2)
        finally:
            client.stop()
    return {
        "services": sorted(
            {
                "epr": s.getEPR(),
                "xaddrs": list(s.getXAddrs()),
                "scopes": sorted(str(x.getValue()) for x in s.getScopes()),
            }.__repr__()
            for s in services
        ),
        "eprs": sorted({s.getEPR() for s in services}),
    }


async def cli_default_port() -> Result:
    """``platonicam discover --unicast 127.0.0.1 --json --timeout 1`` on port 3702."""
    async with TestResponder(ALPHA):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "platonicam",
            "discover",
            "--unicast",
            "127.0.0.1",
            "--json",
            "--timeout",
            "1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    return {"returncode": process.returncode, "stdout": stdout.decode(), "stderr": stderr.decode()}


SCENARIOS: dict[str, Callable[[], Coroutine[Any, Any, Result]]] = {
    "multicast_two": multicast_two,
    "filters": filters,
    "unicast": unicast,
    "resolve": resolve_scenario,
    "hello_bye": hello_bye,
    "non_camera": non_camera,
    "malformed": malformed,
    "cancellation": cancellation,
    "wsdiscovery_publisher": wsdiscovery_publisher,
    "wsdiscovery_probe": wsdiscovery_probe,
    "cli_default_port": cli_default_port,
}


def _refuse_real_networks() -> None:
    for adapter in ifaddr.get_adapters():
        if adapter.nice_name not in {"lo", "vethA", "vethB"}:
            raise SystemExit(
                f"refusing to multicast: interface {adapter.nice_name!r} exists, "
                "so this is not a private network namespace (run under unshare -n)"
            )


def main() -> None:
    _refuse_real_networks()
    name = sys.argv[1]
    result = asyncio.run(SCENARIOS[name]())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
