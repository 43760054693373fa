"""Service tests on both database backends: SQLite always, PostgreSQL from a throwaway cluster.

A test that asks for ``database_url`` runs twice, ``[sqlite]`` and
``[postgresql]``; each run gets a fresh, empty database (the service's
lifespan migrates it). The PostgreSQL cluster is the one of the store tests
(``tests.integration.store.postgres.shared_cluster``), started once per test
process. When it cannot start, the ``[postgresql]`` runs fail with the reason:
a skipped backend would let a PostgreSQL-only bug through unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.store.postgres import database_url_for


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this run: ``"sqlite"`` or ``"postgresql"``."""
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    """The SQLAlchemy URL of a new empty database on ``backend``.

    SQLite's file lives in ``tmp_path`` next to (not inside) the service's data
    folder, so a test that restarts the service keeps its database.
    """
    return database_url_for(backend, tmp_path)
