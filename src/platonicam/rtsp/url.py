"""RTSP URLs for the client: split them, take the credentials out, resolve track controls.

Strategy: the password is never put in a URL, a log line, an error message or
a ``repr``, so credentials embedded in a URL (``user:password@``) are moved
out of it here, at the first touch: :func:`parse_url` returns the URL without
them (safe to log and send) and the :class:`RtspCredentials` separately.
:func:`resolve_control` turns the SDP's ``a=control`` values into the track
URLs that SETUP and PLAY address.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from platonicam.rtsp.errors import RtspError


@dataclass(frozen=True, slots=True)
class RtspCredentials:
    """A camera's username and password; ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """An ``rtsp://`` or ``rtsps://`` URL with any ``user:password@`` moved out of it."""

    url: str
    host: str
    port: int
    tls: bool
    credentials: RtspCredentials | None


def parse_url(url: str) -> ParsedUrl:
    """Split ``url``; the returned ``url`` has no user information (safe to log and send).

    Percent-escapes in embedded credentials are decoded. Raises
    :class:`RtspError` for another scheme or a missing host (the message names
    the scheme and host only, never the password).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("rtsp", "rtsps"):
        raise RtspError(f"not an rtsp:// or rtsps:// URL (scheme {parts.scheme!r})")
    host = parts.hostname
    if not host:
        raise RtspError("RTSP URL has no host")
    try:
        port = parts.port or (322 if scheme == "rtsps" else 554)
    except ValueError:
        raise RtspError(f"RTSP URL for {host} has an invalid port") from None
    credentials = None
    if parts.username is not None:
        credentials = RtspCredentials(
            urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
        )
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return ParsedUrl(clean, host, port, scheme == "rtsps", credentials)


def resolve_control(base: str, control: str | None) -> str:
    """The absolute URL of a ``a=control`` value against the ``Content-Base``.

    An absolute control is used as it is; ``*`` or none means the base itself;
    a relative one is appended to the base with one ``/`` between, which is how
    cameras mean it even when their base lacks the trailing slash that RFC 3986
    resolution would need (it would otherwise replace the last path segment).
    """
    if control is None or control in ("", "*"):
        return base
    if "://" in control:
        return control
    return base.rstrip("/") + "/" + control.lstrip("/")
