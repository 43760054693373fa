"""How many RTSP clients one reference device serves at 1080p before frames drop.

::

    .venv/bin/python benchmarks/device_rtsp.py                   # ramp to 900 clients or 150 s
    .venv/bin/python benchmarks/device_rtsp.py --max 100 --window 5

The device runs in its own process pinned to the first CPU, with its default
main profile (H.264 1920x1080, 25 fps, 4 Mbit/s). Here, pinned to the second
CPU, lightweight readers (RTSP with Digest, RTP interleaved over TCP, no
depacketizing: frames counted by the RTP marker bit, losses by sequence gaps)
are added in steps. After each step settles, every client's frames over
``--window`` seconds are counted. A step passes when the slowest client got at
least 95 % of the configured frame rate and no client saw a sequence gap (the
server skips a backlogged TCP client to the next keyframe, which shows as a
gap); the ramp stops at the first failing step, at ``--max`` clients, or when
``--budget`` seconds are spent. Columns: device CPU (share of one core), the
load core's CPU (when it nears 100 % the readers, not the device, are the
limit), Mbit/s delivered. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import tempfile
import time
from pathlib import Path

from _device_process import DeviceProcess, RtpCounter, cores, pin

PATH = "/profile/Profile_1_main"
FPS = 25.0
STEPS = (1, 2, 5, 10, 20, 40, 60, 100, 150, 200, 300, 400, 500, 700, 900, 1200, 1600, 2000)
SETTLE = 2.0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _ramp(
    device: DeviceProcess, maximum: int, window: float, budget: float
) -> list[tuple[int, float, float, int, float, float, float]]:
    clients: list[RtpCounter] = []
    tasks: list[asyncio.Task[None]] = []
    rows = []
    started = time.monotonic()
    try:
        for step in STEPS:
            if step > maximum or time.monotonic() - started > budget:
                break
            # Opened together: PLAY is answered at the next keyframe (every 2 s).
            added = [
                RtpCounter("127.0.0.1", device.rtsp_port, PATH) for _ in range(step - len(clients))
            ]
            await asyncio.gather(*(client.open() for client in added))
            clients += added
            tasks += [asyncio.create_task(client.run()) for client in added]
            await asyncio.sleep(SETTLE)
            frames = [c.frames for c in clients]
            gaps = [c.gaps for c in clients]
            sent = sum(c.bytes for c in clients)
            device_cpu, own_cpu, wall = device.cpu_seconds(), _own_cpu(), time.monotonic()
            await asyncio.sleep(window)
            elapsed = time.monotonic() - wall
            for task in tasks:
                if task.done():
                    task.result()  # a reader that failed: report it
            rates = [(c.frames - f) / elapsed for c, f in zip(clients, frames, strict=True)]
            lost = sum(c.gaps - g for c, g in zip(clients, gaps, strict=True))
            rows.append(
                (
                    step,
                    min(rates),
                    sum(rates) / len(rates),
                    lost,
                    (device.cpu_seconds() - device_cpu) / elapsed,
                    (_own_cpu() - own_cpu) / elapsed,
                    (sum(c.bytes for c in clients) - sent) * 8 / elapsed / 1e6,
                )
            )
            if min(rates) < 0.95 * FPS or lost:
                break
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        for client in clients:
            await client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--max", type=int, default=900, help="most clients to try (900)")
    parser.add_argument("--window", type=float, default=4.0, help="seconds measured per step (4)")
    parser.add_argument("--budget", type=float, default=150.0, help="stop ramping after (150 s)")
    args = parser.parse_args()
    available = cores()
    device_core = available[0] if len(available) > 1 else -1
    load_core = available[1] if len(available) > 1 else -1
    with (
        tempfile.TemporaryDirectory() as tmp,
        DeviceProcess(Path(tmp) / "device", device_core) as device,
    ):
        pin(load_core)
        rows = asyncio.run(_ramp(device, args.max, args.window, args.budget))
    print(
        f"device on CPU {device_core}, readers on CPU {load_core}; 1920x1080 H.264 "
        f"{FPS:g} fps; {args.window:g} s per step"
    )
    print(
        f"{'clients':>7} {'min fps':>7} {'mean fps':>8} {'gaps':>5} {'device CPU':>10} "
        f"{'load CPU':>8} {'Mbit/s':>7} {'verdict':>8}"
    )
    print(f"{'-' * 7} {'-' * 7} {'-' * 8} {'-' * 5} {'-' * 10} {'-' * 8} {'-' * 7} {'-' * 8}")
    served = 0
    for clients, low, mean, lost, device_cpu, load_cpu, mbits in rows:
        ok = low >= 0.95 * FPS and not lost
        served = clients if ok else served
        print(
            f"{clients:>7} {low:>7.1f} {mean:>8.1f} {lost:>5} {device_cpu:>10.0%} "
            f"{load_cpu:>8.0%} {mbits:>7.0f} {'ok' if ok else 'DROPS':>8}"
        )
    print(f"served without drops: {served} clients")


if __name__ == "__main__":
    main()
