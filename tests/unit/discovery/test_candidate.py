"""Candidates: scopes read, the XAddr to use chosen (pure)."""

from __future__ import annotations

import pytest

from platonicam.discovery.candidate import Candidate, preferred_xaddr
from platonicam.discovery.messages import NETWORK_VIDEO_TRANSMITTER, TargetService


@pytest.mark.parametrize(
    ("xaddrs", "expected"),
    [
        (
            ("http://169.254.251.249/onvif/device_service", "http://192.168.0.209/onvif/ds"),
            ("http://192.168.0.209/onvif/ds", "192.168.0.209", 80),
        ),
        (("https://10.0.0.5/onvif/ds",), ("https://10.0.0.5/onvif/ds", "10.0.0.5", 443)),
        (
            ("http://192.168.2.61:8000/onvif/ds",),
            ("http://192.168.2.61:8000/onvif/ds", "192.168.2.61", 8000),
        ),
        (
            ("http://[fe80::1]/onvif/ds", "http://cam.local/onvif/ds"),
            ("http://cam.local/onvif/ds", "cam.local", 80),
        ),
        (
            ("http://[fe80::1]/ds", "http://[2001:db8::7]:8080/ds"),
            ("http://[2001:db8::7]:8080/ds", "2001:db8::7", 8080),
        ),
        (("http://169.254.1.1/ds",), ("http://169.254.1.1/ds", "169.254.1.1", 80)),
        (("ftp://10.0.0.1/x", "http://10.0.0.1:99999/ds", "http:///nohost", "garbage"), None),
        ((), None),
    ],
)
def test_preferred_xaddr(xaddrs: tuple[str, ...], expected: tuple[str, str, int] | None) -> None:
    assert preferred_xaddr(xaddrs) == expected


def test_candidate_from_target_keeps_raw_and_parsed_values() -> None:
    target = TargetService(
        "urn:uuid:1",
        (NETWORK_VIDEO_TRANSMITTER,),
        ("onvif://www.onvif.org/name/A%20B", "onvif://www.onvif.org/hardware/H"),
        ("http://169.254.0.9/ds", "http://10.1.2.3:8000/ds"),
        7,
    )
    candidate = Candidate.from_target(target)
    assert candidate.endpoint_reference == "urn:uuid:1"
    assert candidate.scopes == target.scopes
    assert candidate.xaddrs == target.xaddrs
    assert candidate.metadata_version == 7
    assert (candidate.name, candidate.model) == ("A B", "H")
    assert (candidate.xaddr, candidate.host, candidate.port) == (
        "http://10.1.2.3:8000/ds",
        "10.1.2.3",
        8000,
    )
    bare = Candidate.from_target(TargetService("urn:uuid:2"))
    assert (bare.name, bare.host, bare.port, bare.xaddr, bare.profiles) == (
        None,
        None,
        None,
        None,
        (),
    )
