"""RTSP authentication: HTTP Digest (RFC 2617 / RFC 7616, MD5) both ways, Basic for clients.

RTSP borrows HTTP's ``WWW-Authenticate`` / ``Authorization`` headers unchanged.
The server side (:class:`DigestVerifier`) is stateless: a nonce is a timestamp
plus an HMAC of it under a per-server secret, so any nonce we issued can be
checked without remembering it, and an old one is answered with
``stale=true`` (the client retries without asking the user again). The server
challenges without ``qop`` because most RTSP clients and cameras (FFmpeg, live555,
VLC) speak the RFC 2069 form; answers that do carry ``qop=auth`` are verified too.
Time is passed in (seconds on a monotonic clock), so tests need no sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from platonicam.rtsp.errors import AuthError

#: Looks up a user's password; ``None`` for an unknown user.
PasswordLookup = Callable[[str], str | None]

#: How long an issued nonce stays valid (seconds).
NONCE_LIFETIME = 300.0

_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^",\s]*)\s*(,|$)')


def parse_auth_params(text: str) -> dict[str, str]:
    """``key=value, key="quoted"`` pairs (keys lower-cased, quotes and escapes removed).

    Raises :class:`AuthError` when the text is not such a list.
    """
    params: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None:
            raise AuthError(f"malformed authentication parameters at {text[position:]!r}")
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
        position = match.end()
    return params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_scheme(header: str) -> tuple[str, str]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), rest


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A ``WWW-Authenticate: Digest ...`` value; ``str()`` is the header value."""

    realm: str
    nonce: str
    opaque: str | None = None
    algorithm: str | None = None
    qop: str | None = None
    stale: bool = False

    def __str__(self) -> str:
        parts = [f"realm={_quote(self.realm)}", f"nonce={_quote(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.qop is not None:
            parts.append(f"qop={_quote(self.qop)}")
        if self.stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)

    @classmethod
    def parse(cls, header: str) -> DigestChallenge:
        """Raises :class:`AuthError` for another scheme or a challenge without realm or nonce."""
        scheme, rest = _split_scheme(header)
        if scheme != "digest":
            raise AuthError(f"not a Digest challenge: {header!r}")
        params = parse_auth_params(rest)
        if "realm" not in params or "nonce" not in params:
            raise AuthError(f"Digest challenge without realm or nonce: {header!r}")
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            opaque=params.get("opaque"),
            algorithm=params.get("algorithm"),
            qop=params.get("qop"),
            stale=params.get("stale", "").lower() == "true",
        )


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """An ``Authorization: Digest ...`` value; ``str()`` is the header value."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None

    def __str__(self) -> str:
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"uri={_quote(self.uri)}",
            f"response={_quote(self.response)}",
        ]
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.qop is not None:
            parts.append(f"qop={self.qop}, nc={self.nc}, cnonce={_quote(self.cnonce or '')}")
        return "Digest " + ", ".join(parts)

    @classmethod
    def parse(cls, header: str) -> DigestCredentials:
        """Raises :class:`AuthError` for another scheme or a missing required parameter."""
        scheme, rest = _split_scheme(header)
        if scheme != "digest":
            raise AuthError(f"not Digest credentials: {header!r}")
        params = parse_auth_params(rest)
        missing = [k for k in ("username", "realm", "nonce", "uri", "response") if k not in params]
        if missing:
            raise AuthError(f"Digest credentials lack {', '.join(missing)}")
        return cls(
            username=params["username"],
            realm=params["realm"],
            nonce=params["nonce"],
            uri=params["uri"],
            response=params["response"],
            algorithm=params.get("algorithm"),
            opaque=params.get("opaque"),
            qop=params.get("qop"),
            nc=params.get("nc"),
            cnonce=params.get("cnonce"),
        )


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The MD5 ``response`` value (RFC 2617 §3.2.2.1; RFC 2069 form when ``qop`` is None)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop is None:
        return _md5(f"{ha1}:{nonce}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def answer_challenge(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> DigestCredentials:
    """The client's ``Authorization`` for ``method uri`` under ``challenge``.

    Uses ``qop=auth`` when the challenge offers it, the RFC 2069 form otherwise.
    Raises :class:`AuthError` for an algorithm other than MD5 or a qop without ``auth``.
    """
    if challenge.algorithm not in (None, "MD5", "md5"):
        raise AuthError(f"unsupported Digest algorithm {challenge.algorithm!r}")
    qop = None
    nc_text = None
    if challenge.qop is not None:
        offered = [q.strip().lower() for q in challenge.qop.split(",")]
        if "auth" not in offered:
            raise AuthError(f"unsupported Digest qop {challenge.qop!r}")
        qop, nc_text = "auth", f"{nc:08x}"
        cnonce = cnonce or secrets.token_hex(8)
    else:
        cnonce = None
    response = digest_response(
        username=username,
        password=password,
        realm=challenge.realm,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
    )
    return DigestCredentials(
        username=username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        algorithm=challenge.algorithm,
        opaque=challenge.opaque,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
    )


def basic_authorization(username: str, password: str) -> str:
    """An ``Authorization: Basic`` value (only ever sent by our client, never accepted)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :meth:`DigestVerifier.verify`.

    ``username`` is set when the request is authenticated. ``stale`` is true when
    the credentials were right but the nonce expired: challenge again with
    ``stale=true``.
    """

    username: str | None
    stale: bool = False


class DigestVerifier:
    """Server-side Digest: issues challenges and checks ``Authorization`` headers.

    ``passwords`` maps a username to its password (``None``: no such user).
    Nonces are ``<hex time><hmac>`` under ``secret`` (random per instance by
    default) and expire after ``nonce_lifetime`` seconds of the ``now`` values
    the caller passes.
    """

    def __init__(
        self,
        realm: str,
        passwords: PasswordLookup,
        *,
        secret: bytes | None = None,
        nonce_lifetime: float = NONCE_LIFETIME,
    ) -> None:
        self.realm = realm
        self._passwords = passwords
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._lifetime = nonce_lifetime

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def challenge(self, now: float, *, stale: bool = False) -> DigestChallenge:
        stamp = f"{max(0, int(now * 1000)):012x}"
        return DigestChallenge(self.realm, stamp + self._sign(stamp), stale=stale)

    def verify(self, method: str, authorization: str | None, now: float) -> Verdict:
        """Check an ``Authorization`` header for ``method``.

        Fails (``username`` None) for a missing, malformed or non-Digest header,
        another realm, a nonce we did not issue, an unknown user or a wrong
        response. The ``uri`` the client hashed is taken from the header, since
        clients disagree on whether it is the absolute or the path form.
        """
        if authorization is None:
            return Verdict(None)
        try:
            credentials = DigestCredentials.parse(authorization)
        except AuthError:
            return Verdict(None)
        nonce = credentials.nonce
        stamp, mac = nonce[:12], nonce[12:]
        if (
            credentials.realm != self.realm
            or len(stamp) != 12
            or not hmac.compare_digest(mac, self._sign(stamp))
        ):
            return Verdict(None)
        password = self._passwords(credentials.username)
        if password is None:
            return Verdict(None)
        expected = digest_response(
            username=credentials.username,
            password=password,
            realm=self.realm,
            nonce=nonce,
            method=method,
            uri=credentials.uri,
            qop=credentials.qop,
            nc=credentials.nc,
            cnonce=credentials.cnonce,
        )
        if not hmac.compare_digest(expected, credentials.response.lower()):
            return Verdict(None)
        issued = int(stamp, 16) / 1000
        if not 0 <= now - issued <= self._lifetime:
            return Verdict(None, stale=True)
        return Verdict(credentials.username)
