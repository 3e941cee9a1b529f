"""How long one publish takes, with 10k and 100k items in the store.

A publish reads the window (the newest N relevant items) through the
``ix_items_publish`` index, renders every file (Atom, RSS, JSON Feed,
iCalendar for all languages and for zh/en, and the page) and writes the ones
that changed. Its cost must not grow with the store.

    .venv/bin/python bench/publish.py                 # SQLite, 10k and 100k
    .venv/bin/python bench/publish.py --sizes 10000 100000 --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Prints, per store size: the median and worst of the runs for the query, the
rendering, the whole publish (query + render + write, nothing changed), and
the whole publish's CPU time in this process (what a busy machine's other
work cannot inflate).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from tests.publish_samples import EN_ENTRY, ZH_ENTRY, pipeline_item  # noqa: E402
from worker.config import PublishSettings  # noqa: E402
from worker.publish import Snapshot, render_all, write_all  # noqa: E402
from worker.store import Store, connect, migrate  # noqa: E402
from worker.store.items import item_id, item_row  # noqa: E402
from worker.store.tables import clusters, items  # noqa: E402

#: Rows inserted per statement while filling the store.
BATCH = 5000
#: Timed publishes per store size (after one warm-up).
RUNS = 15
START = datetime(2020, 1, 1, tzinfo=UTC)


def fill(store: Store, count: int, already: int) -> None:
    """Add items until the store holds ``count``; one in five is irrelevant."""
    templates = [pipeline_item(EN_ENTRY), pipeline_item(ZH_ENTRY)]
    rows = []
    for n in range(already, count):
        base = templates[n % 2]
        doc = dataclasses.replace(base.doc, link=f"https://bench.example/{n}", title=f"#{n}")
        item = dataclasses.replace(
            base,
            key=f"bench:{n}",
            doc=doc,
            relevance=dataclasses.replace(base.relevance, relevant=n % 5 != 0),
        )
        seen = START + timedelta(minutes=n)
        rows.append(
            {"id": item_id(item.key), "key": item.key, "first_seen": seen, "updated": seen}
            | item_row(item)
        )
        if len(rows) == BATCH:
            _insert(store, rows)
            rows = []
    if rows:
        _insert(store, rows)


def _insert(store: Store, rows: list[dict[str, object]]) -> None:
    # Each item is the primary of its own cluster (the published entry, migration 0005).
    entries = [
        {"id": r["id"], "primary_item": r["id"], "first_seen": r["first_seen"],
         "updated": r["updated"], "relevant": r["relevant"]}
        for r in rows
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(items), [{**r, "cluster_id": r["id"]} for r in rows])
        conn.execute(insert(clusters), entries)


def measure(store: Store, settings: PublishSettings, out: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"query": [], "render": [], "publish": [], "cpu": []}
    today = START.date()
    for run in range(RUNS + 1):
        c0 = time.process_time()
        t0 = time.perf_counter()
        stored = store.items(relevant_only=True, limit=settings.window)
        t1 = time.perf_counter()
        outputs = render_all(Snapshot(window=tuple(stored), today=today), settings)
        t2 = time.perf_counter()
        write_all(outputs, out)
        t3 = time.perf_counter()
        c3 = time.process_time()
        if run:  # the first run warms caches and writes the files
            times["query"].append((t1 - t0) * 1000)
            times["render"].append((t2 - t1) * 1000)
            times["publish"].append((t3 - t0) * 1000)
            times["cpu"].append((c3 - c0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--url", default="", help="database URL; default a temporary SQLite file")
    parser.add_argument("--window", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = connect(url)
        migrate(engine)
        store = Store(engine)
        settings = PublishSettings(window=args.window)
        have = store.count_items()
        print(f"database: {engine.dialect.name}; window {args.window}; {RUNS} runs per size")
        heads = ("query ms", "render ms", "publish ms", "publish CPU ms")
        print(f"{'items':>8}  " + "  ".join(f"{h:>18}" for h in heads))
        for size in sorted(args.sizes):
            fill(store, size, have)
            have = max(have, size)
            # Fresh statistics, as autovacuum (PostgreSQL) would gather after a bulk load;
            # without them the planner guesses and the figure measures the guess.
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            times = measure(store, settings, Path(tmp) / "feeds")
            cells = [
                f"{statistics.median(v):7.1f} (max {max(v):5.1f})"
                for v in (times["query"], times["render"], times["publish"], times["cpu"])
            ]
            print(f"{size:>8}  " + "  ".join(cells))
        engine.dispose()


if __name__ == "__main__":
    main()
