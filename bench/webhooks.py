"""Webhook delivery throughput: N outbox rows posted to a local receiver.

    .venv/bin/python bench/webhooks.py [--deliveries 10000] [--subscribers 1] [--db URL]
    .venv/bin/python bench/webhooks.py --deliveries 10000,100000 --runs 3   # flat with backlog?

With several sizes, each runs on a fresh database in turn (sizes alternating, ``--runs``
rounds) and a last line gives each size's median rate and its ratio to the first size's.

The receiver runs in its own process (asyncio, HTTP/1.1 keep-alive) and checks every
request with the ``standardwebhooks`` library. The bench fills the outbox with
realistic bodies (the seed document's item), then times the worker's delivery loop
(``Notifier.deliver``, the ``deliver`` job) until nothing is due, and prints the rate
and the peak memory (max RSS) of the process that ran the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import pstats
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_8hRw2t1qWc0r9D6yY3mV5bK7nJ4pL2sX0aZ1eC6fG8I="
SEED = ROOT / "seeds" / "000_a0ab093aa17c1e6e.txt"


def receiver(
    port_out: multiprocessing.Queue,  # type: ignore[type-arg]
    asks: multiprocessing.Queue,  # type: ignore[type-arg]
    counts: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """A minimal keep-alive HTTP server: verify, count, answer 204."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    webhook = Webhook(SECRET)
    stats = {"ok": 0, "bad": 0, "ids": set()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                try:
                    webhook.verify(body, headers)
                    stats["ok"] += 1
                    stats["ids"].add(headers["webhook-id"])
                except WebhookVerificationError:
                    stats["bad"] += 1
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_out.put(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        # The parent asks for the counts by putting anything on ``asks``.
        await loop.run_in_executor(None, asks.get)
        counts.put((stats["ok"], stats["bad"], len(stats["ids"])))
        server.close()

    asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--deliveries", default="10000", help="backlog size, or sizes separated by commas"
    )
    parser.add_argument("--runs", type=int, default=1, help="rounds over the sizes")
    parser.add_argument("--subscribers", type=int, default=1)
    parser.add_argument("--db", default="", help="SQLAlchemy URL (default: a temp SQLite file)")
    parser.add_argument("--profile", action="store_true", help="print where the loop spends time")
    parser.add_argument("--concurrency", type=int, default=None, help="delivery.concurrency")
    parser.add_argument(
        "--per-subscriber", type=int, default=None, help="delivery.per_subscriber_concurrency"
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.deliveries.split(",")]
    rates: dict[int, list[float]] = {n: [] for n in sizes}
    failed = 0
    for _ in range(args.runs):
        for size in sizes:
            result = run(args, size)
            print(json.dumps(result, indent=2), flush=True)
            rates[size].append(result["per_second"])
            failed += result["delivered"] != size or result["receiver_failed_verification"] > 0
    if len(sizes) > 1:
        first = statistics.median(rates[sizes[0]])
        summary = {
            str(n): {
                "median_per_second": statistics.median(r),
                "runs": r,
                "ratio_to_first": round(statistics.median(r) / first, 2),
            }
            for n, r in rates.items()
        }
        print(json.dumps({"summary": summary}))
    return 1 if failed else 0


def run(args: argparse.Namespace, deliveries: int) -> dict[str, Any]:
    """Fill a fresh outbox with ``deliveries`` due rows, deliver them all, and report."""

    from worker.config import Settings
    from worker.model import Entry
    from worker.notify import Notifier
    from worker.notify.plan import payload
    from worker.pipeline import process
    from worker.pipeline.profile import load_profile
    from worker.records import NewDelivery
    from worker.store import Store, connect, migrate
    from worker.store.items import item_id

    ctx = multiprocessing.get_context("spawn")
    port_q, ask_q, count_q = ctx.Queue(), ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=receiver, args=(port_q, ask_q, count_q), daemon=True)
    proc.start()
    port = port_q.get(timeout=30)

    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{tmp}/worker.db"
        hooks = [
            {"name": f"s{i}", "url": f"http://127.0.0.1:{port}/hook/{i}", "secret": "env:SECRET"}
            for i in range(args.subscribers)
        ]
        settings = Settings.model_validate(
            {
                "data_dir": tmp,
                "database_url": db_url,
                "webhooks": hooks,
                "delivery": {
                    "allow_private_targets": True,
                    **({"concurrency": args.concurrency} if args.concurrency else {}),
                    **(
                        {"per_subscriber_concurrency": args.per_subscriber}
                        if args.per_subscriber
                        else {}
                    ),
                },
            }
        )
        engine = connect(db_url)
        migrate(engine)
        store = Store(engine)
        notifier = Notifier(
            settings, store, clock=lambda: datetime.now(UTC), environ={"SECRET": SECRET}
        )
        profile = load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml")
        now = datetime.now(UTC)
        text = SEED.read_text(encoding="utf-8")
        entry = Entry(source="seed:bench", guid=None, link=None, title=None, content=text)
        item = process(entry, profile, now=now)
        store.sync_subscribers((h["name"], h["url"]) for h in hooks)
        body = payload("item.created", item, item_id(item.key), now)
        rows = [
            NewDelivery(
                id=f"msg_{n:08d}",
                subscriber=f"s{n % args.subscribers}",
                item_id=item_id(f"{item.key}#{n}"),
                event="item.created",
                body=body,
                created_at=now,
            )
            for n in range(deliveries)
        ]
        for start in range(0, len(rows), 1000):
            store.add_deliveries(rows[start : start + 1000])
        del rows
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = notifier.deliver()
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats = store.delivery_stats()
        engine.dispose()

    ask_q.put("counts?")
    ok, bad, unique = count_q.get(timeout=30)
    proc.join(5)
    delivered = sum(s.delivered for s in stats)
    result: dict[str, Any] = {
        "deliveries": deliveries,
        "subscribers": args.subscribers,
        "concurrency": settings.delivery.concurrency,
        "per_subscriber_concurrency": settings.delivery.per_subscriber_concurrency,
        "database": "postgresql" if args.db.startswith("postgresql") else "sqlite",
        "delivered": delivered,
        "attempted": report.attempted,
        "seconds": round(elapsed, 2),
        "per_second": round(delivered / elapsed, 1),
        "receiver_verified": ok,
        "receiver_failed_verification": bad,
        "receiver_unique_ids": unique,
        "body_bytes": len(body.encode()),
        "peak_rss_mib_before_delivery": round(rss_before / 1024, 1),
        "peak_rss_mib": round(rss_peak / 1024, 1),
    }
    return result


if __name__ == "__main__":
    sys.exit(main())
