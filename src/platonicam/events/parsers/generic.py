"""ONVIF standard topics (tns1), as the ONVIF Core and Analytics specifications name them.

Data item names follow the specifications' message descriptions
(``State``, ``IsMotion``, ``IsTamper``, ``IsInside``, ``LogicalState``...); a
few cameras use another of the standard names for the same topic, so each
parser accepts the likely spellings in order.
"""

from __future__ import annotations

from typing import Final

from platonicam.events.model import EventKind
from platonicam.events.parsers._helpers import boolean, failure, pulse
from platonicam.events.topics import Reading, TopicRegistry
from platonicam.onvif.models.events import OnvifEvent

K = EventKind

#: ONVIF analytics class types (tt:ClassType and the Analytics spec's object
#: classification) -> event kinds; compared case-insensitively.
CLASS_KINDS: Final[dict[str, EventKind]] = {
    "human": K.PERSON,
    "person": K.PERSON,
    "people": K.PERSON,
    "face": K.FACE,
    "vehicle": K.VEHICLE,
    "car": K.VEHICLE,
    "truck": K.VEHICLE,
    "bus": K.VEHICLE,
    "bike": K.VEHICLE,
    "bicycle": K.VEHICLE,
    "motorcycle": K.VEHICLE,
    "animal": K.ANIMAL,
    "pet": K.ANIMAL,
    "dog": K.ANIMAL,
    "cat": K.ANIMAL,
    "licenseplate": K.LICENSE_PLATE,
}
#: The classes an ObjectDetection message always reports on, present or not.
SNAPSHOT_KINDS: Final = (K.PERSON, K.VEHICLE, K.ANIMAL)


def class_types(value: str) -> list[str]:
    """A ``tt:StringList`` of class types (white-space separated, empty allowed)."""
    return value.split()


def object_snapshot(
    event: OnvifEvent, *, names: tuple[str, ...] = ("ClassTypes",)
) -> tuple[Reading, ...]:
    """``RuleEngine/ObjectDetection/Object``: ``ClassTypes`` lists what the rule
    sees *now* (Analytics spec, ObjectDetection rule).

    Each message is read as a full snapshot: one reading per person / vehicle /
    animal, ``True`` when listed and ``False`` when not, plus one per other
    listed class. An empty list clears all three (corpus
    ``events/ajax_unknown_NotificationMessage-ajax-object-detector-cleared.json``).
    """
    raw = next((event.data[n] for n in names if n in event.data), "")
    present: dict[EventKind, str] = {}
    others: list[str] = []
    for name in class_types(raw):
        kind = CLASS_KINDS.get(name.lower())
        if kind is None:
            others.append(name)
        else:
            present.setdefault(kind, name)
    readings = [
        Reading(kind, kind in present, {"object": present.get(kind, kind.value)})
        for kind in SNAPSHOT_KINDS
    ]
    readings.extend(
        Reading(kind, True, {"object": name})
        for kind, name in present.items()
        if kind not in SNAPSHOT_KINDS
    )
    readings.extend(Reading(K.OBJECT, True, {"object": name}) for name in others)
    return tuple(readings)


def _reboot(event: OnvifEvent) -> tuple[Reading, ...]:
    # A property that says when the device last started: not on/off.
    del event
    return (Reading(K.OTHER, None, {"reason": "last_reboot"}),)


def register(registry: TopicRegistry) -> None:
    r = registry.register
    r("VideoSource/MotionAlarm", boolean(K.MOTION, "State"), kinds={K.MOTION})
    r(
        "RuleEngine/CellMotionDetector/Motion",
        boolean(K.MOTION, "IsMotion", "State"),
        kinds={K.MOTION},
    )
    # Axis writes State as 0/1
    # (events/axis_unknown_MetadataStream-rule-engine-region-detector-init.xml).
    r(
        "RuleEngine/MotionRegionDetector/Motion",
        boolean(K.MOTION, "State", "IsMotion"),
        kinds={K.MOTION},
    )
    r("RuleEngine/TamperDetector/Tamper", boolean(K.TAMPER, "IsTamper", "State"), kinds={K.TAMPER})
    for reason in ("GlobalSceneChange", "ImageTooDark", "ImageTooBright", "ImageTooBlurry"):
        r(
            f"VideoSource/{reason}/*",
            boolean(K.TAMPER, "State", extra={"reason": reason}),
            kinds={K.TAMPER},
        )
    r(
        "VideoSource/ImpairedVisibility",
        boolean(K.TAMPER, "State", extra={"reason": "ImpairedVisibility"}),
        kinds={K.TAMPER},
    )
    r("VideoSource/SignalLoss", boolean(K.VIDEO_LOSS, "State"), kinds={K.VIDEO_LOSS})
    r("RuleEngine/LineDetector/Crossed", pulse(K.LINE_CROSSING), kinds={K.LINE_CROSSING})
    r(
        "RuleEngine/FieldDetector/ObjectsInside",
        boolean(K.INTRUSION, "IsInside"),
        kinds={K.INTRUSION},
    )
    r(
        "RuleEngine/LoiteringDetector/ObjectIsLoitering",
        boolean(K.LOITERING, "IsLoitering"),
        kinds={K.LOITERING},
    )
    r(
        "RuleEngine/ObjectDetection/Object",
        object_snapshot,
        kinds={*SNAPSHOT_KINDS, K.FACE, K.LICENSE_PLATE, K.OBJECT},
    )
    r("RuleEngine/Recognition/Face", pulse(K.FACE), kinds={K.FACE})
    r("RuleEngine/Recognition/LicensePlate", pulse(K.LICENSE_PLATE), kinds={K.LICENSE_PLATE})
    r("RuleEngine/AudioDetector/Class", pulse(K.SOUND), kinds={K.SOUND})
    r(
        "Device/Trigger/DigitalInput",
        boolean(K.DIGITAL_INPUT, "LogicalState", "State"),
        kinds={K.DIGITAL_INPUT},
    )
    r("Device/Trigger/Relay", boolean(K.RELAY, "LogicalState", "State"), kinds={K.RELAY})
    r(
        "Device/HardwareFailure/StorageFailure",
        failure(K.STORAGE_FAILURE, "Failed", "State", "disruption"),
        kinds={K.STORAGE_FAILURE},
    )
    r("PTZController/PTZPresets/*", pulse(K.PTZ), kinds={K.PTZ})
    r("Monitoring/OperatingTime/LastReboot", _reboot, kinds={K.OTHER})
