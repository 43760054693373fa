"""Sans-IO readers for event notifications: bytes in, :class:`OnvifEvent` out.

Three ways events reach us, one reader each:

- PullMessages answers, read by :func:`platonicam.onvif.services.events.parse_pull_messages`;
- ``wsnt:Notify`` pushed to a consumer endpoint (basic notification), read by
  :func:`parse_notify`;
- the RTSP metadata track: each access unit is one ``tt:MetadataStream``
  document, read by :func:`parse_metadata_stream`. Events in it use the same
  ``wsnt:NotificationMessage`` type as PullMessages (the Axis captures
  ``events/axis_unknown_MetadataStream-*.xml``), and analytics frames carry
  objects with normalised boxes.

Malformed input raises :class:`~platonicam.onvif.errors.RemoteProtocolError`.
"""

from __future__ import annotations

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import MetadataFrame, OnvifEvent
from platonicam.onvif.soap.envelope import parse_envelope
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import children

__all__ = [
    "parse_metadata_stream",
    "parse_notification_message",
    "parse_notification_messages",
    "parse_notify",
]


def parse_notification_message(element: etree._Element) -> OnvifEvent:
    """One ``wsnt:NotificationMessage`` element as an event."""
    if local_name(element.tag) != "NotificationMessage":
        raise RemoteProtocolError(
            f"expected wsnt:NotificationMessage, got <{local_name(element.tag)}>"
        )
    return OnvifEvent.from_xml(element)


def parse_notification_messages(container: etree._Element) -> list[OnvifEvent]:
    """Every ``wsnt:NotificationMessage`` child of ``container``, in order."""
    return [
        OnvifEvent.from_xml(node, operation=local_name(container.tag) or None)
        for node in children(container, "NotificationMessage")
    ]


def parse_notify(data: bytes) -> list[OnvifEvent]:
    """The events of a pushed ``wsnt:Notify`` SOAP request (faults raise)."""
    envelope = parse_envelope(data, operation="Notify")
    if local_name(envelope.payload.tag) != "Notify":
        raise RemoteProtocolError(
            f"expected wsnt:Notify, got <{local_name(envelope.payload.tag)}>",
            operation="Notify",
        )
    return parse_notification_messages(envelope.payload)


def parse_metadata_stream(data: bytes) -> MetadataFrame:
    """One RTSP metadata-track payload (a ``tt:MetadataStream`` document).

    Trailing NUL bytes, which some RTP depacketisers leave after the document,
    are ignored. Raises :class:`RemoteProtocolError` when the payload is not
    XML or its root is not ``tt:MetadataStream``.
    """
    root = parse_xml(data.rstrip(b"\x00 \t\r\n"), operation="MetadataStream")
    return MetadataFrame.from_xml(root)
