"""The responder's pure parts: what it answers (reply_to) and the IP_PKTINFO codec."""

from __future__ import annotations

import socket
import struct

import pytest

from platonicam.discovery.messages import (
    DEVICE,
    NETWORK_VIDEO_TRANSMITTER,
    WELL_KNOWN_PREFIXES,
    AppSequence,
    Bye,
    Hello,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    TypeName,
    parse_message,
)
from platonicam.discovery.responder import pack_pktinfo, parse_pktinfo, reply_to
from platonicam.discovery.scopes import MATCH_BY_STRCMP0

EPR = "urn:uuid:00000000-0000-4000-8000-0000000000f1"
TARGET = TargetService(
    EPR,
    (NETWORK_VIDEO_TRANSMITTER, DEVICE),
    (
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/hardware/Reference%20Camera",
        "onvif://www.onvif.org/name/Front%20Door",
        "onvif://www.onvif.org/location/country/norway",
    ),
    ("http://192.0.2.10:8080/onvif/device_service",),
    3,
)
SEQUENCE = AppSequence(1700000000, 7)


def probe(*, types: tuple[TypeName, ...] = (), scopes: tuple[str, ...] = ()) -> Probe:
    return Probe("urn:uuid:probe-1", types, scopes)


@pytest.mark.parametrize(
    "types",
    [(), (NETWORK_VIDEO_TRANSMITTER,), (DEVICE,), (DEVICE, NETWORK_VIDEO_TRANSMITTER)],
    ids=["none", "nvt", "device", "both"],
)
def test_probe_for_onvif_types_is_answered_with_the_target(types: tuple[TypeName, ...]) -> None:
    answer = reply_to(probe(types=types), TARGET, SEQUENCE)
    assert isinstance(answer, ProbeMatches)
    assert answer.relates_to == "urn:uuid:probe-1"
    assert answer.matches == (TARGET,)
    assert answer.app_sequence == SEQUENCE
    # And it survives the wire: what the prober parses is the same target.
    parsed = parse_message(bytes(answer))
    assert isinstance(parsed, ProbeMatches)
    assert parsed.matches == (TARGET,)


def test_probe_for_other_types_is_ignored() -> None:
    printer = TypeName(WELL_KNOWN_PREFIXES["wsdp"], "Device")
    assert reply_to(probe(types=(printer,)), TARGET, SEQUENCE) is None
    assert reply_to(probe(types=(NETWORK_VIDEO_TRANSMITTER, printer)), TARGET, SEQUENCE) is None


@pytest.mark.parametrize(
    ("scopes", "answered"),
    [
        (("onvif://www.onvif.org/name/Front%20Door",), True),
        (("onvif://www.onvif.org/location/country",), True),  # a segment prefix
        (("ONVIF://WWW.ONVIF.ORG/hardware/Reference%20Camera",), True),  # scheme/host case
        (("onvif://www.onvif.org/hardware/Reference",), False),  # a string prefix only
        (("onvif://www.onvif.org/name/Back%20Door",), False),
        (("onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/Profile/G"), False),
    ],
)
def test_probe_scopes_match_by_rfc3986_prefix(scopes: tuple[str, ...], answered: bool) -> None:
    assert (reply_to(probe(scopes=scopes), TARGET, SEQUENCE) is not None) is answered


def test_strcmp0_probe_needs_the_exact_scope() -> None:
    exact = Probe("urn:uuid:p", (), ("onvif://www.onvif.org/name/Front%20Door",), MATCH_BY_STRCMP0)
    prefix = Probe("urn:uuid:p", (), ("onvif://www.onvif.org/name",), MATCH_BY_STRCMP0)
    assert reply_to(exact, TARGET, SEQUENCE) is not None
    assert reply_to(prefix, TARGET, SEQUENCE) is None


def test_resolve_is_answered_only_for_our_endpoint_reference() -> None:
    answer = reply_to(Resolve("urn:uuid:r", EPR), TARGET, SEQUENCE)
    assert isinstance(answer, ResolveMatches)
    assert (answer.relates_to, answer.match) == ("urn:uuid:r", TARGET)
    assert reply_to(Resolve("urn:uuid:r", "urn:uuid:someone-else"), TARGET, SEQUENCE) is None


def test_non_discoverable_device_answers_nothing() -> None:
    assert reply_to(probe(), None, SEQUENCE) is None
    assert reply_to(Resolve("urn:uuid:r", EPR), None, SEQUENCE) is None


def test_announcements_and_answers_of_others_are_not_answered() -> None:
    assert reply_to(Hello("urn:uuid:h", TARGET), TARGET, SEQUENCE) is None
    assert reply_to(Bye("urn:uuid:b", TargetService(EPR)), TARGET, SEQUENCE) is None
    assert reply_to(ProbeMatches("urn:uuid:m", "x", (TARGET,)), TARGET, SEQUENCE) is None


def test_pktinfo_round_trip_and_multicast_flag() -> None:
    packed = pack_pktinfo(4, "10.250.0.1")
    assert len(packed) == 12
    arrival = parse_pktinfo(packed)
    assert (arrival.interface_index, arrival.local, arrival.multicast) == (4, "10.250.0.1", False)
    received = struct.pack("=i", 3) + socket.inet_aton("192.0.2.7")
    received += socket.inet_aton("239.255.255.250")
    multicast = parse_pktinfo(received)
    assert (multicast.interface_index, multicast.local, multicast.multicast) == (
        3,
        "192.0.2.7",
        True,
    )
