"""Webhook claims read due deliveries in index order.

A claim takes the oldest due deliveries of one subscriber. With the old index on
``(status, next_attempt_at)`` and two claimable statuses, both databases read every
due row and sorted them to take the first few (``USE TEMP B-TREE FOR ORDER BY``),
so a claim cost grew with the backlog. This partial index holds only claimable
rows, in the order a claim takes them: the claim reads ``limit`` entries and stops.
Delivered and dead rows, the bulk of the table over time, are not in it.

Revision ID: 0009_delivery_claim_index
Revises: 0003_webhook_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_delivery_claim_index"
down_revision = "0003_webhook_outbox"
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("status IN ('pending', 'failed')")


def upgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_claimable",
        "webhook_deliveries",
        ["subscriber", "next_attempt_at", "id"],
        postgresql_where=CLAIMABLE,
        sqlite_where=CLAIMABLE,
    )
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.drop_index("ix_webhook_deliveries_claimable", table_name="webhook_deliveries")
