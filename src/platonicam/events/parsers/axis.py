"""Axis topics in ``http://www.axis.com/2009/event/topics`` (``tnsaxis``).

Axis writes booleans as ``1``/``0`` and lower-case item names (``state``,
``active``, ``tampering``); names come from the metadata-stream captures
``events/axis_unknown_MetadataStream-*.xml``, the Q6045-E topic set
``events/axis_Q6045-E_GetEventProperties.xml`` and the VAPIX topic list
``events/axis_unknown_vapix-GetEventInstances.xml``.
"""

from __future__ import annotations

from platonicam.events.model import EventKind
from platonicam.events.parsers._helpers import boolean, failure
from platonicam.events.parsers.generic import CLASS_KINDS
from platonicam.events.topics import Parser, Reading, TopicRegistry, read_bool
from platonicam.onvif.models.events import OnvifEvent

K = EventKind


def day_night(event: OnvifEvent) -> tuple[Reading, ...]:
    """``VideoSource/DayNightVision``: ``day`` is 1 in day mode; not an on/off alarm,
    so the state stays ``None`` and ``mode`` says which."""
    day = read_bool(event.data.get("day"))
    mode = {True: "day", False: "night", None: "unknown"}[day]
    return (Reading(K.DAY_NIGHT, None, {"mode": mode}),)


def object_analytics(event: OnvifEvent) -> tuple[Reading, ...]:
    """AXIS Object Analytics scenarios (``CameraApplicationPlatform/ObjectAnalytics/<scenario>``):
    ``active`` with the ``classTypes`` that triggered it (``human``, ``car``...)."""
    state = read_bool(event.data.get("active"))
    classes = event.data.get("classTypes", "").split()
    readings = [
        Reading(CLASS_KINDS.get(name.lower(), K.OBJECT), state, {"object": name})
        for name in classes
    ]
    return tuple(readings) or (Reading(K.OBJECT, state),)


def register(registry: TopicRegistry) -> None:
    def r(pattern: str, parser: Parser, kinds: set[EventKind]) -> None:
        registry.register(pattern, parser, kinds=kinds, vendor="axis")

    r("Device/IO/Port", boolean(K.DIGITAL_INPUT, "state"), {K.DIGITAL_INPUT})
    r(
        "Device/IO/VirtualInput",
        boolean(K.DIGITAL_INPUT, "active", extra={"virtual": "true"}),
        {K.DIGITAL_INPUT},
    )
    r(
        "Device/IO/VirtualPort",
        boolean(K.DIGITAL_INPUT, "state", extra={"virtual": "true"}),
        {K.DIGITAL_INPUT},
    )
    r("Device/IO/OutputPort", boolean(K.RELAY, "state"), {K.RELAY})
    # A PIR sensor sees motion (events/axis_unknown_MetadataStream-pir-change.xml).
    r("Device/Sensor/PIR", boolean(K.MOTION, "state", extra={"sensor_type": "pir"}), {K.MOTION})
    r("VideoSource/DayNightVision", day_night, {K.DAY_NIGHT})
    r("VideoSource/Tampering", boolean(K.TAMPER, "tampering"), {K.TAMPER})
    r("VideoAnalytics/MotionDetection", boolean(K.MOTION, "motion"), {K.MOTION})
    r("PTZController/Move/*", boolean(K.PTZ, "is_moving"), {K.PTZ})
    r(
        "CameraApplicationPlatform/ObjectAnalytics/*",
        object_analytics,
        {K.PERSON, K.VEHICLE, K.ANIMAL, K.FACE, K.OBJECT},
    )
    r("RuleEngine/VMD3/*", boolean(K.MOTION, "active"), {K.MOTION})
    r("CameraApplicationPlatform/VMD/**", boolean(K.MOTION, "active"), {K.MOTION})
    r("Storage/Alert", boolean(K.STORAGE_FAILURE, "alert"), {K.STORAGE_FAILURE})
    r("Storage/Disruption", failure(K.STORAGE_FAILURE, "disruption"), {K.STORAGE_FAILURE})
    r("AudioSource/TriggerLevel", boolean(K.SOUND, "triggered"), {K.SOUND})
    r(
        "Device/Casing/Open",
        boolean(K.TAMPER, "Casing_Open", "state", extra={"reason": "casing_open"}),
        {K.TAMPER},
    )
    r("Device/Network/Lost", boolean(K.OTHER, "lost", extra={"reason": "network_lost"}), {K.OTHER})
