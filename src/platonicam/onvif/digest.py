"""HTTP Digest access authentication, client side (RFC 7616, RFC 2617, RFC 2069). Pure.

Strategy: :func:`parse_challenges` reads every challenge of one or more
``WWW-Authenticate`` values (RFC 9110 §11.6.1 lets a server put several in
one field, and quoted strings may hold commas). :func:`choose_challenge` picks
the strongest Digest challenge we can answer. A :class:`DigestSession` then
answers that challenge for as many requests as the server keeps accepting its
nonce, counting ``nc`` up per request, so a transport can send the
``Authorization`` header pre-emptively instead of taking a 401 every time.

Supported: ``algorithm`` MD5 (the default when absent), MD5-sess, SHA-256 and
SHA-256-sess; ``qop`` ``auth``, ``auth-int`` (only when ``auth`` is not
offered) and none at all (RFC 2069, which older camera firmware still
answers with); ``opaque`` echoed back; ``userhash=true`` (RFC 7616 §3.4.4);
``username*`` (RFC 8187 encoding) for user names a quoted string cannot carry.
``stale=true`` is reported on the challenge (:attr:`Challenge.stale`); the
transport answers the new nonce without treating the 401 as a refusal.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote

# Hash functions by the algorithm's base name (without "-sess"). SHA-512-256
# is left out: hashlib has no truncated SHA-512/256 everywhere OpenSSL runs.
_HASHES: Final[dict[str, Callable[[bytes], str]]] = {
    # MD5 is what RFC 7616 calls the backwards-compatible default and what
    # almost every camera offers; it authenticates here, it does not protect data.
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
}
# Preference when a server offers several challenges: strongest first (RFC 7616 §3.7).
_PREFERENCE: Final = ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS")
_TOKEN68_EXTRA: Final = frozenset("-._~+/")


class DigestError(ValueError):
    """A challenge we cannot parse or answer."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge.

    ``scheme`` is lower-cased; ``params`` maps lower-cased parameter names to
    unquoted values (``token68`` holds a token68 credential instead, for schemes
    such as Negotiate).
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None

    @property
    def algorithm(self) -> str:
        """The upper-cased algorithm, ``MD5`` when the server names none."""
        return self.params.get("algorithm", "MD5").strip().upper()

    @property
    def qop_options(self) -> tuple[str, ...]:
        """The offered ``qop`` values, lower-cased; empty for RFC 2069 servers."""
        raw = self.params.get("qop", "")
        return tuple(part.strip().lower() for part in raw.split(",") if part.strip())

    @property
    def stale(self) -> bool:
        """``stale=true``: our last answer was right but its nonce expired."""
        return self.params.get("stale", "").strip().lower() == "true"

    @property
    def is_answerable(self) -> bool:
        """A Digest challenge with a nonce, a supported algorithm and a usable qop."""
        if self.scheme != "digest" or "nonce" not in self.params or "realm" not in self.params:
            return False
        if self.algorithm.removesuffix("-SESS") not in _HASHES:
            return False
        qops = self.qop_options
        return not qops or "auth" in qops or "auth-int" in qops


def parse_challenges(values: str | Iterable[str]) -> list[Challenge]:
    """Every challenge in one ``WWW-Authenticate`` value, or in several.

    Accepts RFC 9110 syntax: ``scheme [token68 | #auth-param]``, challenges
    separated by commas, quoted strings with commas and backslash escapes,
    optional whitespace around ``=``. Raises :class:`DigestError` for text that
    is not a challenge list (an unterminated quoted string, a parameter
    before any scheme).
    """
    texts = [values] if isinstance(values, str) else list(values)
    challenges: list[Challenge] = []
    for text in texts:
        challenges.extend(_parse_one_field(text))
    return challenges


def choose_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The strongest answerable Digest challenge, or ``None``."""
    usable = [c for c in challenges if c.is_answerable]
    for algorithm in _PREFERENCE:
        for challenge in usable:
            if challenge.algorithm == algorithm:
                return challenge
    return None


class DigestSession:
    """Answers one Digest challenge for one user, request after request.

    Not a model: it counts. Each :meth:`authorization` call uses the next
    nonce count (``nc``, 8 hex digits). ``cnonce`` supplies client nonces
    (fresh random ones by default; tests inject fixed ones); the ``-sess``
    algorithms keep the first cnonce for the nonce's lifetime, since their
    session key (HA1) is derived from it.
    """

    def __init__(
        self,
        challenge: Challenge,
        username: str,
        password: str,
        *,
        cnonce: Callable[[], str] | None = None,
    ) -> None:
        if not challenge.is_answerable:
            raise DigestError(f"cannot answer a {challenge.scheme} challenge {challenge.params}")
        self.challenge = challenge
        self.username = username
        self._password = password
        self._cnonce_source = cnonce or (lambda: secrets.token_hex(16))
        self.nonce_count = 0
        algorithm = challenge.algorithm
        self._session = algorithm.endswith("-SESS")
        self._hash = _HASHES[algorithm.removesuffix("-SESS")]
        qops = challenge.qop_options
        self.qop: str | None = "auth" if "auth" in qops else ("auth-int" if qops else None)
        self._session_cnonce: str | None = None
        self._session_ha1: str | None = None

    def authorization(self, method: str, uri: str, body: bytes = b"") -> str:
        """The ``Authorization`` value for the next request (``Digest username=...``).

        ``uri`` is the request target exactly as sent (path and query);
        ``body`` matters only for ``qop=auth-int``.
        """
        params = self.challenge.params
        realm = params["realm"]
        nonce = params["nonce"]
        self.nonce_count += 1
        nc = f"{self.nonce_count:08x}"
        if self._session:
            if self._session_cnonce is None:
                self._session_cnonce = self._cnonce_source()
            cnonce = self._session_cnonce
        else:
            cnonce = self._cnonce_source()
        ha1 = self._ha1(realm, nonce, cnonce)
        if self.qop == "auth-int":
            ha2 = self._h(f"{method}:{uri}:{self._hash(body)}")
        else:
            ha2 = self._h(f"{method}:{uri}")
        if self.qop is None:
            response = self._h(f"{ha1}:{nonce}:{ha2}")
        else:
            response = self._h(f"{ha1}:{nonce}:{nc}:{cnonce}:{self.qop}:{ha2}")

        parts: list[str] = []
        userhash = params.get("userhash", "").strip().lower() == "true"
        if userhash:
            parts.append(f"username={_quote(self._h(f'{self.username}:{realm}'))}")
        elif _quotable(self.username):
            parts.append(f"username={_quote(self.username)}")
        else:
            parts.append(f"username*=UTF-8''{quote(self.username, safe='')}")
        parts += [
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response)}",
        ]
        if "algorithm" in params:
            parts.append(f"algorithm={self.challenge.algorithm}")
        if "opaque" in params:
            parts.append(f"opaque={_quote(params['opaque'])}")
        if self.qop is not None:
            parts += [f"qop={self.qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        if userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)

    def _h(self, text: str) -> str:
        return self._hash(text.encode("utf-8"))

    def _ha1(self, realm: str, nonce: str, cnonce: str) -> str:
        base = self._h(f"{self.username}:{realm}:{self._password}")
        if not self._session:
            return base
        if self._session_ha1 is None:
            self._session_ha1 = self._h(f"{base}:{nonce}:{cnonce}")
        return self._session_ha1


# ----------------------------------------------------------------------------- parsing


def _quotable(text: str) -> bool:
    return all(32 <= ord(char) < 127 for char in text) and '"' not in text and "\\" not in text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Scanner:
    """A cursor over one header value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self, extra: frozenset[str] = frozenset()) -> str:
        start = self.pos
        while self.pos < len(self.text) and (
            _is_tchar(self.text[self.pos]) or self.text[self.pos] in extra
        ):
            self.pos += 1
        return self.text[start : self.pos]

    def bare(self) -> str:
        """An unquoted value, read leniently up to a comma or whitespace."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ", \t":
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        self.pos += 1  # the opening quote
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                return "".join(out)
            out.append(char)
        raise DigestError(f"unterminated quoted string in {self.text!r}")


def _is_tchar(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "!#$%&'*+-.^_`|~")


def _parse_one_field(text: str) -> list[Challenge]:
    scanner = _Scanner(text)
    # [scheme, params, token68] per challenge, frozen into Challenges at the end.
    found: list[tuple[str, dict[str, str], list[str]]] = []
    while True:
        scanner.skip_space()
        while scanner.peek() == ",":
            scanner.pos += 1
            scanner.skip_space()
        if not scanner.peek():
            return [
                Challenge(scheme, params, token68[0] if token68 else None)
                for scheme, params, token68 in found
            ]
        mark = scanner.pos
        word = scanner.token(_TOKEN68_EXTRA)
        if not word:
            raise DigestError(f"unexpected {scanner.peek()!r} in {text!r}")
        scanner.skip_space()
        current = found[-1] if found else None
        if scanner.peek() == "=" and current is not None and _is_param_name(word):
            # "name = value", unless the "=" run is a token68's padding.
            after_equals = scanner.pos + 1
            rest = text[after_equals:].lstrip(" \t")
            if rest[:1] not in ("", ",", "="):
                scanner.pos = after_equals
                scanner.skip_space()
                value = scanner.quoted() if scanner.peek() == '"' else scanner.bare()
                current[1][word.lower()] = value
                continue
        if current is not None and not current[1] and not current[2]:
            # A word after a bare scheme may be a token68 credential ("Negotiate abc==").
            scanner.pos = mark
            token68 = scanner.token(_TOKEN68_EXTRA)
            while scanner.peek() == "=":
                token68 += "="
                scanner.pos += 1
            scanner.skip_space()
            if scanner.peek() in ("", ","):
                current[2].append(token68)
                continue
            scanner.pos = mark + len(word)
            scanner.skip_space()
        if not _is_param_name(word):
            raise DigestError(f"invalid authentication scheme {word!r} in {text!r}")
        if scanner.peek() == "=":
            raise DigestError(f"parameter {word!r} before any scheme in {text!r}")
        found.append((word.lower(), {}, []))


def _is_param_name(word: str) -> bool:
    return all(_is_tchar(char) for char in word)
