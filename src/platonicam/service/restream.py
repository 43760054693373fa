"""The RTSP restream: every registered camera at ``rtsp://HOST:PORT/cameras/{id}?token=...``.

Strategy:

* **One camera connection for everyone.** The path of a camera is served by
  our :class:`~platonicam.rtsp.server.RtspServer` from a :class:`CameraStream`:
  the feed (:class:`~platonicam.media.ingest.Ingest`) of the camera's hub in the
  media gateway, the same connection the MSE and HLS viewers share. RTSP
  viewers share one subscription to it (the server packetizes each access unit
  once for all of them), and nothing is decoded or re-encoded.
* **With the camera's sound.** A camera whose stream has AAC audio is restreamed
  with it: :class:`CameraStream` is an
  :class:`~platonicam.rtsp.stream.AudioStream` passing the feed's ``audio`` and
  ``subscribe_audio()`` through, so the SDP gets an ``m=audio`` track and the
  frames go out as the camera sent them (RFC 3640), placed on the wall clock by
  sender reports. The server subscribes to the audio only after the video
  subscription reached the feed, so sound alone never opens a camera.
* **Lazy.** Nothing is mounted at start. The server asks :meth:`Restream.resolve`
  about ``cameras/{id}`` on DESCRIBE: a registered camera is mounted on demand
  (subscribed while clients use it, unsubscribed ``idle_timeout`` seconds after
  the last one left, then unmounted); anything else, a deleted camera included,
  is 404. While RTSP clients watch, the restream marks the camera's hub as used,
  so the gateway does not close it under them; afterwards the gateway's own
  idle close disconnects the camera.
* **Nothing is open.** A viewer presents the camera's short-lived media token
  (:mod:`platonicam.media.tokens`, what ``GET /api/cameras/{id}/stream`` hands
  out for HLS) in the URL's query, ``?token=``, as HLS players do. Why the
  query and not Digest with the token as the password: a Digest server must
  know the password to check the answer, and we only know how to *verify* a
  token, not which one a client holds (splitting it, claims as the user and
  signature as the password, would work, but a long camera id or user name
  takes it past the 127 characters of ``user:password`` FFmpeg keeps: it then
  fails with 401 for no visible reason). ffprobe/ffmpeg, VLC (live555)
  and GStreamer's ``rtspsrc`` all send a URL's query in DESCRIBE; the server
  then names the tracks by absolute URLs repeating it, so SETUP carries the
  token too whatever the client does with relative URLs, and the session that
  SETUP creates authorizes PLAY, TEARDOWN and keep-alives. A missing, forged,
  expired or other camera's token is 401 with ``WWW-Authenticate: Bearer``
  (RFC 6750, whose §2.3 sends bearer tokens in the URI query the same way).
  The token is checked when a client starts: a session outlives its token, as
  an open MSE WebSocket does.
* **The camera's own URL and password stay in the gateway's feed**: no RTSP
  answer and no stream list names them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Final

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError

from platonicam.config import MediaSettings
from platonicam.errors import PlatonicamError
from platonicam.media.gateway import Gateway
from platonicam.media.hub import StreamSource
from platonicam.media.tokens import MediaTokenError, MediaTokens
from platonicam.onvif.errors import OnvifError
from platonicam.rtsp.errors import RtspError
from platonicam.rtsp.message import RtspRequest
from platonicam.rtsp.server import AccessDecision, Mountpoint, RtspServer
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    AudioStream,
    StreamDescription,
)
from platonicam.service.deps import ServiceContext

__all__ = [
    "CameraStream",
    "Restream",
    "restream_url",
    "rtsp_restream",
    "rtsp_url",
    "rtsp_viewers",
    "token_access",
]

log = logging.getLogger(__name__)

#: The first path segment of every camera's restream.
PREFIX: Final = "cameras"
#: The query parameter that carries the media token (as in the HLS URLs).
TOKEN_PARAMETER: Final = "token"  # noqa: S105 - a parameter name
REALM: Final = "PlatoniCam"


class CameraStream:
    """One camera's live video, and sound, as the RTSP server reads it (a ``LiveStream``
    and an ``AudioStream``): the feed of the camera's hub in the gateway, opened (or
    joined) when the video is subscribed."""

    def __init__(self, camera_id: str, gateway: Gateway) -> None:
        self.camera_id = camera_id
        self._gateway = gateway
        self._feed: StreamSource | None = None

    @property
    def description(self) -> StreamDescription:
        """The feed's description; :class:`RtspError` before the camera was reached."""
        feed = self._feed
        if feed is None:
            raise RtspError(f"camera {self.camera_id} has not been reached yet")
        try:
            return feed.description
        except PlatonicamError as exc:
            raise RtspError(str(exc)) from None

    @property
    def audio(self) -> AudioDescription | None:
        """The feed's AAC track; ``None`` without one, or before the camera was reached."""
        feed = self._feed
        return feed.audio if isinstance(feed, AudioStream) else None

    async def subscribe_audio(self) -> AsyncGenerator[AudioFrame, None]:
        """The AAC frames of the feed the video subscription reached (nothing before it
        did: the audio alone never opens the camera), until that feed closes."""
        feed = self._feed
        if feed is None or not isinstance(feed, AudioStream):
            return
        frames = feed.subscribe_audio()
        try:
            async for frame in frames:
                yield frame
        finally:
            if isinstance(frames, AsyncGenerator):
                with contextlib.suppress(PlatonicamError, OSError):
                    await frames.aclose()

    async def subscribe(self) -> AsyncGenerator[AccessUnit, None]:
        """The camera's access units from its next keyframe on, until the hub closes."""
        try:
            hub = await self._gateway.hub(self.camera_id)
        except (PlatonicamError, OnvifError, OSError, RuntimeError) as exc:
            # Ends the subscription: the waiting DESCRIBE answers 503, the next one retries.
            log.warning("RTSP restream of camera %s: %s", self.camera_id, exc)
            return
        feed = hub.source
        self._feed = feed
        units = feed.subscribe()
        try:
            async for unit in units:
                # Activity for the gateway: RTSP viewers keep the hub (and camera) open.
                self._gateway.touch(self.camera_id)
                yield unit
        finally:
            if isinstance(units, AsyncGenerator):
                with contextlib.suppress(PlatonicamError, OSError):
                    await units.aclose()


class Restream:
    """The service's RTSP server for every registered camera (see the module docstring).

    ``host``/``port`` is where it listens (port 0: a free one, read :attr:`port`
    after :meth:`start`); ``idle_timeout`` is how long a camera's restream stays
    subscribed after its last client left.
    """

    def __init__(
        self,
        context: ServiceContext,
        gateway: Gateway,
        tokens: MediaTokens,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: float = 10.0,
    ) -> None:
        self._context = context
        self._gateway = gateway
        self._tokens = tokens
        self.server = RtspServer(
            host, port, realm=REALM, resolver=self.resolve, idle_timeout=idle_timeout
        )

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        """Listen; raises ``OSError`` when the address cannot be bound."""
        await self.server.start()

    async def close(self) -> None:
        """End every RTSP session and stop listening (the gateway stays open)."""
        await self.server.close()

    def viewers(self, camera_id: str) -> int:
        """RTSP clients playing ``camera_id``'s restream now."""
        return self.server.playing(f"{PREFIX}/{camera_id}")

    def url(self, host: str, camera_id: str, token: str) -> str:
        """The URL a viewer plays: ``rtsp://host:port/cameras/{id}?token=...``."""
        return restream_url(host, self.port, camera_id, token)

    async def resolve(self, path: str) -> Mountpoint | None:
        """What the server mounts at ``path``: a registered camera's restream, or nothing."""
        prefix, _, camera_id = path.partition("/")
        if prefix != PREFIX or not camera_id or "/" in camera_id:
            return None
        try:
            camera = await self._context.cameras.get(camera_id)
        except (SQLAlchemyError, PlatonicamError) as exc:
            raise RtspError(f"cannot look camera {camera_id!r} up: {exc}") from None
        if camera is None:
            return None
        return Mountpoint(
            CameraStream(camera_id, self._gateway),
            authorize=functools.partial(token_access, self._tokens, camera_id),
            on_demand=True,
        )


def restream_url(host: str, port: int, camera_id: str, token: str) -> str:
    """``rtsp://host:port/cameras/{id}?token=...`` (the id and token quoted)."""
    shown = f"[{host}]" if ":" in host else host
    path = f"{PREFIX}/{urllib.parse.quote(camera_id, safe='')}"
    query = urllib.parse.urlencode({TOKEN_PARAMETER: token})
    return f"rtsp://{shown}:{port}/{path}?{query}"


def token_access(tokens: MediaTokens, camera_id: str, request: RtspRequest) -> AccessDecision:
    """Who may read ``camera_id``: the user of a valid media token in the URL's query."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.uri).query)
    token = query.get(TOKEN_PARAMETER, [""])[0]
    if not token:
        return AccessDecision(None, _challenge(None))
    try:
        grant = tokens.verify(token, camera_id)
    except MediaTokenError as exc:
        log.info("RTSP viewer of camera %s refused: %s", camera_id, exc)
        return AccessDecision(None, _challenge(str(exc)))
    return AccessDecision(grant.user)


def _challenge(error: str | None) -> str:
    """A ``WWW-Authenticate: Bearer`` value (RFC 6750 §3), with the reason when there is one."""
    challenge = f'Bearer realm="{REALM}"'
    if error is None:
        return challenge
    description = error.replace("\\", "").replace('"', "'")
    return f'{challenge}, error="invalid_token", error_description="{description}"'


@contextlib.asynccontextmanager
async def rtsp_restream(
    context: ServiceContext, gateway: Gateway, tokens: MediaTokens
) -> AsyncIterator[Restream | None]:
    """The running service's restream as ``[media]`` says, closed at exit; ``None`` when
    it is disabled or its port cannot be bound (the rest of the service runs anyway, and
    the stream list then shows no RTSP URL)."""
    settings: MediaSettings = context.settings.media
    if not settings.rtsp_enabled:
        yield None
        return
    restream = Restream(
        context,
        gateway,
        tokens,
        host=context.settings.http.bind,
        port=settings.rtsp_port,
        idle_timeout=settings.rtsp_idle_timeout,
    )
    try:
        await restream.start()
    except OSError as exc:
        log.error(
            "RTSP restream disabled: cannot listen on %s:%d (%s); set [media] rtsp_port "
            "(PLATONICAM_MEDIA__RTSP_PORT) to a free port, or 0 for any",
            context.settings.http.bind,
            settings.rtsp_port,
            exc.strerror or exc,
        )
        yield None
        return
    log.info(
        "RTSP restream on rtsp://%s:%d/%s/{camera id}",
        context.settings.http.bind,
        restream.port,
        PREFIX,
    )
    try:
        yield restream
    finally:
        await restream.close()


def rtsp_viewers(request: Request, camera_id: str) -> int:
    """RTSP clients playing the camera's restream (0 when the service serves no RTSP)."""
    restream = getattr(request.app.state, "restream", None)
    return restream.viewers(camera_id) if isinstance(restream, Restream) else 0


def rtsp_url(request: Request, camera_id: str, token: str) -> str | None:
    """The camera's restream URL for a viewer who reached the API at ``request``'s host
    (``None`` when the service serves no RTSP)."""
    restream = getattr(request.app.state, "restream", None)
    if not isinstance(restream, Restream):
        return None
    return restream.url(request.url.hostname or restream.server.host, camera_id, token)
