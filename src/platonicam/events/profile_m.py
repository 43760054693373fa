"""Profile M: cameras that publish their own events to our MQTT broker.

A camera with an event broker interface (``MaxEventBrokers`` > 0 in the event
service's capabilities) is told with ``AddEventBroker`` to publish to the
broker the bridge uses, under a topic prefix of ours:
``<topic_prefix>onvif/<camera>`` (see :func:`camera_topic_prefix`). What it
sends follows ONVIF Core's "Event Broker" section (Topic Structure, JSON Event
Payload), in the ``onvif-ej`` format::

    <TopicPrefix>/onvif-ej/<LocalTopic>[/&<Source value>/<Source value>...]
    {"UtcTime": "2008-10-10T12:24:57.321Z",
     "Source": {"VideoSource": "1", "Rule": "MyImportantFence1"},
     "Data": {"ObjectId": "15"}}

``LocalTopic`` is the ONVIF topic without its ``tns1:`` prefix; vendor topics
keep their own alias on a segment (``Device/HardwareFailure/acme:LensFailure``).
Property events are published *retained*, so the broker hands us the current
state on subscribing (we read those as ``Initialized``); a zero-byte payload
means the property was deleted.

:func:`parse_message` (pure) turns one message into
:class:`~platonicam.events.model.Event` values through the same vendor topic
parsers the PullPoint path uses, and :class:`ProfileMReceiver` feeds them to a
:class:`~platonicam.events.bus.Sink` from the bridge's connection. The camera's
topics sit apart from the bridge's own (``<prefix><camera>/<kind>``): the
level after ``onvif/<camera>`` is always ``onvif-ej``, so neither side's
subscriptions match the other's messages.
"""

from __future__ import annotations

import collections
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from platonicam.events.bus import Sink
from platonicam.events.model import Event
from platonicam.events.mqtt import IncomingMessage, MqttBridge, MqttSettings, topic_level
from platonicam.events.notification import normalize
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import (
    EventBroker,
    EventServiceCapabilities,
    OnvifEvent,
    PropertyOperation,
)
from platonicam.onvif.soap.xmlread import to_datetime

if TYPE_CHECKING:
    from platonicam.onvif.client import OnvifClient

__all__ = [
    "PAYLOAD_PREFIX",
    "ProfileMReceiver",
    "broker_config",
    "camera_topic_prefix",
    "enable_profile_m",
    "parse_message",
    "supports_broker",
]

_log = logging.getLogger(__name__)

#: ONVIF Core's payload prefix for "ONVIF event with JSON payload".
PAYLOAD_PREFIX: Final = "onvif-ej"
_OPERATION: Final = "Profile M MQTT message"


def camera_topic_prefix(settings: MqttSettings, camera_id: str) -> str:
    """The ``TopicPrefix`` we give ``camera_id``: ``<topic_prefix>onvif/<camera>``."""
    return f"{settings.topic_prefix}onvif/{topic_level(camera_id)}"


def broker_config(
    settings: MqttSettings,
    camera_id: str,
    *,
    address: str | None = None,
    publish_filter: str | None = None,
) -> EventBroker:
    """The ``tev:EventBrokerConfig`` that points ``camera_id`` at our broker.

    ``address`` is the broker as the *camera* reaches it (``mqtt://192.0.2.10:1883``),
    by default the bridge's own URL, which is wrong when the bridge talks to
    a broker on localhost. Credentials and QoS are the bridge's.
    ``publish_filter`` is a concrete topic expression (``tns1:RuleEngine//.``);
    ``None`` lets the camera send all its events.
    """
    password = settings.password
    return EventBroker(
        address=address or settings.url.rstrip("/"),
        topic_prefix=camera_topic_prefix(settings, camera_id),
        user_name=settings.username,
        password=password.get_secret_value() if password is not None else None,
        publish_filter=publish_filter,
        qos=settings.qos,
    )


async def enable_profile_m(
    client: OnvifClient,
    settings: MqttSettings,
    camera_id: str,
    *,
    address: str | None = None,
    publish_filter: str | None = None,
) -> EventBroker | None:
    """Configure the camera's event broker when it has one; ``None`` when it does not.

    The camera must offer Profile M (``MaxEventBrokers`` > 0) and the
    address's scheme among its ``EventBrokerProtocols``. An existing broker
    at the same address is replaced (AddEventBroker's contract). Raises the
    ONVIF client's errors (a fault such as ``ter:TooManyEventBrokers``, a
    transport error).
    """
    config = broker_config(settings, camera_id, address=address, publish_filter=publish_filter)
    capabilities = await client.events.get_service_capabilities()
    if not supports_broker(capabilities, config.address):
        _log.info(
            "camera %s cannot publish to %s (MaxEventBrokers %s, protocols %s)",
            camera_id,
            urlsplit(config.address).scheme,
            capabilities.max_event_brokers,
            " ".join(capabilities.event_broker_protocols) or "-",
        )
        return None
    await client.events.add_event_broker(config)
    return config


def supports_broker(capabilities: EventServiceCapabilities, address: str) -> bool:
    """Whether a camera with ``capabilities`` can publish to the broker at ``address``.

    It needs ``MaxEventBrokers`` > 0 and the address's scheme among its
    ``EventBrokerProtocols``; a camera that lists no protocols at all is
    given the benefit of the doubt (AddEventBroker then says
    ``ter:InvalidProtocol`` if it minds).
    """
    if not capabilities.max_event_brokers:
        return False
    protocols = {p.lower() for p in capabilities.event_broker_protocols}
    return not protocols or urlsplit(address).scheme.lower() in protocols


def _item_text(value: object) -> str:
    # ONVIF Core lets quotes be omitted for numbers and booleans; ElementItems
    # arrive as JSON objects, kept as compact JSON text.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _items(body: dict[str, object], name: str) -> dict[str, str]:
    items = body.get(name)
    if items is None:
        return {}
    if not isinstance(items, dict):
        raise RemoteProtocolError(f"{name} is not a JSON object", operation=_OPERATION)
    return {str(key): _item_text(value) for key, value in items.items()}


def parse_message(
    topic: str,
    payload: bytes,
    *,
    camera_id: str,
    topic_prefix: str,
    received: datetime,
    retained: bool = False,
    registry: TopicRegistry | None = None,
) -> tuple[Event, ...]:
    """One ``onvif-ej`` MQTT message -> its events (see the module docstring).

    ``topic_prefix`` is the camera's (from :func:`camera_topic_prefix`);
    ``retained`` marks a message the broker kept (state from before we
    subscribed: ``Initialized``; live messages carry no operation, as Core
    leaves it out of the payload). An empty payload is a deleted property
    (``Deleted``, no state). ``received`` (aware UTC) stands in for a missing
    ``UtcTime``. Raises :class:`RemoteProtocolError` for a topic outside the
    prefix or not ``onvif-ej``, a payload that is not a JSON object, or an
    unreadable ``UtcTime``.
    """
    head = f"{topic_prefix}/{PAYLOAD_PREFIX}/"
    if not topic.startswith(head) or len(topic) == len(head):
        raise RemoteProtocolError(
            f"topic {topic!r} is not under {head!r}", operation=_OPERATION, path=topic
        )
    local = topic[len(head) :].partition("/&")[0].strip("/")
    operation: PropertyOperation | None = PropertyOperation.INITIALIZED if retained else None
    body: dict[str, object] = {}
    if not payload:
        operation = PropertyOperation.DELETED
    else:
        try:
            decoded = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RemoteProtocolError(
                f"payload is not JSON: {exc}", operation=_OPERATION, path=topic
            ) from None
        if not isinstance(decoded, dict):
            raise RemoteProtocolError(
                "payload is not a JSON object", operation=_OPERATION, path=topic
            )
        body = decoded
    raw_time = body.get("UtcTime")
    utc_time = None
    if isinstance(raw_time, str) and raw_time.strip():
        utc_time = to_datetime(raw_time, operation=_OPERATION)
    elif raw_time is not None:
        raise RemoteProtocolError(
            f"UtcTime is not a date-time: {raw_time!r}", operation=_OPERATION, path=topic
        )
    segments = local.split("/")
    message = OnvifEvent(
        topic="/".join(part.rpartition(":")[2] for part in segments),
        # The default namespace is ONVIF's (Core: "the namespace prefix for
        # ONVIF topics shall be dropped"); vendor aliases stay on their segment.
        topic_path=f"tns1:{local}",
        raw_topic=local,
        source=_items(body, "Source"),
        data=_items(body, "Data"),
        utc_time=utc_time,
        property_operation=operation,
    )
    return normalize(
        message,
        camera_id=camera_id,
        received=received,
        payload_xml=None,
        registry=registry,
    )


class ProfileMReceiver:
    """Reads the cameras' own MQTT events through a :class:`MqttBridge` into a sink.

    :meth:`add_camera` before or after :meth:`start`; messages under a prefix
    of no known camera are counted in :attr:`unknown` and dropped. Malformed
    messages are counted in :attr:`malformed_count` and the latest kept in
    :attr:`malformed` (at most 100, reason and topic); they never stop the
    others. ``clock`` gives the receive time (aware UTC).
    """

    def __init__(
        self,
        bridge: MqttBridge,
        sink: Sink,
        *,
        clock: Callable[[], datetime],
        registry: TopicRegistry | None = None,
    ) -> None:
        self._bridge = bridge
        self._sink = sink
        self._clock = clock
        self._registry = registry
        self._settings = bridge.settings
        self._cameras: dict[str, str] = {}
        self.received = 0
        self.unknown = 0
        self.malformed_count = 0
        self.malformed: collections.deque[tuple[str, str]] = collections.deque(maxlen=100)

    @property
    def topic_filter(self) -> str:
        return f"{self._settings.topic_prefix}onvif/+/{PAYLOAD_PREFIX}/#"

    async def start(self) -> None:
        await self._bridge.add_listener(self.topic_filter, self._on_message)

    def add_camera(self, camera_id: str) -> str:
        """Accept ``camera_id``'s messages; returns its topic prefix."""
        prefix = camera_topic_prefix(self._settings, camera_id)
        self._cameras[prefix] = camera_id
        return prefix

    def remove_camera(self, camera_id: str) -> None:
        self._cameras.pop(camera_topic_prefix(self._settings, camera_id), None)

    async def _on_message(self, message: IncomingMessage) -> None:
        head, _, _ = message.topic.partition(f"/{PAYLOAD_PREFIX}/")
        camera_id = self._cameras.get(head)
        if camera_id is None:
            self.unknown += 1
            return
        try:
            events = parse_message(
                message.topic,
                message.payload,
                camera_id=camera_id,
                topic_prefix=head,
                received=self._clock(),
                retained=message.retain,
                registry=self._registry,
            )
        except RemoteProtocolError as exc:
            self.malformed_count += 1
            self.malformed.append((str(exc), message.topic))
            _log.warning("camera %s sent an unreadable MQTT event: %s", camera_id, exc)
            return
        self.received += 1
        for event in events:
            await self._sink.publish(event)
