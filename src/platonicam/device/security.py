"""Who may call what on the reference device, and how callers prove who they are.

Strategy:

* **Access classes** (ONVIF Core 5.9.4, "Access classes for service requests")
  tag every operation; the default policy of the Core spec decides which user
  level may use which class: ``User`` reads system settings and media,
  ``Operator`` also actuates (PTZ, encoder changes, relays) and reads sensitive
  settings, ``Administrator`` also writes the system (users, network, reboot).
  ``PRE_AUTH`` operations (GetSystemDateAndTime, GetServices, GetCapabilities,
  GetHostname, GetServiceCapabilities, GetEndpointReference, GetWsdlUrl) need
  no credentials at all.
* **Two proofs, both accepted**: WS-Security UsernameToken (PasswordDigest, or
  PasswordText checked against an argon2 hash) and HTTP Digest (RFC 7616, MD5,
  ``qop=auth``). A request carrying both must pass both; its rights are those
  of the weaker account.
* **Replay**: a PasswordDigest token must be ``Created`` within
  :attr:`SecurityPolicy.window` of the device clock, and its nonce is refused
  if seen within twice that window. Digest nonces are minted by us, signed
  with the device key, expire after :attr:`SecurityPolicy.digest_nonce_lifetime`
  (answered with ``stale=true`` so clients retry silently) and each nonce count
  is accepted once.
* **Storage** (ADR ``docs/design/0003-device-credentials.md``): the verifier of
  PasswordDigest and HTTP Digest must know the password (or HA1), so a hash
  alone cannot work. Each user keeps an argon2 hash, the HA1 for our realm, and
  the password sealed with a Fernet key kept in ``device.key`` (mode 0600).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from lxml import etree

from platonicam.device.faults import DeviceFault, invalid_arg, not_authorized, operation_prohibited
from platonicam.device.state import KEY_FILE, DeviceState, UserRecord, write_atomic
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.device import User, UserLevel
from platonicam.onvif.soap.wssecurity import UsernameToken, parse_username_token

DEFAULT_REALM: Final = "PlatoniCam"
MAX_USERS: Final = 32
MAX_USERNAME_LENGTH: Final = 32
MAX_PASSWORD_LENGTH: Final = 64
MIN_PASSWORD_LENGTH: Final = 8

# OWASP's minimum argon2id parameters: strong enough for a LAN device, and cheap
# enough (~20 ms) to check HTTP Basic on every snapshot request.
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class AccessClass(enum.StrEnum):
    """ONVIF Core access classes of service requests."""

    PRE_AUTH = "PRE_AUTH"
    READ_SYSTEM = "READ_SYSTEM"
    READ_SYSTEM_SENSITIVE = "READ_SYSTEM_SENSITIVE"
    READ_SYSTEM_SECRET = "READ_SYSTEM_SECRET"  # noqa: S105 - an access class name, not a secret
    WRITE_SYSTEM = "WRITE_SYSTEM"
    UNRECOVERABLE = "UNRECOVERABLE"
    READ_MEDIA = "READ_MEDIA"
    ACTUATE = "ACTUATE"


_USER_CLASSES: Final = frozenset(
    {AccessClass.PRE_AUTH, AccessClass.READ_SYSTEM, AccessClass.READ_MEDIA}
)
_OPERATOR_CLASSES: Final = _USER_CLASSES | {
    AccessClass.READ_SYSTEM_SENSITIVE,
    AccessClass.ACTUATE,
}
#: The Core spec's default access policy.
POLICY: Final[Mapping[UserLevel, frozenset[AccessClass]]] = {
    UserLevel.ADMINISTRATOR: frozenset(AccessClass),
    UserLevel.OPERATOR: _OPERATOR_CLASSES,
    UserLevel.USER: _USER_CLASSES,
    UserLevel.EXTENDED: _USER_CLASSES,
    UserLevel.ANONYMOUS: frozenset({AccessClass.PRE_AUTH}),
}

_RANK: Final = {
    UserLevel.ANONYMOUS: 0,
    UserLevel.USER: 1,
    UserLevel.EXTENDED: 1,
    UserLevel.OPERATOR: 2,
    UserLevel.ADMINISTRATOR: 3,
}


def allowed(level: UserLevel, access: AccessClass) -> bool:
    return access in POLICY[level]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller (``ANONYMOUS`` with no name when none proved anything)."""

    username: str | None
    level: UserLevel


ANONYMOUS: Final = Principal(None, UserLevel.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """Tunable limits. ``window`` bounds the skew of a token's ``Created``."""

    realm: str = DEFAULT_REALM
    window: timedelta = timedelta(minutes=5)
    digest_nonce_lifetime: timedelta = timedelta(minutes=5)
    replay_cache_size: int = 10_000


class AuthenticationFailed(DeviceFault):
    """Credentials were missing or wrong. ``challenge`` asks the app to answer HTTP
    401 with a Digest challenge (``stale`` when only the nonce expired)."""

    def __init__(self, reason: str, *, challenge: bool, stale: bool = False) -> None:
        super().__init__(reason, subcodes=("NotAuthorized",), http_status=401 if challenge else 400)
        self.challenge = challenge
        self.stale = stale


# ------------------------------------------------------------------ the device key


def load_or_create_key(data_dir: Path) -> bytes:
    """The Fernet key in ``data_dir/device.key``, created (mode 0600) when absent."""
    path = data_dir / KEY_FILE
    if path.exists():
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # tighten a key someone loosened
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    write_atomic(path, key + b"\n", mode=0o600)
    return key


def _ha1(username: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - RFC 7616's MD5


def _md5(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()  # noqa: S324 - RFC 7616's MD5


# ------------------------------------------------------------------ users


# Unsealed passwords kept by UserDirectory.password: more than the accounts a
# device holds, so only password changes ever empty it.
_UNSEALED_KEPT: Final = 256


class UserDirectory:
    """The device's accounts, stored in ``users.yaml`` through :class:`DeviceState`.

    The ONVIF user operations call :meth:`create`, :meth:`update` and
    :meth:`delete`; each checks the whole request first and changes nothing when
    any part is refused (``InvalidArgVal`` faults, as the Core spec names them).
    """

    def __init__(self, state: DeviceState, policy: SecurityPolicy) -> None:
        self._state = state
        self._policy = policy
        self._fernet = Fernet(load_or_create_key(state.data_dir))
        # Unsealing (Fernet: HMAC-SHA256 and AES) on every WS-Security request was
        # a large share of the device's authentication time. A sealed value always
        # opens to the same password under this directory's key, so the result is
        # kept per sealed value: a changed password is a new sealed value, a miss.
        self._unsealed: dict[str, str | None] = {}

    def _records(self) -> list[UserRecord]:
        return self._state.users.users

    def find(self, username: str) -> UserRecord | None:
        return next((r for r in self._records() if r.username == username), None)

    def users(self) -> list[User]:
        """Every account, without passwords."""
        return [User(r.username, r.level) for r in self._records()]

    def _record(self, username: str, password: str, level: UserLevel) -> UserRecord:
        return UserRecord(
            username=username,
            level=level,
            argon2=_HASHER.hash(password),
            ha1=_ha1(username, self._policy.realm, password),
            sealed=self._fernet.encrypt(password.encode()).decode("ascii"),
        )

    @staticmethod
    def _check_password(username: str, password: str | None) -> str:
        if password is None:
            raise invalid_arg(f"user {username!r} needs a password", "PasswordTooWeak")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise invalid_arg(
                f"password of {username!r} is longer than {MAX_PASSWORD_LENGTH} characters",
                "PasswordTooLong",
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise invalid_arg(
                f"password of {username!r} is shorter than {MIN_PASSWORD_LENGTH} characters",
                "PasswordTooWeak",
            )
        return password

    @staticmethod
    def _check_level(username: str, level: UserLevel) -> None:
        if level in (UserLevel.ANONYMOUS, UserLevel.EXTENDED):
            raise invalid_arg(
                f"user {username!r}: level {level.value} cannot be given to an account",
                "AnonymousNotAllowed" if level is UserLevel.ANONYMOUS else "InvalidArgVal",
            )

    def create(self, users: list[User]) -> None:
        """CreateUsers: every name new, within limits, with a password."""
        names = [u.username for u in users]
        if len(set(names)) != len(names):
            raise invalid_arg("CreateUsers names a user twice", "UsernameClash")
        if len(self._records()) + len(users) > MAX_USERS:
            raise DeviceFault(
                f"the device holds at most {MAX_USERS} users",
                code="Receiver",
                subcodes=("Action", "TooManyUsers"),
            )
        records = []
        for user in users:
            if not user.username or len(user.username) > MAX_USERNAME_LENGTH:
                raise invalid_arg(
                    f"user name must have 1 to {MAX_USERNAME_LENGTH} characters", "UsernameTooLong"
                )
            if self.find(user.username) is not None:
                raise operation_prohibited(f"user {user.username!r} exists already")
            self._check_level(user.username, user.user_level)
            password = self._check_password(user.username, user.password)
            records.append(self._record(user.username, password, user.user_level))
        self._records().extend(records)
        self._state.save("users")

    def update(self, users: list[User]) -> None:
        """SetUser: change password and level of existing users. Refuses to leave
        the device without an administrator."""
        replacements: dict[str, UserRecord] = {}
        for user in users:
            if self.find(user.username) is None:
                raise invalid_arg(f"no user {user.username!r}", "UsernameMissing")
            self._check_level(user.username, user.user_level)
            password = self._check_password(user.username, user.password)
            replacements[user.username] = self._record(user.username, password, user.user_level)
        updated = [replacements.get(r.username, r) for r in self._records()]
        self._require_admin(updated)
        self._state.users.users = updated
        self._state.save("users")

    def delete(self, usernames: list[str]) -> None:
        for name in usernames:
            if self.find(name) is None:
                raise invalid_arg(f"no user {name!r}", "UsernameMissing")
        remaining = [r for r in self._records() if r.username not in set(usernames)]
        self._require_admin(remaining)
        self._state.users.users = remaining
        self._state.save("users")

    @staticmethod
    def _require_admin(records: list[UserRecord]) -> None:
        if not any(r.level is UserLevel.ADMINISTRATOR for r in records):
            raise DeviceFault(
                "the device must keep at least one Administrator",
                subcodes=("InvalidArgVal", "FixedUser"),
            )

    def ensure_admin(self, username: str = "admin", password: str | None = None) -> str | None:
        """Create the first administrator when there is no user at all.

        Returns the password when one was generated (to be shown once), ``None``
        when ``password`` was given or users exist already. There is no default
        password: a generated one is 16 random URL-safe characters.
        """
        if self._records():
            return None
        generated = password is None
        chosen = password if password is not None else secrets.token_urlsafe(12)
        self.create([User(username, UserLevel.ADMINISTRATOR, chosen)])
        return chosen if generated else None

    # -------------------------------------------------------------- verifiers

    def password(self, record: UserRecord) -> str | None:
        """The user's password, unsealed (``None`` when the device key changed)."""
        sealed = record.sealed
        if sealed in self._unsealed:
            return self._unsealed[sealed]
        try:
            password: str | None = self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            password = None
        if len(self._unsealed) >= _UNSEALED_KEPT:
            self._unsealed.clear()  # old passwords' entries; bounded, not an LRU
        self._unsealed[sealed] = password
        return password

    @staticmethod
    def verify_plain(record: UserRecord, password: str) -> bool:
        try:
            return _HASHER.verify(record.argon2, password)
        except (VerificationError, InvalidHashError):
            return False


# ------------------------------------------------------------------ replay cache


class NonceCache:
    """Nonces seen recently, forgotten after ``ttl`` seconds, at most ``size`` kept."""

    def __init__(self, ttl: float, size: int) -> None:
        self._ttl = ttl
        self._size = size
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def check_and_add(self, nonce: bytes, now: float) -> bool:
        """``True`` the first time ``nonce`` is seen within ``ttl``; ``False`` for a replay."""
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self._ttl and len(self._seen) < self._size:
                break
            del self._seen[oldest]
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


# ------------------------------------------------------------------ HTTP Digest

_DIGEST_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_digest_header(value: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: Digest ...`` header (``None`` for other schemes)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        match.group(1).lower(): (
            match.group(2).replace('\\"', '"') if match.group(2) is not None else match.group(3)
        )
        for match in _DIGEST_PARAM.finditer(rest)
    }


def parse_basic_header(value: str) -> tuple[str, str] | None:
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(rest.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


# ------------------------------------------------------------------ the authenticator


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one request carries: its method and target (for Digest), the
    ``Authorization`` header, and the SOAP header (for the UsernameToken)."""

    method: str
    uri: str
    authorization: str | None
    soap_header: etree._Element | None = None


class Authenticator:
    """Checks the credentials of a request against the user directory.

    ``device_time`` returns the device clock (host clock plus the offset
    SetSystemDateAndTime set), which token ``Created`` stamps are held to;
    ``monotonic`` times the Digest nonces and the replay cache.
    """

    def __init__(
        self,
        users: UserDirectory,
        policy: SecurityPolicy,
        *,
        device_time: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        key: bytes | None = None,
    ) -> None:
        self.users = users
        self.policy = policy
        self._device_time = device_time
        self._monotonic = monotonic
        self._key = key or secrets.token_bytes(32)
        window = policy.window.total_seconds()
        self._token_nonces = NonceCache(ttl=2 * window, size=policy.replay_cache_size)
        self._digest_counts: OrderedDict[str, set[str]] = OrderedDict()

    # -------------------------------------------------------------- challenge

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def new_digest_nonce(self) -> str:
        stamp = f"{self._monotonic():.3f}:{secrets.token_hex(8)}"
        return base64.b64encode(f"{stamp}:{self._sign(stamp)}".encode()).decode("ascii")

    def challenge(self, *, stale: bool = False) -> str:
        """The ``WWW-Authenticate`` value of a 401 answer."""
        value = (
            f'Digest realm="{self.policy.realm}", qop="auth", algorithm=MD5, '
            f'nonce="{self.new_digest_nonce()}", opaque="{self._sign("opaque")}"'
        )
        return value + (", stale=true" if stale else "")

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since we minted ``nonce``; ``None`` when we did not mint it."""
        try:
            stamp, _, signature = base64.b64decode(nonce, validate=True).decode().rpartition(":")
            issued = float(stamp.split(":", 1)[0])
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(signature, self._sign(stamp)):
            return None
        return self._monotonic() - issued

    # -------------------------------------------------------------- checks

    def authenticate(self, credentials: Credentials) -> Principal:
        """The caller, or :class:`AuthenticationFailed`.

        No credentials at all give :data:`ANONYMOUS` (the caller decides whether
        the operation allows that).
        """
        principals: list[Principal] = []
        authorization = credentials.authorization
        if authorization:
            digest = parse_digest_header(authorization)
            if digest is not None:
                principals.append(self._check_digest(digest, credentials))
            else:
                basic = parse_basic_header(authorization)
                if basic is None:
                    raise AuthenticationFailed(
                        "unsupported HTTP authentication scheme", challenge=True
                    )
                principals.append(self.check_basic(*basic))
        try:
            token = parse_username_token(credentials.soap_header)
        except RemoteProtocolError as exc:
            raise AuthenticationFailed(
                f"unreadable UsernameToken: {exc}", challenge=False
            ) from None
        if token is not None:
            principals.append(self._check_token(token))
        if not principals:
            return ANONYMOUS
        return min(principals, key=lambda p: _RANK[p.level])

    def check_basic(self, username: str, password: str) -> Principal:
        record = self.users.find(username)
        if record is None or not self.users.verify_plain(record, password):
            raise AuthenticationFailed("wrong user name or password", challenge=True)
        return Principal(record.username, record.level)

    def _check_digest(self, params: Mapping[str, str], credentials: Credentials) -> Principal:
        username = params.get("username", "")
        nonce = params.get("nonce", "")
        response = params.get("response", "")
        qop = params.get("qop", "")
        nc = params.get("nc", "")
        cnonce = params.get("cnonce", "")
        algorithm = params.get("algorithm", "MD5")
        if qop != "auth" or not nc or not cnonce or algorithm.upper() != "MD5":
            raise AuthenticationFailed("HTTP Digest needs qop=auth with MD5", challenge=True)
        if params.get("realm") != self.policy.realm:
            raise AuthenticationFailed("HTTP Digest for another realm", challenge=True)
        if params.get("uri") != credentials.uri:
            raise AuthenticationFailed("HTTP Digest uri does not match the request", challenge=True)
        age = self._nonce_age(nonce)
        if age is None:
            raise AuthenticationFailed("HTTP Digest nonce was not issued here", challenge=True)
        record = self.users.find(username)
        if record is None:
            raise AuthenticationFailed("wrong user name or password", challenge=True)
        ha2 = _md5(f"{credentials.method}:{credentials.uri}")
        expected = _md5(f"{record.ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        if not hmac.compare_digest(expected, response.lower()):
            raise AuthenticationFailed("wrong user name or password", challenge=True)
        if age > self.policy.digest_nonce_lifetime.total_seconds():
            raise AuthenticationFailed("HTTP Digest nonce expired", challenge=True, stale=True)
        counts = self._digest_counts.setdefault(nonce, set())
        self._digest_counts.move_to_end(nonce)
        if nc in counts:
            raise AuthenticationFailed("HTTP Digest nonce count replayed", challenge=True)
        counts.add(nc)
        while len(self._digest_counts) > 1024:
            self._digest_counts.popitem(last=False)
        return Principal(record.username, record.level)

    def _check_token(self, token: UsernameToken) -> Principal:
        record = self.users.find(token.username)
        if record is None:
            raise AuthenticationFailed("wrong user name or password", challenge=False)
        if token.created is not None:
            skew = abs(token.created - self._device_time())
            if skew > self.policy.window:
                raise AuthenticationFailed(
                    f"UsernameToken Created is {skew.total_seconds():.0f} s away from the "
                    "device clock (read GetSystemDateAndTime and sign with the device time)",
                    challenge=False,
                )
        if token.digest:
            if not token.nonce or token.created is None:
                raise AuthenticationFailed(
                    "PasswordDigest needs a Nonce and a Created time", challenge=False
                )
            password = self.users.password(record)
            if password is None or not token.matches(password):
                raise AuthenticationFailed("wrong user name or password", challenge=False)
            if not self._token_nonces.check_and_add(token.nonce, self._monotonic()):
                raise AuthenticationFailed("UsernameToken nonce replayed", challenge=False)
        elif not self.users.verify_plain(record, token.password):
            raise AuthenticationFailed("wrong user name or password", challenge=False)
        return Principal(record.username, record.level)


def authorize(principal: Principal, access: AccessClass, operation: str) -> None:
    """Raise ``ter:NotAuthorized`` when ``principal`` may not use ``access``."""
    if not allowed(principal.level, access):
        who = principal.username or "an anonymous caller"
        raise not_authorized(
            f"{operation} needs more rights than {who} ({principal.level.value}) has"
        )
