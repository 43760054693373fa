"""A small async client for the PlatoniCam service's REST API, for the CLI.

Strategy: the CLI ships to users, so this speaks HTTP with the standard
library only (``urllib.request``, run in a worker thread so callers can
``await`` it and draw progress meanwhile). It knows three things beyond
sending JSON:

* **Where**: ``--server URL``, else ``$PLATONICAM_SERVER``, else
  ``http://127.0.0.1:8080`` (what ``platonicam serve`` binds by default).
* **Who**: the OAuth2 password form at ``/api/auth/token``. Tokens are cached
  per server and user in ``tokens.json`` under the user's config folder
  (``$XDG_CONFIG_HOME/platonicam``, else ``~/.config/platonicam``), written
  with mode 0600 in a 0700 folder; an access token about to expire is traded
  at ``/api/auth/refresh`` (refresh tokens are usable once, so the new pair
  is saved at once). The password is asked for (hidden prompt, or read from
  the environment variable the user named) only when neither token works.
* **What went wrong**: every ``application/problem+json`` answer, and every
  failure to reach the service, becomes :class:`ServiceError`, whose
  :meth:`~ServiceError.line` is one line with what to try. Commands print it
  and exit with :data:`EXIT_SERVICE_ERROR`; no traceback.

No password (the login password, or a camera password sent in a body) is ever
put in an error message, a log line or the token cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeAlias

from platonicam.errors import PlatonicamError

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = dict[str, JsonValue]

DEFAULT_SERVER: Final = "http://127.0.0.1:8080"
SERVER_VARIABLE: Final = "PLATONICAM_SERVER"

#: Exit status when the service refused or could not be reached (the same
#: status ``camera info`` uses for camera failures: scripts test for 2).
EXIT_SERVICE_ERROR: Final = 2

#: An access token with less than this many seconds left is refreshed first,
#: so a request does not race its expiry.
REFRESH_MARGIN: Final = 30.0

#: What to try, per problem ``code``, where the service's own text (written for
#: any API client) does not name the CLI's options.
_HINTS: Final[Mapping[str, str]] = {
    "invalid-credentials": "check --user and the password (--password-env VAR or the prompt)",
    "not-authenticated": "log in again (the cached token was refused); run the command again",
    "login-rate-limited": "wait, then check --user and the password",
    "forbidden": "ask an admin for the role or for a grant on this camera",
    "not-found": "`platonicam camera list` shows the camera ids",
}


class ServiceError(PlatonicamError):
    """The service answered with a problem, or could not be reached.

    ``status`` is the HTTP status (0 when there was no answer), ``code`` the
    problem's stable slug, ``detail`` its text (written by the service without
    secrets), ``errors`` the ``(field, message)`` pairs of a 422.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int = 0,
        code: str = "",
        hint: str | None = None,
        errors: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.hint = hint
        self.errors = errors

    def line(self) -> str:
        """One line: ``error: <detail> [(field: message; ...)] [Try: <hint>]``."""
        text = self.detail.rstrip()
        # A plan refusal's detail already lists every field's message: add
        # only the ones it does not say.
        missing = [(f, m) for f, m in self.errors if m not in text]
        if missing:
            fields = "; ".join(f"{field}: {message}" for field, message in missing)
            text = f"{text.rstrip('.')} ({fields})."
        if self.hint:
            text = f"{text.rstrip('.')}. Try: {self.hint}"
        return "error: " + " ".join(text.split())


def server_url(option: str | None) -> str:
    """The base URL: the option, else ``$PLATONICAM_SERVER``, else the default;
    trailing slashes dropped. Raises :class:`ServiceError` for a URL that is
    not ``http(s)://host[:port]``."""
    url = (option or os.environ.get(SERVER_VARIABLE) or DEFAULT_SERVER).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(
            f"{url!r} is not a service address",
            hint="give --server http://HOST:PORT (or set PLATONICAM_SERVER)",
        )
    return url


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/platonicam``, else ``~/.config/platonicam``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "platonicam"


@dataclass(frozen=True, slots=True)
class CachedToken:
    """``expires_at`` in seconds since the epoch (``time.time()``)."""

    access_token: str
    refresh_token: str
    expires_at: float

    def to_json(self) -> JsonObject:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> CachedToken | None:
        if not isinstance(data, dict):
            return None
        access, refresh, expires = (
            data.get("access_token"),
            data.get("refresh_token"),
            data.get("expires_at"),
        )
        if (
            isinstance(access, str)
            and isinstance(refresh, str)
            and isinstance(expires, int | float)
            and not isinstance(expires, bool)
        ):
            return cls(access, refresh, float(expires))
        return None


class TokenCache:
    """Tokens per ``server|user`` in one JSON file, readable by its owner only.

    A missing, unreadable or malformed file is an empty cache (the user logs
    in again); it is never an error.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "tokens.json"

    @staticmethod
    def key(server: str, user: str) -> str:
        return f"{server}|{user}"

    def _read_all(self) -> JsonObject:
        try:
            data: JsonValue = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, server: str, user: str) -> CachedToken | None:
        return CachedToken.from_json(self._read_all().get(self.key(server, user)))

    def put(self, server: str, user: str, token: CachedToken | None) -> None:
        """Store (or, with ``None``, forget) the tokens; the file is replaced
        atomically and created with mode 0600."""
        data = self._read_all()
        if token is None:
            if data.pop(self.key(server, user), None) is None:
                return
        else:
            data[self.key(server, user)] = token.to_json()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1)
            # os.open honours the umask only to remove bits: make 0600 explicit
            # in case the file existed with looser bits.
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_type: str
    body: bytes


PasswordSource = Callable[[], str]


class ServiceClient:
    """Requests to one service as one user.

    ``password`` is called (at most once) when a login is needed; it may
    prompt. ``timeout`` is seconds per HTTP request. Methods raise
    :class:`ServiceError` and nothing else for HTTP and network failures.
    """

    def __init__(
        self,
        server: str,
        user: str,
        password: PasswordSource,
        *,
        cache: TokenCache | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server = server
        self.user = user
        self._password = password
        self._cache = cache or TokenCache()
        self.timeout = timeout
        # No proxy: the service is usually on loopback or the local network,
        # and a proxy from the environment would see the bearer token.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ HTTP

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> _Answer:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked by server_url
            self.server + path, data=body, method=method, headers=dict(headers)
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return _Answer(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except urllib.error.HTTPError as error:
            with error:
                return _Answer(error.code, error.headers.get("Content-Type", ""), error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServiceError(
                f"cannot reach the PlatoniCam service at {self.server} ({reason})",
                hint="start it with `platonicam serve`, or give --server URL "
                "(or set PLATONICAM_SERVER)",
            ) from None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> _Answer:
        return await asyncio.to_thread(
            self._send, method, path, body, headers or {}, timeout or self.timeout
        )

    # ------------------------------------------------------------------ tokens

    async def _token_call(self, path: str, body: bytes, content_type: str) -> CachedToken:
        started = time.time()
        answer = await self._request(
            "POST", path, body=body, headers={"Content-Type": content_type}
        )
        data = _decode(answer)
        access, refresh, expires = (
            data.get("access_token"),
            data.get("refresh_token"),
            data.get("expires_in"),
        )
        if not (isinstance(access, str) and isinstance(refresh, str) and isinstance(expires, int)):
            raise ServiceError(
                f"{self.server} answered the login without tokens",
                hint="check that --server names a PlatoniCam service",
            )
        return CachedToken(access, refresh, started + expires)

    async def login(self) -> CachedToken:
        """Log in with the password form; the tokens are cached. The service is
        asked for ``/health`` first, so an unreachable one fails before anyone
        is prompted for a password."""
        await self._request("GET", "/health")
        form = urllib.parse.urlencode({"username": self.user, "password": self._password()})
        token = await self._token_call(
            "/api/auth/token", form.encode(), "application/x-www-form-urlencoded"
        )
        self._cache.put(self.server, self.user, token)
        return token

    async def _refresh(self, cached: CachedToken) -> CachedToken | None:
        body = json.dumps({"refresh_token": cached.refresh_token}).encode()
        try:
            token = await self._token_call("/api/auth/refresh", body, "application/json")
        except ServiceError as error:
            if error.status in (401, 422):
                self._cache.put(self.server, self.user, None)
                return None
            raise
        self._cache.put(self.server, self.user, token)
        return token

    async def _token(self) -> CachedToken:
        cached = self._cache.get(self.server, self.user)
        if cached is not None and cached.expires_at - time.time() > REFRESH_MARGIN:
            return cached
        if cached is not None:
            refreshed = await self._refresh(cached)
            if refreshed is not None:
                return refreshed
        return await self.login()

    # ------------------------------------------------------------------ API

    async def call(
        self,
        method: str,
        path: str,
        payload: JsonValue = None,
        *,
        timeout: float | None = None,
    ) -> JsonValue:
        """Send ``payload`` (JSON, when not ``None``) with the bearer token; the
        decoded JSON answer (``None`` for an empty one). A token the service
        refuses (401: expired, revoked, or signed before a key change) is
        dropped and the call made once more after a fresh login."""
        body = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(2):
            token = await self._token()
            headers = {
                "Authorization": f"Bearer {token.access_token}",
                "Accept": "application/json",
            }
            if body is not None:
                headers["Content-Type"] = "application/json"
            answer = await self._request(method, path, body=body, headers=headers, timeout=timeout)
            if answer.status == 401 and attempt == 0:
                self._cache.put(self.server, self.user, None)
                continue
            return _decode(answer) if answer.body else None
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_object(self, path: str, *, timeout: float | None = None) -> JsonObject:
        return _object(await self.call("GET", path, timeout=timeout), path)

    async def post_object(
        self, path: str, payload: JsonValue, *, timeout: float | None = None
    ) -> JsonObject:
        return _object(await self.call("POST", path, payload, timeout=timeout), path)


def _object(value: JsonValue, path: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ServiceError(
            f"the service answered {path} with something other than a JSON object",
            hint="check that --server names a PlatoniCam service of this version",
        )
    return value


def _decode(answer: _Answer) -> JsonObject:
    """The JSON object of a 2xx answer; :class:`ServiceError` for anything else."""
    try:
        data: JsonValue = json.loads(answer.body) if answer.body else {}
    except ValueError:
        data = None
    if 200 <= answer.status < 300:
        if isinstance(data, dict):
            return data
        raise ServiceError(
            f"the service answered HTTP {answer.status} with no JSON object",
            status=answer.status,
            hint="check that --server names a PlatoniCam service",
        )
    raise _problem(answer.status, data)


def _problem(status: int, data: JsonValue) -> ServiceError:
    if not isinstance(data, dict):
        return ServiceError(
            f"the service answered HTTP {status}",
            status=status,
            hint="check that --server names a PlatoniCam service",
        )
    code = data.get("code")
    detail = data.get("detail")
    title = data.get("title")
    text = detail if isinstance(detail, str) and detail else None
    text = text or (title if isinstance(title, str) else None) or f"HTTP {status}"
    errors: list[tuple[str, str]] = []
    raw_errors = data.get("errors")
    if isinstance(raw_errors, list):
        for item in raw_errors:
            if isinstance(item, dict):
                field, message = item.get("field"), item.get("message")
                if isinstance(field, str) and isinstance(message, str):
                    errors.append((field, message))
    slug = code if isinstance(code, str) else ""
    return ServiceError(text, status=status, code=slug, hint=_HINTS.get(slug), errors=tuple(errors))
