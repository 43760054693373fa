"""Event captures: tev/wsnt answers, RTSP metadata streams, users' notification logs, VAPIX.

Every file in ``tests/corpus/events/`` has a case here. SOAP answers go through
the service parsers, metadata-stream payloads through ``parse_metadata_stream``.
The ``.json`` files are zeep-serialised NotificationMessage dicts that Home
Assistant users copied from their logs: :func:`notification_xml` turns each back
into the ``wsnt:NotificationMessage`` a camera sends, which our parser then
reads. Every parsed model is also written back and read again (the reference
device answers with the same types).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import pytest
from lxml import etree

from platonicam.onvif.models.events import (
    CONCRETE_DIALECT,
    CONCRETE_SET_DIALECT,
    SIMPLE_DIALECT,
    EventServiceCapabilities,
    ItemDescription,
    OnvifEvent,
    PropertyOperation,
)
from platonicam.onvif.notification import parse_metadata_stream, parse_notification_message
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.namespaces import TNS1, TT, WSA, WSNT, local_name, qn
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import attr, child, children, text
from tests.corpus import CORPUS, all_capture_paths, ids, payload

# ---------------------------------------------------------------------- expected values


@dataclass(frozen=True, slots=True)
class Event:
    """The values one notification must parse to."""

    topic_path: str
    source: dict[str, str]
    data: dict[str, str]
    utc_time: datetime | None
    operation: PropertyOperation | None
    dialect: str | None = CONCRETE_SET_DIALECT
    producer: str | None = None
    subscription: str | None = None
    key: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return "/".join(part.rpartition(":")[2] for part in self.topic_path.split("/"))


@dataclass(frozen=True, slots=True)
class Metadata:
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic-set entry: path, IsProperty, and (section, name, type, element?) items."""

    path: str
    is_property: bool | None
    items: tuple[tuple[str, str, str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Properties:
    paths: tuple[str, ...]
    fixed: bool
    namespace_locations: tuple[str, ...]
    schema_locations: tuple[str, ...]
    checked: tuple[Topic, ...]
    undescribed: int = 0


@dataclass(frozen=True, slots=True)
class Subscription:
    address: str
    current: datetime
    termination: datetime
    reference_parameters: tuple[tuple[str, str], ...] = ()  # (Clark tag, text)


@dataclass(frozen=True, slots=True)
class Pulled:
    current: datetime
    termination: datetime
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Capabilities:
    value: EventServiceCapabilities


@dataclass(frozen=True, slots=True)
class Empty:
    """An answer with no content (SetSynchronizationPoint)."""

    operation: str


@dataclass(frozen=True, slots=True)
class VapixTopic:
    path: str
    nice_name: str | None
    source: tuple[tuple[str, str, tuple[str, ...]], ...]
    data: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Vapix:
    count: int
    checked: tuple[VapixTopic, ...]


Case = Event | Metadata | Properties | Subscription | Pulled | Capabilities | Empty | Vapix


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


INITIALIZED, CHANGED = PropertyOperation.INITIALIZED, PropertyOperation.CHANGED
_RULE_SOURCE_TAPO = {
    "VideoSourceConfigurationToken": "vsconf",
    "VideoAnalyticsConfigurationToken": "VideoAnalyticsToken",
}
_TAPO_PRODUCER = "http://CAMERA_LOCAL_IP:5656/event"
_TAPO_SUBSCRIPTION = "http://CAMERA_LOCAL_IP:2020/event-0_2020"
_CONCRETE_DIALECTS = (CONCRETE_SET_DIALECT, CONCRETE_DIALECT)
_TOPICNS = ("http://www.onvif.org/onvif/ver10/topics/topicns.xml",)
_ONVIF_XSD = ("http://www.onvif.org/onvif/ver10/schema/onvif.xsd",)
_RULE_ITEMS = (
    ("Source", "VideoSourceConfigurationToken", "tt:ReferenceToken", False),
    ("Source", "VideoAnalyticsConfigurationToken", "tt:ReferenceToken", False),
    ("Source", "Rule", "xs:string", False),
)
_HIK_COMMON_PATHS = (
    "tns1:RecordingConfig",
    "tns1:RecordingConfig/JobState",
    "tns1:RecordingConfig/RecordingJobConfiguration",
    "tns1:RecordingConfig/RecordingConfiguration",
    "tns1:RecordingConfig/TrackConfiguration",
)
_HIK_CAPABILITIES = Capabilities(
    EventServiceCapabilities(
        ws_subscription_policy_support=True,
        ws_pull_point_support=True,
        ws_pausable_subscription_manager_interface_support=False,
        max_notification_producers=10,
        max_pull_points=10,
    )
)
_AXIS_SIMPLE = SIMPLE_DIALECT

CASES: Final[dict[str, Case]] = {
    # --- zeep-serialised notifications from users' logs -----------------------------
    "events/ajax_unknown_NotificationMessage-ajax-human-animal.json": Event(
        "tns1:RuleEngine/ObjectDetection/Object",
        {"VideoSourceToken": "9c756e1c82d0-0", "Rule": "9c756e1c82d0-0-dk2t3b"},
        {"ClassTypes": "Human Animal"},
        utc(2026, 3, 8, 16, 19, 5),
        CHANGED,
    ),
    "events/ajax_unknown_NotificationMessage-ajax-human-vehicle.json": Event(
        "tns1:RuleEngine/ObjectDetection/Object",
        {"VideoSourceToken": "9c756e1c82d0-0", "Rule": "9c756e1c82d0-0-dk2t3b"},
        {"ClassTypes": "Human Vehicle"},
        utc(2026, 3, 8, 16, 23, 1),
        CHANGED,
    ),
    # The data is an ElementItem only (a line's points), so no SimpleItem data.
    "events/ajax_unknown_NotificationMessage-ajax-line-crossing.json": Event(
        "tns1:RuleEngine/tnsajax:LineDetector/Crossing",
        {"VideoSourceToken": "9c756e1c82d0-0", "Rule": "9c756e1c82d0-0-dk2t3c"},
        {},
        utc(2026, 3, 8, 16, 23, 29),
        None,
    ),
    # Trimmed by its reporter: no dialect, no time, no property operation.
    "events/ajax_unknown_NotificationMessage-ajax-object-detector-cleared.json": Event(
        "tns1:RuleEngine/ObjectDetection/Object",
        {"VideoSourceToken": "vsconf", "Rule": "AjaxObjectRule"},
        {"ClassTypes": ""},
        None,
        None,
        dialect=None,
    ),
    "events/hikvision_unknown_NotificationMessage-hikvision-alarm.json": Event(
        "tns1:Device/Trigger/tnshik:AlarmIn",
        {"AlarmInToken": "AlarmIn_1"},
        {"State": "true"},
        utc(2025, 3, 13, 22, 57, 26),
        INITIALIZED,
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-cellmotiondetector-person.json": Event(
        "tns1:RuleEngine/CellMotionDetector/People",
        {**_RULE_SOURCE_TAPO, "Rule": "MyPeopleDetectorRule"},
        {"IsPeople": "true"},
        utc(2025, 1, 3, 20, 9, 22),
        CHANGED,
        producer="http://192.168.56.63:5656/event",
        subscription="http://192.168.56.63:2020/event-0_2020",
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-cellmotiondetector-vehicle.json": Event(
        "tns1:RuleEngine/CellMotionDetector/TpSmartEvent",
        {**_RULE_SOURCE_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        {"IsVehicle": "true"},
        utc(2025, 1, 5, 14, 2, 9),
        CHANGED,
        producer=_TAPO_PRODUCER,
        subscription=_TAPO_SUBSCRIPTION,
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-line-crossed.json": Event(
        "tns1:RuleEngine/CellMotionDetector/LineCross",
        {**_RULE_SOURCE_TAPO, "Rule": "MyLineCrossDetectorRule"},
        {"IsLineCross": "true"},
        utc(2025, 1, 3, 21, 5, 14),
        CHANGED,
        producer=_TAPO_PRODUCER,
        subscription=_TAPO_SUBSCRIPTION,
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tamper.json": Event(
        "tns1:RuleEngine/CellMotionDetector/Tamper",
        {**_RULE_SOURCE_TAPO, "Rule": "MyTamperDetectorRule"},
        {"IsTamper": "true"},
        utc(2025, 1, 5, 21, 1, 5),
        CHANGED,
        producer=_TAPO_PRODUCER,
        subscription=_TAPO_SUBSCRIPTION,
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tpsmartevent-pet.json": Event(
        "tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent",
        {**_RULE_SOURCE_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        {"IsPet": "true"},
        utc(2025, 1, 22, 13, 24, 57),
        CHANGED,
        producer="http://192.168.56.63:5656/event",
        subscription="http://192.168.56.63:2020/event-0_2020",
    ),
    "events/tp-link-tapo_unknown_NotificationMessage-tapo-tpsmartevent-vehicle.json": Event(
        "tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent",
        {**_RULE_SOURCE_TAPO, "Rule": "MyTPSmartEventDetectorRule"},
        {"IsVehicle": "true"},
        utc(2024, 11, 2, 0, 33, 11),
        CHANGED,
        producer="http://192.168.56.127:5656/event",
        subscription="http://192.168.56.127:2020/event-0_2020",
    ),
    # The reporter masked the producer's host; the subscription address is null.
    "events/unknown_unknown_NotificationMessage-line-detector-crossed.json": Event(
        "tns1:RuleEngine/LineDetector/Crossed",
        {
            "VideoSourceConfigurationToken": "video_source_config1",
            "VideoAnalyticsConfigurationToken": "analytics_video_source",
            "Rule": "MyLineDetectorRule",
        },
        {"ObjectId": "0"},
        utc(2020, 5, 24, 7, 24, 47),
        INITIALIZED,
        producer="xx.xx.xx.xx/onvif/event/alarm",
    ),
    # --- Axis RTSP metadata track ---------------------------------------------------
    "events/axis_unknown_MetadataStream-daynight-init.xml": Metadata(
        (
            Event(
                "tns1:VideoSource/tnsaxis:DayNightVision",
                {"VideoSourceConfigurationToken": "1"},
                {"day": "1"},
                datetime(2019, 2, 6, 18, 58, 51, 7104, tzinfo=UTC),
                INITIALIZED,
                dialect=_AXIS_SIMPLE,
                producer="uri://1c8ae81b-3b00-46cf-bf76-79cc3fa533dc/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-object-analytics-any-change.xml": Metadata(
        (
            Event(
                "tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
                {},
                {"classTypes": "human", "active": "1", "objectId": "234232"},
                datetime(2024, 10, 7, 21, 9, 26, 46851, tzinfo=UTC),
                CHANGED,
                dialect=_AXIS_SIMPLE,
                producer="uri://cfbf96f2-9dc7-437f-aa12-155aacbb0b8f/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-pir-change.xml": Metadata(
        (
            Event(
                "tns1:Device/tnsaxis:Sensor/PIR",
                {"sensor": "0"},
                {"state": "1"},
                datetime(2019, 3, 12, 23, 48, 28, 425164, tzinfo=UTC),
                CHANGED,
                dialect=_AXIS_SIMPLE,
                producer="uri://94fbe18e-0af8-40d2-8539-67b6ea550c6e/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-port-any-init.xml": Metadata(
        (
            Event(
                "tns1:Device/tnsaxis:IO/Port",
                {"port": "-1"},
                {"state": "0"},
                datetime(2019, 4, 19, 9, 46, 27, 878886, tzinfo=UTC),
                INITIALIZED,
                dialect=_AXIS_SIMPLE,
                producer="uri://4205c5dc-6132-44ad-9aa5-52172e062d2b/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-ptz-move-start.xml": Metadata(
        (
            Event(
                "tns1:PTZController/tnsaxis:Move/Channel_1",
                {"PTZConfigurationToken": "1"},
                {"is_moving": "1"},
                datetime(2020, 11, 3, 20, 4, 53, 5004, tzinfo=UTC),
                CHANGED,
                dialect=_AXIS_SIMPLE,
                producer="uri://bf32a3b9-e5e7-4d57-a48d-1b5be9ae7b16/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-rule-engine-region-detector-init.xml": Metadata(
        (
            Event(
                "tns1:RuleEngine/MotionRegionDetector/Motion",
                {"VideoSource": "0", "RuleName": "Profile 1V"},
                {"State": "0"},
                datetime(2021, 1, 6, 17, 46, 45, 115382, tzinfo=UTC),
                INITIALIZED,
                dialect=_AXIS_SIMPLE,
                producer="uri://755cc9bb-cf3a-410b-bd1b-0ec97c6d6256/ProducerReference",
            ),
        )
    ),
    "events/axis_unknown_MetadataStream-storage-alert-init.xml": Metadata(
        (
            Event(
                "tnsaxis:Storage/Alert",
                {"disk_id": "NetworkShare"},
                {"overall_health": "-3", "alert": "0", "wear": "-3", "temperature": "-3"},
                datetime(2020, 6, 2, 20, 35, 42, 477710, tzinfo=UTC),
                INITIALIZED,
                dialect=_AXIS_SIMPLE,
                producer="uri://755cc9bb-cf3a-410b-bd1b-0ec97c6d6256/ProducerReference",
            ),
        )
    ),
    # --- Axis VAPIX (not ONVIF) ------------------------------------------------------
    "events/axis_unknown_vapix-GetEventInstances.xml": Vapix(
        44,
        (
            VapixTopic(
                "tns1:RuleEngine/MotionRegionDetector/Motion",
                None,
                (
                    ("RuleName", "xsd:string", ("VMD 4 ACAP 2", "VMD 4 ACAP")),
                    ("VideoSource", "tt:ReferenceToken", ("0",)),
                ),
                (("State", "xsd:boolean"),),
            ),
            VapixTopic(
                "tns1:VideoSource/tnsaxis:Tampering",
                "Camera tampering",
                (("channel", "xsd:int", ("1",)),),
                (("tampering", "xsd:int"),),
            ),
            VapixTopic(
                "tns1:Device/tnsaxis:Network/Lost",
                "Network lost",
                (("interface", "xsd:string", ("Any", "eth0", "eth1")),),
                (("lost", "xsd:boolean"),),
            ),
            VapixTopic(
                "tnsaxis:Storage/Disruption",
                "Storage disruption",
                (("disk_id", "xsd:string", ("SD_DISK", "NetworkShare")),),
                (("disruption", "xsd:boolean"),),
            ),
            VapixTopic(
                "tns1:AudioSource/tnsaxis:TriggerLevel",
                "Audio detection",
                (("channel", "xsd:int", ("1",)),),
                (("triggered", "xsd:boolean"),),
            ),
        ),
    ),
    # --- GetEventProperties ----------------------------------------------------------
    "events/axis_Q6045-E_GetEventProperties.xml": Properties(
        paths=(
            "tns1:Device/tnsaxis:IO/VirtualInput",
            "tns1:Device/tnsaxis:IO/VirtualPort",
            "tns1:Device/tnsaxis:HardwareFailure/StorageFailure",
            "tns1:Device/tnsaxis:HardwareFailure/FanFailure",
            "tns1:Device/tnsaxis:SystemMessage/ActionFailed",
            "tns1:Device/tnsaxis:Status/SystemReady",
            "tns1:Device/tnsaxis:Status/Temperature/Above",
            "tns1:Device/tnsaxis:Status/Temperature/Below",
            "tns1:Device/tnsaxis:Status/Temperature/Inside",
            "tns1:Device/tnsaxis:Status/Temperature/Above_or_below",
            "tns1:Device/tnsaxis:Casing/Open",
            "tns1:Device/tnsaxis:Network/Lost",
            "tnsaxis:Storage/Recording",
            "tnsaxis:Storage/Disruption",
            "tns1:Events/tnsaxis:EventRegistrationsChanged",
            "tns1:VideoSource/tnsaxis:LiveStreamAccessed",
            "tns1:VideoSource/tnsaxis:PTZ/EnterExit",
            "tns1:PTZController/tnsaxis:PTZError",
            "tns1:PTZController/tnsaxis:PTZReady",
            "tns1:PTZController/tnsaxis:AutoTracking",
            "tns1:PTZController/tnsaxis:Move/Channel_1",
            "tns1:PTZController/tnsaxis:PTZPresets/Channel_1",
            "tns1:PTZController/tnsaxis:ControlQueue",
            "tns1:UserAlarm/tnsaxis:Recurring/Interval",
            "tns1:VideoAnalytics/tnsaxis:MotionDetection",
        ),
        fixed=False,
        namespace_locations=_TOPICNS,
        schema_locations=("http://www.onvif.org/ver10/schema/onvif.xsd",),
        checked=(
            Topic(
                "tns1:Device/tnsaxis:IO/VirtualInput",
                True,
                (("Source", "port", "xsd:int", False), ("Data", "active", "xsd:boolean", False)),
            ),
            Topic(
                "tns1:Device/tnsaxis:SystemMessage/ActionFailed",
                None,
                (("Data", "description", "xsd:string", False),),
            ),
            Topic(
                "tnsaxis:Storage/Recording", True, (("Data", "recording", "xsd:boolean", False),)
            ),
            Topic(
                "tns1:PTZController/tnsaxis:Move/Channel_1",
                True,
                (
                    ("Source", "PTZConfigurationToken", "xsd:int", False),
                    ("Data", "is_moving", "xsd:boolean", False),
                ),
            ),
        ),
    ),
    "events/generic-gsoap_PREDATOR-mockup_GetEventProperties.xml": Properties(
        paths=(
            "tns1:Device/Trigger/DigitalInput",
            "tns1:VideoSource/MotionAlarm",
            "tns1:Device/tnsaxis:IO/Port",
            "tns1:VideoAnalytics/tnsaxis:MotionDetection",
        ),
        fixed=True,
        namespace_locations=(*_TOPICNS, "http://www.axis.com/2009/event/topics"),
        schema_locations=_ONVIF_XSD,
        checked=(
            Topic(
                "tns1:Device/Trigger/DigitalInput",
                True,
                (
                    ("Source", "InputToken", "tt:ReferenceToken", False),
                    ("Data", "LogicalState", "xsd:boolean", False),
                ),
            ),
            Topic(
                "tns1:VideoAnalytics/tnsaxis:MotionDetection",
                True,
                (("Source", "window", "xsd:int", False), ("Data", "motion", "xsd:boolean", False)),
            ),
        ),
    ),
    "events/hikvision_DS-2CD2012-I_GetEventProperties.xml": Properties(
        paths=(
            "tns1:VideoSource",
            "tns1:VideoSource/MotionAlarm",
            "tns1:Device",
            "tns1:Device/HardwareFailure",
            "tns1:Device/HardwareFailure/tnshik:HardDiskFull",
            "tns1:Device/HardwareFailure/tnshik:HardDiskError",
            "tns1:Device/tnshik:Network",
            "tns1:Device/tnshik:Network/tnshik:EthernetBroken",
            "tns1:Device/tnshik:Network/tnshik:IPAddrConflict",
            "tns1:UserAlarm",
            "tns1:UserAlarm/tnshik:IllegalAccess",
            "tns1:RuleEngine",
            "tns1:RuleEngine/CellMotionDetector",
            "tns1:RuleEngine/CellMotionDetector/Motion",
            "tns1:RuleEngine/LineDetector",
            "tns1:RuleEngine/LineDetector/Crossed",
            "tns1:RuleEngine/FieldDetector",
            "tns1:RuleEngine/FieldDetector/ObjectsInside",
            "tns1:RuleEngine/TamperDetector",
            "tns1:RuleEngine/TamperDetector/Tamper",
            "tns1:Configuration",
            "tns1:Configuration/Profile",
            "tns1:Configuration/VideoEncoderConfiguration",
            "tns1:Configuration/VideoSourceConfiguration",
            "tns1:Configuration/VideoSourceConfiguration/MediaService",
            "tns1:Configuration/AudioEncoderConfiguration",
            "tns1:Configuration/AudioSourceConfiguration",
            "tns1:Configuration/AudioSourceConfiguration/MediaService",
            "tns1:Configuration/AudioOutputConfiguration",
            "tns1:Configuration/AudioOutputConfiguration/MediaService",
            "tns1:Configuration/MetadataConfiguration",
            "tns1:Configuration/PTZConfiguration",
            "tns1:Configuration/VideoAnalyticsConfiguration",
            *_HIK_COMMON_PATHS,
        ),
        fixed=True,
        namespace_locations=_TOPICNS,
        schema_locations=_ONVIF_XSD,
        undescribed=18,
        checked=(
            Topic("tns1:RuleEngine", None),
            Topic(
                "tns1:Device/HardwareFailure/tnshik:HardDiskFull",
                False,
                (("Source", "HardDiskNo", "xs:int", False),),
            ),
            Topic(
                "tns1:RuleEngine/FieldDetector/ObjectsInside",
                True,
                (
                    *_RULE_ITEMS,
                    ("Key", "ObjectId", "xs:integer", False),
                    ("Data", "IsInside", "xs:boolean", False),
                ),
            ),
            Topic(
                "tns1:Configuration/Profile",
                False,
                (
                    ("Source", "Token", "tt:ReferenceToken", False),
                    ("Data", "Configuration", "tt:Profile", True),
                ),
            ),
        ),
    ),
    "events/hikvision_DS-2DF7276-AEL_GetEventProperties.xml": Properties(
        paths=(
            "tns1:MediaControl",
            "tns1:MediaControl/VideoSourceConfiguration",
            "tns1:MediaControl/VideoEncoderConfiguration",
            "tns1:VideoSource",
            "tns1:VideoSource/SignalLoss",
            "tns1:VideoSource/MotionAlarm",
            "tns1:VideoSource/tnshik:SignalStandardMismatch",
            "tns1:RuleEngine",
            "tns1:RuleEngine/CellMotionDetector",
            "tns1:RuleEngine/CellMotionDetector/Motion",
            "tns1:RuleEngine/TamperDetector",
            "tns1:RuleEngine/TamperDetector/Tamper",
            *_HIK_COMMON_PATHS,
            "tns1:Device",
            "tns1:Device/Trigger",
            "tns1:Device/Trigger/tnshik:AlarmIn",
            "tns1:Device/Trigger/DigitalInput",
            "tns1:Device/Trigger/Relay",
            "tns1:Device/HardwareFailure",
            "tns1:Device/HardwareFailure/tnshik:HardDiskFull",
            "tns1:Device/HardwareFailure/tnshik:HardDiskUnformat",
            "tns1:Device/HardwareFailure/tnshik:HardDiskError",
            "tns1:Device/tnshik:Network",
            "tns1:Device/tnshik:Network/tnshik:EthernetBroken",
            "tns1:Device/tnshik:Network/tnshik:IPAddrConflict",
            "tns1:UserAlarm",
            "tns1:UserAlarm/tnshik:IllegalAccess",
        ),
        fixed=True,
        namespace_locations=_TOPICNS,
        schema_locations=_ONVIF_XSD,
        undescribed=14,
        checked=(
            Topic(
                "tns1:Device/Trigger/tnshik:AlarmIn",
                True,
                (
                    ("Source", "AlarmInToken", "tt:ReferenceToken", False),
                    ("Data", "State", "xs:boolean", False),
                ),
            ),
            Topic(
                "tns1:RuleEngine/CellMotionDetector/Motion",
                True,
                (*_RULE_ITEMS, ("Data", "IsMotion", "xs:boolean", False)),
            ),
            Topic(
                "tns1:RecordingConfig/JobState",
                True,
                (
                    ("Source", "RecordingJobToken", "tt:RecordingJobReference", False),
                    ("Data", "State", "xs:string", False),
                    ("Data", "Information", "tt:RecordingJobStateInformation", True),
                ),
            ),
        ),
    ),
    # --- CreatePullPointSubscription -------------------------------------------------
    "events/hikvision_DS-2CD2012-I_CreatePullPointSubscription.xml": Subscription(
        "http://10.10.1.65/onvif/Events/PullSubManager_2018-02-27T18:34:42Z_1",
        utc(2018, 2, 27, 18, 34, 42),
        utc(2018, 2, 27, 18, 35, 42),
    ),
    "events/hikvision_DS-2DF7276-AEL_CreatePullPointSubscription.xml": Subscription(
        "http://10.10.1.60/onvif/Events/PullSubManager_2018-02-27T18:28:52Z_5",
        utc(2018, 2, 27, 18, 28, 52),
        utc(2018, 2, 27, 18, 29, 52),
    ),
    # Pelco identifies the subscription by a reference parameter (kept verbatim,
    # trailing white space included) as well as by the address's query.
    "events/pelco_D6230L_CreatePullPointSubscription.xml": Subscription(
        "http://10.10.1.66/onvif/eventing_service?id=urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83",
        datetime(2018, 2, 27, 18, 27, 56, 67761, tzinfo=UTC),
        datetime(2018, 2, 27, 18, 29, 26, 67761, tzinfo=UTC),
        (
            (
                "{urn:schemas-pelco-com:ws:addressing:1}SubscriptionId",
                "urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83\n          ",
            ),
        ),
    ),
    "events/trendnet_TV-IP320PI_CreatePullPointSubscription.xml": Subscription(
        "http://10.10.1.67/onvif/Events/PullSubManager_2018-02-27T18:36:53Z_0",
        utc(2018, 2, 27, 18, 36, 53),
        utc(2018, 2, 27, 18, 37, 53),
    ),
    # --- PullMessages ----------------------------------------------------------------
    "events/hikvision_DS-2CD2012-I_PullMessages.xml": Pulled(
        utc(2018, 2, 27, 18, 35, 42), utc(2018, 2, 27, 18, 45, 42)
    ),
    "events/hikvision_DS-2DF7276-AEL_PullMessages.xml": Pulled(
        utc(2018, 2, 27, 14, 53, 23), utc(2018, 2, 27, 15, 3, 23)
    ),
    # Every value (times, topic) padded with newlines and indentation.
    "events/unknown_unknown_PullMessages-body-only.xml": Pulled(
        utc(2023, 9, 28, 16, 1, 15),
        utc(2023, 9, 28, 16, 11, 15),
        (
            Event(
                "tns1:RuleEngine/CellMotionDetector/Motion",
                {
                    "VideoSourceConfigurationToken": "00000",
                    "VideoAnalyticsConfigurationToken": "00000",
                    "Rule": "00000",
                },
                {"IsMotion": "false"},
                utc(2023, 9, 28, 16, 1, 15),
                INITIALIZED,
            ),
        ),
    ),
    # --- GetServiceCapabilities ------------------------------------------------------
    "events/hikvision_DS-2CD2012-I_GetServiceCapabilities.xml": _HIK_CAPABILITIES,
    "events/hikvision_DS-2DF7276-AEL_GetServiceCapabilities.xml": _HIK_CAPABILITIES,
    "events/trendnet_TV-IP320PI_GetServiceCapabilities.xml": _HIK_CAPABILITIES,
    # --- SetSynchronizationPoint -----------------------------------------------------
    "events/hikvision_DS-2CD2012-I_SetSynchronizationPoint.xml": Empty(
        "SetSynchronizationPointResponse"
    ),
    "events/pelco_D6230L_SetSynchronizationPoint.xml": Empty("SetSynchronizationPointResponse"),
    "events/trendnet_TV-IP320PI_SetSynchronizationPoint.xml": Empty(
        "SetSynchronizationPointResponse"
    ),
}


def cases_of(kind: type[Case]) -> list[str]:
    return [path for path, case in CASES.items() if isinstance(case, kind)]


def test_every_event_capture_has_a_case() -> None:
    on_disk = [p for p in all_capture_paths() if p.startswith("events/")]
    assert len(on_disk) == 37
    assert sorted(CASES) == on_disk


# ---------------------------------------------------------------------- shared checks

#: The namespaces the cameras bind their topic prefixes to: Axis's from its
#: metadata streams, Hikvision's from the envelopes of
#: ``hikvision_*_PullMessages.xml``, Ajax's from the ElementItem in
#: ``ajax-line-crossing.json``.
_TOPIC_NAMESPACES: Final[Mapping[str, str]] = {
    "tns1": TNS1,
    "tnsaxis": "http://www.axis.com/2009/event/topics",
    "tnshik": "http://www.hikvision.com/2011/event/topics",
    "tnsajax": "http://ajax.systems/onvif/topics",
}


def assert_event(event: OnvifEvent, expected: Event) -> None:
    assert event.topic_path == expected.topic_path
    assert event.topic == expected.topic
    assert event.raw_topic == expected.topic_path  # every capture already uses our prefixes
    assert event.topic_namespaces == {
        prefix: _TOPIC_NAMESPACES[prefix]
        for part in expected.topic_path.split("/")
        if (prefix := part.partition(":")[0]) != part
    }
    assert event.topic_namespace == _TOPIC_NAMESPACES[expected.topic_path.partition(":")[0]]
    assert event.dialect == expected.dialect
    assert event.source == expected.source
    assert event.key == expected.key
    assert event.data == expected.data
    assert event.utc_time == expected.utc_time
    assert event.property_operation == expected.operation
    assert event.producer_address == expected.producer
    assert event.subscription_address == expected.subscription
    # The reference device writes the same event back.
    assert OnvifEvent.from_xml(event.to_xml()) == event


# ---------------------------------------------------------------------- notification logs


JsonDict = dict[str, object]


def _get(mapping: object, *names: str) -> object:
    node = mapping
    for name in names:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _items(parent: etree._Element, name: str, section: object) -> None:
    if not isinstance(section, dict):
        return
    node = etree.SubElement(parent, qn(TT, name))
    for item in section.get("SimpleItem") or []:
        assert isinstance(item, dict)
        etree.SubElement(
            node, qn(TT, "SimpleItem"), Name=str(item["Name"]), Value=str(item["Value"])
        )
    for item in section.get("ElementItem") or []:
        assert isinstance(item, dict)
        holder = etree.SubElement(node, qn(TT, "ElementItem"), Name=str(item["Name"]))
        holder.append(parse_xml(str(item["_value_1"]).encode()))


def notification_xml(message: JsonDict) -> bytes:
    """The ``wsnt:NotificationMessage`` a zeep-serialised dict was made from.

    zeep names an element's text ``_value_1`` and its attributes by name;
    ``None`` stands for an absent element.
    """
    root = etree.Element(qn(WSNT, "NotificationMessage"), nsmap={"wsnt": WSNT, "wsa": WSA})
    subscription = _get(message, "SubscriptionReference", "Address", "_value_1")
    if subscription is not None:
        reference = etree.SubElement(root, qn(WSNT, "SubscriptionReference"))
        etree.SubElement(reference, qn(WSA, "Address")).text = str(subscription)
    topic = etree.SubElement(root, qn(WSNT, "Topic"), nsmap=dict(_TOPIC_NAMESPACES))
    dialect = _get(message, "Topic", "Dialect")
    if dialect is not None:
        topic.set("Dialect", str(dialect))
    topic.text = str(_get(message, "Topic", "_value_1"))
    producer = _get(message, "ProducerReference", "Address", "_value_1")
    if producer is not None:
        reference = etree.SubElement(root, qn(WSNT, "ProducerReference"))
        etree.SubElement(reference, qn(WSA, "Address")).text = str(producer)
    body = _get(message, "Message", "_value_1")
    assert isinstance(body, dict)
    tt_message = etree.SubElement(
        etree.SubElement(root, qn(WSNT, "Message")), qn(TT, "Message"), nsmap={"tt": TT}
    )
    for attribute in ("UtcTime", "PropertyOperation"):
        if body.get(attribute) is not None:
            tt_message.set(attribute, str(body[attribute]))
    for section in ("Source", "Key", "Data"):
        _items(tt_message, section, body.get(section))
    return etree.tostring(root)


@pytest.mark.parametrize("path", cases_of(Event), ids=ids(cases_of(Event)))
def test_notification_from_users_log(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Event)
    message = json.loads((CORPUS / path).read_text())
    event = parse_notification_message(parse_xml(notification_xml(message)))
    assert_event(event, expected)


def test_notification_log_element_item_is_carried_but_not_modelled() -> None:
    """The Ajax line-crossing data is an ElementItem; the converter keeps it, and
    the parser reads the message around it."""
    path = "events/ajax_unknown_NotificationMessage-ajax-line-crossing.json"
    document = parse_xml(notification_xml(json.loads((CORPUS / path).read_text())))
    item = child(document, "Message", "Message", "Data", "ElementItem")
    assert item is not None
    assert attr(item, "Name") == "LineCrossing"
    assert attr(child(item, "LineCrossing", "Line"), "points") == "0.77 0.7 0.48 0.037"
    assert parse_notification_message(document).data == {}


# ---------------------------------------------------------------------- metadata stream


@pytest.mark.parametrize("path", cases_of(Metadata), ids=ids(cases_of(Metadata)))
def test_metadata_stream(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Metadata)
    frame = parse_metadata_stream((CORPUS / path).read_bytes())
    assert frame.objects == ()
    assert frame.utc_time is None  # event-only documents carry no frame time
    assert len(frame.events) == len(expected.events)
    for event, wanted in zip(frame.events, expected.events, strict=True):
        assert_event(event, wanted)
    assert parse_metadata_stream(etree.tostring(frame.to_xml())) == frame


# ---------------------------------------------------------------------- VAPIX


def _vapix_topics(
    node: etree._Element, trail: tuple[str, ...], found: dict[str, etree._Element]
) -> None:
    for topic in node:
        if not isinstance(topic.tag, str) or local_name(topic.tag) == "MessageInstance":
            continue
        name = local_name(topic.tag)
        segment = f"{topic.prefix}:{name}" if topic.prefix else name
        path = (*trail, segment)
        if attr(topic, "topic") == "true":
            found["/".join(path)] = topic
        _vapix_topics(topic, path, found)


def _instances(instance: etree._Element | None, section: str) -> list[etree._Element]:
    holder = child(instance, section)
    return list(children(holder, "SimpleItemInstance")) if holder is not None else []


@pytest.mark.parametrize("path", cases_of(Vapix), ids=ids(cases_of(Vapix)))
def test_vapix_event_instances(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Vapix)
    response = payload(path)
    assert local_name(response.tag) == "GetEventInstancesResponse"
    topic_set = child(response, "TopicSet")
    assert topic_set is not None
    found: dict[str, etree._Element] = {}
    _vapix_topics(topic_set, (), found)
    assert len(found) == expected.count
    for wanted in expected.checked:
        node = found[wanted.path]
        assert attr(node, "NiceName") == wanted.nice_name
        instance = child(node, "MessageInstance")
        sources = tuple(
            (
                attr(item, "Name") or "",
                attr(item, "Type") or "",
                tuple(text(value) or "" for value in children(item, "Value")),
            )
            for item in _instances(instance, "SourceInstance")
        )
        data = tuple(
            (attr(item, "Name") or "", attr(item, "Type") or "")
            for item in _instances(instance, "DataInstance")
        )
        assert sources == wanted.source
        assert data == wanted.data


# ---------------------------------------------------------------------- GetEventProperties


@pytest.mark.parametrize("path", cases_of(Properties), ids=ids(cases_of(Properties)))
def test_get_event_properties(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Properties)
    properties = ops.parse_get_event_properties(payload(path))
    assert tuple(t.topic_path for t in properties.topics) == expected.paths
    assert properties.fixed_topic_set is expected.fixed
    assert properties.topic_namespace_locations == expected.namespace_locations
    assert properties.topic_expression_dialects == _CONCRETE_DIALECTS
    assert properties.message_content_filter_dialects == (
        "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter",
    )
    assert properties.producer_properties_filter_dialects == ()
    assert properties.message_content_schema_locations == expected.schema_locations
    assert sum(not t.described for t in properties.topics) == expected.undescribed
    for wanted in expected.checked:
        found = properties.find(wanted.path)
        assert found is not None, wanted.path
        assert found.is_property is wanted.is_property
        items = tuple(
            (section, item.name, item.type, item.element)
            for section, group in (
                ("Source", found.source),
                ("Key", found.key),
                ("Data", found.data),
            )
            for item in group
        )
        assert items == wanted.items
        assert properties.find(found.topic) is found
    assert ops.parse_get_event_properties(properties.to_xml()) == properties


# ---------------------------------------------------------------------- subscriptions


@pytest.mark.parametrize("path", cases_of(Subscription), ids=ids(cases_of(Subscription)))
def test_create_pull_point_subscription(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Subscription)
    reference = ops.parse_create_pull_point_subscription(payload(path))
    assert reference.address == expected.address
    assert reference.current_time == expected.current
    assert reference.termination_time == expected.termination
    parameters = tuple(
        (node.tag, node.text or "") for node in reference.reference_parameter_elements()
    )
    assert parameters == expected.reference_parameters
    # The headers a call to this subscription carries: wsa:Action, wsa:To, then
    # each reference parameter flagged as one.
    headers = ops.build_subscription_headers(reference, ops.PULL_MESSAGES_ACTION)
    assert [(h.tag, h.text) for h in headers[:2]] == [
        (qn(WSA, "Action"), ops.PULL_MESSAGES_ACTION),
        (qn(WSA, "To"), expected.address),
    ]
    assert [(h.tag, h.text, h.get(qn(WSA, "IsReferenceParameter"))) for h in headers[2:]] == [
        (tag, value, "true") for tag, value in expected.reference_parameters
    ]
    assert ops.parse_create_pull_point_subscription(reference.to_xml()) == reference


@pytest.mark.parametrize("path", cases_of(Pulled), ids=ids(cases_of(Pulled)))
def test_pull_messages(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Pulled)
    result = ops.parse_pull_messages(payload(path))
    assert result.current_time == expected.current
    assert result.termination_time == expected.termination
    assert len(result.messages) == len(expected.events)
    for event, wanted in zip(result.messages, expected.events, strict=True):
        assert_event(event, wanted)
    assert ops.parse_pull_messages(result.to_xml()) == result


@pytest.mark.parametrize("path", cases_of(Capabilities), ids=ids(cases_of(Capabilities)))
def test_get_service_capabilities(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Capabilities)
    capabilities = ops.parse_get_service_capabilities(payload(path))
    assert capabilities == expected.value
    holder = etree.Element("holder")
    capabilities.to_xml(holder)
    assert ops.parse_get_service_capabilities(holder) == capabilities


@pytest.mark.parametrize("path", cases_of(Empty), ids=ids(cases_of(Empty)))
def test_empty_answers(path: str) -> None:
    expected = CASES[path]
    assert isinstance(expected, Empty)
    answer = payload(path)
    assert local_name(answer.tag) == expected.operation
    assert len(answer) == 0
    assert not (answer.text or "").strip()


def test_topic_descriptions_share_item_types() -> None:
    """``xs:`` (Hikvision) and ``xsd:`` (Axis) name the same XSD types."""
    hikvision = ops.parse_get_event_properties(
        payload("events/hikvision_DS-2DF7276-AEL_GetEventProperties.xml")
    ).find("VideoSource/MotionAlarm")
    gsoap = ops.parse_get_event_properties(
        payload("events/generic-gsoap_PREDATOR-mockup_GetEventProperties.xml")
    ).find("tns1:VideoSource/MotionAlarm")
    assert hikvision is not None
    assert gsoap is not None
    assert hikvision.data == (ItemDescription("State", "xs:boolean"),)
    assert gsoap.data == (ItemDescription("State", "xsd:boolean"),)
    assert hikvision.data[0].type_name == gsoap.data[0].type_name == "boolean"
