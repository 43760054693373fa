"""The Node ``onvif`` package (UniFi Protect, Node-RED, Scrypted) against the reference device.

One Node script per scenario under ``node/`` prints JSON lines; here we check
them against the device's state. The package reads GetSystemDateAndTime
before it can sign, picks Media2 when GetServices lists ``ver20/media`` (so
the H.265 profile is visible to it), and long-polls PullMessages with
``Timeout=PT1M``, default namespaces and no wsa:Action.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from platonicam.device.runtime import DeviceRuntime
from platonicam.onvif.models.media import VideoEncoding
from tests.interop.conftest import NODE_DIR, ClientRun, InteropDevice, parse_lines


def _command(node: str, device: InteropDevice, scenario: str) -> list[str]:
    script = NODE_DIR / f"{scenario}.js"
    return [node, str(script), device.host, str(device.port), device.username, device.password]


def _scenario(node: str, device: InteropDevice, scenario: str) -> ClientRun:
    run = device.client(_command(node, device, scenario), cwd=NODE_DIR)
    assert not [line for line in run.lines if "warning" in line], run.lines
    return run


def _keyed(run: ClientRun) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for line in run.lines:
        merged.update(line)
    return merged


def test_connect_and_device_information(node: str, interop_device: InteropDevice) -> None:
    info = _keyed(_scenario(node, interop_device, "info"))
    base = f"http://127.0.0.1:{interop_device.port}/onvif"
    assert info["connected"] is True
    assert info["media2Support"] is True
    assert info["uri"] == {
        "device": f"{base}/device_service",
        "media": f"{base}/media_service",
        "media2": f"{base}/media2_service",
        "imaging": f"{base}/imaging_service",
        "ptz": f"{base}/ptz_service",
        "events": f"{base}/events_service",
        "deviceIO": f"{base}/deviceio_service",
    }
    identity = interop_device.run(lambda rt: rt.state.device.identity)
    assert info["GetDeviceInformation"] == {
        "manufacturer": identity.manufacturer,
        "model": identity.model,
        "firmwareVersion": identity.firmware_version,
        "serialNumber": identity.serial_number,
        "hardwareId": identity.hardware_id,
    }
    # The package picked the first profile and its video source as active.
    assert info["activeSource"]["profileToken"] == "Profile_1_main"
    assert info["activeSource"]["sourceToken"] == "VideoSource_1"
    assert (info["activeSource"]["width"], info["activeSource"]["height"]) == (1920, 1080)
    assert info["GetCapabilities"]["events"]["WSPullPointSupport"] is True
    assert info["GetCapabilities"]["media"]["XAddr"] == f"{base}/media_service"
    assert [s["XAddr"] for s in info["GetServices"]] == list(info["uri"].values())
    assert info["GetHostname"] == {
        "fromDHCP": False,
        "name": interop_device.run(lambda rt: rt.state.device.hostname),
    }
    scopes = interop_device.run(lambda rt: list(rt.state.device.scopes))
    configurable = [s["scopeItem"] for s in info["GetScopes"] if s["scopeDef"] == "Configurable"]
    assert configurable == scopes


def _profiles(runtime: DeviceRuntime, *, media2: bool) -> list[tuple[str, str, int, int]]:
    out = []
    for profile in runtime.state.media.profiles:
        encoder = profile.video_encoder_configuration
        assert encoder is not None
        assert encoder.resolution is not None
        assert encoder.encoding
        if not media2 and encoder.encoding is VideoEncoding.H265:
            continue  # Media ver10 has no H.265
        out.append(
            (
                profile.token,
                str(encoder.encoding),
                encoder.resolution.width,
                encoder.resolution.height,
            )
        )
    return out


@pytest.fixture(scope="module")
def media(node: str, interop_device: InteropDevice) -> ClientRun:
    return _scenario(node, interop_device, "media")


@pytest.mark.parametrize("label", ["media2", "media"])
def test_profiles_stream_and_snapshot_uris(
    media: ClientRun, interop_device: InteropDevice, label: str
) -> None:
    lines = [line for line in media.lines if line.get("label") == label]
    profiles = lines[0]["profiles"]
    expected = interop_device.run(lambda rt: _profiles(rt, media2=label == "media2"))
    assert [
        (
            p["$"]["token"],
            p["videoEncoderConfiguration"]["encoding"],
            p["videoEncoderConfiguration"]["resolution"]["width"],
            p["videoEncoderConfiguration"]["resolution"]["height"],
        )
        for p in profiles
    ] == expected
    if label == "media2":
        assert "H265" in {p[1] for p in expected}
    rtsp = f"rtsp://127.0.0.1:{interop_device.rtsp_port}/profile"
    http = f"http://127.0.0.1:{interop_device.port}/onvif/snapshot"
    uris = {line["token"]: line for line in lines if "token" in line}
    assert sorted(uris) == sorted(p[0] for p in expected)
    for token, line in uris.items():
        # RTSP over TCP and RTSP unicast over UDP share one URI; the transport
        # is chosen in the RTSP SETUP.
        assert line["streamUri"]["uri"] == f"{rtsp}/{token}"
        assert line["udpStreamUri"]["uri"] == f"{rtsp}/{token}"
        assert line["snapshotUri"]["uri"] == f"{http}/{token}.jpg"


def test_encoder_options(media: ClientRun) -> None:
    by_label = {line["label"]: line for line in media.lines if "encoderOptions" in line}
    # Media2 GetVideoEncoderConfigurationOptions: one entry per codec.
    media2 = {o["encoding"]: o for o in by_label["media2"]["encoderOptions"]}
    assert sorted(media2) == ["H264", "H265"]
    assert media2["H264"]["$"]["ProfilesSupported"] == "Baseline Main High"
    assert media2["H265"]["$"]["ProfilesSupported"] == "Main Main10"
    assert {"width": 1920, "height": 1080} in media2["H265"]["resolutionsAvailable"]
    assert media2["H264"]["bitrateRange"] == {"min": 64, "max": 16384}
    media1 = by_label["media"]["encoderOptions"]
    assert media1["H264"]["frameRateRange"] == {"min": 1, "max": 30}
    assert media1["H264"]["H264ProfilesSupported"] == ["Baseline", "Main", "High"]
    assert media1["extension"]["H264"]["bitrateRange"] == {"min": 64, "max": 16384}
    encoders = {e["$"]["token"]: e for e in by_label["media"]["encoders"]}
    assert encoders["VideoEncoder_1_main"]["rateControl"] == {
        "frameRateLimit": 25,
        "encodingInterval": 1,
        "bitrateLimit": 4096,
    }
    assert "VideoEncoder_1_h265" not in encoders  # ver10 lists H.264 only


def test_ptz(node: str, interop_device: InteropDevice) -> None:
    run = _scenario(node, interop_device, "ptz")
    steps = {line["step"]: line["status"] for line in run.lines if "step" in line}

    def position(step: str) -> tuple[float, float, float]:
        p = steps[step]["position"]
        return p["x"], p["y"], p["zoom"]

    start = position("before")
    moving = steps["moving"]
    assert moving["moveStatus"] == {"panTilt": "MOVING", "zoom": "MOVING"}
    # Velocity (-0.5, 0.25, zoom 0.5) for about half a second.
    dx, dy, dz = (m - s for m, s in zip(position("moving"), start, strict=True))
    assert dx < -0.1
    assert dy > 0.05
    assert dz > 0.05
    assert steps["stopped"]["moveStatus"] == {"panTilt": "IDLE", "zoom": "IDLE"}
    assert position("later") == position("stopped")
    # ContinuousMove with Timeout PT0.4S at 0.5: 0.2 of travel, then it stops by itself.
    assert steps["timed-out"]["moveStatus"]["panTilt"] == "IDLE"
    assert position("timed-out")[0] - position("stopped")[0] == pytest.approx(0.2, abs=0.01)
    keyed = _keyed(run)
    token = keyed["setPreset"]["presetToken"]
    preset = keyed["presets"]["node-gate"]
    assert preset["$"]["token"] == token
    saved = preset["PTZPosition"]["panTilt"]["$"]
    assert (saved["x"], saved["y"]) == position("timed-out")[:2]
    assert position("absolute") != position("timed-out")
    assert steps["preset"]["moveStatus"]["panTilt"] == "IDLE"
    assert position("preset") == pytest.approx(position("timed-out"))
    assert keyed["presetsAfter"] == {}


def test_events(node: str, interop_device: InteropDevice) -> None:
    process = subprocess.Popen(
        _command(node, interop_device, "events"),
        cwd=NODE_DIR,
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
                time.sleep(1.0)  # the package is inside its PT1M PullMessages by now
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
    assert not [line for line in lines if "eventsError" in line], lines
    ready = next(line for line in lines if "ready" in line)
    assert ready["subscription"].startswith(
        f"http://127.0.0.1:{interop_device.port}/onvif/pullpoint/"
    )
    events = [line["event"] for line in lines if "event" in line]
    initial = {
        (e["topic"], tuple(e["source"].values())): e["data"]
        for e in events
        if e["operation"] == "Initialized"
    }
    assert initial[("tns1:VideoSource/MotionAlarm", ("VideoSource_1",))] == {"State": "false"}
    assert initial[("tns1:Device/Trigger/DigitalInput", ("DigitalInput_4",))] == {
        "LogicalState": "false"
    }
    assert initial[("tns1:Device/Trigger/Relay", ("RelayOutput_1",))] == {
        "LogicalState": "inactive"
    }
    changed = [e for e in events if e["operation"] == "Changed"]
    assert changed[0]["topic"] == "tns1:VideoSource/MotionAlarm"
    assert changed[0]["source"] == {"Source": "VideoSource_1"}
    assert changed[0]["data"] == {"State": "true"}
    # Answered when the motion fired, about a second after the ready line,
    # not at the end of the one-minute long poll.
    first_changed = changed[0]["at"]
    ready_at = max(e["at"] for e in events if e["operation"] == "Initialized")
    assert 500 < first_changed - ready_at < 10_000
    assert lines[-1]["done"] is True
