"""Events to MQTT: throughput and delay, from many cameras through the bridge to mosquitto.

```
.venv/bin/python benchmarks/events_mqtt.py                      # 50 reference devices
.venv/bin/python benchmarks/events_mqtt.py --mode simulated     # the bridge alone
.venv/bin/python benchmarks/events_mqtt.py --cameras 20 --seconds 5 --json
```

Two modes, both against a real mosquitto started for the run on 127.0.0.1 (Debian's
package), both read back by an independent aiomqtt subscriber:

- ``devices`` (default): ``--cameras`` reference ONVIF devices served by uvicorn in
  this process, each watched by a :class:`PullPointManager` over HTTP; their events go
  through the :class:`EventBus` to the :class:`MqttBridge`. A firing loop toggles
  every device's motion every ``--interval`` seconds. The delay is measured from
  the device firing (the device's ``fire`` call) to the subscriber receiving the
  message. The PullPoint managers keep the service's default pacing
  (``min_pull_interval`` 200 ms; change with ``--min-pull-ms``), which dominates it.
- ``simulated``: ``--cameras`` tasks hand events straight to the bridge as fast as
  it takes them (each waits for the outbox to go below ``--window`` messages): the
  bridge's own ceiling. The delay is from :meth:`MqttBridge.publish` to receipt.

The run fires for ``--seconds`` (default 5), then waits at most 5 s for the rest,
and prints one table: events fired, received, missing (not arrived by then: lost, or
still queued when the run is overloaded), duplicates,
events per second received over the firing window, and the delay's p50/p90/p99
(nearest rank) in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiomqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.events.mosquitto import Mosquitto  # noqa: E402

from platonicam.events.bus import EventBus  # noqa: E402
from platonicam.events.model import Event, EventKind  # noqa: E402
from platonicam.events.mqtt import MqttBridge, MqttSettings  # noqa: E402
from platonicam.onvif.models.events import format_event_time  # noqa: E402

ADMIN = ("admin", "bench-secret-1")
DRAIN_SECONDS = 5.0


@dataclass
class Tally:
    """What the subscriber saw, keyed so each fired event is found once."""

    fired: dict[tuple[str, str], float] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)
    received: int = 0
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)
    first: float | None = None
    last: float | None = None

    def receive(self, key: tuple[str, str], message_id: str, at: float) -> None:
        if message_id in self.seen:
            self.duplicates += 1
            return
        self.seen.add(message_id)
        fired = self.fired.get(key)
        if fired is None:
            return  # an Initialized state from subscribing, not something we fired
        self.received += 1
        self.delays.append(at - fired)
        self.first = at if self.first is None else self.first
        self.last = at


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def read_back(port: int, prefix: str, tally: Tally, ready: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    async with aiomqtt.Client("127.0.0.1", port, max_queued_incoming_messages=0) as client:
        await client.subscribe(f"{prefix}#", qos=1)
        ready.set()
        async for message in client.messages:
            at = loop.time()
            if not isinstance(message.payload, bytes) or not message.payload.startswith(b"{"):
                continue
            body = json.loads(message.payload)
            key = (str(body["camera"]), f"{body['data'].get('n') or body['time']}|{body['state']}")
            tally.receive(key, str(body["id"]), at)


# ---------------------------------------------------------------------- devices mode


async def run_devices(
    bridge: MqttBridge, tally: Tally, cameras: int, seconds: float, interval: float, min_pull: float
) -> tuple[int, str]:
    import uvicorn

    from platonicam.clock import SystemClock
    from platonicam.device.app import create_device_app
    from platonicam.device.core import DeviceOptions
    from platonicam.device.state import DeviceState
    from platonicam.device.streams import NullStreams
    from platonicam.events.pullpoint import PullPointManager, PullPointOptions, PullPointState
    from platonicam.onvif.client import OnvifClient
    from platonicam.onvif.models.device import User, UserLevel

    loop = asyncio.get_running_loop()
    folder = Path(tempfile.mkdtemp(prefix="platonicam-bench-events-"))

    async def reboot() -> None:
        return None

    apps, servers, tasks, clients, managers = [], [], [], [], []
    bus = EventBus(default_queue_size=100_000)
    handle = bus.attach(bridge)
    try:
        for index in range(cameras):
            state = DeviceState.load(folder / f"dev{index}", channels=1)
            app = create_device_app(
                state,
                NullStreams(rtsp_port=8554),
                DeviceOptions(clock=SystemClock(), reboot=reboot, reboot_delay=0.0),
            )
            if not state.users.users:
                app.device.users.create([User(ADMIN[0], UserLevel.ADMINISTRATOR, ADMIN[1])])
            await app.device.start()
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on")
            )
            tasks.append(loop.create_task(server.serve()))
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            apps.append(app)
            servers.append(server)
            client = OnvifClient("127.0.0.1", port, *ADMIN, timeout=30)
            clients.append(client)
            manager = PullPointManager(
                f"dev{index}",
                client,
                bus,
                options=PullPointOptions(
                    topic_filter="tns1:VideoSource/MotionAlarm",
                    pull_timeout=timedelta(seconds=2),
                    min_pull_interval=timedelta(seconds=min_pull),
                    backoff_initial=0.1,
                    backoff_max=1.0,
                ),
            )
            manager.start()
            managers.append(manager)
        for manager in managers:
            await manager.wait_for(lambda s: s.state is PullPointState.SUBSCRIBED, timeout=30)
        await asyncio.sleep(0.5)  # the Initialized states go by

        fired = 0
        state_now = False
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            state_now = not state_now
            for index, app in enumerate(apps):
                message = app.device.events.fire("motion", state_now)
                if message is not None and message.utc_time is not None:
                    text = format_event_time(message.utc_time)
                    tally.fired[(f"dev{index}", f"{text}|{state_now}")] = loop.time()
                    fired += 1
            await asyncio.sleep(interval)
        await _drain(tally, fired)
        malformed = sum(m.status.malformed for m in managers)
        return fired, f"pullpoint malformed={malformed}"
    finally:
        for manager in managers:
            await manager.stop()
        await bus.detach(handle, drain=False)
        for client in clients:
            await client.aclose()
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------------- simulated mode


async def run_simulated(
    bridge: MqttBridge, tally: Tally, cameras: int, seconds: float, window: int
) -> tuple[int, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counts = [0] * cameras

    async def camera(index: int) -> None:
        n = 0
        while loop.time() < deadline:
            if bridge.pending >= window:
                await asyncio.sleep(0.001)
                continue
            n += 1
            state = n % 2 == 0
            tally.fired[(f"sim{index}", f"{n}|{state}")] = loop.time()
            await bridge.publish(
                Event(
                    camera_id=f"sim{index}",
                    kind=EventKind.MOTION,
                    topic="VideoSource/MotionAlarm",
                    raw_topic="tns1:VideoSource/MotionAlarm",
                    source={"Source": "VideoSource_1"},
                    data={"State": "true" if state else "false", "n": str(n)},
                    state=state,
                )
            )
            counts[index] = n
            await asyncio.sleep(0)

    await asyncio.gather(*(camera(i) for i in range(cameras)))
    fired = sum(counts)
    await _drain(tally, fired)
    return fired, f"window={window}"


async def _drain(tally: Tally, fired: int) -> None:
    end = asyncio.get_running_loop().time() + DRAIN_SECONDS
    # Polls a counter the reader task bumps; bounded by DRAIN_SECONDS.
    while tally.received < fired and asyncio.get_running_loop().time() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="platonicam-bench-mosquitto-"))
    broker = Mosquitto(folder)
    broker.start()
    try:
        settings = MqttSettings(url=broker.url, topic_prefix="bench/", outbox_size=1_000_000)
        tally = Tally()
        ready = asyncio.Event()
        reader = asyncio.get_running_loop().create_task(
            read_back(broker.port, settings.topic_prefix, tally, ready)
        )
        try:
            await asyncio.wait_for(ready.wait(), 10)
            async with MqttBridge(settings) as bridge:
                await bridge.wait_connected(10)
                started = time.perf_counter()
                if args.mode == "devices":
                    fired, note = await run_devices(
                        bridge,
                        tally,
                        args.cameras,
                        args.seconds,
                        args.interval,
                        args.min_pull_ms / 1000,
                    )
                else:
                    fired, note = await run_simulated(
                        bridge, tally, args.cameras, args.seconds, args.window
                    )
                wall = time.perf_counter() - started
                dropped = bridge.dropped
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    finally:
        broker.stop()
    span = (tally.last - tally.first) if tally.first is not None and tally.last else 0.0
    rate_window = max(span, 1e-9) if tally.received > 1 else args.seconds
    return {
        "mode": args.mode,
        "cameras": args.cameras,
        "fired": fired,
        "received": tally.received,
        "missing": fired - tally.received,
        "duplicates": tally.duplicates,
        "bridge_dropped": dropped,
        "events_per_s": tally.received / rate_window,
        "p50_ms": percentile(tally.delays, 0.50) * 1000,
        "p90_ms": percentile(tally.delays, 0.90) * 1000,
        "p99_ms": percentile(tally.delays, 0.99) * 1000,
        "max_ms": max(tally.delays, default=math.nan) * 1000,
        "wall_s": wall,
        "note": f"{note} bridge_dropped={dropped}",
    }


def table(rows: Iterable[dict[str, object]]) -> str:
    columns = [
        ("mode", "mode", "{}"),
        ("cameras", "cams", "{}"),
        ("fired", "fired", "{}"),
        ("received", "received", "{}"),
        ("missing", "missing", "{}"),
        ("duplicates", "dups", "{}"),
        ("events_per_s", "events/s", "{:.0f}"),
        ("p50_ms", "p50 ms", "{:.1f}"),
        ("p90_ms", "p90 ms", "{:.1f}"),
        ("p99_ms", "p99 ms", "{:.1f}"),
        ("max_ms", "max ms", "{:.1f}"),
        ("note", "note", "{}"),
    ]
    cells = [[title for _, title, _ in columns]]
    cells += [[fmt.format(row[key]) for key, _, fmt in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("devices", "simulated"), default="devices")
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="firing time (max 30)")
    parser.add_argument("--interval", type=float, default=0.1, help="devices: s between toggles")
    parser.add_argument("--min-pull-ms", type=float, default=200.0, help="devices: pull pacing")
    parser.add_argument("--window", type=int, default=200, help="simulated: outbox high mark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 30.0)
    logging.basicConfig(level=logging.ERROR)
    row = asyncio.run(bench(args))
    print(json.dumps(row, indent=2) if args.json else table([row]))


if __name__ == "__main__":
    main()
