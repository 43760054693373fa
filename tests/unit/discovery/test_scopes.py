"""Scope matching rules and ONVIF scope reading (pure)."""

from __future__ import annotations

import pytest

from platonicam.discovery.scopes import (
    MATCH_BY_RFC3986,
    MATCH_BY_STRCMP0,
    OnvifScopes,
    normalize_mac,
    onvif_scope,
    rfc3986_match,
    scope_matches,
    scopes_match,
)

# The device of ONVIF Core's scope example ("Scopes", "Example").
CORE_EXAMPLE = (
    "onvif://www.onvif.org/Profile/Streaming",
    "onvif://www.onvif.org/hardware/D1-566",
    "onvif://www.onvif.org/location/country/china",
    "onvif://www.onvif.org/location/city/bejing",
    "onvif://www.onvif.org/location/building/headquarter",
    "onvif://www.onvif.org/location/floor/R5",
    "onvif://www.onvif.org/name/ARV-453",
)


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("onvif://www.onvif.org", True),  # Core: matches
        ("onvif://www.onvif.org/location/country/china", True),  # Core: matches
        ("onvif://www.onvif.org/hardware/D1", False),  # Core: segment, not string, prefix
        ("ONVIF://WWW.ONVIF.ORG/name/ARV-453", True),  # scheme and authority ignore case
        ("onvif://www.onvif.org/NAME/ARV-453", False),  # the path does not
        ("onvif://www.onvif.org/location/", True),  # a trailing slash adds no segment
        ("onvif://www.onvif.org/location/country/china/shanghai", False),  # longer than device
        ("onvif://www.onvif.org/location/./country", False),  # dot segments never match
        ("http://www.onvif.org/name/ARV-453", False),
        ("onvif://example.com/name/ARV-453", False),
    ],
)
def test_rfc3986_prefix_rule_against_the_core_example(probe: str, expected: bool) -> None:
    assert scopes_match([probe], CORE_EXAMPLE) is expected
    assert scopes_match([probe], CORE_EXAMPLE, MATCH_BY_RFC3986) is expected


def test_rfc3986_compares_percent_decoded_segments() -> None:
    assert rfc3986_match(
        "onvif://www.onvif.org/name/AXIS%20M2025-LE", "onvif://www.onvif.org/name/AXIS%20M2025-LE"
    )
    assert rfc3986_match("onvif://www.onvif.org/name/A%42", "onvif://www.onvif.org/name/AB")
    # An escaped slash stays inside its segment.
    assert not rfc3986_match("onvif://www.onvif.org/a%2Fb", "onvif://www.onvif.org/a/b")
    # Query and fragment take no part.
    assert rfc3986_match("onvif://www.onvif.org/name?x=1", "onvif://www.onvif.org/name/N#f")


def test_strcmp0_and_unknown_rules() -> None:
    device = "onvif://www.onvif.org/name/ARV-453"
    assert scope_matches(device, device, MATCH_BY_STRCMP0)
    assert not scope_matches("onvif://www.onvif.org/name", device, MATCH_BY_STRCMP0)
    assert scope_matches("onvif://www.onvif.org/name", device, None)
    assert not scope_matches(device, device, "http://example.com/some-other-rule")


def test_every_probe_scope_must_match_some_device_scope() -> None:
    assert scopes_match([], CORE_EXAMPLE)
    assert scopes_match([], [])
    assert scopes_match(
        ["onvif://www.onvif.org/name/ARV-453", "onvif://www.onvif.org/location/floor"],
        CORE_EXAMPLE,
    )
    assert not scopes_match(
        ["onvif://www.onvif.org/name/ARV-453", "onvif://www.onvif.org/location/floor/R6"],
        CORE_EXAMPLE,
    )
    assert not scopes_match(["onvif://www.onvif.org"], [])


def test_onvif_scope_splits_category_and_decodes_value() -> None:
    assert onvif_scope("onvif://www.onvif.org/name/AXIS%20M2025-LE") == ("name", "AXIS M2025-LE")
    assert onvif_scope("onvif://www.onvif.org/Profile/Q/FactoryDefault/") == (
        "profile",
        "Q/FactoryDefault",
    )
    assert onvif_scope("onvif://www.onvif.org/location/") == ("location", "")
    assert onvif_scope("onvif://www.onvif.org/") is None
    assert onvif_scope("http://www.onvif.org/name/x") is None
    assert onvif_scope("urn:something") is None


def test_onvif_scopes_reads_every_category() -> None:
    info = OnvifScopes.parse(
        [
            "onvif://www.onvif.org/type/video_encoder",
            "onvif://www.onvif.org/mfr/Acme%20Corp",
            "onvif://www.onvif.org/hardware/X-1",
            "onvif://www.onvif.org/model/ignored-because-hardware-exists",
            "onvif://www.onvif.org/name/First",
            "onvif://www.onvif.org/name/Second",
            "onvif://www.onvif.org/location/",
            "onvif://www.onvif.org/location/country/usa",
            "onvif://www.onvif.org/location/city/hangzhou",
            "onvif://www.onvif.org/MAC/0C-A6-4C-EA-0C-6F",
            "onvif://www.onvif.org/SerialNumber/ABC123",
            "onvif://www.onvif.org/Profile/Streaming",
            "onvif://www.onvif.org/profile/T",
            "onvif://www.onvif.org/Profile/Q/FactoryDefault",
            "onvif://www.onvif.org/Profile/T",
            "http://example.com/not/onvif",
        ]
    )
    assert info == OnvifScopes(
        manufacturer="Acme Corp",
        model="X-1",
        name="First",
        location="country/usa, city/hangzhou",
        mac="0c:a6:4c:ea:0c:6f",
        serial_number="ABC123",
        profiles=("S", "T", "Q"),
    )


def test_onvif_scopes_fallbacks_and_empty() -> None:
    assert OnvifScopes.parse([]) == OnvifScopes()
    info = OnvifScopes.parse(
        ["onvif://www.onvif.org/manufacturer/Hik", "onvif://www.onvif.org/model/M-2"]
    )
    assert (info.manufacturer, info.model) == ("Hik", "M-2")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0c:a6:4c:ea:0c:6f", "0c:a6:4c:ea:0c:6f"),
        ("0CA64CEA0C6F", "0c:a6:4c:ea:0c:6f"),
        ("0c-a6-4c-ea-0c-6f", "0c:a6:4c:ea:0c:6f"),
        (" not-a-mac ", "not-a-mac"),
    ],
)
def test_normalize_mac(raw: str, expected: str) -> None:
    assert normalize_mac(raw) == expected
