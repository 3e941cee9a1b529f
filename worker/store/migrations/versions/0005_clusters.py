"""Clusters: one published entry per event, whatever the number of its reports.

Adds ``clusters`` (the published entry: its primary report and its own
timestamps), ``cluster_keys`` (exact cross-source keys, each owned by one
cluster under a unique constraint), and to ``items`` the cluster it belongs to
and what the dedup index is rebuilt from at start (MinHash signature, shingle
count, the facts the event rule compares).

Every item stored before this migration becomes the primary of a cluster of
its own, with the item's id, so published entry ids do not change.

Revision ID: 0005_clusters
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_clusters"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("primary_item", sa.String(36), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relevant", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_clusters_publish", "clusters", ["relevant", sa.text("first_seen DESC"), "id"]
    )
    op.create_table(
        "cluster_keys",
        sa.Column("key", sa.String(2100), primary_key=True),
        sa.Column("cluster_id", sa.String(36), nullable=False),
    )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("cluster_id", sa.String(36)))
        batch.add_column(sa.Column("signature", sa.LargeBinary))
        batch.add_column(sa.Column("shingles", sa.Integer))
        batch.add_column(sa.Column("facts", sa.JSON))
    op.create_index("ix_items_cluster_id", "items", ["cluster_id"])
    op.execute("UPDATE items SET cluster_id = id")
    op.execute(
        "INSERT INTO clusters (id, primary_item, first_seen, updated, relevant) "
        "SELECT id, id, first_seen, updated, relevant FROM items"
    )


def downgrade() -> None:
    op.drop_index("ix_items_cluster_id", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("facts")
        batch.drop_column("shingles")
        batch.drop_column("signature")
        batch.drop_column("cluster_id")
    op.drop_table("cluster_keys")
    op.drop_index("ix_clusters_publish", table_name="clusters")
    op.drop_table("clusters")
