"""Every captured SOAP Fault: exact error type, code, subcodes, reason and detail.

The type is what callers branch on (retry with a fresh clock on NotAuthorized,
mark the feature absent on ActionNotSupported), so it is asserted exactly, not
with ``isinstance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from platonicam.onvif.errors import (
    ActionNotSupported,
    InvalidArgValue,
    NotAuthorized,
    OnvifError,
    SoapFaultError,
)
from platonicam.onvif.soap.envelope import parse_envelope
from tests.corpus import capture, envelope_bytes, ids, payload


@dataclass(frozen=True, slots=True)
class FaultCase:
    error_type: type[SoapFaultError]
    code: str
    subcodes: tuple[str, ...]
    reason: str
    detail: str | None


CASES: dict[str, FaultCase] = {
    # Empty Reason: the typed Detail element names the fault.
    "faults/axis_Q6045-E_CreatePullPointSubscription.xml": FaultCase(
        SoapFaultError,
        "Receiver",
        (),
        "SubscribeCreationFailedFault: 2018-02-24T15:57:29Z",
        "2018-02-24T15:57:29Z",
    ),
    "faults/axis_Q6045-E_GetAudioEncoderConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "AudioNotSupported"),
        "No audio support",
        "The NVT does not support audio",
    ),
    # A bare Sender fault with an empty Reason and no Detail at all.
    "faults/axis_Q6045-E_GetDPAddresses.xml": FaultCase(
        SoapFaultError, "Sender", (), "no reason given", None
    ),
    "faults/axis_Q6045-E_GetDot11Capabilities.xml": FaultCase(
        NotAuthorized,
        "Sender",
        ("NotAuthorized",),
        "Sender not authorized",
        "The action requested requires authorization and the sender is not authorized",
    ),
    # ter:Action is ONVIF's generic "the action failed": no narrower type applies.
    "faults/axis_Q6045-E_GetGeoLocation.xml": FaultCase(
        SoapFaultError, "Receiver", ("Action",), "Action failed", "The requested SOAP action failed"
    ),
    "faults/axis_Q6045-E_GetVideoAnalyticsConfigurations.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "VideoAnalyticsNotSupported"),
        "No video analytics capability",
        "NVT does not support video analytics.",
    ),
    "faults/axis_Q6045-E_ScanAvailableDot11Networks.xml": FaultCase(
        SoapFaultError,
        "Sender",
        ("TagMismatch",),
        "Tag mismatch",
        "Validation constraint violation: tag name or namespace mismatch"
        " in element tt:ReferenceToken",
    ),
    "faults/axis_Q6045-E_SetDNS.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgs",),
        "Invalid argument",
        "Validation constraint violation: occurrence violation in element tds:SetDNS",
    ),
    "faults/axis_Q6045-E_SetNTP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgs",),
        "Invalid argument",
        "Validation constraint violation: occurrence violation in element tds:SetNTP",
    ),
    "faults/hikvision_DS-2CD2012-I_GetAudioDecoderConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        ("ActionNotSupported", "AudioDecodingNotSupported"),
        "NVT does not support audio decoder.",
        None,
    ),
    "faults/hikvision_DS-2CD2012-I_GetAudioEncoderConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        ("ActionNotSupported", "AudioNotSupported"),
        "NVT does not support audio.",
        None,
    ),
    "faults/hikvision_DS-2CD2012-I_GetAudioOutputConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        ("ActionNotSupported", "AudioOutputNotSupported"),
        "NVT does not support audio output.",
        None,
    ),
    "faults/hikvision_DS-2CD2012-I_GetCACertificates.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "InvalidOperation"),
        "Optional Action Not Implemented",
        "NULL",
    ),
    "faults/hikvision_DS-2CD2012-I_GetServices.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        None,
    ),
    "faults/hikvision_DS-2CD2012-I_SetHostnameFromDHCP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "tagval is null!",
    ),
    "faults/hikvision_DS-2DF7276-AEL_GetAnalyticsModuleOptions.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "InvalidOperation"),
        "Optional Action Not Implemented",
        None,
    ),
    "faults/hikvision_DS-2DF7276-AEL_GetCACertificates.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "InvalidOperation"),
        "Optional Action Not Implemented",
        "NULL",
    ),
    # "Reveiver" is the firmware's spelling, kept as sent.
    "faults/hikvision_DS-2DF7276-AEL_GetDot11Capabilities.xml": FaultCase(
        ActionNotSupported,
        "Reveiver",
        ("InvalidDot11", "ActionNotSupported"),
        "IEEE802.11Configuration is not support",
        None,
    ),
    "faults/hikvision_DS-2DF7276-AEL_SetDNS.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "FromDHCP param is err!",
    ),
    "faults/hikvision_DS-2DF7276-AEL_SetHostnameFromDHCP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "FromDHCP parameter is err!",
    ),
    "faults/hikvision_DS-2DF7276-AEL_SetNTP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "FromDHCP tagval is null!",
    ),
    "faults/pelco_D6230L_GetAccessPolicy.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported",),
        "Optional Action Not Implemented",
        None,
    ),
    "faults/pelco_D6230L_GetAudioDecoderConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "AudioDecodingNotSupported"),
        "Audio Decoding is not supported.",
        None,
    ),
    "faults/pelco_D6230L_GetAudioOutputConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "AudioOutputNotSupported"),
        "Audio Output is not supported.",
        None,
    ),
    # gSOAP's unknown-method fault has no subcode; its reason text is recognised.
    "faults/pelco_D6230L_GetGeoLocation.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        (),
        "Method 'tds:GetGeoLocation' not implemented: method name or namespace not recognized",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetAnalyticsModuleOptions.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "InvalidOperation"),
        "Optional Action Not Implemented",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetAudioDecoderConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        ("ActionNotSupported", "AudioDecodingNotSupported"),
        "NVT does not support audio decoder.",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetAudioOutputConfigurations.xml": FaultCase(
        ActionNotSupported,
        "Sender",
        ("ActionNotSupported", "AudioOutputNotSupported"),
        "NVT does not support audio output.",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetCACertificates.xml": FaultCase(
        ActionNotSupported,
        "Receiver",
        ("ActionNotSupported", "InvalidOperation"),
        "Optional Action Not Implemented",
        "NULL",
    ),
    "faults/trendnet_TV-IP320PI_GetDeviceInformation.xml": FaultCase(
        NotAuthorized,
        "Sender",
        ("NotAuthorized",),
        "The action requested requires authorization and the sender is not authorized",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetDot11Capabilities.xml": FaultCase(
        ActionNotSupported,
        "Reveiver",
        ("InvalidDot11", "ActionNotSupported"),
        "IEEE802.11Configuration is not support",
        None,
    ),
    "faults/trendnet_TV-IP320PI_GetServices.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        None,
    ),
    "faults/trendnet_TV-IP320PI_SetHostnameFromDHCP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "tagval is null!",
    ),
    "faults/trendnet_TV-IP320PI_SetNTP.xml": FaultCase(
        InvalidArgValue,
        "Sender",
        ("InvalidArgVal", "InvalidParameter"),
        "the parameter value is illegal",
        "FromDHCP tagval is null!",
    ),
}


@pytest.mark.parametrize("path", list(CASES), ids=ids(CASES))
def test_fault_capture(path: str) -> None:
    expected = CASES[path]
    operation = capture(path).operation
    with pytest.raises(SoapFaultError) as caught:
        parse_envelope(envelope_bytes(path), operation=operation)
    error = caught.value
    assert type(error) is expected.error_type
    assert error.code == expected.code
    assert error.subcodes == expected.subcodes
    assert error.reason == expected.reason
    assert error.detail == expected.detail
    assert error.operation == operation
    assert operation in str(error)
    assert "/".join((expected.code, *expected.subcodes)) in str(error)


@pytest.mark.parametrize("path", list(CASES), ids=ids(CASES))
def test_fault_capture_raises_through_the_corpus_loader(path: str) -> None:
    """The helper other corpus tests use raises exactly what the client would."""
    with pytest.raises(OnvifError) as caught:
        payload(path)
    assert type(caught.value) is CASES[path].error_type


def test_hikvision_lists_action_not_supported_below_its_own_subcode() -> None:
    """Classification looks past the first subcode (ter:InvalidDot11 above ActionNotSupported)."""
    error = CASES["faults/hikvision_DS-2DF7276-AEL_GetDot11Capabilities.xml"]
    assert error.subcodes[0] == "InvalidDot11"
    assert error.error_type is ActionNotSupported


def test_every_fault_type_is_represented() -> None:
    kinds = {case.error_type for case in CASES.values()}
    assert {NotAuthorized, ActionNotSupported, InvalidArgValue, SoapFaultError} <= kinds
