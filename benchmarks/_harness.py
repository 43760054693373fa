"""The measuring half of the connect benchmark, shared by every client runner.

Each ``run_<client>.py`` script runs in its own fresh process, under the
interpreter of the virtualenv that holds that client (the project's ``.venv``
for PlatoniCam, ``benchmarks/.peers/<peer>`` for the others). So this module
may use the standard library only, and must run on Python 3.11.

Strategy: a runner imports its library (timed separately, reported, never part
of the connect figure), then hands :func:`main` a :class:`Workload`. Inside one
event loop, :func:`measure` times

* **cold**: create the client, connect (clock + services), then
  GetDeviceInformation, GetProfiles and GetStreamUri for the first profile,
  the first time this process does any of it;
* **warm**: the same three calls ``--warm`` more times on the connected
  client, one duration per round;
* **second**: a new client, connected and asked the three questions again in
  the same (now warmed-up) process.

The process then prints one JSON object on stdout (nothing else goes there:
libraries that log are pointed at stderr) and exits, so peak RSS
(``ru_maxrss``) is this client's alone. ``--trace`` turns on tracemalloc for
the cold section only; it slows Python allocation several times over, so a
traced run's durations are never reported as timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Answers:
    """What the three calls returned, reduced to what every client can report alike."""

    model: str
    profile_count: int
    first_profile_token: str
    stream_uri: str


class Workload(Protocol):
    """One client library driven through the benchmark's steps."""

    async def open(self) -> None:
        """Create the client and connect it (camera clock and service addresses)."""
        ...

    async def three_calls(self) -> Answers:
        """GetDeviceInformation, GetProfiles, then GetStreamUri for the first profile."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    """Where the replay camera listens and the credentials it was given."""

    host: str
    port: int
    username: str
    password: str


def _rss_now_kib() -> int:
    # ru_maxrss is KiB on Linux (bytes on macOS, which this benchmark does not target).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def measure(workload: Workload, *, warm_rounds: int, trace: bool) -> dict[str, object]:
    """Run the cold and warm sections once; durations in nanoseconds.

    Raises ``RuntimeError`` when a warm round answers differently from the cold
    one (a client that silently degrades must not be timed).
    """
    rss_before_kib = _rss_now_kib()
    if trace:
        tracemalloc.start()
    start = time.perf_counter_ns()
    await workload.open()
    answers = await workload.three_calls()
    cold_ns = time.perf_counter_ns() - start
    traced_peak = 0
    if trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    warm_ns: list[int] = []
    for _ in range(warm_rounds):
        start = time.perf_counter_ns()
        again = await workload.three_calls()
        warm_ns.append(time.perf_counter_ns() - start)
        if again != answers:
            raise RuntimeError(f"warm round answered {again!r}, cold answered {answers!r}")
    await workload.close()
    # A second client in the same, now warmed-up process: what each further
    # camera costs a long-running service, without the one-time lazy imports.
    start = time.perf_counter_ns()
    await workload.open()
    second = await workload.three_calls()
    second_ns = time.perf_counter_ns() - start
    await workload.close()
    if second != answers:
        raise RuntimeError(f"second client answered {second!r}, first answered {answers!r}")
    return {
        "cold_ns": cold_ns,
        "second_ns": second_ns,
        "warm_ns": warm_ns,
        "answers": asdict(answers),
        "rss_before_kib": rss_before_kib,
        "traced_peak_bytes": traced_peak if trace else None,
    }


def main(make: Callable[[Target], Workload], *, import_ns: int, library: str) -> None:
    """Parse the runner's arguments, measure, and print the JSON result on stdout.

    ``import_ns`` is how long the runner took to import ``library`` (its
    distribution name, whose version goes into the result).
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--warm", type=int, default=20, help="warm rounds after the cold one")
    parser.add_argument("--trace", action="store_true", help="tracemalloc the cold section")
    args = parser.parse_args()
    target = Target(args.host, args.port, args.username, args.password)
    result = asyncio.run(measure(make(target), warm_rounds=args.warm, trace=args.trace))
    from importlib.metadata import version

    result.update(
        {
            "library": library,
            "version": version(library),
            "python": sys.version.split()[0],
            "import_ns": import_ns,
            "max_rss_kib": _rss_now_kib(),
        }
    )
    sys.stdout.write(json.dumps(result) + "\n")
