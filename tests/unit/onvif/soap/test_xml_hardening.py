"""Hostile XML: nothing is expanded or fetched, and every refusal is a RemoteProtocolError."""

from __future__ import annotations

import pytest

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.envelope import parse_envelope
from platonicam.onvif.soap.namespaces import SOAP12
from platonicam.onvif.soap.xml import MAX_DOCUMENT_BYTES, parse_xml

_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
_EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'
)
_EXTERNAL_IN_ENVELOPE = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + f'<e:Envelope xmlns:e="{SOAP12}"><e:Body><x>&xxe;</x></e:Body></e:Envelope>'.encode()
)
_DOCTYPE_ONLY = b'<?xml version="1.0"?><!DOCTYPE r><r>fine</r>'
_PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_LAUGHS, "declares a DTD"),
        (_EXTERNAL_ENTITY, "declares a DTD"),
        (_DOCTYPE_ONLY, "declares a DTD"),
        (_PARAMETER_ENTITY, "DTD|malformed XML"),
    ],
    ids=["billion-laughs", "external-entity", "doctype", "parameter-entity"],
)
def test_dtds_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message) as caught:
        parse_xml(data, operation="GetHostname")
    text = str(caught.value)
    assert "root:" not in text  # nothing from /etc/passwd leaked into the message
    assert "lollol" not in text  # nothing was expanded
    assert len(text) < 500


def test_external_entity_inside_an_envelope_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="declares a DTD") as caught:
        parse_envelope(_EXTERNAL_IN_ENVELOPE)
    assert "root:" not in str(caught.value)


def test_oversized_document_is_refused_before_parsing() -> None:
    filler = b"<a>" + b"x" * MAX_DOCUMENT_BYTES + b"</a>"
    with pytest.raises(RemoteProtocolError, match=r"exceeds the limit of 8388608 bytes"):
        parse_xml(filler)
    with pytest.raises(RemoteProtocolError, match="exceeds the limit of 10 bytes"):
        parse_xml(b"<a>0123456789</a>", max_bytes=10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00garbage\x80\x81", "malformed XML"),
        (b"<a>\xff\xfe\xfd</a>", "malformed XML"),
        (b'<?xml version="1.0" encoding="bogus-8"?><a/>', "malformed XML"),
        (b"<a><b></a>", "malformed XML"),
        (b"", "empty answer"),
        (b"  \r\n\t ", "empty answer"),
        (b"HTTP/1.1 200 OK", "malformed XML"),
    ],
    ids=["binary", "bad-utf8", "unknown-encoding", "unbalanced", "empty", "blank", "text"],
)
def test_garbage_is_a_remote_protocol_error(data: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message) as caught:
        parse_envelope(data, operation="GetServices")
    assert caught.value.operation == "GetServices"


def test_comments_and_processing_instructions_are_dropped() -> None:
    root = parse_xml(b"<?xml version='1.0'?><r><!-- c --><?pi x?><a>1</a></r>")
    assert [child.tag for child in root] == ["a"]


def test_doctype_after_bom_declaration_and_comments_is_refused_before_parsing() -> None:
    data = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- c -->\n<?pi x?>' + _LAUGHS[21:]
    assert data.count(b"<!DOCTYPE") == 1
    with pytest.raises(RemoteProtocolError, match="declares a DTD"):
        parse_xml(data)


def test_many_processing_instructions_before_the_root_parse_normally() -> None:
    """The prolog scan is linear: a long run of PIs is no DTD and no slowdown."""
    root = parse_xml(b"<?a?>" * 20_000 + b"<r>ok</r>")
    assert root.text == "ok"
