"""The events table: normalized camera events, kept until the retention deletes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from platonicam.store.tables import UtcDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=512), nullable=False),
        sa.Column("raw_topic", sa.String(length=512), nullable=False),
        sa.Column("state", sa.Boolean(), nullable=True),
        sa.Column("property_operation", sa.String(length=16), nullable=True),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_time_id", "events", ["time", "id"])
    op.create_index("ix_events_camera_id_time_id", "events", ["camera_id", "time", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_camera_id_time_id", table_name="events")
    op.drop_index("ix_events_time_id", table_name="events")
    op.drop_table("events")
