"""Scale-out: several worker processes on one PostgreSQL share the work, with nothing
done twice and nothing lost.

A farm of 300 feeds on a local HTTP server counts every GET per feed; a local
webhook receiver verifies and counts every delivery by its ``webhook-id``. Three
worker processes run against one database: in the happy path each feed is fetched
exactly once per due period, each item stored once, each webhook delivered once;
when one process is killed with SIGKILL mid-cycle, its leased feeds and deliveries
are taken over by the others once the leases expire, and nothing is lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import inspect

from tests.conftest import SEED_FILE, free_port, make_settings, run_worker, worker_env
from tests.webhook_receiver import TEST_SECRET, Receiver
from worker.jobs import Worker
from worker.store import Store, connect, migrate

pytestmark = pytest.mark.slow

#: Feeds in the farm, and items in each at first (a new one appears in period 2).
FEEDS, ITEMS = 300, 1
PROCESSES = 3
#: Seconds between checks of each feed in the happy path: longer than the processes
#: take to start and claim, even on a busy 2-core machine, so no feed is due twice
#: within one period.
PERIOD = 15.0
#: Connections the farm queues: three processes open dozens at once.
LISTEN_BACKLOG = 256
CITIES = (
    "Suzhou", "Shanghai", "Beijing", "Shenzhen", "Hangzhou",
    "Wuhan", "Chengdu", "Tianjin", "Nanjing", "Qingdao",
)  # fmt: skip
TOPICS = (
    "digital twins and MES",
    "industrial internet platforms",
    "predictive maintenance with machine vision",
    "smart factory planning",
    "industrial robots and PLC programming",
    "digital transformation of plants",
)


def feed_path(n: int) -> str:
    return f"/feed/{n}.xml"


def feed_body(n: int, items: int) -> bytes:
    """Feed ``n`` with ``items`` entries. Every entry is a relevant training event with
    its own dates, so dedup keeps them apart (different dates never merge) and each one
    is announced."""
    parts = []
    for i in range(items):
        k = n * 3 + i  # unique per entry while items <= 3
        start = date(2025, 1, 1) + timedelta(days=k)
        end = start + timedelta(days=1)
        city, topic = CITIES[k % len(CITIES)], TOPICS[k % len(TOPICS)]
        title = f"Smart manufacturing training course on {topic}, session {k + 1}, in {city}"
        text = (
            f"From {start:%B} {start.day} to {end.day}, {start.year}, a smart manufacturing "
            f"training course on {topic} was held in {city}, organized by the {city} Industrial "
            f"Park Administrative Committee. Engineers from {20 + k % 50} factories attended "
            f"the training (course {n}-{i})."
        )
        parts.append(
            f"<item><guid>urn:farm:{n}:{i}</guid><link>http://farm.test/{n}/{i}</link>"
            f"<title>{title}</title>"
            f"<pubDate>{formatdate(1735689600 + k * 60, usegmt=True)}</pubDate>"
            f"<description>{text}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Farm {n}</title><link>http://farm.test/{n}/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


class Farm:
    """The feeds on a real local HTTP server: ETag / If-None-Match -> 304, GETs counted."""

    def __init__(self, feeds: int, items: int) -> None:
        self.items = {feed_path(n): items for n in range(feeds)}
        self.bodies: dict[str, bytes] = {}
        #: Seconds each response waits before it is sent (a slow farm keeps a cycle busy).
        self.delay = 0.0
        self.lock = threading.Lock()
        self.gets: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                with farm.lock:
                    count = farm.items.get(path)
                    farm.gets[path] += 1
                if farm.delay:
                    time.sleep(farm.delay)  # the server's own slowness
                if count is None:
                    self._send(404, b"not found", {})
                    return
                etag = f'"{path}-{count}"'
                if self.headers.get("If-None-Match") == etag:
                    with farm.lock:
                        farm.not_modified[path] += 1
                    self._send(304, b"", {"ETag": etag})
                    return
                body = feed_body(int(path.rsplit("/", 1)[1].split(".")[0]), count)
                self._send(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the fetching process was killed

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket.listen(LISTEN_BACKLOG)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{feed_path(n)}"

    def take_counts(self) -> tuple[Counter[str], Counter[str]]:
        """The GETs and 304s so far, and start counting afresh (one due period)."""
        with self.lock:
            counts = (self.gets, self.not_modified)
            self.gets, self.not_modified = Counter(), Counter()
        return counts

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def farm() -> Iterator[Farm]:
    server = Farm(FEEDS, ITEMS)
    yield server
    server.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def write_config(root: Path, farm: Farm, hook_url: str, **tables: str) -> None:
    """``config/worker.toml`` with the farm's feeds and one webhook subscriber."""
    feeds = "".join(
        f'\n[[feeds]]\nurl = "{farm.url(n)}"\nevery = {tables.get("every", PERIOD)}\n'
        for n in range(FEEDS)
    )
    (root / "config").mkdir(exist_ok=True)
    (root / "seeds").mkdir(exist_ok=True)
    (root / "config" / "worker.toml").write_text(
        f"""
[server]
host = "127.0.0.1"

[schedule]
{tables.get("schedule", "")}

[fetch]
# Checks every PERIOD seconds exactly: the schedule is what this test counts in.
adaptive = false
min_interval = 1
parse_workers = 1
{tables.get("fetch", "")}

[[webhooks]]
name = "hook"
url = "{hook_url}"
secret = "env:HOOK_SECRET"

[delivery]
allow_private_targets = true
{tables.get("delivery", "")}
{feeds}
"""
    )


def env(db_url: str, **extra: str) -> dict[str, str]:
    return worker_env(HOOK_SECRET=TEST_SECRET, WORKER_DATABASE_URL=db_url, **extra)


@dataclass
class Process:
    popen: subprocess.Popen[str]
    log: Path

    def records(self) -> list[dict[str, object]]:
        """The JSON log lines written so far."""
        out = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def feed_lines(self) -> int:
        return sum(1 for r in self.records() if str(r.get("source", "")).startswith("http"))


def start(root: Path, command: str, index: int, environ: dict[str, str]) -> Process:
    log = root / f"worker-{command}-{index}.log"
    handle: IO[str]
    with log.open("a") as handle:
        popen = subprocess.Popen(
            [sys.executable, "-m", "worker", "--log-format", "json", command],
            cwd=root,
            env={**environ, "WORKER_SERVER__PORT": str(free_port())},
            stdout=handle,
            stderr=handle,
            text=True,
            # Its own process group: a kill takes its parse processes too, as a crashed
            # container's would go, and none is left running after the test.
            start_new_session=True,
        )
    return Process(popen, log)


def stop(processes: list[Process]) -> None:
    for p in processes:
        if p.popen.poll() is None:
            p.popen.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.popen.wait(15)
        except subprocess.TimeoutExpired:
            p.popen.kill()
            p.popen.wait(5)


def run_once_together(root: Path, environ: dict[str, str]) -> list[Process]:
    """Three ``worker once`` at the same time; each must exit 0."""
    processes = [start(root, "once", i, environ) for i in range(PROCESSES)]
    try:
        for p in processes:
            p.popen.wait(60)
    finally:
        stop(processes)
    for p in processes:
        assert p.popen.returncode == 0, p.log.read_text()[-3000:]
    return processes


def wait_for(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    logs: list[Process],
    progress: list[str] | None = None,
) -> None:
    """Wait for subprocesses to get somewhere (they run on their own clocks)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.log.name}\n{p.log.read_text()[-1500:]}" for p in logs)
            state = "; ".join(progress or [])
            raise AssertionError(f"timed out waiting for {what} ({state})\n{tails}")
        time.sleep(0.1)


def received_by_id(receiver: Receiver) -> dict[str, list[bytes]]:
    with receiver.lock:
        got = list(receiver.received)
    assert all(r.payload is not None for r in got), "a delivery failed verification"
    by_id: dict[str, list[bytes]] = defaultdict(list)
    for r in got:
        by_id[r.webhook_id].append(r.body)
    return by_id


def test_three_processes_share_two_due_periods_exactly_once(
    tmp_path: Path, postgres_url: str, farm: Farm, receiver: Receiver
) -> None:
    write_config(tmp_path, farm, receiver.url)
    # Migrated once by the deploy step; the replicas are told not to.
    migrated = run_worker("migrate", cwd=tmp_path, env=env(postgres_url))
    assert migrated.returncode == 0, migrated.stderr
    environ = env(postgres_url, WORKER_MIGRATE_ON_START="false")
    store = Store(connect(postgres_url))
    try:
        # Period 1: every feed is new; 300 feeds x 2 items.
        processes = run_once_together(tmp_path, environ)
        gets, not_modified = farm.take_counts()
        assert gets == Counter({feed_path(n): 1 for n in range(FEEDS)})
        assert sum(p.feed_lines() for p in processes) == FEEDS
        assert store.count_items() == FEEDS * ITEMS
        assert len(store.items(relevant_only=True)) == FEEDS * ITEMS  # none merged, all relevant
        first = received_by_id(receiver)
        assert len(first) == FEEDS * ITEMS
        assert all(len(bodies) == 1 for bodies in first.values())
        rows = store.deliveries()
        assert {r.id for r in rows} == set(first) and {r.status for r in rows} == {"delivered"}

        # Wait for the period to pass (the feeds' own schedule, stored in the database).
        states = store.feeds()
        due = max(s.next_check_at for s in states if s.next_check_at is not None)
        assert all(s.lease_until is None and s.last_status == "ok" for s in states)
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.2)

        # Period 2: even feeds publish a third item; odd ones answer 304.
        with farm.lock:
            for n in range(0, FEEDS, 2):
                farm.items[feed_path(n)] = ITEMS + 1
        processes = run_once_together(tmp_path, environ)
        gets, not_modified = farm.take_counts()
        assert gets == Counter({feed_path(n): 1 for n in range(FEEDS)})
        assert not_modified == Counter({feed_path(n): 1 for n in range(1, FEEDS, 2)})
        expected = FEEDS * ITEMS + FEEDS // 2
        assert store.count_items() == expected
        assert len(store.items(relevant_only=True)) == expected
        both = received_by_id(receiver)
        assert len(both) == expected and all(len(bodies) == 1 for bodies in both.values())
        new = [json.loads(bodies[0]) for i, bodies in both.items() if i not in first]
        assert {body["type"] for body in new} == {"item.created"}
        assert {r.status for r in store.deliveries()} == {"delivered"}
    finally:
        store.engine.dispose()
    assert (tmp_path / "feeds" / "atom.xml").exists()


def test_a_process_killed_mid_cycle_loses_nothing(
    tmp_path: Path, postgres_url: str, farm: Farm, receiver: Receiver
) -> None:
    """Three ``worker run``; one is killed with SIGKILL while it holds claimed feeds.
    Once its leases expire the others fetch those feeds, store their items once and
    deliver every webhook at least once, always under the same id."""
    farm.delay = 0.1  # with 10 fetches at a time, a cycle over 300 feeds takes seconds
    lease = 4.0
    write_config(
        tmp_path,
        farm,
        receiver.url,
        every="3600",
        schedule="feeds_every = 0.5\nseeds_every = 3600\npublish_every = 3600",
        # A fetch or a post that fails on a busy machine is retried within the test's time.
        fetch=f"concurrency = 10\nlease = {lease}\nbackoff_base = 0.5\nbackoff_cap = 1",
        delivery="every = 0.3\nlease = 2\nretry_schedule = [" + ", ".join(["0.5"] * 30) + "]",
    )
    store = Store(connect(postgres_url))
    # Started together: they migrate one after another (an advisory lock), then run.
    processes = [start(tmp_path, "run", i, env(postgres_url)) for i in range(PROCESSES)]
    try:
        total = FEEDS * ITEMS

        def mid_cycle() -> bool:
            try:
                stored = store.count_items()
            except Exception:  # the schema is not there yet
                return False
            return total // 10 <= stored < total // 2

        wait_for(mid_cycle, 40, "the first items to be stored", processes)
        victim = max(processes, key=Process.feed_lines)
        os.killpg(victim.popen.pid, signal.SIGKILL)
        victim.popen.wait(5)
        # Claimed and not yet recorded (a recorded check clears the lease), expired or not.
        held = {s.url for s in store.feeds() if s.lease_until is not None}
        assert held, "no claimed feed was left unfinished"
        survivors = [p for p in processes if p is not victim]
        farm.delay = 0.0

        progress: list[str] = []

        def all_done() -> bool:
            feeds = Counter(str(s.last_status) for s in store.feeds())
            items = store.count_items()
            deliveries = Counter(f"{r.event}:{r.status}" for r in store.deliveries())
            progress[:] = [f"feeds {dict(feeds)}, items {items}, deliveries {dict(deliveries)}"]
            return (
                feeds == {"ok": FEEDS}
                and items == total
                and deliveries == {"item.created:delivered": total}
            )

        what = "the survivors to finish the killed process's work"
        wait_for(all_done, 45, what, survivors, progress)
    finally:
        stop(processes)
    try:
        gets, _ = farm.take_counts()
        assert set(gets) == {feed_path(n) for n in range(FEEDS)}  # every feed at least once
        states = {s.url: s for s in store.feeds()}
        assert all(states[url].last_status == "ok" for url in held)
        assert store.count_items() == total
        assert len(store.items(relevant_only=True)) == total
        rows = store.deliveries()
        assert len(rows) == total and {r.status for r in rows} == {"delivered"}
        assert {r.event for r in rows} == {"item.created"}
        got = received_by_id(receiver)
        assert set(got) == {r.id for r in rows}  # each delivered at least once, none extra
        # A retry after the kill carries the same id and the same signed body.
        assert all(len(set(bodies)) == 1 for bodies in got.values())
    finally:
        store.engine.dispose()


# -- the claims themselves, on both backends ------------------------------------------


def test_concurrent_claims_are_disjoint_and_an_expired_lease_comes_back(store: Store) -> None:
    urls = [f"http://feeds.test/{n}.xml" for n in range(200)]
    store.sync_feeds((u, "", "", None) for u in urls)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    claimed: list[list[str]] = []

    def claim() -> None:
        got = []
        while batch := store.claim_due_feeds(now=now, lease=60, limit=7):
            got += [f.url for f in batch]
        claimed.append(got)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    every = [u for got in claimed for u in got]
    assert sorted(every) == sorted(urls)  # each claimed once, none missed
    assert store.claim_due_feeds(now=now + timedelta(seconds=59), lease=60) == []
    again = store.claim_due_feeds(now=now + timedelta(seconds=61), lease=60)
    assert sorted(f.url for f in again) == sorted(urls)


def test_migrate_on_start_off_leaves_the_schema_to_worker_migrate(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path, db_url, migrate_on_start=False)
    with Worker(settings) as worker:
        assert "items" not in inspect(worker.store.engine).get_table_names()
    engine = connect(db_url)
    migrate(engine)
    engine.dispose()
    with Worker(settings) as worker:
        assert worker.cycle().errors == 0
        assert worker.store.count_items() == 0


def test_seed_scan_and_publishing_wait_for_their_named_lease(tmp_path: Path, db_url: str) -> None:
    """Another replica holds the "seeds" and "publish" leases: this one neither scans the
    seed folder nor writes the feeds; once they are released it does both."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    other = "another-replica"
    with Worker(make_settings(tmp_path, db_url)) as worker:
        for name in ("seeds", "publish"):
            assert worker.store.acquire_lock(
                name, holder=other, ttl=timedelta(hours=1), now=worker.clock()
            )
        report = worker.cycle()
        assert report.sources == () and report.published == ()
        assert worker.store.count_items() == 0
        assert not (tmp_path / "feeds" / "atom.xml").exists()

        for name in ("seeds", "publish"):
            worker.store.release_lock(name, holder=other)
        report = worker.cycle()
        assert [s.status for s in report.sources] == ["ok"]
        assert "atom.xml" in report.published
        assert worker.store.count_items() == 1
