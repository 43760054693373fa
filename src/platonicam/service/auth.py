"""Who is asking: password hashes, access and refresh tokens, and the login rate limit.

Strategy:

- Passwords are hashed with argon2id (argon2-cffi's defaults). A login for an
  unknown user still runs one verification against a fixed dummy hash, so the
  answer takes as long as for a real user and says nothing about which part
  was wrong.
- Access tokens are short-lived HS256 JWTs carrying the user name (``sub``)
  and ``ver``, the user's token version. Every request re-reads the user, so a
  deleted or disabled user, a new role or a new password takes effect at once
  (the version bump makes old tokens fail).
- Refresh tokens are opaque random strings; only their SHA-256 is stored. Each
  can be used once (refreshing rotates it), and reusing one revokes all of the
  user's refresh tokens.
- Expiry is checked against the injected :class:`~platonicam.clock.Clock`, not
  PyJWT's own reading of the time, so tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from platonicam.clock import Clock
from platonicam.errors import PlatonicamError
from platonicam.store.records import UserRecord
from platonicam.store.repositories.users import RefreshTokenRepository, UserRepository

ALGORITHM: Final = "HS256"
ISSUER: Final = "platonicam"
#: Shortest password accepted for a user (camera passwords are the camera's business).
MIN_PASSWORD_LENGTH: Final = 10


class AuthError(PlatonicamError):
    """Authentication failed; the message is safe to show (it names no secret)."""


class InvalidCredentials(AuthError):
    """Wrong user name or password (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


class InvalidToken(AuthError):
    """The bearer or refresh token is missing, malformed, expired or revoked."""


class LoginRateLimited(AuthError):
    """Too many failed logins; ``retry_after`` is in whole seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins for this {scope}; try again in {retry_after} seconds"
        )
        self.scope = scope
        self.retry_after = retry_after


class WeakPassword(AuthError):
    """A new user password is too short."""


def check_password_strength(password: str) -> None:
    """Raise :class:`WeakPassword` for a password shorter than :data:`MIN_PASSWORD_LENGTH`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def generate_password() -> str:
    """A random password for a generated first admin (about 120 bits)."""
    return secrets.token_urlsafe(15)


class Passwords:
    """argon2id hashing and verification."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with ``stored_hash=None`` (unknown user)
        the same work is done against a dummy hash and the answer is False."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and (
                stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says: who, which token version, until when."""

    subject: str
    version: int
    expires_at: datetime


class Tokens:
    """Issues and checks access tokens; issues and rotates refresh tokens."""

    def __init__(
        self,
        *,
        secret: bytes,
        clock: Clock,
        users: UserRepository,
        refresh_tokens: RefreshTokenRepository,
        access_seconds: int,
        refresh_seconds: int,
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._users = users
        self._refresh = refresh_tokens
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds

    def access_token(self, user: UserRecord) -> str:
        now = self._clock.now()
        claims = {
            "iss": ISSUER,
            "sub": user.name,
            "ver": user.token_version,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.access_seconds)).timestamp()),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid, unexpired access token; :class:`InvalidToken` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against the injected clock.
                options={"verify_exp": False, "require": ["exp", "sub", "iss"]},
            )
        except jwt.PyJWTError:
            raise InvalidToken("the access token is not valid: log in again") from None
        subject, version, expires = claims.get("sub"), claims.get("ver"), claims.get("exp")
        if (
            claims.get("typ") != "access"
            or not isinstance(subject, str)
            or not isinstance(version, int)
            or not isinstance(expires, int)
        ):
            raise InvalidToken("the access token is not valid: log in again")
        if expires <= self._clock.now().timestamp():
            raise InvalidToken(
                "the access token has expired: get a new one from POST /api/auth/refresh"
            )
        return AccessClaims(
            subject, version, datetime.fromtimestamp(expires, self._clock.now().tzinfo)
        )

    async def user_for_access(self, token: str) -> UserRecord:
        """The current user a valid access token speaks for.

        :class:`InvalidToken` when the token is bad, or its user was deleted,
        disabled, or had their password or role changed since it was issued.
        """
        claims = self.verify_access(token)
        user = await self._users.get(claims.subject)
        if user is None or user.disabled or user.token_version != claims.version:
            raise InvalidToken("the access token was revoked: log in again")
        return user

    async def issue(self, user: UserRecord) -> TokenPair:
        """A fresh access token and refresh token for ``user``."""
        refresh = secrets.token_urlsafe(32)
        expires = self._clock.now() + timedelta(seconds=self.refresh_seconds)
        await self._refresh.add(_digest(refresh), user.id, expires)
        return TokenPair(self.access_token(user), self.access_seconds, refresh)

    async def refresh(self, refresh_token: str) -> tuple[UserRecord, TokenPair]:
        """Trade a refresh token for a new pair (the old one is spent)."""
        user_id = await self._refresh.consume(_digest(refresh_token))
        user = await self._users.get_by_id(user_id) if user_id is not None else None
        if user is None or user.disabled:
            raise InvalidToken(
                "the refresh token is not valid (expired, used or revoked): log in again"
            )
        return user, await self.issue(user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LoginRateLimiter:
    """Counts failed logins per user name and per client address in a sliding window.

    :meth:`check` raises :class:`LoginRateLimited` when either has reached its
    limit; a successful login clears the user's count (not the address's, so one
    good account does not reset an address that is guessing at others).
    State is per process and in memory: a restart forgets it, which at worst
    gives a guesser one more window.
    """

    def __init__(
        self, *, clock: Clock, per_user: int, per_address: int, window_seconds: float
    ) -> None:
        self._clock = clock
        self._limits = {"user": per_user, "address": per_address}
        self._window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def check(self, user: str, address: str) -> None:
        for scope, key in (("user", user.casefold()), ("address", address)):
            times = self._recent(scope, key)
            if len(times) >= self._limits[scope]:
                wait = max(1, int(times[0] + self._window - self._clock.monotonic() + 0.999))
                raise LoginRateLimited(scope, wait)

    def failed(self, user: str, address: str) -> None:
        now = self._clock.monotonic()
        for scope, key in (("user", user.casefold()), ("address", address)):
            self._recent(scope, key).append(now)

    def succeeded(self, user: str) -> None:
        self._failures.pop(("user", user.casefold()), None)

    def _recent(self, scope: str, key: str) -> deque[float]:
        times = self._failures.setdefault((scope, key), deque())
        horizon = self._clock.monotonic() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        return times
