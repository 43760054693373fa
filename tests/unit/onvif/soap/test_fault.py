"""SOAP Faults into the error tree: 1.2 nested subcodes, 1.1 faultcodes, missing reasons."""

from __future__ import annotations

import pytest
from lxml import etree

from platonicam.onvif.errors import (
    ActionNotSupported,
    InvalidArgValue,
    NotAuthorized,
    OperationProhibited,
    SoapFaultError,
)
from platonicam.onvif.soap.envelope import parse_envelope
from platonicam.onvif.soap.fault import classify, is_fault, parse_fault
from platonicam.onvif.soap.namespaces import SOAP11, SOAP12, TER


def _fault12(code: str, subcodes: list[str], reason: str = "", detail: str = "") -> bytes:
    nested = ""
    for value in reversed(subcodes):
        nested = f"<s:Subcode><s:Value>{value}</s:Value>{nested}</s:Subcode>"
    return (
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:ter="{TER}"><s:Body><s:Fault>'
        f"<s:Code><s:Value>{code}</s:Value>{nested}</s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason>{detail}'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def test_soap12_nested_subcodes_outermost_first() -> None:
    data = _fault12(
        "s:Sender", ["ter:InvalidArgVal", "ter:NoConfig", "ter:Deeper"], "No such configuration"
    )
    with pytest.raises(InvalidArgValue) as caught:
        parse_envelope(data, operation="GetProfile")
    error = caught.value
    assert error.code == "Sender"
    assert error.subcodes == ("InvalidArgVal", "NoConfig", "Deeper")
    assert error.reason == "No such configuration"
    assert error.detail is None
    assert str(error) == (
        "camera answered to GetProfile with SOAP fault "
        "Sender/InvalidArgVal/NoConfig/Deeper: No such configuration"
    )


@pytest.mark.parametrize(
    ("subcodes", "error_type"),
    [
        (["ter:NotAuthorized"], NotAuthorized),
        (["wsse:FailedAuthentication"], NotAuthorized),
        (["ter:ActionNotSupported", "ter:NoImagingForSource"], ActionNotSupported),
        (["ter:OperationProhibited", "ter:InvalidState"], OperationProhibited),
        (["ter:InvalidArgs"], InvalidArgValue),
        (["ter:Action"], SoapFaultError),
        ([], SoapFaultError),
    ],
)
def test_classification_by_any_subcode(
    subcodes: list[str], error_type: type[SoapFaultError]
) -> None:
    with pytest.raises(SoapFaultError) as caught:
        parse_envelope(_fault12("s:Receiver", subcodes, "r"))
    assert type(caught.value) is error_type


def test_empty_reason_falls_back_to_detail_text_then_to_a_placeholder() -> None:
    with_detail = _fault12("s:Sender", [], "", "<s:Detail><s:Text>why</s:Text></s:Detail>")
    with pytest.raises(SoapFaultError) as caught:
        parse_envelope(with_detail)
    assert caught.value.reason == "why"
    assert caught.value.detail == "why"
    with pytest.raises(SoapFaultError) as bare:
        parse_envelope(_fault12("s:Sender", []))
    assert bare.value.reason == "no reason given"
    assert bare.value.detail is None


def test_empty_reason_with_typed_detail_names_the_detail_element() -> None:
    detail = (
        '<s:Detail><x:SubscribeCreationFailedFault xmlns:x="http://docs.oasis-open.org/wsn/b-2">'
        "<x:Timestamp>2020-01-01T00:00:00Z</x:Timestamp></x:SubscribeCreationFailedFault></s:Detail>"
    )
    with pytest.raises(SoapFaultError) as caught:
        parse_envelope(_fault12("s:Receiver", [], "", detail))
    assert caught.value.reason == "SubscribeCreationFailedFault: 2020-01-01T00:00:00Z"


def _fault11(faultcode: str, faultstring: str, detail: str = "") -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><soap:Fault>'
        f"<faultcode>{faultcode}</faultcode><faultstring>{faultstring}</faultstring>{detail}"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def test_soap11_dotted_faultcode() -> None:
    with pytest.raises(NotAuthorized) as caught:
        parse_envelope(_fault11("soap:Client.NotAuthorized", "Sender not authorized"))
    assert caught.value.code == "Client"
    assert caught.value.subcodes == ("NotAuthorized",)
    assert caught.value.reason == "Sender not authorized"


def test_soap11_plain_faultcode_with_detail() -> None:
    with pytest.raises(SoapFaultError) as caught:
        parse_envelope(_fault11("soap:Server", "", "<detail><msg>disk full</msg></detail>"))
    assert type(caught.value) is SoapFaultError
    assert caught.value.code == "Server"
    assert caught.value.subcodes == ()
    assert caught.value.detail == "disk full"
    assert caught.value.reason == "msg: disk full"


def test_soap11_missing_faultcode_reads_as_server() -> None:
    fault = etree.fromstring(f'<f:Fault xmlns:f="{SOAP11}"><faultstring>x</faultstring></f:Fault>')
    error = parse_fault(fault)
    assert error.code == "Server"
    assert error.reason == "x"


def test_gsoap_unknown_method_reason_is_action_not_supported() -> None:
    reason = "Method 'tds:GetGeoLocation' not implemented: method name or namespace not recognized"
    assert classify("Sender", (), reason) is ActionNotSupported
    assert classify("Sender", (), "something else") is SoapFaultError


def test_is_fault_by_local_name() -> None:
    assert is_fault(etree.fromstring(f'<f:Fault xmlns:f="{SOAP12}"/>'))
    assert not is_fault(etree.fromstring("<Faults/>"))
