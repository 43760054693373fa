"""Drive onvif-zeep-async (the library Home Assistant's ONVIF integration uses)
against a device, the way Home Assistant does, and print what it saw as JSON.

Runs under ``tests/interop/.venv-zeep/bin/python`` (never the project's
interpreter: zeep, aiohttp and their pins stay out of our environment), so it
may import only the standard library and ``onvif``/``zeep``.

Usage::

    zeep_client.py HOST PORT USER PASSWORD calls     # one JSON object: a result per step
    zeep_client.py HOST PORT USER PASSWORD events    # JSON lines: {"ready": ...}, then the events

``calls`` runs every step (device info, services, capabilities, profiles,
stream and snapshot URIs, encoder options, imaging get/set, PTZ) and records
each one's result or ``{"error": "..."}``, so one failing step does not hide
the others. ``events`` subscribes through ``PullPointManager`` as Home
Assistant does, prints ``{"ready": true}``, then long-polls PullMessages with
Home Assistant's 60 s timeout until a motion event with ``IsMotion`` true
arrives (the test fires it after reading the ready line), and prints every
notification it pulled.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import onvif
from onvif import ONVIFCamera
from zeep.helpers import serialize_object

WSDL_DIR = os.path.join(os.path.dirname(onvif.__file__), "wsdl")
# Home Assistant's values (homeassistant/components/onvif/event.py).
SUBSCRIPTION_TIME = dt.timedelta(minutes=10)
PULLPOINT_POLL_TIME = dt.timedelta(seconds=60)
PULLPOINT_MESSAGE_LIMIT = 100
EVENTS_DEADLINE = 40.0


def plain(value: Any) -> Any:
    """zeep objects to JSON-able values (lxml elements become their text form)."""
    value = serialize_object(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.timedelta | dt.date):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "tag") and hasattr(value, "iter"):  # an lxml element
        return element_items(value)
    return value


def element_items(element: Any) -> dict[str, Any]:
    """A tt:Message element as {"source": {...}, "data": {...}, ...}, from SimpleItems."""
    out: dict[str, Any] = {"tag": str(element.tag), "attributes": dict(element.attrib)}
    for part in element:
        local = str(part.tag).rsplit("}", 1)[-1]
        items = {
            str(item.get("Name")): str(item.get("Value"))
            for item in part.iter()
            if str(item.tag).endswith("SimpleItem")
        }
        out[local.lower()] = items
    return out


def simple_items(part: Any) -> dict[str, str]:
    """A tt:ItemList (zeep object or None) as {Name: Value}."""
    if part is None:
        return {}
    return {str(item.Name): str(item.Value) for item in part.SimpleItem or []}


async def new_camera(host: str, port: int, user: str, password: str) -> ONVIFCamera:
    # Home Assistant (components/onvif/device.py get_device): WSDLs from the
    # package, no_cache, then update_xaddrs (GetServices, GetCapabilities fallback).
    camera = ONVIFCamera(host, port, user, password, WSDL_DIR, no_cache=True)
    await camera.update_xaddrs()
    return camera


async def run_calls(camera: ONVIFCamera) -> dict[str, Any]:
    results: dict[str, Any] = {"xaddrs": dict(camera.xaddrs)}

    async def step(name: str, action: Callable[[], Awaitable[Any]]) -> Any:
        try:
            value = await action()
        except Exception as exc:
            results[name] = {
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(),
            }
            return None
        results[name] = plain(value)
        return value

    devicemgmt = await camera.create_devicemgmt_service()
    await step("GetDeviceInformation", devicemgmt.GetDeviceInformation)
    await step("GetSystemDateAndTime", devicemgmt.GetSystemDateAndTime)
    await step("GetServices", lambda: devicemgmt.GetServices({"IncludeCapability": False}))
    await step("GetCapabilities", lambda: devicemgmt.GetCapabilities({"Category": "All"}))
    await step("GetHostname", devicemgmt.GetHostname)
    await step("GetScopes", devicemgmt.GetScopes)
    await step("GetNetworkInterfaces", devicemgmt.GetNetworkInterfaces)

    media = await camera.create_media_service()
    profiles = await step("GetProfiles", media.GetProfiles) or []
    uris: dict[str, Any] = {}
    snapshots: dict[str, Any] = {}
    for profile in profiles:
        token = profile.token
        # Home Assistant (components/onvif/device.py async_get_stream_uri).
        request = media.create_type("GetStreamUri")
        request.ProfileToken = token
        request.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        try:
            uris[token] = plain(await media.GetStreamUri(request))
        except Exception as exc:
            uris[token] = {"error": f"{type(exc).__name__}: {exc}"}
        try:
            uri = await camera.get_snapshot_uri(token)
            image = await camera.get_snapshot(token)
            snapshots[token] = {
                "uri": uri,
                "length": None if image is None else len(image),
                "head": None if image is None else image[:3].hex(),
            }
        except Exception as exc:
            snapshots[token] = {"error": f"{type(exc).__name__}: {exc}"}
    results["GetStreamUri"] = uris
    results["snapshots"] = snapshots

    first = profiles[0] if profiles else None
    if first is not None:
        await step(
            "GetVideoEncoderConfigurationOptions",
            lambda: media.GetVideoEncoderConfigurationOptions({"ProfileToken": first.token}),
        )
        await step("GetVideoEncoderConfigurations", media.GetVideoEncoderConfigurations)
        await step("GetVideoSources", media.GetVideoSources)

        source = first.VideoSourceConfiguration.SourceToken
        imaging = await camera.create_imaging_service()
        await step("GetImagingOptions", lambda: imaging.GetOptions({"VideoSourceToken": source}))
        await step(
            "GetImagingSettings.before",
            lambda: imaging.GetImagingSettings({"VideoSourceToken": source}),
        )
        await step(
            "SetImagingSettings",
            lambda: imaging.SetImagingSettings(
                {
                    "VideoSourceToken": source,
                    "ImagingSettings": {"Brightness": 61.0, "Contrast": 42.0},
                    "ForcePersistence": True,
                }
            ),
        )
        await step(
            "GetImagingSettings.after",
            lambda: imaging.GetImagingSettings({"VideoSourceToken": source}),
        )
        results["ptz"] = await run_ptz(camera, first.token)
    return results


async def run_ptz(camera: ONVIFCamera, token: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ptz = await camera.create_ptz_service()
    out["GetNodes"] = plain(await ptz.GetNodes())
    out["status.before"] = plain(await ptz.GetStatus({"ProfileToken": token}))
    # Home Assistant (components/onvif/device.py async_perform_ptz, CONTINUOUS_MOVE).
    request = ptz.create_type("ContinuousMove")
    request.ProfileToken = token
    request.Velocity = {"PanTilt": {"x": 0.5, "y": 0.0}, "Zoom": {"x": 0.0}}
    await ptz.ContinuousMove(request)
    await asyncio.sleep(0.6)
    out["status.moving"] = plain(await ptz.GetStatus({"ProfileToken": token}))
    await ptz.Stop({"ProfileToken": token, "PanTilt": True, "Zoom": True})
    out["status.stopped"] = plain(await ptz.GetStatus({"ProfileToken": token}))
    await asyncio.sleep(0.3)
    out["status.later"] = plain(await ptz.GetStatus({"ProfileToken": token}))
    preset = await ptz.SetPreset({"ProfileToken": token, "PresetName": "zeep-door"})
    out["SetPreset"] = plain(preset)
    out["GetPresets"] = plain(await ptz.GetPresets({"ProfileToken": token}))
    await ptz.AbsoluteMove(
        {"ProfileToken": token, "Position": {"PanTilt": {"x": -0.5, "y": 0.25}, "Zoom": {"x": 0.0}}}
    )
    await asyncio.sleep(0.1)
    out["status.absolute"] = plain(await ptz.GetStatus({"ProfileToken": token}))
    # Home Assistant's GotoPreset sends a Speed; the device moves at once or over time.
    await ptz.GotoPreset({"ProfileToken": token, "PresetToken": preset})
    for _ in range(50):
        status = await ptz.GetStatus({"ProfileToken": token})
        if str(status.MoveStatus.PanTilt).upper() == "IDLE":
            break
        await asyncio.sleep(0.1)
    out["status.preset"] = plain(status)
    await ptz.RemovePreset({"ProfileToken": token, "PresetToken": preset})
    out["GetPresets.after"] = plain(await ptz.GetPresets({"ProfileToken": token}))
    return out


async def run_events(camera: ONVIFCamera) -> None:
    lost: list[bool] = []
    events = await camera.create_events_service()
    properties = await events.GetEventProperties()
    emit({"properties": plain(properties.TopicSet)})
    manager = await camera.create_pullpoint_manager(SUBSCRIPTION_TIME, lambda: lost.append(True))
    service = manager.get_service()
    await manager.set_synchronization_point()
    emit(
        {
            "ready": True,
            "subscription": camera.xaddrs.get(
                "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
            ),
        }
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EVENTS_DEADLINE
    seen_motion = False
    try:
        while not seen_motion and loop.time() < deadline:
            started = loop.time()
            response = await asyncio.wait_for(
                service.PullMessages(
                    {"MessageLimit": PULLPOINT_MESSAGE_LIMIT, "Timeout": PULLPOINT_POLL_TIME}
                ),
                timeout=deadline - loop.time() + 1,
            )
            messages = response.NotificationMessage or []
            for message in messages:
                # zeep maps tt:Message onto its schema type (Source/Data hold
                # SimpleItem lists), as Home Assistant's event parsers read it.
                body = message.Message._value_1
                item = {
                    "topic": str(message.Topic._value_1).strip(),
                    "operation": str(body.PropertyOperation),
                    "utc_time": str(body.UtcTime),
                    "source": simple_items(body.Source),
                    "data": simple_items(body.Data),
                    "waited": round(loop.time() - started, 3),
                }
                emit({"event": item})
                data = item["data"]
                if item["topic"] == "tns1:VideoSource/MotionAlarm" and data.get("State") == "true":
                    seen_motion = True
    finally:
        await manager.shutdown()
        emit({"done": True, "lost": bool(lost)})


def emit(value: dict[str, Any]) -> None:
    print(json.dumps(value, default=str), flush=True)


async def main() -> int:
    host, port, user, password, mode = sys.argv[1:6]
    camera = await new_camera(host, int(port), user, password)
    try:
        if mode == "calls":
            emit(await run_calls(camera))
        elif mode == "events":
            await run_events(camera)
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    finally:
        await camera.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
