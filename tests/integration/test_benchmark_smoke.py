"""The connect benchmark's own half runs and checks its answers.

Speed is measured by ``benchmarks/connect.py``, never asserted here: these tests
only prove that the benchmark runs end to end on loopback (replay camera in
its own process, PlatoniCam in a fresh one) and that it refuses wrong answers.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
CAMERA = "hikvision_DS-2CD2012-I"
# From media/hikvision_DS-2CD2012-I_GetStreamUri.xml, host rewritten by the replay camera.
STREAM_URI = "rtsp://127.0.0.1:554/Streaming/Channels/2?transportmode=unicast&profile=Profile_2"


def _load_connect() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_connect", BENCHMARKS / "connect.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def connect() -> ModuleType:
    return _load_connect()


def test_platonicam_half_runs_and_answers_right() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "connect.py"),
            "--only",
            "platonicam",
            "--runs",
            "1",
            "--warm",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["meta"]["camera"] == CAMERA
    assert summary["meta"]["runs"] == 1
    assert list(summary["clients"]) == ["platonicam"]
    own = summary["clients"]["platonicam"]
    assert own["runs"] == 1
    assert own["answers"] == {
        "model": "DS-2CD2012-I",
        "profile_count": 2,
        "first_profile_token": "Profile_1",
        "stream_uri": STREAM_URI,
    }
    assert own["cold_ms"]["median"] > 0
    assert own["cold_ms"]["all"] == [own["cold_ms"]["median"]]
    assert own["second_ms"]["median"] > 0
    assert own["warm_ms"]["median"] > 0
    assert own["import_ms"] > 0
    assert own["peak_rss_mb"] >= own["rss_after_import_mb"] > 0
    assert own["traced_peak_mb"] > 0
    assert own["ratio_cold"] == 1.0


def test_expected_answers_come_from_the_captures(connect: ModuleType) -> None:
    expected = connect.expected_answers(CAMERA)
    assert expected == connect.Expected(
        model="DS-2CD2012-I",
        profile_count=2,
        first_profile_token="Profile_1",
        stream_path="/Streaming/Channels/2?transportmode=unicast&profile=Profile_2",
    )


def test_a_wrong_answer_stops_the_benchmark(connect: ModuleType) -> None:
    expected = connect.expected_answers(CAMERA)
    leaked = {
        "model": "DS-2CD2012-I",
        "profile_count": 2,
        "first_profile_token": "Profile_1",
        # The camera's private address: a client that did not get the rewritten URI.
        "stream_uri": "rtsp://192.168.1.64:554/Streaming/Channels/2?transportmode=unicast&profile=Profile_2",
    }
    with pytest.raises(connect.BenchmarkError) as caught:
        expected.check("someclient", leaked)
    assert str(caught.value) == (
        "someclient answered wrongly: stream URI "
        "'rtsp://192.168.1.64:554/Streaming/Channels/2?transportmode=unicast&profile=Profile_2', "
        "expected rtsp://127.0.0.1.../Streaming/Channels/2?transportmode=unicast&profile=Profile_2"
    )
    expected.check("someclient", {**leaked, "stream_uri": STREAM_URI})  # the right one passes


def test_expected_wire_work(connect: ModuleType) -> None:
    assert connect.expected_requests(20) == {
        "GetSystemDateAndTime": 2,
        "GetServices": 2,
        "GetDeviceInformation": 22,
        "GetProfiles": 22,
        "GetStreamUri": 22,
    }
