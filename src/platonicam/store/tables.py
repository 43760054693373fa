"""The database schema (SQLAlchemy 2 declarative), the source the migrations follow.

Strategy: the same tables on SQLite and PostgreSQL, so only portable types are
used: strings, integers, booleans, JSON, and :class:`UtcDateTime`, which stores
timezone-aware UTC instants on both (SQLite has no time zones: it would hand back
naive datetimes, and comparing those with aware ones raises).

A change here needs a new revision in ``migrations/versions`` as well; the
migration test compares the migrated schema with this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names: Alembic can then drop and alter them the same way on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC, returned aware on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    """A person or script that may use the API. ``token_version`` bumps revoke their tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GrantRow(Base):
    """User ``user_id`` may use camera ``camera_id`` (within the limits of their role)."""

    __tablename__ = "grants"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Not a foreign key on purpose: a grant may be given before the camera is
    # added (provisioning scripts do both in any order), and deleting a camera
    # deletes its grants explicitly (CameraRepository.delete).
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefreshTokenRow(Base):
    """One issued refresh token, by the SHA-256 of its value (the value itself is never stored)."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CameraRow(Base):
    """A registered camera. ``password_encrypted`` is a Fernet token (store.secrets)."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    use_https: Mapped[bool] = mapped_column(Boolean, default=False)
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    ca_cert_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    username: Mapped[str | None] = mapped_column(String(128), nullable=True)
    password_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    manufacturer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    firmware_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    serial_number: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hardware_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mac_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_cameras_host_port", "host", "port", unique=True),)


class JobRow(Base):
    """An apply or rollback job: the searchable columns plus the whole job as JSON."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    document: Mapped[dict[str, JsonValue]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what, on which camera, when: a summary without secrets."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(Text)


class EventRow(Base):
    """One normalized camera event (``platonicam.events.model.Event``), kept for
    ``GET /api/events`` until the retention deletes it.

    ``id`` orders rows as they were stored and breaks ties between equal
    ``time`` values in keyset paging; ``time`` is the camera's ``UtcTime`` (or
    when we received the event). ``source``/``data`` are the SimpleItems as
    JSON objects of strings; ``payload`` is the notification XML as received.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(512))
    raw_topic: Mapped[str] = mapped_column(String(512))
    state: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    property_operation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source: Mapped[dict[str, JsonValue]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, JsonValue]] = mapped_column(JSON, default=dict)
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # Listing newest first, all cameras or one camera; retention by time.
        Index("ix_events_time_id", "time", "id"),
        Index("ix_events_camera_id_time_id", "camera_id", "time", "id"),
    )
