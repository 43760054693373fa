"""The HTTP seam between the ONVIF client and a camera.

:class:`SoapTransport` is one method: post an envelope, get the status and the
bytes back. :class:`AsyncioSoapTransport` is the real one: HTTP/1.1 on asyncio
protocols (framing in :mod:`platonicam.onvif.http11`, Digest in
:mod:`platonicam.onvif.digest`), with keep-alive pooling, timeouts, TLS
verified by default and certificate pinning. Tests wrap it to refuse any
destination that is not loopback, or replace it altogether.

Strategy: a SOAP exchange is one small POST and one answer, so the transport
writes the whole request at once and feeds every received byte to a
:class:`~platonicam.onvif.http11.ResponseParser` straight from
``data_received``: no stream buffering, no per-read awaits, no task per
connection. It replaced httpx, which cost ~50 ms of lazy imports on the first
request, ~1 ms per request and ~14 MB (benchmarks/README.md).

Every OS, ssl and framing failure is translated here into the client's error
tree (``platonicam.onvif.errors``); nothing else escapes.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol
from urllib.parse import urlsplit

from platonicam.onvif.digest import (
    DigestError,
    DigestSession,
    choose_challenge,
    parse_challenges,
)
from platonicam.onvif.errors import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.http11 import (
    BodyTooLarge,
    ConnectionClosed,
    HttpError,
    Response,
    ResponseParser,
    build_request,
)
from platonicam.onvif.soap.xml import MAX_DOCUMENT_BYTES

SOAP12_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"
_USER_AGENT: Final = "PlatoniCam"
# How long aclose() waits for sockets (and TLS close_notify) before aborting them.
_CLOSE_GRACE_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class HttpCredentials:
    """Username and password for HTTP Digest. ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SoapHttpResponse:
    """A camera's answer: HTTP status, body, and headers (names lower-cased,
    repeated fields joined with ``", "``)."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]


class SoapTransport(Protocol):
    """Posts SOAP envelopes. Implementations translate their failures into
    :class:`~platonicam.onvif.errors.TransportError` subclasses."""

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        """Send ``envelope`` to ``url``; with ``credentials``, answer a 401 digest
        challenge with them. ``timeout`` (seconds) replaces the transport's read
        timeout for this request (long-polling PullMessages needs more). Returns
        whatever status the camera answered."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """How to trust a camera's certificate.

    ``verify=False`` turns verification off (say so deliberately: the default is
    on). ``ca_file`` trusts a CA bundle or one camera's self-signed certificate.
    ``pinned_sha256`` (hex, colons allowed) accepts exactly the certificate with
    that fingerprint, whatever signed it; :class:`AsyncioSoapTransport` checks
    the pin right after the TLS handshake of every connection, before a single
    request byte (and so before any credentials) is sent.
    ``check_hostname=False`` keeps chain verification but accepts a certificate
    issued for another name (cameras reached by IP with a name-only certificate).
    """

    verify: bool = True
    ca_file: str | None = None
    pinned_sha256: str | None = None
    check_hostname: bool = True

    def ssl_context(self) -> ssl.SSLContext:
        """A client context for these options. Verifying contexts load the CA
        store (system or ``ca_file``); unverified and pinned ones load nothing,
        since the pin, not a CA, is what they trust."""
        if self.pinned_sha256 or not self.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        context = ssl.create_default_context(cafile=self.ca_file)
        context.check_hostname = self.check_hostname
        return context


def _normalised_pin(pin: str) -> str:
    return pin.replace(":", "").strip().lower()


__TAIL__