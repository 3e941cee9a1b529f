"""Outbox queries: webhook deliveries written with their item, claimed with a lease.

The delivery loop (``worker.notify.deliver``) decides what to send and what an
answer means; these queries only write what it decided. Every claim is one
atomic ``UPDATE … RETURNING`` (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
so several workers sharing one database never post the same row at the same
time, and a killed worker's claims come back when their lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from worker.model import Item, item_from_dict
from worker.records import (
    CLAIMABLE,
    AttemptRecord,
    ClaimedDelivery,
    DeliveryRow,
    NewDelivery,
    SubscriberStats,
)
from worker.store.base import StoreBase
from worker.store.tables import clusters, items
from worker.store.tables import webhook_deliveries as deliveries
from worker.store.tables import webhook_subscribers as subscribers


class OutboxQueries(StoreBase):
    # -- subscribers ------------------------------------------------------------

    def sync_subscribers(self, configured: Iterable[tuple[str, str]]) -> None:
        """Make the subscribers table hold the configured ``(id, url)`` pairs.

        A subscriber whose URL changed is enabled again: the operator pointed it elsewhere.
        """
        with self.engine.begin() as conn:
            for ident, url in configured:
                conn.execute(
                    update(subscribers)
                    .where(subscribers.c.id == ident, subscribers.c.url != url)
                    .values(url=url, disabled_reason=None, disabled_at=None)
                )
                conn.execute(
                    self._insert(subscribers)
                    .values(id=ident, url=url)
                    .on_conflict_do_nothing(index_elements=["id"])
                )

    def disabled_subscribers(self) -> dict[str, str]:
        """Subscribers that must not be posted to, with the reason."""
        query = select(subscribers.c.id, subscribers.c.disabled_reason).where(
            subscribers.c.disabled_reason.is_not(None)
        )
        with self.engine.connect() as conn:
            return {r.id: r.disabled_reason for r in conn.execute(query)}

    def disable_subscriber(self, ident: str, *, reason: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(subscribers)
                .where(subscribers.c.id == ident)
                .values(disabled_reason=reason, disabled_at=now)
            )

    # -- the outbox ---------------------------------------------------------------

    def add_deliveries(self, new: Sequence[NewDelivery]) -> None:
        """Write deliveries: inside this thread's ``transaction()`` when it holds one (with
        their item, so both are committed or neither), else in a transaction of their own.

        A delivery's id names the change it announces, so an id already in the outbox
        means the entry went back to what it said once before (A, B, A, B): that is a
        new change all the same, written as ``<id>_2``, ``<id>_3``… in the order they
        happen, which a rebuilt database reproduces.
        """
        pending = list(new)
        repeat = 1
        statement = (
            self._insert(deliveries)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(deliveries.c.id)
        )
        with self._begin() as conn:
            while pending:
                rows = [
                    {
                        "id": d.id if repeat == 1 else f"{d.id}_{repeat}",
                        "subscriber": d.subscriber,
                        "item_id": d.item_id,
                        "event": d.event,
                        "body": d.body,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": d.created_at,
                        "created_at": d.created_at,
                    }
                    for d in pending
                ]
                written = set(conn.execute(statement, rows).scalars())
                pending = [d for d, row in zip(pending, rows, strict=True)
                           if row["id"] not in written]  # fmt: skip
                repeat += 1

    def published_entry(self, cluster_id: str) -> tuple[Item, tuple[str, ...]] | None:
        """The published entry ``cluster_id`` as this thread's ``transaction()`` sees it: the
        item it shows (its primary) and the links of its other sources. None if there is
        no such entry."""
        with self._connect() as conn:
            row = conn.execute(
                select(items.c.data, items.c.link)
                .join(clusters, clusters.c.primary_item == items.c.id)
                .where(clusters.c.id == cluster_id)
            ).first()
            if row is None:
                return None
            links = conn.execute(
                select(items.c.link)
                .where(items.c.cluster_id == cluster_id, items.c.link.is_not(None))
                .order_by(items.c.first_seen, items.c.id)
            ).scalars()
            related = tuple(dict.fromkeys(link for link in links if link != row.link))
        return item_from_dict(row.data), related

    def claim_deliveries(
        self,
        subscriber: str,
        *,
        now: datetime,
        lease: timedelta,
        token: str,
        limit: int,
    ) -> list[ClaimedDelivery]:
        """Claim up to ``limit`` of one subscriber's due deliveries, oldest due first.

        One statement, which reads the due rows in the order of the partial index
        ``ix_webhook_deliveries_claimable`` (migration 0009) and stops after ``limit``:
        a claim costs the same with 100 or 100,000 rows due. One subscriber at a time, so
        a large backlog of one (a backfill) never holds back the others' new deliveries.
        On PostgreSQL the rows are picked in a materialized CTE with ``FOR UPDATE SKIP
        LOCKED`` and the update joins it: as ``id IN (subquery)``, the planner was free
        to run the ``LIMIT`` subquery once per row of a semi-join, and on fresh tables
        (no statistics) it claimed every due row instead of ``limit``. SQLite runs the
        subquery once, under its single writer lock.
        """
        if limit <= 0:
            return []
        lease_until = now + lease
        statement = self.claim_statement(
            subscriber, now=now, lease_until=lease_until, token=token, limit=limit
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        claimed = [
            ClaimedDelivery(
                id=r.id,
                subscriber=r.subscriber,
                item_id=r.item_id,
                event=r.event,
                body=r.body,
                attempts=r.attempts,
                lease_token=token,
                lease_until=lease_until,
            )
            for r in rows
        ]
        # RETURNING gives no order; post the oldest first all the same.
        return sorted(claimed, key=lambda c: c.id)

    def claim_statement(
        self, subscriber: str, *, now: datetime, lease_until: datetime, token: str, limit: int
    ) -> Any:
        """The ``UPDATE … RETURNING`` of ``claim_deliveries`` (also for tests to EXPLAIN)."""
        due = and_(
            deliveries.c.subscriber == subscriber,
            # Literal values: a partial index is used only for the very predicate it was
            # built with, and a bound parameter (or a generic plan) hides it.
            deliveries.c.status.in_(
                bindparam("claimable", CLAIMABLE, expanding=True, literal_execute=True)
            ),
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now),
        )
        candidates = (
            select(deliveries.c.id)
            .where(due)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        claim = update(deliveries).values(
            lease_until=lease_until,
            lease_token=token,
            attempts=deliveries.c.attempts + 1,
            last_attempt_at=now,
        )
        if self.engine.dialect.name == "postgresql":
            picked = (
                candidates.with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            claim = claim.where(deliveries.c.id == picked.c.id)
        else:
            claim = claim.where(deliveries.c.id.in_(candidates))
        return claim.returning(
            deliveries.c.id,
            deliveries.c.subscriber,
            deliveries.c.item_id,
            deliveries.c.event,
            deliveries.c.body,
            deliveries.c.attempts,
        )

    def record_attempts(self, records: Sequence[AttemptRecord]) -> int:
        """Write the outcome of attempts in one transaction; returns the rows written.

        A row is written only while this worker still holds its lease (same token):
        if the lease ran out and another worker claimed the row, that worker's outcome wins.
        """
        if not records:
            return 0
        statement = (
            update(deliveries)
            .where(
                deliveries.c.id == bindparam("b_id"),
                deliveries.c.lease_token == bindparam("b_token"),
            )
            .values(
                status=bindparam("b_status"),
                next_attempt_at=bindparam("b_next"),
                delivered_at=bindparam("b_delivered"),
                last_status_code=bindparam("b_code"),
                last_error=bindparam("b_error"),
                lease_until=None,
                lease_token=None,
            )
        )
        params = [
            {
                "b_id": r.id,
                "b_token": r.lease_token,
                "b_status": r.status,
                "b_next": r.next_attempt_at or r.attempted_at,
                "b_delivered": r.attempted_at if r.status == "delivered" else None,
                "b_code": r.status_code,
                "b_error": r.error,
            }
            for r in records
        ]
        last_success: dict[str, datetime] = {}
        last_error: dict[str, tuple[datetime, str]] = {}
        for r in records:
            if r.status == "delivered":
                last_success[r.subscriber] = max(
                    r.attempted_at, last_success.get(r.subscriber, r.attempted_at)
                )
            elif r.error:
                last_error[r.subscriber] = (r.attempted_at, r.error)
        with self.engine.begin() as conn:
            written = conn.execute(statement, params).rowcount
            for ident, at in last_success.items():
                conn.execute(
                    update(subscribers).where(subscribers.c.id == ident).values(last_success_at=at)
                )
            for ident, (at, error) in last_error.items():
                conn.execute(
                    update(subscribers)
                    .where(subscribers.c.id == ident)
                    .values(last_error=error, last_error_at=at)
                )
        return int(written)

    # -- reading and replaying -------------------------------------------------------

    def delivery_stats(self) -> list[SubscriberStats]:
        counts = select(
            deliveries.c.subscriber,
            deliveries.c.status,
            func.count().label("n"),
        ).group_by(deliveries.c.subscriber, deliveries.c.status)
        with self.engine.connect() as conn:
            by_subscriber: dict[str, dict[str, int]] = {}
            for r in conn.execute(counts):
                by_subscriber.setdefault(r.subscriber, {})[r.status] = int(r.n)
            rows = conn.execute(select(subscribers).order_by(subscribers.c.id)).all()
        stats = []
        for r in rows:
            n = by_subscriber.get(r.id, {})
            stats.append(
                SubscriberStats(
                    id=r.id,
                    url=r.url,
                    delivered=n.get("delivered", 0),
                    pending=n.get("pending", 0) + n.get("failed", 0),
                    failed=n.get("failed", 0),
                    dead=n.get("dead", 0),
                    last_error=r.last_error,
                    last_error_at=r.last_error_at,
                    last_success_at=r.last_success_at,
                    disabled_reason=r.disabled_reason,
                )
            )
        return stats

    def deliveries(
        self, *, subscriber: str | None = None, item_id: str | None = None
    ) -> list[DeliveryRow]:
        query = select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
        if subscriber is not None:
            query = query.where(deliveries.c.subscriber == subscriber)
        if item_id is not None:
            query = query.where(deliveries.c.item_id == item_id)
        with self.engine.connect() as conn:
            return [DeliveryRow(**r._mapping) for r in conn.execute(query)]

    def replay_deliveries(
        self,
        *,
        now: datetime,
        ids: Sequence[str] = (),
        subscriber: str | None = None,
        since: datetime | None = None,
    ) -> int:
        """Make deliveries due again, with a fresh retry schedule; returns how many.

        Filters combine (all must hold). Rows a worker holds right now are left alone.
        Replaying by subscriber also enables that subscriber again (e.g. after a 410).
        The ``webhook-id`` stays the same, so a receiver that already has it can tell.
        """
        if not ids and subscriber is None and since is None:
            raise ValueError("replay needs an id, a subscriber or a time")
        where = [or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now)]
        if ids:
            where.append(deliveries.c.id.in_(list(ids)))
        if subscriber is not None:
            where.append(deliveries.c.subscriber == subscriber)
        if since is not None:
            where.append(deliveries.c.created_at >= since)
        with self.engine.begin() as conn:
            replayed = conn.execute(
                update(deliveries)
                .where(*where)
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    lease_until=None,
                    lease_token=None,
                )
            ).rowcount
            if subscriber is not None:
                conn.execute(
                    update(subscribers)
                    .where(subscribers.c.id == subscriber)
                    .values(disabled_reason=None, disabled_at=None)
                )
        return int(replayed)
