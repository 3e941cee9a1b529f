"""Feed queries: subscriptions and what the worker remembers of each fetch.

Subscriptions come from two places, both kept: ``[[feeds]]`` tables of the
config file (``origin = 'config'``, synced when the config changes) and
``worker feeds add|import`` (``origin = 'command'``, held only here). A feed
that left the config keeps its row and history as ``origin = 'unlisted'``. A
feed is *active* when its origin is ``config`` or ``command``: a column, so a
claim at 100k feeds reads an index instead of sending 100k URLs.

Due feeds are *claimed*: one atomic ``UPDATE … RETURNING`` sets a lease, so
several workers sharing one PostgreSQL never fetch the same feed at once
(``FOR UPDATE SKIP LOCKED`` skips rows another worker is claiming).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, bindparam, case, delete, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from worker.records import (
    ACTIVE_ORIGINS,
    ORIGIN_COMMAND,
    ORIGIN_CONFIG,
    ORIGIN_UNLISTED,
    FeedState,
    FeedStatus,
    FeedUpdate,
)
from worker.store.base import StoreBase
from worker.store.tables import feeds


class FeedQueries(StoreBase):
    def sync_feeds(self, configured: Iterable[tuple[str, str, str, float | None]]) -> None:
        """Make the feeds table hold the configured subscriptions (url, name, category, every).

        One transaction: other workers see the old list or the new one, never a mix.
        """
        rows = list(configured)
        with self.engine.begin() as conn:
            conn.execute(
                update(feeds).where(feeds.c.origin == ORIGIN_CONFIG).values(origin=ORIGIN_UNLISTED)
            )
            for url, name, category, every in rows:
                values = {"name": name, "category": category, "every": every}
                # A feed also added by command stays a command feed.
                origin = case(
                    (feeds.c.origin == ORIGIN_COMMAND, ORIGIN_COMMAND), else_=ORIGIN_CONFIG
                )
                conn.execute(
                    self._insert(feeds)
                    .values(url=url, error_count=0, items_seen=0, origin=ORIGIN_CONFIG, **values)
                    .on_conflict_do_update(
                        index_elements=["url"], set_={**values, "origin": origin}
                    )
                )

    def add_feed(self, url: str, *, name: str = "", category: str = "") -> bool:
        """Subscribe by command; False when the URL is already subscribed (either way)."""
        with self.engine.begin() as conn:
            inserted = conn.execute(
                self._insert(feeds)
                .values(
                    url=url,
                    name=name,
                    category=category,
                    error_count=0,
                    items_seen=0,
                    items_new=0,
                    origin=ORIGIN_COMMAND,
                )
                .on_conflict_do_nothing(index_elements=["url"])
                # RETURNING, not rowcount: SQLAlchemy promises rowcount for UPDATE and
                # DELETE only, and on PostgreSQL it said "inserted" for a conflict.
                .returning(feeds.c.url)
            ).first()
        return inserted is not None

    def remove_feed(self, url: str) -> Literal["removed", "config", "missing"]:
        """Unsubscribe a feed added by command (or one left over from the config file);
        a feed the config file lists is removed from the file."""
        with self.engine.begin() as conn:
            origin = conn.scalar(select(feeds.c.origin).where(feeds.c.url == url))
            if origin is None:
                return "missing"
            if origin == ORIGIN_CONFIG:
                return "config"
            conn.execute(delete(feeds).where(feeds.c.url == url))
        return "removed"

    def feeds(self, *, active_only: bool = False) -> list[FeedState]:
        """Every feed row, or only the active ones (in the config or added by command)."""
        query = select(feeds).order_by(feeds.c.url)
        if active_only:
            query = query.where(_active())
        with self.engine.connect() as conn:
            return [_feed_state(r) for r in conn.execute(query)]

    def due_feeds(self, *, now: datetime) -> list[FeedState]:
        """The active feeds whose next check has come, not disabled (read only; see claim)."""
        query = select(feeds).where(_due(now)).order_by(feeds.c.next_check_at, feeds.c.url)
        with self.engine.connect() as conn:
            return [_feed_state(r) for r in conn.execute(query)]

    def claim_due_feeds(
        self,
        *,
        now: datetime,
        lease: float,
        limit: int | None = None,
        checked_before: datetime | None = None,
    ) -> list[FeedState]:
        """Claim up to ``limit`` due feeds for ``lease`` seconds, atomically, and return them.

        ``checked_before``: only feeds not checked since then (a cycle's start), so a
        feed due again while its cycle still runs is left for the next cycle, unclaimed.
        """
        due = _due(now)
        if checked_before is not None:
            due &= or_(feeds.c.last_checked_at.is_(None), feeds.c.last_checked_at < checked_before)
        pick = (
            select(feeds.c.url)
            .where(due)
            # Ties (feeds due at the same moment) in random order: a batch mixes hosts.
            .order_by(feeds.c.next_check_at, feeds.c.spread, feeds.c.url)
        )
        if limit is not None:
            pick = pick.limit(limit)
        if self.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # SQLite runs one writer at a time, so the same statement is atomic there too.
        claim = (
            update(feeds)
            .where(feeds.c.url.in_(pick.scalar_subquery()))
            .values(lease_until=now + timedelta(seconds=lease))
            .returning(*feeds.c)
        )
        with self.engine.begin() as conn:
            rows = [_feed_state(r) for r in conn.execute(claim)]
        return sorted(
            rows,
            key=lambda f: (
                f.next_check_at.timestamp() if f.next_check_at else 0.0,
                f.spread,
                f.url,
            ),
        )

    def release_feeds(self, claimed: Sequence[FeedState]) -> None:
        """Give up claims this worker took and will not use (it is stopping): the feeds are
        due again at once, for another worker or the next start. A claim that ran out and
        was taken by another worker meanwhile (another lease) is left alone."""
        if not claimed:
            return
        statement = (
            update(feeds)
            .where(feeds.c.url == bindparam("b_url"), feeds.c.lease_until == bindparam("b_lease"))
            .values(lease_until=None)
        )
        with self.engine.begin() as conn:
            conn.execute(statement, [{"b_url": f.url, "b_lease": f.lease_until} for f in claimed])

    def record_feed_result(self, url: str, result: FeedUpdate) -> None:
        """Apply one check's outcome, and release the claim."""
        self.record_feed_results([(url, result)])

    def record_feed_results(self, results: Sequence[tuple[str, FeedUpdate]]) -> None:
        """Apply several checks' outcomes in ONE transaction (one statement per feed), and
        release their claims: a cycle of 304s costs one commit per batch, not per feed."""
        if not results:
            return
        # Checks that set the same columns share one statement, run once for all of them
        # (executemany): a batch of 304s is one statement, not one built per feed.
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for url, result in results:
            values = _result_values(result)
            params = {f"b_{k}": v.by if isinstance(v, _Add) else v for k, v in values.items()}
            params["b_url"] = url
            shape = tuple(f"{k}+" if isinstance(v, _Add) else k for k, v in values.items())
            groups.setdefault(shape, []).append(params)
        with self._begin() as conn:
            for shape, rows in groups.items():
                conn.execute(_update_statement(shape), rows)

    def enable_feed(self, url: str) -> bool:
        """Clear a disabled feed's reason so it is fetched again on the next cycle."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(feeds)
                    .where(feeds.c.url == url)
                    .values(disabled_reason=None, next_check_at=None, error_count=0)
                ).rowcount
            )


@dataclass(frozen=True, slots=True)
class _Add:
    """A counter column increased by ``by``, rather than set."""

    by: int


@functools.lru_cache(maxsize=64)
def _update_statement(shape: tuple[str, ...]) -> Any:
    """``UPDATE feeds SET … WHERE url = :b_url`` for one shape of values (``name+``: add)."""
    sets: dict[str, object] = {}
    for key in shape:
        name = key.rstrip("+")
        param: Any = bindparam(f"b_{name}")
        sets[name] = feeds.c[name] + param if key.endswith("+") else param
    return update(feeds).where(feeds.c.url == bindparam("b_url")).values(sets)


def _result_values(result: FeedUpdate) -> dict[str, object]:
    """The columns one check's outcome sets (``_Add``: increased by)."""
    status = FeedStatus(result.status)
    values: dict[str, object] = {
        "last_status": status.value,
        "last_checked_at": result.now,
        "next_check_at": result.next_check_at,
        "last_http_status": result.http_status,
        "lease_until": None,
    }
    if status is FeedStatus.ERROR:
        values.update(
            last_error=result.error,
            last_error_at=result.now,
            error_count=_Add(1),
        )
    else:
        values.update(last_success_at=result.now, error_count=0, last_error=None)
    if status is FeedStatus.OK:
        values.update(
            etag=result.etag,
            last_modified=result.last_modified,
            items_seen=_Add(result.items_seen),
            items_new=_Add(result.items_new),
            ttl_seconds=result.ttl_seconds,
        )
        if result.title:
            values["title"] = result.title[:2000]
        if result.error:
            # A bozo feed that still gave entries: ok, but say what was wrong with it.
            values["last_error"] = result.error
    elif status is FeedStatus.NOT_MODIFIED:
        if result.etag:
            values["etag"] = result.etag
        if result.last_modified:
            values["last_modified"] = result.last_modified
    if result.weekly_entries is not None:
        values["weekly_entries"] = result.weekly_entries
    if result.fetch_url:
        values["fetch_url"] = result.fetch_url
    if result.disabled_reason:
        values["disabled_reason"] = result.disabled_reason
    if result.entry_keys is not None:
        values["entry_keys"] = list(result.entry_keys)
    return values


def _feed_state(row: Row[Any]) -> FeedState:
    values = dict(row._mapping)
    status = values["last_status"]
    values["last_status"] = FeedStatus(status) if status is not None else None
    return FeedState(**values)


def _active() -> ColumnElement[bool]:
    return feeds.c.origin.in_(ACTIVE_ORIGINS)


def _due(now: datetime) -> ColumnElement[bool]:
    return (
        _active()
        & feeds.c.disabled_reason.is_(None)
        & or_(feeds.c.next_check_at.is_(None), feeds.c.next_check_at <= now)
        & or_(feeds.c.lease_until.is_(None), feeds.c.lease_until <= now)
    )
