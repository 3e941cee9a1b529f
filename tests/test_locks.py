"""Named leases on real SQLite and PostgreSQL: one holder at a time, expiry frees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.store import Store

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def test_one_holder_at_a_time(store: Store) -> None:
    assert store.acquire_lock("publish", holder="a", ttl=TTL, now=NOW)
    assert not store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW)
    assert store.acquire_lock("seeds", holder="b", ttl=TTL, now=NOW), "names are independent"
    assert store.acquire_lock("publish", holder="a", ttl=TTL, now=NOW), "the holder renews"
    store.release_lock("publish", holder="b")  # not b's: no effect
    assert not store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW)
    store.release_lock("publish", holder="a")
    assert store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW)


def test_an_expired_lease_is_taken_over(store: Store) -> None:
    assert store.acquire_lock("publish", holder="dead", ttl=TTL, now=NOW)
    assert not store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW + TTL / 2)
    assert store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW + TTL)


def test_the_context_manager_releases(store: Store) -> None:
    with store.lock("publish", holder="a", ttl=TTL, now=NOW) as held:
        assert held
        with store.lock("publish", holder="b", ttl=TTL, now=NOW) as other:
            assert not other
    assert store.acquire_lock("publish", holder="b", ttl=TTL, now=NOW)
