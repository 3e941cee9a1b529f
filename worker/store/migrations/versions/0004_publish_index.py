"""An index for the publisher's window: the newest relevant items, read without a scan.

``Store.items(relevant_only=True, limit=N)`` orders by ``first_seen DESC, id``;
with this index both SQLite and PostgreSQL read the first N rows of the index
in order, so publishing costs the same with ten thousand items or ten million.

Revision ID: 0004_publish_index
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_publish_index"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_publish", "items", ["relevant", sa.text("first_seen DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_items_publish", table_name="items")
