"""A camera's snapshot (proxied) and reboot.

``GET /api/cameras/{camera_id}/snapshot.jpg`` fetches the JPEG from the
camera's snapshot URI with its stored credentials and answers it as our own:
the viewer never sees the camera's address, URI or password. The picture is
kept for a second (``service.cameras.SNAPSHOT_MAX_AGE``), so many viewers
polling cost the camera one request a second. The streaming gateway is
elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from platonicam.service.deps import Context
from platonicam.service.routers.cameras import CameraAdmin, CameraViewer
from platonicam.service.schemas.cameras import RebootOut
from platonicam.service.schemas.problem import problem_responses

router = APIRouter(
    prefix="/api/cameras/{camera_id}",
    tags=["cameras"],
    responses=problem_responses(401, 403, 404, 501, 502, 504),
)


@router.get(
    "/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The current picture."}},
)
async def snapshot(context: Context, user: CameraViewer, camera_id: str) -> Response:
    """The camera's current picture as JPEG."""
    await context.cameras.require(camera_id)
    jpeg = await context.camera_manager.snapshot(camera_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=1"})


@router.post("/reboot", status_code=202)
async def reboot(context: Context, user: CameraAdmin, camera_id: str) -> RebootOut:
    """Ask the camera to restart (SystemReboot); it is unreachable for a while."""
    await context.cameras.require(camera_id)
    async with context.camera_manager.client(camera_id) as client:
        message = await client.device.system_reboot()
    await context.camera_manager.forget(camera_id)
    await context.audit.record(
        user.name, "camera.reboot", f"rebooted camera {camera_id}", camera_id=camera_id
    )
    return RebootOut(camera_id=camera_id, message=message)
