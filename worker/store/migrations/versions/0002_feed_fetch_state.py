"""Feed fetch state: where the feed moved, where it came from, what it asked for.

Revision ID: 0002_feed_fetch_state
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_feed_fetch_state"
down_revision = "0001"
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column[object], ...]:
    # Fresh Column objects each time: a Column belongs to one table once added.
    return (
        sa.Column("fetch_url", sa.String(2048)),
        sa.Column("origin", sa.String(16), nullable=False, server_default="config"),
        sa.Column("title", sa.Text),
        sa.Column("last_http_status", sa.Integer),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
        sa.Column("items_new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("weekly_entries", sa.Integer),
        sa.Column("ttl_seconds", sa.Float),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    # batch mode: SQLite cannot add some columns in place; on PostgreSQL it is a plain ALTER.
    with op.batch_alter_table("feeds") as batch:
        for column in _columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
