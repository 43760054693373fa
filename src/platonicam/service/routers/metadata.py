"""A camera's analytics objects, from the metadata track of its one media connection.

Routes, under ``/api/cameras/{camera_id}``:

- ``GET /metadata``: the objects now (:class:`MetadataOut`). Asking opens the
  camera's stream like a viewer does (through the media gateway, which keeps
  it for its idle period) and waits, at most ``READY_TIMEOUT`` seconds, until
  it is live; 503 ``stream_unavailable`` when it does not get there.
- ``WS /metadata/ws``: the same JSON, one text message after each document the
  camera sends, plus one whenever the stream's state, the track's presence or
  the set of objects changes without a document (objects expiring). The
  socket keeps the camera's stream open while it is connected.

Both accept what the media endpoints accept (see :mod:`.streams`): a media
token for the camera (``?token=``, from ``GET /api/cameras/{id}/stream``) or a
session (``Authorization: Bearer``) with a grant on it. A refused socket is
closed with code 1008 before it is accepted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response, WebSocket
from starlette.websockets import WebSocketDisconnect

from platonicam.errors import PlatonicamError
from platonicam.media.errors import MediaError
from platonicam.media.ingest import IngestState
from platonicam.onvif.errors import OnvifError
from platonicam.service.deps import Context, ServiceContext
from platonicam.service.errors import Problem
from platonicam.service.metadata import MetadataService
from platonicam.service.routers.streams import Access, MediaAccess, MediaUser, media_user
from platonicam.service.schemas.metadata import MetadataOut
from platonicam.service.schemas.problem import problem_responses
from platonicam.tasks import cancel_and_wait

__all__ = ["get_metadata_service", "router"]

log = logging.getLogger(__name__)

#: Seconds a request waits for a cold camera's stream to go live (as the media routes do).
READY_TIMEOUT: Final = 15.0
#: Seconds between checks for changes that come without a document (expired objects).
REFRESH: Final = 0.5
#: WebSocket close codes: policy violation (refused), going away (the service stops).
POLICY_VIOLATION: Final = 1008
GOING_AWAY: Final = 1001

router = APIRouter(prefix="/api/cameras/{camera_id}", tags=["metadata"])


async def get_metadata_service(request: Request) -> MetadataService:
    return _service_of(request.app.state)


def _service_of(state: object) -> MetadataService:
    service = getattr(state, "metadata", None)
    if not isinstance(service, MetadataService):  # pragma: no cover - outside the lifespan
        raise RuntimeError("the metadata service is not running (create_app's lifespan)")
    return service


Metadata = Annotated[MetadataService, Depends(get_metadata_service)]


def _current(service: MetadataService, access: MediaAccess, camera_id: str) -> MetadataOut:
    gateway = access.gateway
    return MetadataOut.of(
        service.snapshot(camera_id),
        state=gateway.stats(camera_id).state,
        has_track=gateway.metadata_track(camera_id),
    )


@router.get(
    "/metadata",
    response_model=MetadataOut,
    responses=problem_responses(401, 403, 404, 503),
)
async def camera_metadata(
    context: Context, access: Access, service: Metadata, user: MediaUser, camera_id: str
) -> MetadataOut | Response:
    """The objects the camera's analytics sees now, with class, confidence and box."""
    await context.cameras.require(camera_id)
    gateway = access.gateway
    try:
        await gateway.hub(camera_id)
    except (MediaError, OnvifError) as exc:
        return _unavailable(str(exc))
    state = await gateway.wait_live(camera_id, READY_TIMEOUT)
    gateway.touch(camera_id)
    if state is not IngestState.LIVE:
        reason = gateway.stats(camera_id).reason or "no video arrived in time"
        return _unavailable(reason)
    return _current(service, access, camera_id)


def _unavailable(detail: str) -> Response:
    return Problem(503, "stream_unavailable", "The stream is not live", detail).response()


@router.websocket("/metadata/ws")
async def metadata_socket(websocket: WebSocket, camera_id: str, token: str | None = None) -> None:
    """Live objects for overlays (see the module docstring)."""
    context = websocket.app.state.context
    access = websocket.app.state.media
    assert isinstance(context, ServiceContext)
    assert isinstance(access, MediaAccess)
    service = _service_of(websocket.app.state)
    header = websocket.headers.get("authorization", "")
    session = header[7:] if header.lower().startswith("bearer ") else None
    try:
        await media_user(camera_id, context, access, session, token)
        await context.cameras.require(camera_id)
        await access.gateway.hub(camera_id)
    except (PlatonicamError, OnvifError) as exc:
        log.info("metadata socket for camera %s refused: %s", camera_id, exc)
        await websocket.close(code=POLICY_VIOLATION, reason=str(exc)[:100])
        return
    await websocket.accept()
    receiver = asyncio.get_running_loop().create_task(_until_closed(websocket))
    try:
        with access.gateway.hold(camera_id), service.listen(camera_id) as listener:
            sent = _current(service, access, camera_id)
            await websocket.send_text(sent.model_dump_json())
            while True:
                getter = asyncio.ensure_future(listener.get())
                done, _ = await asyncio.wait(
                    {getter, receiver}, timeout=REFRESH, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    await cancel_and_wait(getter)
                if receiver in done:
                    return
                if getter in done and getter.result() is None:
                    await websocket.close(code=GOING_AWAY)
                    return
                now = _current(service, access, camera_id)
                if getter not in done and _shape(now) == _shape(sent):
                    continue  # nothing new: no document, nothing expired
                await websocket.send_text(now.model_dump_json())
                sent = now
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    finally:
        await cancel_and_wait(receiver, ignore=(WebSocketDisconnect, RuntimeError))


def _shape(out: MetadataOut) -> tuple[object, ...]:
    """What a change without a document is about: state, track, which objects."""
    return out.state, out.has_track, tuple(item.id for item in out.objects)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it closes the socket."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
