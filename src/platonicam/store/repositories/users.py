"""Users, their per-camera grants, and their refresh tokens."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from platonicam.clock import Clock
from platonicam.store.records import Role, UserRecord
from platonicam.store.repositories.errors import ConflictError, NotFoundError
from platonicam.store.tables import GrantRow, RefreshTokenRow, UserRow


def _record(row: UserRow, grants: Sequence[str]) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        disabled=row.disabled,
        token_version=row.token_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        grants=frozenset(grants),
    )


class UserRepository:
    """Users and grants. Password hashes go in and out only through the two hash methods."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)

    async def create(self, name: str, role: Role, password_hash: str) -> UserRecord:
        """A new user; :class:`ConflictError` if the name is taken."""
        now = self._clock.now()
        row = UserRow(
            name=name,
            role=role.value,
            password_hash=password_hash,
            disabled=False,
            token_version=0,
            created_at=now,
            updated_at=now,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                raise ConflictError(f"a user named {name!r} already exists") from None
            return _record(row, ())

    async def get(self, name: str) -> UserRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                return None
            return _record(row, await self._grants(session, row.id))

    async def get_by_id(self, user_id: int) -> UserRecord | None:
        async with self._sessions() as session:
            row = await session.get(UserRow, user_id)
            if row is None:
                return None
            return _record(row, await self._grants(session, row.id))

    async def require(self, name: str) -> UserRecord:
        """The user, or :class:`NotFoundError`."""
        user = await self.get(name)
        if user is None:
            raise NotFoundError("user", name)
        return user

    async def list(self) -> list[UserRecord]:
        """All users, by name."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(UserRow).order_by(UserRow.name))).all()
            grants = (await session.execute(select(GrantRow.user_id, GrantRow.camera_id))).all()
        by_user: dict[int, list[str]] = {}
        for user_id, camera_id in grants:
            by_user.setdefault(user_id, []).append(camera_id)
        return [_record(row, by_user.get(row.id, ())) for row in rows]

    async def password_hash(self, name: str) -> str | None:
        """The stored hash, for verifying a login; ``None`` for an unknown user."""
        async with self._sessions() as session:
            return await session.scalar(select(UserRow.password_hash).where(UserRow.name == name))

    async def update(
        self,
        name: str,
        *,
        role: Role | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
    ) -> UserRecord:
        """Change what is given. A new password, a new role or disabling the user
        revokes every token they hold (``token_version`` is bumped)."""
        async with self._sessions.begin() as session:
            row = await session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise NotFoundError("user", name)
            revoke = False
            if role is not None and role.value != row.role:
                row.role = role.value
                revoke = True
            if password_hash is not None:
                row.password_hash = password_hash
                revoke = True
            if disabled is not None and disabled != row.disabled:
                row.disabled = disabled
                revoke = revoke or disabled
            if revoke:
                row.token_version += 1
                await session.execute(
                    delete(RefreshTokenRow).where(RefreshTokenRow.user_id == row.id)
                )
            row.updated_at = self._clock.now()
            await session.flush()
            return _record(row, await self._grants(session, row.id))

    async def delete(self, name: str) -> None:
        """Remove the user with their grants and tokens; :class:`NotFoundError` if absent."""
        async with self._sessions.begin() as session:
            user_id = await session.scalar(select(UserRow.id).where(UserRow.name == name))
            if user_id is None:
                raise NotFoundError("user", name)
            # Explicit, not only ON DELETE CASCADE: a database opened without the
            # SQLite foreign-key pragma must not keep orphans either.
            await session.execute(delete(GrantRow).where(GrantRow.user_id == user_id))
            await session.execute(delete(RefreshTokenRow).where(RefreshTokenRow.user_id == user_id))
            await session.execute(delete(UserRow).where(UserRow.id == user_id))

    async def grant(self, name: str, camera_id: str) -> UserRecord:
        """Let the user use ``camera_id``; granting twice is not an error."""
        async with self._sessions.begin() as session:
            user_id = await session.scalar(select(UserRow.id).where(UserRow.name == name))
            if user_id is None:
                raise NotFoundError("user", name)
            existing = await session.get(GrantRow, (user_id, camera_id))
            if existing is None:
                session.add(
                    GrantRow(user_id=user_id, camera_id=camera_id, created_at=self._clock.now())
                )
        return await self.require(name)

    async def revoke(self, name: str, camera_id: str) -> UserRecord:
        """Take ``camera_id`` away from the user; :class:`NotFoundError` if it was not granted."""
        async with self._sessions.begin() as session:
            user_id = await session.scalar(select(UserRow.id).where(UserRow.name == name))
            if user_id is None:
                raise NotFoundError("user", name)
            result = await session.execute(
                delete(GrantRow).where(GrantRow.user_id == user_id, GrantRow.camera_id == camera_id)
            )
            if _rowcount(result) == 0:
                raise NotFoundError("grant", f"{name}/{camera_id}")
        return await self.require(name)

    async def drop_camera_grants(self, camera_id: str) -> int:
        """Remove every grant on a camera (it was deleted); the number removed."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(GrantRow).where(GrantRow.camera_id == camera_id))
            return _rowcount(result)

    @staticmethod
    async def _grants(session: AsyncSession, user_id: int) -> builtins.list[str]:
        rows = await session.scalars(select(GrantRow.camera_id).where(GrantRow.user_id == user_id))
        return list(rows.all())


def _rowcount(result: object) -> int:
    count = getattr(result, "rowcount", 0)
    return count if isinstance(count, int) else 0


class RefreshTokenRepository:
    """Refresh tokens by the SHA-256 of their value; each can be used once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def add(self, token_hash: str, user_id: int, expires_at: datetime) -> None:
        async with self._sessions.begin() as session:
            session.add(
                RefreshTokenRow(
                    token_hash=token_hash,
                    user_id=user_id,
                    expires_at=expires_at,
                    used_at=None,
                    created_at=self._clock.now(),
                )
            )

    async def consume(self, token_hash: str) -> int | None:
        """Mark the token used and return its user id; ``None`` when unknown, used or expired.

        Presenting an already-used token revokes all of that user's refresh
        tokens: either the client is broken or the token was stolen, and both are
        fixed by logging in again.
        """
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(RefreshTokenRow, token_hash)
            if row is None:
                return None
            if row.used_at is not None:
                await session.execute(
                    delete(RefreshTokenRow).where(RefreshTokenRow.user_id == row.user_id)
                )
                return None
            if row.expires_at <= now:
                await session.delete(row)
                return None
            # Compare-and-set, so two concurrent refreshes cannot both succeed.
            result = await session.execute(
                update(RefreshTokenRow)
                .where(RefreshTokenRow.token_hash == token_hash, RefreshTokenRow.used_at.is_(None))
                .values(used_at=now)
            )
            if _rowcount(result) != 1:
                return None
            return row.user_id

    async def purge_expired(self) -> int:
        """Delete expired tokens (used ones are kept until then, for reuse detection)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(RefreshTokenRow).where(RefreshTokenRow.expires_at <= self._clock.now())
            )
            return _rowcount(result)
