"""The device-side responder over real sockets on loopback (unicast only, no multicast).

Each responder binds 127.0.0.1 on a free port, so these run next to anything
else on the host; the multicast side runs in ``test_responder_netns.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence

from platonicam.discovery import probe_unicast, resolve
from platonicam.discovery.messages import (
    DEVICE,
    NETWORK_VIDEO_TRANSMITTER,
    WELL_KNOWN_PREFIXES,
    Probe,
    ProbeMatches,
    TargetService,
    TypeName,
    parse_message,
)
from platonicam.discovery.responder import DiscoveryResponder

EPR = "urn:uuid:00000000-0000-4000-8000-0000000000f2"
SCOPES = (
    "onvif://www.onvif.org/Profile/Streaming",
    "onvif://www.onvif.org/hardware/Reference%20Camera",
    "onvif://www.onvif.org/name/Garden",
)


class Device:
    """A describe() with a switch, recording which local addresses it was asked for."""

    def __init__(self) -> None:
        self.discoverable = True
        self.asked: list[str] = []

    def __call__(self, local: str) -> TargetService | None:
        self.asked.append(local)
        if not self.discoverable:
            return None
        return TargetService(
            EPR,
            (NETWORK_VIDEO_TRANSMITTER, DEVICE),
            SCOPES,
            (f"http://{local}:8080/onvif/device_service",),
            1,
        )


def loopback_responder(device: Device) -> DiscoveryResponder:
    return DiscoveryResponder(device, bind="127.0.0.1", port=0, multicast=False)


async def test_unicast_probe_is_answered_with_the_arrival_address() -> None:
    device = Device()
    async with loopback_responder(device) as responder:
        found = await probe_unicast("127.0.0.1", port=responder.port, timeout=1.0, repeat=1)
    (candidate,) = found
    assert candidate.endpoint_reference == EPR
    assert candidate.xaddrs == ("http://127.0.0.1:8080/onvif/device_service",)
    assert (candidate.name, candidate.model, candidate.profiles) == (
        "Garden",
        "Reference Camera",
        ("S",),
    )
    assert device.asked == ["127.0.0.1"]
    assert responder.answered == 1
    assert responder.joined == {}  # unicast only: no group joined, no Hello sent


async def test_type_and_scope_filters() -> None:
    device = Device()
    printer = TypeName(WELL_KNOWN_PREFIXES["wsdp"], "Device")
    async with loopback_responder(device) as responder:
        port = responder.port

        async def eprs(
            types: Sequence[TypeName] = (NETWORK_VIDEO_TRANSMITTER,), scopes: Sequence[str] = ()
        ) -> list[str]:
            found = await probe_unicast(
                "127.0.0.1", port=port, timeout=0.5, repeat=1, types=types, scopes=scopes
            )
            return [c.endpoint_reference for c in found]

        assert await eprs(types=[DEVICE]) == [EPR]
        assert await eprs(types=[]) == [EPR]
        assert await eprs(types=[printer]) == []
        assert await eprs(scopes=["onvif://www.onvif.org/name/Garden"]) == [EPR]
        assert await eprs(scopes=["onvif://www.onvif.org/hardware/Reference"]) == []
        assert await eprs(scopes=["onvif://www.onvif.org/name/Kitchen"]) == []
    assert responder.answered == 3
    assert responder.ignored == 3


async def test_resolve_by_endpoint_reference() -> None:
    async with loopback_responder(Device()) as responder:
        found = await resolve(EPR, host="127.0.0.1", port=responder.port, timeout=1.0, repeat=1)
        missing = await resolve(
            "urn:uuid:00000000-0000-4000-8000-000000000999",
            host="127.0.0.1",
            port=responder.port,
            timeout=0.5,
            repeat=1,
        )
    assert found is not None
    assert found.endpoint_reference == EPR
    assert found.host == "127.0.0.1"
    assert missing is None


async def test_non_discoverable_is_silent_and_read_live() -> None:
    device = Device()
    async with loopback_responder(device) as responder:
        device.discoverable = False
        silent = await probe_unicast("127.0.0.1", port=responder.port, timeout=0.5, repeat=1)
        not_resolved = await resolve(
            EPR, host="127.0.0.1", port=responder.port, timeout=0.5, repeat=1
        )
        device.discoverable = True  # SetDiscoveryMode back: answered at once, no restart
        again = await probe_unicast("127.0.0.1", port=responder.port, timeout=1.0, repeat=1)
    assert silent == []
    assert not_resolved is None
    assert [c.endpoint_reference for c in again] == [EPR]


async def test_copies_of_one_probe_are_answered_once_and_junk_is_ignored() -> None:
    async with loopback_responder(Device()) as responder:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as prober:
            prober.bind(("127.0.0.1", 0))
            prober.settimeout(1.0)
            prober.sendto(b"\x00 not a SOAP message", ("127.0.0.1", responder.port))
            message = bytes(Probe("urn:uuid:the-same-probe"))
            for _ in range(3):
                prober.sendto(message, ("127.0.0.1", responder.port))
            data, source = await asyncio.to_thread(prober.recvfrom, 65535)
            prober.settimeout(0.3)
            extra: list[bytes] = []
            with contextlib.suppress(TimeoutError):
                extra.append((await asyncio.to_thread(prober.recvfrom, 65535))[0])
    answer = parse_message(data)
    assert isinstance(answer, ProbeMatches)
    assert answer.relates_to == "urn:uuid:the-same-probe"
    assert source == ("127.0.0.1", responder.port)  # from the port probed, on the arrival address
    assert extra == []
    assert responder.answered == 1
    assert responder.ignored == 1  # the junk datagram


async def test_socket_is_closed_after_the_block() -> None:
    async with loopback_responder(Device()) as responder:
        port = responder.port
    # Nothing listens on the port any more: a fresh exclusive bind succeeds.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))
