"""The benchmarks' own parts run and check what they read.

Speed is measured by ``benchmarks/connect.py`` and ``benchmarks/media_latency.py``,
never asserted here. For ``connect.py``: its PlatoniCam half runs end to end on
loopback (replay camera in its own process, PlatoniCam in a fresh one) and it
refuses wrong answers. For ``media_latency.py`` (a run takes minutes, so not
here): the readers its figures rest on find the device's latency stamps in what
the gateway and ffmpeg deliver, for H.264 and H.265 alike (real encoder, the
gateway's muxer, ffmpeg's MPEG-TS muxer); cold-start trials are scheduled at
the asked point of the GOP; a load row names what limited it; bad options are
refused with a message.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from platonicam.device.source import EncoderSettings, encode_loop_blocking
from platonicam.media.fmp4 import (
    VIDEO_TRACK_ID,
    producer_reference_time,
    single_sample_fragment,
    video_sample,
)
from platonicam.rtsp.sei import build_latency_sei
from platonicam.rtsp.stream import AccessUnit, VideoCodec

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
CAMERA = "hikvision_DS-2CD2012-I"
# From media/hikvision_DS-2CD2012-I_GetStreamUri.xml, host rewritten by the replay camera.
STREAM_URI = "rtsp://127.0.0.1:554/Streaming/Channels/2?transportmode=unicast&profile=Profile_2"


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _load_connect() -> ModuleType:
    return _load("bench_connect", "connect.py")


@pytest.fixture(scope="module")
def connect() -> ModuleType:
    return _load_connect()


@pytest.fixture(scope="module")
def media_latency() -> Iterator[ModuleType]:
    # The benchmark imports its sibling _device_process as the script's folder allows.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield _load("bench_media_latency", "media_latency.py")
    finally:
        sys.path.remove(str(BENCHMARKS))


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


# --------------------------------------------------------------------------- media_latency.py

FRAME = 3000  # 90 kHz ticks at 30 fps


def _stamped_units(codec: VideoCodec) -> list[AccessUnit]:
    """Six frames of the device's real encoder (two GOPs), each with its latency SEI
    where the device puts it (before the first slice)."""
    settings = EncoderSettings(
        codec=codec, width=128, height=72, fps=30, bitrate_kbps=200, gop=3, loop_seconds=0.2
    )
    loop = encode_loop_blocking(settings, "bench")
    units = []
    for index, frame in enumerate(loop.frames):
        stamp = 1_800_000_000.25 + index / 30
        cut = frame.first_vcl
        nals = (*frame.nal_units[:cut], build_latency_sei(stamp, codec), *frame.nal_units[cut:])
        units.append(AccessUnit(nals, index * FRAME, frame.keyframe, stamp))
    return units


@pytest.mark.parametrize("codec", [VideoCodec.H264, VideoCodec.H265], ids=["h264", "h265"])
def test_media_benchmark_reads_the_stamps_the_gateway_and_ffmpeg_deliver(
    media_latency: ModuleType, codec: VideoCodec, tmp_path: Path
) -> None:
    units = _stamped_units(codec)
    stamps = [unit.wallclock for unit in units]
    # An MSE frame message as the hub muxes it: prft + moof + mdat, one frame.
    for index, unit in enumerate(units):
        message = producer_reference_time(
            VIDEO_TRACK_ID, unit.wallclock, index * FRAME
        ) + single_sample_fragment(
            index + 1, VIDEO_TRACK_ID, index * FRAME, video_sample(unit, FRAME, codec)
        )
        stamp, keyframe = media_latency.mse_frame(message)
        assert stamp == pytest.approx(unit.wallclock, abs=1e-6)
        assert keyframe is unit.keyframe
        assert media_latency.fmp4_stamps(message, codec) == pytest.approx([unit.wallclock])
    # The codec decides where the SEI is: read as the other codec, nothing is found.
    other = VideoCodec.H265 if codec is VideoCodec.H264 else VideoCodec.H264
    assert media_latency.fmp4_stamps(message, other) == []
    # ffmpeg's MPEG-TS, as its HLS muxer writes it from the same units.
    elementary = tmp_path / "video.es"
    elementary.write_bytes(
        b"".join(b"\x00\x00\x00\x01" + nal for unit in units for nal in unit.nal_units)
    )
    segment = tmp_path / "out.ts"
    raw_format = "h264" if codec is VideoCodec.H264 else "hevc"
    subprocess.run(
        [
            *("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-framerate", "30"),
            *("-f", raw_format, "-i", str(elementary), "-c", "copy", "-f", "mpegts", str(segment)),
        ],
        check=True,
        timeout=60,
    )
    assert media_latency.ts_stamps(segment.read_bytes(), codec) == pytest.approx(stamps, abs=1e-6)


def test_cold_trials_start_at_the_asked_point_of_the_gop(media_latency: ModuleType) -> None:
    next_phase = media_latency.next_phase
    # Keyframes every 4 s, one at 10 s: ... 98, 102 ...; 1 s after one: 99, 103.
    assert next_phase(100.0, 10.0, 4.0, 1.0) == 103.0
    assert next_phase(99.0, 10.0, 4.0, 1.0) == 99.0
    assert next_phase(98.5, 10.0, 4.0, 1.0) == 99.0
    assert next_phase(100.0, 110.0, 4.0, 3.5) == 101.5  # a keyframe known from later on


def test_a_load_row_names_what_limited_it(media_latency: ModuleType) -> None:
    def row(
        cpu: float,
        client: float,
        machine: float,
        rate: float = 5.0,
        gateway_full: float = 0.0,
        machine_full: float = 0.0,
    ) -> object:
        return media_latency.LoadRow(
            "ll-hls", 500, cpu, 150.0, rate, client, 0, machine, gateway_full, machine_full
        )

    limit = media_latency._limit
    assert limit(row(95, 40, 95), 2.0, 5.0) == " (gateway-bound: its one core is full)"
    # At the live rate nothing limited the viewers, however busy the machine was.
    assert limit(row(40, 90, 97), 2.0, 5.0) == ""
    # Behind the live rate: the cores, the viewers' process, or bursts.
    assert limit(row(60, 80, 97, rate=3.2), 2.0, 5.0) == (
        " (machine-bound: the cores are full, the gateway had 62 % of one)"
    )
    assert limit(row(40, 90, 70, rate=3.2), 2.0, 5.0) == (
        " (client-bound: the viewers' core is full)"
    )
    assert limit(row(60, 30, 60, rate=3.2, gateway_full=40, machine_full=45), 2.0, 5.0) == (
        " (gateway-bound in bursts: its core was full in 40 % of 100-ms slices)"
    )
    assert limit(row(60, 30, 60, rate=3.2, gateway_full=10, machine_full=45), 2.0, 5.0) == (
        " (machine-bound in bursts: the cores were full in 45 % of 100-ms slices, "
        "the gateway's in 10 %)"
    )
    assert limit(row(40, 40, 60, rate=3.6), 2.0, 5.0) == " (behind the live rate, no core full)"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--gops", "0"], "GOP lengths and trial counts must be positive"),
        (["--hls-viewers", "5000"], "viewer counts must be between 1 and 1000"),
        (["--h265-size", "1080p"], "'1080p' is not WIDTHxHEIGHT (e.g. 1280x720)"),
        (["--codecs", "vp9"], "invalid choice: 'vp9'"),
    ],
)
def test_media_benchmark_refuses_bad_options(
    media_latency: ModuleType,
    options: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["media_latency.py", *options])
    with pytest.raises(SystemExit) as exited:
        media_latency.main()
    assert exited.value.code == 2  # argparse's usage error, before anything starts
    assert message in capsys.readouterr().err
