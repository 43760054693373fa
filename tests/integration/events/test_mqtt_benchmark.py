"""``benchmarks/events_mqtt.py`` runs end to end (speed is measured there, never asserted here)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "events_mqtt.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_events_mqtt", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


async def test_simulated_run_delivers_every_event_once() -> None:
    bench = load()
    args = argparse.Namespace(mode="simulated", cameras=3, seconds=0.3, window=50)
    row = await bench.bench(args)
    assert row["fired"] == row["received"]
    assert isinstance(row["fired"], int)
    assert row["fired"] > 0
    assert (row["missing"], row["duplicates"], row["bridge_dropped"]) == (0, 0, 0)
    assert 0 < row["p50_ms"] <= row["p99_ms"]
    text = bench.table([row])
    assert text.splitlines()[0].split()[:4] == ["mode", "cams", "fired", "received"]


async def test_two_reference_devices_through_pullpoint() -> None:
    bench = load()
    args = argparse.Namespace(
        mode="devices", cameras=2, seconds=0.6, interval=0.1, min_pull_ms=20.0
    )
    row = await bench.bench(args)
    assert row["fired"] == 12  # 2 devices x 6 toggles
    assert row["received"] == 12
    assert row["duplicates"] == 0
