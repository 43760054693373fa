"""Event captures, normalized: every notification maps to the right kinds and values.

Notifications come from three kinds of capture: zeep dicts from users' logs
(``.json``, turned back into XML by ``test_events.notification_xml``), Axis RTSP
metadata-stream documents, and PullMessages answers. Each goes through our ONVIF
parser and then :mod:`platonicam.events.notification`, and every resulting
:class:`~platonicam.events.model.Event` is compared field by field. Topic sets
(GetEventProperties, VAPIX GetEventInstances) are checked through
:meth:`TopicRegistry.kinds_for`: which sensors a camera announcing them has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import pytest
from lxml import etree

from platonicam.events.model import Event, EventKind
from platonicam.events.notification import normalize_element, read_notifications
from platonicam.events.parsers import default_registry
from platonicam.onvif.models.events import PropertyOperation
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import child
from tests.corpus import CORPUS, ids, payload
from tests.unit.corpus.test_events import _vapix_topics, notification_xml

K = EventKind
INITIALIZED, CHANGED = PropertyOperation.INITIALIZED, PropertyOperation.CHANGED
CAMERA: Final = "cam-1"
RECEIVED: Final = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Want:
    """One normalized event: kind, state and the full data dict."""

    kind: EventKind
    state: bool | None
    data: dict[str, str]


@dataclass(frozen=True, slots=True)
class Message:
    """One notification and the events it must become (in order)."""

    topic: str
    raw_topic: str
    source: dict[str, str]
    time: datetime
    operation: PropertyOperation | None
    wants: tuple[Want, ...]


@dataclass(frozen=True, slots=True)
class Pulled:
    """A PullMessages answer: its messages, in order."""

    messages: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicSet:
    """A topic set: the kinds of some topics, and every sensor kind it announces."""

    kinds: dict[str, frozenset[EventKind]]
    sensors: frozenset[EventKind]


Case = Message | Pulled | TopicSet


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _objects(
    person: str | None, vehicle: str | None, animal: str | None, raw: str
) -> tuple[Want, ...]:
    """The ObjectDetection snapshot: one event per class, named or absent."""
    return tuple(
        Want(kind, name is not None, {"ClassTypes": raw, "object": name or kind.value})
        for kind, name in ((K.PERSON, person), (K.VEHICLE, vehicle), (K.ANIMAL, animal))
    )


_AJAX_SOURCE = {"VideoSourceToken": "9c756e1c82d0-0", "Rule": "9c756e1c82d0-0-dk2t3b"}
_TAPO = {
    "VideoSourceConfigurationToken": "vsconf",
    "VideoAnalyticsConfigurationToken": "VideoAnalyticsToken",
}
_SMART = "RuleEngine/TPSmartEventDetector/TPSmartEvent"

CASES: Final[dict[str, Case]] = {
    # --- users' notification logs -------------------------------------------------------
    "events/ajax_unknown_NotificationMessage-ajax-human-animal.json": Message(
        "RuleEngine/ObjectDetection/Object",
        "tns1:RuleEngine/ObjectDetection/Object",
        _AJAX_SOURCE,
        utc(2026, 3, 8, 16, 19, 5),
        CHANGED,
        _objects("Human", None, "Animal", "Human Animal"),
    ),
    "events/ajax_unknown_NotificationMessage-ajax-human-vehicle.json": Message(
        "RuleEngine/ObjectDetection/Object",
        "tns1:RuleEngine/ObjectDetection/Object",
        _AJAX_SOURCE,
        utc(2026, 3, 8, 16, 23, 1),
        CHANGED,
        _objects("Human", "Vehicle", None, "Human Vehicle"),
    ),
    "events/ajax_unknown_NotificationMessage-ajax-line-crossing.json": Message(
        "RuleEngine/LineDetector/Crossing",
        "tns1:RuleEngine/tnsajax:LineDetector/Crossing",
        {"VideoSourceToken": "9c756e1c82d0-0", "Rule": "9c756e1c82d0-0-dk2t3c"},
        utc(2026, 3, 8, 16, 23, 29),
        None,
        (Want(K.LINE_CROSSING, None, {}),),
    ),
    # No UtcTime: the event takes the time it was received.
    "events/ajax_unknown_NotificationMessage-ajax-object-detector-cleared.json": Message(
        "RuleEngine/ObjectDetection/Object",
        "tns1:RuleEngine/ObjectDetection/Object",
        {"VideoSourceToken": "vsconf", "Rule": "AjaxObjectRule"},
        RECEIVED,
        None,
        _objects(None, None, None, ""),
    ),
    "events/hikvision_unknown_NotificationMessage-hikvision-alarm.json": Message(
        "Device/Trigger/AlarmIn",
        "tns1:Device/Trigger/tnshik:AlarmIn",
        {"AlarmInToken": "AlarmIn_1"},
        utc(2025, 3, 13, 22, 57, 26),
        INITIALIZED,
        (Want(K.DIGITAL_INPUT, True, {"State": "true"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-cellmotiondetector-person.json": Message(
        "RuleEngine/CellMotionDetector/People",
        "tns1:RuleEngine/CellMotionDetector/People",
        {**_TAPO, "Rule": "MyPeopleDetectorRule"},
        utc(2025, 1, 3, 20, 9, 22),
        CHANGED,
        (Want(K.PERSON, True, {"IsPeople": "true", "object": "person"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-cellmotiondetector-vehicle.json": Message(
        "RuleEngine/CellMotionDetector/TpSmartEvent",
        "tns1:RuleEngine/CellMotionDetector/TpSmartEvent",
        {**_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        utc(2025, 1, 5, 14, 2, 9),
        CHANGED,
        (Want(K.VEHICLE, True, {"IsVehicle": "true", "object": "vehicle"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-line-crossed.json": Message(
        "RuleEngine/CellMotionDetector/LineCross",
        "tns1:RuleEngine/CellMotionDetector/LineCross",
        {**_TAPO, "Rule": "MyLineCrossDetectorRule"},
        utc(2025, 1, 3, 21, 5, 14),
        CHANGED,
        (Want(K.LINE_CROSSING, True, {"IsLineCross": "true"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tamper.json": Message(
        "RuleEngine/CellMotionDetector/Tamper",
        "tns1:RuleEngine/CellMotionDetector/Tamper",
        {**_TAPO, "Rule": "MyTamperDetectorRule"},
        utc(2025, 1, 5, 21, 1, 5),
        CHANGED,
        (Want(K.TAMPER, True, {"IsTamper": "true"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tpsmartevent-pet.json": Message(
        _SMART,
        f"tns1:{_SMART}",
        {**_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        utc(2025, 1, 22, 13, 24, 57),
        CHANGED,
        (Want(K.ANIMAL, True, {"IsPet": "true", "object": "pet"}),),
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tpsmartevent-vehicle.json": Message(
        _SMART,
        f"tns1:{_SMART}",
        {**_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        utc(2024, 11, 2, 0, 33, 11),
        CHANGED,
        (Want(K.VEHICLE, True, {"IsVehicle": "true", "object": "vehicle"}),),
    ),
    "events/unknown_unknown_NotificationMessage-line-detector-crossed.json": Message(
        "RuleEngine/LineDetector/Crossed",
        "tns1:RuleEngine/LineDetector/Crossed",
        {
            "VideoSourceConfigurationToken": "video_source_config1",
            "VideoAnalyticsConfigurationToken": "analytics_video_source",
            "Rule": "MyLineDetectorRule",
        },
        utc(2020, 5, 24, 7, 24, 47),
        INITIALIZED,
        (Want(K.LINE_CROSSING, None, {"ObjectId": "0"}),),
    ),
    # --- Axis RTSP metadata track -------------------------------------------------------
    "events/axis_unknown_MetadataStream-daynight-init.xml": Message(
        "VideoSource/DayNightVision",
        "tns1:VideoSource/tnsaxis:DayNightVision",
        {"VideoSourceConfigurationToken": "1"},
        datetime(2019, 2, 6, 18, 58, 51, 7104, tzinfo=UTC),
        INITIALIZED,
        (Want(K.DAY_NIGHT, None, {"day": "1", "mode": "day"}),),
    ),
    "events/axis_unknown_MetadataStream-object-analytics-any-change.xml": Message(
        "CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
        "tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
        {},
        datetime(2024, 10, 7, 21, 9, 26, 46851, tzinfo=UTC),
        CHANGED,
        (
            Want(
                K.PERSON,
                True,
                {"classTypes": "human", "active": "1", "objectId": "234232", "object": "human"},
            ),
        ),
    ),
    "events/axis_unknown_MetadataStream-pir-change.xml": Message(
        "Device/Sensor/PIR",
        "tns1:Device/tnsaxis:Sensor/PIR",
        {"sensor": "0"},
        datetime(2019, 3, 12, 23, 48, 28, 425164, tzinfo=UTC),
        CHANGED,
        (Want(K.MOTION, True, {"state": "1", "sensor_type": "pir"}),),
    ),
    "events/axis_unknown_MetadataStream-port-any-init.xml": Message(
        "Device/IO/Port",
        "tns1:Device/tnsaxis:IO/Port",
        {"port": "-1"},
        datetime(2019, 4, 19, 9, 46, 27, 878886, tzinfo=UTC),
        INITIALIZED,
        (Want(K.DIGITAL_INPUT, False, {"state": "0"}),),
    ),
    "events/axis_unknown_MetadataStream-ptz-move-start.xml": Message(
        "PTZController/Move/Channel_1",
        "tns1:PTZController/tnsaxis:Move/Channel_1",
        {"PTZConfigurationToken": "1"},
        datetime(2020, 11, 3, 20, 4, 53, 5004, tzinfo=UTC),
        CHANGED,
        (Want(K.PTZ, True, {"is_moving": "1"}),),
    ),
    "events/axis_unknown_MetadataStream-rule-engine-region-detector-init.xml": Message(
        "RuleEngine/MotionRegionDetector/Motion",
        "tns1:RuleEngine/MotionRegionDetector/Motion",
        {"VideoSource": "0", "RuleName": "Profile 1V"},
        datetime(2021, 1, 6, 17, 46, 45, 115382, tzinfo=UTC),
        INITIALIZED,
        (Want(K.MOTION, False, {"State": "0"}),),
    ),
    "events/axis_unknown_MetadataStream-storage-alert-init.xml": Message(
        "Storage/Alert",
        "tnsaxis:Storage/Alert",
        {"disk_id": "NetworkShare"},
        datetime(2020, 6, 2, 20, 35, 42, 477710, tzinfo=UTC),
        INITIALIZED,
        (
            Want(
                K.STORAGE_FAILURE,
                False,
                {"overall_health": "-3", "alert": "0", "wear": "-3", "temperature": "-3"},
            ),
        ),
    ),
    # --- PullMessages answers -----------------------------------------------------------
    "events/hikvision_DS-2CD2012-I_PullMessages.xml": Pulled(),
    "events/hikvision_DS-2DF7276-AEL_PullMessages.xml": Pulled(),
    "events/unknown_unknown_PullMessages-body-only.xml": Pulled(
        (
            Message(
                "RuleEngine/CellMotionDetector/Motion",
                "tns1:RuleEngine/CellMotionDetector/Motion",
                {
                    "VideoSourceConfigurationToken": "00000",
                    "VideoAnalyticsConfigurationToken": "00000",
                    "Rule": "00000",
                },
                utc(2023, 9, 28, 16, 1, 15),
                INITIALIZED,
                (Want(K.MOTION, False, {"IsMotion": "false"}),),
            ),
        )
    ),
    # --- topic sets ---------------------------------------------------------------------
    "events/axis_Q6045-E_GetEventProperties.xml": TopicSet(
        {
            "tns1:Device/tnsaxis:IO/VirtualInput": frozenset({K.DIGITAL_INPUT}),
            "tns1:Device/tnsaxis:HardwareFailure/StorageFailure": frozenset({K.STORAGE_FAILURE}),
            "tnsaxis:Storage/Disruption": frozenset({K.STORAGE_FAILURE}),
            "tns1:PTZController/tnsaxis:Move/Channel_1": frozenset({K.PTZ}),
            "tns1:VideoAnalytics/tnsaxis:MotionDetection": frozenset({K.MOTION}),
            "tns1:Device/tnsaxis:Casing/Open": frozenset({K.TAMPER}),
            "tnsaxis:Storage/Recording": frozenset({K.OTHER}),
        },
        frozenset({K.DIGITAL_INPUT, K.STORAGE_FAILURE, K.PTZ, K.MOTION, K.TAMPER}),
    ),
    "events/generic-gsoap_PREDATOR-mockup_GetEventProperties.xml": TopicSet(
        {
            "tns1:Device/Trigger/DigitalInput": frozenset({K.DIGITAL_INPUT}),
            "tns1:VideoSource/MotionAlarm": frozenset({K.MOTION}),
            "tns1:Device/tnsaxis:IO/Port": frozenset({K.DIGITAL_INPUT}),
            "tns1:VideoAnalytics/tnsaxis:MotionDetection": frozenset({K.MOTION}),
        },
        frozenset({K.DIGITAL_INPUT, K.MOTION}),
    ),
    "events/hikvision_DS-2CD2012-I_GetEventProperties.xml": TopicSet(
        {
            "tns1:VideoSource/MotionAlarm": frozenset({K.MOTION}),
            "tns1:Device/HardwareFailure/tnshik:HardDiskFull": frozenset({K.STORAGE_FAILURE}),
            "tns1:RuleEngine/CellMotionDetector/Motion": frozenset({K.MOTION}),
            "tns1:RuleEngine/LineDetector/Crossed": frozenset({K.LINE_CROSSING}),
            "tns1:RuleEngine/FieldDetector/ObjectsInside": frozenset({K.INTRUSION}),
            "tns1:RuleEngine/TamperDetector/Tamper": frozenset({K.TAMPER}),
            "tns1:Configuration/Profile": frozenset({K.OTHER}),
        },
        frozenset({K.MOTION, K.STORAGE_FAILURE, K.LINE_CROSSING, K.INTRUSION, K.TAMPER}),
    ),
    "events/hikvision_DS-2DF7276-AEL_GetEventProperties.xml": TopicSet(
        {
            "tns1:VideoSource/SignalLoss": frozenset({K.VIDEO_LOSS}),
            "tns1:VideoSource/tnshik:SignalStandardMismatch": frozenset({K.VIDEO_LOSS}),
            "tns1:Device/Trigger/tnshik:AlarmIn": frozenset({K.DIGITAL_INPUT}),
            "tns1:Device/Trigger/DigitalInput": frozenset({K.DIGITAL_INPUT}),
            "tns1:Device/Trigger/Relay": frozenset({K.RELAY}),
            "tns1:Device/HardwareFailure/tnshik:HardDiskUnformat": frozenset({K.STORAGE_FAILURE}),
        },
        frozenset({K.VIDEO_LOSS, K.MOTION, K.TAMPER, K.DIGITAL_INPUT, K.RELAY, K.STORAGE_FAILURE}),
    ),
    "events/axis_unknown_vapix-GetEventInstances.xml": TopicSet(
        {
            "tns1:RuleEngine/MotionRegionDetector/Motion": frozenset({K.MOTION}),
            "tns1:VideoSource/tnsaxis:Tampering": frozenset({K.TAMPER}),
            "tns1:Device/tnsaxis:Sensor/PIR": frozenset({K.MOTION}),
            "tns1:Device/tnsaxis:Network/Lost": frozenset({K.OTHER}),
            "tnsaxis:Storage/Disruption": frozenset({K.STORAGE_FAILURE}),
            "tns1:AudioSource/tnsaxis:TriggerLevel": frozenset({K.SOUND}),
            "tns1:VideoSource/tnsaxis:DayNightVision": frozenset({K.DAY_NIGHT}),
            "tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1": frozenset({K.MOTION}),
            "tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY": frozenset({K.MOTION}),
            "tns1:PTZController/tnsaxis:PTZPresets/Channel_2": frozenset({K.PTZ}),
        },
        frozenset(
            {
                K.MOTION,
                K.TAMPER,
                K.DAY_NIGHT,
                K.STORAGE_FAILURE,
                K.DIGITAL_INPUT,
                K.PTZ,
                K.SOUND,
            }
        ),
    ),
}


def cases_of(kind: type[Case]) -> list[str]:
    return [path for path, case in CASES.items() if isinstance(case, kind)]


def assert_events(events: tuple[Event, ...], expected: Message, *, payload_root: str) -> None:
    assert [(e.kind, e.state, e.data) for e in events] == [
        (w.kind, w.state, w.data) for w in expected.wants
    ]
    for event in events:
        assert event.camera_id == CAMERA
        assert event.topic == expected.topic
        assert event.raw_topic == expected.raw_topic
        assert event.source == expected.source
        assert event.time == expected.time
        assert event.property_operation is expected.operation
        assert event.payload_xml is not None
        assert event.payload_xml.startswith(payload_root)
        assert expected.raw_topic in event.payload_xml


def _message_cases() -> list[str]:
    return [p for p in cases_of(Message) if p.endswith(".json")]


def _metadata_cases() -> list[str]:
    return [p for p in cases_of(Message) if "MetadataStream" in p]


@pytest.mark.parametrize("path", _message_cases(), ids=ids(_message_cases()))
def test_notification_log_normalized(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Message)
    document = parse_xml(notification_xml(json.loads((CORPUS / path).read_text())))
    events = normalize_element(document, camera_id=CAMERA, received=RECEIVED)
    assert_events(events, expected, payload_root="<wsnt:NotificationMessage")


@pytest.mark.parametrize("path", _metadata_cases(), ids=ids(_metadata_cases()))
def test_metadata_stream_events_normalized(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Message)
    block = child(parse_xml((CORPUS / path).read_bytes()), "Event")
    assert block is not None
    batch = read_notifications(block, camera_id=CAMERA, received=RECEIVED)
    assert batch.malformed == ()
    assert_events(batch.events, expected, payload_root="<wsnt:NotificationMessage")


@pytest.mark.parametrize("path", cases_of(Pulled), ids=ids(cases_of(Pulled)))
def test_pull_messages_normalized(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Pulled)
    answer = payload(path)
    batch = read_notifications(answer, camera_id=CAMERA, received=RECEIVED)
    parsed = ops.parse_pull_messages(answer)
    assert batch.malformed == ()
    assert (batch.current_time, batch.termination_time) == (
        parsed.current_time,
        parsed.termination_time,
    )
    wanted = [w for message in expected.messages for w in message.wants]
    assert len(batch.events) == len(wanted)
    start = 0
    for message in expected.messages:
        chunk = batch.events[start : start + len(message.wants)]
        assert_events(chunk, message, payload_root="<wsnt:NotificationMessage")
        start += len(message.wants)


def _topic_paths(path: str) -> list[str]:
    if "vapix" in path:
        topic_set = child(payload(path), "TopicSet")
        assert topic_set is not None
        found: dict[str, etree._Element] = {}
        _vapix_topics(topic_set, (), found)
        return list(found)
    properties = ops.parse_get_event_properties(payload(path))
    return [t.topic_path for t in properties.topics if t.described]


@pytest.mark.parametrize("path", cases_of(TopicSet), ids=ids(cases_of(TopicSet)))
def test_topic_set_kinds(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, TopicSet)
    registry = default_registry()
    paths = _topic_paths(path)
    for topic, kinds in expected.kinds.items():
        assert topic in paths
        assert registry.kinds_for(topic) == kinds, topic
    sensors = frozenset().union(*(registry.kinds_for(p) for p in paths)) - {K.OTHER}
    assert sensors == expected.sensors
