"""Profile M on the device: publish the device's events to the configured MQTT brokers.

A client configures brokers with AddEventBroker (``tev:EventBrokerConfig``);
each one becomes a :class:`BrokerLink`, an aiomqtt connection of its own that
publishes every event the :class:`~platonicam.device.events.EventHub` fires
and the configuration's ``PublishFilter`` lets through, in ONVIF Core's
"Event Broker" format (``onvif-ej``, see :func:`message_topic` and
:func:`message_payload`)::

    <TopicPrefix>/onvif-ej/VideoSource/MotionAlarm/&VideoSource_1
    {"UtcTime": "2026-05-06T07:00:00Z", "Source": {"Source": "VideoSource_1"},
     "Data": {"State": "true"}}

Property events are published *retained* (Core: "for property events, the
device shall set the retained flag"), so the broker always holds each
property's current state for a subscriber that comes later.

Strategy for delivery: the hub's listener is synchronous, so an event is only
appended to the link's bounded queue (the oldest goes first when a broker is
away for long) and a task per link drains it. On every (re)connection the link
first publishes the current state of every matching property (retained),
taken at that moment; queued *property* messages are then dropped, since the
snapshot already holds their outcome, while momentary events stay queued. So
after an outage the broker has every property's newest state exactly once,
and nothing older arrives after it. Connection failures are retried with a
doubling delay (``BrokerOptions.reconnect_min`` .. ``reconnect_max``) and
logged at debug level only after the first: a broker that is away is a state
(``Status`` in GetEventBrokers), not an error to repeat in the log.

The configurations (passwords included: the device needs them to log in) are
kept in the state's ``events.yaml``, written with mode 0600.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

import aiomqtt

from platonicam.device.events import TOPICS, EventHub, PullPoint, TopicFilter
from platonicam.device.faults import DeviceFault, invalid_arg
from platonicam.device.state import DeviceState
from platonicam.onvif.models.events import (
    BrokerStatus,
    EventBroker,
    OnvifEvent,
    format_event_time,
)
from platonicam.onvif.soap.namespaces import TNS1
from platonicam.tasks import cancel_and_wait

__all__ = [
    "PAYLOAD_PREFIX",
    "PROTOCOLS",
    "BrokerLink",
    "BrokerOptions",
    "EventBrokers",
    "message_payload",
    "message_topic",
]

_log = logging.getLogger(__name__)

#: ONVIF Core's payload prefix for "ONVIF event with JSON payload".
PAYLOAD_PREFIX: Final = "onvif-ej"
#: The ``tev:EventBrokerProtocol`` schemes the device speaks (no WebSockets).
PROTOCOLS: Final = ("mqtt", "mqtts")
_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
#: MQTT wildcards, which Core says to leave out of a published topic.
_WILDCARDS: Final = re.compile(r"[#+\x00]")
_PREFIXED: Final = re.compile(r"([A-Za-z_][\w.-]*):")
_SPECS: Final = {spec.path: spec for spec in TOPICS}


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    """Limits and timing of the device's event brokers.

    ``max_brokers`` is what the event service advertises as ``MaxEventBrokers``;
    ``queue_size`` bounds the messages held per broker while it is away;
    ``reconnect_min``/``reconnect_max`` bound the retry delay and
    ``connect_timeout`` one attempt (seconds).
    """

    max_brokers: int = 4
    queue_size: int = 256
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    connect_timeout: float = 10.0


# ---------------------------------------------------------------------- messages (pure)


def local_topic(event: OnvifEvent) -> str:
    """The ONVIF topic without the ONVIF namespace prefix (Core: MQTT has no
    namespaces, ONVIF's is the default); other aliases stay on their segment."""
    segments = []
    for segment in event.topic_path.split("/"):
        prefix, sep, local = segment.partition(":")
        namespace = event.topic_namespaces.get(prefix, TNS1 if prefix == "tns1" else None)
        segments.append(local if sep and namespace == TNS1 else segment)
    return "/".join(segments)


def message_topic(topic_prefix: str, event: OnvifEvent) -> str:
    """``<TopicPrefix>/onvif-ej/<LocalTopic>[/&<source value>/...]``.

    The source values follow in the order GetEventProperties lists them (the
    order of ``event.source``), which makes each property instance a topic of
    its own that the broker can retain. Wildcard characters are left out.
    """
    topic = f"{topic_prefix.rstrip('/')}/{PAYLOAD_PREFIX}/{local_topic(event)}"
    if event.source:
        topic += "/&" + "/".join(event.source.values())
    return _WILDCARDS.sub("", topic)


def message_payload(event: OnvifEvent, *, now: datetime | None = None) -> bytes:
    """The ``onvif-ej`` JSON payload: ``UtcTime``, ``Source`` and (when any) ``Data``.

    Values stay strings, as the SimpleItems carry them (Core allows quotes
    around booleans and numbers). ``now`` stands in for a missing ``UtcTime``.
    """
    when = event.utc_time or now or datetime.now(UTC)
    body: dict[str, object] = {"UtcTime": format_event_time(when), "Source": dict(event.source)}
    if event.data:
        body["Data"] = dict(event.data)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _is_property(event: OnvifEvent) -> bool:
    spec = _SPECS.get(event.topic_path)
    return spec.is_property if spec is not None else event.property_operation is not None


def _matches(topic_filter: TopicFilter | None, event: OnvifEvent) -> bool:
    if topic_filter is None:
        return True
    spec = _SPECS.get(event.topic_path)
    return spec is not None and topic_filter.matches(spec)


# ---------------------------------------------------------------------- validation


def _invalid_address(reason: str) -> DeviceFault:
    return invalid_arg(reason, "InvalidAddress")


def parse_filter(
    expression: str | None, namespaces: Mapping[str | None, str]
) -> TopicFilter | None:
    """A ``PublishFilter`` expression as a :class:`TopicFilter`; ``None`` for none.

    Raises ``ter:InvalidArgVal``/``ter:InvalidFilter`` (AddEventBroker's fault)
    when it cannot be read or uses an undeclared prefix.
    """
    if expression is None or not expression.strip():
        return None
    try:
        return TopicFilter.parse(expression, namespaces)
    except DeviceFault as exc:
        raise invalid_arg(str(exc), "InvalidFilter") from None


def _stored_filter(expression: str | None) -> TopicFilter | None:
    # A stored filter was checked against the request's namespace
    # declarations when it was added; those are gone now, and TopicFilter
    # compares local names only, so every prefix in it counts as declared.
    names: dict[str | None, str] = dict.fromkeys(_PREFIXED.findall(expression or ""), "")
    return parse_filter(expression, names)


def endpoint(address: str) -> tuple[str, str, int]:
    """``scheme``, host and port of a broker address (``mqtt://HOST[:PORT]``).

    Raises ``ter:InvalidProtocol`` for a scheme not in :data:`PROTOCOLS` and
    ``ter:InvalidAddress`` for an address without a host or with a bad port.
    """
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        raise _invalid_address(f"event broker address {address!r} is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in PROTOCOLS:
        raise invalid_arg(
            f"event broker protocol {scheme or '(none)'!r} is not supported "
            f"(supported: {' '.join(PROTOCOLS)})",
            "InvalidProtocol",
        )
    if not parts.hostname:
        raise _invalid_address(f"event broker address {address!r} names no host")
    return scheme, parts.hostname, port or _PORTS[scheme]


def _check(config: EventBroker) -> None:
    endpoint(config.address)
    if not config.topic_prefix.strip() or _WILDCARDS.search(config.topic_prefix):
        raise invalid_arg(
            f"TopicPrefix {config.topic_prefix!r} must be non-empty and free of MQTT wildcards"
        )
    if config.qos is not None and config.qos not in (0, 1, 2):
        raise invalid_arg(f"QoS must be 0, 1 or 2, got {config.qos}")


# ---------------------------------------------------------------------- one broker

Snapshot = Callable[[TopicFilter | None], list[OnvifEvent]]


class BrokerLink:
    """One configured broker: a queue of messages and the task that sends them.

    :attr:`status` is what GetEventBrokers reports; :attr:`published` counts
    messages the client library accepted, :attr:`dropped` those lost to a full
    queue.
    """

    def __init__(
        self,
        config: EventBroker,
        topic_filter: TopicFilter | None,
        snapshot: Snapshot,
        options: BrokerOptions,
    ) -> None:
        self.config = config
        self.filter = topic_filter
        self.status = BrokerStatus.OFFLINE
        self.published = 0
        self.dropped = 0
        self._snapshot = snapshot
        self._options = options
        self._queue: deque[OnvifEvent] = deque(maxlen=options.queue_size)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._qos = config.qos if config.qos is not None else 1

    def offer(self, event: OnvifEvent) -> None:
        """Queue ``event`` when the publish filter lets it through (never blocks)."""
        if not _matches(self.filter, event):
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1  # the deque drops the oldest on append
        self._queue.append(event)
        self._wakeup.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"event-broker {self.config.address}"
            )

    async def close(self) -> None:
        """Stop publishing and disconnect; safe to call more than once."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        self.status = BrokerStatus.OFFLINE

    def _client(self) -> aiomqtt.Client:
        scheme, host, port = endpoint(self.config.address)
        tls: ssl.SSLContext | None = None
        if scheme == "mqtts":
            # Core, CertPathValidationPolicyID: "In case encryption is used but
            # no validation policy is specified, the device shall not validate
            # the broker certificate." The device has no policies to name.
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        return aiomqtt.Client(
            host,
            port,
            username=self.config.user_name,
            password=self.config.password,
            tls_context=tls,
            timeout=self._options.connect_timeout,
        )

    async def _run(self) -> None:
        delay = self._options.reconnect_min
        failures = 0
        while True:
            self.status = BrokerStatus.CONNECTING
            try:
                async with self._client() as client:
                    self.status = BrokerStatus.CONNECTED
                    if failures:
                        _log.info("event broker %s is back", self.config.address)
                    failures, delay = 0, self._options.reconnect_min
                    await self._serve(client)
            except (aiomqtt.MqttError, OSError) as exc:
                failures += 1
                log = _log.info if failures == 1 else _log.debug
                log("event broker %s unreachable (%s); retrying", self.config.address, exc)
            self.status = BrokerStatus.CONNECTING
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._options.reconnect_max)

    async def _serve(self, client: aiomqtt.Client) -> None:
        # The snapshot supersedes every queued property message (see the module
        # docstring); taken with no await in between, so nothing fired is missed.
        kept = [event for event in self._queue if not _is_property(event)]
        self._queue.clear()
        self._queue.extend(kept)
        # Waiting for the next event would not notice a broker that went away:
        # a watcher on the (subscription-less) message stream, which ends
        # with the connection, wakes the loop up.
        lost = asyncio.Event()
        watcher = asyncio.get_running_loop().create_task(self._watch(client, lost))
        try:
            for event in self._snapshot(self.filter):
                await self._send(client, event)
            while not lost.is_set():
                while self._queue:
                    await self._send(client, self._queue[0])
                    self._queue.popleft()  # only once the client took it
                self._wakeup.clear()
                await self._wakeup.wait()
        finally:
            await cancel_and_wait(watcher)
        raise aiomqtt.MqttError("connection lost")

    async def _watch(self, client: aiomqtt.Client, lost: asyncio.Event) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for _ in client.messages:
                pass
        lost.set()
        self._wakeup.set()

    async def _send(self, client: aiomqtt.Client, event: OnvifEvent) -> None:
        await client.publish(
            message_topic(self.config.topic_prefix, event),
            message_payload(event),
            qos=self._qos,
            retain=_is_property(event),
        )
        self.published += 1


# ---------------------------------------------------------------------- all brokers


class EventBrokers:
    """The device's event broker configurations and their links.

    Listens to ``hub`` from construction; links run between :meth:`start` and
    :meth:`close`. Configurations change only through :meth:`add` and
    :meth:`delete`, which save ``events.yaml``.
    """

    def __init__(self, state: DeviceState, hub: EventHub, options: BrokerOptions) -> None:
        self._state = state
        self._hub = hub
        self.options = options
        self._links: dict[str, BrokerLink] = {}
        self._running = False
        hub.add_listener(self._on_event)

    def _on_event(self, event: OnvifEvent) -> None:
        for link in self._links.values():
            link.offer(event)

    def _snapshot(self, topic_filter: TopicFilter | None) -> list[OnvifEvent]:
        # The hub's synchronization point, collected in a PullPoint no client
        # sees: Initialized messages for every matching property instance.
        collector = PullPoint(
            id="event-broker",
            filter=topic_filter,
            termination=datetime.max.replace(tzinfo=UTC),
            queue=deque(),
        )
        self._hub.synchronize(collector)
        return list(collector.queue)

    def _link(self, config: EventBroker, topic_filter: TopicFilter | None) -> BrokerLink:
        link = BrokerLink(config, topic_filter, self._snapshot, self.options)
        self._links[config.address] = link
        if self._running:
            link.start()
        return link

    async def start(self) -> None:
        """Connect to every stored broker (a bad stored entry is logged and skipped)."""
        self._running = True
        for config in self._state.events.brokers:
            if config.address in self._links:
                continue
            try:
                _check(config)
                topic_filter = _stored_filter(config.publish_filter)
            except DeviceFault as exc:
                _log.warning("ignoring stored event broker %s: %s", config.address, exc)
                continue
            self._link(config, topic_filter)
        for link in self._links.values():
            link.start()

    async def close(self) -> None:
        self._running = False
        for link in list(self._links.values()):
            await link.close()
        self._links.clear()

    async def add(
        self, config: EventBroker, namespaces: Mapping[str | None, str] | None = None
    ) -> None:
        """AddEventBroker: add ``config``, or replace the one at the same address.

        ``namespaces`` resolves the publish filter's prefixes (the request's
        declarations). Raises the operation's faults: ``ter:InvalidProtocol``,
        ``ter:InvalidAddress``, ``ter:InvalidFilter``, ``ter:InvalidArgVal``,
        and ``ter:TooManyEventBrokers`` beyond ``options.max_brokers``.
        """
        _check(config)
        topic_filter = parse_filter(config.publish_filter, namespaces or {"tns1": TNS1})
        stored = replace(config, status=None)
        old = self._links.get(config.address)
        if old is None and len(self._state.events.brokers) >= self.options.max_brokers:
            raise DeviceFault(
                f"the device holds at most {self.options.max_brokers} event brokers",
                code="Receiver",
                subcodes=("Action", "TooManyEventBrokers"),
            )
        brokers = [b for b in self._state.events.brokers if b.address != config.address]
        self._state.events.brokers = [*brokers, stored]
        self._state.save("events")
        if old is not None:
            await old.close()
        self._link(stored, topic_filter)

    async def delete(self, address: str) -> None:
        """DeleteEventBroker; ``ter:InvalidAddress`` for an address not configured."""
        if not any(b.address == address for b in self._state.events.brokers):
            raise _invalid_address(f"no event broker at {address!r}")
        self._state.events.brokers = [b for b in self._state.events.brokers if b.address != address]
        self._state.save("events")
        link = self._links.pop(address, None)
        if link is not None:
            await link.close()

    def configurations(self, address: str | None = None) -> list[EventBroker]:
        """GetEventBrokers: without passwords, with each link's ``Status``.

        Raises ``ter:InvalidAddress`` when ``address`` is given and not configured.
        """
        brokers = self._state.events.brokers
        if address is not None:
            brokers = [b for b in brokers if b.address == address]
            if not brokers:
                raise _invalid_address(f"no event broker at {address!r}")
        answer = []
        for config in brokers:
            link = self._links.get(config.address)
            status = link.status if link is not None else BrokerStatus.OFFLINE
            answer.append(replace(config, password=None, status=status.value))
        return answer

    def link(self, address: str) -> BrokerLink | None:
        return self._links.get(address)
