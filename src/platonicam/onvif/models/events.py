"""Event service (tev, wsnt) and metadata-stream types.

Strategy for topics: a topic is written as a path of QName-like segments
(``tns1:RuleEngine/CellMotionDetector/Motion``, ``tns1:Device/tnsaxis:IO/Port``),
and the prefixes in it mean whatever the *camera's* namespace declarations say
they mean. We resolve every prefix through the element's in-scope namespaces and
write the path again with one canonical prefix per known namespace URI
(:data:`TOPIC_PREFIXES`), so ``ns1:RuleEngine/...`` from a camera that binds
``ns1`` to the ONVIF topic namespace reads as ``tns1:RuleEngine/...``. Prefixes
bound to namespaces we do not know are kept as the camera wrote them. The
normalised :attr:`OnvifEvent.topic` drops the prefixes altogether
(``RuleEngine/CellMotionDetector/Motion``); per-vendor meaning is for the
``events`` layer above.

Topic sets (GetEventProperties) spell the same paths as nested elements; a
segment is prefixed there exactly when its element is, which gives the same
canonical path as the notifications carry.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.build import element as new_element
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TEV, TNS1, TT, WSA, WSNT, WSTOP, local_name, qn
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import (
    attr,
    child,
    children,
    datetime_at,
    int_at,
    path_of,
    require,
    text,
    to_bool,
    to_datetime,
    to_float,
    to_int,
)

Element = etree._Element

#: ``Dialect`` of ONVIF's concrete topic expressions (with ``|`` unions and ``//.``).
CONCRETE_SET_DIALECT: Final = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
#: WS-Topics simple and concrete dialects (Axis writes Simple in its metadata stream).
SIMPLE_DIALECT: Final = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple"
CONCRETE_DIALECT: Final = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"

AXIS_TOPICS: Final = "http://www.axis.com/2009/event/topics"
HIKVISION_TOPICS: Final = "http://www.hikvision.com/2011/event/topics"
AJAX_TOPICS: Final = "http://ajax.systems/onvif/topics"

#: Canonical prefix per topic namespace URI. The vendor URIs are the ones the
#: corpus shows: Axis in ``events/axis_unknown_MetadataStream-*.xml``, Hikvision
#: in ``events/hikvision_DS-2CD2012-I_PullMessages.xml``, Ajax in the ElementItem
#: of ``events/ajax_unknown_NotificationMessage-ajax-line-crossing.json``.
TOPIC_PREFIXES: Final[Mapping[str, str]] = {
    TNS1: "tns1",
    AXIS_TOPICS: "tnsaxis",
    HIKVISION_TOPICS: "tnshik",
    AJAX_TOPICS: "tnsajax",
}
#: The other way round: the namespace URI of each canonical prefix.
TOPIC_NAMESPACES: Final[Mapping[str, str]] = {p: u for u, p in TOPIC_PREFIXES.items()}


# ---------------------------------------------------------------------- topics


@dataclass(frozen=True, slots=True)
class TopicPath:
    """A topic with its prefixes resolved.

    ``path`` is the canonical prefixed form, ``name`` the same path without any
    prefix, ``namespace`` the URI of the root segment (``None`` when the camera
    left it unqualified or used an undeclared prefix), ``namespaces`` the URI of
    every prefix ``path`` uses (what a writer must declare).
    """

    path: str
    name: str
    namespace: str | None
    namespaces: dict[str, str]


def _join_segments(
    segments: Iterable[tuple[str | None, str | None, str]],
) -> TopicPath:
    """``(camera prefix, namespace URI, local name)`` per segment -> :class:`TopicPath`."""
    written: list[str] = []
    names: list[str] = []
    namespaces: dict[str, str] = {}
    root_namespace: str | None = None
    for index, (prefix, uri, local) in enumerate(segments):
        names.append(local)
        if index == 0:
            root_namespace = uri
        if prefix is None and uri is None:
            written.append(local)
            continue
        canonical = TOPIC_PREFIXES.get(uri, prefix) if uri is not None else prefix
        if canonical is None:  # an unprefixed root in a known default namespace
            written.append(local)
            continue
        if uri is not None:
            namespaces[canonical] = uri
        written.append(f"{canonical}:{local}")
    return TopicPath("/".join(written), "/".join(names), root_namespace, namespaces)


def resolve_topic(
    raw: str,
    nsmap: Mapping[str | None, str],
    *,
    element: Element | None = None,
    operation: str | None = None,
) -> TopicPath:
    """Resolve the text of a ``wsnt:Topic`` with the element's in-scope namespaces.

    White space around the text and around segments is ignored (the body-only
    capture ``events/unknown_unknown_PullMessages-body-only.xml`` pads the topic
    with newlines). An unprefixed root segment takes the default namespace when
    that is a known topic namespace. A prefix the element does not declare is
    kept as written. Raises :class:`RemoteProtocolError` for an empty topic or
    an empty segment (``tns1:RuleEngine//Motion``).
    """
    value = raw.strip()
    where = path_of(element) if element is not None else None
    if not value:
        raise RemoteProtocolError("empty event topic", operation=operation, path=where)
    segments: list[tuple[str | None, str | None, str]] = []
    for index, part in enumerate(value.split("/")):
        segment = part.strip()
        prefix, sep, local = segment.partition(":")
        if not sep:
            prefix, local = "", segment
        local = local.strip()
        prefix = prefix.strip()
        if not local or (sep and not prefix):
            raise RemoteProtocolError(
                f"malformed event topic {value!r}", operation=operation, path=where
            )
        if prefix:
            segments.append((prefix, nsmap.get(prefix), local))
        elif index == 0 and nsmap.get(None) in TOPIC_PREFIXES:
            segments.append((None, nsmap[None], local))
        else:
            segments.append((None, None, local))
    return _join_segments(segments)


def _declare(namespaces: Mapping[str, str]) -> dict[str, str] | None:
    """An ``nsmap`` for lxml (``None`` when there is nothing to declare)."""
    return dict(namespaces.items()) or None


# ---------------------------------------------------------------------- notifications


class PropertyOperation(enum.StrEnum):
    """How a property event relates to the property's state (ONVIF Core, 9.3.1)."""

    INITIALIZED = "Initialized"
    CHANGED = "Changed"
    DELETED = "Deleted"


_OPERATIONS: Final = {op.value.lower(): op for op in PropertyOperation}


def _simple_items(element: Element | None, *, operation: str | None) -> dict[str, str]:
    """``tt:SimpleItem Name= Value=`` children as a dict (a repeated name: last wins)."""
    items: dict[str, str] = {}
    if element is None:
        return items
    for item in children(element, "SimpleItem"):
        name = attr(item, "Name")
        if not name:
            raise RemoteProtocolError(
                "SimpleItem without a Name", operation=operation, path=path_of(item)
            )
        items[name] = attr(item, "Value") or ""
    return items


def _write_simple_items(parent: Element, name: str, items: Mapping[str, str]) -> None:
    node = sub(parent, TT, name)
    for key, value in items.items():
        sub(node, TT, "SimpleItem", Name=key, Value=value)


def format_event_time(value: datetime) -> str:
    """An aware datetime as ``xs:dateTime`` in UTC, keeping microseconds when present."""
    utc = value.astimezone(UTC)
    base = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{utc.microsecond:06d}Z" if utc.microsecond else f"{base}Z"


def _place(parent: Element | None, namespace: str, name: str) -> Element:
    return new_element(namespace, name) if parent is None else sub(parent, namespace, name)


@dataclass(frozen=True, slots=True)
class OnvifEvent:
    """One ``wsnt:NotificationMessage``: a topic, its items, when, and who sent it.

    ``topic`` is the prefix-free path (``RuleEngine/CellMotionDetector/Motion``),
    ``topic_path`` the canonical prefixed one (``tns1:RuleEngine/...``, see the
    module docstring), ``raw_topic`` the stripped text as the camera sent it.
    ``source``, ``key`` and ``data`` hold the ``tt:SimpleItem`` values, stripped
    of surrounding white space (ElementItems are not modelled). ``utc_time`` is
    aware UTC; it is ``None`` only when the camera leaves ``UtcTime`` out. ``property_operation`` is
    ``None`` for events that are not about a property.
    """

    topic: str
    topic_path: str
    raw_topic: str
    dialect: str | None = None
    topic_namespace: str | None = None
    topic_namespaces: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    key: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    utc_time: datetime | None = None
    property_operation: PropertyOperation | None = None
    producer_address: str | None = None
    subscription_address: str | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> OnvifEvent:
        """Read a ``wsnt:NotificationMessage``.

        Raises :class:`RemoteProtocolError` when the topic or the ``tt:Message``
        is missing, or a time or property operation is unreadable.
        """
        topic_node = require(element, "Topic", operation=operation)
        raw = (topic_node.text or "").strip()
        topic = resolve_topic(raw, topic_node.nsmap, element=topic_node, operation=operation)
        message = require(element, "Message", "Message", operation=operation)
        utc_raw = attr(message, "UtcTime")
        utc_time = to_datetime(utc_raw, element=message, operation=operation) if utc_raw else None
        op_raw = attr(message, "PropertyOperation")
        property_operation: PropertyOperation | None = None
        if op_raw:
            found = _OPERATIONS.get(op_raw.lower())
            if found is None:
                raise RemoteProtocolError(
                    f"unknown PropertyOperation {op_raw!r}",
                    operation=operation,
                    path=path_of(message),
                )
            property_operation = found
        return cls(
            topic=topic.name,
            topic_path=topic.path,
            raw_topic=raw,
            dialect=attr(topic_node, "Dialect") or None,
            topic_namespace=topic.namespace,
            topic_namespaces=topic.namespaces,
            source=_simple_items(child(message, "Source"), operation=operation),
            key=_simple_items(child(message, "Key"), operation=operation),
            data=_simple_items(child(message, "Data"), operation=operation),
            utc_time=utc_time,
            property_operation=property_operation,
            producer_address=text(element, "ProducerReference", "Address") or None,
            subscription_address=text(element, "SubscriptionReference", "Address") or None,
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        """Write the ``wsnt:NotificationMessage`` (under ``parent`` when given).

        The topic is written as :attr:`topic_path`, declaring the prefixes it
        uses; :attr:`raw_topic` is not written.
        """
        node = _place(parent, WSNT, "NotificationMessage")
        if self.subscription_address is not None:
            sub(sub(node, WSNT, "SubscriptionReference"), WSA, "Address", self.subscription_address)
        topic = etree.SubElement(node, qn(WSNT, "Topic"), nsmap=_declare(self.topic_namespaces))
        if self.dialect is not None:
            topic.set("Dialect", self.dialect)
        topic.text = self.topic_path
        if self.producer_address is not None:
            sub(sub(node, WSNT, "ProducerReference"), WSA, "Address", self.producer_address)
        message = sub(sub(node, WSNT, "Message"), TT, "Message")
        if self.utc_time is not None:
            message.set("UtcTime", format_event_time(self.utc_time))
        if self.property_operation is not None:
            message.set("PropertyOperation", self.property_operation.value)
        _write_simple_items(message, "Source", self.source)
        if self.key:
            _write_simple_items(message, "Key", self.key)
        _write_simple_items(message, "Data", self.data)
        return node


# ---------------------------------------------------------------------- topic set


@dataclass(frozen=True, slots=True)
class ItemDescription:
    """A ``tt:SimpleItemDescription`` (or ``ElementItemDescription`` when ``element``).

    ``type`` is the QName as written (``xs:boolean``, ``tt:ReferenceToken``);
    :attr:`type_name` drops its prefix, since cameras disagree on ``xs``/``xsd``.
    """

    name: str
    type: str
    element: bool = False

    @property
    def type_name(self) -> str:
        return self.type.rpartition(":")[2]


@dataclass(frozen=True, slots=True)
class TopicDescription:
    """One topic of a GetEventProperties topic set.

    ``described`` says whether the topic carries a ``tt:MessageDescription``
    (Hikvision marks inner nodes such as ``tns1:RuleEngine`` as topics without
    one: corpus ``events/hikvision_DS-2CD2012-I_GetEventProperties.xml``);
    ``is_property`` is its ``IsProperty`` flag, ``None`` when unstated.
    """

    topic: str
    topic_path: str
    topic_namespace: str | None = None
    topic_namespaces: dict[str, str] = field(default_factory=dict)
    described: bool = False
    is_property: bool | None = None
    source: tuple[ItemDescription, ...] = ()
    key: tuple[ItemDescription, ...] = ()
    data: tuple[ItemDescription, ...] = ()


def _item_descriptions(
    element: Element | None, *, operation: str | None
) -> tuple[ItemDescription, ...]:
    if element is None:
        return ()
    found: list[ItemDescription] = []
    for item in element:
        kind = local_name(item.tag)
        if kind not in ("SimpleItemDescription", "ElementItemDescription"):
            continue
        name = attr(item, "Name")
        if not name:
            raise RemoteProtocolError(
                f"{kind} without a Name", operation=operation, path=path_of(item)
            )
        found.append(
            ItemDescription(
                name=name, type=attr(item, "Type") or "", element=kind == "ElementItemDescription"
            )
        )
    return tuple(found)


def _segment_of(node: Element, *, is_root: bool) -> tuple[str | None, str | None, str]:
    uri = etree.QName(node).namespace
    # lxml-stubs type ``prefix`` as str, but it is None for unprefixed elements.
    prefix: str | None = node.prefix
    if not prefix:
        # An unprefixed element is an unqualified segment, unless it opens the
        # path in a default namespace that is a known topic namespace.
        if is_root and uri in TOPIC_PREFIXES:
            return (None, uri, local_name(node.tag))
        return (None, None, local_name(node.tag))
    return (prefix, uri, local_name(node.tag))


def _walk_topic_set(
    node: Element,
    trail: list[tuple[str | None, str | None, str]],
    found: list[TopicDescription],
    operation: str | None,
) -> None:
    for topic in node:
        if not isinstance(topic.tag, str) or local_name(topic.tag) == "MessageDescription":
            continue
        segments = [*trail, _segment_of(topic, is_root=not trail)]
        description = child(topic, "MessageDescription")
        flag = attr(topic, "topic")
        if (flag is not None and to_bool(flag, element=topic, operation=operation)) or (
            flag is None and description is not None
        ):
            path = _join_segments(segments)
            is_property_raw = attr(description, "IsProperty")
            found.append(
                TopicDescription(
                    topic=path.name,
                    topic_path=path.path,
                    topic_namespace=path.namespace,
                    topic_namespaces=path.namespaces,
                    described=description is not None,
                    is_property=(
                        to_bool(is_property_raw, element=description, operation=operation)
                        if is_property_raw
                        else None
                    ),
                    source=_item_descriptions(child(description, "Source"), operation=operation),
                    key=_item_descriptions(child(description, "Key"), operation=operation),
                    data=_item_descriptions(child(description, "Data"), operation=operation),
                )
            )
        _walk_topic_set(topic, segments, found, operation)


def _topic_segments(description: TopicDescription) -> list[tuple[str | None, str]]:
    """``(namespace URI or None, local name)`` per segment of a described topic."""
    result: list[tuple[str | None, str]] = []
    for part in description.topic_path.split("/"):
        prefix, sep, local = part.partition(":")
        if sep:
            result.append((description.topic_namespaces.get(prefix), local))
        else:
            result.append((None, part))
    return result


def _write_items(parent: Element, name: str, items: tuple[ItemDescription, ...]) -> None:
    if not items:
        return
    node = sub(parent, TT, name)
    for item in items:
        kind = "ElementItemDescription" if item.element else "SimpleItemDescription"
        sub(node, TT, kind, Name=item.name, Type=item.type)


@dataclass(frozen=True, slots=True)
class EventProperties:
    """The GetEventProperties answer: the topic set and the dialects the camera accepts."""

    topic_namespace_locations: tuple[str, ...] = ()
    fixed_topic_set: bool | None = None
    topics: tuple[TopicDescription, ...] = ()
    topic_expression_dialects: tuple[str, ...] = ()
    message_content_filter_dialects: tuple[str, ...] = ()
    producer_properties_filter_dialects: tuple[str, ...] = ()
    message_content_schema_locations: tuple[str, ...] = ()

    def find(self, topic: str) -> TopicDescription | None:
        """The description of ``topic``, by canonical path or by prefix-free name."""
        for description in self.topics:
            if topic in (description.topic_path, description.topic):
                return description
        return None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str = "GetEventProperties"
    ) -> EventProperties:
        """Read a ``tev:GetEventPropertiesResponse``."""

        def texts(name: str) -> tuple[str, ...]:
            return tuple(value for node in children(element, name) if (value := text(node) or ""))

        found: list[TopicDescription] = []
        topic_set = child(element, "TopicSet")
        if topic_set is not None:
            _walk_topic_set(topic_set, [], found, operation)
        fixed = text(element, "FixedTopicSet")
        return cls(
            topic_namespace_locations=texts("TopicNamespaceLocation"),
            fixed_topic_set=(
                to_bool(fixed, element=child(element, "FixedTopicSet"), operation=operation)
                if fixed
                else None
            ),
            topics=tuple(found),
            topic_expression_dialects=texts("TopicExpressionDialect"),
            message_content_filter_dialects=texts("MessageContentFilterDialect"),
            producer_properties_filter_dialects=texts("ProducerPropertiesFilterDialect"),
            message_content_schema_locations=texts("MessageContentSchemaLocation"),
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        """Write the ``tev:GetEventPropertiesResponse`` (under ``parent`` when given).

        Topics that follow each other share their common ancestors in the tree;
        the order of :attr:`topics` is kept, so reading it back gives equal topics.
        """
        node = _place(parent, TEV, "GetEventPropertiesResponse")
        for location in self.topic_namespace_locations:
            sub(node, TEV, "TopicNamespaceLocation", location)
        if self.fixed_topic_set is not None:
            sub(node, WSNT, "FixedTopicSet", xml_bool(self.fixed_topic_set))
        topic_set = sub(node, WSTOP, "TopicSet")
        for description in self.topics:
            cursor = topic_set
            segments = _topic_segments(description)
            for uri, local in segments:
                tag = qn(uri, local) if uri else local
                last = cursor[-1] if len(cursor) else None
                if last is not None and last.tag == tag:
                    cursor = last
                    continue
                nsmap = (
                    {TOPIC_PREFIXES.get(uri, _prefix_for(description, uri)): uri} if uri else None
                )
                cursor = etree.SubElement(cursor, tag, nsmap=nsmap)
            cursor.set(qn(WSTOP, "topic"), "true")
            if description.described:
                # The description must come before any child topic.
                md = etree.Element(qn(TT, "MessageDescription"))
                cursor.insert(0, md)
                if description.is_property is not None:
                    md.set("IsProperty", xml_bool(description.is_property))
                _write_items(md, "Source", description.source)
                _write_items(md, "Key", description.key)
                _write_items(md, "Data", description.data)
        for name, values in (
            ("TopicExpressionDialect", self.topic_expression_dialects),
            ("MessageContentFilterDialect", self.message_content_filter_dialects),
            ("ProducerPropertiesFilterDialect", self.producer_properties_filter_dialects),
            ("MessageContentSchemaLocation", self.message_content_schema_locations),
        ):
            namespace = WSNT if name == "TopicExpressionDialect" else TEV
            for value in values:
                sub(node, namespace, name, value)
        return node


def _prefix_for(description: TopicDescription, uri: str) -> str:
    for prefix, candidate in description.topic_namespaces.items():
        if candidate == uri:
            return prefix
    return "ns"


# ---------------------------------------------------------------------- capabilities


def _bool_attr(element: Element, name: str, operation: str) -> bool | None:
    raw = attr(element, name)
    return to_bool(raw, element=element, operation=operation) if raw else None


def _int_attr(element: Element, name: str, operation: str) -> int | None:
    raw = attr(element, name)
    return to_int(raw, element=element, operation=operation) if raw else None


@dataclass(frozen=True, slots=True)
class EventServiceCapabilities:
    """``tev:Capabilities``; every flag is ``None`` when the camera leaves it out.

    ``event_broker_protocols`` (Profile M) lists the schemes AddEventBroker
    accepts: ``mqtt``, ``mqtts``, ``ws``, ``wss``.
    """

    ws_subscription_policy_support: bool | None = None
    ws_pull_point_support: bool | None = None
    ws_pausable_subscription_manager_interface_support: bool | None = None
    max_notification_producers: int | None = None
    max_pull_points: int | None = None
    persistent_notification_storage: bool | None = None
    event_broker_protocols: tuple[str, ...] = ()
    max_event_brokers: int | None = None
    metadata_over_mqtt: bool | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str = "GetServiceCapabilities"
    ) -> EventServiceCapabilities:
        return cls(
            ws_subscription_policy_support=_bool_attr(
                element, "WSSubscriptionPolicySupport", operation
            ),
            ws_pull_point_support=_bool_attr(element, "WSPullPointSupport", operation),
            ws_pausable_subscription_manager_interface_support=_bool_attr(
                element, "WSPausableSubscriptionManagerInterfaceSupport", operation
            ),
            max_notification_producers=_int_attr(element, "MaxNotificationProducers", operation),
            max_pull_points=_int_attr(element, "MaxPullPoints", operation),
            persistent_notification_storage=_bool_attr(
                element, "PersistentNotificationStorage", operation
            ),
            event_broker_protocols=tuple((attr(element, "EventBrokerProtocols") or "").split()),
            max_event_brokers=_int_attr(element, "MaxEventBrokers", operation),
            metadata_over_mqtt=_bool_attr(element, "MetadataOverMQTT", operation),
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        """Write ``tev:Capabilities`` (under ``parent`` when given)."""
        node = _place(parent, TEV, "Capabilities")
        flags: tuple[tuple[str, bool | None], ...] = (
            ("WSSubscriptionPolicySupport", self.ws_subscription_policy_support),
            ("WSPullPointSupport", self.ws_pull_point_support),
            (
                "WSPausableSubscriptionManagerInterfaceSupport",
                self.ws_pausable_subscription_manager_interface_support,
            ),
            ("PersistentNotificationStorage", self.persistent_notification_storage),
            ("MetadataOverMQTT", self.metadata_over_mqtt),
        )
        for name, flag in flags:
            if flag is not None:
                node.set(name, xml_bool(flag))
        numbers: tuple[tuple[str, int | None], ...] = (
            ("MaxNotificationProducers", self.max_notification_producers),
            ("MaxPullPoints", self.max_pull_points),
            ("MaxEventBrokers", self.max_event_brokers),
        )
        for name, number in numbers:
            if number is not None:
                node.set(name, str(number))
        if self.event_broker_protocols:
            node.set("EventBrokerProtocols", " ".join(self.event_broker_protocols))
        return node


# ---------------------------------------------------------------------- subscriptions


def _serialise_parameter(node: Element) -> bytes:
    # A standalone copy declares only the namespaces it uses (cameras send
    # envelopes with dozens of declarations: corpus hikvision_*_PullMessages.xml).
    copy = etree.fromstring(etree.tostring(node))
    etree.cleanup_namespaces(copy)
    return etree.tostring(copy)


@dataclass(frozen=True, slots=True)
class SubscriptionReference:
    """A PullPoint subscription the camera created.

    ``address`` is the subscription manager's address as the camera wrote it
    (before NAT rewriting). ``reference_parameters`` are the children of
    ``wsa:ReferenceParameters``, each serialised verbatim: they go back to the
    camera as SOAP headers on every call to the subscription (the Pelco D6230L
    identifies subscriptions this way: ``events/pelco_D6230L_CreatePullPointSubscription.xml``).
    Times are aware UTC; ``None`` when the camera leaves them out.
    """

    address: str
    reference_parameters: tuple[bytes, ...] = ()
    current_time: datetime | None = None
    termination_time: datetime | None = None

    def reference_parameter_elements(self) -> list[Element]:
        """Fresh elements for :attr:`reference_parameters` (safe to move into a header)."""
        return [parse_xml(raw) for raw in self.reference_parameters]

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str = "CreatePullPointSubscription"
    ) -> SubscriptionReference:
        """Read a ``tev:CreatePullPointSubscriptionResponse``."""
        reference = require(element, "SubscriptionReference", operation=operation)
        address = text(reference, "Address")
        if not address:
            raise RemoteProtocolError(
                "subscription reference without an Address",
                operation=operation,
                path=path_of(reference),
            )
        parameters = child(reference, "ReferenceParameters")
        return cls(
            address=address,
            reference_parameters=tuple(
                _serialise_parameter(node)
                for node in (parameters if parameters is not None else ())
                if isinstance(node.tag, str)
            ),
            current_time=datetime_at(element, "CurrentTime", operation=operation),
            termination_time=datetime_at(element, "TerminationTime", operation=operation),
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        """Write the ``tev:CreatePullPointSubscriptionResponse`` (under ``parent``)."""
        node = _place(parent, TEV, "CreatePullPointSubscriptionResponse")
        reference = sub(node, TEV, "SubscriptionReference")
        sub(reference, WSA, "Address", self.address)
        if self.reference_parameters:
            holder = sub(reference, WSA, "ReferenceParameters")
            for element in self.reference_parameter_elements():
                holder.append(element)
        if self.current_time is not None:
            sub(node, WSNT, "CurrentTime", format_event_time(self.current_time))
        if self.termination_time is not None:
            sub(node, WSNT, "TerminationTime", format_event_time(self.termination_time))
        return node


@dataclass(frozen=True, slots=True)
class PullMessagesResult:
    """A PullMessages answer: the camera's time, the new termination time, the events."""

    current_time: datetime | None
    termination_time: datetime | None
    messages: tuple[OnvifEvent, ...] = ()

    @classmethod
    def from_xml(cls, element: Element, *, operation: str = "PullMessages") -> PullMessagesResult:
        return cls(
            current_time=datetime_at(element, "CurrentTime", operation=operation),
            termination_time=datetime_at(element, "TerminationTime", operation=operation),
            messages=tuple(
                OnvifEvent.from_xml(node, operation=operation)
                for node in children(element, "NotificationMessage")
            ),
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        node = _place(parent, TEV, "PullMessagesResponse")
        if self.current_time is not None:
            sub(node, TEV, "CurrentTime", format_event_time(self.current_time))
        if self.termination_time is not None:
            sub(node, TEV, "TerminationTime", format_event_time(self.termination_time))
        for message in self.messages:
            message.to_xml(node)
        return node


@dataclass(frozen=True, slots=True)
class RenewResult:
    """A ``wsnt:RenewResponse``: the new termination time (and the camera's time)."""

    termination_time: datetime | None
    current_time: datetime | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str = "Renew") -> RenewResult:
        return cls(
            termination_time=datetime_at(element, "TerminationTime", operation=operation),
            current_time=datetime_at(element, "CurrentTime", operation=operation),
        )

    def to_xml(self, parent: Element | None = None) -> Element:
        node = _place(parent, WSNT, "RenewResponse")
        if self.termination_time is not None:
            sub(node, WSNT, "TerminationTime", format_event_time(self.termination_time))
        if self.current_time is not None:
            sub(node, WSNT, "CurrentTime", format_event_time(self.current_time))
        return node


# ---------------------------------------------------------------------- Profile M brokers


class BrokerStatus(enum.StrEnum):
    """``tev:ConnectionStatus``."""

    OFFLINE = "Offline"
    CONNECTING = "Connecting"
    CONNECTED = "Connected"


def _filter_text(element: Element | None) -> str | None:
    if element is None:
        return None
    return text(element, "TopicExpression") or None


def _write_filter(parent: Element, name: str, expression: str) -> None:
    node = sub(parent, TEV, name)
    topic = etree.SubElement(
        node,
        qn(WSNT, "TopicExpression"),
        nsmap=_declare({p: u for p, u in TOPIC_NAMESPACES.items() if f"{p}:" in expression}),
    )
    topic.set("Dialect", CONCRETE_SET_DIALECT)
    topic.text = expression


@dataclass(frozen=True, slots=True)
class EventBroker:
    """A Profile M event broker configuration (``tev:EventBrokerConfig``).

    ``address`` is ``scheme://host:port[/resource]`` with a scheme from the
    camera's ``event_broker_protocols``; ``topic_prefix`` must not be empty.
    ``password`` is only ever sent (cameras never return it), and ``repr`` hides
    it. ``publish_filter`` and ``metadata_filter`` are concrete topic
    expressions. ``status`` is a :class:`BrokerStatus` value as a string, kept
    as written for values outside the enumeration.
    """

    address: str
    topic_prefix: str
    user_name: str | None = None
    password: str | None = field(default=None, repr=False)
    certificate_id: str | None = None
    publish_filter: str | None = None
    qos: int | None = None
    status: str | None = None
    cert_path_validation_policy_id: str | None = None
    metadata_filter: str | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str = "GetEventBrokers") -> EventBroker:
        address = text(element, "Address")
        if not address:
            raise RemoteProtocolError(
                "event broker without an Address", operation=operation, path=path_of(element)
            )
        return cls(
            address=address,
            topic_prefix=text(element, "TopicPrefix") or "",
            user_name=text(element, "UserName"),
            password=text(element, "Password"),
            certificate_id=text(element, "CertificateID") or None,
            publish_filter=_filter_text(child(element, "PublishFilter")),
            qos=int_at(element, "QoS", operation=operation),
            status=text(element, "Status") or None,
            cert_path_validation_policy_id=text(element, "CertPathValidationPolicyID") or None,
            metadata_filter=_filter_text(child(element, "MetadataFilter")),
        )

    def to_xml(self, parent: Element | None = None, *, name: str = "EventBroker") -> Element:
        """Write the configuration as ``tev:<name>`` (schema order)."""
        node = _place(parent, TEV, name)
        sub(node, TEV, "Address", self.address)
        sub(node, TEV, "TopicPrefix", self.topic_prefix)
        if self.user_name is not None:
            sub(node, TEV, "UserName", self.user_name)
        if self.password is not None:
            sub(node, TEV, "Password", self.password)
        if self.certificate_id is not None:
            sub(node, TEV, "CertificateID", self.certificate_id)
        if self.publish_filter is not None:
            _write_filter(node, "PublishFilter", self.publish_filter)
        if self.qos is not None:
            sub(node, TEV, "QoS", str(self.qos))
        if self.status is not None:
            sub(node, TEV, "Status", self.status)
        if self.cert_path_validation_policy_id is not None:
            sub(node, TEV, "CertPathValidationPolicyID", self.cert_path_validation_policy_id)
        if self.metadata_filter is not None:
            _write_filter(node, "MetadataFilter", self.metadata_filter)
        return node


# ---------------------------------------------------------------------- metadata stream


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A box in ONVIF's normalised coordinates: -1..1 on both axes, ``y`` pointing up
    (so ``top`` is normally greater than ``bottom``)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, slots=True)
class ObjectClass:
    """One class candidate of an object: ``tt:Type`` (or the deprecated ``ClassCandidate``)."""

    type: str
    likelihood: float | None = None


@dataclass(frozen=True, slots=True)
class MetadataObject:
    """One ``tt:Object`` of an analytics frame.

    ``box`` is normalised (the frame's and the appearance's ``tt:Transformation``
    applied); ``None`` when the camera gave no shape. ``classes`` keep every
    candidate in document order; :attr:`object_class` and :attr:`likelihood` name
    the most likely one.
    """

    object_id: int
    box: BoundingBox | None = None
    classes: tuple[ObjectClass, ...] = ()
    parent_id: int | None = None

    @property
    def best_class(self) -> ObjectClass | None:
        if not self.classes:
            return None
        return max(self.classes, key=lambda c: -1.0 if c.likelihood is None else c.likelihood)

    @property
    def object_class(self) -> str | None:
        best = self.best_class
        return best.type if best is not None else None

    @property
    def likelihood(self) -> float | None:
        best = self.best_class
        return best.likelihood if best is not None else None


def _float(raw: str | None, element: Element, operation: str | None, default: float) -> float:
    return to_float(raw, element=element, operation=operation) if raw else default


_Transform = tuple[float, float, float, float]  # translate x, y, scale x, y
_IDENTITY: Final[_Transform] = (0.0, 0.0, 1.0, 1.0)


def _compose(outer: _Transform, node: Element | None, operation: str | None) -> _Transform:
    """The coordinate system after a ``tt:Transformation`` inside ``outer`` (Analytics spec,
    "Transformation": p_normalised = t + s * p, and nested nodes compose)."""
    if node is None:
        return outer
    translate = child(node, "Translate")
    scale = child(node, "Scale")
    tx = _float(attr(translate, "x"), node, operation, 0.0)
    ty = _float(attr(translate, "y"), node, operation, 0.0)
    sx = _float(attr(scale, "x"), node, operation, 1.0)
    sy = _float(attr(scale, "y"), node, operation, 1.0)
    otx, oty, osx, osy = outer
    return (otx + osx * tx, oty + osy * ty, osx * sx, osy * sy)


def _object_from_xml(node: Element, transform: _Transform, operation: str | None) -> MetadataObject:
    raw_id = attr(node, "ObjectId")
    if not raw_id:
        raise RemoteProtocolError(
            "Object without an ObjectId", operation=operation, path=path_of(node)
        )
    appearance = child(node, "Appearance")
    local = _compose(transform, child(appearance, "Transformation"), operation)
    box_node = child(appearance, "Shape", "BoundingBox")
    box: BoundingBox | None = None
    if box_node is not None:
        tx, ty, sx, sy = local
        values = {}
        for side in ("left", "top", "right", "bottom"):
            raw = attr(box_node, side)
            if not raw:
                raise RemoteProtocolError(
                    f"BoundingBox without {side}", operation=operation, path=path_of(box_node)
                )
            values[side] = to_float(raw, element=box_node, operation=operation)
        box = BoundingBox(
            left=tx + sx * values["left"],
            top=ty + sy * values["top"],
            right=tx + sx * values["right"],
            bottom=ty + sy * values["bottom"],
        )
    classes: list[ObjectClass] = []
    class_node = child(appearance, "Class")
    if class_node is not None:
        for candidate in children(class_node, "ClassCandidate"):
            kind = text(candidate, "Type")
            if kind:
                likelihood_node = child(candidate, "Likelihood")
                likelihood = (
                    to_float(likelihood_node.text or "", element=likelihood_node)
                    if likelihood_node is not None and (likelihood_node.text or "").strip()
                    else None
                )
                classes.append(ObjectClass(kind, likelihood))
        for type_node in children(class_node, "Type"):
            kind = text(type_node)
            if kind:
                raw = attr(type_node, "Likelihood")
                classes.append(
                    ObjectClass(
                        kind,
                        to_float(raw, element=type_node, operation=operation) if raw else None,
                    )
                )
    parent_raw = attr(node, "Parent")
    return MetadataObject(
        object_id=to_int(raw_id, element=node, operation=operation),
        box=box,
        classes=tuple(classes),
        parent_id=to_int(parent_raw, element=node, operation=operation) if parent_raw else None,
    )


def _float_text(value: float) -> str:
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class MetadataFrame:
    """One ``tt:MetadataStream`` document (one RTSP metadata access unit).

    ``utc_time`` and ``source`` come from the first ``tt:Frame``; ``objects``
    gather the objects of every frame in the document, ``events`` the
    notifications of its ``tt:Event`` blocks. Documents with only events (the
    Axis captures ``events/axis_unknown_MetadataStream-*.xml``) have no time of
    their own: use the events' ``utc_time``.
    """

    utc_time: datetime | None = None
    source: str | None = None
    objects: tuple[MetadataObject, ...] = ()
    events: tuple[OnvifEvent, ...] = ()

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = "MetadataStream"
    ) -> MetadataFrame:
        if local_name(element.tag) != "MetadataStream":
            raise RemoteProtocolError(
                f"expected tt:MetadataStream, got <{local_name(element.tag)}>",
                operation=operation,
                path=path_of(element),
            )
        utc_time: datetime | None = None
        source: str | None = None
        objects: list[MetadataObject] = []
        events: list[OnvifEvent] = []
        first = True
        for block in element:
            kind = local_name(block.tag)
            if kind == "VideoAnalytics":
                for frame in children(block, "Frame"):
                    if first:
                        raw_time = attr(frame, "UtcTime")
                        utc_time = (
                            to_datetime(raw_time, element=frame, operation=operation)
                            if raw_time
                            else None
                        )
                        source = attr(frame, "Source") or None
                        first = False
                    transform = _compose(_IDENTITY, child(frame, "Transformation"), operation)
                    objects.extend(
                        _object_from_xml(node, transform, operation)
                        for node in children(frame, "Object")
                    )
            elif kind == "Event":
                events.extend(
                    OnvifEvent.from_xml(node, operation=operation)
                    for node in children(block, "NotificationMessage")
                )
        return cls(utc_time=utc_time, source=source, objects=tuple(objects), events=tuple(events))

    def to_xml(self, parent: Element | None = None) -> Element:
        """Write a ``tt:MetadataStream`` with one frame (when there is a time or an
        object) and one event block (when there are events); boxes are written in
        normalised coordinates, without a transformation."""
        node = _place(parent, TT, "MetadataStream")
        if self.utc_time is not None or self.objects:
            frame = sub(sub(node, TT, "VideoAnalytics"), TT, "Frame")
            if self.utc_time is not None:
                frame.set("UtcTime", format_event_time(self.utc_time))
            if self.source is not None:
                frame.set("Source", self.source)
            for item in self.objects:
                obj = sub(frame, TT, "Object", ObjectId=str(item.object_id))
                if item.parent_id is not None:
                    obj.set("Parent", str(item.parent_id))
                if item.box is None and not item.classes:
                    continue
                appearance = sub(obj, TT, "Appearance")
                if item.box is not None:
                    box = item.box
                    shape = sub(appearance, TT, "Shape")
                    sub(
                        shape,
                        TT,
                        "BoundingBox",
                        left=_float_text(box.left),
                        top=_float_text(box.top),
                        right=_float_text(box.right),
                        bottom=_float_text(box.bottom),
                    )
                    sub(
                        shape,
                        TT,
                        "CenterOfGravity",
                        x=_float_text((box.left + box.right) / 2),
                        y=_float_text((box.top + box.bottom) / 2),
                    )
                if item.classes:
                    class_node = sub(appearance, TT, "Class")
                    for candidate in item.classes:
                        type_node = sub(class_node, TT, "Type", candidate.type)
                        if candidate.likelihood is not None:
                            type_node.set("Likelihood", _float_text(candidate.likelihood))
        if self.events:
            block = sub(node, TT, "Event")
            for event in self.events:
                event.to_xml(block)
        return node
