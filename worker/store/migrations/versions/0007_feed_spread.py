"""A random number per feed that orders feeds due at the same moment.

Claimed in URL order, a batch of feeds due together (every feed of a new
configuration, say) is a few hosts' worth of feeds, and the per-host limit then
leaves most of the global slots idle. Ordered by this number, a batch mixes hosts.

Revision ID: 0007_feed_spread
Revises: 0002_feed_fetch_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_feed_spread"
down_revision = "0002_feed_fetch_state"
branch_labels = None
depends_on = None

#: Draws one number per existing row, on each backend (2**31 - 1: fits an INTEGER).
RANDOM_SPREAD = {
    "sqlite": "abs(random()) % 2147483647",
    "postgresql": "floor(random() * 2147483647)::integer",
}


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("spread", sa.Integer, nullable=False, server_default="0"))
    draw = RANDOM_SPREAD[op.get_bind().dialect.name]
    op.execute(f"UPDATE feeds SET spread = {draw}")


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("spread")
