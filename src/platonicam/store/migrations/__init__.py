"""Alembic revisions for the store, shipped in the wheel and run at start (store.database)."""
