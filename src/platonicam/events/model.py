"""The normalized event: what every camera's notifications become.

An :class:`Event` is vendor-neutral: ``kind`` says what happened (motion, tamper,
line crossing...), ``state`` whether the condition started (``True``), ended
(``False``) or is a momentary pulse (``None``). The camera's own words are kept
beside it (``raw_topic``, ``payload_xml``) so nothing a vendor parser did not
understand is lost.

Pure: no I/O, safe to build in tests without an event loop.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

from platonicam.onvif.models.events import PropertyOperation, format_event_time

__all__ = ["Event", "EventKind", "JsonScalar", "JsonValue"]

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | dict[str, "JsonValue"] | list["JsonValue"]


class EventKind(enum.StrEnum):
    """What an event is about, independent of vendor and topic spelling.

    ``other`` is for topics no parser recognised; their raw topic still travels.
    """

    MOTION = "motion"
    TAMPER = "tamper"
    LINE_CROSSING = "line_crossing"
    INTRUSION = "intrusion"
    LOITERING = "loitering"
    PERSON = "person"
    VEHICLE = "vehicle"
    ANIMAL = "animal"
    FACE = "face"
    LICENSE_PLATE = "license_plate"
    SOUND = "sound"
    DIGITAL_INPUT = "digital_input"
    RELAY = "relay"
    STORAGE_FAILURE = "storage_failure"
    VIDEO_LOSS = "video_loss"
    DAY_NIGHT = "day_night"
    PTZ = "ptz"
    OBJECT = "object"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Event:
    """One normalized event from one camera.

    - ``camera_id``: the service's id for the camera (not an ONVIF token).
    - ``kind``: see :class:`EventKind`.
    - ``topic``: the prefix-free ONVIF topic path
      (``RuleEngine/CellMotionDetector/Motion``), stable across cameras that bind
      different prefixes to the same namespace.
    - ``raw_topic``: the topic text exactly as the camera wrote it (stripped).
    - ``source``: the ``tt:Source`` SimpleItems (which video source, rule, port...).
    - ``data``: the ``tt:Data`` SimpleItems, plus what the vendor parser derived
      (for example ``object`` for a detected class).
    - ``state``: ``True`` active, ``False`` cleared, ``None`` for momentary events
      (a line crossed) and for values that are not on/off.
    - ``time``: aware UTC; the camera's ``UtcTime`` when it gave one, else the
      time we received the notification.
    - ``property_operation``: Initialized / Changed / Deleted for property
      events, ``None`` otherwise. ``Initialized`` events report a state that
      already held when the subscription began.
    - ``payload_xml``: the ``wsnt:NotificationMessage`` as received, when known.
    """

    camera_id: str
    kind: EventKind
    topic: str
    raw_topic: str
    source: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    state: bool | None = None
    time: datetime | None = None
    property_operation: PropertyOperation | None = None
    payload_xml: str | None = field(default=None, repr=False)

    @property
    def is_initial(self) -> bool:
        """Whether this reports a state that held before we subscribed."""
        return self.property_operation is PropertyOperation.INITIALIZED

    def to_json(self, *, include_payload: bool = False) -> dict[str, JsonValue]:
        """A JSON-ready dict (the shape MQTT, WebSocket and SSE payloads use).

        Keys: ``camera``, ``kind``, ``topic``, ``rawTopic``, ``source``, ``data``,
        ``state``, ``time`` (``xs:dateTime`` UTC text or ``null``),
        ``propertyOperation``; plus ``payloadXml`` when ``include_payload``.
        """
        out: dict[str, JsonValue] = {
            "camera": self.camera_id,
            "kind": self.kind.value,
            "topic": self.topic,
            "rawTopic": self.raw_topic,
            "source": _json_map(self.source),
            "data": _json_map(self.data),
            "state": self.state,
            "time": format_event_time(self.time) if self.time is not None else None,
            "propertyOperation": (
                self.property_operation.value if self.property_operation is not None else None
            ),
        }
        if include_payload:
            out["payloadXml"] = self.payload_xml
        return out


def _json_map(items: Mapping[str, str]) -> dict[str, JsonValue]:
    copied: dict[str, JsonValue] = dict(items)
    return copied
