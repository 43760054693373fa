"""Analytics service (tan) types: rules, analytics modules and their descriptions.

ONVIF describes rules and analytics modules with one generic shape,
``tt:Config`` (a name, a type QName and a list of parameters) and
``tt:ConfigDescription`` (the parameters and event messages a type supports).
We type the *simple* items (name/value strings, name/type pairs) and keep only
the *names* of element items: their content is free-form XML (cell layouts,
polygons, vendor calibration blocks) that no client of ours interprets yet.

``type_name`` values are QNames as the camera wrote them (``tt:CellMotionEngine``,
``hikxsd:TamperEngine``); their prefixes are the camera's, so compare
:attr:`Config.type_local` when the namespace does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TAN, TT
from platonicam.onvif.soap.xmlread import attr, child, children, path_of, text, to_bool, to_int

__all__ = [
    "AnalyticsServiceCapabilities",
    "Config",
    "ConfigDescription",
    "MessageDescription",
    "SimpleItem",
    "SimpleItemDescription",
    "SupportedConfigs",
]


def _require_attr(element: etree._Element, name: str, operation: str | None) -> str:
    value = attr(element, name)
    if not value:
        raise RemoteProtocolError(
            f"missing attribute {name}", operation=operation, path=path_of(element)
        )
    return value


def _bool_attr(element: etree._Element, name: str, operation: str | None) -> bool | None:
    raw = attr(element, name)
    return to_bool(raw, element=element, operation=operation) if raw else None


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class AnalyticsServiceCapabilities:
    """``tan:Capabilities``. ``None`` means the camera did not say."""

    rule_support: bool | None = None
    analytics_module_support: bool | None = None
    cell_based_scene_description_supported: bool | None = None
    rule_options_supported: bool | None = None
    analytics_module_options_supported: bool | None = None
    supported_metadata: bool | None = None
    image_sending_type: tuple[str, ...] = ()

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str = "GetServiceCapabilities"
    ) -> AnalyticsServiceCapabilities:
        op = operation
        return cls(
            rule_support=_bool_attr(element, "RuleSupport", op),
            analytics_module_support=_bool_attr(element, "AnalyticsModuleSupport", op),
            cell_based_scene_description_supported=_bool_attr(
                element, "CellBasedSceneDescriptionSupported", op
            ),
            rule_options_supported=_bool_attr(element, "RuleOptionsSupported", op),
            analytics_module_options_supported=_bool_attr(
                element, "AnalyticsModuleOptionsSupported", op
            ),
            supported_metadata=_bool_attr(element, "SupportedMetadata", op),
            image_sending_type=tuple((attr(element, "ImageSendingType") or "").split()),
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TAN, "Capabilities")
        for name, value in (
            ("RuleSupport", self.rule_support),
            ("AnalyticsModuleSupport", self.analytics_module_support),
            ("CellBasedSceneDescriptionSupported", self.cell_based_scene_description_supported),
            ("RuleOptionsSupported", self.rule_options_supported),
            ("AnalyticsModuleOptionsSupported", self.analytics_module_options_supported),
            ("SupportedMetadata", self.supported_metadata),
        ):
            if value is not None:
                node.set(name, xml_bool(value))
        if self.image_sending_type:
            node.set("ImageSendingType", " ".join(self.image_sending_type))
        return node


@dataclass(frozen=True, slots=True)
class SimpleItem:
    """``tt:SimpleItem``: one named parameter value, kept as the camera's text."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Config:
    """``tt:Config``: one rule or analytics module.

    ``parameters`` are the simple items in document order; ``element_items``
    the names of the element items (their XML content is not kept, so
    :meth:`to_xml` writes them empty).
    """

    name: str
    type_name: str
    parameters: tuple[SimpleItem, ...] = ()
    element_items: tuple[str, ...] = ()

    @property
    def type_local(self) -> str:
        """``type_name`` without its prefix (``tt:LineDetector`` -> ``LineDetector``)."""
        return _local(self.type_name)

    def parameter(self, name: str) -> str | None:
        """The value of the simple item called ``name``, or ``None``."""
        return next((item.value for item in self.parameters if item.name == name), None)

    @classmethod
    def from_xml(cls, element: etree._Element, *, operation: str | None = None) -> Config:
        parameters = child(element, "Parameters")
        simple = (
            tuple(
                SimpleItem(
                    name=_require_attr(node, "Name", operation),
                    # ``Value`` may be legitimately empty: the Pelco D6230L has
                    # ``ActiveCells`` with Value="" (corpus
                    # media/pelco_D6230L_GetVideoAnalyticsConfigurations.xml).
                    value=attr(node, "Value") or "",
                )
                for node in children(parameters, "SimpleItem")
            )
            if parameters is not None
            else ()
        )
        elements = (
            tuple(
                _require_attr(node, "Name", operation)
                for node in children(parameters, "ElementItem")
            )
            if parameters is not None
            else ()
        )
        return cls(
            name=_require_attr(element, "Name", operation),
            type_name=_require_attr(element, "Type", operation),
            parameters=simple,
            element_items=elements,
        )

    def to_xml(self, parent: etree._Element, name: str) -> etree._Element:
        """Write the config as ``<tan:{name}>`` (``Rule`` or ``AnalyticsModule``)."""
        node = sub(parent, TAN, name, Name=self.name, Type=self.type_name)
        parameters = sub(node, TT, "Parameters")
        for item in self.parameters:
            sub(parameters, TT, "SimpleItem", Name=item.name, Value=item.value)
        for element_name in self.element_items:
            sub(parameters, TT, "ElementItem", Name=element_name)
        return node


@dataclass(frozen=True, slots=True)
class SimpleItemDescription:
    """``tt:SimpleItemDescription`` (also used for element items): a name and a type QName."""

    name: str
    type_name: str

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str | None = None
    ) -> SimpleItemDescription:
        return cls(
            name=_require_attr(element, "Name", operation),
            type_name=_require_attr(element, "Type", operation),
        )

    def to_xml(self, parent: etree._Element, name: str) -> etree._Element:
        return sub(parent, TT, name, Name=self.name, Type=self.type_name)


def _item_list(
    element: etree._Element | None, name: str, operation: str | None
) -> tuple[SimpleItemDescription, ...]:
    if element is None:
        return ()
    return tuple(
        SimpleItemDescription.from_xml(node, operation=operation)
        for node in children(element, name)
    )


def _write_item_list(
    parent: etree._Element,
    name: str,
    simple: tuple[SimpleItemDescription, ...],
    elements: tuple[SimpleItemDescription, ...] = (),
) -> None:
    node = sub(parent, TT, name)
    for item in simple:
        item.to_xml(node, "SimpleItemDescription")
    for item in elements:
        item.to_xml(node, "ElementItemDescription")


@dataclass(frozen=True, slots=True)
class MessageDescription:
    """One ``Messages`` entry of a description: the event a rule or module emits.

    ``parent_topic`` is the topic expression as written (``tns1:RuleEngine/...``).
    """

    is_property: bool | None = None
    source: tuple[SimpleItemDescription, ...] = ()
    key: tuple[SimpleItemDescription, ...] = ()
    data: tuple[SimpleItemDescription, ...] = ()
    parent_topic: str | None = None

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str | None = None
    ) -> MessageDescription:
        return cls(
            is_property=_bool_attr(element, "IsProperty", operation),
            source=_item_list(child(element, "Source"), "SimpleItemDescription", operation),
            key=_item_list(child(element, "Key"), "SimpleItemDescription", operation),
            data=_item_list(child(element, "Data"), "SimpleItemDescription", operation),
            parent_topic=text(element, "ParentTopic") or None,
        )

    def to_xml(self, parent: etree._Element) -> etree._Element:
        node = sub(parent, TT, "Messages")
        if self.is_property is not None:
            node.set("IsProperty", xml_bool(self.is_property))
        for name, items in (("Source", self.source), ("Key", self.key), ("Data", self.data)):
            if items:
                _write_item_list(node, name, items)
        if self.parent_topic is not None:
            sub(node, TT, "ParentTopic", self.parent_topic)
        return node


@dataclass(frozen=True, slots=True)
class ConfigDescription:
    """``tt:ConfigDescription``: what one rule or analytics module type accepts and emits."""

    name: str
    parameters: tuple[SimpleItemDescription, ...] = ()
    element_items: tuple[SimpleItemDescription, ...] = ()
    messages: tuple[MessageDescription, ...] = ()
    fixed: bool | None = None
    max_instances: int | None = None

    @property
    def name_local(self) -> str:
        """``name`` without its prefix (``tt:CellMotionDetector`` -> ``CellMotionDetector``)."""
        return _local(self.name)

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, operation: str | None = None
    ) -> ConfigDescription:
        parameters = child(element, "Parameters")
        max_instances = attr(element, "maxInstances")
        return cls(
            name=_require_attr(element, "Name", operation),
            parameters=_item_list(parameters, "SimpleItemDescription", operation),
            element_items=_item_list(parameters, "ElementItemDescription", operation),
            messages=tuple(
                MessageDescription.from_xml(node, operation=operation)
                for node in children(element, "Messages")
            ),
            fixed=_bool_attr(element, "fixed", operation),
            max_instances=(
                to_int(max_instances, element=element, operation=operation)
                if max_instances
                else None
            ),
        )

    def to_xml(self, parent: etree._Element, name: str) -> etree._Element:
        node = sub(parent, TT, name, Name=self.name)
        if self.fixed is not None:
            node.set("fixed", xml_bool(self.fixed))
        if self.max_instances is not None:
            node.set("maxInstances", str(self.max_instances))
        _write_item_list(node, "Parameters", self.parameters, self.element_items)
        for message in self.messages:
            message.to_xml(node)
        return node


@dataclass(frozen=True, slots=True)
class SupportedConfigs:
    """``tt:SupportedRules`` or ``tt:SupportedAnalyticsModules``: the schema locations
    and the description of each supported type."""

    schema_locations: tuple[str, ...] = ()
    descriptions: tuple[ConfigDescription, ...] = ()

    def find(self, name: str) -> ConfigDescription | None:
        """The description whose name (with or without prefix) is ``name``."""
        local = _local(name)
        return next((d for d in self.descriptions if d.name_local == local), None)

    @classmethod
    def from_xml(
        cls, element: etree._Element, *, kind: str, operation: str | None = None
    ) -> SupportedConfigs:
        """``kind`` is ``Rule`` or ``AnalyticsModule`` (it names the child elements)."""
        return cls(
            schema_locations=tuple(
                value
                for node in children(element, f"{kind}ContentSchemaLocation")
                if (value := text(node))
            ),
            descriptions=tuple(
                ConfigDescription.from_xml(node, operation=operation)
                for node in children(element, f"{kind}Description")
            ),
        )

    def to_xml(self, parent: etree._Element, *, kind: str) -> etree._Element:
        wrapper = "SupportedRules" if kind == "Rule" else "SupportedAnalyticsModules"
        node = sub(parent, TAN, wrapper)
        for location in self.schema_locations:
            sub(node, TT, f"{kind}ContentSchemaLocation", location)
        for description in self.descriptions:
            description.to_xml(node, f"{kind}Description")
        return node
