"""SOAP faults the reference device answers with, and the envelopes that carry them.

A handler refuses a request by raising :class:`DeviceFault`; the app turns it
into a SOAP 1.2 (or 1.1, when the request came in 1.1) Fault with the ONVIF
subcodes, and picks the HTTP status the SOAP HTTP binding gives the fault
code: 400 for ``env:Sender``, 500 for ``env:Receiver`` (401 is added by the
app for missing credentials). Nothing else leaves the app as an error: an
unexpected exception becomes a Receiver fault without its traceback.

The constructors below name the ONVIF Core faults (section 5.11.2) the device
uses, so the subcode spelling lives in one place.
"""

from __future__ import annotations

from typing import Final, Literal

from lxml import etree

from platonicam.errors import PlatonicamError
from platonicam.onvif.soap.namespaces import SOAP11, SOAP12, TER, qn

FaultCode = Literal["Sender", "Receiver"]

_XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"


class DeviceFault(PlatonicamError):
    """A request the device refuses: ``code``, ONVIF ``subcodes`` (local names in
    the ``ter`` namespace, outermost first) and a reason for people."""

    def __init__(
        self,
        reason: str,
        *,
        code: FaultCode = "Sender",
        subcodes: tuple[str, ...] = (),
        http_status: int | None = None,
        subcode_namespace: str = TER,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code: FaultCode = code
        self.subcodes = subcodes
        self.subcode_namespace = subcode_namespace
        self.http_status = http_status or (400 if code == "Sender" else 500)


def invalid_arg(reason: str, *detail: str) -> DeviceFault:
    """``env:Sender / ter:InvalidArgVal [/ detail ...]``: a value outside what is allowed."""
    return DeviceFault(reason, subcodes=("InvalidArgVal", *detail))


def invalid_args(reason: str) -> DeviceFault:
    """``env:Sender / ter:InvalidArgs``: the request is missing or has unreadable arguments."""
    return DeviceFault(reason, subcodes=("InvalidArgs",))


def no_profile(token: str) -> DeviceFault:
    return invalid_arg(f"no media profile with token {token!r}", "NoProfile")


def no_config(token: str) -> DeviceFault:
    return invalid_arg(f"no configuration with token {token!r}", "NoConfig")


def no_source(token: str) -> DeviceFault:
    return invalid_arg(f"no video source with token {token!r}", "NoSource")


def config_modify(reason: str) -> DeviceFault:
    return invalid_arg(reason, "ConfigModify")


def action_not_supported(operation: str) -> DeviceFault:
    """``env:Receiver / ter:ActionNotSupported`` (Core 5.11.2.2)."""
    return DeviceFault(
        f"the device does not support {operation}",
        code="Receiver",
        subcodes=("ActionNotSupported",),
    )


def not_authorized(
    reason: str = "the sender is not authorized to perform this action",
) -> DeviceFault:
    """``env:Sender / ter:NotAuthorized`` (Core 5.11.2.1)."""
    return DeviceFault(reason, subcodes=("NotAuthorized",))


def well_formed(reason: str) -> DeviceFault:
    """``env:Sender / ter:WellFormed``: the body is not a SOAP envelope we can read."""
    return DeviceFault(reason, subcodes=("WellFormed",))


def operation_prohibited(reason: str) -> DeviceFault:
    return DeviceFault(reason, subcodes=("OperationProhibited",))


def build_fault_envelope(fault: DeviceFault, *, soap11: bool = False) -> bytes:
    """The whole envelope for ``fault`` (SOAP 1.2 unless the request was 1.1)."""
    if soap11:
        envelope = etree.Element(qn(SOAP11, "Envelope"), nsmap={"s": SOAP11, "ter": TER})
        body = etree.SubElement(envelope, qn(SOAP11, "Body"))
        node = etree.SubElement(body, qn(SOAP11, "Fault"))
        # SOAP 1.1 has no subcodes: the dotted form is what gSOAP-era clients read.
        chain = ".".join(("Client" if fault.code == "Sender" else "Server", *fault.subcodes))
        etree.SubElement(node, "faultcode").text = f"s:{chain}"
        etree.SubElement(node, "faultstring").text = fault.reason
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    envelope = etree.Element(
        qn(SOAP12, "Envelope"), nsmap={"s": SOAP12, "ter": fault.subcode_namespace}
    )
    body = etree.SubElement(envelope, qn(SOAP12, "Body"))
    node = etree.SubElement(body, qn(SOAP12, "Fault"))
    code = etree.SubElement(node, qn(SOAP12, "Code"))
    etree.SubElement(code, qn(SOAP12, "Value")).text = f"s:{fault.code}"
    parent = code
    for subcode in fault.subcodes:
        parent = etree.SubElement(parent, qn(SOAP12, "Subcode"))
        etree.SubElement(parent, qn(SOAP12, "Value")).text = f"ter:{subcode}"
    reason = etree.SubElement(node, qn(SOAP12, "Reason"))
    text = etree.SubElement(reason, qn(SOAP12, "Text"))
    text.set(_XML_LANG, "en")
    text.text = fault.reason
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
