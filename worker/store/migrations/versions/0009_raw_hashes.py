"""Raw hashes: an entry seen before costs a hash, not the pipeline.

Adds ``items.raw_hash`` (the hash of the raw entry an item was made from,
``pipeline.raw_hash``) and ``feeds.entry_keys`` (the keys of the entries of the
feed's last parsed body). Before a body is parsed, the raw hashes of those keys
are read in one query per batch of feeds, and an entry whose key and raw hash
match is not processed again. Both start empty: the first parse of each feed
after the upgrade processes every entry, as before.

Revision ID: 0009_raw_hashes
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_raw_hashes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("raw_hash", sa.String(32)))
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("entry_keys", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("entry_keys")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("raw_hash")
