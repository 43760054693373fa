"""SOAP envelopes: reading 1.2 and 1.1 replies, refusing what is not one, writing requests."""

from __future__ import annotations

import pytest
from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.envelope import action_of, build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import SOAP11, SOAP12, TDS, WSSE, local_name

_BODY = (
    f'<tds:GetHostnameResponse xmlns:tds="{TDS}"><tds:Name>cam</tds:Name></tds:GetHostnameResponse>'
)


def _doc(namespace: str, body: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="{namespace}">'
        f"{header}<e:Body>{body}</e:Body></e:Envelope>"
    ).encode()


def test_soap12_envelope() -> None:
    envelope = parse_envelope(_doc(SOAP12, _BODY, "<e:Header><x xmlns='urn:x'/></e:Header>"))
    assert envelope.version == "1.2"
    assert envelope.header is not None
    assert local_name(envelope.payload.tag) == "GetHostnameResponse"
    assert envelope.payload.findtext(f"{{{TDS}}}Name") == "cam"


def test_soap11_envelope_without_header() -> None:
    envelope = parse_envelope(_doc(SOAP11, _BODY))
    assert envelope.version == "1.1"
    assert envelope.header is None
    assert envelope.payload.tag == f"{{{TDS}}}GetHostnameResponse"


def test_payload_skips_leading_comments_and_whitespace() -> None:
    envelope = parse_envelope(_doc(SOAP12, "\n  <!-- note -->\n  " + _BODY))
    assert local_name(envelope.payload.tag) == "GetHostnameResponse"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_doc(SOAP12, ""), "SOAP Body is empty"),
        (_doc(SOAP12, "   <!-- nothing -->  "), "SOAP Body is empty"),
        (f'<e:Envelope xmlns:e="{SOAP12}"><e:Header/></e:Envelope>'.encode(), "has no Body"),
        (b"<html><body>Not Found</body></html>", "expected a SOAP Envelope, got <html>"),
        (
            b'<Envelope xmlns="urn:not-soap"><Body/></Envelope>',
            "expected a SOAP Envelope, got <Envelope> in namespace urn:not-soap",
        ),
    ],
    ids=["empty-body", "comment-only-body", "no-body", "html", "wrong-namespace"],
)
def test_not_an_answer(document: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message) as caught:
        parse_envelope(document, operation="GetHostname")
    assert caught.value.operation == "GetHostname"
    assert "operation GetHostname" in str(caught.value)


def test_build_envelope_writes_soap12_with_headers() -> None:
    request = element(TDS, "SetHostname")
    sub(request, TDS, "Name", "camera-1")
    header = etree.Element(f"{{{WSSE}}}Security")
    data = build_envelope(request, headers=[header])
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(data)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert [local_name(c.tag) for c in root] == ["Header", "Body"]
    assert root[0][0].tag == f"{{{WSSE}}}Security"
    assert root.nsmap["s"] == SOAP12
    assert root.nsmap["tds"] == TDS
    # It reads back as the same request.
    envelope = parse_envelope(data)
    assert envelope.version == "1.2"
    assert envelope.payload.findtext(f"{{{TDS}}}Name") == "camera-1"


def test_build_envelope_without_headers_has_no_header_element() -> None:
    root = etree.fromstring(build_envelope(element(TDS, "GetHostname")))
    assert [local_name(c.tag) for c in root] == ["Body"]


def test_action_is_namespace_slash_operation() -> None:
    assert action_of(element(TDS, "GetServices")) == f"{TDS}/GetServices"


def test_envelope_from_serialised_parts_reads_back() -> None:
    from lxml import etree

    from platonicam.onvif.soap.build import element
    from platonicam.onvif.soap.envelope import build_envelope_bytes, parse_envelope
    from platonicam.onvif.soap.namespaces import TDS

    payload = etree.tostring(element(TDS, "GetHostname"))
    header = b'<x:Marker xmlns:x="urn:test">1</x:Marker>'
    parsed = parse_envelope(build_envelope_bytes(payload, headers=[header]))
    assert parsed.version == "1.2"
    assert parsed.payload.tag == f"{{{TDS}}}GetHostname"
    assert parsed.header is not None
    assert [child.tag for child in parsed.header] == ["{urn:test}Marker"]
    bare = parse_envelope(build_envelope_bytes(payload))
    assert bare.header is None
