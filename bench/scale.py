"""Scale-out bench on PostgreSQL: ingest throughput with 1, 2 and 3 worker processes
sharing one database, and the cost of the due-feed claim at 100k feeds.

    .venv/bin/python bench/scale.py                       # both parts
    .venv/bin/python bench/scale.py --part ingest --feeds 300 --items 10 --runs 3
    .venv/bin/python bench/scale.py --part claim --claim-feeds 100000 --limit 100

Ingest: the farm (``bench/farm.py``'s server, in its own process) serves feeds
whose items are all distinct events (their own dates, cities, titles): the stock
farm's near-identical titles send every item down the dedup layers' slow paths,
which measures dedup, not sharing the work. For each process
count, a fresh database is migrated, the processes start, build their worker and
load everything they load before work (imports, dedup index), then all are told
to go at once and each runs one ``Worker.ingest_feeds`` (claim, fetch, parse,
pipeline, store). Throughput is the items stored divided by the wall time from
"go" to the last process done. Each process's share of the feeds is printed too:
the claim decides how the work is spread.

Claim: a fresh database gets ``--claim-feeds`` feed rows whose ``next_check_at``
is spread over two days around now (about half due), then
``Store.claim_due_feeds`` is timed ``--claims`` times with ``--limit``, once with
every feed in the config and once with every feed added by command (the same
query: whether a feed is active is a column).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.farm import Farm, feed_path, feed_url  # noqa: E402

DEFAULT_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: Feed rows inserted per statement when filling the claim bench's database.
INSERT_BATCH = 5000


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database on ``server``, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from worker.store import connect, migrate

    name = f"bench_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = connect(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- ingest throughput ---------------------------------------------------------------

CITIES = ("Suzhou", "Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Wuhan", "Chengdu", "Tianjin")
TOPICS = (
    "digital twins and MES",
    "industrial internet platforms",
    "predictive maintenance with machine vision",
    "smart factory planning",
    "industrial robots and PLC programming",
)


def distinct_feed_body(n: int, items: int) -> bytes:
    """Feed ``n``: ``items`` training events, each with its own dates (never merged)."""
    parts = []
    for i in range(items):
        k = n * items + i
        start = date(2025, 1, 1) + timedelta(days=k)
        end = start + timedelta(days=1)
        city, topic = CITIES[k % len(CITIES)], TOPICS[k % len(TOPICS)]
        title = f"Smart manufacturing training course on {topic}, session {k + 1}, in {city}"
        text = (
            f"From {start:%B} {start.day} to {end.day}, {start.year}, a smart manufacturing "
            f"training course on {topic} was held in {city}, organized by the {city} Industrial "
            f"Park Administrative Committee. Engineers from {20 + k % 50} factories attended."
        )
        parts.append(
            f"<item><guid>urn:farm:{n}:{i}</guid><link>https://farm.example/{n}/{i}</link>"
            f"<title>{title}</title><pubDate>{formatdate(1735689600 + k * 60, usegmt=True)}"
            f"</pubDate><description>{text}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Farm feed {n}</title><link>https://farm.example/{n}/</link>"
        f"<description>Synthetic</description>{''.join(parts)}</channel></rss>"
    ).encode()


def serve_farm(args: argparse.Namespace) -> None:
    """``bench/farm.py``'s server over the distinct bodies."""
    farm = Farm(0, 0, args.latency)
    farm.bodies = {feed_path(n): distinct_feed_body(n, args.items) for n in range(args.feeds)}
    farm.etags = {p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in farm.bodies.items()}

    async def serve() -> None:
        servers = [
            await asyncio.start_server(farm.handle, f"127.0.0.{h}", args.port, backlog=1024)
            for h in range(1, args.hosts + 1)
        ]
        print("ready", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def child(args: argparse.Namespace) -> None:
    """One worker process: get ready, wait for "go" on stdin, run one ingest, report."""
    from worker.config import Settings
    from worker.jobs import Worker

    urls = [feed_url(n, hosts=args.hosts, port=args.port) for n in range(args.feeds)]
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    settings = Settings.model_validate(
        {
            "data_dir": root / "data",
            "seeds_dir": root / "seeds",
            "feeds_dir": root / "feeds",
            "database_url": args.db,
            "migrate_on_start": False,
            "feeds": [{"url": u} for u in urls],
        }
    )
    worker = Worker(settings)
    _ = worker.dedup_index  # loaded before the clock starts, as a running replica has it
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    reports = worker.ingest_feeds()
    seconds = time.perf_counter() - started
    worker.close()
    print(json.dumps({"seconds": seconds, "feeds": len(reports)}), flush=True)


def ingest_run(args: argparse.Namespace, processes: int) -> dict[str, object]:
    from worker.store import Store, connect

    with fresh_database(args.server) as db:
        command = [sys.executable, __file__, "--child", "--db", db]
        command += ["--feeds", str(args.feeds), "--hosts", str(args.hosts)]
        command += ["--port", str(args.port)]
        children = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(processes)
        ]
        for c in children:
            assert c.stdout is not None and c.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for c in children:
            assert c.stdin is not None
            c.stdin.write("go\n")
            c.stdin.flush()
        results = []
        for c in children:
            assert c.stdout is not None
            results.append(json.loads(c.stdout.readline()))
            c.wait(60)
        wall = time.perf_counter() - started
        store = Store(connect(db))
        items = store.count_items()
        checked = sum(f.last_status == "ok" for f in store.feeds())
        store.engine.dispose()
    return {
        "processes": processes,
        "wall_s": wall,
        "items": items,
        "items_per_s": items / wall,
        "feeds_ok": checked,
        "feeds_per_process": sorted((r["feeds"] for r in results), reverse=True),
    }


def bench_ingest(args: argparse.Namespace) -> None:
    farm = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-farm",
            *("--feeds", str(args.feeds), "--items", str(args.items)),
            *("--latency", str(args.latency), "--hosts", str(args.hosts)),
            *("--port", str(args.port)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert farm.stdout is not None and farm.stdout.readline().startswith("ready")
        print(
            f"ingest: {args.feeds} feeds x {args.items} items, latency {args.latency}s, "
            f"{args.runs} runs each; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        for processes in args.processes:
            runs = [ingest_run(args, processes) for _ in range(args.runs)]
            rates = [float(r["items_per_s"]) for r in runs]  # type: ignore[arg-type]
            walls = [float(r["wall_s"]) for r in runs]  # type: ignore[arg-type]
            shares = [r["feeds_per_process"] for r in runs]
            print(
                f"  {processes} process(es): median {statistics.median(rates):.0f} items/s "
                f"(min {min(rates):.0f}, max {max(rates):.0f}), median wall "
                f"{statistics.median(walls):.1f}s, items {runs[0]['items']}, "
                f"feeds ok {runs[0]['feeds_ok']}, feeds per process {shares}",
                flush=True,
            )
    finally:
        farm.terminate()
        farm.wait()


# -- claim cost ----------------------------------------------------------------------


def fill_feeds(db: str, count: int, *, origin: str, now: datetime) -> list[str]:
    """``count`` feed rows, next checks spread over [now - 1 day, now + 1 day]."""
    from sqlalchemy import insert, text

    from worker.store import connect
    from worker.store.tables import feeds

    rng = random.Random(1)
    urls = [f"https://feeds{n % 97}.example/{n}/rss.xml" for n in range(count)]
    engine = connect(db)
    with engine.begin() as conn:
        for start in range(0, count, INSERT_BATCH):
            rows = [
                {
                    "url": url,
                    "name": "",
                    "category": "",
                    "error_count": 0,
                    "items_seen": 0,
                    "items_new": 0,
                    "origin": origin,
                    "next_check_at": now + timedelta(seconds=rng.uniform(-86400, 86400)),
                }
                for url in urls[start : start + INSERT_BATCH]
            ]
            conn.execute(insert(feeds), rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE feeds"))
    engine.dispose()
    return urls


def time_claims(db: str, args: argparse.Namespace, now: datetime) -> str:
    """Median ms of the whole ``claim_due_feeds`` call, of its statement's round trip, and
    of the statement's execution inside the server (EXPLAIN ANALYZE, rolled back)."""
    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError

    from worker.store import Store, connect

    store = Store(connect(db))
    statements: list[tuple[str, object, float]] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["started"] = time.perf_counter()

    @event.listens_for(store.engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE"):
            spent = (time.perf_counter() - conn.info["started"]) * 1000
            statements.append((statement, parameters, spent))

    try:
        store.claim_due_feeds(now=now, lease=600, limit=args.limit)  # warm the pool
    except DBAPIError as e:
        store.engine.dispose()
        return f"FAILS: {str(e.orig).splitlines()[0]}"
    calls = []
    claimed = 0
    for _ in range(args.claims):
        started = time.perf_counter()
        got = store.claim_due_feeds(now=now, lease=600, limit=args.limit)
        calls.append((time.perf_counter() - started) * 1000)
        claimed += len(got)
    trips = [spent for _, _, spent in statements[1:]]
    statement, parameters, _ = statements[-1]
    server = []
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for _ in range(args.claims):
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            server.append(float(cursor.fetchone()[0][0]["Execution Time"]))
            raw.rollback()
    store.engine.dispose()
    return (
        f"call median {statistics.median(calls):.2f} ms (max {max(calls):.2f}), "
        f"statement round trip {statistics.median(trips):.2f} ms, "
        f"server execution {statistics.median(server):.2f} ms "
        f"({claimed // args.claims} claimed per call)"
    )


def bench_claim(args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    print(
        f"claim: {args.claim_feeds} feeds, about half due, limit {args.limit}, "
        f"{args.claims} claims; load average {os.getloadavg()[0]:.1f}"
    )
    # Whether a feed is active is a column (``feeds.origin``), so where the feeds came
    # from (the config file or ``worker feeds add``) does not change the claim.
    for origin in ("command", "config"):
        with fresh_database(args.server) as db:
            fill_feeds(db, args.claim_feeds, origin=origin, now=now)
            label = f"{args.claim_feeds} feeds " + (
                "in the config" if origin == "config" else "added by command"
            )
            print(f"  {label}: {time_claims(db, args, now)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["ingest", "claim", "both"], default="both")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL URL to create DBs on")
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--port", type=int, default=8810)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--claim-feeds", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=50)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-farm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.serve_farm:
        serve_farm(args)
        return
    if args.part in ("ingest", "both"):
        bench_ingest(args)
    if args.part in ("claim", "both"):
        bench_claim(args)


if __name__ == "__main__":
    main()
