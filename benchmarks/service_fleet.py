"""The service against a fleet: 50 reference devices on one machine, read and changed at once.

    .venv/bin/python benchmarks/service_fleet.py [--devices 50] [--concurrency 16] [--json]

Strategy: one process holds everything, all on 127.0.0.1 with ephemeral ports:
``--devices`` :class:`DeviceRuntime` instances (WS-Discovery off, RTSP on; a
device's test pattern is encoded only while someone watches its stream, and
nobody does here, so 50 of them idle on two cores), and the service built by
``create_app`` exactly as ``platonicam serve`` builds it (temporary data
folder, SQLite), served by uvicorn. An httpx client logs in as the generated
admin and then, each step started for every camera at the same moment:

* **register**: ``POST /api/cameras`` (the service connects to each device once);
* **capabilities**: ``GET /api/cameras/{id}/capabilities``;
* **current-settings**: ``GET /api/cameras/{id}/current-settings``;
* **batch apply**: one ``POST /api/apply/batch`` for all cameras (main stream
  to the smallest resolution the devices offer, ``--concurrency`` jobs at a
  time), then ``GET /api/apply/status`` until every job finished; a job's time
  is its own ``updatedAt - createdAt``.

Printed: per step the wall time for all cameras, and p50/p90 of one call (of
one job for the apply). Devices and service share the event loop and the
cores, so these are the figures of "everything on one small machine", not of
the service alone. The whole run is bounded by ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from platonicam.config import load_settings
from platonicam.device.runtime import DeviceRuntime
from platonicam.service.app import create_app

DEVICE_PASSWORD = "fleet-device-pass-1"
ADMIN_LINE = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)
FINISHED = ("completed", "failed", "partial")


@dataclass(frozen=True, slots=True)
class Row:
    """One step over the fleet; durations in milliseconds, ``total_s`` in seconds."""

    step: str
    calls: int
    failed: int
    total_s: float
    p50_ms: float
    p90_ms: float
    max_ms: float


def _row(step: str, total: float, durations: list[float], failed: int) -> Row:
    ordered = sorted(durations) or [0.0]
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return Row(
        step,
        len(durations),
        failed,
        round(total, 2),
        round(statistics.median(ordered) * 1000, 1),
        round(p90 * 1000, 1),
        round(ordered[-1] * 1000, 1),
    )


async def _timed_all(
    ids: list[str], call: Callable[[str], Awaitable[httpx.Response]], expect: int
) -> tuple[float, list[float], int]:
    """Start ``call`` for every id at once: wall time, per-call durations, failures."""

    async def one(camera_id: str) -> tuple[float, bool]:
        started = time.perf_counter()
        response = await call(camera_id)
        return time.perf_counter() - started, response.status_code == expect

    started = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in ids))
    total = time.perf_counter() - started
    return total, [d for d, _ in results], sum(1 for _, ok in results if not ok)


async def run(devices: int, concurrency: int, root: Path) -> tuple[list[Row], dict[str, int]]:
    runtimes = [
        DeviceRuntime(
            root / f"device-{index:02d}",
            "127.0.0.1",
            0,
            0,
            discovery=False,
            admin_password=DEVICE_PASSWORD,
        )
        for index in range(devices)
    ]
    await asyncio.gather(*(r.start() for r in runtimes))
    console = io.StringIO()
    settings = load_settings(
        None,
        data_dir=root / "service",
        discovery={"multicast": False, "unicast_targets": []},
        http={"bind": "127.0.0.1", "port": 0},
    )
    app = create_app(settings, console=console)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                await serving
                raise RuntimeError("the service did not start")
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        password = ADMIN_LINE.search(console.getvalue())
        assert password is not None, "no first admin password printed"
        limits = httpx.Limits(max_connections=devices + 8, max_keepalive_connections=devices + 8)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
        ) as client:
            login = await client.post(
                "/api/auth/token", data={"username": "admin", "password": password[1]}
            )
            login.raise_for_status()
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            return await _measure(client, runtimes, concurrency)
    finally:
        server.should_exit = True
        await serving
        await asyncio.gather(*(r.stop() for r in runtimes))


async def _measure(
    client: httpx.AsyncClient, runtimes: list[DeviceRuntime], concurrency: int
) -> tuple[list[Row], dict[str, int]]:
    rows: list[Row] = []
    ports = {f"cam-{index:02d}": r.port for index, r in enumerate(runtimes)}
    created: dict[str, str] = {}

    async def register(name: str) -> httpx.Response:
        response = await client.post(
            "/api/cameras",
            json={
                "name": name,
                "ip": "127.0.0.1",
                "port": ports[name],
                "username": "admin",
                "password": DEVICE_PASSWORD,
            },
        )
        if response.status_code == 201:
            created[name] = response.json()["id"]
        return response

    total, durations, failed = await _timed_all(list(ports), register, 201)
    rows.append(_row("register (POST /api/cameras)", total, durations, failed))
    ids = [created[name] for name in ports if name in created]

    async def capabilities(camera_id: str) -> httpx.Response:
        return await client.get(f"/api/cameras/{camera_id}/capabilities")

    total, durations, failed = await _timed_all(ids, capabilities, 200)
    rows.append(_row("GET capabilities", total, durations, failed))

    async def current(camera_id: str) -> httpx.Response:
        return await client.get(f"/api/cameras/{camera_id}/current-settings")

    total, durations, failed = await _timed_all(ids, current, 200)
    rows.append(_row("GET current-settings", total, durations, failed))

    # The smallest size every device offers: cheap for the stream that is
    # re-mounted after the change.
    first = (await capabilities(ids[0])).json()["capabilities"]["video_encoders"][0]
    smallest = min(first["resolutions"], key=lambda r: int(r.split("x")[0]) * int(r.split("x")[1]))
    started = time.perf_counter()
    batch = await client.post(
        "/api/apply/batch",
        json={
            "cameras": [{"id": i} for i in ids],
            "settings": {"stream": {"resolution": smallest}},
            "concurrency": concurrency,
        },
    )
    batch.raise_for_status()
    pending = {job["job_id"] for job in batch.json()["jobs"]}
    outcome: dict[str, int] = {}
    job_times: list[float] = []
    while pending:
        await asyncio.sleep(0.1)
        answers = await asyncio.gather(
            *(client.get(f"/api/apply/status/{job_id}") for job_id in pending)
        )
        for answer in answers:
            job = answer.json()
            if job["status"] in FINISHED:
                pending.discard(job["job_id"])
                outcome[job["status"]] = outcome.get(job["status"], 0) + 1
                job_times.append(
                    (
                        datetime.fromisoformat(job["updatedAt"])
                        - datetime.fromisoformat(job["createdAt"])
                    ).total_seconds()
                )
    total = time.perf_counter() - started
    failed = sum(n for status, n in outcome.items() if status != "completed")
    rows.append(_row(f"batch apply ({concurrency} at a time)", total, job_times, failed))
    return rows, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16, help="batch apply: jobs at once")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    arguments = parser.parse_args()

    async def bounded() -> tuple[list[Row], dict[str, int]]:
        with tempfile.TemporaryDirectory(prefix="platonicam-fleet-") as folder:
            async with asyncio.timeout(arguments.budget):
                return await run(arguments.devices, arguments.concurrency, Path(folder))

    started = time.perf_counter()
    rows, outcome = asyncio.run(bounded())
    elapsed = time.perf_counter() - started
    if arguments.json:
        print(json.dumps({"devices": arguments.devices, "rows": [asdict(r) for r in rows]}))
    else:
        print(f"{arguments.devices} reference devices and the service in one process")
        print("| step | calls | failed | total s | p50 ms | p90 ms | max ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            print(
                f"| {r.step} | {r.calls} | {r.failed} | {r.total_s} | {r.p50_ms} | "
                f"{r.p90_ms} | {r.max_ms} |"
            )
        print(f"apply jobs: {outcome}; whole run {elapsed:.1f} s (devices started and stopped)")
    return 0 if all(r.failed == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
