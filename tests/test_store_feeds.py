"""Feed subscriptions and fetch state in the store, on SQLite and PostgreSQL alike.

``worker feeds …`` (tests/test_feeds_cli.py) drives the same queries through the
command line on the embedded SQLite; these run them on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config

from worker.records import FeedUpdate
from worker.store import Store, connect
from worker.store.db import MIGRATIONS_INI, migrate

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONFIGURED = "https://cfg.example/feed.xml"
ADDED = "https://added.example/rss"


def test_config_and_command_feeds_are_both_active_and_only_one_is_removable(
    store: Store,
) -> None:
    store.sync_feeds([(CONFIGURED, "Cfg", "news", 600.0)])
    store.sync_feeds([(CONFIGURED, "Renamed", "news", None)])  # synced again: updated in place
    assert store.add_feed(ADDED, name="Added", category="press")
    assert not store.add_feed(ADDED)  # already subscribed
    assert not store.add_feed(CONFIGURED)

    rows = {f.url: f for f in store.feeds(active_only=True)}
    assert set(rows) == {CONFIGURED, ADDED}
    assert (rows[CONFIGURED].name, rows[CONFIGURED].every, rows[CONFIGURED].origin) == (
        "Renamed",
        None,
        "config",
    )
    assert rows[ADDED].origin == "command" and rows[ADDED].category == "press"
    assert store.remove_feed(CONFIGURED) == "config"  # it is in the file: edit the file

    # A config feed no longer in the config is no longer active, nor claimed; it is kept.
    store.sync_feeds([])
    assert [f.url for f in store.feeds(active_only=True)] == [ADDED]
    assert [f.url for f in store.claim_due_feeds(now=NOW, lease=60)] == [ADDED]
    assert {f.url: f.origin for f in store.feeds()}[CONFIGURED] == "unlisted"
    # Listed again, it is active again; a command feed listed in the file stays a command feed.
    store.sync_feeds([(CONFIGURED, "", "", None), (ADDED, "", "", None)])
    assert {f.url: f.origin for f in store.feeds()} == {CONFIGURED: "config", ADDED: "command"}
    store.sync_feeds([])
    assert store.remove_feed(CONFIGURED) == "removed"  # a left-over row can go
    assert store.remove_feed(ADDED) == "removed"
    assert store.remove_feed(ADDED) == "missing"


def test_a_recorded_check_releases_the_claim_and_schedules_the_next(store: Store) -> None:
    store.sync_feeds([(CONFIGURED, "", "", None)])
    (claimed,) = store.claim_due_feeds(now=NOW, lease=60)
    assert claimed.lease_until == NOW + timedelta(seconds=60)

    later = NOW + timedelta(seconds=10)
    store.record_feed_result(
        CONFIGURED,
        FeedUpdate("ok", later, later + timedelta(hours=1), http_status=200, etag='"v1"',
                   items_seen=3, items_new=2, title="Cfg feed"),
    )  # fmt: skip
    (state,) = store.feeds()
    assert state.lease_until is None and state.etag == '"v1"' and state.title == "Cfg feed"
    assert (state.items_seen, state.items_new, state.error_count) == (3, 2, 0)
    assert store.claim_due_feeds(now=later, lease=60) == []
    assert store.due_feeds(now=later + timedelta(hours=1)) != []

    store.record_feed_result(
        CONFIGURED,
        FeedUpdate("error", later, later + timedelta(minutes=1), http_status=410,
                   error="fetch: HTTP 410 Gone", disabled_reason="gone"),
    )  # fmt: skip
    (state,) = store.feeds()
    assert (state.error_count, state.disabled_reason, state.etag) == (1, "gone", '"v1"')
    assert store.claim_due_feeds(now=later + timedelta(days=1), lease=60) == []
    assert store.enable_feed(CONFIGURED)
    assert [f.url for f in store.claim_due_feeds(now=later, lease=60)] == [CONFIGURED]


def test_a_batch_of_results_counts_each_feed_on_its_own(store: Store) -> None:
    urls = [f"https://b.example/{n}" for n in range(4)]
    store.sync_feeds([(u, "", "", None) for u in urls])
    at = NOW + timedelta(hours=1)

    def ok(seen: int) -> FeedUpdate:
        return FeedUpdate("ok", NOW, at, http_status=200, items_seen=seen, items_new=seen)

    def error() -> FeedUpdate:
        return FeedUpdate("error", NOW, at, http_status=500, error="fetch: HTTP 500")

    not_modified = FeedUpdate("not_modified", NOW, at, http_status=304, etag='"e"')
    store.record_feed_results([(urls[0], ok(3)), (urls[1], ok(5)), (urls[2], error()),
                               (urls[3], not_modified)])  # fmt: skip
    store.record_feed_results([(urls[0], ok(2)), (urls[1], error()), (urls[2], error()),
                               (urls[3], not_modified)])  # fmt: skip
    state = {f.url: f for f in store.feeds()}
    assert (state[urls[0]].items_seen, state[urls[0]].error_count) == (5, 0)
    assert (state[urls[1]].items_seen, state[urls[1]].error_count) == (5, 1)
    assert (state[urls[2]].items_seen, state[urls[2]].error_count) == (0, 2)
    assert state[urls[3]].etag == '"e"' and state[urls[3]].last_status == "not_modified"
    assert all(f.lease_until is None and f.next_check_at == at for f in state.values())


def test_feeds_due_together_are_claimed_with_their_hosts_mixed(store: Store) -> None:
    # 8 hosts x 10 feeds, all due now: in URL order a batch of 16 would be 2 hosts' feeds,
    # and the per-host limit would leave most fetch slots idle.
    urls = [f"https://h{h}.example/feed/{n:02d}" for h in range(8) for n in range(10)]
    store.sync_feeds([(u, "", "", None) for u in urls])
    batch = store.claim_due_feeds(now=NOW, lease=60, limit=16)
    assert len(batch) == 16
    assert len({f.url.split("/")[2] for f in batch}) >= 4


def test_the_spread_migration_gives_existing_feeds_distinct_numbers(db_url: str) -> None:
    engine = connect(db_url)
    config = Config(str(MIGRATIONS_INI))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002_feed_fetch_state")  # a database from before the column
        for n in range(20):
            conn.exec_driver_sql(
                "INSERT INTO feeds (url, name, category, error_count, items_seen)"
                f" VALUES ('https://x.example/{n}', '', '', 0, 0)"
            )
    migrate(engine)
    with engine.connect() as conn:
        spreads = [row[0] for row in conn.exec_driver_sql("SELECT spread FROM feeds")]
    engine.dispose()
    assert len(spreads) == 20 and len(set(spreads)) > 15
