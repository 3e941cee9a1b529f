"""The schema, as SQLAlchemy Core tables. Changes go through a migration in ``migrations/``."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: One row per processed entry. ``key`` is the exact dedup key (``pipeline.dedup.entry_key``);
#: the unique constraint makes "stored once" hold even with several writers.
items = Table(
    "items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("key", String(2048), nullable=False, unique=True),
    Column("source", String(2048), nullable=False),
    Column("link", Text),  # any length: migration 0008
    Column("title", Text, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("published", UtcDateTime()),
    #: When the worker first stored the item: the feed's ``published``.
    Column("first_seen", UtcDateTime(), nullable=False),
    #: When what a reader sees last changed: the feed's ``updated``.
    Column("updated", UtcDateTime(), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("relevant", Boolean, nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("event_start", Date),
    Column("event_end", Date),
    Column("city", String(200)),
    #: The whole item (document, relevance, event) as JSON, for publishing and rescoring.
    Column("data", JSON, nullable=False),
    #: The published entry (``clusters.id``) this report belongs to: migration 0005.
    Column("cluster_id", String(36), index=True),
    #: What the dedup index is rebuilt from at start: the MinHash signature (uint32
    #: little-endian), the shingle count and the facts the event rule compares.
    Column("signature", LargeBinary),
    Column("shingles", Integer),
    Column("facts", JSON),
    #: The hash of the raw entry the item was made from (``pipeline.raw_hash``); NULL when
    #: unknown or invalidated (``worker rescore``): migration 0009.
    Column("raw_hash", String(32)),
)
#: The publisher's window (newest relevant first) read in index order: migration 0004.
Index("ix_items_publish", items.c.relevant, items.c.first_seen.desc(), items.c.id)

#: Seed files by path, so an unchanged file is not processed again.
seed_files = Table(
    "seed_files",
    metadata,
    Column("path", String(1024), primary_key=True),
    Column("content_hash", String(64)),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("seen_at", UtcDateTime(), nullable=False),
)

#: Feed subscriptions and their fetch state.
feeds = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("name", String(500), nullable=False, default=""),
    Column("category", String(200), nullable=False, default=""),
    Column("every", Float),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("last_status", String(16)),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_success_at", UtcDateTime()),
    Column("last_checked_at", UtcDateTime()),
    Column("next_check_at", UtcDateTime(), index=True),
    Column("items_seen", Integer, nullable=False, default=0),
    Column("disabled_reason", Text),
    #: Where the feed is fetched from when a 301/308 moved it; NULL means ``url``.
    Column("fetch_url", String(2048)),
    #: ``config`` (a ``[[feeds]]`` table) or ``command`` (``worker feeds add|import``).
    Column("origin", String(16), nullable=False, default="config", server_default="config"),
    #: The feed's own title, from its last parse.
    Column("title", Text),
    Column("last_http_status", Integer),
    Column("last_error_at", UtcDateTime()),
    #: Items stored for the first time, all fetches together.
    Column("items_new", Integer, nullable=False, default=0, server_default="0"),
    #: Entries the feed published in the week before its last successful parse.
    Column("weekly_entries", Integer),
    #: Seconds the feed asks to be cached (RSS ``<ttl>``).
    Column("ttl_seconds", Float),
    #: A worker holds a claimed feed until then; after that it is claimable again.
    Column("lease_until", UtcDateTime()),
    #: Drawn at random when the feed is added: feeds due at the same moment are claimed
    #: in this order, so a batch mixes hosts rather than taking them in URL order.
    Column(
        "spread",
        Integer,
        nullable=False,
        default=lambda: random.getrandbits(31),
        server_default="0",
    ),
    #: The entry keys of the feed's last parsed body, in order: whose raw hashes the next
    #: parse is given (migration 0009).
    Column("entry_keys", JSON),
)

#: Webhook subscribers, synced from the ``[[webhooks]]`` tables of the config, and their state.
webhook_subscribers = Table(
    "webhook_subscribers",
    metadata,
    #: The subscriber's ``name`` in the config, else its URL.
    Column("id", String(2048), primary_key=True),
    Column("url", String(2048), nullable=False),
    #: Why deliveries to it stopped (e.g. it answered 410 Gone); NULL while enabled.
    Column("disabled_reason", Text),
    Column("disabled_at", UtcDateTime()),
    Column("last_success_at", UtcDateTime()),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime()),
)

#: The outbox: one row per (event, subscriber), written in the transaction that stored the
#: item. ``id`` is the ``webhook-id`` every attempt carries; ``body`` the exact bytes signed.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("subscriber", String(2048), ForeignKey("webhook_subscribers.id"), nullable=False),
    Column("item_id", String(36), nullable=False, index=True),
    Column("event", String(32), nullable=False),
    Column("body", Text, nullable=False),
    #: pending (not tried yet) | failed (will be retried) | delivered | dead
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    #: A worker holds a claimed row until then; after that it is claimable again.
    Column("lease_until", UtcDateTime()),
    Column("lease_token", String(36)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_attempt_at", UtcDateTime()),
    Column("delivered_at", UtcDateTime()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Index("ix_webhook_deliveries_subscriber", "subscriber", "status"),
)
#: What a claim reads, in the order it takes rows: migration 0009.
_CLAIMABLE = text("status IN ('pending', 'failed')")
Index(
    "ix_webhook_deliveries_claimable",
    webhook_deliveries.c.subscriber,
    webhook_deliveries.c.next_attempt_at,
    webhook_deliveries.c.id,
    postgresql_where=_CLAIMABLE,
    sqlite_where=_CLAIMABLE,
)

#: Named leases: the seed-folder scan and publishing run in one process at a time.
#: A holder that dies releases nothing; its lease simply expires.
locks = Table(
    "locks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

#: One row per published entry (an event, however many reports it has): migration 0005.
#: ``id`` is the id of its first report and never changes as further reports join.
clusters = Table(
    "clusters",
    metadata,
    Column("id", String(36), primary_key=True),
    #: The first report: what the entry shows; the other members are listed as its sources.
    Column("primary_item", String(36), nullable=False),
    #: When the entry was first published (a feed's ``published``).
    Column("first_seen", UtcDateTime(), nullable=False),
    #: When the entry last changed: its primary's content, or a further source joining.
    Column("updated", UtcDateTime(), nullable=False),
    Column("relevant", Boolean, nullable=False),
)
#: The publisher's window (newest relevant entries first) read in index order.
Index("ix_clusters_publish", clusters.c.relevant, clusters.c.first_seen.desc(), clusters.c.id)

#: Exact cross-source keys (``url:…``, ``text:…``, see ``pipeline.dedup.exact_keys``), each
#: owned by one cluster: the unique key keeps two workers from starting two clusters for it.
cluster_keys = Table(
    "cluster_keys",
    metadata,
    Column("key", String(2100), primary_key=True),
    Column("cluster_id", String(36), nullable=False),
)
