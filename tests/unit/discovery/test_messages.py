"""WS-Discovery messages: build/parse round trips, matching, malformed input (pure)."""

from __future__ import annotations

import pytest
from lxml import etree

from platonicam.discovery.errors import InvalidQuery, MalformedMessage
from platonicam.discovery.messages import (
    ACTION_HELLO,
    ACTION_PROBE,
    ACTION_PROBE_MATCHES,
    DEVICE,
    DISCOVERY_URN,
    NETWORK_VIDEO_TRANSMITTER,
    WELL_KNOWN_PREFIXES,
    WSA,
    WSD,
    AppSequence,
    Bye,
    Hello,
    Message,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    TypeName,
    new_message_id,
    parse_message,
)
from platonicam.discovery.scopes import MATCH_BY_STRCMP0

CAMERA = TargetService(
    "urn:uuid:3ea96f68-b845-4c0b-87cf-eee904c4be65",
    (DEVICE, NETWORK_VIDEO_TRANSMITTER, TypeName("urn:example:vendor", "Thing")),
    ("onvif://www.onvif.org/name/AXIS%20M2025-LE", "onvif://www.onvif.org/Profile/T"),
    ("http://192.168.0.209/onvif/device_service", "https://192.168.0.209/onvif/device_service"),
    3,
)
SEQ = AppSequence(instance_id=1669141867, message_number=6, sequence_id="urn:uuid:seq")

ROUND_TRIPS: list[Message] = [
    Probe("urn:uuid:p1"),
    Probe("urn:uuid:p2", (NETWORK_VIDEO_TRANSMITTER,), ("onvif://www.onvif.org/name/x",)),
    Probe("urn:uuid:p3", (DEVICE,), (), MATCH_BY_STRCMP0),
    ProbeMatches("urn:uuid:m1", "urn:uuid:p1", (CAMERA,), SEQ),
    ProbeMatches("urn:uuid:m2", None, (CAMERA, TargetService("urn:uuid:other")), None),
    ProbeMatches("urn:uuid:m3", "urn:uuid:p1", ()),
    Resolve("urn:uuid:r1", CAMERA.endpoint_reference),
    ResolveMatches("urn:uuid:rm", "urn:uuid:r1", CAMERA, AppSequence(1, 2)),
    ResolveMatches("urn:uuid:rm2", "urn:uuid:r1", None),
    Hello("urn:uuid:h", CAMERA, SEQ),
    Bye("urn:uuid:b", TargetService(CAMERA.endpoint_reference), AppSequence(1, 9)),
]


@pytest.mark.parametrize("message", ROUND_TRIPS, ids=lambda m: type(m).__name__)
def test_round_trip(message: Message) -> None:
    data = bytes(message)
    assert parse_message(data) == message
    assert bytes(parse_message(data)) == data


def test_probe_wire_format() -> None:
    data = bytes(Probe("urn:uuid:p", (NETWORK_VIDEO_TRANSMITTER,), ("onvif://www.onvif.org",)))
    root = etree.fromstring(data)
    ns = {"s": "http://www.w3.org/2003/05/soap-envelope", "a": WSA, "d": WSD}
    assert root.findtext("s:Header/a:Action", namespaces=ns) == ACTION_PROBE
    assert root.findtext("s:Header/a:To", namespaces=ns) == DISCOVERY_URN
    assert root.findtext("s:Header/a:MessageID", namespaces=ns) == "urn:uuid:p"
    types = root.find("s:Body/d:Probe/d:Types", namespaces=ns)
    assert types is not None
    assert types.text == "dn:NetworkVideoTransmitter"
    assert types.nsmap["dn"] == "http://www.onvif.org/ver10/network/wsdl"
    assert root.find("s:Body/d:Probe/d:Scopes", namespaces=ns).get("MatchBy") is None  # type: ignore[union-attr]


def test_answers_carry_action_relates_to_and_app_sequence() -> None:
    root = etree.fromstring(bytes(ProbeMatches("urn:uuid:m", "urn:uuid:p", (CAMERA,), SEQ)))
    ns = {"a": WSA, "d": WSD}
    assert root.findtext(".//a:Action", namespaces=ns) == ACTION_PROBE_MATCHES
    assert root.findtext(".//a:RelatesTo", namespaces=ns) == "urn:uuid:p"
    sequence = root.find(".//d:AppSequence", namespaces=ns)
    assert sequence is not None
    assert (sequence.get("InstanceId"), sequence.get("MessageNumber")) == ("1669141867", "6")
    hello = etree.fromstring(bytes(Hello("urn:uuid:h", CAMERA)))
    assert hello.findtext(".//a:Action", namespaces=ns) == ACTION_HELLO


def test_new_message_ids_are_unique_urns() -> None:
    first, second = new_message_id(), new_message_id()
    assert first.startswith("urn:uuid:")
    assert len(first) == 45
    assert first != second


# --- matching (the responder's decision)


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (Probe("m"), True),
        (Probe("m", (NETWORK_VIDEO_TRANSMITTER,)), True),
        (Probe("m", (DEVICE, NETWORK_VIDEO_TRANSMITTER)), True),
        (Probe("m", (TypeName(WELL_KNOWN_PREFIXES["wsdp"], "Device"),)), False),
        (Probe("m", (), ("onvif://www.onvif.org/Profile",)), True),
        (Probe("m", (), ("onvif://www.onvif.org/Profile/S",)), False),
        (Probe("m", (), ("onvif://www.onvif.org/name/AXIS%20M2025-LE",), MATCH_BY_STRCMP0), True),
        (Probe("m", (), ("onvif://www.onvif.org/name",), MATCH_BY_STRCMP0), False),
        (Probe("m", (), ("onvif://www.onvif.org",), "urn:unsupported:rule"), False),
    ],
)
def test_probe_matches(probe: Probe, expected: bool) -> None:
    assert probe.matches(CAMERA.types, CAMERA.scopes) is expected


def test_type_names() -> None:
    assert TypeName.parse("dn:NetworkVideoTransmitter") == NETWORK_VIDEO_TRANSMITTER
    assert TypeName.parse(" tds:Device ") == DEVICE
    assert TypeName.parse("{urn:x}Y") == TypeName("urn:x", "Y")
    assert str(DEVICE) == "{http://www.onvif.org/ver10/device/wsdl}Device"
    assert DEVICE.is_onvif
    assert not TypeName("urn:x", "Y").is_onvif
    for bad in ("NoPrefix", "zz:Unknown", "dn:", "{}Local"):
        with pytest.raises(InvalidQuery):
            TypeName.parse(bad)


# --- lenient reading


def _envelope(body: str, header: str = "<a:MessageID>urn:uuid:x</a:MessageID>") -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        f' xmlns:a="{WSA}" xmlns:d="{WSD}">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def test_undeclared_type_prefixes_fall_back_to_onvif_ones() -> None:
    data = _envelope(
        "<d:Hello><a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference>"
        "<d:Types>dn:NetworkVideoTransmitter tds:Device odd:Thing</d:Types></d:Hello>"
    )
    message = parse_message(data)
    assert isinstance(message, Hello)
    assert message.target.types == (NETWORK_VIDEO_TRANSMITTER, DEVICE, TypeName("", "Thing"))
    assert message.target.metadata_version == 0


def test_default_namespace_types_and_padding() -> None:
    data = _envelope(
        "<d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address> urn:uuid:1 "
        "</a:Address></a:EndpointReference>"
        '<Types xmlns="http://www.onvif.org/ver10/network/wsdl">\n  NetworkVideoTransmitter\n'
        "</Types><d:XAddrs>\n http://a/x\n\n http://b/y </d:XAddrs>"
        "<d:MetadataVersion> 4 </d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
    )
    message = parse_message(data)
    assert isinstance(message, ProbeMatches)
    (match,) = message.matches
    assert match.endpoint_reference == "urn:uuid:1"
    assert match.types == (NETWORK_VIDEO_TRANSMITTER,)
    assert match.xaddrs == ("http://a/x", "http://b/y")
    assert match.metadata_version == 4
    assert message.relates_to is None


def test_soap11_envelopes_are_read() -> None:
    data = (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"'
        f' xmlns:a="{WSA}" xmlns:d="{WSD}"><e:Header><a:MessageID>urn:uuid:q</a:MessageID>'
        "</e:Header><e:Body><d:Probe/></e:Body></e:Envelope>"
    ).encode()
    assert parse_message(data) == Probe("urn:uuid:q")


# --- malformed datagrams


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "malformed XML"),
        (b"<a><b></a>", "malformed XML"),
        (b"<Envelope><Body><Probe/></Body></Envelope>", "not a SOAP envelope"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "DTD"),
        (b"x" * 70_000, "exceeds the limit"),
        (_envelope(""), "without a body element"),
        (_envelope("<d:Probe/>", header=""), "Probe without a wsa:MessageID"),
        (_envelope("<d:Resolve/>"), "Resolve without an EndpointReference/Address"),
        (_envelope("<d:Hello><d:Types>dn:X</d:Types></d:Hello>"), "Hello without an Endpoint"),
        (
            _envelope(
                "<d:Bye><a:EndpointReference><a:Address>u</a:Address></a:EndpointReference>"
                "<d:MetadataVersion>one</d:MetadataVersion></d:Bye>"
            ),
            "integer expected",
        ),
        (
            _envelope("<d:Hello/>", header='<d:AppSequence InstanceId="x" MessageNumber="1"/>'),
            "InstanceId: integer expected",
        ),
        (_envelope("<s:Fault/>"), "not a WS-Discovery message: <Fault>"),
        (_envelope("<d:Somethingelse/>"), "not a WS-Discovery message"),
    ],
)
def test_malformed_datagrams_raise_the_discovery_error(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        parse_message(data)
