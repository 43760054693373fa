"""Alembic's entry point: migrate on the connection ``store.database`` hands over.

Only the online mode exists: PlatoniCam always migrates a live database at
start, and never writes SQL scripts for someone else to run.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from platonicam.store.tables import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "run migrations through platonicam.store.database.Database.migrate(), "
        "which passes the connection to use"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
