"""Connect benchmark: PlatoniCam against onvif-zeep-async and onveef.

    .venv/bin/python benchmarks/connect.py --runs 15          # all three clients
    .venv/bin/python benchmarks/connect.py --only platonicam   # no peers needed
    .venv/bin/python benchmarks/connect.py --json              # machine-readable

Each client connects to the same replay camera (``platonicam.testing.replay``,
one captured device from ``tests/corpus``, WS-Security UsernameToken with
PasswordDigest required), which runs in a process of its own on 127.0.0.1.

Strategy: every measurement is a fresh process (``run_<client>.py`` under the
interpreter of the virtualenv holding that client), so "cold" really is the
first connect of a process and peak RSS belongs to one client alone. Runs are
interleaved round-robin (the order rotates each round) so that drift in the
machine's speed spreads over all clients alike; one discarded run per client
first warms the OS file cache and writes the ``.pyc`` files. A run counts only
if the client's answers match the capture (model name, profile count, first
profile token, the stream URI's path, on 127.0.0.1) and the replay camera saw
exactly the expected requests; anything else stops the benchmark.

The peers live in their own virtualenvs under ``benchmarks/.peers/`` (created
and filled with pinned versions on first use), so zeep and friends never enter
the project's environment. See benchmarks/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
CORPUS: Final = ROOT / "tests" / "corpus"
PEERS_DIR: Final = HERE / ".peers"

DEFAULT_CAMERA: Final = "hikvision_DS-2CD2012-I"
USERNAME: Final = "admin"
# A throwaway credential for the loopback replay camera only.
PASSWORD: Final = "bench-Pa55word"

TARGET_COLD_MS: Final = 5.0
TARGET_RSS_MB: Final = 25.0
TARGET_SPEEDUP: Final = {"onvif-zeep-async": 30.0, "onveef": 5.0}


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """One measured client: its runner script and the virtualenv it runs in."""

    name: str
    runner: str
    # None: the project's own interpreter. Otherwise (venv folder, pip requirement).
    peer: tuple[str, str] | None = None


CLIENTS: Final = (
    ClientSpec("platonicam", "run_platonicam.py"),
    ClientSpec("onvif-zeep-async", "run_zeep.py", ("zeep", "onvif-zeep-async==4.3.0")),
    ClientSpec("onveef", "run_onveef.py", ("onveef", "onveef==0.6.0")),
)


class BenchmarkError(RuntimeError):
    """A client answered wrongly, did unexpected wire work, or could not run."""


# ----------------------------------------------------------------------------- expected


@dataclass(frozen=True, slots=True)
class Expected:
    """What a correct client reports for the chosen capture set."""

    model: str
    profile_count: int
    first_profile_token: str
    stream_path: str  # path and query of the captured stream URI

    def check(self, client: str, answers: dict[str, Any]) -> None:
        uri = urlsplit(str(answers.get("stream_uri", "")))
        path = uri.path + (f"?{uri.query}" if uri.query else "")
        problems = []
        if answers.get("model") != self.model:
            problems.append(f"model {answers.get('model')!r}, expected {self.model!r}")
        if answers.get("profile_count") != self.profile_count:
            problems.append(
                f"{answers.get('profile_count')} profiles, expected {self.profile_count}"
            )
        if answers.get("first_profile_token") != self.first_profile_token:
            problems.append(
                f"first profile {answers.get('first_profile_token')!r}, "
                f"expected {self.first_profile_token!r}"
            )
        if uri.hostname != "127.0.0.1" or path != self.stream_path:
            problems.append(
                f"stream URI {answers.get('stream_uri')!r}, expected "
                f"rtsp://127.0.0.1...{self.stream_path}"
            )
        if problems:
            raise BenchmarkError(f"{client} answered wrongly: " + "; ".join(problems))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _payload(path: Path) -> ElementTree.Element:
    if not path.is_file():
        raise BenchmarkError(f"{path.relative_to(ROOT)} is missing: pick another --camera")
    # Captures from the project's own corpus (trusted files, not network input).
    root = ElementTree.parse(path).getroot()  # noqa: S314
    body = next(node for node in root if _local(node.tag) == "Body")
    return next(iter(body))


def expected_answers(camera: str) -> Expected:
    """Read the answers straight from the captures, independently of every client."""
    info = _payload(CORPUS / "device" / f"{camera}_GetDeviceInformation.xml")
    model = next(node.text or "" for node in info if _local(node.tag) == "Model")
    profiles = [
        node
        for node in _payload(CORPUS / "media" / f"{camera}_GetProfiles.xml")
        if _local(node.tag) == "Profiles"
    ]
    stream = _payload(CORPUS / "media" / f"{camera}_GetStreamUri.xml")
    uri = next(node.text or "" for node in stream.iter() if _local(node.tag) == "Uri")
    parts = urlsplit(uri.strip())
    return Expected(
        model=model.strip(),
        profile_count=len(profiles),
        first_profile_token=profiles[0].get("token", ""),
        stream_path=parts.path + (f"?{parts.query}" if parts.query else ""),
    )


def expected_requests(warm_rounds: int) -> dict[str, int]:
    three = warm_rounds + 2  # cold, warm rounds, second client
    return {
        "GetSystemDateAndTime": 2,
        "GetServices": 2,
        "GetDeviceInformation": three,
        "GetProfiles": three,
        "GetStreamUri": three,
    }


# ----------------------------------------------------------------------------- processes


def project_python() -> str:
    """An interpreter that can import platonicam: this one, or the checkout's .venv."""
    probe = subprocess.run(
        [sys.executable, "-c", "import platonicam.testing.replay"],
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        return sys.executable
    venv = ROOT / ".venv" / "bin" / "python"
    if venv.is_file():
        return str(venv)
    raise BenchmarkError("run this with the project's interpreter (.venv/bin/python)")


def peer_python(folder: str, requirement: str, *, install: bool) -> str:
    """The interpreter of a peer's own virtualenv, created and filled if missing."""
    venv = PEERS_DIR / folder
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if python.is_file() and marker.is_file() and marker.read_text().strip() == requirement:
        return str(python)
    if not install:
        raise BenchmarkError(f"{requirement} is not installed in {venv} (drop --no-install)")
    _progress(f"installing {requirement} into {venv.relative_to(ROOT)} ...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ],
        check=True,
    )
    marker.write_text(requirement + "\n")
    return str(python)


class ReplayProcess:
    """The replay camera's process and its line protocol (see _replay.py)."""

    def __init__(self, python: str, camera: str) -> None:
        # Closed in close(); a with-block cannot span the process lifetime.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                python,
                str(HERE / "_replay.py"),
                "--corpus",
                str(CORPUS),
                "--camera",
                camera,
                "--username",
                USERNAME,
                "--password",
                PASSWORD,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        hello = self._read()
        self.port = int(hello["port"])

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] | None = self._process.stdout
        line = stdout.readline() if stdout is not None else ""
        if not line:
            self._log.seek(0)
            raise BenchmarkError(
                "the replay camera stopped:\n" + self._log.read().decode(errors="replace")
            )
        result: dict[str, Any] = json.loads(line)
        return result

    def counts(self) -> dict[str, int]:
        """Requests served since the previous call, by operation."""
        stdin = self._process.stdin
        if stdin is None:
            raise BenchmarkError("the replay camera's stdin is closed")
        stdin.write("counts\n")
        stdin.flush()
        return {str(k): int(v) for k, v in self._read().items()}

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()


@dataclass(slots=True)
class ClientResult:
    """Every counted run of one client (durations in ms, memory in MiB)."""

    spec: ClientSpec
    version: str = ""
    cold_ms: list[float] = field(default_factory=list)
    warm_ms: list[float] = field(default_factory=list)  # one median per process
    second_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    rss_after_import_mb: list[float] = field(default_factory=list)
    traced_peak_mb: float | None = None
    answers: dict[str, Any] = field(default_factory=dict)


def run_client(
    python: str,
    spec: ClientSpec,
    replay: ReplayProcess,
    expected: Expected,
    *,
    warm_rounds: int,
    trace: bool = False,
) -> dict[str, Any]:
    """One fresh process of one client; checked answers and wire work, or BenchmarkError."""
    command = [
        python,
        str(HERE / spec.runner),
        "--port",
        str(replay.port),
        "--username",
        USERNAME,
        "--password",
        PASSWORD,
        "--warm",
        str(warm_rounds),
    ]
    if trace:
        command.append("--trace")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, env=env
    )
    served = replay.counts()
    if completed.returncode != 0:
        raise BenchmarkError(
            f"{spec.name} failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    expected.check(spec.name, result["answers"])
    wanted = expected_requests(warm_rounds)
    if served != wanted:
        raise BenchmarkError(
            f"{spec.name} made requests {served}, expected exactly {wanted} "
            "(a retry or an extra call would make the timings incomparable)"
        )
    return result


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# ----------------------------------------------------------------------------- statistics


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summarize(results: list[ClientResult], meta: dict[str, Any]) -> dict[str, Any]:
    own = next((r for r in results if r.spec.name == "platonicam"), None)
    own_cold = statistics.median(own.cold_ms) if own else None
    own_warm = statistics.median(own.warm_ms) if own else None
    own_second = statistics.median(own.second_ms) if own else None
    clients: dict[str, Any] = {}
    for result in results:
        cold = statistics.median(result.cold_ms)
        warm = statistics.median(result.warm_ms)
        second = statistics.median(result.second_ms)
        clients[result.spec.name] = {
            "version": result.version,
            "runs": len(result.cold_ms),
            "import_ms": round(statistics.median(result.import_ms), 2),
            "cold_ms": {
                "median": round(cold, 3),
                "p90": round(p90(result.cold_ms), 3),
                "min": round(min(result.cold_ms), 3),
                "all": [round(v, 3) for v in result.cold_ms],
            },
            "import_plus_cold_ms": round(
                statistics.median(
                    [i + c for i, c in zip(result.import_ms, result.cold_ms, strict=True)]
                ),
                2,
            ),
            "second_ms": {"median": round(second, 3), "p90": round(p90(result.second_ms), 3)},
            "warm_ms": {
                "median": round(warm, 3),
                "per_process": [round(v, 3) for v in result.warm_ms],
            },
            "peak_rss_mb": round(statistics.median(result.peak_rss_mb), 1),
            "rss_after_import_mb": round(statistics.median(result.rss_after_import_mb), 1),
            "traced_peak_mb": (
                round(result.traced_peak_mb, 2) if result.traced_peak_mb is not None else None
            ),
            "ratio_cold": round(cold / own_cold, 2) if own_cold else None,
            "ratio_second": round(second / own_second, 2) if own_second else None,
            "ratio_warm": round(warm / own_warm, 2) if own_warm else None,
            "answers": result.answers,
        }
    return {"meta": meta, "clients": clients}


def render_table(summary: dict[str, Any]) -> str:
    """The plain-text table: one row per client, then PlatoniCam against the targets."""
    headers = (
        "client",
        "version",
        "import ms",
        "cold med ms",
        "cold p90 ms",
        "import+cold",
        "2nd conn ms",
        "warm med ms",
        "peak RSS MB",
        "traced MB",
        "cold x",
        "2nd x",
        "warm x",
    )
    rows = [headers]
    for name, c in summary["clients"].items():
        rows.append(
            (
                name,
                c["version"],
                f"{c['import_ms']:.1f}",
                f"{c['cold_ms']['median']:.2f}",
                f"{c['cold_ms']['p90']:.2f}",
                f"{c['import_plus_cold_ms']:.1f}",
                f"{c['second_ms']['median']:.2f}",
                f"{c['warm_ms']['median']:.2f}",
                f"{c['peak_rss_mb']:.1f}",
                "-" if c["traced_peak_mb"] is None else f"{c['traced_peak_mb']:.2f}",
                "-" if c["ratio_cold"] is None else f"{c['ratio_cold']:.1f}",
                "-" if c["ratio_second"] is None else f"{c['ratio_second']:.1f}",
                "-" if c["ratio_warm"] is None else f"{c['ratio_warm']:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    meta = summary["meta"]
    lines.insert(
        0,
        f"connect + GetDeviceInformation + GetProfiles + GetStreamUri against replay camera "
        f"{meta['camera']} ({meta['runs']} cold runs per client, {meta['warm_rounds']} warm "
        f"rounds each; {meta['cpus']} CPUs, Python {meta['python']})",
    )
    own = summary["clients"].get("platonicam")
    if own is not None:
        checks = [
            f"cold {own['cold_ms']['median']:.2f} ms (target <= {TARGET_COLD_MS:g})",
            f"peak RSS {own['peak_rss_mb']:.1f} MB (target <= {TARGET_RSS_MB:g})",
        ]
        for peer, factor in TARGET_SPEEDUP.items():
            if peer in summary["clients"]:
                got = summary["clients"][peer]["ratio_cold"]
                checks.append(f"{got:.1f}x faster than {peer} (target >= {factor:g}x)")
        lines.append("PlatoniCam: " + "; ".join(checks))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold runs (processes) per client")
    parser.add_argument("--warm", type=int, default=20, help="warm rounds in each process")
    parser.add_argument(
        "--only", action="append", default=[], help="client(s) to run (repeat or comma-separate)"
    )
    parser.add_argument("--camera", default=DEFAULT_CAMERA, help="vendor_model in tests/corpus")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--no-install", action="store_true", help="never create peer venvs")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warm < 1:
        parser.error("--runs and --warm must be at least 1")
    wanted = {name.strip() for item in args.only for name in item.split(",") if name.strip()}
    unknown = wanted - {spec.name for spec in CLIENTS}
    if unknown:
        parser.error(
            f"unknown client(s) {sorted(unknown)}; choose from {[c.name for c in CLIENTS]}"
        )
    specs = [spec for spec in CLIENTS if not wanted or spec.name in wanted]

    try:
        expected = expected_answers(args.camera)
        own_python = project_python()
        pythons = {
            spec.name: (
                own_python
                if spec.peer is None
                else peer_python(*spec.peer, install=not args.no_install)
            )
            for spec in specs
        }
        results = {spec.name: ClientResult(spec) for spec in specs}
        replay = ReplayProcess(own_python, args.camera)
        try:
            for spec in specs:  # discarded: warms the file cache and writes .pyc files
                run_client(pythons[spec.name], spec, replay, expected, warm_rounds=1)
            for round_index in range(args.runs):
                shift = round_index % len(specs)
                for spec in specs[shift:] + specs[:shift]:
                    raw = run_client(
                        pythons[spec.name], spec, replay, expected, warm_rounds=args.warm
                    )
                    result = results[spec.name]
                    result.version = raw["version"]
                    result.answers = raw["answers"]
                    result.cold_ms.append(raw["cold_ns"] / 1e6)
                    result.warm_ms.append(statistics.median(raw["warm_ns"]) / 1e6)
                    result.second_ms.append(raw["second_ns"] / 1e6)
                    result.import_ms.append(raw["import_ns"] / 1e6)
                    result.peak_rss_mb.append(raw["max_rss_kib"] / 1024)
                    result.rss_after_import_mb.append(raw["rss_before_kib"] / 1024)
                _progress(f"round {round_index + 1}/{args.runs} done")
            if not args.no_trace:
                for spec in specs:
                    raw = run_client(
                        pythons[spec.name], spec, replay, expected, warm_rounds=1, trace=True
                    )
                    results[spec.name].traced_peak_mb = raw["traced_peak_bytes"] / 2**20
        finally:
            replay.close()
    except BenchmarkError as exc:
        _progress(f"benchmark failed: {exc}")
        return 1

    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "camera": args.camera,
        "runs": args.runs,
        "warm_rounds": args.warm,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wall_s": round(time.monotonic() - _STARTED, 1),
    }
    summary = summarize([results[spec.name] for spec in specs], meta)
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        sys.stdout.write(render_table(summary) + "\n")
    return 0


_STARTED: Final = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
