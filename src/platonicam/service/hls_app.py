"""The HLS fast path: a raw ASGI middleware that answers ``GET /api/cameras/{id}/hls/...``
before FastAPI routes anything.

An LL-HLS player makes two requests per part (the blocking playlist reload,
then the part: ten a second). Through FastAPI each cost the gateway ~0.5 ms of
CPU (benchmarks/README.md, "Where the time goes"), mostly the route scan over
every route of the API, dependency solving and parameter validation, and the
media token's HMAC. Here a request costs a string split, a query parse, a
dictionary look-up for its (already verified, see :mod:`platonicam.media.tokens`)
media token and the answer from the hub's memory; what remains per request is
mostly uvicorn's and asyncio's.

The behaviour and the security are the FastAPI routes', because the work is
theirs: both call :mod:`platonicam.service.hls_answers`. Authorisation is the
same (a media token bound to the camera and not expired, else a bearer session
with a grant on it), and so are the errors: problems built by the same code,
:class:`~platonicam.errors.PlatonicamError` turned into problems by the app's
own exception handlers, anything else left to the app's server-error handler.

What this path does not recognise goes on to FastAPI unchanged, and FastAPI's
routes (declared in :mod:`platonicam.service.routers.streams`, and listed in
the OpenAPI document) answer it as before: other methods (405, ``HEAD`` included),
a path with more segments or a trailing slash, a ``root_path``
deployment, and a ``_HLS_msn``/``_HLS_part`` that is not a plain number (FastAPI
validates it and answers 422 in its words).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from platonicam.errors import PlatonicamError
from platonicam.service import hls_answers
from platonicam.service.deps import ServiceContext
from platonicam.service.errors import Problem
from platonicam.service.hls_answers import MediaAccess, Reply, Viewer

__all__ = ["HlsFastPath"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PREFIX: Final = "/api/cameras/"
_HLS: Final = "hls/"
#: A delivery directive the fast path reads itself; anything else is FastAPI's to validate.
_MAX_DIGITS: Final = 15
_PLAYLISTS: Final = frozenset({"index.m3u8", "plain.m3u8", "master.m3u8"})
_CONTENT_TYPES: Final = {
    hls_answers.PLAYLIST_TYPE: hls_answers.PLAYLIST_TYPE.encode(),
    hls_answers.MP4_TYPE: hls_answers.MP4_TYPE.encode(),
}


def _parse_query(raw: bytes) -> dict[str, str]:
    """Query parameters as Starlette reads them (``parse_qsl``, blanks kept, the last
    value of a repeated name wins), without its per-request objects."""
    params: dict[str, str] = {}
    if not raw:
        return params
    for pair in raw.decode("latin-1").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        params[name] = value
    return params


def _directives(params: dict[str, str]) -> tuple[int | None, int | None] | None:
    """``_HLS_msn`` and ``_HLS_part`` (``None`` when absent); ``None`` when either is not
    plain digits: FastAPI validates those and words the 422."""
    numbers: list[int | None] = []
    for name in ("_HLS_msn", "_HLS_part"):
        value = params.get(name)
        if value is None:
            numbers.append(None)
        elif value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
            numbers.append(int(value))
        else:
            return None
    return numbers[0], numbers[1]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return ""


def _bearer(scope: Scope) -> str | None:
    """The token of ``Authorization: Bearer ...``, as FastAPI's ``OAuth2PasswordBearer``."""
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class HlsFastPath:
    """ASGI middleware: answers the HLS ``GET`` requests it recognises, passes the rest on.

    It reads the service's parts from ``scope["app"].state`` (``context`` and
    ``media``, set by the lifespan); before the lifespan ran it passes everything on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if not path.startswith(_PREFIX):
            return await self.app(scope, receive, send)
        camera_id, _, rest = path[len(_PREFIX) :].partition("/")
        name = rest[len(_HLS) :]
        if not camera_id or not rest.startswith(_HLS) or not name or "/" in name:
            return await self.app(scope, receive, send)
        state = scope["app"].state
        context = getattr(state, "context", None)
        access = getattr(state, "media", None)
        if not isinstance(context, ServiceContext) or not isinstance(access, MediaAccess):
            return await self.app(scope, receive, send)
        params = _parse_query(scope["query_string"])
        msn = part = None
        if name == "index.m3u8":
            directives = _directives(params)
            if directives is None:
                return await self.app(scope, receive, send)
            msn, part = directives
        try:
            answer = await self._answer(scope, context, access, camera_id, name, params, msn, part)
        except PlatonicamError as error:
            await self._handled(scope, receive, send, camera_id, error)
            return None
        if isinstance(answer, Problem):
            await answer.response()(scope, receive, send)
            return None
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"cache-control", answer.cache_control.encode("latin-1")),
                    (b"content-length", str(len(answer.body)).encode("latin-1")),
                    (b"content-type", _CONTENT_TYPES[answer.content_type]),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})
        return None

    @staticmethod
    async def _answer(
        scope: Scope,
        context: ServiceContext,
        access: MediaAccess,
        camera_id: str,
        name: str,
        params: dict[str, str],
        msn: int | None,
        part: int | None,
    ) -> Reply | Problem:
        token = params.get("token")
        session = None if token else _bearer(scope)  # a media token wins: no header to read
        user = await hls_answers.authorize(context, access, camera_id, token, session)
        client = scope.get("client")
        viewer = Viewer(user, client[0] if client else "?", _header(scope, b"user-agent"))
        if name not in _PLAYLISTS:
            return await hls_answers.media_file(access, camera_id, viewer, name)
        if name == "index.m3u8":
            return await hls_answers.playlist(access, camera_id, viewer, token, msn, part)
        if name == "plain.m3u8":
            return await hls_answers.plain_playlist(access, camera_id, viewer, token)
        return await hls_answers.multivariant(access, camera_id, viewer, token)

    async def _handled(
        self, scope: Scope, receive: Receive, send: Send, camera_id: str, error: PlatonicamError
    ) -> None:
        """``error`` answered by the app's own exception handler, as FastAPI would."""
        handlers: dict[Any, Callable[[Request, Exception], Any]]
        handlers = scope["app"].exception_handlers
        handler = next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)
        if handler is None or (Exception in handlers and handler is handlers[Exception]):
            raise error  # the server-error middleware's to log and answer
        request = Request({**scope, "path_params": {"camera_id": camera_id}}, receive)
        response = handler(request, error)
        if inspect.isawaitable(response):
            response = await response
        assert isinstance(response, Response)
        await response(scope, receive, send)
