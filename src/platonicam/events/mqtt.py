"""The MQTT bridge: normalized events out to a broker (aiomqtt), as a :class:`Sink`.

Topics and payloads (the documented contract, see :func:`event_topic`):

- ``<prefix><camera_id>/<kind>`` for every event, ``<prefix>`` being
  :attr:`MqttSettings.topic_prefix` (``platonicam/`` by default). Kinds that
  exist once per port (``digital_input``, ``relay``) get one more level, the
  port's token: ``platonicam/cam1/digital_input/1``, so each input keeps its
  own retained state.
- The payload is :meth:`Event.to_json` (``camera``, ``kind``, ``state``,
  ``topic``, ``rawTopic``, ``source``, ``data``, ``time``,
  ``propertyOperation``) plus ``id``, unique per bridge and message, by which
  a subscriber drops the duplicates QoS 1 allows.
- Events with a state (``state`` true or false: motion, tamper, inputs...) are
  *retained*, so a subscriber that arrives later sees the current state at
  once; momentary events (``state`` null) are not.
- ``<prefix>status`` carries ``online`` (retained) while the bridge is
  connected and ``offline`` after a clean close; the broker publishes
  ``offline`` itself as our last will when the connection dies.

Strategy for delivery: :meth:`MqttBridge.publish` never waits for the broker.
It appends to a bounded *outbox* (:class:`Outbox`) and returns; a connection
task drains it in order, in batches, at the configured QoS (1 by default), and
removes a message only once the broker acknowledged it. When the connection
drops, unacknowledged messages go back to the front of the outbox and are sent
again after reconnecting (backing off exponentially with jitter between
attempts), so within the bound nothing is lost and order is kept; a message
the broker received but whose acknowledgement was lost arrives twice, with
the same ``id``. Beyond the bound the *oldest* messages are dropped and
counted (:attr:`MqttBridge.dropped`): after a long outage the newest states
matter most.

Retained messages that describe things rather than events (Home Assistant
discovery configurations) are kept in a registry and published again on every
connection, so a broker that restarted without persistence gets them back;
the last acknowledged state of every state topic is republished the same way.

Credentials come from the URL (``mqtt://user:pass@host:port``) or from
:attr:`MqttSettings.username` / :attr:`MqttSettings.password`; the password is
a :class:`~pydantic.SecretStr`, taken out of the URL while the settings are
read, and never written to a log or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Self
from urllib.parse import unquote, urlsplit

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from platonicam.events.model import Event, EventKind, JsonValue
from platonicam.tasks import cancel_and_wait

__all__ = [
    "DEFAULT_TOPIC_PREFIX",
    "IncomingMessage",
    "MqttBridge",
    "MqttSettings",
    "Outbox",
    "OutgoingMessage",
    "backoff_delay",
    "camera_topic",
    "encode_event",
    "event_topic",
    "port_of",
    "state_topic",
    "status_topic",
    "topic_level",
]

_log = logging.getLogger(__name__)

DEFAULT_TOPIC_PREFIX: Final = "platonicam/"
_SCHEMES: Final = {"mqtt": 1883, "mqtts": 8883}

#: Kinds with one sensor per port: their topic carries the port's token.
_PORT_KINDS: Final = frozenset({EventKind.DIGITAL_INPUT, EventKind.RELAY})
#: Source items naming the port, most specific first (ONVIF Core's
#: ``Device/Trigger/DigitalInput`` uses ``InputToken``, ``Device/Trigger/Relay``
#: ``RelayToken``; Axis's ``tnsaxis:Device/IO/Port`` uses ``port``).
_PORT_ITEMS: Final = ("InputToken", "RelayToken", "RelayOutputToken", "port", "Port", "Index")
#: Messages handed to the client at once: enough to fill a loopback round trip,
#: few enough that a dropped connection re-sends little.
_BATCH: Final = 128


# ---------------------------------------------------------------------- settings


class MqttSettings(BaseModel):
    """Where the events go: ``url`` empty disables the bridge.

    ``url`` is ``mqtt://HOST[:PORT]`` (1883) or ``mqtts://HOST[:PORT]`` (8883,
    TLS with certificate verification; ``ca_file`` adds a trusted CA). User and
    password may be in the URL (percent-encoded) or in ``username`` and
    ``password``, not both. ``topic_prefix`` starts every topic; a missing
    trailing ``/`` is added. ``outbox_size`` bounds the messages kept while the
    broker is away; ``reconnect_min``/``reconnect_max`` bound the back-off
    (seconds). ``discovery`` turns Home Assistant discovery messages on, under
    ``discovery_prefix``.

    Validation errors never show the input (it may hold the password).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = ""
    username: str | None = None
    password: SecretStr | None = None
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    client_id: str = ""
    qos: int = Field(default=1, ge=0, le=2)
    keepalive: int = Field(default=30, ge=5, le=3600)
    ca_file: Path | None = None
    outbox_size: int = Field(default=10_000, ge=1)
    reconnect_min: float = Field(default=0.5, gt=0, le=60)
    reconnect_max: float = Field(default=30.0, gt=0, le=3600)
    discovery: bool = True
    discovery_prefix: str = "homeassistant"

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_url(cls, data: object) -> object:
        # Credentials leave the URL before anything else looks at it, so no
        # later error message or repr can carry them.
        if not isinstance(data, Mapping) or not isinstance(data.get("url"), str):
            return data
        url: str = data["url"].strip()
        scheme, sep, rest = url.partition("://")
        authority, slash, tail = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if not sep or not at:
            return {**data, "url": url}
        if data.get("username") is not None or data.get("password") is not None:
            raise ValueError(
                "MQTT credentials are given twice: in the url and in username/password; use one"
            )
        user, colon, password = userinfo.partition(":")
        out: dict[str, object] = {**data, "url": f"{scheme}://{host}{slash}{tail}"}
        out["username"] = unquote(user)
        if colon:
            out["password"] = unquote(password)
        return out

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value:
            return value
        shape = "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"
        parts = urlsplit(value)
        if parts.scheme not in _SCHEMES:
            raise ValueError(f"MQTT url must look like {shape}; scheme {parts.scheme!r} is not")
        if not parts.hostname:
            raise ValueError(f"MQTT url must look like {shape}; it names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"MQTT url must look like {shape}; its port is not 1-65535") from None
        if port == 0:
            raise ValueError(f"MQTT url must look like {shape}; its port is not 1-65535")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"MQTT url must look like {shape}; it has a path or query")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        value = value.strip()
        if not value.strip("/"):
            raise ValueError("MQTT topic_prefix must not be empty")
        _check_topic_text(value, "topic_prefix")
        return value if value.endswith("/") else value + "/"

    @field_validator("discovery_prefix")
    @classmethod
    def _check_discovery_prefix(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not value:
            raise ValueError("MQTT discovery_prefix must not be empty")
        _check_topic_text(value, "discovery_prefix")
        return value

    @model_validator(mode="after")
    def _check_backoff(self) -> Self:
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("MQTT reconnect_max must be at least reconnect_min")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        """The broker's host (IPv6 without brackets); raises ``ValueError`` when disabled."""
        host = urlsplit(self.url).hostname
        if not host:
            raise ValueError("the MQTT bridge is disabled (no url)")
        return host

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or _SCHEMES.get(parts.scheme, 1883)

    @property
    def status_topic(self) -> str:
        return status_topic(self.topic_prefix)


def _check_topic_text(value: str, name: str) -> None:
    if any(c in value for c in "+#\0"):
        raise ValueError(f"MQTT {name} must not contain '+', '#' or NUL: {value!r}")
    if value.startswith("$"):
        raise ValueError(f"MQTT {name} must not start with '$' (broker-reserved): {value!r}")


# ---------------------------------------------------------------------- topics, payloads


def topic_level(text: str) -> str:
    """``text`` as one topic level: ``%``, ``/``, ``+``, ``#`` and NUL percent-encoded.

    Reversible with :func:`urllib.parse.unquote`; an empty text becomes ``_``.
    """
    if not text:
        return "_"
    return "".join(f"%{ord(c):02X}" if c in "%/+#\0" else c for c in text)


def camera_topic(prefix: str, camera_id: str) -> str:
    """``<prefix><camera_id>`` (escaped by :func:`topic_level`), no trailing slash."""
    return f"{prefix}{topic_level(camera_id)}"


def status_topic(prefix: str) -> str:
    """The bridge's availability topic, ``<prefix>status``."""
    return f"{prefix}status"


def port_of(event: Event) -> str | None:
    """The port token that makes an input or relay event its own sensor, else ``None``."""
    if event.kind not in _PORT_KINDS or not event.source:
        return None
    for name in _PORT_ITEMS:
        if name in event.source:
            return event.source[name]
    return next(iter(event.source.values()))


def event_topic(prefix: str, event: Event) -> str:
    """``<prefix><camera>/<kind>``, plus ``/<port>`` for inputs and relays (see module doc)."""
    topic = f"{camera_topic(prefix, event.camera_id)}/{event.kind.value}"
    port = port_of(event)
    return topic if port is None else f"{topic}/{topic_level(port)}"


def state_topic(prefix: str, camera_id: str, kind: EventKind, port: str | None = None) -> str:
    """The topic :func:`event_topic` gives events of ``kind`` (on ``port``) of a camera."""
    topic = f"{camera_topic(prefix, camera_id)}/{kind.value}"
    return topic if port is None else f"{topic}/{topic_level(port)}"


def encode_event(event: Event, message_id: str) -> bytes:
    """The JSON payload: :meth:`Event.to_json` with ``id`` (compact UTF-8)."""
    body: dict[str, JsonValue] = {"id": message_id, **event.to_json()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def backoff_delay(attempt: int, minimum: float, maximum: float, *, jitter: float = 0.0) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1 = the first retry).

    ``minimum * 2**(attempt-1)`` capped at ``maximum``, then scaled by
    ``1 - jitter/2 .. 1 + jitter/2`` given ``jitter`` in 0..1 drawn by the caller
    (so the function stays pure), and never below ``minimum``.
    """
    base = min(maximum, minimum * 2.0 ** max(0, attempt - 1))
    return max(minimum, base * (1.0 + (jitter - 0.5) * 0.5)) if jitter else base


# ---------------------------------------------------------------------- outbox


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message waiting for the broker."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message the bridge received on a topic someone listens to.

    ``retain`` is true when the broker sent it because it was retained (it
    predates our subscription).
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """A bounded FIFO of :class:`OutgoingMessage` that drops its *oldest* when full.

    ``dropped`` counts messages lost to the bound. :meth:`take` hands out a
    batch; :meth:`give_back` puts unacknowledged ones back at the front in
    their order (applying the bound again, so the oldest still go first).
    """

    __slots__ = ("_items", "dropped", "maxsize")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"outbox size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[OutgoingMessage] = deque()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, message: OutgoingMessage) -> None:
        if len(self._items) >= self.maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(message)

    def take(self, limit: int) -> list[OutgoingMessage]:
        batch: list[OutgoingMessage] = []
        while self._items and len(batch) < limit:
            batch.append(self._items.popleft())
        return batch

    def give_back(self, messages: Iterable[OutgoingMessage]) -> None:
        self._items.extendleft(reversed(list(messages)))
        while len(self._items) > self.maxsize:
            self._items.popleft()
            self.dropped += 1


# ---------------------------------------------------------------------- bridge


class _ClosingSSLSocket(ssl.SSLSocket):
    """An SSL socket that closes itself when its handshake fails."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


Listener = Callable[[IncomingMessage], Awaitable[None]]


class MqttBridge:
    """Publishes events to the broker of ``settings`` (see the module docstring).

    Use ``async with MqttBridge(settings) as bridge`` or :meth:`start` /
    :meth:`aclose`. The bridge connects in the background; :meth:`publish`
    works before the first connection (messages wait in the outbox).
    ``ssl_context`` replaces the default TLS context built from ``ca_file``.

    Counters: :attr:`sent` (acknowledged messages), :attr:`dropped` (lost to
    the outbox bound), :attr:`connections` (successful connects),
    :attr:`pending` (waiting in the outbox).
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not settings.enabled:
            raise ValueError("MqttSettings.url is empty: the MQTT bridge is disabled")
        self.settings = settings
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._client_id = settings.client_id or f"platonicam-{secrets.token_hex(4)}"
        self._instance = secrets.token_hex(4)
        self._sequence = 0
        self._outbox = Outbox(settings.outbox_size)
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._connected = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None
        # Retained descriptions (discovery configs), republished on every connect.
        self._retained: dict[str, bytes] = {}
        # Retained messages still to send (topic -> payload; b"" clears).
        self._retained_pending: dict[str, bytes] = {}
        # Last acknowledged retained event payload per state topic.
        self._last_state: dict[str, bytes] = {}
        self._listeners: list[tuple[str, Listener]] = []
        self.sent = 0
        self.connections = 0
        self.last_error: str | None = None

    # -- counters and state

    @property
    def dropped(self) -> int:
        return self._outbox.dropped

    @property
    def pending(self) -> int:
        return len(self._outbox)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def client_id(self) -> str:
        return self._client_id

    # -- life cycle

    async def start(self) -> None:
        """Start connecting in the background (idempotent); returns at once."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"mqtt-bridge {self.settings.host}:{self.settings.port}"
            )

    async def wait_connected(self, timeout: float) -> None:
        """Wait until connected; raises :class:`TimeoutError` with the last error."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise TimeoutError(
                f"no MQTT connection to {self.settings.host}:{self.settings.port} "
                f"after {timeout} s: {self.last_error or 'no answer'}"
            ) from None

    async def flush(self, timeout: float) -> bool:
        """Wait until every queued message was acknowledged; ``False`` on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._drained.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self, *, flush_timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``flush_timeout`` s), say ``offline``, disconnect.

        Messages still queued after the timeout are lost (logged with their count).
        """
        if self._task is None:
            return
        if self.connected:
            await self.flush(flush_timeout)
        self._stop.set()
        self._wake.set()
        try:
            async with asyncio.timeout(flush_timeout):
                await asyncio.shield(self._task)
        except TimeoutError:
            await cancel_and_wait(self._task)
        self._task = None
        if self._outbox:
            _log.warning("MQTT bridge closed with %d undelivered messages", len(self._outbox))

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- publishing

    async def publish(self, event: Event) -> None:
        """:class:`Sink`: queue ``event`` for the broker; never waits for it."""
        self._sequence += 1
        payload = encode_event(event, f"{self._instance}-{self._sequence}")
        self.enqueue(
            event_topic(self.settings.topic_prefix, event),
            payload,
            retain=event.state is not None,
        )

    def enqueue(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue one message at the configured QoS (subject to the outbox bound)."""
        self._outbox.put(OutgoingMessage(topic, payload, self.settings.qos, retain))
        self._kick()

    def set_retained(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` retained on ``topic``, republished on every connection."""
        self._retained[topic] = payload
        self._retained_pending[topic] = payload
        self._kick()

    def republish_retained(self, topics: Iterable[str]) -> None:
        """Send the registered retained payloads of ``topics`` again (unknown ones are skipped)."""
        for topic in topics:
            if topic in self._retained:
                self._retained_pending[topic] = self._retained[topic]
        self._kick()

    def clear_retained(self, topic: str) -> None:
        """Remove the retained message on ``topic`` (an empty retained payload)."""
        self._retained.pop(topic, None)
        self._last_state.pop(topic, None)
        self._retained_pending[topic] = b""
        self._kick()

    def forget_camera(self, camera_id: str) -> None:
        """Clear every retained state topic of ``camera_id`` that this bridge wrote."""
        base = camera_topic(self.settings.topic_prefix, camera_id) + "/"
        for topic in [t for t in self._last_state if t.startswith(base)]:
            self.clear_retained(topic)

    async def add_listener(self, topic_filter: str, listener: Listener) -> None:
        """Call ``listener`` for every message matching ``topic_filter`` (MQTT wildcards).

        Subscribed now when connected and again on every connection. A
        listener that raises is logged; the others still run.
        """
        self._listeners.append((topic_filter, listener))
        client = self._client
        if client is not None and self.connected:
            try:
                await client.subscribe(topic_filter, qos=self.settings.qos)
            except aiomqtt.MqttError as exc:
                # The next connection subscribes again.
                _log.debug("MQTT subscribe to %s deferred: %s", topic_filter, exc)

    def _kick(self) -> None:
        self._drained.clear()
        self._wake.set()

    # -- the connection task

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls:
            return None
        context = self._ssl_context
        if context is None:
            ca = str(self.settings.ca_file) if self.settings.ca_file is not None else None
            context = ssl.create_default_context(cafile=ca)
        # paho-mqtt 2.2 leaves the socket open when the TLS handshake fails (a
        # certificate that does not verify); each retry would leak one.
        context.sslsocket_class = _ClosingSSLSocket
        return context

    def _new_client(self) -> aiomqtt.Client:
        password = self.settings.password
        client = aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            username=self.settings.username,
            password=password.get_secret_value() if password is not None else None,
            identifier=self._client_id,
            will=aiomqtt.Will(
                self.settings.status_topic, b"offline", qos=self.settings.qos, retain=True
            ),
            keepalive=self.settings.keepalive,
            timeout=self._timeout,
            tls_context=self._tls_context(),
            max_inflight_messages=_BATCH,
        )
        # aiomqtt warns above this many pending calls; a full batch is normal here.
        client.pending_calls_threshold = _BATCH * 2 + len(self._listeners) + 16
        return client

    async def _run(self) -> None:
        attempt = 0
        where = f"{self.settings.host}:{self.settings.port}"
        while not self._stop.is_set():
            try:
                # A fresh client per connection: paho's own session state (its
                # queue of unacknowledged messages) must not resend behind the
                # outbox's back.
                client = self._new_client()
                async with client:
                    attempt = 0
                    self.connections += 1
                    self.last_error = None
                    _log.info("MQTT connected to %s as %s", where, self._client_id)
                    await self._serve(client)
                    return
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
            except Exception as exc:
                # A bug must not end event delivery for good: log it, reconnect.
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("MQTT bridge connection failed unexpectedly")
            finally:
                self._client = None
                self._connected.clear()
            if self._stop.is_set():
                return
            attempt += 1
            delay = backoff_delay(
                attempt,
                self.settings.reconnect_min,
                self.settings.reconnect_max,
                jitter=random.random(),
            )
            _log.warning(
                "MQTT broker %s unavailable (%s); retrying in %.1f s, %d messages waiting",
                where,
                self.last_error,
                delay,
                len(self._outbox),
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stop.wait()

    async def _serve(self, client: aiomqtt.Client) -> None:
        qos = self.settings.qos
        await client.publish(self.settings.status_topic, b"online", qos=qos, retain=True)
        for topic_filter, _ in self._listeners:
            await client.subscribe(topic_filter, qos=qos)
        # The last acknowledged states first (a broker that lost its retained
        # store gets them back; all older than anything queued), then the
        # send loop does the descriptions and whatever waited.
        self._retained_pending = {**self._retained, **self._retained_pending}
        republish = [
            OutgoingMessage(topic, payload, qos, True)
            for topic, payload in self._last_state.items()
        ]
        if republish:
            await self._send(client, republish, requeue=False)
        self._client = client
        self._connected.set()
        sender = asyncio.create_task(self._send_loop(client), name="mqtt-bridge send")
        receiver = asyncio.create_task(self._receive_loop(client), name="mqtt-bridge receive")
        done, waiting = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        for task in done:
            task.result()  # raises the MqttError that ended the connection

    async def _send(
        self, client: aiomqtt.Client, batch: list[OutgoingMessage], *, requeue: bool = True
    ) -> None:
        """Publish ``batch`` concurrently (paho keeps their order on the wire).

        On failure or cancellation the messages after the acknowledged prefix
        go back to the outbox (``requeue``): a cancelled gather does not say
        which were acknowledged, so then the whole batch goes back and a
        subscriber may see some twice, with the same ``id``.
        """
        acked = 0
        try:
            results = await asyncio.gather(
                *(client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain) for m in batch),
                return_exceptions=True,
            )
            for message, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    raise result
                acked += 1
                if requeue:
                    self.sent += 1
                    if message.retain:
                        self._last_state[message.topic] = message.payload
        finally:
            if requeue and acked < len(batch):
                self._outbox.give_back(batch[acked:])

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        qos = self.settings.qos
        while True:
            if self._retained_pending:
                topic, payload = next(iter(self._retained_pending.items()))
                await client.publish(topic, payload, qos=qos, retain=True)
                if self._retained_pending.get(topic) == payload:
                    del self._retained_pending[topic]
                continue
            batch = self._outbox.take(_BATCH)
            if not batch:
                self._drained.set()
                if self._stop.is_set():
                    await client.publish(
                        self.settings.status_topic, b"offline", qos=qos, retain=True
                    )
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._send(client, batch)

    async def _receive_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            incoming = IncomingMessage(
                str(message.topic), bytes(message.payload), message.qos, bool(message.retain)
            )
            for topic_filter, listener in tuple(self._listeners):
                if not message.topic.matches(topic_filter):
                    continue
                try:
                    await listener(incoming)
                except Exception:
                    _log.exception(
                        "MQTT listener for %s failed on %s", topic_filter, incoming.topic
                    )
