"""Item links of any length.

``items.link`` was ``VARCHAR(2048)``: PostgreSQL refused an item whose link was
longer, and with it every item of that feed's batch. Links are not indexed, so
``TEXT`` costs nothing. The keys built from links are bounded instead
(``pipeline.dedup.bounded_key``), since they are indexed. SQLite does not enforce
``VARCHAR`` lengths: nothing to change there.

Revision ID: 0008_long_links
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_long_links"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("items", "link", type_=sa.Text(), existing_type=sa.String(2048))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("items", "link", type_=sa.String(2048), existing_type=sa.Text())
