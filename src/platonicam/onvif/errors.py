"""The ONVIF client's errors: one tree, translated at the boundary.

::

    OnvifError                      (platonicam.errors.PlatonicamError)
    ├── TransportError              the request did not complete at the HTTP level
    │   ├── ConnectError            nothing answered at that address (refused, unreachable)
    │   ├── ConnectTimeout          the TCP/TLS connection was not set up in time
    │   ├── ReadTimeout             connected, but the camera did not answer in time
    │   ├── TLSVerificationError    the camera's certificate did not verify
    │   └── HttpStatusError         an HTTP status that carries no SOAP fault (404, 502 ...)
    ├── AuthenticationError         the camera refused our credentials (HTTP 401 after digest)
    ├── RemoteProtocolError         the camera sent something malformed (not XML, not SOAP,
    │                               a missing or unreadable element): carries the operation
    │                               and the path of the offending element
    ├── SoapFaultError              the camera answered with a SOAP Fault (code, subcodes, reason)
    │   ├── NotAuthorized           ter:NotAuthorized (wrong credentials, or clock skew)
    │   ├── ActionNotSupported      ter:ActionNotSupported / env:MustUnderstand style refusals
    │   ├── InvalidArgValue         ter:InvalidArgVal, ter:InvalidArgs and ter:InvalidArg*
    │   └── OperationProhibited     ter:OperationProhibited
    ├── LocalProtocolError          the caller asked for something impossible before sending
    │                               (a value outside the camera's options, an unknown service)
    └── ServiceNotSupported         the camera does not offer the service an operation needs

No socket, ssl or lxml exception leaves the public API: the transport and the parsers
translate them into these types.
"""

from __future__ import annotations

from platonicam.errors import PlatonicamError


class OnvifError(PlatonicamError):
    """Base class of every error the ONVIF client raises."""


class TransportError(OnvifError):
    """The HTTP exchange with the camera failed."""


class ConnectError(TransportError):
    """Nothing accepted a connection at the camera's address."""


class ConnectTimeout(TransportError):
    """The connection to the camera was not established in time."""


class ReadTimeout(TransportError):
    """The camera accepted the request but did not answer in time."""


class TLSVerificationError(TransportError):
    """The camera's TLS certificate did not verify against the trusted roots or pin."""


class HttpStatusError(TransportError):
    """The camera answered with an HTTP error status and no SOAP fault."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class AuthenticationError(OnvifError):
    """The camera refused the credentials over HTTP (401 after a digest attempt)."""


class RemoteProtocolError(OnvifError):
    """The camera sent something that is not a readable answer.

    ``operation`` names the request, ``path`` the element (or ``None`` when the
    document as a whole was unreadable).
    """

    def __init__(
        self, message: str, *, operation: str | None = None, path: str | None = None
    ) -> None:
        details = []
        if operation:
            details.append(f"operation {operation}")
        if path:
            details.append(f"at {path}")
        full = f"{message} ({', '.join(details)})" if details else message
        super().__init__(full)
        self.operation = operation
        self.path = path


class SoapFaultError(OnvifError):
    """A SOAP Fault from the camera.

    ``code`` is the fault code's local name (``Sender``, ``Receiver``, ``Client``,
    ``Server`` ...), ``subcodes`` the local names of the nested subcodes, outermost
    first (``["InvalidArgVal", "NoConfig"]``), ``reason`` the human text.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str,
        subcodes: tuple[str, ...] = (),
        detail: str | None = None,
        operation: str | None = None,
    ) -> None:
        chain = "/".join((code, *subcodes))
        where = f" to {operation}" if operation else ""
        super().__init__(f"camera answered{where} with SOAP fault {chain}: {reason}")
        self.reason = reason
        self.code = code
        self.subcodes = subcodes
        self.detail = detail
        self.operation = operation


class NotAuthorized(SoapFaultError):
    """The camera refused the request's credentials (or its clock disagrees with ours)."""


class ActionNotSupported(SoapFaultError):
    """The camera does not implement the requested operation."""


class InvalidArgValue(SoapFaultError):
    """The camera rejected an argument's value."""


class OperationProhibited(SoapFaultError):
    """The camera refuses the operation in its current state or configuration."""


class LocalProtocolError(OnvifError):
    """The request was refused before anything was sent (it could not be valid)."""


class ServiceNotSupported(OnvifError):
    """The camera does not offer the ONVIF service an operation needs."""
