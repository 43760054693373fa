"""OnvifEvent -> Event, and lenient reading of answers and pushed Notify requests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from platonicam.events.model import Event, EventKind
from platonicam.events.notification import (
    Malformed,
    normalize,
    normalize_element,
    read_notifications,
    read_notify,
)
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import OnvifEvent, PropertyOperation
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope
from platonicam.onvif.soap.namespaces import TEV, WSNT
from platonicam.onvif.soap.xml import parse_xml

RECEIVED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
FIELD = OnvifEvent(
    topic="RuleEngine/FieldDetector/ObjectsInside",
    topic_path="tns1:RuleEngine/FieldDetector/ObjectsInside",
    raw_topic="ns1:RuleEngine/FieldDetector/ObjectsInside",
    source={"Rule": "Fence"},
    key={"ObjectId": "12"},
    data={"IsInside": "true"},
    utc_time=None,
    property_operation=PropertyOperation.CHANGED,
)


def test_normalize_keeps_raw_topic_merges_key_into_source_and_defaults_time() -> None:
    [event] = normalize(FIELD, camera_id="c", received=RECEIVED, payload_xml="<x/>")
    assert event == Event(
        camera_id="c",
        kind=EventKind.INTRUSION,
        topic="RuleEngine/FieldDetector/ObjectsInside",
        raw_topic="ns1:RuleEngine/FieldDetector/ObjectsInside",
        source={"Rule": "Fence", "ObjectId": "12"},
        data={"IsInside": "true"},
        state=True,
        time=RECEIVED,
        property_operation=PropertyOperation.CHANGED,
        payload_xml="<x/>",
    )
    assert not event.is_initial
    assert event.to_json() == {
        "camera": "c",
        "kind": "intrusion",
        "topic": "RuleEngine/FieldDetector/ObjectsInside",
        "rawTopic": "ns1:RuleEngine/FieldDetector/ObjectsInside",
        "source": {"Rule": "Fence", "ObjectId": "12"},
        "data": {"IsInside": "true"},
        "state": True,
        "time": "2026-02-03T04:05:06Z",
        "propertyOperation": "Changed",
    }
    assert event.to_json(include_payload=True)["payloadXml"] == "<x/>"


def test_normalize_element_refuses_other_elements() -> None:
    with pytest.raises(
        RemoteProtocolError, match="expected wsnt:NotificationMessage, got <Notify>"
    ):
        normalize_element(element(WSNT, "Notify"), camera_id="c", received=RECEIVED)


def _answer(*messages: bytes, current: str = "2026-02-03T04:05:00Z") -> bytes:
    return (
        b'<tev:PullMessagesResponse xmlns:tev="'
        + TEV.encode()
        + b'" xmlns:wsnt="'
        + WSNT.encode()
        + b'" xmlns:tt="http://www.onvif.org/ver10/schema"'
        b' xmlns:tns1="http://www.onvif.org/ver10/topics">'
        b"<tev:CurrentTime>" + current.encode() + b"</tev:CurrentTime>"
        b"<tev:TerminationTime>2026-02-03T04:06:00Z</tev:TerminationTime>"
        + b"".join(messages)
        + b"</tev:PullMessagesResponse>"
    )


GOOD = (
    b"<wsnt:NotificationMessage><wsnt:Topic>tns1:Device/Trigger/DigitalInput</wsnt:Topic>"
    b'<wsnt:Message><tt:Message UtcTime="2026-02-03T04:05:01Z" PropertyOperation="Changed">'
    b'<tt:Source><tt:SimpleItem Name="InputToken" Value="DI_1"/></tt:Source>'
    b'<tt:Data><tt:SimpleItem Name="LogicalState" Value="true"/></tt:Data>'
    b"</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
)
BAD_OPERATION = GOOD.replace(b'PropertyOperation="Changed"', b'PropertyOperation="Exploded"')


def test_bad_messages_are_reported_one_by_one() -> None:
    batch = read_notifications(
        parse_xml(_answer(BAD_OPERATION, GOOD)), camera_id="c", received=RECEIVED
    )
    assert [(e.kind, e.state, e.source) for e in batch.events] == [
        (EventKind.DIGITAL_INPUT, True, {"InputToken": "DI_1"})
    ]
    [bad] = batch.malformed
    assert bad == Malformed(
        "unknown PropertyOperation 'Exploded' (at /PullMessagesResponse/NotificationMessage"
        "/Message/Message)",
        bad.payload_xml,
    )
    assert bad.payload_xml is not None
    assert 'PropertyOperation="Exploded"' in bad.payload_xml
    assert batch.current_time == datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
    assert batch.termination_time == datetime(2026, 2, 3, 4, 6, tzinfo=UTC)


def test_unreadable_answer_times_do_not_cost_the_events() -> None:
    batch = read_notifications(
        parse_xml(_answer(GOOD, current="soon")), camera_id="c", received=RECEIVED
    )
    assert batch.current_time is None
    assert len(batch.events) == 1


def test_read_notify() -> None:
    body = element(WSNT, "Notify")
    body.append(parse_xml(_answer(GOOD))[2])
    batch = read_notify(build_envelope(body), camera_id="c", received=RECEIVED)
    assert [e.kind for e in batch.events] == [EventKind.DIGITAL_INPUT]
    assert (batch.current_time, batch.termination_time, batch.malformed) == (None, None, ())
    with pytest.raises(RemoteProtocolError, match="expected wsnt:Notify, got <PullMessages>"):
        read_notify(build_envelope(element(TEV, "PullMessages")), camera_id="c", received=RECEIVED)
