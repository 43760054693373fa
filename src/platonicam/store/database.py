"""Opening the database and bringing its schema up to date.

:class:`Database` owns the async engine and the session factory. ``migrate()``
runs the Alembic revisions shipped in ``platonicam/store/migrations`` on the
engine's own connection (no ``alembic.ini``, no second engine), so a fresh or
old database is at the current schema after it, and running it again changes
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from platonicam.errors import PlatonicamError

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"


class DatabaseError(PlatonicamError):
    """The database cannot be opened or migrated; the message says which and why."""


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped revisions (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of PlatoniCam."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise DatabaseError("no database migrations are installed")
    return head


def _enable_sqlite_foreign_keys(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    # SQLite ignores ON DELETE CASCADE unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The engine and session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo)
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        # For messages: the URL without its password.
        self.display_url = parsed.render_as_string(hide_password=True)

    async def migrate(self) -> None:
        """Upgrade the schema to :func:`head_revision`; a no-op when already there.

        Raises :class:`DatabaseError` naming the database (never its password)
        when it cannot be reached or migrated.
        """
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(_upgrade)
        except (SQLAlchemyError, OSError) as error:
            raise DatabaseError(
                f"cannot open or migrate the database {self.display_url}: "
                f"{type(error).__name__}: {_first_line(error)}"
            ) from None

    async def revision(self) -> str | None:
        """The revision the database is at (``None`` when never migrated)."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )

    async def dispose(self) -> None:
        await self.engine.dispose()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else ""
