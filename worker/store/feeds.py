"""Feed queries: subscriptions and what the worker remembers of each fetch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from worker.store.base import StoreBase
from worker.store.tables import feeds


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


class FeedQueries(StoreBase):
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
            rows = conn.execute(select(feeds).order_by(feeds.c.url))
            return [FeedState(**r._mapping) for r in rows]

    def due_feeds(self, urls: Sequence[str], *, now: datetime) -> list[FeedState]:
        """The configured feeds whose next check has come, not disabled."""
        query = (
            select(feeds)
            .where(
                feeds.c.url.in_(list(urls)),
                feeds.c.disabled_reason.is_(None),
                or_(feeds.c.next_check_at.is_(None), feeds.c.next_check_at <= now),
            )
            .order_by(feeds.c.next_check_at, feeds.c.url)
        )
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
