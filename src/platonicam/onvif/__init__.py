"""The async ONVIF client: ``from platonicam.onvif import OnvifClient``.

This module's ``__all__`` is the supported import surface; sub-modules may move.
"""

from platonicam.onvif.client import AuthMode, OnvifClient, ServiceEndpoint, rewrite_xaddr
from platonicam.onvif.errors import (
    ActionNotSupported,
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HttpStatusError,
    InvalidArgValue,
    LocalProtocolError,
    NotAuthorized,
    OnvifError,
    OperationProhibited,
    ReadTimeout,
    RemoteProtocolError,
    ServiceNotSupported,
    SoapFaultError,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.models.common import ServiceKind, Version
from platonicam.onvif.transport import AsyncioSoapTransport, SoapTransport, TlsOptions

__all__ = [
    "ActionNotSupported",
    "AsyncioSoapTransport",
    "AuthMode",
    "AuthenticationError",
    "ConnectError",
    "ConnectTimeout",
    "HttpStatusError",
    "InvalidArgValue",
    "LocalProtocolError",
    "NotAuthorized",
    "OnvifClient",
    "OnvifError",
    "OperationProhibited",
    "ReadTimeout",
    "RemoteProtocolError",
    "ServiceEndpoint",
    "ServiceKind",
    "ServiceNotSupported",
    "SoapFaultError",
    "SoapTransport",
    "TLSVerificationError",
    "TlsOptions",
    "TransportError",
    "Version",
    "rewrite_xaddr",
]
