"""CPU of one reference device idling: no client, then one RTSP client at 1080p.

::

    .venv/bin/python benchmarks/device_idle_cpu.py               # 30 s per row
    .venv/bin/python benchmarks/device_idle_cpu.py --seconds 10

The device runs in its own process (pinned to the first CPU; the client runs
here on the second) with its default profiles; after a settling pause, its CPU
time (user + system, all threads, from ``/proc``) is read over the window.
"one client" is one RTP-over-TCP reader on the 1080p H.264 main profile,
counting the frames it receives. Loopback only. Target: <= 2 % of a core idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from _device_process import DeviceProcess, RtpCounter, cores, pin

TARGET = 0.02
SETTLE = 3.0


async def _window(device: DeviceProcess, seconds: float, path: str | None) -> tuple[float, float]:
    """CPU share of the device over ``seconds``, and frames per second a client got."""
    reader: RtpCounter | None = None
    task: asyncio.Task[None] | None = None
    if path is not None:
        reader = RtpCounter("127.0.0.1", device.rtsp_port, path)
        await reader.open()
        task = asyncio.create_task(reader.run())
    await asyncio.sleep(SETTLE)
    frames_before = reader.frames if reader is not None else 0
    cpu_before, wall = device.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - wall
    share = (device.cpu_seconds() - cpu_before) / elapsed
    fps = ((reader.frames - frames_before) / elapsed) if reader is not None else 0.0
    if task is not None and reader is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await reader.close()
    return share, fps


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per row (default 30)")
    args = parser.parse_args()
    available = cores()
    device_core = available[0] if len(available) > 1 else -1
    client_core = available[1] if len(available) > 1 else -1
    with (
        tempfile.TemporaryDirectory() as tmp,
        DeviceProcess(Path(tmp) / "device", device_core) as device,
    ):
        pin(client_core)
        idle = asyncio.run(_window(device, args.seconds, None))
        one = asyncio.run(_window(device, args.seconds, "/profile/Profile_1_main"))
    print(f"device on CPU {device_core}, {args.seconds:g} s per row after {SETTLE:g} s settling")
    print(f"{'state':<26} {'device CPU':>10} {'client fps':>10} {'target':>7}")
    print(f"{'-' * 26} {'-' * 10} {'-' * 10} {'-' * 7}")
    for label, (share, fps) in (("idle, no client", idle), ("one RTSP client, 1080p", one)):
        verdict = "ok" if share <= TARGET else "MISSED"
        shown = f"{fps:.1f}" if label != "idle, no client" else "-"
        print(f"{label:<26} {share:>10.2%} {shown:>10} {verdict:>7}")


if __name__ == "__main__":
    main()
