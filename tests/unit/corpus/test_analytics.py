"""Analytics service (tan) captures: capabilities, rules, modules and their descriptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.analytics import (
    AnalyticsServiceCapabilities,
    Config,
    SimpleItem,
    SupportedConfigs,
)
from platonicam.onvif.services import analytics
from platonicam.onvif.soap.namespaces import TAN, local_name
from platonicam.onvif.soap.xmlread import text
from tests.corpus import capture, ids, payload


@dataclass(frozen=True, slots=True)
class Described:
    """One description, summarised: its simple parameters (name, type), element item
    names, and per message its parent topic and data item names."""

    name: str
    parameters: tuple[tuple[str, str], ...]
    element_items: tuple[str, ...]
    topic: str
    data: tuple[str, ...]
    key: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Supported:
    schema_locations: tuple[str, ...]
    descriptions: tuple[Described, ...]


_XS = ("http://www.w3.org/2001/XMLSchema",)
_ALL_TRUE = AnalyticsServiceCapabilities(
    rule_support=True, analytics_module_support=True, cell_based_scene_description_supported=True
)
_INT = "xs:integer"
_CELL_MOTION_RULE = Described(
    "tt:CellMotionDetector",
    (
        ("MinCount", _INT),
        ("AlarmOnDelay", _INT),
        ("AlarmOffDelay", _INT),
        ("ActiveCells", "xs:base64Binary"),
    ),
    (),
    "tns1:RuleEngine/CellMotionDetector/Motion",
    ("IsMotion",),
)
_LINE_RULE = Described(
    "tt:LineDetector",
    (("Direction", "tt:Direction"),),
    ("Segments",),
    "tns1:RuleEngine/LineDetector/Crossed",
    ("ObjectId",),
)
_FIELD_RULE = Described(
    "tt:FieldDetector",
    (),
    ("Field",),
    "tns1:RuleEngine/FieldDetector/ObjectsInside",
    ("IsInside",),
    key=("ObjectId",),
)


def _tamper_rule(prefix: str) -> Described:
    return Described(
        f"{prefix}:TamperDetector",
        (("Field", "tt:PolygonConfiguration"),),
        (),
        "tns1:RuleEngine/TamperDetector/Tamper",
        ("IsTamper",),
    )


_CELL_MOTION_ENGINE = Described(
    "tt:CellMotionEngine",
    (("Sensitivity", _INT),),
    ("Layout",),
    "tns1:RuleEngine/CellMotionDetector/Motion",
    ("IsMotion",),
)


def _module(name: str, type_name: str, sensitivity: str, *elements: str) -> Config:
    return Config(name, type_name, (SimpleItem("Sensitivity", sensitivity),), elements)


def _cell_motion_rule(active_cells: str) -> Config:
    return Config(
        "MyMotionDetectorRule",
        "tt:CellMotionDetector",
        (
            SimpleItem("MinCount", "5"),
            SimpleItem("AlarmOnDelay", "1000"),
            SimpleItem("AlarmOffDelay", "1000"),
            SimpleItem("ActiveCells", active_cells),
        ),
    )


CASES: dict[str, object] = {
    # EZVIZ adds fixed/maxInstances on the one module it has.
    "analytics/ezviz_CS-H8c-R100-1K2WKFL_GetSupportedAnalyticsModules.xml": Supported(
        _XS, (_CELL_MOTION_ENGINE,)
    ),
    "analytics/hikvision_DS-2CD2012-I_GetAnalyticsModules.xml": [
        _module("MyCellMotionModule", "tt:CellMotionEngine", "60", "Layout"),
        _module("MyLineDetectorModule", "tt:LineDetectorEngine", "50", "Layout", "Field"),
        _module("MyFieldDetectorModule", "tt:FieldDetectorEngine", "50", "Layout", "Field"),
        _module("MyTamperDetecModule", "hikxsd:TamperEngine", "0", "Transformation", "Field"),
    ],
    "analytics/hikvision_DS-2CD2012-I_GetServiceCapabilities.xml": _ALL_TRUE,
    "analytics/hikvision_DS-2CD2012-I_GetSupportedRules.xml": Supported(
        _XS, (_CELL_MOTION_RULE, _LINE_RULE, _FIELD_RULE, _tamper_rule("hikxsd"))
    ),
    "analytics/hikvision_DS-2DF7276-AEL_GetAnalyticsModules.xml": [
        _module("MyCellMotionModule", "tt:CellMotionEngine", "60", "Layout"),
        _module("MyTamperDetecModule", "hikxsd:TamperEngine", "66", "Transformation", "Field"),
    ],
    "analytics/hikvision_DS-2DF7276-AEL_GetRules.xml": [
        _cell_motion_rule("/AAeB///3///f//9///3///f//9///3///f//9///3///PsA"),
        Config("MyTamperDetectorRule", "hikxsd:TamperDetector", (), ("Field",)),
    ],
    "analytics/hikvision_DS-2DF7276-AEL_GetServiceCapabilities.xml": _ALL_TRUE,
    "analytics/hikvision_DS-2DF7276-AEL_GetSupportedRules.xml": Supported(
        _XS, (_CELL_MOTION_RULE, _tamper_rule("hikxsd"))
    ),
    "analytics/trendnet_TV-IP320PI_GetRules.xml": [
        _cell_motion_rule("1wA="),
        Config(
            "MyLineDetector1", "tt:LineDetector", (SimpleItem("Direction", "Any"),), ("Segments",)
        ),
        Config("MyFieldDetector1", "tt:FieldDetector", (), ("Field",)),
        Config("MyTamperDetectorRule", "extxsd:TamperDetector", (), ("Field",)),
    ],
    "analytics/trendnet_TV-IP320PI_GetServiceCapabilities.xml": _ALL_TRUE,
    "analytics/trendnet_TV-IP320PI_GetSupportedAnalyticsModules.xml": Supported(
        _XS,
        (
            _CELL_MOTION_ENGINE,
            Described(
                "tt:LineDetectorEngine",
                (("Sensitivity", _INT),),
                ("Transformation", "Field"),
                "tns1:RuleEngine/LineDetector/Crossed",
                ("ObjectId",),
            ),
            Described(
                "tt:FieldDetectorEngine",
                (("Sensitivity", _INT),),
                ("Transformation", "Field"),
                "tns1:RuleEngine/FieldDetector/ObjectsInside",
                ("IsInside",),
                key=("ObjectId",),
            ),
            Described(
                "extxsd:TamperEngine",
                (("Sensitivity", _INT),),
                ("Transformation", "Field"),
                "tns1:RuleEngine/TamperDetector/Tamper",
                ("IsTamper",),
            ),
        ),
    ),
    "analytics/trendnet_TV-IP320PI_GetSupportedRules.xml": Supported(
        _XS, (_CELL_MOTION_RULE, _LINE_RULE, _FIELD_RULE, _tamper_rule("extxsd"))
    ),
}

_OPERATIONS: dict[str, tuple[Callable[[etree._Element], object], Callable[..., etree._Element]]] = {
    "GetServiceCapabilities": (
        analytics.parse_get_service_capabilities,
        analytics.build_get_service_capabilities_response,
    ),
    "GetSupportedRules": (
        analytics.parse_get_supported_rules,
        analytics.build_get_supported_rules_response,
    ),
    "GetRules": (analytics.parse_get_rules, analytics.build_get_rules_response),
    "GetAnalyticsModules": (
        analytics.parse_get_analytics_modules,
        analytics.build_get_analytics_modules_response,
    ),
    "GetSupportedAnalyticsModules": (
        analytics.parse_get_supported_analytics_modules,
        analytics.build_get_supported_analytics_modules_response,
    ),
}


def _summary(supported: SupportedConfigs) -> Supported:
    described = []
    for description in supported.descriptions:
        (message,) = description.messages
        assert message.is_property is True
        assert [item.name for item in message.source] == [
            "VideoSourceConfigurationToken",
            "VideoAnalyticsConfigurationToken",
            "Rule",
        ]
        described.append(
            Described(
                name=description.name,
                parameters=tuple((p.name, p.type_name) for p in description.parameters),
                element_items=tuple(e.name for e in description.element_items),
                topic=message.parent_topic or "",
                data=tuple(d.name for d in message.data),
                key=tuple(k.name for k in message.key),
            )
        )
    return Supported(supported.schema_locations, tuple(described))


@pytest.mark.parametrize("path", list(CASES), ids=ids(CASES))
def test_analytics_capture(path: str) -> None:
    operation = capture(path).operation
    parse, write = _OPERATIONS[operation]
    answer = payload(path)
    assert local_name(answer.tag) == f"{operation}Response"
    parsed = parse(answer)
    expected = CASES[path]
    if isinstance(expected, Supported):
        assert isinstance(parsed, SupportedConfigs)
        assert _summary(parsed) == expected
    else:
        assert parsed == expected
    # The reference device answers with the same types: write, serialise, read back.
    written = etree.fromstring(etree.tostring(write(parsed)))
    assert written.tag == f"{{{TAN}}}{operation}Response"
    assert parse(written) == parsed


def test_ezviz_module_description_attributes() -> None:
    supported = analytics.parse_get_supported_analytics_modules(
        payload("analytics/ezviz_CS-H8c-R100-1K2WKFL_GetSupportedAnalyticsModules.xml")
    )
    (description,) = supported.descriptions
    assert description.fixed is True
    assert description.max_instances == 1
    assert description.name_local == "CellMotionEngine"
    assert description.element_items[0].type_name == "tt:CellLayout"
    assert supported.find("CellMotionEngine") is description
    assert supported.find("tt:LineDetectorEngine") is None


def test_config_helpers() -> None:
    rules = analytics.parse_get_rules(payload("analytics/trendnet_TV-IP320PI_GetRules.xml"))
    assert rules[0].parameter("AlarmOffDelay") == "1000"
    assert rules[0].parameter("Missing") is None
    assert rules[3].type_local == "TamperDetector"


def test_request_builders_carry_the_configuration_token() -> None:
    for build, operation in (
        (analytics.build_get_supported_rules, "GetSupportedRules"),
        (analytics.build_get_rules, "GetRules"),
        (analytics.build_get_analytics_modules, "GetAnalyticsModules"),
        (analytics.build_get_supported_analytics_modules, "GetSupportedAnalyticsModules"),
    ):
        request = build("VideoAnalyticsToken")
        assert request.tag == f"{{{TAN}}}{operation}"
        assert text(request, "ConfigurationToken") == "VideoAnalyticsToken"
        with pytest.raises(LocalProtocolError, match="token"):
            build("  ")
    assert analytics.build_get_service_capabilities().tag == f"{{{TAN}}}GetServiceCapabilities"


def test_config_without_a_name_is_a_protocol_error() -> None:
    broken = etree.fromstring(
        f'<tan:GetRulesResponse xmlns:tan="{TAN}"><tan:Rule Type="tt:LineDetector"/>'
        "</tan:GetRulesResponse>"
    )
    with pytest.raises(RemoteProtocolError, match="missing attribute Name"):
        analytics.parse_get_rules(broken)


def test_bad_capability_flag_is_a_protocol_error() -> None:
    broken = etree.fromstring(
        f'<tan:R xmlns:tan="{TAN}"><tan:Capabilities RuleSupport="sometimes"/></tan:R>'
    )
    with pytest.raises(RemoteProtocolError, match="boolean expected"):
        analytics.parse_get_service_capabilities(broken)
