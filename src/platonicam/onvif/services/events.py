"""Event service (tev) and WS-BaseNotification (wsnt): request builders and response parsers.

Operations on the event service itself (GetServiceCapabilities,
GetEventProperties, CreatePullPointSubscription and the Profile M broker
operations) go to the service address. PullMessages, Renew, Unsubscribe and
SetSynchronizationPoint go to the *subscription's* address, with the
WS-Addressing headers :func:`build_subscription_headers` makes: ``wsa:To``,
``wsa:Action`` and the reference parameters the camera handed out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.events import (
    CONCRETE_SET_DIALECT,
    TOPIC_NAMESPACES,
    EventBroker,
    EventProperties,
    EventServiceCapabilities,
    PullMessagesResult,
    RenewResult,
    SubscriptionReference,
)
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.namespaces import TEV, WSA, WSNT, qn
from platonicam.onvif.soap.xmlread import children, format_datetime, format_duration, require

Element = etree._Element

#: WS-Addressing actions of the subscription operations (event.wsdl bindings).
PULL_MESSAGES_ACTION: Final = (
    "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest"
)
SET_SYNCHRONIZATION_POINT_ACTION: Final = (
    "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SetSynchronizationPointRequest"
)
RENEW_ACTION: Final = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest"
UNSUBSCRIBE_ACTION: Final = (
    "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest"
)

#: A termination time: relative to the camera's clock, or an absolute instant.
Termination = timedelta | datetime

_PREFIX_USE = re.compile(r"([A-Za-z_][\w.-]*):")


# ---------------------------------------------------------------------- shared pieces


def format_termination(value: Termination) -> str:
    """A termination time as ``wsnt:AbsoluteOrRelativeTimeType`` text.

    A timedelta becomes a relative ``xs:duration`` (``PT60S``), an aware
    datetime an absolute ``...Z`` time. Some cameras mishandle relative times
    (they subtract their own clock from a duration, or answer with a
    termination in the past); send an absolute time computed from the camera's
    clock to those. Raises :class:`LocalProtocolError` for a duration that is
    not positive or a naive datetime.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise LocalProtocolError(
                "an absolute termination time must be timezone-aware (camera time is UTC)"
            )
        return format_datetime(value)
    if value <= timedelta(0):
        raise LocalProtocolError(f"a relative termination time must be positive, got {value}")
    return format_duration(value)


def _topic_expression(
    parent: Element,
    expression: str,
    namespaces: Mapping[str, str] | None,
) -> Element:
    """A ``wsnt:TopicExpression`` in the ConcreteSet dialect, declaring its prefixes."""
    known = dict(TOPIC_NAMESPACES)
    known.update(namespaces or {})
    declared: dict[str, str] = {}
    for prefix in _PREFIX_USE.findall(expression):
        uri = known.get(prefix)
        if uri is None:
            raise LocalProtocolError(
                f"topic filter {expression!r} uses prefix {prefix!r} with no namespace; "
                "pass it in namespaces"
            )
        declared[prefix] = uri
    node = etree.SubElement(parent, qn(WSNT, "TopicExpression"), nsmap=declared or None)
    node.set("Dialect", CONCRETE_SET_DIALECT)
    node.text = expression
    return node


def build_subscription_headers(reference: SubscriptionReference, action: str) -> list[Element]:
    """The SOAP headers of a call to a subscription manager.

    ``wsa:Action`` and ``wsa:To`` (the address as the camera wrote it), then
    every reference parameter marked ``wsa:IsReferenceParameter="true"``, as
    WS-Addressing 1.0 binds an endpoint reference. Cameras that keep several
    subscriptions behind one address tell them apart by these (the Pelco D6230L's
    ``pwsa:SubscriptionId``: corpus ``events/pelco_D6230L_CreatePullPointSubscription.xml``).
    """
    headers = [element(WSA, "Action", action), element(WSA, "To", reference.address)]
    for parameter in reference.reference_parameter_elements():
        parameter.set(qn(WSA, "IsReferenceParameter"), "true")
        headers.append(parameter)
    return headers


# ---------------------------------------------------------------------- event service


def build_get_service_capabilities() -> Element:
    return element(TEV, "GetServiceCapabilities")


def parse_get_service_capabilities(payload: Element) -> EventServiceCapabilities:
    operation = "GetServiceCapabilities"
    return EventServiceCapabilities.from_xml(
        require(payload, "Capabilities", operation=operation), operation=operation
    )


def build_get_event_properties() -> Element:
    return element(TEV, "GetEventProperties")


def parse_get_event_properties(payload: Element) -> EventProperties:
    return EventProperties.from_xml(payload)


def build_create_pull_point_subscription(
    *,
    topic_filter: str | Sequence[str] | None = None,
    initial_termination: Termination | None = timedelta(minutes=1),
    namespaces: Mapping[str, str] | None = None,
) -> Element:
    """A CreatePullPointSubscription request.

    ``topic_filter`` is a ConcreteSet topic expression (``tns1:RuleEngine//.``)
    or several, joined as a union. The prefixes ``tns1``, ``tnsaxis``,
    ``tnshik`` and ``tnsajax`` are declared for you; others go in
    ``namespaces`` (prefix -> URI), or :class:`LocalProtocolError` is raised.
    ``initial_termination`` is relative (timedelta) or absolute (aware
    datetime), see :func:`format_termination`; ``None`` leaves it to the camera.
    """
    request = element(TEV, "CreatePullPointSubscription")
    if topic_filter is not None:
        parts = [topic_filter] if isinstance(topic_filter, str) else list(topic_filter)
        expression = "|".join(part.strip() for part in parts if part.strip())
        if not expression:
            raise LocalProtocolError("an empty topic filter selects nothing")
        _topic_expression(sub(request, TEV, "Filter"), expression, namespaces)
    if initial_termination is not None:
        sub(request, TEV, "InitialTerminationTime", format_termination(initial_termination))
    return request


def parse_create_pull_point_subscription(payload: Element) -> SubscriptionReference:
    return SubscriptionReference.from_xml(payload)


# ---------------------------------------------------------------------- subscription manager


def build_pull_messages(
    timeout: timedelta = timedelta(seconds=5), message_limit: int = 100
) -> Element:
    """A PullMessages request: wait up to ``timeout`` for at most ``message_limit`` events.

    Raises :class:`LocalProtocolError` for a negative timeout or a limit below 1.
    """
    if timeout < timedelta(0):
        raise LocalProtocolError(f"PullMessages timeout must not be negative, got {timeout}")
    if message_limit < 1:
        raise LocalProtocolError(
            f"PullMessages message limit must be at least 1, got {message_limit}"
        )
    request = element(TEV, "PullMessages")
    sub(request, TEV, "Timeout", format_duration(timeout))
    sub(request, TEV, "MessageLimit", str(message_limit))
    return request


def parse_pull_messages(payload: Element) -> PullMessagesResult:
    return PullMessagesResult.from_xml(payload)


def build_renew(termination: Termination = timedelta(minutes=1)) -> Element:
    """A ``wsnt:Renew`` with a relative or absolute termination time."""
    request = element(WSNT, "Renew")
    sub(request, WSNT, "TerminationTime", format_termination(termination))
    return request


def parse_renew(payload: Element) -> RenewResult:
    return RenewResult.from_xml(payload)


def build_unsubscribe() -> Element:
    return element(WSNT, "Unsubscribe")


def build_set_synchronization_point() -> Element:
    return element(TEV, "SetSynchronizationPoint")


# ---------------------------------------------------------------------- Profile M


def build_get_event_brokers(address: str | None = None) -> Element:
    """GetEventBrokers: all configurations, or the one at ``address``."""
    request = element(TEV, "GetEventBrokers")
    if address is not None:
        sub(request, TEV, "Address", address)
    return request


def parse_get_event_brokers(payload: Element) -> list[EventBroker]:
    return [EventBroker.from_xml(node) for node in children(payload, "EventBroker")]


def build_add_event_broker(broker: EventBroker) -> Element:
    """AddEventBroker (an existing configuration with the same address is replaced).

    Raises :class:`LocalProtocolError` for an empty topic prefix (the schema
    forbids it) or a QoS outside 0..2.
    """
    if not broker.topic_prefix.strip():
        raise LocalProtocolError("an event broker's topic prefix must not be empty")
    if broker.qos is not None and broker.qos not in (0, 1, 2):
        raise LocalProtocolError(f"MQTT QoS must be 0, 1 or 2, got {broker.qos}")
    request = element(TEV, "AddEventBroker")
    broker.to_xml(request)
    return request


def build_delete_event_broker(address: str) -> Element:
    request = element(TEV, "DeleteEventBroker")
    sub(request, TEV, "Address", address)
    return request


# ---------------------------------------------------------------------- WS-BaseNotification push


#: ``wsa:Action`` of a basic-notification Subscribe (WS-BaseNotification 1.3 WSDL).
SUBSCRIBE_ACTION: Final = (
    "http://docs.oasis-open.org/wsn/bw-2/NotificationProducer/SubscribeRequest"
)
#: ``wsa:Action`` of the Notify a camera pushes to a consumer.
NOTIFY_ACTION: Final = "http://docs.oasis-open.org/wsn/bw-2/NotificationConsumer/Notify"


def build_subscribe(
    consumer_address: str,
    *,
    topic_filter: str | Sequence[str] | None = None,
    initial_termination: Termination | None = timedelta(minutes=1),
    namespaces: Mapping[str, str] | None = None,
) -> Element:
    """A ``wsnt:Subscribe``: have the camera push ``wsnt:Notify`` to ``consumer_address``.

    ``topic_filter``, ``initial_termination`` and ``namespaces`` work as in
    :func:`build_create_pull_point_subscription`. Raises
    :class:`LocalProtocolError` for an empty consumer address.
    """
    if not consumer_address.strip():
        raise LocalProtocolError("a push subscription needs a consumer address")
    request = element(WSNT, "Subscribe")
    sub(sub(request, WSNT, "ConsumerReference"), WSA, "Address", consumer_address.strip())
    if topic_filter is not None:
        parts = [topic_filter] if isinstance(topic_filter, str) else list(topic_filter)
        expression = "|".join(part.strip() for part in parts if part.strip())
        if not expression:
            raise LocalProtocolError("an empty topic filter selects nothing")
        _topic_expression(sub(request, WSNT, "Filter"), expression, namespaces)
    if initial_termination is not None:
        sub(request, WSNT, "InitialTerminationTime", format_termination(initial_termination))
    return request


def parse_subscribe_response(payload: Element) -> SubscriptionReference:
    """A ``wsnt:SubscribeResponse``: the subscription manager's reference and times
    (the same shape as a CreatePullPointSubscription answer)."""
    return SubscriptionReference.from_xml(payload, operation="Subscribe")
