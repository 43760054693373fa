"""Fan-out of one camera to many viewers: time to first frame, gateway CPU and memory per viewer.

::

    .venv/bin/python benchmarks/media_fanout.py                       # MSE and LL-HLS, 1/10/50
    .venv/bin/python benchmarks/media_fanout.py --viewers 1 10 50 100 --seconds 8
    .venv/bin/python benchmarks/media_fanout.py --kinds mse

The gateway is the real service, ``platonicam serve --demo --port 0`` in its
own process (its embedded reference camera, 1080p25 H.264, runs in that same
process: the ``idle`` row measures the service with the camera streaming to
the gateway and no viewer, and the viewer rows subtract it). The viewers run
here, in this process, all on loopback:

* ``mse``: WebSocket clients of ``/api/cameras/demo/mse`` reading every message;
* ``hls``: LL-HLS pollers: a blocking playlist reload for the next part
  (``_HLS_msn``/``_HLS_part``), then that part, again and again.

Columns: time to first frame (request to the first fMP4 fragment received;
median and worst over the viewers), the gateway's CPU share over the
measuring window minus the idle row's (``% core``), its RSS growth per viewer,
parts delivered per viewer per second, and viewers skipped forward (slow
readers). Everything is bounded: each row lasts ``--seconds`` after its
viewers connected, and the whole run stops after ``--limit`` seconds. On a
small machine the clients compete with the gateway for the same cores: the
``client CPU`` column shows how busy this process was.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

CAMERA = "demo"
_RUNNING = re.compile(r"PlatoniCam is running at (http://127\.0\.0\.1:\d+)")
_PASSWORD = re.compile(r"^\s+password: (\S+)$")
_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)-(\d+)\.(\d+)\.m4s')


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Viewer:
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    first_frame: float | None = None
    parts: int = 0
    bytes: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Row:
    kind: str
    viewers: int
    ttff_median: float | None
    ttff_worst: float | None
    cpu: float
    rss_per_viewer: float
    parts_per_second: float
    skipped: int
    client_cpu: float
    errors: int


class Service:
    """``platonicam serve --demo`` in its own process, logged in as the first admin."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen[str] | None = None
        self.base = ""
        self.password = ""

    def start(self, timeout: float = 120.0) -> None:
        command = [sys.executable, "-m", "platonicam", "serve", "--demo", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.base:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the service exited before it started")
            if match := _PASSWORD.match(line):
                self.password = match[1]
            if match := _RUNNING.search(line):
                self.base = match[1]
        if not self.base or not self.password:
            raise RuntimeError("the service did not report its address and admin password")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


async def mse_viewer(url: str, viewer: Viewer, stop: asyncio.Event) -> None:
    started = time.perf_counter()
    try:
        async with websockets.connect(url, max_size=2**25) as ws:
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                if isinstance(message, bytes):
                    if message[4:8] == b"moof":
                        if viewer.first_frame is None:
                            viewer.first_frame = time.perf_counter() - started
                            viewer.ready.set()
                        viewer.parts += 1
                    viewer.bytes += len(message)
    except (OSError, websockets.WebSocketException) as exc:
        viewer.errors.append(str(exc))
        viewer.ready.set()


async def hls_viewer(
    client: httpx.AsyncClient, base: str, token: str, viewer: Viewer, stop: asyncio.Event
) -> None:
    started = time.perf_counter()
    path = f"{base}/api/cameras/{CAMERA}/hls"
    query = f"token={token}"
    try:
        playlist = await client.get(f"{path}/index.m3u8?{query}")
        while not stop.is_set():
            hint = _HINT.search(playlist.text)
            if hint is None:
                viewer.errors.append(f"no preload hint ({playlist.status_code})")
                viewer.ready.set()
                return
            epoch, msn, part = hint.groups()
            playlist = await client.get(
                f"{path}/index.m3u8?{query}&_HLS_msn={msn}&_HLS_part={part}"
            )
            media = await client.get(f"{path}/p{epoch}-{msn}.{part}.m4s?{query}")
            if media.status_code != 200:
                viewer.skipped += 1
                continue
            if viewer.first_frame is None:
                viewer.first_frame = time.perf_counter() - started
                viewer.ready.set()
            viewer.parts += 1
            viewer.bytes += len(media.content)
    except httpx.HTTPError as exc:
        viewer.errors.append(str(exc))
        viewer.ready.set()


async def measure(
    service: Service, token: str, kind: str, count: int, seconds: float, idle_cpu: float
) -> Row:
    pid = service.pid
    rss_before = rss_bytes(pid)
    stop = asyncio.Event()
    viewers = [Viewer() for _ in range(count)]
    limits = httpx.Limits(max_connections=count + 4, max_keepalive_connections=count + 4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        if kind == "mse":
            url = f"ws{service.base.removeprefix('http')}/api/cameras/{CAMERA}/mse?token={token}"
            tasks = [asyncio.create_task(mse_viewer(url, v, stop)) for v in viewers]
        else:
            tasks = [
                asyncio.create_task(hls_viewer(client, service.base, token, v, stop))
                for v in viewers
            ]
        # Connected and first frames in: then measure a steady window.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in viewers)), 20)
        cpu_start = cpu_seconds(pid)
        me_start = time.process_time()
        wall_start = time.monotonic()
        parts_start = sum(v.parts for v in viewers)
        await asyncio.sleep(seconds)
        wall = time.monotonic() - wall_start
        cpu_end = cpu_seconds(pid)
        me_end = time.process_time()
        parts = sum(v.parts for v in viewers) - parts_start
        rss_after = rss_bytes(pid)
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    used = cpu_end - cpu_start
    client_used = me_end - me_start
    firsts = [v.first_frame for v in viewers if v.first_frame is not None]
    return Row(
        kind=kind,
        viewers=count,
        ttff_median=statistics.median(firsts) if firsts else None,
        ttff_worst=max(firsts) if firsts else None,
        cpu=max(0.0, 100 * used / wall - idle_cpu),
        rss_per_viewer=(rss_after - rss_before) / count / 2**20,
        parts_per_second=parts / wall / count,
        skipped=sum(v.skipped for v in viewers),
        client_cpu=100 * client_used / wall,
        errors=sum(len(v.errors) for v in viewers),
    )


async def idle_cpu(service: Service, seconds: float) -> float:
    start = cpu_seconds(service.pid)
    began = time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(service.pid) - start) / (time.monotonic() - began)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def print_table(rows: list[Row], idle: float) -> None:
    print(f"\ngateway idle (camera streaming, no viewer): {idle:.1f} % of a core")
    header = (
        f"{'kind':<5} {'viewers':>7} {'TTFF med ms':>11} {'TTFF max ms':>11} "
        f"{'% core':>7} {'MB/viewer':>9} {'parts/s/v':>9} {'skipped':>7} "
        f"{'client CPU':>10} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.kind:<5} {row.viewers:>7} {_ms(row.ttff_median):>11} {_ms(row.ttff_worst):>11} "
            f"{row.cpu:>7.1f} {row.rss_per_viewer:>9.3f} {row.parts_per_second:>9.2f} "
            f"{row.skipped:>7} {row.client_cpu:>9.0f}% {row.errors:>6}"
        )
    cores = os.cpu_count() or 1
    busiest = max((row.client_cpu for row in rows), default=0.0)
    if cores <= 2 and busiest > 60:
        print(
            f"note: {cores} cores; the clients used up to {busiest:.0f} % of one, so the "
            "largest rows are bounded by the machine as much as by the gateway"
        )


async def run(kinds: list[str], counts: list[int], seconds: float) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="platonicam-fanout-") as folder:
        service = Service(Path(folder) / "data")
        await asyncio.to_thread(service.start)
        try:
            async with httpx.AsyncClient(base_url=service.base, timeout=30) as client:
                login = await client.post(
                    "/api/auth/token", data={"username": "admin", "password": service.password}
                )
                login.raise_for_status()
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                listing = await client.get(f"/api/cameras/{CAMERA}/stream", headers=headers)
                listing.raise_for_status()
                token = listing.json()["token"]
                # Open the camera and let the gateway warm up before measuring anything.
                warm = await client.get(f"/api/cameras/{CAMERA}/hls/index.m3u8?token={token}")
                warm.raise_for_status()
                idle = await idle_cpu(service, min(seconds, 3.0))
                rows = []
                for kind in kinds:
                    for count in counts:
                        rows.append(await measure(service, token, kind, count, seconds, idle))
                        print(json.dumps(rows[-1].__dict__), file=sys.stderr, flush=True)
                print_table(rows, idle)
                return rows
        finally:
            service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", choices=["mse", "hls"], default=["mse", "hls"])
    parser.add_argument("--viewers", nargs="+", type=int, default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window per row")
    parser.add_argument("--limit", type=float, default=600.0, help="stop the whole run after")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(asyncio.wait_for(run(args.kinds, args.viewers, args.seconds), args.limit))


if __name__ == "__main__":
    main()
