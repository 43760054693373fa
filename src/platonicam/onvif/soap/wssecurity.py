"""WS-Security UsernameToken with PasswordDigest (ONVIF Core, WS-UsernameToken profile).

``PasswordDigest = Base64(SHA1(nonce + created + password))`` where ``nonce`` is the
raw nonce bytes and ``created`` the exact text of the ``wsu:Created`` element.
``created`` is the *camera's* time (ours plus the clock offset read from
GetSystemDateAndTime): cameras reject tokens outside a window of a few seconds
to minutes, so signing with our own clock fails on skewed cameras.

Both halves live here, pure: building a token (client) and reading and checking
one (reference device).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.namespaces import (
    SOAP12,
    WSSE,
    WSSE_BASE64,
    WSSE_PASSWORD_DIGEST,
    WSSE_PASSWORD_TEXT,
    WSU,
    qn,
)
from platonicam.onvif.soap.xmlread import attr, child, text, to_datetime
from platonicam.onvif.soap.xmlread import format_datetime as _format_created

NONCE_BYTES = 16


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """The Base64 PasswordDigest for a nonce, the ``Created`` text and a password."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324 - the spec's algorithm
    return base64.b64encode(digest).decode("ascii")


def build_username_token(
    username: str, password: str, *, created: datetime, nonce: bytes | None = None
) -> etree._Element:
    """A ``wsse:Security`` header carrying a UsernameToken with PasswordDigest.

    ``created`` must be aware; it is written in the ``Z`` form with milliseconds.
    ``nonce`` defaults to 16 random bytes.
    """
    raw_nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    created_text = _format_created(created)
    security = etree.Element(qn(WSSE, "Security"), nsmap={"s": SOAP12, "wsse": WSSE, "wsu": WSU})
    security.set(qn(SOAP12, "mustUnderstand"), "true")
    token = etree.SubElement(security, qn(WSSE, "UsernameToken"))
    etree.SubElement(token, qn(WSSE, "Username")).text = username
    password_element = etree.SubElement(token, qn(WSSE, "Password"), Type=WSSE_PASSWORD_DIGEST)
    password_element.text = password_digest(raw_nonce, created_text, password)
    nonce_element = etree.SubElement(token, qn(WSSE, "Nonce"), EncodingType=WSSE_BASE64)
    nonce_element.text = base64.b64encode(raw_nonce).decode("ascii")
    etree.SubElement(token, qn(WSU, "Created")).text = created_text
    return security


def username_token_bytes(
    username: str, password: str, *, created: datetime, nonce: bytes | None = None
) -> bytes:
    """:func:`build_username_token` serialised, written directly as bytes.

    The client signs every request; writing the fixed markup as text is several
    times cheaper than building and serialising an element tree each time.
    """
    raw_nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    created_text = _format_created(created)
    digest = password_digest(raw_nonce, created_text, password)
    nonce_text = base64.b64encode(raw_nonce).decode("ascii")
    return (
        f'<wsse:Security xmlns:s="{SOAP12}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" '
        f's:mustUnderstand="true"><wsse:UsernameToken>'
        f"<wsse:Username>{xml_escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{WSSE_PASSWORD_DIGEST}">{digest}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{WSSE_BASE64}">{nonce_text}</wsse:Nonce>'
        f"<wsu:Created>{created_text}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    ).encode()


@dataclass(frozen=True, slots=True)
class UsernameToken:
    """A UsernameToken as read from a request header (device side)."""

    username: str
    password: str
    digest: bool
    nonce: bytes
    created_text: str
    created: datetime | None

    def matches(self, password: str) -> bool:
        """Whether the token proves knowledge of ``password`` (constant-time compare)."""
        if self.digest:
            expected = password_digest(self.nonce, self.created_text, password)
        else:
            expected = password
        return hmac.compare_digest(expected.encode(), self.password.encode())


def parse_username_token(header: etree._Element | None) -> UsernameToken | None:
    """The UsernameToken in a SOAP header, or ``None`` when the request carries none.

    Accepts ``Created`` with or without milliseconds and a missing Password
    ``Type`` (read as PasswordText, the profile's default).
    """
    token = child(header, "Security", "UsernameToken")
    if token is None:
        return None
    username = text(token, "Username") or ""
    password_element = child(token, "Password")
    password = text(password_element) or ""
    password_type = attr(password_element, "Type") or WSSE_PASSWORD_TEXT
    nonce_text = text(token, "Nonce") or ""
    try:
        nonce = base64.b64decode(nonce_text, validate=True) if nonce_text else b""
    except ValueError:
        raise RemoteProtocolError(
            "UsernameToken Nonce is not Base64", path="/Security/UsernameToken/Nonce"
        ) from None
    created_text = text(token, "Created") or ""
    created = to_datetime(created_text) if created_text else None
    return UsernameToken(
        username=username,
        password=password,
        digest=password_type.endswith("#PasswordDigest"),
        nonce=nonce,
        created_text=created_text,
        created=created,
    )
