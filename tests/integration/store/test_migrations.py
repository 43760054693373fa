"""Migrations on an empty database, run twice, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, inspect

from platonicam.store.database import Database, DatabaseError, head_revision
from platonicam.store.tables import Base

TABLES = {
    "alembic_version",
    "users",
    "grants",
    "refresh_tokens",
    "cameras",
    "jobs",
    "audit_log",
    "events",
}


def _schema(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


async def test_migrations_create_the_schema_and_are_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await db.revision() is None
        await db.migrate()
        assert await db.revision() == head_revision() == "0002"
        async with db.engine.connect() as connection:
            first = await connection.run_sync(_schema)
        assert set(first) == TABLES
        # The migrated schema is exactly what tables.py declares.
        for table in Base.metadata.sorted_tables:
            assert first[table.name] == {c.name for c in table.columns}, table.name

        await db.migrate()  # a second start: nothing to do, nothing changes
        assert await db.revision() == "0002"
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_schema) == first
    finally:
        await db.dispose()


async def test_unreachable_database_is_a_clear_error_without_password() -> None:
    db = Database("postgresql+asyncpg://platonicam:hunter2-secret@127.0.0.1:9/platonicam")
    try:
        with pytest.raises(DatabaseError) as caught:
            await db.migrate()
    finally:
        await db.dispose()
    message = str(caught.value)
    assert message.startswith(
        "cannot open or migrate the database "
        "postgresql+asyncpg://platonicam:***@127.0.0.1:9/platonicam: "
    )
    assert "hunter2" not in message
