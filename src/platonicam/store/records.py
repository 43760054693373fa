"""What the repositories hand out: frozen records, detached from any session.

No record carries a password or hash in a form that could be serialised by
accident: :class:`CameraRecord` says only whether a password is stored, and
:class:`UserRecord` has no hash at all (``UserRepository.password_hash`` reads it
for the one place that verifies it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a user may do; each role includes the ones before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """True when this role may do everything ``other`` may."""
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    role: Role
    disabled: bool
    token_version: int
    created_at: datetime
    updated_at: datetime
    grants: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class CameraRecord:
    """A registered camera. ``has_password`` stands in for the password, which stays encrypted."""

    id: str
    name: str
    host: str
    port: int
    use_https: bool
    verify_tls: bool
    ca_cert_pem: str | None
    username: str | None
    has_password: bool
    manufacturer: str | None
    model: str | None
    firmware_version: str | None
    serial_number: str | None
    hardware_id: str | None
    mac_address: str | None
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def connection(self) -> tuple[object, ...]:
        """What a connection to the camera is made from (address, trust, login): when it
        changes, open connections and subscriptions are stale. ``updated_at`` stands in
        for the password (only its presence is in the record)."""
        return (
            self.host,
            self.port,
            self.use_https,
            self.verify_tls,
            self.ca_cert_pem,
            self.username,
            self.has_password,
            self.updated_at,
        )


@dataclass(frozen=True, slots=True)
class CameraCredentials:
    """The decrypted username and password, for the code that connects to the camera."""

    username: str | None
    password: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class NewCamera:
    """A camera to register; ``password`` is encrypted before it reaches the database."""

    name: str
    host: str
    port: int = 80
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_https: bool = False
    verify_tls: bool = True
    ca_cert_pem: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    serial_number: str | None = None
    hardware_id: str | None = None
    mac_address: str | None = None
    scopes: tuple[str, ...] = ()
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CameraChanges:
    """Fields to change on a camera; ``None`` leaves a field as it is.

    ``clear_password=True`` removes the stored password (``password`` then must be None).
    """

    name: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    clear_password: bool = False
    use_https: bool | None = None
    verify_tls: bool | None = None
    ca_cert_pem: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    serial_number: str | None = None
    hardware_id: str | None = None
    mac_address: str | None = None
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    camera_id: str | None
    summary: str
