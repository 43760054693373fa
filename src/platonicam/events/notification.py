"""Notifications -> normalized :class:`~platonicam.events.model.Event` values (sans-IO).

Strategy: one malformed ``wsnt:NotificationMessage`` must not cost the others
in the same answer. The ONVIF layer's PullMessages parser reads a whole answer
or raises; here each message is read on its own, so a camera that sends one
unreadable message among good ones (a bad ``UtcTime``, an empty topic) loses
only that one, reported in :attr:`NotificationBatch.malformed` with the reason
and the message's XML. Each event keeps the message it came from
(``payload_xml``) and the raw topic.

One message can yield several events (see :class:`~platonicam.events.topics.Reading`):
they share camera, topic, source, time and payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from platonicam.events.model import Event
from platonicam.events.parsers import default_registry
from platonicam.events.topics import TopicRegistry
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import OnvifEvent
from platonicam.onvif.soap.envelope import parse_envelope
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xmlread import child, children, to_datetime

__all__ = [
    "Malformed",
    "NotificationBatch",
    "normalize",
    "normalize_element",
    "read_notifications",
    "read_notify",
]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A notification we could not read: why, and what it was."""

    reason: str
    payload_xml: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationBatch:
    """The readable events of one answer or Notify, and the unreadable messages.

    ``current_time`` / ``termination_time`` are the PullMessages answer's
    (camera clock), ``None`` when absent or unreadable, and always for Notify.
    """

    events: tuple[Event, ...] = ()
    malformed: tuple[Malformed, ...] = ()
    current_time: datetime | None = None
    termination_time: datetime | None = None


def normalize(
    message: OnvifEvent,
    *,
    camera_id: str,
    received: datetime,
    payload_xml: str | None = None,
    registry: TopicRegistry | None = None,
) -> tuple[Event, ...]:
    """The events one parsed notification stands for.

    ``received`` (aware UTC) is used as the time when the camera gave none.
    ``source`` holds the message's Source items and its Key items (both name
    the property instance); ``data`` its Data items overlaid with what the
    topic parser derived.
    """
    readings = (registry or default_registry()).parse(message)
    source = {**message.source, **message.key}
    return tuple(
        Event(
            camera_id=camera_id,
            kind=reading.kind,
            topic=message.topic,
            raw_topic=message.raw_topic,
            source=dict(source),
            data={**message.data, **reading.data},
            state=reading.state,
            time=message.utc_time or received,
            property_operation=message.property_operation,
            payload_xml=payload_xml,
        )
        for reading in readings
    )


def _xml(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def normalize_element(
    element: etree._Element,
    *,
    camera_id: str,
    received: datetime,
    registry: TopicRegistry | None = None,
) -> tuple[Event, ...]:
    """A ``wsnt:NotificationMessage`` element -> events, keeping its XML.

    Raises :class:`RemoteProtocolError` when the message is unreadable.
    """
    if local_name(element.tag) != "NotificationMessage":
        raise RemoteProtocolError(
            f"expected wsnt:NotificationMessage, got <{local_name(element.tag)}>"
        )
    message = OnvifEvent.from_xml(element)
    return normalize(
        message,
        camera_id=camera_id,
        received=received,
        payload_xml=_xml(element),
        registry=registry,
    )


def _time(container: etree._Element, name: str) -> datetime | None:
    node = child(container, name)
    raw = (node.text or "").strip() if node is not None else ""
    if not raw:
        return None
    try:
        return to_datetime(raw, element=node)
    except RemoteProtocolError:
        return None  # a bad clock value must not cost the events


def read_notifications(
    container: etree._Element,
    *,
    camera_id: str,
    received: datetime,
    registry: TopicRegistry | None = None,
) -> NotificationBatch:
    """Every ``wsnt:NotificationMessage`` child of ``container`` (a PullMessagesResponse,
    a ``wsnt:Notify``, a ``tt:Event`` block), each read on its own; never raises for
    a bad message."""
    events: list[Event] = []
    malformed: list[Malformed] = []
    for node in children(container, "NotificationMessage"):
        try:
            events.extend(
                normalize_element(node, camera_id=camera_id, received=received, registry=registry)
            )
        except RemoteProtocolError as exc:
            malformed.append(Malformed(str(exc), _xml(node)))
    return NotificationBatch(
        events=tuple(events),
        malformed=tuple(malformed),
        current_time=_time(container, "CurrentTime"),
        termination_time=_time(container, "TerminationTime"),
    )


def read_notify(
    data: bytes,
    *,
    camera_id: str,
    received: datetime,
    registry: TopicRegistry | None = None,
) -> NotificationBatch:
    """A pushed ``wsnt:Notify`` SOAP request.

    Raises :class:`RemoteProtocolError` when the body is not a SOAP envelope
    around ``wsnt:Notify`` (bad single messages are reported, not raised).
    """
    envelope = parse_envelope(data, operation="Notify")
    if local_name(envelope.payload.tag) != "Notify":
        raise RemoteProtocolError(
            f"expected wsnt:Notify, got <{local_name(envelope.payload.tag)}>", operation="Notify"
        )
    batch = read_notifications(
        envelope.payload, camera_id=camera_id, received=received, registry=registry
    )
    return NotificationBatch(events=batch.events, malformed=batch.malformed)
