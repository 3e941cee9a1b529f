"""The queries: save items, track seed files, keep feed state.

Writes are single statements or single transactions, safe with several
writers: the unique key on ``items.key`` decides "new or seen", never a
read-then-insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, Insert, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from worker.model import Item, StoredItem, item_from_dict, item_to_dict
from worker.store.tables import feeds, items, seed_files

#: Items ids are derived from the dedup key, so they are stable and identical across replicas.
ITEM_ID_NAMESPACE = uuid.UUID("6f1d6c36-3f5e-4c1e-9a53-1b9f0f3f5a10")

Change = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class SaveResult:
    id: str
    change: Change


@dataclass(frozen=True, slots=True)
class FeedState:
    """A subscription and what the worker remembers of its last fetch."""

    url: str
    name: str
    category: str
    every: float | None
    etag: str | None
    last_modified: str | None
    last_status: str | None
    last_error: str | None
    error_count: int
    last_success_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    items_seen: int
    disabled_reason: str | None


def item_id(key: str) -> str:
    return str(uuid.uuid5(ITEM_ID_NAMESPACE, key))


class Store:
    """All database access of the worker goes through here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, table: object) -> Insert:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)  # type: ignore[arg-type]
        return sqlite.insert(table)  # type: ignore[arg-type]

    # -- items ---------------------------------------------------------------

    def save_item(self, item: Item, *, now: datetime) -> SaveResult:
        """Store ``item`` once by its key; update it in place when its content changed."""
        ident = item_id(item.key)
        row = _item_row(item)
        with self.engine.begin() as conn:
            inserted = conn.execute(
                self._insert(items)
                .values(id=ident, key=item.key, first_seen=now, updated=now, **row)
                .on_conflict_do_nothing(index_elements=["key"])
            ).rowcount
            if inserted:
                return SaveResult(ident, "created")
            changed = conn.execute(
                update(items)
                .where(items.c.key == item.key, items.c.content_hash != item.content_hash)
                .values(updated=now, **row)
            ).rowcount
        return SaveResult(ident, "updated" if changed else "unchanged")

    def rescore_item(self, ident: str, item: Item) -> None:
        """Replace an item's relevance and facts without touching its timestamps."""
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id == ident).values(**_item_row(item)))

    def items(self, *, relevant_only: bool = True, limit: int | None = None) -> list[StoredItem]:
        """Items newest first (by first seen, then id for a stable order)."""
        query = select(items.c.id, items.c.first_seen, items.c.updated, items.c.data)
        if relevant_only:
            query = query.where(items.c.relevant.is_(True))
        query = query.order_by(items.c.first_seen.desc(), items.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [
                StoredItem(id=r.id, first_seen=r.first_seen, updated=r.updated,
                           item=item_from_dict(r.data))
                for r in conn.execute(query)
            ]

    def count_items(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(items)) or 0)

    # -- seed files ----------------------------------------------------------

    def seed_file_hashes(self) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(seed_files.c.path, seed_files.c.content_hash))
            return {r.path: r.content_hash for r in rows}

    def record_seed_file(
        self, path: str, *, content_hash: str | None, status: str, error: str | None,
        now: datetime,
    ) -> None:
        values = {"content_hash": content_hash, "status": status, "error": error, "seen_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(seed_files)
                .values(path=path, **values)
                .on_conflict_do_update(index_elements=["path"], set_=values)
            )

    def seed_file_status(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(seed_files))]

    # -- feeds ---------------------------------------------------------------

    def sync_feeds(self, configured: Iterable[tuple[str, str, str, float | None]]) -> None:
        """Make the feeds table hold the configured subscriptions (url, name, category, every)."""
        with self.engine.begin() as conn:
            for url, name, category, every in configured:
                values = {"name": name, "category": category, "every": every}
                conn.execute(
                    self._insert(feeds)
                    .values(url=url, error_count=0, items_seen=0, **values)
                    .on_conflict_do_update(index_elements=["url"], set_=values)
                )

    def feeds(self) -> list[FeedState]:
        with self.engine.connect() as conn:
            return [FeedState(**r._mapping) for r in conn.execute(select(feeds).order_by(feeds.c.url))]

    def due_feeds(self, urls: Sequence[str], *, now: datetime) -> list[FeedState]:
        """The configured feeds whose next check has come, not disabled."""
        query = select(feeds).where(
            feeds.c.url.in_(list(urls)),
            feeds.c.disabled_reason.is_(None),
            or_(feeds.c.next_check_at.is_(None), feeds.c.next_check_at <= now),
        ).order_by(feeds.c.next_check_at, feeds.c.url)
        with self.engine.connect() as conn:
            return [FeedState(**r._mapping) for r in conn.execute(query)]

    def record_feed_result(
        self,
        url: str,
        *,
        status: str,
        now: datetime,
        next_check_at: datetime,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        items_seen: int = 0,
        disabled_reason: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "last_status": status,
            "last_checked_at": now,
            "next_check_at": next_check_at,
            "items_seen": feeds.c.items_seen + items_seen,
        }
        if status == "error":
            values.update(last_error=error, error_count=feeds.c.error_count + 1)
        else:
            values.update(last_success_at=now, error_count=0, last_error=None)
            if status == "ok":
                values.update(etag=etag, last_modified=last_modified)
        if disabled_reason:
            values["disabled_reason"] = disabled_reason
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(and_(feeds.c.url == url)).values(**values))


def _item_row(item: Item) -> dict[str, object]:
    return {
        "source": item.doc.source,
        "link": item.doc.link,
        "title": item.doc.title,
        "lang": item.doc.lang,
        "published": item.doc.published,
        "content_hash": item.content_hash,
        "relevant": item.relevance.relevant,
        "score": item.relevance.score,
        "event_start": item.event.start,
        "event_end": item.event.end,
        "city": item.event.city,
        "data": item_to_dict(item),
    }
