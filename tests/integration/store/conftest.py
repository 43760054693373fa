"""Store tests run on both backends: SQLite always, PostgreSQL from a throwaway cluster.

The PostgreSQL cluster starts once per test process, on first use
(``postgres.shared_cluster``); each test gets its own new database in it, so
tests never see each other's rows. When the cluster cannot start,
PostgreSQL-parametrised tests fail with the reason: a skipped backend would let
a PostgreSQL-only bug through unnoticed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from platonicam.store.database import Database
from tests.integration.store.postgres import database_url_for


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    backend: str = request.param
    return database_url_for(backend, tmp_path)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    db = Database(database_url)
    await db.migrate()
    yield db
    await db.dispose()
