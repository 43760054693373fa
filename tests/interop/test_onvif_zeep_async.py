"""onvif-zeep-async (Home Assistant's ONVIF library) against the reference device.

``zeep_client.py`` drives the library the way Home Assistant's integration
does (``ONVIFCamera`` + ``update_xaddrs``, zeep proxies built from the WSDLs
the package ships, WS-Security PasswordDigest, ``PullPointManager``) in a
subprocess under the library's own virtualenv; here we check what it read
against what the device's state says.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from platonicam.device.runtime import DeviceRuntime
from platonicam.onvif.models.media import VideoEncoding
from tests.interop.conftest import HERE, InteropDevice, parse_lines

SCRIPT = HERE / "zeep_client.py"
PRESET_NAME = "zeep-door"


def _command(python: Path, device: InteropDevice, mode: str) -> list[str]:
    return [
        str(python),
        str(SCRIPT),
        device.host,
        str(device.port),
        device.username,
        device.password,
        mode,
    ]


@pytest.fixture(scope="module")
def calls(zeep_python: Path, interop_device: InteropDevice) -> dict[str, Any]:
    """Every request/response step of one Home Assistant-style session."""
    result = interop_device.client(_command(zeep_python, interop_device, "calls")).single
    failed = {
        name: value["error"]
        for name, value in result.items()
        if isinstance(value, dict) and "error" in value
    }
    assert not failed, json.dumps(failed, indent=1)
    return result


def _media1_profiles(runtime: DeviceRuntime) -> list[str]:
    # Media ver10 has no H.265: those profiles are Media2-only (issue 3).
    return [
        profile.token
        for profile in runtime.state.media.profiles
        if profile.video_encoder_configuration is None
        or profile.video_encoder_configuration.encoding is VideoEncoding.H264
    ]


def test_device_information(calls: dict[str, Any], interop_device: InteropDevice) -> None:
    identity = interop_device.run(lambda rt: rt.state.device.identity)
    assert calls["GetDeviceInformation"] == {
        "Manufacturer": identity.manufacturer,
        "Model": identity.model,
        "FirmwareVersion": identity.firmware_version,
        "SerialNumber": identity.serial_number,
        "HardwareId": identity.hardware_id,
    }
    hostname = interop_device.run(lambda rt: rt.state.device.hostname)
    assert calls["GetHostname"]["Name"] == hostname
    assert calls["GetSystemDateAndTime"]["DateTimeType"] == "NTP"
    assert calls["GetSystemDateAndTime"]["TimeZone"] == {"TZ": "UTC0"}


def test_services_and_capabilities(calls: dict[str, Any], interop_device: InteropDevice) -> None:
    base = f"http://127.0.0.1:{interop_device.port}/onvif"
    # update_xaddrs() read GetServices: every address on the host and port we used.
    assert calls["xaddrs"] == {
        "http://www.onvif.org/ver10/device/wsdl": f"{base}/device_service",
        "http://www.onvif.org/ver10/media/wsdl": f"{base}/media_service",
        "http://www.onvif.org/ver20/media/wsdl": f"{base}/media2_service",
        "http://www.onvif.org/ver20/imaging/wsdl": f"{base}/imaging_service",
        "http://www.onvif.org/ver20/ptz/wsdl": f"{base}/ptz_service",
        "http://www.onvif.org/ver10/events/wsdl": f"{base}/events_service",
        "http://www.onvif.org/ver10/deviceIO/wsdl": f"{base}/deviceio_service",
    }
    assert [s["XAddr"] for s in calls["GetServices"]] == list(calls["xaddrs"].values())
    capabilities = calls["GetCapabilities"]
    assert capabilities["Device"]["XAddr"] == f"{base}/device_service"
    assert capabilities["Media"]["XAddr"] == f"{base}/media_service"
    assert capabilities["PTZ"]["XAddr"] == f"{base}/ptz_service"
    assert capabilities["Imaging"]["XAddr"] == f"{base}/imaging_service"
    # Home Assistant only starts PullPoint when the device says it supports it.
    assert capabilities["Events"]["XAddr"] == f"{base}/events_service"
    assert capabilities["Events"]["WSPullPointSupport"] is True
    inputs, relays = interop_device.run(
        lambda rt: (len(rt.state.io.inputs), len(rt.state.io.relays))
    )
    assert capabilities["Device"]["IO"]["InputConnectors"] == inputs
    assert capabilities["Device"]["IO"]["RelayOutputs"] == relays
    scopes = interop_device.run(lambda rt: list(rt.state.device.scopes))
    configurable = [s["ScopeItem"] for s in calls["GetScopes"] if s["ScopeDef"] == "Configurable"]
    assert configurable == scopes


def test_profiles_media_ver10(calls: dict[str, Any], interop_device: InteropDevice) -> None:
    expected = interop_device.run(_media1_profiles)
    assert [p["token"] for p in calls["GetProfiles"]] == expected
    assert len(expected) >= 2
    for read in calls["GetProfiles"]:
        profile = interop_device.run(lambda rt, t=read["token"]: rt.state.profile(t))
        assert profile is not None
        encoder = profile.video_encoder_configuration
        assert encoder is not None
        assert encoder.resolution is not None
        assert read["Name"] == profile.name
        got = read["VideoEncoderConfiguration"]
        assert got["token"] == encoder.token
        assert got["Encoding"] == "H264"
        assert got["Resolution"] == {
            "Width": encoder.resolution.width,
            "Height": encoder.resolution.height,
        }
        assert got["RateControl"]["FrameRateLimit"] == encoder.frame_rate_limit
        assert got["RateControl"]["BitrateLimit"] == encoder.bitrate_limit
        assert got["H264"] == {"GovLength": encoder.gov_length, "H264Profile": encoder.profile}
        # Home Assistant's PTZ entity needs the profile's PTZ configuration.
        assert read["PTZConfiguration"]["token"] == profile.ptz_configuration_token


def test_stream_and_snapshot_uris(calls: dict[str, Any], interop_device: InteropDevice) -> None:
    tokens = interop_device.run(_media1_profiles)
    rtsp = f"rtsp://127.0.0.1:{interop_device.rtsp_port}/profile"
    assert {t: u["Uri"] for t, u in calls["GetStreamUri"].items()} == {
        t: f"{rtsp}/{t}" for t in tokens
    }
    http = f"http://127.0.0.1:{interop_device.port}/onvif/snapshot"
    for token in tokens:
        snapshot = calls["snapshots"][token]
        assert snapshot["uri"] == f"{http}/{token}.jpg"
        # get_snapshot() fetched it with HTTP Digest: a JPEG (SOI marker), not an error page.
        assert snapshot["head"] == "ffd8ff"
        assert snapshot["length"] > 2_000


def test_encoder_configurations_and_options(
    calls: dict[str, Any], interop_device: InteropDevice
) -> None:
    encoders = interop_device.run(
        lambda rt: [
            e
            for e in rt.state.media.video_encoder_configurations
            if e.encoding is VideoEncoding.H264
        ]
    )
    read = {e["token"]: e for e in calls["GetVideoEncoderConfigurations"]}
    assert sorted(read) == sorted(e.token for e in encoders)
    for encoder in encoders:
        assert encoder.resolution is not None
        assert read[encoder.token]["Resolution"] == {
            "Width": encoder.resolution.width,
            "Height": encoder.resolution.height,
        }
        assert read[encoder.token]["Quality"] == encoder.quality
    options = calls["GetVideoEncoderConfigurationOptions"]["H264"]
    sizes = [(r["Width"], r["Height"]) for r in options["ResolutionsAvailable"]]
    assert (1920, 1080) in sizes
    assert (640, 360) in sizes
    assert options["H264ProfilesSupported"] == ["Baseline", "Main", "High"]
    low, high = options["FrameRateRange"]["Min"], options["FrameRateRange"]["Max"]
    assert low <= 25 <= high
    sources = calls["GetVideoSources"]
    assert [(s["token"], s["Resolution"]) for s in sources] == [
        ("VideoSource_1", {"Width": 1920, "Height": 1080})
    ]


def test_imaging_settings_set_and_read_back(
    calls: dict[str, Any], interop_device: InteropDevice
) -> None:
    assert calls["GetImagingSettings.before"]["Brightness"] == 50.0
    assert calls["SetImagingSettings"] is None  # an empty SetImagingSettingsResponse
    after = calls["GetImagingSettings.after"]
    assert (after["Brightness"], after["Contrast"]) == (61.0, 42.0)
    # Only the two values sent changed.
    unchanged = {k: v for k, v in after.items() if k not in ("Brightness", "Contrast")}
    before = calls["GetImagingSettings.before"]
    assert unchanged == {k: v for k, v in before.items() if k not in ("Brightness", "Contrast")}
    stored = interop_device.run(lambda rt: rt.state.imaging.settings["VideoSource_1"])
    assert (stored.brightness, stored.contrast) == (61.0, 42.0)
    assert calls["GetImagingOptions"]["Brightness"] == {"Min": 0.0, "Max": 100.0}


def _pan_tilt(status: dict[str, Any]) -> tuple[float, float]:
    pan_tilt = status["Position"]["PanTilt"]
    return pan_tilt["x"], pan_tilt["y"]


def test_ptz_continuous_move_stop_and_presets(
    calls: dict[str, Any], interop_device: InteropDevice
) -> None:
    ptz = calls["ptz"]
    # The head is shared with the other interop modules: judge moves relative to the start.
    start = _pan_tilt(ptz["status.before"])
    assert ptz["status.before"]["MoveStatus"]["PanTilt"] == "IDLE"
    moving = ptz["status.moving"]
    # 0.5 of full speed for about 0.6 s: the head moved right, and says it is moving.
    assert moving["MoveStatus"]["PanTilt"] == "MOVING"
    assert _pan_tilt(moving)[0] > min(start[0] + 0.05, 1.0) - 1e-9
    assert _pan_tilt(moving)[1] == start[1]
    stopped = ptz["status.stopped"]
    assert stopped["MoveStatus"] == {"PanTilt": "IDLE", "Zoom": "IDLE"}
    assert _pan_tilt(stopped)[0] >= _pan_tilt(moving)[0]
    # Stop really stops: no drift 0.3 s later.
    assert _pan_tilt(ptz["status.later"]) == _pan_tilt(stopped)
    token = ptz["SetPreset"]
    assert [(p["token"], p["Name"]) for p in ptz["GetPresets"]] == [(token, PRESET_NAME)]
    saved = ptz["GetPresets"][0]["PTZPosition"]["PanTilt"]
    assert (saved["x"], saved["y"]) == _pan_tilt(stopped)
    assert _pan_tilt(ptz["status.absolute"]) != _pan_tilt(stopped)
    assert ptz["status.preset"]["MoveStatus"]["PanTilt"] == "IDLE"
    assert _pan_tilt(ptz["status.preset"]) == pytest.approx(_pan_tilt(stopped))
    assert ptz["GetPresets.after"] == []
    stored = interop_device.run(lambda rt: dict(rt.state.ptz.presets))
    assert all(not presets for presets in stored.values())


def test_pullpoint_events(zeep_python: Path, interop_device: InteropDevice) -> None:
    """Home Assistant's event flow: CreatePullPointSubscription, SetSynchronizationPoint,
    then PullMessages (Timeout 60 s) that returns as soon as motion fires."""
    process = subprocess.Popen(
        _command(zeep_python, interop_device, "events"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    fired: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            out.append(line)
            if line.startswith('{"ready"'):
                time.sleep(1.0)  # the client is inside its 60 s PullMessages by now
                fired = interop_device.run(lambda rt: rt.trigger("motion", True))
        process.wait(timeout=60)
        stderr = process.stderr.read() if process.stderr is not None else ""
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    interop_device.run(lambda rt: rt.trigger("motion", False))
    assert process.returncode == 0, stderr
    assert fired == ["motion", "cell_motion"]
    lines = parse_lines("".join(out))
    properties = lines[0]["properties"]["_value_1"]
    roots = {p["tag"].rsplit("}", 1)[1] for p in properties}
    assert {"VideoSource", "RuleEngine", "Device"} <= roots
    ready = lines[1]
    assert ready["subscription"].startswith(
        f"http://127.0.0.1:{interop_device.port}/onvif/pullpoint/"
    )
    events = [line["event"] for line in lines if "event" in line]
    initial = [e for e in events if e["operation"] == "Initialized"]
    # A fresh PullPoint gets the current state of every property topic (and
    # SetSynchronizationPoint sends it again), motion off before we fire it.
    assert {
        "topic": "tns1:VideoSource/MotionAlarm",
        "source": {"Source": "VideoSource_1"},
        "data": {"State": "false"},
    }.items() <= {k: initial[0][k] for k in ("topic", "source", "data")}.items()
    topics = {e["topic"] for e in initial}
    assert {
        "tns1:VideoSource/MotionAlarm",
        "tns1:RuleEngine/CellMotionDetector/Motion",
        "tns1:Device/Trigger/DigitalInput",
        "tns1:Device/Trigger/Relay",
    } <= topics
    inputs = sorted(
        e["source"]["InputToken"]
        for e in initial
        if e["topic"] == "tns1:Device/Trigger/DigitalInput"
    )
    assert inputs == sorted(2 * [f"DigitalInput_{n}" for n in range(1, 5)])
    changed = [e for e in events if e["operation"] == "Changed"]
    assert [(e["topic"], e["data"]) for e in changed] == [
        ("tns1:VideoSource/MotionAlarm", {"State": "true"}),
        ("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true"}),
    ]
    assert changed[0]["source"] == {"Source": "VideoSource_1"}
    # The long poll returned when the motion fired, not at its 60 s timeout.
    assert 0.5 < changed[0]["waited"] < 10.0
    assert lines[-1] == {"done": True, "lost": False}
