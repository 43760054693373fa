"""The HLS fast path (``service.hls_app``) answers like the FastAPI routes it stands in front of.

One running service with its demo camera. Each request is put to both doors
through ASGI: the app's middleware stack from the fast path down (what uvicorn
reaches) and the same stack below it (FastAPI's routing, dependencies and
exception handlers, the routes of ``routers.streams``). Status, headers and body
must match, for answers and refusals alike. A stand-in for FastAPI behind a
second fast path then shows which requests it answers itself and which it
passes on.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from platonicam.media.tokens import MediaTokens
from platonicam.service.hls_app import HlsFastPath
from platonicam.service.routers.streams import MediaAccess, _media_secret
from platonicam.store.records import Role
from tests.conftest import FakeClock
from tests.integration.media.live_service import LiveService, live_service
from tests.integration.service.foundation import FAST_PASSWORDS

pytestmark = pytest.mark.timeout(240)

Message = MutableMapping[str, Any]
HLS = "/api/cameras/demo/hls"


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [(bytes(k), bytes(v)) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def header(self, name: str) -> str | None:
        found = [v.decode() for k, v in self.headers if k.decode().lower() == name]
        return found[0] if found else None

    def problem(self) -> dict[str, Any]:
        assert self.header("content-type") == "application/problem+json"
        body: dict[str, Any] = json.loads(self.body)
        return body


def scope_for(
    service: LiveService,
    target: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 40000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [
            (name.lower().encode(), value.encode())
            for name, value in {"user-agent": "fast-path-test", **(headers or {})}.items()
        ],
        "app": service.app,
    }


async def call(app: Any, scope: dict[str, Any]) -> Answer:
    answer = Answer()
    never = asyncio.Event()
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected
        raise AssertionError("unreachable")

    await app(dict(scope), receive, answer.send)
    return answer


def doors(service: LiveService) -> tuple[Any, Any]:
    """(the fast path with everything below it, FastAPI alone below it)."""
    # ServerErrorMiddleware -> (FastAPI's own) -> HlsFastPath -> ExceptionMiddleware -> router
    fast = service.app.middleware_stack
    while not isinstance(fast, HlsFastPath):
        assert fast is not None, "the app has no HLS fast path"
        fast = getattr(fast, "app", None)
    return fast, fast.app


async def both(
    service: LiveService, target: str, headers: dict[str, str] | None = None
) -> tuple[Answer, Answer]:
    fast, fastapi = doors(service)
    scope = scope_for(service, target, headers=headers)
    return await call(fast, scope), await call(fastapi, scope)


def assert_alike(fast: Answer, slow: Answer, *, same_body: bool = True) -> None:
    assert fast.status == slow.status, (fast.body, slow.body)
    assert fast.headers == slow.headers
    if same_body:
        assert fast.body == slow.body


async def test_the_fast_path_answers_as_the_fastapi_routes(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        stream = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        token = stream.json()["token"]
        query = f"?token={token}"

        # The first playlist over HTTP (the fast path) waits for three complete segments.
        first = await service.client.get(f"{HLS}/index.m3u8{query}")
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert first.headers["cache-control"] == "no-cache"
        assert first.text.count("#EXTINF:") >= 3
        hint = re.search(r'PRELOAD-HINT:TYPE=PART,URI="p(\d+)-(\d+)\.(\d+)\.m4s', first.text)
        assert hint is not None
        epoch, msn, part = (int(group) for group in hint.groups())

        # Playlists: the same headers (bodies differ only if a part arrived in between).
        for name in ("index.m3u8", "plain.m3u8", "master.m3u8"):
            fast, slow = await both(service, f"{HLS}/{name}{query}")
            assert fast.status == 200, fast.body
            assert_alike(fast, slow, same_body=False)
            assert fast.header("content-type") == "application/vnd.apple.mpegurl"
            assert f"?token={token}" in fast.body.decode()

        # Blocking reload for the hinted part: both doors wait for it, then list it.
        blocked = f"{HLS}/index.m3u8{query}&_HLS_msn={msn}&_HLS_part={part}"
        fast, slow = await both(service, blocked)
        assert_alike(fast, slow, same_body=False)
        assert fast.header("cache-control") == "max-age=60"
        assert f'URI="p{epoch}-{msn}.{part}.m4s?token=' in fast.body.decode()

        # Media: the same bytes and immutable headers.
        for name in (f"p{epoch}-{msn}.{part}.m4s", f"init-{epoch}.mp4"):
            fast, slow = await both(service, f"{HLS}/{name}{query}")
            assert fast.status == 200
            assert_alike(fast, slow)
            assert fast.header("content-type") == "video/mp4"
            assert fast.header("cache-control") == "max-age=31536000, immutable"
        fast, slow = await both(service, f"{HLS}/init.mp4{query}")
        assert_alike(fast, slow)
        assert fast.header("cache-control") == "no-cache"
        assert fast.body[4:8] == b"ftyp"

        # Refusals and errors: the same problem, word for word.
        access = service.app.state.media
        assert isinstance(access, MediaAccess)
        context = service.app.state.context
        # A character in the middle of the signature: every bit of it counts.
        forged = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
        other_camera = access.tokens.issue("another-camera", "admin")
        expired = MediaTokens(_media_secret(context.settings), FakeClock()).issue("demo", "admin")
        user = await context.users.create("nogrant", Role.VIEWER, FAST_PASSWORDS.hash("pw-1x"))
        no_grant = {"Authorization": f"Bearer {context.tokens.access_token(user)}"}
        cases: list[tuple[str, dict[str, str] | None, int, str]] = [
            (f"{HLS}/index.m3u8", None, 401, "not-authenticated"),
            (f"{HLS}/p{epoch}-{msn}.{part}.m4s", None, 401, "not-authenticated"),
            (f"{HLS}/index.m3u8?token={forged}", None, 401, "not-authenticated"),
            (f"{HLS}/index.m3u8?token={other_camera}", None, 401, "not-authenticated"),
            (f"{HLS}/index.m3u8?token={expired}", None, 401, "not-authenticated"),
            (f"{HLS}/index.m3u8", {"Authorization": "Bearer nonsense"}, 401, "not-authenticated"),
            (f"{HLS}/index.m3u8", no_grant, 403, "forbidden"),
            (f"{HLS}/index.m3u8{query}&_HLS_msn={msn + 10}", None, 400, "bad_delivery_directive"),
            (f"{HLS}/index.m3u8{query}&_HLS_msn=soon", None, 422, "invalid-request"),
            (f"{HLS}/p{epoch + 5}-0.0.m4s{query}", None, 404, "not_found"),
            (f"{HLS}/s{epoch + 5}-1.m4s{query}", None, 404, "not_found"),
            (f"{HLS}/init-{epoch + 5}.mp4{query}", None, 404, "not_found"),
            (f"{HLS}/nothing.txt{query}", None, 404, "not_found"),
            ("/api/cameras/ghost/hls/index.m3u8", service.headers, 404, "not-found"),
            (
                f"/api/cameras/ghost/hls/index.m3u8?token={access.tokens.issue('ghost', 'admin')}",
                None,
                404,
                "not-found",
            ),
        ]
        for target, headers, status, code in cases:
            fast, slow = await both(service, target, headers)
            assert fast.status == status, (target, fast.body)
            assert_alike(fast, slow)
            assert fast.problem()["code"] == code, target
            if status == 401:
                assert fast.header("www-authenticate") == "Bearer"

        # A session with a grant works; the URIs inside carry a media token for it.
        fast, slow = await both(service, f"{HLS}/index.m3u8", service.headers)
        assert fast.status == 200
        assert_alike(fast, slow, same_body=False)
        assert re.search(r'URI="init-\d+\.mp4\?token=[^"]+"', fast.body.decode())

        # The viewers were counted (the gateway's HLS client accounting).
        stats = await service.client.get("/api/cameras/demo/stream/stats", headers=service.headers)
        assert stats.json()["hls_viewers"] >= 1


async def test_the_fast_path_answers_only_what_it_recognises(tmp_path: Path) -> None:
    async with live_service(tmp_path / "data") as service:
        stream = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        query = f"?token={stream.json()['token']}"
        passed_on: list[str] = []

        async def fastapi(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            passed_on.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}")
            await send({"type": "http.response.start", "status": 299, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        fast = HlsFastPath(fastapi)
        answered = [
            f"{HLS}/index.m3u8{query}",
            f"{HLS}/index.m3u8{query}&_HLS_msn=0&_HLS_part=0",
            f"{HLS}/init.mp4{query}",
            f"{HLS}/index.m3u8",  # refused (401) by the fast path itself
        ]
        for target in answered:
            answer = await call(fast, scope_for(service, target))
            assert answer.status != 299, target
        assert passed_on == []

        passed = [
            ("HEAD", f"{HLS}/index.m3u8{query}"),
            ("POST", f"{HLS}/index.m3u8{query}"),
            ("GET", f"{HLS}/index.m3u8{query}&_HLS_msn=-1"),
            ("GET", f"{HLS}/index.m3u8{query}&_HLS_part=1.5"),
            ("GET", f"{HLS}/index.m3u8/{query}"),
            ("GET", f"{HLS}/{query}"),
            ("GET", f"/api/cameras//hls/index.m3u8{query}"),
            ("GET", f"/api/cameras/demo/stream{query}"),
            ("GET", "/health"),
        ]
        for method, target in passed:
            answer = await call(fast, scope_for(service, target, method=method))
            assert answer.status == 299, target
        assert len(passed_on) == len(passed)

        # Over HTTP, what is passed on still gets FastAPI's answer.
        invalid = await service.client.get(f"{HLS}/index.m3u8{query}&_HLS_msn=soon")
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0]["field"] == "query._HLS_msn"
        post = await service.client.post(f"{HLS}/index.m3u8{query}")
        assert post.status_code == 405
        assert post.headers["content-type"] == "application/problem+json"
