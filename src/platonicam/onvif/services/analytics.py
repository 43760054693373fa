"""Analytics service (tan, ver20): request builders, response parsers, response writers.

As in :mod:`platonicam.onvif.services.network`, each operation has a pure
``build_<operation>``, ``parse_<operation>`` and ``build_<operation>_response``;
``ConfigurationToken`` is the token of a VideoAnalyticsConfiguration (Media).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.analytics import AnalyticsServiceCapabilities, Config, SupportedConfigs
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.namespaces import TAN
from platonicam.onvif.soap.xmlread import children, require


def _with_token(operation: str, configuration_token: str) -> etree._Element:
    if not configuration_token.strip():
        raise LocalProtocolError(f"{operation} needs a VideoAnalyticsConfiguration token")
    request = element(TAN, operation)
    sub(request, TAN, "ConfigurationToken", configuration_token)
    return request


# --- GetServiceCapabilities ---------------------------------------------------------------


def build_get_service_capabilities() -> etree._Element:
    return element(TAN, "GetServiceCapabilities")


def parse_get_service_capabilities(payload: etree._Element) -> AnalyticsServiceCapabilities:
    operation = "GetServiceCapabilities"
    node = require(payload, "Capabilities", operation=operation)
    return AnalyticsServiceCapabilities.from_xml(node, operation=operation)


def build_get_service_capabilities_response(
    capabilities: AnalyticsServiceCapabilities,
) -> etree._Element:
    response = element(TAN, "GetServiceCapabilitiesResponse")
    capabilities.to_xml(response)
    return response


# --- GetSupportedRules --------------------------------------------------------------------


def build_get_supported_rules(configuration_token: str) -> etree._Element:
    return _with_token("GetSupportedRules", configuration_token)


def parse_get_supported_rules(payload: etree._Element) -> SupportedConfigs:
    operation = "GetSupportedRules"
    node = require(payload, "SupportedRules", operation=operation)
    return SupportedConfigs.from_xml(node, kind="Rule", operation=operation)


def build_get_supported_rules_response(supported: SupportedConfigs) -> etree._Element:
    response = element(TAN, "GetSupportedRulesResponse")
    supported.to_xml(response, kind="Rule")
    return response


# --- GetRules -----------------------------------------------------------------------------


def build_get_rules(configuration_token: str) -> etree._Element:
    return _with_token("GetRules", configuration_token)


def parse_get_rules(payload: etree._Element) -> list[Config]:
    return [Config.from_xml(node, operation="GetRules") for node in children(payload, "Rule")]


def build_get_rules_response(rules: Iterable[Config]) -> etree._Element:
    response = element(TAN, "GetRulesResponse")
    for rule in rules:
        rule.to_xml(response, "Rule")
    return response


# --- GetAnalyticsModules ------------------------------------------------------------------


def build_get_analytics_modules(configuration_token: str) -> etree._Element:
    return _with_token("GetAnalyticsModules", configuration_token)


def parse_get_analytics_modules(payload: etree._Element) -> list[Config]:
    return [
        Config.from_xml(node, operation="GetAnalyticsModules")
        for node in children(payload, "AnalyticsModule")
    ]


def build_get_analytics_modules_response(modules: Iterable[Config]) -> etree._Element:
    response = element(TAN, "GetAnalyticsModulesResponse")
    for module in modules:
        module.to_xml(response, "AnalyticsModule")
    return response


# --- GetSupportedAnalyticsModules ---------------------------------------------------------


def build_get_supported_analytics_modules(configuration_token: str) -> etree._Element:
    return _with_token("GetSupportedAnalyticsModules", configuration_token)


def parse_get_supported_analytics_modules(payload: etree._Element) -> SupportedConfigs:
    operation = "GetSupportedAnalyticsModules"
    node = require(payload, "SupportedAnalyticsModules", operation=operation)
    return SupportedConfigs.from_xml(node, kind="AnalyticsModule", operation=operation)


def build_get_supported_analytics_modules_response(
    supported: SupportedConfigs,
) -> etree._Element:
    response = element(TAN, "GetSupportedAnalyticsModulesResponse")
    supported.to_xml(response, kind="AnalyticsModule")
    return response
