"""SOAP Faults (1.2 and 1.1) into the client's error tree.

Classification looks at every subcode, not only the first: the Hikvision
DS-2DF7276-AEL answers GetDot11Capabilities with ``ter:InvalidDot11`` *above*
``ter:ActionNotSupported`` (corpus ``faults/hikvision_DS-2DF7276-AEL_GetDot11Capabilities.xml``).
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from platonicam.onvif.errors import (
    ActionNotSupported,
    InvalidArgValue,
    NotAuthorized,
    OperationProhibited,
    SoapFaultError,
)
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xmlread import child, children, text

# Subcode local names and the error type each selects, most specific first.
_BY_SUBCODE: Final[tuple[tuple[frozenset[str], type[SoapFaultError]], ...]] = (
    (
        frozenset(
            {
                "NotAuthorized",
                "FailedAuthentication",
                "InvalidSecurity",
                "InvalidSecurityToken",
                "FailedCheck",
            }
        ),
        NotAuthorized,
    ),
    (frozenset({"ActionNotSupported", "NoSuchService"}), ActionNotSupported),
    (frozenset({"OperationProhibited"}), OperationProhibited),
    (frozenset({"InvalidArgVal", "InvalidArgs", "InvalidArg"}), InvalidArgValue),
)

# gSOAP-based firmware (Pelco D6230L, corpus faults/pelco_D6230L_GetGeoLocation.xml)
# answers an operation it lacks with a bare Sender fault and this reason.
_GSOAP_UNKNOWN_METHOD: Final = "not implemented: method name or namespace not recognized"


def _qname_local(value: str | None) -> str:
    """``ter:NotAuthorized`` -> ``NotAuthorized`` (fault code values are QNames as text)."""
    if not value:
        return ""
    return value.strip().rsplit(":", 1)[-1]


def _all_text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    parts = [str(t).strip() for t in element.itertext() if str(t).strip()]
    return " ".join(parts) or None


def _reason_from_detail(fault: etree._Element, detail: str | None) -> str:
    """A reason for a fault whose Reason is empty, built from its Detail.

    A typed detail element names the fault better than its text alone: the Axis
    Q6045-E answers CreatePullPointSubscription with an empty Reason and a
    ``wsnt:SubscribeCreationFailedFault`` holding only a timestamp (corpus
    ``faults/axis_Q6045-E_CreatePullPointSubscription.xml``).
    """
    detail_element = child(fault, "Detail")
    if detail_element is None:
        detail_element = child(fault, "detail")
    elements = list(detail_element) if detail_element is not None else []
    first = next((c for c in elements if isinstance(c.tag, str)), None)
    name = local_name(first.tag) if first is not None else ""
    if name and name != "Text":
        return f"{name}: {detail}" if detail else name
    return detail or "no reason given"


def classify(code: str, subcodes: tuple[str, ...], reason: str) -> type[SoapFaultError]:
    """The error type for a fault's code, subcodes and reason."""
    names = set(subcodes) | {code}
    for members, error_type in _BY_SUBCODE:
        if names & members:
            return error_type
    if _GSOAP_UNKNOWN_METHOD in reason:
        return ActionNotSupported
    return SoapFaultError


def parse_fault(fault: etree._Element, *, operation: str | None = None) -> SoapFaultError:
    """Turn a ``Fault`` element (SOAP 1.2 or 1.1) into the matching :class:`SoapFaultError`."""
    code_element = child(fault, "Code")
    if code_element is not None:  # SOAP 1.2
        code = _qname_local(text(code_element, "Value"))
        subcodes: list[str] = []
        node = child(code_element, "Subcode")
        while node is not None:
            subcodes.append(_qname_local(text(node, "Value")))
            node = child(node, "Subcode")
        reason_element = child(fault, "Reason")
        reason_texts = (
            [(t.text or "").strip() for t in children(reason_element, "Text")]
            if reason_element is not None
            else []
        )
        reason = next((r for r in reason_texts if r), "")
        detail = _all_text(child(fault, "Detail"))
    else:  # SOAP 1.1: faultcode may itself be a dotted chain ("env:Client.NotAuthorized")
        raw_code = _qname_local(text(fault, "faultcode"))
        code, *rest = raw_code.split(".") if raw_code else ["Server"]
        subcodes = [r for r in rest if r]
        reason = text(fault, "faultstring") or ""
        detail = _all_text(child(fault, "detail"))
    subcode_tuple = tuple(s for s in subcodes if s)
    if not reason:
        reason = _reason_from_detail(fault, detail)
    error_type = classify(code or "Unknown", subcode_tuple, reason)
    return error_type(
        reason, code=code or "Unknown", subcodes=subcode_tuple, detail=detail, operation=operation
    )


def is_fault(element: etree._Element) -> bool:
    return local_name(element.tag) == "Fault"
