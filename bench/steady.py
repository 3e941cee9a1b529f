"""The cycle that runs all day: CPU per feed of the worker and of lemon24's ``reader`` on
one farm, for a first cycle, two steady cycles and an all-304 cycle.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/steady.py --feeds 1000 --items 20 --runs 3

The farm (``bench/farm.py``) moves every feed on by one entry per generation (one new
entry, the oldest dropped). Each engine, in a process of its own on a fresh database,
runs four cycles over every feed: the first at generation 0 (every entry new), two at
generations 1 and 2 (each feed changed: 1 new entry and 19 seen), and one more at
generation 2 (every feed answers 304). A cycle's figure is the CPU time of the engine's
whole process tree (the worker's main process, its fork server and parse processes;
reader's one process) divided by the feeds. Medians over ``--runs``; the ratios are
worker / reader within the same run, so the machine's load affects both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.farm import feed_url  # noqa: E402

#: (name, farm generation) of each cycle, in order.
CYCLES = (("first", 0), ("steady 1", 1), ("steady 2", 2), ("all-304", 2))
#: Goals, as worker / reader CPU per feed (lower is better), and the worker's peak RSS.
GOALS = {"first": 1.3, "steady 1": 0.5, "steady 2": 0.5, "all-304": 0.5}
MAX_RSS_MB = 150


def tree_cpu(root: int) -> float:
    """User + system CPU seconds of ``root`` and every live process below it (the parse
    processes are the fork server's children, which ``RUSAGE_CHILDREN`` never sees)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def set_generation(args: argparse.Namespace, generation: int) -> None:
    url = f"http://127.0.0.1:{args.port}/_generation/{generation}"
    with urllib.request.urlopen(url, timeout=60) as answer:
        answer.read()


def run_cycles(args: argparse.Namespace, cycle: Callable[[], dict[str, int]]) -> dict[str, object]:
    """Each of ``CYCLES``: the farm moved to its generation, ``cycle()`` run and measured."""
    measured: dict[str, object] = {}
    for name, generation in CYCLES:
        set_generation(args, generation)
        cpu, started = tree_cpu(os.getpid()), time.perf_counter()
        counts = cycle()
        seconds = time.perf_counter() - started
        per_feed_ms = (tree_cpu(os.getpid()) - cpu) / args.feeds * 1000
        measured[name] = {"cpu_ms_per_feed": per_feed_ms, "seconds": seconds, **counts}
    measured["rss_mb"] = vm_hwm_mb(os.getpid())
    return measured


def phase_worker(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    from worker.config import Settings
    from worker.jobs import Worker
    from worker.records import SourceStatus

    root = Path(tempfile.mkdtemp(prefix="bench-steady-worker-"))
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

    def cycle() -> dict[str, int]:
        clock[0] += timedelta(days=3)  # every feed is due
        reports = worker.ingest_feeds()
        return {
            "ok": sum(r.status is SourceStatus.OK for r in reports),
            "not_modified": sum(r.status is SourceStatus.NOT_MODIFIED for r in reports),
            "created": sum(r.created for r in reports),
        }

    try:
        return run_cycles(args, cycle)
    finally:
        worker.close()


def phase_reader(args: argparse.Namespace, urls: list[str]) -> dict[str, object]:
    from reader import make_reader

    root = Path(tempfile.mkdtemp(prefix="bench-steady-reader-"))
    reader = make_reader(str(root / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url)

    def cycle() -> dict[str, int]:
        before = reader.get_entry_counts().total or 0
        reader.update_feeds(workers=args.reader_workers, scheduled=False)
        return {"created": (reader.get_entry_counts().total or 0) - before}

    try:
        return run_cycles(args, cycle)
    finally:
        reader.close()


def run_phase(name: str, argv: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, *argv],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} phase failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def summarize(args: argparse.Namespace, runs: list[dict[str, dict[str, object]]]) -> None:
    def med(engine: str, cycle: str, key: str = "cpu_ms_per_feed") -> float:
        return statistics.median(float(r[engine][cycle][key]) for r in runs)  # type: ignore[index]

    print(
        f"\nN={args.feeds} M={args.items} latency={args.latency}s concurrency={args.concurrency}"
        f" (medians of {len(runs)}; load average {os.getloadavg()[0]:.1f} at the end)"
    )
    print(f"{'cycle':<10} {'worker ms/feed':>15} {'reader ms/feed':>15} {'ratio':>7}  goal")
    for name, _ in CYCLES:
        ratios = [
            float(r["worker"][name]["cpu_ms_per_feed"])  # type: ignore[index]
            / float(r["reader"][name]["cpu_ms_per_feed"])  # type: ignore[index]
            for r in runs
        ]
        ratio = statistics.median(ratios)
        met = "met" if ratio <= GOALS[name] else "NOT met"
        print(
            f"{name:<10} {med('worker', name):15.2f} {med('reader', name):15.2f} {ratio:7.2f}"
            f"  <= {GOALS[name]} ({met})"
        )
    rss = statistics.median(float(r["worker"]["rss_mb"]) for r in runs)  # type: ignore[arg-type]
    print(f"worker peak RSS (main process): {rss:.0f} MB (goal <= {MAX_RSS_MB})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--port", type=int, default=8810)
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
    runs = []
    try:
        assert farm.stdout is not None and farm.stdout.readline().startswith("ready")
        for n in range(args.runs):
            run = {name: run_phase(name, sys.argv[1:]) for name in ("worker", "reader")}
            runs.append(run)
            print(f"run {n + 1}: {json.dumps(run)}", flush=True)
    finally:
        farm.terminate()
        farm.wait()
    summarize(args, runs)


if __name__ == "__main__":
    main()
