"""WS-BaseNotification push: the camera POSTs ``wsnt:Notify`` to an endpoint of ours.

Two halves:

- :func:`subscribe_push` sends ``wsnt:Subscribe`` to the camera's event service
  with our consumer address and returns a handle for Renew/Unsubscribe (the
  subscription-manager operations are the same ones a PullPoint uses).
- :class:`NotifyConsumer` is an ASGI application (mount it in the service, or
  serve it alone) that receives the Notify requests, normalizes their events
  and publishes them to a :class:`~platonicam.events.bus.Sink`.

Strategy: every camera gets its own consumer URL ending in a random token
(:meth:`NotifyConsumer.register`), so a Notify is attributed to a camera by the
address the camera was told, never by anything in the message, and a stranger
who cannot guess the token cannot inject events: the token is the endpoint's
only authentication (cameras cannot carry the service's bearer tokens), so it
is 144 random bits and is never logged. Registering a camera again replaces its
token, so a subscription that was given up is refused from then on. Bad
messages are counted and skipped one by one (as in the PullPoint manager);
repeats are dropped by a per-camera
:class:`~platonicam.events.pullpoint.Deduplicator`, which the caller may hand
over to keep it across subscriptions (the push manager does).

Keeping a push subscription alive (renewal, recreation, backoff) is
:class:`~platonicam.events.push_manager.PushManager`'s job.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from platonicam.clock import Clock, SystemClock
from platonicam.events.bus import Sink
from platonicam.events.notification import read_notify
from platonicam.events.pullpoint import Deduplicator
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.facades.events import PullPointSubscription
from platonicam.onvif.models.common import ServiceKind
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.namespaces import WSA

__all__ = ["ConsumerStats", "NotifyConsumer", "NotifyListener", "subscribe_push"]

_log = logging.getLogger(__name__)

#: Largest Notify body accepted (bytes); a camera's batch of events is a few kB.
MAX_NOTIFY_BYTES: Final = 1 << 20

Scope = MutableMapping[str, object]
Message = MutableMapping[str, object]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def subscribe_push(
    client: OnvifClient,
    consumer_url: str,
    *,
    topic_filter: str | Sequence[str] | None = None,
    termination: timedelta | datetime = timedelta(minutes=1),
) -> PullPointSubscription:
    """Ask the camera to push its events to ``consumer_url``.

    Returns the subscription (``renew``/``unsubscribe`` work on it; ``pull``
    does not apply). Raises the client's errors: ``ActionNotSupported`` from a
    camera without basic notification.
    """
    service = client.service_url(ServiceKind.EVENTS)
    answer = await client.call(
        ServiceKind.EVENTS,
        ops.build_subscribe(
            consumer_url, topic_filter=topic_filter, initial_termination=termination
        ),
        headers=[element(WSA, "Action", ops.SUBSCRIBE_ACTION), element(WSA, "To", service)],
    )
    return PullPointSubscription(client, ops.parse_subscribe_response(answer))


@dataclass(frozen=True, slots=True)
class ConsumerStats:
    """Per camera: Notify requests accepted, events published, repeats dropped,
    unreadable messages (or whole requests) skipped, events the sink failed on."""

    notifies: int = 0
    events: int = 0
    duplicates: int = 0
    malformed: int = 0
    sink_errors: int = 0

    def __add__(self, other: ConsumerStats) -> ConsumerStats:
        return ConsumerStats(
            notifies=self.notifies + other.notifies,
            events=self.events + other.events,
            duplicates=self.duplicates + other.duplicates,
            malformed=self.malformed + other.malformed,
            sink_errors=self.sink_errors + other.sink_errors,
        )


#: Told what one request for a camera brought (a :class:`ConsumerStats` of that request alone).
NotifyListener = Callable[[ConsumerStats], None]


@dataclass(slots=True)
class _Target:
    camera_id: str
    dedupe: Deduplicator
    on_notify: NotifyListener | None


class NotifyConsumer:
    """The ASGI endpoint cameras push to: ``POST <path_prefix>/<token>``.

    ``base_url`` is how cameras reach this endpoint (``http://192.0.2.5:8080``);
    :meth:`register` returns ``base_url + path_prefix + "/" + token``. Answers:
    200 with an empty body for an accepted Notify (WS-I's one-way answer; some
    firmware treats anything but 200 as a failed delivery), 400 when the body
    is not a Notify envelope, 404 for an unknown token, 405 for other methods,
    413 above ``max_body`` bytes. Mounted inside another app, call
    :meth:`serve` with the token the route matched.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        base_url: str,
        path_prefix: str = "/events/notify",
        clock: Clock | None = None,
        registry: TopicRegistry | None = None,
        max_body: int = MAX_NOTIFY_BYTES,
    ) -> None:
        self._sink = sink
        self.base_url = base_url.rstrip("/")
        self.path_prefix = "/" + path_prefix.strip("/")
        self._clock: Clock = clock or SystemClock()
        self._registry = registry
        self._max_body = max_body
        self._targets: dict[str, _Target] = {}  # token -> camera
        self._tokens: dict[str, str] = {}  # camera id -> token
        self._stats: dict[str, ConsumerStats] = {}

    def register(
        self,
        camera_id: str,
        *,
        base_url: str | None = None,
        dedupe: Deduplicator | None = None,
        on_notify: NotifyListener | None = None,
    ) -> str:
        """A fresh consumer URL for ``camera_id``, replacing any earlier one.

        ``base_url`` replaces the consumer's for this camera (the address a
        camera on another network reaches us at); ``dedupe`` is the
        de-duplicator to use (a new one by default); ``on_notify`` is told
        what each request for this camera brought.
        """
        self.unregister(camera_id)
        token = secrets.token_urlsafe(18)
        self._targets[token] = _Target(camera_id, dedupe or Deduplicator(), on_notify)
        self._tokens[camera_id] = token
        self._stats.setdefault(camera_id, ConsumerStats())
        base = (base_url or self.base_url).rstrip("/")
        return f"{base}{self.path_prefix}/{token}"

    def unregister(self, camera_id: str, *, url: str | None = None) -> None:
        """Stop accepting pushes for ``camera_id`` (its URL answers 404 from now on).

        With ``url``, only when that is still the camera's URL (a newer
        registration stays).
        """
        token = self._tokens.get(camera_id)
        if token is None or (url is not None and url.rpartition("/")[2] != token):
            return
        del self._tokens[camera_id]
        del self._targets[token]

    @property
    def cameras(self) -> frozenset[str]:
        """The cameras with a consumer URL now."""
        return frozenset(self._tokens)

    def stats(self, camera_id: str) -> ConsumerStats:
        return self._stats.get(camera_id, ConsumerStats())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            return
        path = str(scope.get("path", ""))
        prefix = self.path_prefix + "/"
        token = path[len(prefix) :] if path.startswith(prefix) else ""
        await self.serve(token, scope, receive, send)

    async def serve(self, token: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request addressed to ``token``."""
        target = self._targets.get(token) if token and "/" not in token else None
        if target is None:
            await _respond(send, 404, b"unknown consumer address")
            return
        if scope.get("method") != "POST":
            await _respond(send, 405, b"", (b"allow", b"POST"))
            return
        body = await _read_body(receive, self._max_body)
        if body is None:
            await _respond(send, 413, b"Notify too large")
            return
        status, text = await self._handle(target, body)
        await _respond(send, status, text)

    async def handle(self, camera_id: str, body: bytes) -> tuple[int, bytes]:
        """Process one Notify body for ``camera_id`` (registered or not): the HTTP
        status and body to answer."""
        token = self._tokens.get(camera_id)
        target = self._targets[token] if token is not None else None
        return await self._handle(target or _Target(camera_id, Deduplicator(), None), body)

    async def _handle(self, target: _Target, body: bytes) -> tuple[int, bytes]:
        camera_id = target.camera_id
        try:
            batch = read_notify(
                body, camera_id=camera_id, received=self._clock.now(), registry=self._registry
            )
        except RemoteProtocolError as exc:
            _log.warning("camera %s pushed an unreadable Notify: %s", camera_id, exc)
            self._count(target, ConsumerStats(malformed=1))
            return 400, b"not a wsnt:Notify"
        for bad in batch.malformed:
            _log.warning("camera %s pushed a malformed notification: %s", camera_id, bad.reason)
        published = duplicates = sink_errors = 0
        for event in batch.events:
            if not target.dedupe.admit(event):
                duplicates += 1
                continue
            try:
                await self._sink.publish(event)
            except Exception:
                # The camera cannot fix our sink: count it, and still accept the Notify.
                sink_errors += 1
                _log.exception("camera %s: the event sink failed", camera_id)
            else:
                published += 1
        self._count(
            target,
            ConsumerStats(
                notifies=1,
                events=published,
                duplicates=duplicates,
                malformed=len(batch.malformed),
                sink_errors=sink_errors,
            ),
        )
        return 200, b""

    def _count(self, target: _Target, delta: ConsumerStats) -> None:
        self._stats[target.camera_id] = self.stats(target.camera_id) + delta
        if target.on_notify is not None:
            target.on_notify(delta)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if isinstance(chunk, bytes):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message.get("type") == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message.get("type") == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
