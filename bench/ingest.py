"""Feed ingestion bench: the worker's ingest cycle, an all-304 second cycle, raw
``feedparser.parse`` on the same bytes (the parse floor), and lemon24's
``reader`` ``update_feeds`` on the same farm, in one run.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/ingest.py --feeds 1000 --items 20 --latency 0.1 --runs 3

Each figure is the median of ``--runs``. Each engine runs in its own process
(fresh database) so peak RSS is its own; the farm runs in another process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.farm import feed_body, feed_url  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (the parse processes are the fork
    server's children, not ours, so ``RUSAGE_CHILDREN`` never sees them)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase_worker(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    from worker.config import Settings
    from worker.jobs import Worker

    root = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    settings = Settings.model_validate(
        {
            "data_dir": root / "data",
            "seeds_dir": root / "seeds",
            "feeds_dir": root / "feeds",
            "feeds": [{"url": u} for u in urls],
            "fetch": {"concurrency": args.concurrency, "per_host": args.per_host},
        }
    )
    clock = [datetime.now(UTC)]
    worker = Worker(settings, clock=lambda: clock[0])
    started = time.perf_counter()
    first = worker.ingest_feeds()
    first_s = time.perf_counter() - started
    clock[0] += timedelta(days=3)  # every feed is due again
    started = time.perf_counter()
    second = worker.ingest_feeds()
    second_s = time.perf_counter() - started
    clusters = worker.store.count_clusters(relevant_only=True)
    stored = worker.store.count_items()
    pids = worker.parse_pool.pids()
    children = [vm_hwm_mib(p) for p in pids]
    parse_cpu = sum(cpu_seconds(p) for p in pids)
    worker.close()
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "first_s": first_s,
        "items": sum(r.created for r in first),
        "stored": stored,
        "relevant_entries": clusters,
        "first_ok": sum(r.status == "ok" for r in first),
        "second_s": second_s,
        "second_304": sum(r.status == "not_modified" for r in second),
        "rss_mib": peak_rss_mib(),
        "parse_process_rss_mib": max(children, default=0.0),
        # CPU seconds over both cycles: where the 2 cores went.
        "main_cpu_s": round(own.ru_utime + own.ru_stime, 2),
        "parse_cpu_s": round(parse_cpu, 2),
    }


def phase_reader(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    from reader import make_reader

    root = Path(tempfile.mkdtemp(prefix="bench-reader-"))
    reader = make_reader(str(root / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url)
    started = time.perf_counter()
    reader.update_feeds(workers=args.reader_workers)
    seconds = time.perf_counter() - started
    items = reader.get_entry_counts().total
    reader.close()
    return {"seconds": seconds, "items": items, "rss_mib": peak_rss_mib()}


def parse_floor(args: argparse.Namespace) -> dict[str, float]:
    import feedparser

    bodies = [feed_body(n, args.items) for n in range(args.feeds)]
    started = time.perf_counter()
    items = sum(len(feedparser.parse(b).entries) for b in bodies)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "items": items}


def run_phase(name: str, argv: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--per-host", type=int, default=8)
    parser.add_argument("--reader-workers", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phase", choices=["worker", "reader"])
    args = parser.parse_args()
    urls = [feed_url(n, hosts=args.hosts, port=args.port) for n in range(args.feeds)]
    if args.phase:
        import logging

        logging.disable(logging.INFO)  # one line per feed would time the terminal
        phase = phase_worker if args.phase == "worker" else phase_reader
        print(json.dumps(phase(args, urls)))
        return

    argv = [a for a in sys.argv[1:]]
    farm = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "farm.py"),
            *("--feeds", str(args.feeds), "--items", str(args.items)),
            *("--latency", str(args.latency), "--hosts", str(args.hosts)),
            *("--port", str(args.port)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert farm.stdout is not None and farm.stdout.readline().startswith("ready")
        runs = []
        for n in range(args.runs):
            worker = run_phase("worker", argv)
            reader = run_phase("reader", argv)
            floor = parse_floor(args)
            runs.append((worker, reader, floor))
            print(f"run {n + 1}: worker {worker} reader {reader} floor {floor}", flush=True)
    finally:
        farm.terminate()
        farm.wait()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    w_items_s = med([float(w["items"]) / float(w["first_s"]) for w, _, _ in runs])
    r_items_s = med([float(r["items"]) / float(r["seconds"]) for _, r, _ in runs])
    f_items_s = med([float(f["items"]) / float(f["seconds"]) for _, _, f in runs])
    second = med([float(w["second_s"]) for w, _, _ in runs])
    bound = args.feeds * args.latency / args.concurrency
    print(
        f"\nN={args.feeds} M={args.items} latency={args.latency}s concurrency={args.concurrency} "
        f"per_host={args.per_host} hosts={args.hosts} (medians of {args.runs})"
    )
    first_s = med([float(w["first_s"]) for w, _, _ in runs])
    rss = med([float(w["rss_mib"]) for w, _, _ in runs])
    child_rss = med([float(w["parse_process_rss_mib"]) for w, _, _ in runs])
    print(f"worker first cycle:   {w_items_s:8.0f} items/s  ({first_s:.2f} s)")
    print(f"reader update_feeds:  {r_items_s:8.0f} items/s  (workers={args.reader_workers})")
    print(f"feedparser floor:     {f_items_s:8.0f} items/s  (parse only, one core)")
    print(f"ratio worker/reader:  {w_items_s / r_items_s:8.2f}  (target >= 2)")
    print(
        f"all-304 cycle:        {second:8.2f} s  = {second / bound:.2f} x "
        f"N*latency/concurrency ({bound:.2f} s; target <= 1.3)"
    )
    print(
        f"worker peak RSS:      {rss:8.0f} MiB  (target < 200; "
        f"each parse process {child_rss:.0f} MiB)"
    )
    print(f"reader peak RSS:      {med([float(r['rss_mib']) for _, r, _ in runs]):8.0f} MiB")


if __name__ == "__main__":
    main()
