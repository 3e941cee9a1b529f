"""The running server under load, with nginx serving the same files as the reference.

Starts ``worker run`` on a store of published events (access log on, as
deployed; its jobs scheduled every second so the load meets them), and
nginx (Debian's package, one worker process) on the same ``feeds/`` folder.
Then, in turns, each round:

1. ``wrk``, 1,000 connections of conditional GETs of ``atom.xml`` (all 304);
2. ``wrk``, 1,000 connections of full GETs of ``atom.xml`` (200, no gzip);
3. 1,000 idle connections held open while a second client polls ``/healthz``
   ten times a second: its latencies, and whether the idle connections are
   closed after the header timeout.

Finally: how many seed scans the worker ran during the loads (one a second
when the jobs are unaffected), and whether any job failed or a file
descriptor ran out.

    apt-get install wrk nginx-light            # Debian's packages
    .venv/bin/python bench/serve.py [--seconds 10] [--rounds 3] [--items 2000]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import fill  # noqa: E402
from bench.wrk import Nginx, WrkResult, free_port, run_wrk, wait_for_port  # noqa: E402
from worker.store import Store, connect, migrate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_a0ab093aa17c1e6e.txt"
IDLE = 1000
#: The worker's header timeout in this run: how soon idle connections must go.
HEADER_TIMEOUT = 5


def start_worker(project: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_")}
    env.update(
        WORKER_SERVER__PORT=str(port),
        WORKER_SERVER__HOST="127.0.0.1",
        WORKER_SERVER__HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        WORKER_SCHEDULE__SEEDS_EVERY="1",
        WORKER_SCHEDULE__PUBLISH_EVERY="1",
        WORKER_LOG_FORMAT="json",
    )
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "worker", "run"], cwd=project, env=env,
                                stdout=out, stderr=out)  # fmt: skip


def idle_while_polling(port: int, seconds: float) -> tuple[list[float], int, int]:
    """Hold IDLE silent connections, poll /healthz; (latencies ms, failures, still open after)."""
    idle = []
    for _ in range(IDLE):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        idle.append(s)
    latencies: list[float] = []
    failures = 0
    end = time.monotonic() + seconds
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                ok = client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            failures += not ok
            time.sleep(0.1)
    time.sleep(max(0.0, HEADER_TIMEOUT + 2 - seconds))
    still_open = 0
    for s in idle:
        try:
            still_open += s.recv(1) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        s.close()
    return latencies, failures, still_open


def job_runs(log: Path) -> tuple[int, int]:
    """(seed scans, failures) in the worker's JSON log: one line per seed file per scan."""
    text = log.read_text(errors="replace")
    scans = len(re.findall(r'"source": "seed:', text))
    failures = len(re.findall(r'"level": "(?:error|critical)"|Too many open files', text))
    return scans, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "seeds").mkdir()
        (project / "seeds" / SEED.name).write_bytes(SEED.read_bytes())
        engine = connect(f"sqlite:///{project / 'data' / 'worker.db'}")
        migrate(engine)
        fill(Store(engine), args.items, 0)
        engine.dispose()
        port = free_port()
        log = project / "worker.log"
        worker = start_worker(project, port, log)
        nginx = None
        try:
            wait_for_port(port)
            url = f"http://127.0.0.1:{port}/feeds/atom.xml"
            deadline = time.monotonic() + 60
            while (first := httpx.get(url)).status_code != 200:
                assert time.monotonic() < deadline, "the worker published nothing"
                time.sleep(0.2)
            time.sleep(2)  # the first cycle's publish is done; the file is stable
            first = httpx.get(url)
            nginx = Nginx(project / "feeds")
            nginx_url = f"http://127.0.0.1:{nginx.port}/feeds/atom.xml"
            nginx_etag = httpx.get(nginx_url).headers["ETag"]
            print(f"atom.xml {len(first.content)} bytes, {args.items} items stored; "
                  f"{args.seconds} s per load, {args.rounds} rounds")  # fmt: skip
            before, started = job_runs(log), time.monotonic()
            results: dict[str, list[WrkResult]] = {}
            idle_runs = []
            for _ in range(args.rounds):
                etag = httpx.get(url).headers["ETag"]
                loads = {
                    "worker 304": (url, {"If-None-Match": etag}),
                    "nginx 304": (nginx_url, {"If-None-Match": nginx_etag}),
                    "worker 200": (url, {}),
                    "nginx 200": (nginx_url, {}),
                }
                for name, (target, headers) in loads.items():
                    result = run_wrk(target, connections=1000, seconds=args.seconds,
                                     headers=headers)  # fmt: skip
                    results.setdefault(name, []).append(result)
                    print(f"  {name:<11} {result.row()}", flush=True)
                idle_runs.append(idle_while_polling(port, args.seconds))
                lat, failed, still = idle_runs[-1]
                print(f"  idle {IDLE}: /healthz p50 {statistics.median(lat):.1f} ms, "
                      f"max {max(lat):.1f} ms, {failed} failed; {still} idle still open "
                      f"after {HEADER_TIMEOUT + 2} s", flush=True)  # fmt: skip
            after, elapsed = job_runs(log), time.monotonic() - started
            report(results, idle_runs)
            scans, failures = after[0] - before[0], after[1] - before[1]
            print(f"jobs during the loads ({elapsed:.0f} s, seeds scheduled every second): "
                  f"{scans} seed scans, {failures} failures")  # fmt: skip
        finally:
            if nginx is not None:
                nginx.close()
            worker.terminate()
            worker.wait(timeout=30)


def report(results: dict[str, list[WrkResult]], idle_runs: list) -> None:  # type: ignore[type-arg]
    def med(name: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[name])

    print("medians:")
    for kind in ("304", "200"):
        ratio = med(f"worker {kind}", "per_second") / med(f"nginx {kind}", "per_second")
        errors = sum(r.errors for r in results[f"worker {kind}"])
        print(f"  {kind}: worker {med(f'worker {kind}', 'per_second'):.0f} req/s "
              f"(p99 {med(f'worker {kind}', 'p99_ms'):.1f} ms, {errors} errors), "
              f"nginx {med(f'nginx {kind}', 'per_second'):.0f} req/s "
              f"(p99 {med(f'nginx {kind}', 'p99_ms'):.1f} ms); ratio {ratio:.2f}")  # fmt: skip
    latencies = [ms for lat, _, _ in idle_runs for ms in lat]
    print(f"  /healthz with {IDLE} idle: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {statistics.quantiles(latencies, n=100)[98]:.1f} ms, "
          f"max {max(latencies):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
