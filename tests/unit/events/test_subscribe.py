"""``wsnt:Subscribe`` (push) request and answer, sans-IO."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.services import events as ops
from platonicam.onvif.soap.namespaces import WSA, WSNT, qn


def test_build_subscribe() -> None:
    request = ops.build_subscribe(
        "http://127.0.0.1:8080/events/notify/abc",
        topic_filter=["tns1:RuleEngine//.", "tns1:VideoSource/MotionAlarm"],
        initial_termination=timedelta(minutes=2),
    )
    assert request.tag == qn(WSNT, "Subscribe")
    assert [child.tag for child in request] == [
        qn(WSNT, "ConsumerReference"),
        qn(WSNT, "Filter"),
        qn(WSNT, "InitialTerminationTime"),
    ]
    assert request.findtext(f"{{{WSNT}}}ConsumerReference/{{{WSA}}}Address") == (
        "http://127.0.0.1:8080/events/notify/abc"
    )
    expression = request.find(f"{{{WSNT}}}Filter/{{{WSNT}}}TopicExpression")
    assert expression is not None
    assert expression.text == "tns1:RuleEngine//.|tns1:VideoSource/MotionAlarm"
    assert expression.nsmap["tns1"] == "http://www.onvif.org/ver10/topics"
    assert request.findtext(f"{{{WSNT}}}InitialTerminationTime") == "PT120S"


def test_build_subscribe_refuses_empty_values() -> None:
    with pytest.raises(LocalProtocolError, match="a push subscription needs a consumer address"):
        ops.build_subscribe("  ")
    with pytest.raises(LocalProtocolError, match="an empty topic filter selects nothing"):
        ops.build_subscribe("http://127.0.0.1/x", topic_filter=[" "])


def test_parse_subscribe_response() -> None:
    answer = etree.fromstring(
        f'<wsnt:SubscribeResponse xmlns:wsnt="{WSNT}" xmlns:wsa="{WSA}">'
        "<wsnt:SubscriptionReference><wsa:Address>http://192.0.2.9/sub/1</wsa:Address>"
        "</wsnt:SubscriptionReference>"
        "<wsnt:CurrentTime>2026-01-01T00:00:00Z</wsnt:CurrentTime>"
        "<wsnt:TerminationTime>2026-01-01T00:01:00Z</wsnt:TerminationTime>"
        "</wsnt:SubscribeResponse>"
    )
    reference = ops.parse_subscribe_response(answer)
    assert reference.address == "http://192.0.2.9/sub/1"
    assert reference.termination_time == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert reference.current_time == datetime(2026, 1, 1, tzinfo=UTC)
