"""The feeds job over a real local HTTP server: what a cycle claims, and what a stop leaves."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from bench.farm import feed_body
from tests.conftest import LocalServer, Response, make_settings
from worker.jobs import Worker

CONCURRENCY = 2
#: Claims are made 4 × concurrency at a time: these feeds take several batches.
FEEDS = 30


def rss(n: int) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<item><guid>item-{n}</guid><title>Item {n}</title>"
        f"<description>Body of feed {n}</description></item></channel></rss>"
    ).encode()


def serve_feeds(server: LocalServer, count: int) -> list[str]:
    def route(n: int):  # type: ignore[no-untyped-def]
        def answer(handler: BaseHTTPRequestHandler) -> Response:
            if handler.headers.get("If-None-Match") == f'"v{n}"':
                return Response(304)
            return Response(200, rss(n), {"ETag": f'"v{n}"'})

        return answer

    for n in range(count):
        server.routes[f"/feed/{n}"] = route(n)
    return [f"{server.url}/feed/{n}" for n in range(count)]


def test_a_feed_due_again_within_its_cycle_is_left_unclaimed_for_the_next(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    """Every feed is due again a second after its check, and the clock moves a second on
    each reading: each cycle still checks every feed once, and leaves no claim behind."""
    urls = serve_feeds(http_server, FEEDS)
    settings = make_settings(
        tmp_path,
        db_url,
        feeds=[{"url": url, "every": 1} for url in urls],
        fetch={"concurrency": CONCURRENCY, "adaptive": False, "min_interval": 1},
    )
    ticks = [datetime(2024, 6, 1, tzinfo=UTC)]

    def clock() -> datetime:
        ticks[0] += timedelta(seconds=1)
        return ticks[0]

    with Worker(settings, clock=clock, jitter=lambda: 0.0) as worker:
        for cycle in range(3):
            before = len(http_server.requests)
            reports = worker.ingest_feeds()
            assert sorted(r.source for r in reports) == sorted(urls), f"cycle {cycle}"
            fetched = Counter(path for _, path, _ in http_server.requests[before:])
            assert set(fetched.values()) == {1} and len(fetched) == FEEDS
            states = worker.store.feeds()
            assert [s.url for s in states if s.lease_until is not None] == []
    assert {r.status for r in reports} == {"not_modified"}


def test_a_stop_drops_the_checks_in_flight_and_gives_their_claims_back(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    """The server holds every request until the test lets go: the job, told to stop,
    returns without waiting for them, records none, and leaves every feed claimable."""
    release = threading.Event()

    def held(_handler: BaseHTTPRequestHandler) -> Response:
        release.wait(30)
        return Response(200, rss(0))

    urls = [f"{http_server.url}/held/{n}" for n in range(6)]
    for n in range(6):
        http_server.routes[f"/held/{n}"] = held
    settings = make_settings(tmp_path, db_url, feeds=[{"url": url} for url in urls])
    stopping = threading.Event()

    def stop_once_all_are_asked() -> None:
        while len(http_server.requests) < len(urls) and not release.is_set():
            time.sleep(0.02)
        stopping.set()

    try:
        with Worker(settings, stopping=stopping) as worker:
            threading.Thread(target=stop_once_all_are_asked, daemon=True).start()
            reports = worker.ingest_feeds()
            assert not release.is_set()  # returned while the server still held every request
            assert reports == []
            states = worker.store.feeds()
            assert [(s.lease_until, s.last_checked_at) for s in states] == [(None, None)] * 6
            now = worker.clock()
            assert len(worker.store.claim_due_feeds(now=now, lease=60)) == len(urls)
    finally:
        release.set()


def test_an_entry_read_again_unchanged_costs_a_hash_and_changes_nothing(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    """Two workers follow one farm over three generations (each feed gains an entry per
    generation and drops its oldest). One runs no stage on the entries it stored before
    (same key and raw hash); the other processes every entry (its raw hashes are cleared
    before each cycle). Their stores and published files are the same, byte for byte."""
    feeds, items = 3, 6
    generation = [0]

    def route(n: int):  # type: ignore[no-untyped-def]
        return lambda _handler: Response(200, feed_body(n, items, generation[0], feeds=feeds))

    for n in range(feeds):
        http_server.routes[f"/farm/{n}"] = route(n)
    listed = [{"url": f"{http_server.url}/farm/{n}"} for n in range(feeds)]
    now = [datetime(2024, 6, 2, tzinfo=UTC)]
    skipping = Worker(make_settings(tmp_path / "a", db_url, feeds=listed), clock=lambda: now[0])
    control_db = f"sqlite:///{tmp_path / 'b' / 'data' / 'worker.db'}"
    control = Worker(make_settings(tmp_path / "b", control_db, feeds=listed), clock=lambda: now[0])
    with skipping, control:
        for gen in range(3):
            generation[0] = gen
            now[0] += timedelta(days=3)  # every feed is due
            control.store.clear_raw_hashes()
            for worker in (skipping, control):
                reports = worker.ingest_feeds()
                created = [(r.created, r.updated) for r in reports]
                assert created == [(1 if gen else items, 0)] * feeds
                worker.publish()
        unchanged = [w.metrics.items_unchanged._value.get() for w in (skipping, control)]
        assert unchanged == [feeds * (items - 1) * 2, 0]
        assert skipping.store.items(relevant_only=False) == control.store.items(relevant_only=False)
    published = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "feeds").rglob("*") if p.is_file()
    )
    assert len(published) > 4
    for path in published:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes(), path
