"""``GET /api/discover`` scenarios that multicast: run ONLY inside a private network namespace.

``python -m tests.integration.service.netns_discover SCENARIO`` runs one
scenario and prints one JSON object; ``test_discover_netns.py`` starts it under
``unshare -n`` (loopback only, multicast routed to ``lo``) and asserts on that
object. Like the discovery scenarios it refuses to run when it sees any
interface but loopback, so a probe can never reach a real network.

Everything is real: reference devices (:class:`DeviceRuntime`) answering
WS-Discovery on port 3702 joined to the group on 127.0.0.1, and the service
(``create_app``) served by uvicorn on a 127.0.0.1 socket, spoken to over HTTP.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import socket
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from platonicam.device.runtime import DeviceRuntime, IdentityOverrides
from platonicam.discovery.messages import MULTICAST_IPV4, PORT
from platonicam.service.app import create_app
from tests.integration.discovery.netns_scenarios import _refuse_real_networks
from tests.integration.service.foundation import ADMIN_LINE, FAST_PASSWORDS, settings_for

Result = dict[str, Any]
DEVICE_PASSWORD = "netns-device-pass-4Kd9"
#: Discovery set to multicast from the namespace's loopback, as a deployment would
#: set it to its LAN address. In demo mode these settings are overridden.
MULTICAST_DISCOVERY = {
    "multicast": True,
    "interfaces": ["127.0.0.1"],
    "unicast_targets": [],
    "timeout": 2.0,
}
ETH_P_IP = 0x0800
IPPROTO_IGMP = 2


def reference_device(data_dir: Path, name: str) -> DeviceRuntime:
    """A whole reference device on 127.0.0.1 answering multicast probes on 3702."""
    return DeviceRuntime(
        data_dir,
        "127.0.0.1",
        0,
        0,
        discovery=True,
        discovery_port=PORT,
        multicast=True,
        admin_password=DEVICE_PASSWORD,
        identity=IdentityOverrides(name=name),
    )


@dataclass
class Served:
    """The service on a real loopback socket, with a logged-in admin client."""

    app: Any
    client: httpx.AsyncClient
    headers: dict[str, str]


@asynccontextmanager
async def served_service(data_dir: Path, *, demo: bool) -> AsyncIterator[Served]:
    """``create_app`` under uvicorn on 127.0.0.1:0; logs in as the first admin."""
    console = io.StringIO()
    settings = settings_for(data_dir, discovery=MULTICAST_DISCOVERY)
    app = create_app(settings, passwords=FAST_PASSWORDS, console=console, demo=demo)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the service stopped before it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        password = ADMIN_LINE.search(console.getvalue())
        if password is None:
            raise RuntimeError(f"no first admin password on the console: {console.getvalue()!r}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            login = await client.post(
                "/api/auth/token", data={"username": "admin", "password": password[1]}
            )
            if login.status_code != 200:
                raise RuntimeError(f"login failed: {login.status_code} {login.text}")
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            yield Served(app, client, headers)
    finally:
        server.should_exit = True
        await task


async def timed_get(served: Served, path: str) -> tuple[int, Any, float]:
    started = time.monotonic()
    response = await served.client.get(path, headers=served.headers)
    return response.status_code, response.json(), round(time.monotonic() - started, 3)


async def multicast_two() -> Result:
    """Two reference devices found by the service's multicast probe; one added by id."""
    root = Path(tempfile.mkdtemp())
    async with (
        reference_device(root / "alpha", "Alpha Cam") as alpha,
        reference_device(root / "beta", "Beta Cam") as beta,
        served_service(root / "service", demo=False) as served,
    ):
        status, everything, elapsed = await timed_get(served, "/api/discover?timeout=2")
        limited_status, limited, limited_elapsed = await timed_get(
            served, "/api/discover?timeout=2&max_cameras=1"
        )
        chosen = everything["cameras"][0] if everything.get("cameras") else {"id": "none"}
        added = await served.client.post(
            "/api/cameras",
            json={"discoveryId": chosen["id"], "username": "admin", "password": DEVICE_PASSWORD},
            headers=served.headers,
        )
        listed = await served.client.get("/api/cameras", headers=served.headers)
        _, again, _ = await timed_get(served, "/api/discover?timeout=1")
        devices = {
            device.state.device.identity.endpoint_uuid: {
                "name": name,
                "port": device.port,
                "url": device.url(),
                "model": device.state.device.identity.model,
                "manufacturer": device.state.device.identity.manufacturer,
            }
            for name, device in (("Alpha Cam", alpha), ("Beta Cam", beta))
        }
    return {
        "devices": devices,
        "status": status,
        "everything": everything,
        "elapsed": elapsed,
        "limited_status": limited_status,
        "limited": limited,
        "limited_elapsed": limited_elapsed,
        "chosen": chosen["id"],
        "added_status": added.status_code,
        "added": added.json(),
        "listed": listed.json(),
        "again": again,
    }


# ------------------------------------------------------------------ watching the wire


def group_socket() -> socket.socket:
    """A UDP socket on 3702 joined to the WS-Discovery group on loopback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("0.0.0.0", PORT))  # group traffic: this namespace has only lo
    request = struct.pack("4s4s", socket.inet_aton(MULTICAST_IPV4), socket.inet_aton("127.0.0.1"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
    sock.setblocking(False)
    return sock


def raw_socket() -> socket.socket:
    """Every IPv4 packet on ``lo`` (``AF_PACKET``): multicast to any port is seen too."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind(("lo", 0))
    sock.setblocking(False)
    return sock


@dataclass
class Wire:
    """What the two watching sockets saw, read as it arrives."""

    group: list[tuple[str, int, str]] = field(default_factory=list)
    #: (destination, protocol, destination port) of each IPv4 packet on lo.
    packets: list[tuple[str, int, int]] = field(default_factory=list)

    def read_group(self, sock: socket.socket) -> None:
        while True:
            try:
                data, (host, port) = sock.recvfrom(65536)
            except BlockingIOError:
                return
            self.group.append((host, port, data[:60].decode("utf-8", "replace")))

    def read_raw(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return
            if len(data) < 20:
                continue
            header = (data[0] & 0x0F) * 4
            destination = socket.inet_ntoa(data[16:20])
            protocol = data[9]
            port = struct.unpack("!H", data[header + 2 : header + 4])[0] if protocol == 17 else 0
            self.packets.append((destination, protocol, port))

    def multicast(self) -> list[tuple[str, int, int]]:
        """Multicast packets but IGMP: joining the group makes *our* kernel send a
        membership report (to 224.0.0.22), which is not the service's doing."""
        return [
            p
            for p in self.packets
            if ipaddress.ip_address(p[0]).is_multicast and p[1] != IPPROTO_IGMP
        ]


@asynccontextmanager
async def watching() -> AsyncIterator[Wire]:
    wire = Wire()
    group, raw = group_socket(), raw_socket()
    loop = asyncio.get_running_loop()
    loop.add_reader(group, wire.read_group, group)
    loop.add_reader(raw, wire.read_raw, raw)
    try:
        yield wire
    finally:
        await asyncio.sleep(0.3)  # what is still in flight arrives
        wire.read_group(group)
        wire.read_raw(raw)
        loop.remove_reader(group)
        loop.remove_reader(raw)
        group.close()
        raw.close()


async def demo_no_multicast() -> Result:
    """``demo=True``: the demo device is found by unicast; no multicast leaves the service."""
    root = Path(tempfile.mkdtemp())
    async with watching() as wire:
        async with served_service(root / "service", demo=True) as served:
            discovery = served.app.state.context.discovery
            target = served.app.state.demo.discovery_target
            demo_port = served.app.state.demo.runtime.discovery_port
            before_scan = len(wire.packets)
            status, found, elapsed = await timed_get(served, "/api/discover?timeout=1")
            await asyncio.sleep(0.3)
            during_scan = wire.packets[before_scan:]
        service_multicast = wire.multicast()
        service_group = list(wire.group)
        # Control: one datagram to the group on lo must be seen by both sockets, so an
        # empty list above means nothing was sent, not that nothing could be heard.
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sender.sendto(b"control datagram", (MULTICAST_IPV4, PORT))
        sender.close()
    return {
        "status": status,
        "found": found,
        "elapsed": elapsed,
        "multicast_setting": discovery.multicast,
        "targets": list(discovery.unicast_targets),
        "target": target,
        "service_multicast": [list(p) for p in service_multicast],
        "service_group": [list(g) for g in service_group],
        "probes_to_demo": sum(1 for d, proto, p in during_scan if proto == 17 and p == demo_port),
        "packets_seen": len(wire.packets),
        "control_group": [g[2] for g in wire.group[len(service_group) :]],
        "control_multicast": len(wire.multicast()) - len(service_multicast),
    }


SCENARIOS: dict[str, Callable[[], Coroutine[Any, Any, Result]]] = {
    "multicast_two": multicast_two,
    "demo_no_multicast": demo_no_multicast,
}


def main() -> None:
    _refuse_real_networks()
    result = asyncio.run(SCENARIOS[sys.argv[1]]())
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
