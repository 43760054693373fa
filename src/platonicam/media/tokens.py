"""Short-lived media tokens: one camera, one user, signed with the service's secret.

A media token goes into URLs (``?token=``) where a browser or an HLS player
cannot send an ``Authorization`` header: a ``<video src>``, a WebSocket, the
part URIs inside a playlist. So it grants as little as possible: reading the
media of one camera until it expires, nothing else (it is not a session token
and the REST API refuses it).

Format: ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))`` where
the payload is compact JSON ``{"c": camera, "u": user, "e": expiry}`` (Unix
seconds) and ``key`` is derived from the service's secret with a fixed label,
so a media token can never verify as anything else signed with that secret.
Comparison is constant-time.

A player asks for a playlist and a part several times a second with the same
token, so a token whose signature checked out is remembered (token string ->
grant, at most :data:`VERIFIED_CACHE` of them, the oldest forgotten first):
the HMAC and the JSON parse run once per token, not once per request. Only the
exact string that verified is remembered, and the camera and the expiry are
checked on every use, so the cache never accepts what :meth:`MediaTokens.verify`
would refuse.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final

from platonicam.clock import Clock
from platonicam.media.errors import MediaError

__all__ = [
    "DEFAULT_MEDIA_TOKEN_SECONDS",
    "VERIFIED_CACHE",
    "MediaGrant",
    "MediaTokenError",
    "MediaTokens",
]

#: Lifetime of a media token. Long enough for an HLS player that keeps the playlist URL it
#: was given (it cannot fetch a new token), short enough that a leaked URL soon stops working.
DEFAULT_MEDIA_TOKEN_SECONDS: Final = 3600
_LABEL: Final = b"platonicam media token v1"
_MAX_TOKEN: Final = 1024
#: Verified tokens remembered. A token is one camera for one user for an hour: a few per
#: viewer at most, so this covers hundreds of viewers; beyond it, the oldest is checked again.
VERIFIED_CACHE: Final = 1024


class MediaTokenError(MediaError):
    """A media token that is malformed, forged, expired or for another camera."""


@dataclass(frozen=True, slots=True)
class MediaGrant:
    """What a valid token allows: ``user`` may read camera ``camera_id`` until ``expires``."""

    camera_id: str
    user: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MediaTokens:
    """Issues and checks media tokens (``secret``: the service's token-signing secret)."""

    def __init__(
        self, secret: bytes, clock: Clock, seconds: int = DEFAULT_MEDIA_TOKEN_SECONDS
    ) -> None:
        if seconds <= 0:
            raise ValueError(f"media tokens must live a positive time, not {seconds}")
        self._key = hmac.new(secret, _LABEL, hashlib.sha256).digest()
        self._clock = clock
        self.seconds = seconds
        self._verified: dict[str, MediaGrant] = {}

    def issue(self, camera_id: str, user: str) -> str:
        """A token letting ``user`` read ``camera_id``'s media for :attr:`seconds`."""
        expires = int(self._clock.now().timestamp()) + self.seconds
        payload = json.dumps(
            {"c": camera_id, "u": user, "e": expires}, separators=(",", ":"), sort_keys=True
        ).encode("utf-8")
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(signature)}"

    def verify(self, token: str, camera_id: str) -> MediaGrant:
        """The grant of a valid token for ``camera_id``; :class:`MediaTokenError` otherwise."""
        grant = self._verified.get(token)
        if grant is None:
            grant = self._check_signature(token)
            if len(self._verified) >= VERIFIED_CACHE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = grant
        if grant.camera_id != camera_id:
            raise MediaTokenError(f"the media token is for another camera, not {camera_id!r}")
        if self._clock.now().timestamp() >= grant.expires:
            self._verified.pop(token, None)
            raise MediaTokenError("the media token has expired: fetch the stream list again")
        return grant

    def _check_signature(self, token: str) -> MediaGrant:
        """The claims of a token signed with our key (whatever its camera and expiry)."""
        if len(token) > _MAX_TOKEN or token.count(".") != 1:
            raise MediaTokenError("the media token is malformed")
        encoded, signature_text = token.split(".")
        try:
            payload = _unb64(encoded)
            signature = _unb64(signature_text)
        except (binascii.Error, ValueError):
            raise MediaTokenError("the media token is malformed") from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise MediaTokenError("the media token's signature is wrong")
        try:
            claims = json.loads(payload)
        except ValueError:  # pragma: no cover - we signed it, so we wrote it
            raise MediaTokenError("the media token is malformed") from None
        camera, user, expires = claims.get("c"), claims.get("u"), claims.get("e")
        if not isinstance(camera, str) or not isinstance(user, str) or not isinstance(expires, int):
            raise MediaTokenError("the media token is malformed")  # pragma: no cover
        return MediaGrant(camera, user, expires)
