"""SOAP envelopes: building requests (SOAP 1.2) and reading replies (1.2 or 1.1).

Sans-IO: bytes in, elements out. :func:`parse_envelope` raises the matching
:class:`~platonicam.onvif.errors.SoapFaultError` when the body is a Fault, so a
caller that gets an :class:`Envelope` back holds a real answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.fault import is_fault, parse_fault
from platonicam.onvif.soap.namespaces import PREFIXES, SOAP11, SOAP12, local_name, namespace_of, qn
from platonicam.onvif.soap.xml import parse_xml

SoapVersion = Literal["1.1", "1.2"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed SOAP envelope. ``payload`` is the body's first element."""

    version: SoapVersion
    header: etree._Element | None
    body: etree._Element
    payload: etree._Element


def build_envelope(payload: etree._Element, *, headers: Iterable[etree._Element] = ()) -> bytes:
    """Wrap ``payload`` in a SOAP 1.2 envelope and serialise it as UTF-8 bytes."""
    envelope = etree.Element(qn(SOAP12, "Envelope"), nsmap=PREFIXES)
    header_elements = list(headers)
    if header_elements:
        header = etree.SubElement(envelope, qn(SOAP12, "Header"))
        for element in header_elements:
            header.append(element)
    body = etree.SubElement(envelope, qn(SOAP12, "Body"))
    body.append(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


_ENVELOPE_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
)


def build_envelope_bytes(payload: bytes, *, headers: Iterable[bytes] = ()) -> bytes:
    """:func:`build_envelope` for already-serialised parts (the client's hot path).

    ``payload`` and each header are standalone XML elements carrying their own
    namespace declarations (``etree.tostring`` output). Joining bytes avoids
    building, copying and re-serialising a tree for every request and retry.
    """
    header_bytes = b"".join(headers)
    parts = [_ENVELOPE_OPEN]
    if header_bytes:
        parts += [b"<s:Header>", header_bytes, b"</s:Header>"]
    parts += [b"<s:Body>", payload, b"</s:Body></s:Envelope>"]
    return b"".join(parts)


def envelope_from_root(root: etree._Element, *, operation: str | None = None) -> Envelope:
    """Read an already-parsed document root as an envelope (faults raise)."""
    namespace = namespace_of(root.tag)
    if local_name(root.tag) != "Envelope" or namespace not in (SOAP12, SOAP11):
        raise RemoteProtocolError(
            f"expected a SOAP Envelope, got <{local_name(root.tag) or root.tag}>"
            + (f" in namespace {namespace}" if namespace else ""),
            operation=operation,
        )
    version: SoapVersion = "1.2" if namespace == SOAP12 else "1.1"
    header = root.find(qn(namespace, "Header"))
    body = root.find(qn(namespace, "Body"))
    if body is None:
        raise RemoteProtocolError(
            "SOAP Envelope has no Body", operation=operation, path="/Envelope"
        )
    payload = next((c for c in body if isinstance(c.tag, str)), None)
    if payload is None:
        raise RemoteProtocolError("SOAP Body is empty", operation=operation, path="/Envelope/Body")
    if is_fault(payload):
        raise parse_fault(payload, operation=operation)
    return Envelope(version=version, header=header, body=body, payload=payload)


def parse_envelope(data: bytes, *, operation: str | None = None) -> Envelope:
    """Parse a SOAP reply; a Fault in the body raises its :class:`SoapFaultError`."""
    return envelope_from_root(parse_xml(data, operation=operation), operation=operation)


def action_of(payload: etree._Element) -> str:
    """The WS-Addressing action URI ONVIF uses for a request element.

    ONVIF actions are ``<service namespace>/<operation>``; we derive them rather
    than copy the WSDL's soapAction values, some of which are malformed.
    """
    namespace = namespace_of(payload.tag) or ""
    return f"{namespace}/{local_name(payload.tag)}"
