"""Attack: the PostgreSQL webhook claim ignored its limit.

With 12,000 due deliveries in fresh tables (no statistics yet), ``claim_deliveries``
with ``limit=100`` leased all 12,000 in 7.8 s: the ``LIMIT … FOR UPDATE SKIP LOCKED``
subquery inside a semi-join ran once per row. A run then held far more than it could
post within its lease, the lease ran out under it, and deliveries were posted twice.
The claim now reads a partial index in order and stops after its limit, on any plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_settings
from tests.webhook_receiver import TEST_SECRET, Receiver
from worker.notify import Notifier
from worker.records import NewDelivery
from worker.store import Store, connect, migrate
from worker.store.tables import webhook_deliveries

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    engine = connect(postgres_url)
    migrate(engine)
    yield Store(engine)
    engine.dispose()


def notifier(tmp_path: Path, store: Store, hooks: list[dict[str, str]], **delivery: object):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, "sqlite://", webhooks=hooks,
        delivery={"allow_private_targets": True, **delivery},
    )  # fmt: skip
    return Notifier(
        settings, store, clock=lambda: datetime.now(UTC), environ={"HOOK_SECRET": TEST_SECRET}
    )


def fill(store: Store, count: int, subscriber: str = "crm", *, start: int = 0) -> None:
    store.sync_subscribers([(subscriber, f"http://127.0.0.1/{subscriber}")])
    rows = [
        NewDelivery(f"msg_{subscriber}_{n:06d}", subscriber, f"item{n}", "item.created", "{}",
                    NOW - timedelta(seconds=count - n))
        for n in range(start, start + count)
    ]  # fmt: skip
    for first in range(0, len(rows), 2000):
        store.add_deliveries(rows[first : first + 2000])


@pytest.mark.postgres
def test_a_claim_on_fresh_postgres_tables_takes_only_its_limit(pg_store: Store) -> None:
    store = pg_store
    fill(store, 12_000)  # no ANALYZE: the planner knows nothing of these rows
    claimed = store.claim_deliveries(
        "crm", now=NOW, lease=timedelta(seconds=15), token="a", limit=100
    )
    assert len(claimed) == 100
    # The oldest due first, and nothing else leased.
    assert sorted(c.id for c in claimed) == [f"msg_crm_{n:06d}" for n in range(100)]
    with store.engine.connect() as conn:
        leased = conn.scalar(
            select(func.count()).where(webhook_deliveries.c.lease_until.is_not(None))
        )
    assert leased == 100


def explain(store: Store, subscriber: str) -> str:
    statement = store.claim_statement(
        subscriber, now=NOW, lease_until=NOW + timedelta(seconds=60), token="t", limit=50
    )
    sql = str(statement.compile(store.engine, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        return "\n".join(str(row[-1]) for row in conn.execute(text(prefix + sql)))


def test_a_claim_reads_the_claimable_index_in_order(store: Store) -> None:
    """No sort of every due row (``USE TEMP B-TREE FOR ORDER BY``, PostgreSQL's ``Sort``):
    the claim reads the first rows of the index and stops, whatever the backlog."""
    fill(store, 3_000)
    fill(store, 3_000, "other")
    plan = explain(store, "crm")
    assert "ix_webhook_deliveries_claimable" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


@pytest.mark.postgres
def test_one_run_posts_each_delivery_once_within_a_short_lease(
    tmp_path: Path, pg_store: Store, receiver: Receiver
) -> None:
    """End to end: 6,000 due deliveries, a 3-second lease, one uninterrupted run.

    When a claim took the whole backlog, rows waited longer than their lease to be
    posted, the next claim took them again, and receivers got them twice."""
    hooks = [{"name": "crm", "url": receiver.url, "secret": "env:HOOK_SECRET"}]
    fill(pg_store, 6_000)
    report = notifier(tmp_path, pg_store, hooks, lease=3).deliver()
    ids = Counter(r.webhook_id for r in receiver.received)
    assert report.attempted == report.delivered == 6_000
    assert len(ids) == 6_000 and max(ids.values()) == 1


def test_one_subscribers_backlog_does_not_hold_back_another(
    tmp_path: Path, store: Store, receiver: Receiver
) -> None:
    """A backlog of old deliveries for one subscriber (a backfill) is posted beside
    another subscriber's new delivery, not all ahead of it."""
    hooks = [
        {"name": name, "url": f"{receiver.url}/{name}", "secret": "env:HOOK_SECRET"}
        for name in ("backfill", "crm")
    ]
    fill(store, 1_000, "backfill")
    store.sync_subscribers([("crm", f"{receiver.url}/crm")])
    store.add_deliveries([NewDelivery("msg_new", "crm", "item", "item.created", "{}", NOW)])
    assert notifier(tmp_path, store, hooks).deliver().delivered == 1_001
    order = [r.webhook_id for r in receiver.received]
    assert order.index("msg_new") < 100, order.index("msg_new")
