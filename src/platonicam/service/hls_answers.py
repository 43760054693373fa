"""What an HLS request is answered, whatever serves it.

The HLS routes (``/api/cameras/{camera_id}/hls/...``) have two doors: the raw
ASGI fast path of :mod:`platonicam.service.hls_app`, which answers every
well-formed ``GET`` without FastAPI's routing and dependency injection, and the
FastAPI routes of :mod:`platonicam.service.routers.streams`, which document
them in OpenAPI and answer what the fast path passes on (a delivery directive
that is not plain digits, a ``root_path`` deployment). Both
call the functions here, so both answer alike: who may read (:func:`authorize`),
when a hub is ready (:func:`ready_hub`), and each file's bytes and headers
(:func:`playlist`, :func:`plain_playlist`, :func:`multivariant`,
:func:`media_file`), as a :class:`Reply` (200) or a
:class:`~platonicam.service.errors.Problem`. Authorisation failures and
unknown cameras are raised (:class:`~platonicam.errors.PlatonicamError`) for
the service's error handlers to turn into problems.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from platonicam.media import hls
from platonicam.media.errors import MediaError
from platonicam.media.gateway import Gateway
from platonicam.media.hub import Hub
from platonicam.media.tokens import MediaTokenError, MediaTokens
from platonicam.onvif.errors import OnvifError
from platonicam.service.auth import InvalidToken
from platonicam.service.deps import ServiceContext, may_use_camera
from platonicam.service.errors import PermissionDenied, Problem

__all__ = [
    "PLAYLIST_TYPE",
    "READY_TIMEOUT",
    "START_SEGMENTS",
    "MediaAccess",
    "Reply",
    "Viewer",
    "authorize",
    "media_file",
    "multivariant",
    "plain_playlist",
    "playlist",
    "ready_hub",
]

PLAYLIST_TYPE: Final = "application/vnd.apple.mpegurl"
MP4_TYPE: Final = "video/mp4"
#: Seconds a playlist request waits for the stream's first part.
READY_TIMEOUT: Final = 15.0
#: Complete segments a playlist lists before it is first answered (see ``_first_segments``).
START_SEGMENTS: Final = 3
_PART_NAME: Final = re.compile(r"^p(\d{1,9})-(\d{1,12})\.(\d{1,6})\.m4s$")
_SEGMENT_NAME: Final = re.compile(r"^s(\d{1,9})-(\d{1,12})\.m4s$")
_INIT_NAME: Final = re.compile(r"^init(?:-(\d{1,9}))?\.mp4$")


class MediaAccess:
    """The gateway and the media tokens, as the service's lifespan built them."""

    def __init__(self, gateway: Gateway, tokens: MediaTokens) -> None:
        self.gateway = gateway
        self.tokens = tokens


@dataclass(frozen=True, slots=True)
class Reply:
    """A 200 answer: the bytes and the two headers that vary."""

    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks: the authorised user and what tells their players apart (for the
    gateway's viewer count: one user may watch from several places)."""

    user: str
    client: str
    agent: str

    @property
    def key(self) -> str:
        digest = hashlib.sha256(f"{self.user}|{self.client}|{self.agent}".encode())
        return digest.hexdigest()[:16]


async def authorize(
    context: ServiceContext,
    access: MediaAccess,
    camera_id: str,
    media_token: str | None,
    session_token: str | None,
) -> str:
    """The user allowed to read ``camera_id``'s media; :class:`InvalidToken` (401) or
    :class:`PermissionDenied` (403) otherwise. A media token wins over a session."""
    if media_token:
        try:
            return access.tokens.verify(media_token, camera_id).user
        except MediaTokenError as exc:
            raise InvalidToken(str(exc)) from None
    if not session_token:
        raise InvalidToken(
            "media needs ?token= (from GET /api/cameras/{id}/stream) or a bearer token"
        )
    user = await context.tokens.user_for_access(session_token)
    if not may_use_camera(user, camera_id):
        raise PermissionDenied(f"user {user.name!r} has no grant for camera {camera_id!r}")
    return user.name


def _unavailable(detail: str, title: str = "The stream is not live") -> Problem:
    return Problem(503, "stream_unavailable", title, detail)


def _is_ready(hub: Hub) -> bool:
    """What :meth:`Hub.wait_ready` waits for, without its timer when it already holds."""
    epoch, newest = hub.epoch, hub.newest
    return epoch is not None and newest is not None and newest.epoch == epoch.number


async def ready_hub(access: MediaAccess, camera_id: str, viewer: Viewer) -> Hub | Problem:
    """The camera's hub (opened if needed, the viewer counted) once it has a first part;
    503 when no video comes in time or the stream fails."""
    try:
        hub = await access.gateway.hub(camera_id)
        access.gateway.touch(camera_id, viewer.key)
        if not _is_ready(hub):
            await hub.wait_ready(READY_TIMEOUT)
    except TimeoutError:
        return _unavailable("no video arrived in time")
    except (MediaError, OnvifError) as exc:
        return _unavailable(str(exc))
    return hub


async def _first_segments(hub: Hub) -> None:
    """On a cold start, wait (bounded) until the window holds :data:`START_SEGMENTS`
    complete segments. Plain players start three target durations from the end (RFC
    8216 6.3.3) and refuse a live playlist with fewer: Chromium's native HLS fails to
    parse one with one or two. LL-HLS clients lose nothing: a warm hub answers at once."""
    while True:
        playlist = hub.playlist
        assert playlist is not None
        complete = sum(1 for segment in playlist.segments if segment.complete)
        if complete >= START_SEGMENTS or hub.closed:
            return
        try:
            await hub.wait_for(playlist.next_part[0], None, playlist.block_timeout)
        except TimeoutError:
            return


def _query(access: MediaAccess, camera_id: str, viewer: Viewer, token: str | None) -> str:
    # Players do not carry the playlist's query over to the URIs inside it.
    return f"?token={token or access.tokens.issue(camera_id, viewer.user)}"


async def playlist(
    access: MediaAccess,
    camera_id: str,
    viewer: Viewer,
    token: str | None,
    msn: int | None,
    part: int | None,
) -> Reply | Problem:
    """The LL-HLS media playlist; with ``_HLS_msn``/``_HLS_part`` it is held until that
    part exists (400 when too far ahead, 503 after three target durations)."""
    ready = await ready_hub(access, camera_id, viewer)
    if isinstance(ready, Problem):
        return ready
    hub = ready
    cache = hls.PLAYLIST_CACHE_CONTROL
    if msn is not None or part is not None:
        current = hub.playlist
        assert current is not None
        try:
            decision = await hub.wait_for(msn, part, current.block_timeout)
        except TimeoutError:
            decision = hls.ReloadDecision.WAIT
        if decision is hls.ReloadDecision.BAD_REQUEST:
            return Problem(
                400, "bad_delivery_directive", "Bad request", f"_HLS_msn={msn} _HLS_part={part}"
            )
        if decision is hls.ReloadDecision.WAIT:
            return _unavailable("try again", "Not produced in time")
        cache = hls.BLOCKED_PLAYLIST_CACHE_CONTROL
    else:
        await _first_segments(hub)
    text = hub.render(_query(access, camera_id, viewer, token))
    return Reply(text.encode(), PLAYLIST_TYPE, cache)


async def plain_playlist(
    access: MediaAccess, camera_id: str, viewer: Viewer, token: str | None
) -> Reply | Problem:
    """A plain HLS media playlist (complete segments only), for players without LL-HLS."""
    ready = await ready_hub(access, camera_id, viewer)
    if isinstance(ready, Problem):
        return ready
    await _first_segments(ready)
    text = ready.render(_query(access, camera_id, viewer, token), legacy=True)
    return Reply(text.encode(), PLAYLIST_TYPE, hls.PLAYLIST_CACHE_CONTROL)


async def multivariant(
    access: MediaAccess, camera_id: str, viewer: Viewer, token: str | None
) -> Reply | Problem:
    """A multivariant playlist naming the LL-HLS playlist with its CODECS and RESOLUTION
    (players that sniff nothing, Chromium's native HLS among them, need them)."""
    ready = await ready_hub(access, camera_id, viewer)
    if isinstance(ready, Problem):
        return ready
    epoch = ready.epoch
    assert epoch is not None
    description = epoch.description
    bandwidth = max(1, description.bitrate_kbps or 0) * 1000
    stats = access.gateway.stats(camera_id)
    bandwidth = max(bandwidth, round(stats.bitrate_bps * 1.5), 500_000)
    codecs = epoch.mime.split('codecs="', 1)[1].rstrip('"')
    variant = hls.Variant(
        "index.m3u8",
        bandwidth,
        codecs,
        epoch.width,
        epoch.height,
        description.fps or None,
    )
    text = hls.render_multivariant([variant], query=_query(access, camera_id, viewer, token))
    return Reply(text.encode(), PLAYLIST_TYPE, hls.PLAYLIST_CACHE_CONTROL)


def _part_timeout(hub: Hub) -> float:
    current = hub.playlist
    return current.block_timeout if current is not None else READY_TIMEOUT


async def media_file(
    access: MediaAccess, camera_id: str, viewer: Viewer, name: str
) -> Reply | Problem:
    """The init segment, a segment or a part, from memory (404 once it left the window)."""
    hub = access.gateway.opened(camera_id)
    if hub is None:
        ready = await ready_hub(access, camera_id, viewer)
        if isinstance(ready, Problem):
            return ready
        hub = ready
    else:
        access.gateway.touch(camera_id)
    if (match := _INIT_NAME.match(name)) is not None:
        epoch = hub.epoch if match[1] is None else hub.epoch_by_number(int(match[1]))
        if epoch is None:
            return _gone(name)
        cache = hls.INIT_CACHE_CONTROL if match[1] is None else hls.MEDIA_CACHE_CONTROL
        return Reply(epoch.init, MP4_TYPE, cache)
    data: bytes | None = None
    if (match := _PART_NAME.match(name)) is not None:
        number, msn, index = int(match[1]), int(match[2]), int(match[3])
        found = hub.part(number, msn, index)
        if found is None and hub.epoch is not None and number == hub.epoch.number:
            # A preload hint names the next part before it exists: hold until it does.
            with contextlib.suppress(TimeoutError):
                await hub.wait_for(msn, index, _part_timeout(hub))
            found = hub.part(number, msn, index)
        data = found.data if found is not None else None
    elif (match := _SEGMENT_NAME.match(name)) is not None:
        data = hub.segment(int(match[1]), int(match[2]))
    if data is None:
        return _gone(name)
    hub.bytes_sent += len(data)
    return Reply(data, MP4_TYPE, hls.MEDIA_CACHE_CONTROL)


def _gone(name: str) -> Problem:
    return Problem(404, "not_found", "Not found", f"{name} is not (or no longer) available")
