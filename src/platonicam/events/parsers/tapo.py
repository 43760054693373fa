"""TP-Link Tapo topics: smart detections under standard-looking ``tns1:RuleEngine`` paths.

Tapo reports each detection type as its own rule with an ``Is<Thing>`` data
item (corpus ``events/tp-link-tapo_unknown_NotificationMessage-tapo-*.json``).
``TpSmartEvent`` / ``TPSmartEvent`` (both spellings occur, the registry compares
case-insensitively) carries whichever of ``IsVehicle``, ``IsPet``,
``IsPeople``... applies, so the kind comes from the data item's name.
"""

from __future__ import annotations

from typing import Final

from platonicam.events.model import EventKind
from platonicam.events.parsers._helpers import boolean
from platonicam.events.topics import Reading, TopicRegistry, read_bool
from platonicam.onvif.models.events import OnvifEvent

K = EventKind

#: ``Is<Thing>`` data item -> kind (and the object class named in the event's data).
SMART_ITEMS: Final[dict[str, tuple[EventKind, str]]] = {
    "ispeople": (K.PERSON, "person"),
    "isperson": (K.PERSON, "person"),
    "isvehicle": (K.VEHICLE, "vehicle"),
    "ispet": (K.ANIMAL, "pet"),
    "isbabycry": (K.SOUND, "baby_cry"),
    "isbark": (K.SOUND, "bark"),
    "ismeow": (K.SOUND, "meow"),
    "isglassbreak": (K.SOUND, "glass_break"),
    "isdooropen": (K.OTHER, "door_open"),
    "islinecross": (K.LINE_CROSSING, "line"),
    "isintrusion": (K.INTRUSION, "intrusion"),
    "istamper": (K.TAMPER, "tamper"),
}


def smart_event(event: OnvifEvent) -> tuple[Reading, ...]:
    """One reading per known ``Is<Thing>`` item present (unknown items: kind ``other``)."""
    readings: list[Reading] = []
    for name, value in event.data.items():
        known = SMART_ITEMS.get(name.lower())
        if known is not None:
            kind, label = known
            readings.append(Reading(kind, read_bool(value), {"object": label}))
        elif name.lower().startswith("is"):
            readings.append(Reading(K.OTHER, read_bool(value), {"object": name[2:]}))
    return tuple(readings) or (Reading(K.OTHER),)


_SMART_KINDS: Final = frozenset({kind for kind, _ in SMART_ITEMS.values()})


def register(registry: TopicRegistry) -> None:
    r = registry.register
    r(
        "RuleEngine/CellMotionDetector/People",
        boolean(K.PERSON, "IsPeople", "IsPerson", extra={"object": "person"}),
        kinds={K.PERSON},
        vendor="tapo",
    )
    r(
        "RuleEngine/PeopleDetector/People",
        boolean(K.PERSON, "IsPeople", "IsPerson", extra={"object": "person"}),
        kinds={K.PERSON},
        vendor="tapo",
    )
    r(
        "RuleEngine/CellMotionDetector/LineCross",
        boolean(K.LINE_CROSSING, "IsLineCross"),
        kinds={K.LINE_CROSSING},
        vendor="tapo",
    )
    r(
        "RuleEngine/CellMotionDetector/Intrusion",
        boolean(K.INTRUSION, "IsIntrusion"),
        kinds={K.INTRUSION},
        vendor="tapo",
    )
    r(
        "RuleEngine/CellMotionDetector/Tamper",
        boolean(K.TAMPER, "IsTamper"),
        kinds={K.TAMPER},
        vendor="tapo",
    )
    r("RuleEngine/CellMotionDetector/TpSmartEvent", smart_event, kinds=_SMART_KINDS, vendor="tapo")
    r(
        "RuleEngine/TPSmartEventDetector/TPSmartEvent",
        smart_event,
        kinds=_SMART_KINDS,
        vendor="tapo",
    )
