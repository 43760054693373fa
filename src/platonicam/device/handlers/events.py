"""Event service (``tev``) and WS-BaseNotification (``wsnt``) handlers: PullPoint,
push (``wsnt:Subscribe``) and Profile M event brokers.

A subscription's address is ``/onvif/pullpoint/<id>``, pulled or pushed alike:
PullMessages, Renew, Unsubscribe and SetSynchronizationPoint find it by the
path they were posted to, or by ``wsa:To`` for clients that post them to the
event service address. Subscribe's pushes are delivered by
:mod:`platonicam.device.push`; a push subscription cannot be pulled.

AddEventBroker, GetEventBrokers and DeleteEventBroker configure the MQTT
brokers the device publishes its events to (:mod:`platonicam.device.broker`);
GetServiceCapabilities advertises them as Profile M devices do, with
``EventBrokerProtocols`` and ``MaxEventBrokers``.
"""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from platonicam.device.broker import PROTOCOLS
from platonicam.device.events import TOPIC_EXPRESSION_DIALECTS, PullPoint, TopicFilter
from platonicam.device.faults import DeviceFault, invalid_args
from platonicam.device.handlers.base import Registry, Request, optional_arg, require_child
from platonicam.device.paths import PULLPOINT_PREFIX
from platonicam.device.push import check_consumer
from platonicam.device.security import AccessClass
from platonicam.onvif.models.events import (
    EventBroker,
    EventProperties,
    EventServiceCapabilities,
    PullMessagesResult,
    RenewResult,
    SubscriptionReference,
    format_event_time,
)
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TEV, WSA, WSNT
from platonicam.onvif.soap.xmlread import child, duration_at, int_at, text

registry = Registry(TEV)
notification = Registry(WSNT)
Element = etree._Element

_ITEM_FILTER = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"


def _subscription(request: Request) -> PullPoint:
    path = request.path
    if not path.startswith(PULLPOINT_PREFIX):
        to = text(request.header, "To") if request.header is not None else None
        marker = to.find(PULLPOINT_PREFIX) if to else -1
        if to is None or marker < 0:
            raise DeviceFault(
                "no subscription addressed (post to the subscription's address)",
                subcodes=("InvalidArgVal", "ResourceUnknownFault"),
            )
        path = to[marker:]
    return request.device.events.get(path[len(PULLPOINT_PREFIX) :].split("?", 1)[0])


@registry.op("GetServiceCapabilities", AccessClass.PRE_AUTH)
async def get_service_capabilities(request: Request, payload: Element) -> Element:
    response = registry.response("GetServiceCapabilities")
    EventServiceCapabilities(
        ws_subscription_policy_support=False,
        ws_pull_point_support=True,
        ws_pausable_subscription_manager_interface_support=False,
        max_notification_producers=0,
        max_pull_points=request.device.events.limits.max_pull_points,
        persistent_notification_storage=False,
        event_broker_protocols=PROTOCOLS,
        max_event_brokers=request.device.brokers.options.max_brokers,
    ).to_xml(response)
    return response


@registry.op("GetEventProperties", AccessClass.READ_MEDIA)
async def get_event_properties(request: Request, payload: Element) -> Element:
    return EventProperties(
        topic_namespace_locations=("http://www.onvif.org/onvif/ver10/topics/topicns.xml",),
        fixed_topic_set=True,
        topics=request.device.events.topics(),
        topic_expression_dialects=TOPIC_EXPRESSION_DIALECTS,
        message_content_filter_dialects=(_ITEM_FILTER,),
        message_content_schema_locations=("http://www.onvif.org/onvif/ver10/schema/onvif.xsd",),
    ).to_xml()


@registry.op("CreatePullPointSubscription", AccessClass.READ_MEDIA)
async def create_pull_point_subscription(request: Request, payload: Element) -> Element:
    expression = child(payload, "Filter", "TopicExpression")
    topic_filter = None
    if expression is not None and (expression.text or "").strip():
        topic_filter = TopicFilter.parse(expression.text or "", expression.nsmap)
    hub = request.device.events
    subscription = hub.subscribe(topic_filter, text(payload, "InitialTerminationTime"))
    return SubscriptionReference(
        address=request.url(PULLPOINT_PREFIX + subscription.id),
        current_time=request.device.device_time(),
        termination_time=subscription.termination,
    ).to_xml()


@notification.op("Subscribe", AccessClass.READ_MEDIA)
async def subscribe(request: Request, payload: Element) -> Element:
    address = text(payload, "ConsumerReference", "Address")
    if not address:
        raise invalid_args("Subscribe needs ConsumerReference/Address")
    consumer = check_consumer(address)
    expression = child(payload, "Filter", "TopicExpression")
    topic_filter = None
    if expression is not None and (expression.text or "").strip():
        topic_filter = TopicFilter.parse(expression.text or "", expression.nsmap)
    subscription = request.device.events.subscribe(
        topic_filter, text(payload, "InitialTerminationTime"), consumer=consumer
    )
    request.device.push.start(subscription)
    response = notification.response("Subscribe")
    reference = sub(response, WSNT, "SubscriptionReference")
    sub(reference, WSA, "Address", request.url(PULLPOINT_PREFIX + subscription.id))
    sub(response, WSNT, "CurrentTime", format_event_time(request.device.device_time()))
    sub(response, WSNT, "TerminationTime", format_event_time(subscription.termination))
    return response


@registry.op("PullMessages", AccessClass.READ_MEDIA)
async def pull_messages(request: Request, payload: Element) -> Element:
    subscription = _subscription(request)
    if subscription.consumer is not None:
        raise DeviceFault(
            f"subscription {subscription.id!r} pushes its messages: it cannot be pulled",
            subcodes=("InvalidArgVal",),
        )
    timeout = duration_at(payload, "Timeout") or timedelta(seconds=10)
    limit = int_at(payload, "MessageLimit") or 100
    messages = await request.device.events.pull(subscription, timeout, limit)
    return PullMessagesResult(
        current_time=request.device.device_time(),
        termination_time=subscription.termination,
        messages=tuple(messages),
    ).to_xml()


@registry.op("SetSynchronizationPoint", AccessClass.READ_MEDIA)
async def set_synchronization_point(request: Request, payload: Element) -> Element:
    request.device.events.synchronize(_subscription(request))
    return registry.response("SetSynchronizationPoint")


@notification.op("Renew", AccessClass.READ_MEDIA)
async def renew(request: Request, payload: Element) -> Element:
    subscription = _subscription(request)
    termination = request.device.events.renew(subscription, text(payload, "TerminationTime"))
    return RenewResult(
        termination_time=termination, current_time=request.device.device_time()
    ).to_xml()


@notification.op("Unsubscribe", AccessClass.READ_MEDIA)
async def unsubscribe(request: Request, payload: Element) -> Element:
    request.device.events.unsubscribe(_subscription(request))
    return notification.response("Unsubscribe")


# ---------------------------------------------------------------------- Profile M


@registry.op("AddEventBroker", AccessClass.WRITE_SYSTEM)
async def add_event_broker(request: Request, payload: Element) -> Element:
    node = require_child(payload, "EventBroker")
    config = EventBroker.from_xml(node, operation="AddEventBroker")
    expression = child(node, "PublishFilter", "TopicExpression")
    namespaces = expression.nsmap if expression is not None else None
    await request.device.brokers.add(config, namespaces)
    return registry.response("AddEventBroker")


@registry.op("GetEventBrokers", AccessClass.READ_MEDIA)
async def get_event_brokers(request: Request, payload: Element) -> Element:
    response = registry.response("GetEventBrokers")
    for config in request.device.brokers.configurations(optional_arg(payload, "Address")):
        config.to_xml(response)
    return response


@registry.op("DeleteEventBroker", AccessClass.WRITE_SYSTEM)
async def delete_event_broker(request: Request, payload: Element) -> Element:
    address = text(payload, "Address")
    if not address:
        raise invalid_args("DeleteEventBroker needs Address")
    await request.device.brokers.delete(address)
    return registry.response("DeleteEventBroker")
