"""XML namespaces ONVIF speaks, and helpers to make qualified names.

Prefixes here are only what *we* write; on reading, every lookup goes by
namespace URI, because cameras pick their own prefixes (``SOAP-ENV``, ``env``,
``s``, ``sc`` ...) or use default namespaces.
"""

from __future__ import annotations

from typing import Final

SOAP12: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_WSS_USERNAME_PROFILE_URI: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
# URIs that name the password encodings (they hold no password).
WSSE_PASSWORD_DIGEST: Final = _WSS_USERNAME_PROFILE_URI + "#PasswordDigest"
WSSE_PASSWORD_TEXT: Final = _WSS_USERNAME_PROFILE_URI + "#PasswordText"
WSSE_BASE64: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
WSA: Final = "http://www.w3.org/2005/08/addressing"
WSA_2004: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
WSNT: Final = "http://docs.oasis-open.org/wsn/b-2"
WSTOP: Final = "http://docs.oasis-open.org/wsn/t-1"
WSRF_BF: Final = "http://docs.oasis-open.org/wsrf/bf-2"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XML: Final = "http://www.w3.org/XML/1998/namespace"

TT: Final = "http://www.onvif.org/ver10/schema"
TER: Final = "http://www.onvif.org/ver10/error"
TDS: Final = "http://www.onvif.org/ver10/device/wsdl"
TRT: Final = "http://www.onvif.org/ver10/media/wsdl"
TR2: Final = "http://www.onvif.org/ver20/media/wsdl"
TIMG: Final = "http://www.onvif.org/ver20/imaging/wsdl"
TPTZ: Final = "http://www.onvif.org/ver20/ptz/wsdl"
TEV: Final = "http://www.onvif.org/ver10/events/wsdl"
TAN: Final = "http://www.onvif.org/ver20/analytics/wsdl"
TMD: Final = "http://www.onvif.org/ver10/deviceIO/wsdl"
DN: Final = "http://www.onvif.org/ver10/network/wsdl"
TNS1: Final = "http://www.onvif.org/ver10/topics"

#: The prefixes we write. Cameras are lenient about prefixes, but some old
#: firmware only understands the conventional ones, so we keep to them.
PREFIXES: Final[dict[str, str]] = {
    "s": SOAP12,
    "wsse": WSSE,
    "wsu": WSU,
    "wsa": WSA,
    "tt": TT,
    "tds": TDS,
    "trt": TRT,
    "tr2": TR2,
    "timg": TIMG,
    "tptz": TPTZ,
    "tev": TEV,
    "tan": TAN,
    "tmd": TMD,
    "wsnt": WSNT,
    "wstop": WSTOP,
    "tns1": TNS1,
    "ter": TER,
}


def qn(namespace: str, local: str) -> str:
    """The Clark notation ``{namespace}local`` that lxml uses for qualified names."""
    return f"{{{namespace}}}{local}"


def local_name(tag: object) -> str:
    """The local part of an lxml tag (``{ns}Name`` -> ``Name``); '' for comments and PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: object) -> str | None:
    """The namespace URI of an lxml tag, or ``None`` when it has none."""
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return None
