"""Camera events: stored (``GET /api/events``), live (SSE and WebSocket), and per-camera state.

Who sees what: admins every camera's events; everyone else only the events of
cameras they hold a grant for. Naming a camera without a grant is refused
(403); leaving the camera out lists or streams the granted ones only, never
an ungranted one. The live feeds read the grants once, when they connect.

Live feeds carry :class:`EventOut` JSON (``id`` null: they do not wait for
the database):

- ``GET /api/events/stream``: Server-Sent Events, one ``data:`` line per
  event, a ``: keep-alive`` comment every 15 s of silence;
- ``WS /api/events/ws``: one text message per event. Browsers cannot set
  headers on a WebSocket, so the access token may come as the
  ``access_token`` query parameter as well as an ``Authorization: Bearer``
  header; a bad token or a refused camera closes the socket with code 1008
  (policy violation) before it is accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect

from platonicam.events.bus import Subscription
from platonicam.events.model import EventKind
from platonicam.service.auth import InvalidToken
from platonicam.service.deps import Context, ServiceContext, Viewer, check_camera, requires
from platonicam.service.errors import PermissionDenied
from platonicam.service.events import EventsSupervisor
from platonicam.service.schemas.events import EventOut, EventPageOut, EventStatusOut
from platonicam.service.schemas.problem import problem_responses
from platonicam.store.records import Role, UserRecord
from platonicam.store.repositories.events import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, InvalidCursor
from platonicam.tasks import cancel_and_wait

__all__ = ["get_supervisor", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["events"], responses=problem_responses(401, 403, 422))

#: Seconds of silence after which the SSE stream sends a comment (proxies close idle streams).
KEEPALIVE_SECONDS: Final = 15.0
#: Events a live reader may fall behind by before the oldest are dropped.
LIVE_QUEUE: Final = 1000
#: WebSocket close code for "not allowed" (RFC 6455 policy violation).
POLICY_VIOLATION: Final = 1008
#: WebSocket close code when the service stops.
GOING_AWAY: Final = 1001


def get_supervisor(request: Request) -> EventsSupervisor:
    return _supervisor_of(request.app.state)


def _supervisor_of(state: object) -> EventsSupervisor:
    supervisor = getattr(state, "events", None)
    if not isinstance(supervisor, EventsSupervisor):  # pragma: no cover - outside the lifespan
        raise RuntimeError("the events supervisor is not running (create_app's lifespan)")
    return supervisor


Supervisor = Annotated[EventsSupervisor, Depends(get_supervisor)]
CameraViewer = Annotated[UserRecord, Depends(requires(Role.VIEWER, camera="camera_id"))]
Kinds = Annotated[
    list[EventKind] | None,
    Query(description="Only these kinds (repeat the parameter for several)."),
]


def visible_cameras(user: UserRecord, camera: str | None) -> frozenset[str] | None:
    """The camera ids ``user`` may see events of, narrowed to ``camera`` when given
    (``None``: every camera). Raises :class:`PermissionDenied` for an ungranted camera."""
    if camera is not None:
        check_camera(user, camera)
        return frozenset({camera})
    return None if user.role is Role.ADMIN else user.grants


def _utc(value: datetime | None) -> datetime | None:
    # A time without a zone is read as UTC (the API speaks UTC throughout).
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get("/api/events")
async def list_events(
    supervisor: Supervisor,
    user: Viewer,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    kind: Kinds = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    payload: Annotated[bool, Query(description="Include each notification's XML.")] = False,
) -> EventPageOut:
    """Stored events newest first, filtered by camera, kind and time; page with ``cursor``."""
    try:
        page = await supervisor.store.list(
            camera_ids=visible_cameras(user, camera),
            kinds=kind,
            since=_utc(since),
            until=_utc(until),
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor as error:
        raise HTTPException(422, detail=f"{str(error)[:1].upper()}{str(error)[1:]}.") from None
    return EventPageOut(
        events=[EventOut.stored(item, payload=payload) for item in page.events], next=page.next
    )


@router.get("/api/cameras/{camera_id}/events/status", responses=problem_responses(404))
async def event_status(
    context: Context, supervisor: Supervisor, user: CameraViewer, camera_id: str
) -> EventStatusOut:
    """The camera's event subscription: its state and counters."""
    await context.cameras.require(camera_id)
    status = supervisor.status(camera_id)
    if status is None:
        # Registered a moment ago: the next reconcile (asked for now) starts it.
        supervisor.camera_changed(camera_id)
        return EventStatusOut(
            camera_id=camera_id,
            state="starting",
            subscriptions=0,
            renewals=0,
            pulls=0,
            events=0,
            duplicates=0,
            malformed=0,
            failures=0,
            last_error=None,
            absolute_termination=False,
            termination_time=None,
        )
    return EventStatusOut.of(status)


# Not in the OpenAPI document, like the WebSocket: a stream that never ends is
# no request/response route (schema-driven clients and fuzzers would wait forever).
@router.get("/api/events/stream", response_class=StreamingResponse, include_in_schema=False)
async def stream_events(
    supervisor: Supervisor,
    user: Viewer,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    kind: Kinds = None,
) -> StreamingResponse:
    """Live events as Server-Sent Events (see the module docstring)."""
    subscription = supervisor.bus.subscribe(
        camera_ids=visible_cameras(user, camera), kinds=kind, max_queue=LIVE_QUEUE
    )
    return StreamingResponse(
        _sse(subscription),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _sse(subscription: Subscription) -> AsyncIterator[str]:
    try:
        # Something at once: the client knows the stream is open before any event.
        yield ": connected\n\n"
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    event = await subscription.get()
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:
                return  # the service is stopping
            yield f"data: {EventOut.of(event).model_dump_json()}\n\n"
    finally:
        subscription.close()


@router.websocket("/api/events/ws")
async def events_socket(
    websocket: WebSocket,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[list[EventKind] | None, Query()] = None,
    access_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> None:
    """Live events over a WebSocket (see the module docstring)."""
    context = websocket.app.state.context
    assert isinstance(context, ServiceContext)
    supervisor = _supervisor_of(websocket.app.state)
    try:
        user = await _socket_user(context, websocket, access_token)
        camera_ids = visible_cameras(user, camera)
    except (InvalidToken, PermissionDenied) as error:
        await websocket.close(code=POLICY_VIOLATION, reason=str(error)[:120])
        return
    subscription = supervisor.bus.subscribe(camera_ids=camera_ids, kinds=kind, max_queue=LIVE_QUEUE)
    await websocket.accept()
    receiver = asyncio.get_running_loop().create_task(_until_closed(websocket))
    try:
        while True:
            getter = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                await cancel_and_wait(getter)
                return
            event = getter.result()
            if event is None:
                await websocket.close(code=GOING_AWAY)
                return
            await websocket.send_text(EventOut.of(event).model_dump_json())
    except WebSocketDisconnect:
        return
    finally:
        subscription.close()
        await cancel_and_wait(receiver, ignore=(WebSocketDisconnect,))


async def _socket_user(
    context: ServiceContext, websocket: WebSocket, access_token: str | None
) -> UserRecord:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" and value.strip() else access_token
    if not token:
        raise InvalidToken(
            "this endpoint needs an access token: an 'Authorization: Bearer' header "
            "or the access_token query parameter"
        )
    return await context.tokens.user_for_access(token)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it closes the socket."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
