"""How long a filtered view takes to render from a large store (no cache: every render cold).

Fills a store (one item in five irrelevant, as bench/publish.py does), builds
the server's views on it, and times, per store size: rebuilding the facet
index (after a publish that changed entries), a filtered Atom feed, a
filtered iCalendar feed, the filtered page and an event page, each rendered
from scratch (selection, reading the entries, rendering) as the first
request after a publish is. Target: each view ≤ 50 ms at 100k items.

    .venv/bin/python bench/views.py                       # SQLite, 10k and 100k
    .venv/bin/python bench/views.py --url postgresql+psycopg://postgres@127.0.0.1:5432/DB
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import fill  # noqa: E402
from worker.config import PublishSettings  # noqa: E402
from worker.publish import variants  # noqa: E402
from worker.publish.filters import default_places, parse_filter  # noqa: E402
from worker.server.views import StoreViews  # noqa: E402
from worker.store import Store, connect, migrate  # noqa: E402

RUNS = 15
TODAY = date(2024, 6, 1)
#: A selective filter (one city of one province, a topic, upcoming) and a broad one.
FEED_QUERY = "province=Beijing&topic=industrial+internet&upcoming=1"
PAGE_QUERY = "lang=zh&q=智能制造"


def timed(render: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(RUNS + 1):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return times[1:]  # the first warms the caches of the database and the templates


def measure(store: Store, settings: PublishSettings) -> dict[str, list[float]]:
    views = StoreViews(store, settings, today=lambda: TODAY)
    started = time.perf_counter()
    views.refresh()
    index_ms = (time.perf_counter() - started) * 1000
    places = default_places()
    feed = parse_filter(FEED_QUERY, places=places, window=settings.window)
    page = parse_filter(PAGE_QUERY, places=places, window=settings.window)
    main = variants(settings)[0]
    some_id = views.catalog().ids[len(views.catalog()) // 2]
    return {
        "index build": [index_ms],
        "atom": timed(lambda: views._render_feed("atom.xml", main, feed)),
        "ics": timed(lambda: views._render_feed("events.ics", main, feed)),
        "page": timed(lambda: views._render_page(page)),
        "event": timed(lambda: views._render_event(some_id, ics=False)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--url", default="", help="database URL; default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = connect(url)
        migrate(engine)
        store = Store(engine)
        settings = PublishSettings()
        have = store.count_items()
        print(f"database: {engine.dialect.name}; {RUNS} cold renders per view; "
              f"feeds ?{FEED_QUERY}, page ?{PAGE_QUERY}")  # fmt: skip
        for size in sorted(args.sizes):
            fill(store, size, have)
            have = max(have, size)
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            times = measure(store, settings)
            cells = "  ".join(
                f"{name} {statistics.median(v):6.1f} ms (max {max(v):6.1f})"
                for name, v in times.items()
            )
            print(f"{size:>8} items: {cells}", flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
