"""Device management service (tds): request builders and response parsers."""

from __future__ import annotations

from lxml import etree

from platonicam.onvif.models.device import Capabilities, Service, SystemDateAndTime
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TDS
from platonicam.onvif.soap.xmlread import children, require


def build_get_system_date_and_time() -> etree._Element:
    return element(TDS, "GetSystemDateAndTime")


def parse_get_system_date_and_time(payload: etree._Element) -> SystemDateAndTime:
    operation = "GetSystemDateAndTime"
    return SystemDateAndTime.from_xml(require(payload, "SystemDateAndTime", operation=operation))


def build_get_services(*, include_capability: bool = False) -> etree._Element:
    request = element(TDS, "GetServices")
    sub(request, TDS, "IncludeCapability", xml_bool(include_capability))
    return request


def parse_get_services(payload: etree._Element) -> list[Service]:
    return [Service.from_xml(node) for node in children(payload, "Service")]


def build_get_capabilities(category: str = "All") -> etree._Element:
    request = element(TDS, "GetCapabilities")
    sub(request, TDS, "Category", category)
    return request


def parse_get_capabilities(payload: etree._Element) -> Capabilities:
    return Capabilities.from_xml(require(payload, "Capabilities", operation="GetCapabilities"))
