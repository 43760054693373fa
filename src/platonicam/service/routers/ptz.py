"""PTZ: status, moves and presets of a camera, ``/api/cameras/{camera_id}/ptz/...``.

Everything acts on the camera's first media profile with a PTZ configuration
(ONVIF addresses moves by profile). Viewers read status and presets;
operators move, stop and change presets. Every change is written to the audit
log. A camera without PTZ answers 501 (``camera-unsupported``).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import ServiceNotSupported
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.models.ptz import PTZSpeed, PTZVector
from platonicam.service.deps import Context
from platonicam.service.routers.cameras import CameraOperator, CameraViewer
from platonicam.service.schemas.problem import problem_responses
from platonicam.service.schemas.ptz import (
    PresetCreate,
    PresetCreated,
    PresetList,
    PresetOut,
    PtzMoveIn,
    PtzStatusOut,
)

router = APIRouter(
    prefix="/api/cameras/{camera_id}/ptz",
    tags=["ptz"],
    responses=problem_responses(401, 403, 404, 422, 501, 502, 504),
)


async def ptz_profile(client: OnvifClient) -> str:
    """The token of the first profile with a PTZ configuration;
    :class:`ServiceNotSupported` when the camera has none."""
    if not client.has_service(ServiceKind.PTZ):
        raise ServiceNotSupported("the camera offers no PTZ service")
    profiles = await client.media.get_profiles()
    token = next((p.token for p in profiles if p.ptz_configuration_token is not None), None)
    if token is None:
        raise ServiceNotSupported("no media profile of the camera has a PTZ configuration")
    return token


@router.get("/status")
async def ptz_status(context: Context, user: CameraViewer, camera_id: str) -> PtzStatusOut:
    """Where the head is and whether it moves."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        token = await ptz_profile(client)
        found = await client.ptz.get_status(token)
    position = found.position
    return PtzStatusOut(
        profile_token=token,
        pan=position.pan if position else None,
        tilt=position.tilt if position else None,
        zoom=position.zoom if position else None,
        pan_tilt_status=found.pan_tilt_move_status.value if found.pan_tilt_move_status else None,
        zoom_status=found.zoom_move_status.value if found.zoom_move_status else None,
        error=found.error,
    )


@router.post("/move", status_code=status.HTTP_204_NO_CONTENT)
async def ptz_move(
    context: Context, user: CameraOperator, camera_id: str, body: PtzMoveIn
) -> Response:
    """Move continuously, by a translation, or to a position (generic spaces)."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        token = await ptz_profile(client)
        if body.mode == "continuous":
            velocity = PTZSpeed(pan=body.pan, tilt=body.tilt, zoom=body.zoom)
            timeout = timedelta(seconds=body.timeout_seconds) if body.timeout_seconds else None
            await client.ptz.continuous_move(token, velocity, timeout=timeout)
        else:
            vector = PTZVector(pan=body.pan, tilt=body.tilt, zoom=body.zoom)
            speed = (
                PTZSpeed(
                    pan=body.speed if body.pan is not None else None,
                    tilt=body.speed if body.pan is not None else None,
                    zoom=body.speed if body.zoom is not None else None,
                )
                if body.speed is not None
                else None
            )
            if body.mode == "relative":
                await client.ptz.relative_move(token, vector, speed=speed)
            else:
                await client.ptz.absolute_move(token, vector, speed=speed)
    axes = ", ".join(
        f"{name}={value:g}"
        for name, value in (("pan", body.pan), ("tilt", body.tilt), ("zoom", body.zoom))
        if value is not None
    )
    await context.audit.record(
        user.name,
        "ptz.move",
        f"{body.mode} move of camera {camera_id}: {axes}",
        camera_id=camera_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/stop", status_code=status.HTTP_204_NO_CONTENT)
async def ptz_stop(context: Context, user: CameraOperator, camera_id: str) -> Response:
    """Stop every movement."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        await client.ptz.stop(await ptz_profile(client))
    await context.audit.record(
        user.name, "ptz.stop", f"stopped camera {camera_id}", camera_id=camera_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/home", status_code=status.HTTP_204_NO_CONTENT)
async def ptz_home(context: Context, user: CameraOperator, camera_id: str) -> Response:
    """Go to the home position."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        await client.ptz.goto_home_position(await ptz_profile(client))
    await context.audit.record(
        user.name, "ptz.home", f"sent camera {camera_id} home", camera_id=camera_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/presets")
async def list_presets(context: Context, user: CameraViewer, camera_id: str) -> PresetList:
    """The camera's presets (many cameras list empty slots without a name)."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        token = await ptz_profile(client)
        presets = await client.ptz.get_presets(token)
    return PresetList(
        profile_token=token,
        presets=[
            PresetOut(
                token=preset.token,
                name=preset.name,
                pan=preset.position.pan if preset.position else None,
                tilt=preset.position.tilt if preset.position else None,
                zoom=preset.position.zoom if preset.position else None,
            )
            for preset in presets
        ],
    )


@router.post("/presets", status_code=status.HTTP_201_CREATED)
async def create_preset(
    context: Context, user: CameraOperator, camera_id: str, body: PresetCreate
) -> PresetCreated:
    """Store the current position as a preset named ``name``."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        token = await client.ptz.set_preset(await ptz_profile(client), name=body.name)
    await context.audit.record(
        user.name,
        "ptz.preset.create",
        f"stored preset {token} ({body.name}) on camera {camera_id}",
        camera_id=camera_id,
    )
    return PresetCreated(token=token, name=body.name)


@router.post("/presets/{preset_token}/goto", status_code=status.HTTP_204_NO_CONTENT)
async def goto_preset(
    context: Context, user: CameraOperator, camera_id: str, preset_token: str
) -> Response:
    """Move to a stored preset."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        await client.ptz.goto_preset(await ptz_profile(client), preset_token)
    await context.audit.record(
        user.name,
        "ptz.preset.goto",
        f"moved camera {camera_id} to preset {preset_token}",
        camera_id=camera_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/presets/{preset_token}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_preset(
    context: Context, user: CameraOperator, camera_id: str, preset_token: str
) -> Response:
    """Remove a preset."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        await client.ptz.remove_preset(await ptz_profile(client), preset_token)
    await context.audit.record(
        user.name,
        "ptz.preset.delete",
        f"removed preset {preset_token} from camera {camera_id}",
        camera_id=camera_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
