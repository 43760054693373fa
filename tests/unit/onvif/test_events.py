"""Events: topic resolution, request shapes, round trips, metadata frames, and the facade.

The facade tests run the real :class:`OnvifClient` over an in-memory
:class:`SoapTransport` that answers from captures and records what was sent;
nothing touches a socket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import (
    ConnectError,
    LocalProtocolError,
    RemoteProtocolError,
    SoapFaultError,
)
from platonicam.onvif.facades.events import PullPointSubscription
from platonicam.onvif.models.device import Service
from platonicam.onvif.models.events import (
    AXIS_TOPICS,
    CONCRETE_SET_DIALECT,
    BoundingBox,
    BrokerStatus,
    EventBroker,
    EventProperties,
    EventServiceCapabilities,
    ItemDescription,
    MetadataFrame,
    MetadataObject,
    ObjectClass,
    OnvifEvent,
    PropertyOperation,
    PullMessagesResult,
    RenewResult,
    SubscriptionReference,
    TopicDescription,
    resolve_topic,
)
from platonicam.onvif.notification import (
    parse_metadata_stream,
    parse_notification_message,
    parse_notify,
)
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import SOAP12, TDS, TEV, TNS1, WSA, WSNT, qn
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import child, text
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse
from tests.corpus import CORPUS

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
VENDOR = "http://example.com/vendor/topics"


def _message(topic_xml: str, message_xml: str | None = None) -> bytes:
    body = (
        message_xml
        if message_xml is not None
        else '<wsnt:Message><tt:Message UtcTime="2026-01-02T03:04:05Z" '
        'PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="Token" Value="vs0"/>'
        '</tt:Source><tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data>'
        "</tt:Message></wsnt:Message>"
    )
    return (
        '<wsnt:NotificationMessage xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        f'xmlns:ns1="{TNS1}" xmlns:acme="{VENDOR}">{topic_xml}{body}</wsnt:NotificationMessage>'
    ).encode()


# ---------------------------------------------------------------------- topics


def test_camera_prefix_resolves_to_the_canonical_one() -> None:
    event = parse_notification_message(
        parse_xml(_message("<wsnt:Topic>ns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>"))
    )
    assert event.topic_path == "tns1:RuleEngine/CellMotionDetector/Motion"
    assert event.topic == "RuleEngine/CellMotionDetector/Motion"
    assert event.raw_topic == "ns1:RuleEngine/CellMotionDetector/Motion"
    assert event.topic_namespace == TNS1
    assert event.dialect is None
    assert event.source == {"Token": "vs0"}
    assert event.data == {"State": "true"}
    assert event.utc_time == NOW
    assert event.property_operation is PropertyOperation.CHANGED


def test_unknown_vendor_prefix_is_kept_with_its_namespace() -> None:
    event = parse_notification_message(
        parse_xml(_message("<wsnt:Topic> ns1:Device / acme:Sensor/Door </wsnt:Topic>"))
    )
    assert event.topic_path == "tns1:Device/acme:Sensor/Door"
    assert event.topic == "Device/Sensor/Door"
    assert event.topic_namespaces == {"tns1": TNS1, "acme": VENDOR}
    # Written back, the topic is the canonical path (the raw text is not kept).
    assert OnvifEvent.from_xml(event.to_xml()) == replace(event, raw_topic=event.topic_path)


def test_default_namespace_and_undeclared_prefix() -> None:
    default = resolve_topic("  VideoSource/MotionAlarm\n", {None: TNS1})
    assert (default.path, default.name, default.namespace) == (
        "tns1:VideoSource/MotionAlarm",
        "VideoSource/MotionAlarm",
        TNS1,
    )
    # A default namespace that is not a topic namespace does not qualify the topic.
    plain = resolve_topic("VideoSource/MotionAlarm", {None: WSNT})
    assert (plain.path, plain.namespace) == ("VideoSource/MotionAlarm", None)
    undeclared = resolve_topic("tnsx:Door/Open", {})
    assert (undeclared.path, undeclared.namespace, undeclared.namespaces) == (
        "tnsx:Door/Open",
        None,
        {},
    )
    vendor = resolve_topic("tns1:Device/tnsaxis:IO/Port", {"tns1": TNS1, "tnsaxis": AXIS_TOPICS})
    assert vendor.namespaces == {"tns1": TNS1, "tnsaxis": AXIS_TOPICS}


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("", "empty event topic (at /NotificationMessage/Topic)"),
        ("ns1:RuleEngine//Motion", "malformed event topic 'ns1:RuleEngine//Motion'"),
        (":RuleEngine", "malformed event topic ':RuleEngine'"),
    ],
)
def test_malformed_topics_raise(topic: str, message: str) -> None:
    document = parse_xml(_message(f"<wsnt:Topic>{topic}</wsnt:Topic>"))
    with pytest.raises(RemoteProtocolError) as caught:
        parse_notification_message(document)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _message(""),
            "missing element Topic (at /NotificationMessage)",
        ),
        (
            _message("<wsnt:Topic>ns1:A</wsnt:Topic>", ""),
            "missing element Message/Message (at /NotificationMessage)",
        ),
        (
            _message(
                "<wsnt:Topic>ns1:A</wsnt:Topic>",
                '<wsnt:Message><tt:Message UtcTime="yesterday"/></wsnt:Message>',
            ),
            "date-time expected, got 'yesterday' (at /NotificationMessage/Message/Message)",
        ),
        (
            _message(
                "<wsnt:Topic>ns1:A</wsnt:Topic>",
                '<wsnt:Message><tt:Message PropertyOperation="Updated"/></wsnt:Message>',
            ),
            "unknown PropertyOperation 'Updated' (at /NotificationMessage/Message/Message)",
        ),
        (
            _message(
                "<wsnt:Topic>ns1:A</wsnt:Topic>",
                '<wsnt:Message><tt:Message><tt:Data><tt:SimpleItem Value="1"/></tt:Data>'
                "</tt:Message></wsnt:Message>",
            ),
            "SimpleItem without a Name",
        ),
    ],
)
def test_malformed_notification_raises(document: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_notification_message(parse_xml(document))
    assert str(caught.value) == message or message in str(caught.value)


def test_not_a_notification_message() -> None:
    with pytest.raises(RemoteProtocolError, match="expected wsnt:NotificationMessage, got <Foo>"):
        parse_notification_message(etree.Element("Foo"))


def test_lower_case_property_operation_is_read() -> None:
    event = parse_notification_message(
        parse_xml(
            _message(
                "<wsnt:Topic>ns1:A</wsnt:Topic>",
                '<wsnt:Message><tt:Message PropertyOperation="deleted"/></wsnt:Message>',
            )
        )
    )
    assert event.property_operation is PropertyOperation.DELETED
    assert event.utc_time is None


def test_parse_notify() -> None:
    notify = element(WSNT, "Notify")
    OnvifEvent(
        topic="VideoSource/MotionAlarm",
        topic_path="tns1:VideoSource/MotionAlarm",
        raw_topic="tns1:VideoSource/MotionAlarm",
        dialect=CONCRETE_SET_DIALECT,
        topic_namespace=TNS1,
        topic_namespaces={"tns1": TNS1},
        source={"Source": "vs0"},
        data={"State": "false"},
        utc_time=NOW,
        property_operation=PropertyOperation.INITIALIZED,
    ).to_xml(notify)
    events = parse_notify(build_envelope(notify))
    assert [(e.topic, e.data, e.property_operation) for e in events] == [
        ("VideoSource/MotionAlarm", {"State": "false"}, PropertyOperation.INITIALIZED)
    ]
    with pytest.raises(RemoteProtocolError, match="expected wsnt:Notify, got <Renew>"):
        parse_notify(build_envelope(element(WSNT, "Renew")))


# ---------------------------------------------------------------------- round trips


_text = (
    st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="/:"),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
# Item values are read stripped (xs:boolean, tokens and numbers collapse white space).
_items = st.dictionaries(
    _text, st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)).map(str.strip)
)


@given(
    segments=st.lists(_text, min_size=1, max_size=4),
    source=_items,
    data=_items,
    key=_items,
    micros=st.integers(0, 999_999),
    operation=st.sampled_from([None, *PropertyOperation]),
)
def test_event_round_trip(
    segments: list[str],
    source: dict[str, str],
    data: dict[str, str],
    key: dict[str, str],
    micros: int,
    operation: PropertyOperation | None,
) -> None:
    path = "tns1:" + "/".join(segments)
    event = OnvifEvent(
        topic="/".join(segments),
        topic_path=path,
        raw_topic=path,
        dialect=CONCRETE_SET_DIALECT,
        topic_namespace=TNS1,
        topic_namespaces={"tns1": TNS1},
        source=source,
        key=key,
        data=data,
        utc_time=NOW.replace(microsecond=micros),
        property_operation=operation,
        producer_address="http://192.0.2.1/onvif/event",
        subscription_address="http://192.0.2.1/onvif/sub?id=1",
    )
    written = etree.tostring(event.to_xml())
    assert OnvifEvent.from_xml(parse_xml(written)) == event


def test_event_properties_round_trip_keeps_order_and_items() -> None:
    properties = EventProperties(
        topic_namespace_locations=("http://www.onvif.org/onvif/ver10/topics/topicns.xml",),
        fixed_topic_set=True,
        topics=(
            TopicDescription("RuleEngine", "tns1:RuleEngine", TNS1, {"tns1": TNS1}),
            TopicDescription(
                "RuleEngine/CellMotionDetector/Motion",
                "tns1:RuleEngine/CellMotionDetector/Motion",
                TNS1,
                {"tns1": TNS1},
                described=True,
                is_property=True,
                source=(ItemDescription("Rule", "xs:string"),),
                key=(ItemDescription("ObjectId", "xs:integer"),),
                data=(ItemDescription("Config", "tt:Profile", element=True),),
            ),
            TopicDescription(
                "Device/IO/Port",
                "tns1:Device/tnsaxis:IO/Port",
                TNS1,
                {"tns1": TNS1, "tnsaxis": AXIS_TOPICS},
                described=True,
                is_property=False,
            ),
            TopicDescription(
                "Sensor/Door", "acme:Sensor/Door", VENDOR, {"acme": VENDOR}, described=True
            ),
        ),
        topic_expression_dialects=(CONCRETE_SET_DIALECT,),
        message_content_filter_dialects=(
            "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter",
        ),
        producer_properties_filter_dialects=("urn:x",),
        message_content_schema_locations=("http://www.onvif.org/ver10/schema/onvif.xsd",),
    )
    written = properties.to_xml()
    topic_set = child(written, "TopicSet")
    assert topic_set is not None
    # RuleEngine and its Motion child share one element.
    assert [node.tag for node in topic_set] == [
        qn(TNS1, "RuleEngine"),
        qn(TNS1, "Device"),
        qn(VENDOR, "Sensor"),
    ]
    assert ops.parse_get_event_properties(parse_xml(etree.tostring(written))) == properties


def test_subscription_reference_round_trip_with_parameters() -> None:
    parameter = b'<v:Id xmlns:v="urn:vendor">42</v:Id>'
    reference = SubscriptionReference(
        address="http://192.0.2.7/onvif/Subscription?Idx=3",
        reference_parameters=(parameter,),
        current_time=NOW,
        termination_time=NOW + timedelta(minutes=1),
    )
    written = reference.to_xml()
    assert text(written, "SubscriptionReference", "ReferenceParameters", "Id") == "42"
    again = SubscriptionReference.from_xml(parse_xml(etree.tostring(written)))
    assert again == reference
    assert again.reference_parameters == (parameter,)


def test_pull_and_renew_results_round_trip() -> None:
    event = OnvifEvent(
        topic="A",
        topic_path="tns1:A",
        raw_topic="tns1:A",
        topic_namespace=TNS1,
        topic_namespaces={"tns1": TNS1},
        utc_time=NOW,
    )
    pulled = PullMessagesResult(NOW, NOW + timedelta(seconds=60), (event, event))
    assert ops.parse_pull_messages(pulled.to_xml()) == pulled
    renewed = RenewResult(NOW + timedelta(minutes=2), NOW)
    assert ops.parse_renew(renewed.to_xml()) == renewed


def test_profile_m_capabilities_round_trip() -> None:
    capabilities = EventServiceCapabilities(
        ws_pull_point_support=True,
        persistent_notification_storage=False,
        event_broker_protocols=("mqtt", "mqtts", "wss"),
        max_event_brokers=2,
        metadata_over_mqtt=True,
    )
    response = element(TEV, "GetServiceCapabilitiesResponse")
    node = capabilities.to_xml(response)
    assert node.get("EventBrokerProtocols") == "mqtt mqtts wss"
    assert node.get("MaxEventBrokers") == "2"
    assert ops.parse_get_service_capabilities(response) == capabilities


# ---------------------------------------------------------------------- request shapes


def test_create_pull_point_subscription_with_filter_and_relative_time() -> None:
    request = ops.build_create_pull_point_subscription(
        topic_filter=["tns1:RuleEngine//.", " tnsaxis:Storage/Alert "],
        initial_termination=timedelta(minutes=1),
    )
    assert request.tag == qn(TEV, "CreatePullPointSubscription")
    expression = child(request, "Filter", "TopicExpression")
    assert expression is not None
    assert expression.tag == qn(WSNT, "TopicExpression")
    assert expression.get("Dialect") == CONCRETE_SET_DIALECT
    assert expression.text == "tns1:RuleEngine//.|tnsaxis:Storage/Alert"
    assert expression.nsmap["tns1"] == TNS1
    assert expression.nsmap["tnsaxis"] == AXIS_TOPICS
    assert text(request, "InitialTerminationTime") == "PT60S"
    # The prefixes survive serialisation: a camera resolves them from the wire.
    wire = parse_xml(etree.tostring(request))
    wire_expression = child(wire, "Filter", "TopicExpression")
    assert wire_expression is not None
    assert wire_expression.nsmap["tnsaxis"] == AXIS_TOPICS


def test_create_pull_point_subscription_absolute_and_unbounded() -> None:
    absolute = ops.build_create_pull_point_subscription(initial_termination=NOW)
    assert text(absolute, "InitialTerminationTime") == "2026-01-02T03:04:05.000Z"
    assert child(absolute, "Filter") is None
    bare = ops.build_create_pull_point_subscription(initial_termination=None)
    assert len(bare) == 0
    vendor = ops.build_create_pull_point_subscription(
        topic_filter="acme:Door", namespaces={"acme": VENDOR}
    )
    expression = child(vendor, "Filter", "TopicExpression")
    assert expression is not None
    assert expression.nsmap["acme"] == VENDOR


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ops.build_create_pull_point_subscription(topic_filter="acme:Door"),
            "topic filter 'acme:Door' uses prefix 'acme' with no namespace; pass it in namespaces",
        ),
        (
            lambda: ops.build_create_pull_point_subscription(topic_filter=[" "]),
            "an empty topic filter selects nothing",
        ),
        (
            lambda: ops.build_create_pull_point_subscription(
                initial_termination=datetime(2026, 1, 1)
            ),
            "an absolute termination time must be timezone-aware (camera time is UTC)",
        ),
        (
            lambda: ops.build_renew(timedelta(0)),
            "a relative termination time must be positive, got 0:00:00",
        ),
        (
            lambda: ops.build_pull_messages(timedelta(seconds=1), 0),
            "PullMessages message limit must be at least 1, got 0",
        ),
        (
            lambda: ops.build_pull_messages(timedelta(seconds=-1), 1),
            "PullMessages timeout must not be negative, got -1 day, 23:59:59",
        ),
        (
            lambda: ops.build_add_event_broker(EventBroker("mqtt://192.0.2.9:1883", " ")),
            "an event broker's topic prefix must not be empty",
        ),
        (
            lambda: ops.build_add_event_broker(EventBroker("mqtt://192.0.2.9:1883", "cam", qos=3)),
            "MQTT QoS must be 0, 1 or 2, got 3",
        ),
    ],
)
def test_requests_we_refuse_to_send(call: Callable[[], object], message: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        call()
    assert str(caught.value) == message


def test_pull_renew_unsubscribe_sync_shapes() -> None:
    pull = ops.build_pull_messages(timedelta(seconds=10), 25)
    assert pull.tag == qn(TEV, "PullMessages")
    assert [(c.tag, c.text) for c in pull] == [
        (qn(TEV, "Timeout"), "PT10S"),
        (qn(TEV, "MessageLimit"), "25"),
    ]
    relative = ops.build_renew(timedelta(minutes=5))
    assert relative.tag == qn(WSNT, "Renew")
    assert [(c.tag, c.text) for c in relative] == [(qn(WSNT, "TerminationTime"), "PT300S")]
    absolute = ops.build_renew(NOW)
    assert text(absolute, "TerminationTime") == "2026-01-02T03:04:05.000Z"
    assert ops.build_unsubscribe().tag == qn(WSNT, "Unsubscribe")
    assert ops.build_set_synchronization_point().tag == qn(TEV, "SetSynchronizationPoint")
    assert ops.build_get_event_properties().tag == qn(TEV, "GetEventProperties")
    assert ops.build_get_service_capabilities().tag == qn(TEV, "GetServiceCapabilities")


def test_event_broker_requests_and_answers() -> None:
    broker = EventBroker(
        address="mqtts://192.0.2.9:8883",
        topic_prefix="site/cam1",
        user_name="cam1",
        password="s3cret",
        certificate_id="client-cert",
        publish_filter="tns1:RuleEngine//.",
        qos=1,
    )
    assert "s3cret" not in repr(broker)
    added = ops.build_add_event_broker(broker)
    config = child(added, "EventBroker")
    assert config is not None
    assert config.tag == qn(TEV, "EventBroker")
    assert [c.tag.rpartition("}")[2] for c in config] == [
        "Address",
        "TopicPrefix",
        "UserName",
        "Password",
        "CertificateID",
        "PublishFilter",
        "QoS",
    ]
    assert text(config, "PublishFilter", "TopicExpression") == "tns1:RuleEngine//."
    assert ops.build_get_event_brokers().tag == qn(TEV, "GetEventBrokers")
    assert len(ops.build_get_event_brokers()) == 0
    assert text(ops.build_get_event_brokers("mqtt://192.0.2.9:1883"), "Address") == (
        "mqtt://192.0.2.9:1883"
    )
    deleted = ops.build_delete_event_broker("mqtt://192.0.2.9:1883")
    assert [(c.tag, c.text) for c in deleted] == [(qn(TEV, "Address"), "mqtt://192.0.2.9:1883")]

    # What a camera answers: no password, a connection status.
    answer = element(TEV, "GetEventBrokersResponse")
    returned = EventBroker(
        "mqtts://192.0.2.9:8883",
        "site/cam1",
        user_name="cam1",
        qos=1,
        status=BrokerStatus.CONNECTED.value,
        metadata_filter="tns1:VideoSource//.",
    )
    returned.to_xml(answer)
    EventBroker("ws://192.0.2.9/mqtt", "site/cam2").to_xml(answer)
    brokers = ops.parse_get_event_brokers(parse_xml(etree.tostring(answer)))
    assert brokers == [returned, EventBroker("ws://192.0.2.9/mqtt", "site/cam2")]
    assert brokers[0].status == "Connected"


# ---------------------------------------------------------------------- metadata stream

_FRAME = b"""<?xml version="1.0" encoding="UTF-8"?>
<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">
 <tt:VideoAnalytics>
  <tt:Frame UtcTime="2026-01-02T03:04:05.250Z" Source="VideoAnalyticsModule">
   <tt:Transformation><tt:Translate x="-1.0" y="-1.0"/><tt:Scale x="0.003125" y="0.00416667"/>
   </tt:Transformation>
   <tt:Object ObjectId="12">
    <tt:Appearance>
     <tt:Shape><tt:BoundingBox left="20.0" top="80.0" right="100.0" bottom="30.0"/>
      <tt:CenterOfGravity x="60.0" y="50.0"/></tt:Shape>
     <tt:Class><tt:Type Likelihood="0.2">Vehicle</tt:Type>
      <tt:Type Likelihood="0.75">Human</tt:Type></tt:Class>
    </tt:Appearance>
   </tt:Object>
   <tt:Object ObjectId="13" Parent="12">
    <tt:Appearance>
     <tt:Transformation><tt:Translate x="320" y="0"/></tt:Transformation>
     <tt:Shape><tt:BoundingBox left="-10" top="10" right="0" bottom="0"/>
      <tt:CenterOfGravity x="-5" y="5"/></tt:Shape>
     <tt:Class><tt:ClassCandidate><tt:Type>Face</tt:Type><tt:Likelihood>0.9</tt:Likelihood>
      </tt:ClassCandidate></tt:Class>
    </tt:Appearance>
   </tt:Object>
   <tt:Object ObjectId="14"/>
  </tt:Frame>
 </tt:VideoAnalytics>
 <tt:Event>
  <wsnt:NotificationMessage xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"
    xmlns:tns1="http://www.onvif.org/ver10/topics">
   <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
     >tns1:RuleEngine/FieldDetector/ObjectsInside</wsnt:Topic>
   <wsnt:Message><tt:Message UtcTime="2026-01-02T03:04:05.250Z" PropertyOperation="Changed">
    <tt:Source><tt:SimpleItem Name="Rule" Value="Field 1"/></tt:Source>
    <tt:Key><tt:SimpleItem Name="ObjectId" Value="12"/></tt:Key>
    <tt:Data><tt:SimpleItem Name="IsInside" Value="true"/></tt:Data>
   </tt:Message></wsnt:Message>
  </wsnt:NotificationMessage>
 </tt:Event>
</tt:MetadataStream>
\x00\x00"""


def test_metadata_frame_objects_boxes_and_events() -> None:
    frame = parse_metadata_stream(_FRAME)
    assert frame.utc_time == NOW.replace(microsecond=250_000)
    assert frame.source == "VideoAnalyticsModule"
    person, face, bare = frame.objects
    assert person.object_id == 12
    assert person.object_class == "Human"
    assert person.likelihood == 0.75
    assert person.classes == (ObjectClass("Vehicle", 0.2), ObjectClass("Human", 0.75))
    # The frame's Transformation maps pixels (origin bottom-left) to -1..1.
    assert person.box is not None
    assert (person.box.left, person.box.right) == pytest.approx((-0.9375, -0.6875))
    assert person.box.top == pytest.approx(-1 + 80 * 0.00416667)
    assert person.box.bottom == pytest.approx(-1 + 30 * 0.00416667)
    # The appearance's own Transformation composes with the frame's.
    assert face.parent_id == 12
    assert (face.object_class, face.likelihood) == ("Face", 0.9)
    assert face.box is not None
    assert face.box.left == pytest.approx(-1 + 0.003125 * (320 - 10))
    assert face.box.right == pytest.approx(0.0)
    assert face.box.top == pytest.approx(-1 + 10 * 0.00416667)
    assert (bare.box, bare.classes, bare.object_class, bare.likelihood) == (None, (), None, None)
    (event,) = frame.events
    assert event.topic == "RuleEngine/FieldDetector/ObjectsInside"
    assert event.key == {"ObjectId": "12"}
    assert event.data == {"IsInside": "true"}


def test_metadata_frame_round_trip() -> None:
    frame = MetadataFrame(
        utc_time=NOW,
        source="Module",
        objects=(
            MetadataObject(
                7,
                BoundingBox(-0.5, 0.25, 0.5, -0.75),
                (ObjectClass("Human", 0.5), ObjectClass("Animal")),
                parent_id=3,
            ),
            MetadataObject(8),
        ),
        events=(
            OnvifEvent(
                topic="A/B",
                topic_path="tns1:A/B",
                raw_topic="tns1:A/B",
                topic_namespace=TNS1,
                topic_namespaces={"tns1": TNS1},
                data={"x": "1"},
            ),
        ),
    )
    assert parse_metadata_stream(etree.tostring(frame.to_xml())) == frame
    assert parse_metadata_stream(etree.tostring(MetadataFrame().to_xml())) == MetadataFrame()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty answer where an XML document was expected (operation MetadataStream)"),
        (b"<tt:MetadataStream", "malformed XML"),
        (
            b'<tt:Frame xmlns:tt="http://www.onvif.org/ver10/schema"/>',
            "expected tt:MetadataStream, got <Frame> (operation MetadataStream, at /Frame)",
        ),
        (
            b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema"><tt:VideoAnalytics>'
            b'<tt:Frame UtcTime="2026-01-02T03:04:05Z"><tt:Object/></tt:Frame></tt:VideoAnalytics>'
            b"</tt:MetadataStream>",
            "Object without an ObjectId (operation MetadataStream, "
            "at /MetadataStream/VideoAnalytics/Frame/Object)",
        ),
        (
            b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema"><tt:VideoAnalytics>'
            b'<tt:Frame UtcTime="2026-01-02T03:04:05Z"><tt:Object ObjectId="1"><tt:Appearance>'
            b'<tt:Shape><tt:BoundingBox left="0" top="1" right="x" bottom="0"/></tt:Shape>'
            b"</tt:Appearance></tt:Object></tt:Frame></tt:VideoAnalytics></tt:MetadataStream>",
            "number expected, got 'x'",
        ),
    ],
)
def test_malformed_metadata_stream_raises(data: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_metadata_stream(data)
    assert message in str(caught.value)


# ---------------------------------------------------------------------- facade


def _envelope(payload: etree._Element) -> bytes:
    return build_envelope(payload)


def _services_answer() -> bytes:
    response = element(TDS, "GetServicesResponse")
    for namespace, address in (
        (TDS, "http://10.10.1.66/onvif/device_service"),
        (TEV, "http://10.10.1.66/onvif/eventing_service"),
    ):
        Service(namespace=namespace, xaddr=address, version=None).to_xml(response)
    return _envelope(response)


Answer = bytes | Exception


class RecordingTransport:
    """An in-memory :class:`SoapTransport`: answers by operation, records every request."""

    def __init__(self, answers: Mapping[str, Answer]) -> None:
        self.answers = dict(answers)
        self.sent: list[tuple[str, etree._Element]] = []

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        document = parse_xml(envelope)
        body = document.find(qn(SOAP12, "Body"))
        assert body is not None
        operation = body[0].tag.rpartition("}")[2]
        self.sent.append((url, document))
        answer = self.answers[operation]
        if isinstance(answer, Exception):
            raise answer
        return SoapHttpResponse(200, answer, {})

    async def aclose(self) -> None:
        return None

    def headers(self, index: int) -> list[etree._Element]:
        header = self.sent[index][1].find(qn(SOAP12, "Header"))
        return list(header) if header is not None else []


def _corpus(path: str) -> bytes:
    return (CORPUS / path).read_bytes()


def _pull_answer() -> bytes:
    # The body-only capture, padded with newlines, put in an envelope.
    return _envelope(parse_xml(_corpus("events/unknown_unknown_PullMessages-body-only.xml")))


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport(
        {
            "GetSystemDateAndTime": _corpus(
                "device/hikvision_DS-2CD2012-I_GetSystemDateAndTime.xml"
            ),
            "GetServices": _services_answer(),
            "CreatePullPointSubscription": _corpus(
                "events/pelco_D6230L_CreatePullPointSubscription.xml"
            ),
            "PullMessages": _pull_answer(),
            "Renew": _envelope(RenewResult(NOW + timedelta(minutes=5), NOW).to_xml()),
            "Unsubscribe": _envelope(element(WSNT, "UnsubscribeResponse")),
            "SetSynchronizationPoint": _corpus("events/pelco_D6230L_SetSynchronizationPoint.xml"),
            "GetEventProperties": _corpus("events/axis_Q6045-E_GetEventProperties.xml"),
            "GetServiceCapabilities": _corpus(
                "events/hikvision_DS-2CD2012-I_GetServiceCapabilities.xml"
            ),
            "GetEventBrokers": _envelope(element(TEV, "GetEventBrokersResponse")),
            "AddEventBroker": _envelope(element(TEV, "AddEventBrokerResponse")),
            "DeleteEventBroker": _envelope(element(TEV, "DeleteEventBrokerResponse")),
        }
    )


PELCO_ADDRESS = (
    "http://10.10.1.66/onvif/eventing_service?id=urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83"
)
REWRITTEN = (
    "http://127.0.0.1:8080/onvif/eventing_service?id=urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83"
)


async def _subscribe(
    transport: RecordingTransport, **kwargs: object
) -> tuple[OnvifClient, PullPointSubscription]:
    client = OnvifClient("127.0.0.1", 8080, transport=transport)
    await client.connect()
    subscription = await client.events.create_pull_point_subscription(**kwargs)  # type: ignore[arg-type]
    return client, subscription


async def test_subscription_calls_go_to_the_rewritten_address_with_wsa_headers(
    transport: RecordingTransport,
) -> None:
    _, subscription = await _subscribe(
        transport, topic_filter="tns1:RuleEngine//.", initial_termination=NOW
    )
    create_url, create = transport.sent[-1]
    assert create_url == "http://127.0.0.1:8080/onvif/eventing_service"
    assert (
        text(
            create.find(qn(SOAP12, "Body")), "CreatePullPointSubscription", "InitialTerminationTime"
        )
        == "2026-01-02T03:04:05.000Z"
    )
    assert subscription.url == REWRITTEN
    assert subscription.reference.address == PELCO_ADDRESS
    assert subscription.termination_time == datetime(2018, 2, 27, 18, 29, 26, 67761, tzinfo=UTC)

    events = await subscription.pull(timedelta(seconds=2), limit=10)
    url, request = transport.sent[-1]
    assert url == REWRITTEN
    body = request.find(qn(SOAP12, "Body"))
    assert text(body, "PullMessages", "Timeout") == "PT2S"
    assert text(body, "PullMessages", "MessageLimit") == "10"
    headers = transport.headers(-1)
    assert [(h.tag, (h.text or "").strip()) for h in headers] == [
        (qn(WSA, "Action"), ops.PULL_MESSAGES_ACTION),
        (qn(WSA, "To"), PELCO_ADDRESS),
        (
            "{urn:schemas-pelco-com:ws:addressing:1}SubscriptionId",
            "urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83",
        ),
    ]
    assert headers[2].get(qn(WSA, "IsReferenceParameter")) == "true"
    assert [(e.topic, e.data) for e in events] == [
        ("RuleEngine/CellMotionDetector/Motion", {"IsMotion": "false"})
    ]
    assert subscription.termination_time == datetime(2023, 9, 28, 16, 11, 15, tzinfo=UTC)

    renewed = await subscription.renew(timedelta(minutes=5))
    assert renewed.termination_time == NOW + timedelta(minutes=5)
    assert subscription.termination_time == NOW + timedelta(minutes=5)
    assert text(transport.sent[-1][1].find(qn(SOAP12, "Body")), "Renew", "TerminationTime") == (
        "PT300S"
    )
    assert transport.headers(-1)[0].text == ops.RENEW_ACTION

    await subscription.set_synchronization_point()
    assert transport.headers(-1)[0].text == ops.SET_SYNCHRONIZATION_POINT_ACTION


def _is_closed(subscription: PullPointSubscription) -> bool:
    # A call, so the type checker does not keep an earlier ``closed`` narrowing.
    return subscription.closed


async def test_context_manager_unsubscribes(transport: RecordingTransport) -> None:
    _, subscription = await _subscribe(transport)
    async with subscription as inside:
        assert inside is subscription
        assert not subscription.closed
    url, request = transport.sent[-1]
    assert url == REWRITTEN
    body = request.find(qn(SOAP12, "Body"))
    assert body is not None
    assert body[0].tag == qn(WSNT, "Unsubscribe")
    assert transport.headers(-1)[0].text == ops.UNSUBSCRIBE_ACTION
    assert _is_closed(subscription)
    count = len(transport.sent)
    async with subscription:
        pass
    assert len(transport.sent) == count  # already released: nothing more sent


async def test_context_manager_swallows_a_gone_camera(transport: RecordingTransport) -> None:
    _, subscription = await _subscribe(transport)
    transport.answers["Unsubscribe"] = ConnectError("nothing answered at 127.0.0.1:8080")
    async with subscription:
        pass
    assert subscription.closed


async def test_context_manager_propagates_other_errors(transport: RecordingTransport) -> None:
    _, subscription = await _subscribe(transport)
    # A real fault body (Axis, SubscribeCreationFailedFault) stands in for any refusal.
    transport.answers["Unsubscribe"] = _corpus(
        "faults/axis_Q6045-E_CreatePullPointSubscription.xml"
    )
    with pytest.raises(SoapFaultError) as caught:
        async with subscription:
            pass
    assert caught.value.code == "Receiver"
    assert not subscription.closed


async def test_context_manager_keeps_the_body_error(transport: RecordingTransport) -> None:
    _, subscription = await _subscribe(transport)
    transport.answers["Unsubscribe"] = ConnectError("gone")
    with pytest.raises(KeyError, match="boom"):
        async with subscription:
            raise KeyError("boom")


async def test_service_operations(transport: RecordingTransport) -> None:
    client = OnvifClient("127.0.0.1", 8080, transport=transport)
    await client.connect()
    properties = await client.events.get_event_properties()
    assert len(properties.topics) == 25
    capabilities = await client.events.get_service_capabilities()
    assert capabilities.max_pull_points == 10
    assert await client.events.get_event_brokers() == []
    await client.events.add_event_broker(EventBroker("mqtt://127.0.0.1:1883", "cam"))
    added = transport.sent[-1][1].find(qn(SOAP12, "Body"))
    assert text(added, "AddEventBroker", "EventBroker", "TopicPrefix") == "cam"
    await client.events.delete_event_broker("mqtt://127.0.0.1:1883")
    deleted = transport.sent[-1][1].find(qn(SOAP12, "Body"))
    assert text(deleted, "DeleteEventBroker", "Address") == "mqtt://127.0.0.1:1883"
    # Event-service calls carry no subscription headers.
    assert transport.headers(-1) == []
    assert [url for url, _ in transport.sent[2:]] == [
        "http://127.0.0.1:8080/onvif/eventing_service"
    ] * 5


def test_facade_reexports_the_metadata_parser() -> None:
    from platonicam.onvif.facades import events as facade

    assert facade.parse_metadata_stream is parse_metadata_stream
