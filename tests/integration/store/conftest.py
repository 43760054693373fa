"""Store tests run on both backends: SQLite always, PostgreSQL from a throwaway cluster.

The PostgreSQL cluster starts once per session (``postgres_cluster``); each
test gets its own new database in it, so tests never see each other's rows.
When the cluster cannot start, PostgreSQL-parametrised tests fail with the
reason: a skipped backend would let a PostgreSQL-only bug through unnoticed.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from platonicam.store.database import Database
from tests.integration.store.postgres import PostgresCluster, PostgresUnavailable

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster | PostgresUnavailable]:
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as error:
        # Returned, not raised: every test that needs it fails with this reason.
        yield error
        return
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'platonicam.db'}"
    # Asked for here, not as a parameter, so a SQLite-only run starts no cluster.
    postgres_cluster = request.getfixturevalue("postgres_cluster")
    if isinstance(postgres_cluster, PostgresUnavailable):
        pytest.fail(f"PostgreSQL backend unavailable: {postgres_cluster}")
    return postgres_cluster.create_database(f"t{next(_counter)}")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    db = Database(database_url)
    await db.migrate()
    yield db
    await db.dispose()
