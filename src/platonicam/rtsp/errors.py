"""RTSP/RTP errors: one tree under :class:`~platonicam.errors.PlatonicamError`.

::

    RtspError                       (platonicam.errors.PlatonicamError)
    ├── RtspProtocolError           bytes that are not RTSP we can read: a bad start
    │                               line or header, a size over our limits, a
    │                               connection closed mid-message
    ├── SdpError                    a session description we cannot read or build
    ├── RtpError                    an RTP or RTCP packet that is too short or
    │                               inconsistent
    ├── AuthError                   an authentication header we cannot read
    ├── RtspStatusError             a peer answered a request with an error status
    │   └── RtspAuthenticationError the camera refused our credentials (or we have none)
    ├── RtspTimeoutError            a peer that stopped answering or sending media
    └── RtspConnectionError         a connection refused, reset or closed under us

The server never lets these escape to its caller: a malformed request is answered
with ``400 Bad Request`` and the connection closed; a malformed packet is dropped.
"""

from __future__ import annotations

from platonicam.errors import PlatonicamError


class RtspError(PlatonicamError):
    """Base class of every error the RTSP/RTP core raises."""


class RtspProtocolError(RtspError):
    """Bytes on an RTSP connection that do not form a message we accept."""


class SdpError(RtspError):
    """A session description that is malformed or lacks what a stream needs."""


class RtpError(RtspError):
    """An RTP/RTCP packet, or an RTP payload, that cannot be parsed."""


class AuthError(RtspError):
    """An ``Authorization`` or ``WWW-Authenticate`` header that cannot be parsed."""


class RtspStatusError(RtspError):
    """A response with a status other than 2xx; ``status`` is its code, ``method`` the request's."""

    def __init__(self, message: str, *, status: int, method: str) -> None:
        super().__init__(message)
        self.status = status
        self.method = method


class RtspAuthenticationError(RtspStatusError):
    """``401`` after we answered the challenge: wrong credentials, or none configured."""


class RtspTimeoutError(RtspError):
    """The peer did not answer a request, or sent no media, within the allowed time."""


class RtspConnectionError(RtspError):
    """The TCP/TLS connection could not be opened or was lost."""
