"""Property tests: whatever bytes arrive, only OnvifError subclasses leave the SOAP layer.

Inputs are arbitrary bytes, generated XML-ish fault documents, and real corpus
captures truncated or with bytes flipped. Bounded examples, no deadline (lxml's
first parse of a large capture can be slow on a loaded machine).
"""

from __future__ import annotations

import contextlib
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from platonicam.onvif.errors import OnvifError, SoapFaultError
from platonicam.onvif.soap.envelope import parse_envelope
from platonicam.onvif.soap.fault import parse_fault
from platonicam.onvif.soap.namespaces import SOAP11, SOAP12
from tests.corpus import CORPUS, all_capture_paths

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _xml_captures() -> tuple[bytes, ...]:
    return tuple((CORPUS / p).read_bytes() for p in all_capture_paths() if p.endswith(".xml"))


def _only_onvif_errors(data: bytes) -> None:
    with contextlib.suppress(OnvifError):
        parse_envelope(data, operation="Fuzz")


@_SETTINGS
@given(st.binary(max_size=2048))
def test_parse_envelope_on_arbitrary_bytes(data: bytes) -> None:
    _only_onvif_errors(data)


_TAGS = st.sampled_from(
    [
        "Envelope",
        "Body",
        "Header",
        "Fault",
        "Code",
        "Value",
        "Subcode",
        "Reason",
        "Text",
        "Detail",
        "faultcode",
        "faultstring",
        "detail",
        "X",
    ]
)
_NAMESPACES = st.sampled_from([SOAP12, SOAP11, "urn:other", ""])
_TEXTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30
) | st.sampled_from(["ter:NotAuthorized", "env:Sender", "a:b:c", ":", "", "Client.X.Y"])


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    namespace = draw(_NAMESPACES)
    tag = draw(_TAGS)
    node = etree.Element(f"{{{namespace}}}{tag}" if namespace else tag)
    node.text = draw(_TEXTS)
    if draw(st.booleans()):
        node.set("Name", draw(_TEXTS))
    if depth < 4:
        for _ in range(draw(st.integers(0, 3))):
            node.append(draw(_trees(depth + 1)))
    return node


@_SETTINGS
@given(_trees())
def test_parse_fault_on_generated_trees(tree: etree._Element) -> None:
    error = parse_fault(tree, operation="Fuzz")
    assert isinstance(error, SoapFaultError)
    assert isinstance(error.reason, str)
    assert error.reason
    assert all(isinstance(s, str) and s for s in error.subcodes)


@_SETTINGS
@given(_trees())
def test_parse_envelope_on_generated_trees(tree: etree._Element) -> None:
    envelope = etree.Element(f"{{{SOAP12}}}Envelope")
    body = etree.SubElement(envelope, f"{{{SOAP12}}}Body")
    body.append(tree)
    _only_onvif_errors(etree.tostring(envelope))


@_SETTINGS
@given(st.data())
def test_truncated_captures(data: st.DataObject) -> None:
    capture = data.draw(st.sampled_from(_xml_captures()))
    cut = data.draw(st.integers(0, len(capture)))
    _only_onvif_errors(capture[:cut])


@_SETTINGS
@given(st.data())
def test_captures_with_flipped_bytes(data: st.DataObject) -> None:
    capture = bytearray(data.draw(st.sampled_from(_xml_captures())))
    for _ in range(data.draw(st.integers(1, 8))):
        index = data.draw(st.integers(0, len(capture) - 1))
        capture[index] = data.draw(st.integers(0, 255))
    _only_onvif_errors(bytes(capture))


@_SETTINGS
@given(st.data())
def test_captures_with_spliced_garbage(data: st.DataObject) -> None:
    capture = data.draw(st.sampled_from(_xml_captures()))
    index = data.draw(st.integers(0, len(capture)))
    garbage = data.draw(
        st.sampled_from([b"<", b">", b"&", b"&amp", b"]]>", b"<!DOCTYPE x>", b"\x00", b"\xff"])
        | st.binary(max_size=16)
    )
    _only_onvif_errors(capture[:index] + garbage + capture[index:])
