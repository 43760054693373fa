"""Live video in the service: the stream list, LL-HLS and HLS, MSE over WebSocket, snapshots,
stream stats, and the watch page.

Every media endpoint accepts either a short-lived media token for that camera
(``?token=``, from ``GET /api/cameras/{id}/stream``: what players and
``<video>``/WebSocket URLs can carry) or a session (``Authorization: Bearer``
with a grant on the camera). The camera's own stream URL and password stay
inside the gateway's feed: no response here contains them.

Routes, under ``/api/cameras/{camera_id}``:

- ``GET /stream``: every way to watch, with URLs that carry a fresh media token;
- ``GET /stream/stats``: state (idle, connecting, live, retrying, failed + reason),
  figures, and how the camera is read (``media.cameras``: ingest, transport, always on);
- ``GET /hls/index.m3u8``: Low-Latency HLS, blocking reload on
  ``_HLS_msn``/``_HLS_part``; ``GET /hls/plain.m3u8``: complete segments only;
  ``GET /hls/master.m3u8``: a multivariant playlist naming ``index.m3u8``. On a
  cold start the first playlist waits until three segments are complete (plain
  players, Chromium's native HLS among them, refuse fewer);
- ``GET /hls/init.mp4`` (current epoch), ``/hls/init-E.mp4``, ``/hls/sE-M.m4s``
  (segments), ``/hls/pE-M.I.m4s`` (parts): served from memory, immutable.
  The HLS routes are declared here (for the OpenAPI document and the
  requests the fast path leaves alone), but a well-formed ``GET`` is answered
  before FastAPI routes it, by :mod:`platonicam.service.hls_app`; both call
  :mod:`platonicam.service.hls_answers`, so they answer alike;
- ``WS /mse``: the MSE protocol of :mod:`platonicam.media.mse`;
- ``GET /stream/snapshot.jpg``: the newest keyframe as JPEG, from the stream
  (the ONVIF snapshot proxy stays at ``/snapshot.jpg``).

And the watch page at ``/`` and ``/watch``, its files under ``/static/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect

from platonicam.config import IngestName, Settings, TransportName
from platonicam.errors import PlatonicamError
from platonicam.media.errors import MediaError
from platonicam.media.gateway import CameraStats, Feed, Gateway
from platonicam.media.ingest import Ingest
from platonicam.media.mse import stream_mse
from platonicam.media.snapshot import SnapshotError
from platonicam.media.tokens import MediaTokens
from platonicam.onvif.errors import OnvifError
from platonicam.rtsp.client import RtspCredentials
from platonicam.service import hls_answers
from platonicam.service.cameras import main_profile
from platonicam.service.deps import Context, ServiceContext, bearer
from platonicam.service.errors import Problem
from platonicam.service.hls_answers import READY_TIMEOUT, MediaAccess, Reply, Viewer
from platonicam.service.hls_answers import authorize as _authorize
from platonicam.service.restream import rtsp_url, rtsp_viewers
from platonicam.store.secrets import JWT_SECRET_FILE, generate_token_secret, read_or_create_secret

__all__ = ["READY_TIMEOUT", "MediaAccess", "media_gateway", "pages", "router"]

log = logging.getLogger(__name__)

STATIC_DIR: Final = Path(__file__).resolve().parent.parent.parent / "web" / "static"
_STATIC_TYPES: Final = {
    "watch.html": "text/html; charset=utf-8",
    "watch.js": "text/javascript; charset=utf-8",
    "player.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}

router = APIRouter(prefix="/api/cameras/{camera_id}", tags=["streams"])
pages = APIRouter(tags=["web"], include_in_schema=False)


# -- wiring ---------------------------------------------------------------------------


def _media_secret(settings: Settings) -> bytes:
    """The service's token-signing secret (the media keys are derived from it)."""
    if settings.auth.secret is not None:
        return settings.auth.secret.get_secret_value().encode("utf-8")
    return read_or_create_secret(settings.data_dir / JWT_SECRET_FILE, generate_token_secret)


@contextlib.asynccontextmanager
async def media_gateway(context: ServiceContext) -> AsyncIterator[MediaAccess]:
    """The gateway of a running service: feeds open the registered cameras' main
    profile stream with their stored credentials, each as ``media.cameras`` says
    (ingest, transport, always on). The always-on cameras are opened before this
    yields (waiting a few seconds at most), and kept open; the gateway watches the
    camera table for cameras added, changed or deleted. Closed (every feed too) at exit.
    A camera with a ``stream_url`` in its options is read from there, without asking it."""
    media = context.settings.media

    async def open_feed(camera_id: str) -> Feed:
        await context.cameras.require(camera_id)
        options = media.camera(camera_id)
        uri = options.stream_url
        if uri is None:
            async with context.camera_manager.client(camera_id) as client:
                profile = main_profile(await client.media.get_profiles())
                if profile is None:
                    raise MediaError(f"camera {camera_id} has no video profile to stream")
                uri = (await client.media.get_stream_uri(profile.token)).uri
        login = await context.cameras.credentials(camera_id)
        credentials = (
            RtspCredentials(login.username, login.password or "") if login.username else None
        )
        return Ingest(
            camera_id,
            uri,
            credentials,
            options.ingest,
            transport=options.transport,
            always_on=options.always_on,
        )

    async def catalog() -> dict[str, Hashable]:
        # What the feed is opened from: a new address or login reopens it.
        return {record.id: record.connection for record in await context.cameras.list()}

    gateway = Gateway(
        open_feed,
        idle_timeout=media.idle_timeout,
        always_on=media.always_on,
        catalog=catalog,
    )
    for camera_id in sorted(media.always_on):
        if await context.cameras.get(camera_id) is None:
            log.warning("always-on camera %s is not registered: it is opened once it is", camera_id)
    access = MediaAccess(gateway, MediaTokens(_media_secret(context.settings), context.clock))
    async with gateway:
        yield access


async def get_access(request: Request) -> MediaAccess:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, one hop per request.
    access = getattr(request.app.state, "media", None)
    if not isinstance(access, MediaAccess):  # pragma: no cover - only outside the lifespan
        raise RuntimeError("the media gateway is not started")
    return access


Access = Annotated[MediaAccess, Depends(get_access)]


async def media_user(
    camera_id: str,
    context: Context,
    access: Access,
    session: Annotated[str | None, Depends(bearer)],
    token: Annotated[str | None, Query(description="A media token for this camera.")] = None,
) -> str:
    return await _authorize(context, access, camera_id, token, session)


MediaUser = Annotated[str, Depends(media_user)]


def _problem(status: int, code: str, title: str, detail: str) -> Response:
    return Problem(status, code, title, detail).response()


def _viewer(request: Request, user: str) -> Viewer:
    client = request.client.host if request.client else "?"
    return Viewer(user, client, request.headers.get("user-agent", ""))


def _respond(answer: Reply | Problem) -> Response:
    if isinstance(answer, Problem):
        return answer.response()
    return Response(
        answer.body,
        media_type=answer.content_type,
        headers={"Cache-Control": answer.cache_control},
    )


# -- the list of ways to watch -----------------------------------------------------------


class HlsUrls(BaseModel):
    """``low_latency``: the LL-HLS media playlist (plain players read it too); ``plain``:
    complete segments only; ``multivariant``: one variant with its CODECS and RESOLUTION."""

    low_latency: str
    plain: str
    multivariant: str


class StreamOut(BaseModel):
    """Every way to watch a camera; each URL carries ``token`` (valid until ``expires``)."""

    camera_id: str
    token: str
    expires: int
    hls: HlsUrls
    mse: str
    snapshot: str
    stats: str
    #: Live analytics objects for overlays (``platonicam.service.metadata``), a WebSocket.
    metadata: str
    #: The RTSP restream (``platonicam.service.restream``); None when the service serves none.
    rtsp: str | None = None


class StreamStatsOut(BaseModel):
    """State and figures of a camera's stream (see ``platonicam.media.gateway.CameraStats``)."""

    camera_id: str
    state: str
    reason: str | None
    bitrate_bps: float
    fps: float
    #: Everyone watching: MSE, HLS and RTSP restream viewers.
    viewers: int
    mse_viewers: int
    hls_viewers: int
    rtsp_viewers: int
    bytes_in: int
    bytes_muxed: int
    bytes_out: int
    reconnects: int
    parts: int
    muxed: int
    skips: int
    mime: str | None
    width: int | None
    height: int | None
    #: How the camera is read (``media.cameras``): ``rtsp`` (our client) or ``pyav`` (FFmpeg).
    ingest: IngestName
    #: RTSP over ``tcp`` (interleaved) or RTP over ``udp``.
    transport: TransportName
    #: Kept connected whether or not anyone watches (never closed for idleness).
    always_on: bool


@router.get("/stream")
async def list_streams(
    request: Request, context: Context, access: Access, user: MediaUser, camera_id: str
) -> StreamOut:
    """The URLs to watch the camera (HLS, LL-HLS, MSE WebSocket, snapshot, analytics
    metadata, RTSP restream), each with a media token bound to this camera."""
    await context.cameras.require(camera_id)
    token = access.tokens.issue(camera_id, user)
    grant = access.tokens.verify(token, camera_id)
    base = str(request.base_url).rstrip("/") + f"/api/cameras/{camera_id}"
    ws_base = "ws" + base.removeprefix("http")
    query = f"?token={token}"
    return StreamOut(
        camera_id=camera_id,
        token=token,
        expires=grant.expires,
        hls=HlsUrls(
            low_latency=f"{base}/hls/index.m3u8{query}",
            plain=f"{base}/hls/plain.m3u8{query}",
            multivariant=f"{base}/hls/master.m3u8{query}",
        ),
        mse=f"{ws_base}/mse{query}",
        snapshot=f"{base}/stream/snapshot.jpg{query}",
        stats=f"{base}/stream/stats{query}",
        metadata=f"{ws_base}/metadata/ws{query}",
        rtsp=rtsp_url(request, camera_id, token),
    )


@router.get("/stream/stats")
async def stream_stats(
    request: Request, context: Context, access: Access, user: MediaUser, camera_id: str
) -> StreamStatsOut:
    """Where the camera's stream is (``idle`` when nobody watches), how it goes, who
    watches (MSE, HLS, RTSP restream), and how it is read (ingest, transport, always on)."""
    stats = access.gateway.stats(camera_id)
    options = context.settings.media.camera(camera_id)
    rtsp = rtsp_viewers(request, camera_id)
    figures = {name: getattr(stats, name) for name in CameraStats.__dataclass_fields__}
    figures["viewers"] = stats.viewers + rtsp
    return StreamStatsOut(
        **figures,
        rtsp_viewers=rtsp,
        ingest=options.ingest,
        transport=options.transport,
        always_on=camera_id in access.gateway.always_on,
    )


@router.get(
    "/stream/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The newest keyframe."}},
)
async def stream_snapshot(
    request: Request, context: Context, access: Access, user: MediaUser, camera_id: str
) -> Response:
    """The newest keyframe of the live stream as JPEG (decoded on request, cached a second)."""
    hub = await access.gateway.hub(camera_id)
    access.gateway.touch(camera_id, _viewer(request, user).key)
    try:
        await hub.wait_ready(READY_TIMEOUT)
        jpeg = await access.gateway.snapshot(camera_id)
    except (TimeoutError, SnapshotError, MediaError) as exc:
        return _problem(503, "stream_unavailable", "No picture yet", str(exc) or "timed out")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=1"})


# -- HLS ------------------------------------------------------------------------------------
# A well-formed GET never reaches these: platonicam.service.hls_app answers it first, with the
# same hls_answers. They document the routes and answer what the fast path passes on.


@router.get("/hls/index.m3u8", response_class=Response)
async def hls_playlist(
    request: Request,
    access: Access,
    user: MediaUser,
    camera_id: str,
    token: str | None = None,
    msn: Annotated[int | None, Query(alias="_HLS_msn")] = None,
    part: Annotated[int | None, Query(alias="_HLS_part")] = None,
) -> Response:
    """The Low-Latency HLS media playlist; with ``_HLS_msn``/``_HLS_part`` it is held
    until that part exists (400 when too far ahead, 503 after three target durations)."""
    viewer = _viewer(request, user)
    return _respond(await hls_answers.playlist(access, camera_id, viewer, token, msn, part))


@router.get("/hls/master.m3u8", response_class=Response)
async def hls_multivariant(
    request: Request, access: Access, user: MediaUser, camera_id: str, token: str | None = None
) -> Response:
    """A multivariant playlist naming the LL-HLS playlist with its CODECS and RESOLUTION
    (players that sniff nothing, Chromium's native HLS among them, need them)."""
    viewer = _viewer(request, user)
    return _respond(await hls_answers.multivariant(access, camera_id, viewer, token))


@router.get("/hls/plain.m3u8", response_class=Response)
async def hls_plain_playlist(
    request: Request, access: Access, user: MediaUser, camera_id: str, token: str | None = None
) -> Response:
    """A plain HLS media playlist (complete segments only), for players without LL-HLS."""
    viewer = _viewer(request, user)
    return _respond(await hls_answers.plain_playlist(access, camera_id, viewer, token))


@router.get("/hls/{name}", response_class=Response)
async def hls_media(
    request: Request, access: Access, user: MediaUser, camera_id: str, name: str
) -> Response:
    """The init segment, a segment or a part, from memory (404 once it left the window)."""
    return _respond(await hls_answers.media_file(access, camera_id, _viewer(request, user), name))


# -- MSE -------------------------------------------------------------------------------------


@router.websocket("/mse")
async def mse(websocket: WebSocket, camera_id: str, token: str | None = None) -> None:
    """The MSE stream (see :mod:`platonicam.media.mse`). Refused (close 1008) without a
    media token for this camera or a session with a grant on it."""
    context = websocket.app.state.context
    access = websocket.app.state.media
    assert isinstance(context, ServiceContext)
    assert isinstance(access, MediaAccess)
    header = websocket.headers.get("authorization", "")
    session = header[7:] if header.lower().startswith("bearer ") else None
    try:
        await _authorize(context, access, camera_id, token, session)
        await context.cameras.require(camera_id)
        hub = await access.gateway.hub(camera_id)
    except (PlatonicamError, OnvifError) as exc:
        log.info("MSE for camera %s refused: %s", camera_id, exc)
        await websocket.close(code=1008, reason=str(exc)[:100])
        return
    await websocket.accept()
    # The browser sends nothing we use, but only a read notices that it left: without one a
    # viewer of a camera that sends no video would hold the hub (and uvicorn's shutdown) forever.
    sending = asyncio.create_task(stream_mse(hub, websocket))
    leaving = asyncio.create_task(_until_disconnect(websocket))
    try:
        done, _ = await asyncio.wait({sending, leaving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, leaving):
            task.cancel()
        await asyncio.gather(sending, leaving, return_exceptions=True)
        # The idle period counts from when the last viewer left, not from when it came.
        access.gateway.touch(camera_id)
    # Close from our side too, whoever started: the hub closed (the camera was removed or the
    # service stops: 1001), or the viewer left (then this ends the TCP connection at once;
    # without it the server leaves the client waiting for the close until it gives up).
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(code=1001 if sending in done else 1000)


async def _until_disconnect(websocket: WebSocket) -> None:
    """Return when the client closes the WebSocket (messages it sends are ignored)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


# -- the watch page --------------------------------------------------------------------------


def _static(name: str) -> FileResponse:
    return FileResponse(
        STATIC_DIR / name, media_type=_STATIC_TYPES[name], headers={"Cache-Control": "no-cache"}
    )


@pages.get("/", response_class=FileResponse)
async def index() -> FileResponse:
    """The watch page."""
    return _static("watch.html")


@pages.get("/watch", response_class=FileResponse)
async def watch() -> FileResponse:
    """The watch page."""
    return _static("watch.html")


@pages.get("/static/{name}", response_class=Response)
async def static(name: str) -> Response:
    """The watch page's script and style (a fixed list: nothing else is served)."""
    if name not in _STATIC_TYPES:
        return _problem(404, "not_found", "Not found", f"no static file {name!r}")
    return _static(name)
