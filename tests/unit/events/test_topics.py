"""Topic registry: lookup order, patterns, fallbacks, and the on/off readers."""

from __future__ import annotations

import pytest

from platonicam.events.model import EventKind
from platonicam.events.parsers import build_registry, default_registry
from platonicam.events.topics import (
    Parser,
    Reading,
    TopicRegistry,
    fallback,
    read_bool,
    split_topic,
)
from platonicam.onvif.models.events import OnvifEvent

K = EventKind


def message(topic: str, **data: str) -> OnvifEvent:
    return OnvifEvent(topic=topic, topic_path=topic, raw_topic=topic, data=data)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True),
        (" TRUE ", True),
        ("1", True),
        ("active", True),
        ("false", False),
        ("0", False),
        ("inactive", False),
        ("Off", False),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_read_bool(raw: str | None, value: bool | None) -> None:
    assert read_bool(raw) is value


def test_split_topic_drops_prefixes() -> None:
    assert split_topic(" tns1:Device/tnsaxis:IO/Port ") == ("Device", "IO", "Port")


def test_exact_beats_pattern_and_more_literal_patterns_win() -> None:
    registry = TopicRegistry()

    def tagged(tag: str) -> Parser:
        def parse(event: OnvifEvent) -> tuple[Reading, ...]:
            return (Reading(K.OTHER, None, {"by": tag}),)

        return parse

    registry.register("A/*/*", tagged("two-wild"), kinds={K.OTHER})
    registry.register("A/B/*", tagged("one-wild"), kinds={K.OTHER})
    registry.register("a/b/c", tagged("exact"), kinds={K.OTHER}, vendor="acme")
    registry.register("A/**", tagged("deep"), kinds={K.OTHER})

    def by(topic: str) -> str:
        return registry.parse(message(topic))[0].data["by"]

    assert by("A/B/C") == "exact"  # case-insensitive
    assert by("A/B/D") == "one-wild"
    assert by("A/X/D") == "two-wild"
    assert by("A/X/D/E") == "deep"
    assert by("A") == "deep"
    assert registry.vendor_for("a/B/c") == "acme"
    assert registry.vendor_for("Z") is None
    with pytest.raises(
        ValueError, match=r"topic pattern 'A/B/C' is already registered \(by acme\)"
    ):
        registry.register("A/B/C", fallback, kinds={K.OTHER})


def test_unknown_topic_falls_back_to_other_with_a_single_boolean() -> None:
    registry = default_registry()
    assert registry.parse(message("Vendor/Thing", Level="3", Active="1")) == (
        Reading(K.OTHER, True),
    )
    assert registry.parse(message("Vendor/Thing", A="1", B="0")) == (Reading(K.OTHER, None),)
    assert registry.kinds_for("tns1:Vendor/Thing") == {K.OTHER}


@pytest.mark.parametrize(
    ("topic", "data", "kind", "state"),
    [
        ("VideoSource/GlobalSceneChange/ImagingService", {"State": "true"}, K.TAMPER, True),
        ("VideoSource/ImageTooDark/AnalyticsService", {"State": "false"}, K.TAMPER, False),
        ("VideoSource/SignalLoss", {"State": "true"}, K.VIDEO_LOSS, True),
        ("Device/Trigger/Relay", {"LogicalState": "active"}, K.RELAY, True),
        ("Device/HardwareFailure/StorageFailure", {"Failed": "true"}, K.STORAGE_FAILURE, True),
        ("Device/HardwareFailure/HardDiskFull", {}, K.STORAGE_FAILURE, True),
        ("RuleEngine/FieldDetector/ObjectsInside", {"IsInside": "true"}, K.INTRUSION, True),
        ("RuleEngine/Recognition/Face", {"Likelihood": "0.9"}, K.FACE, None),
        ("RuleEngine/TPSmartEventDetector/TPSmartEvent", {"IsBabyCry": "1"}, K.SOUND, True),
        ("RuleEngine/CellMotionDetector/TpSmartEvent", {"IsFrobnicated": "1"}, K.OTHER, True),
        ("RuleEngine/VMD3/vmd3_video_1", {"active": "0"}, K.MOTION, False),
        ("Monitoring/OperatingTime/LastReboot", {"Status": "2026-01-01T00:00:00Z"}, K.OTHER, None),
    ],
)
def test_standard_and_vendor_topics(
    topic: str, data: dict[str, str], kind: EventKind, state: bool | None
) -> None:
    [reading] = default_registry().parse(message(topic, **data))
    assert (reading.kind, reading.state) == (kind, state)


def test_object_detection_reports_every_class() -> None:
    readings = default_registry().parse(
        message("RuleEngine/ObjectDetection/Object", ClassTypes="Face Human Bicycle Kite")
    )
    assert [(r.kind, r.state, r.data["object"]) for r in readings] == [
        (K.PERSON, True, "Human"),
        (K.VEHICLE, True, "Bicycle"),
        (K.ANIMAL, False, "animal"),
        (K.FACE, True, "Face"),
        (K.OBJECT, True, "Kite"),
    ]


def test_build_registry_is_fresh_and_default_is_shared() -> None:
    assert build_registry() is not build_registry()
    assert default_registry() is default_registry()
