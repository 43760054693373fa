"""Persistent state: SQLAlchemy tables, repositories, credential encryption, migrations.

SQLite (a file in the data folder, through aiosqlite) is the default and
PostgreSQL (asyncpg) the same code pointed at another URL. Repositories hand
out frozen records (``platonicam.store.records``), never ORM objects, so
nothing outside this package holds a session.
"""
