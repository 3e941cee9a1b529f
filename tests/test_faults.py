"""A fifth of 100 feeds are faulty: the healthy ones are all ingested in the same
cycle, each faulty one is recorded with its reason and scheduled by the rules,
and the worker process stays within its memory bound."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import LocalServer, Response, worker_env
from worker.store import Store, connect

HEALTHY = 80
ITEMS = 5
#: The worker process and its parse processes, each, stay under this.
MAX_RSS_BYTES = 300 * 1024 * 1024
#: Generous: healthy feeds must not time out on a loaded 2-core machine.
TIMEOUT = 10.0
BACKOFF_BASE = 60.0
LISTEN_BACKLOG = 512


def rss(base: str, n: int) -> bytes:
    items = "".join(
        f"<item><guid>{base}/{n}/{i}</guid><link>{base}/{n}/{i}</link>"
        f"<title>Feed {n} item {i}</title><description>Body {i} of feed {n}</description>"
        f"<pubDate>Sat, 01 Jun 2024 0{i}:00:00 GMT</pubDate></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


def gzip_bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


def hang(_handler: BaseHTTPRequestHandler) -> Response:
    time.sleep(TIMEOUT * 2)
    return Response(200, b"<rss/>")


def faulty_routes(base: str) -> dict[str, tuple[Response | object, str]]:
    """path -> (route, the reason the feed must be recorded with)."""
    bomb = gzip_bomb(200)
    big = b"<rss>" + b"x" * (50 * 1024 * 1024)
    kinds: list[tuple[Response | object, str]] = [
        (Response(500, b"oops"), "HTTP 500"),
        (hang, "timed out"),
        (Response(200, os.urandom(4096), {"Content-Type": "application/rss+xml"}), "parse:"),
        ("loop", "more than 5 redirects"),
        (Response(200, big), "larger than 10485760 bytes"),
        (Response(200, bomb, {"Content-Encoding": "gzip"}), "after decompression"),
        (Response(429, b"", {"Retry-After": "7200"}), "HTTP 429"),
        (Response(410, b""), "HTTP 410"),
    ]
    routes = {}
    for n in range(100 - HEALTHY):
        route, reason = kinds[n % len(kinds)]
        path = f"/bad/{n}"
        if route == "loop":
            route = Response(302, b"", {"Location": f"{base}{path}"})
        routes[path] = (route, reason)
    return routes


#: Runs its arguments as a Python child and prints the child's peak RSS (kB). The
#: fork happens in this small process, not in pytest: Linux keeps a process's peak
#: RSS across exec, so a child forked straight from a large pytest would report
#: pytest's own size as its peak.
MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_once(root: Path, config: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """``worker once`` as a subprocess, and its peak RSS in bytes."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "-m", "worker", "--config", str(config), "once"],
        cwd=root,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    stderr, _, peak_kb = done.stderr.rstrip("\n").rpartition("\n")
    done.stderr = stderr
    return done, int(peak_kb) * 1024  # kilobytes on Linux


def test_faulty_feeds_are_recorded_and_healthy_ones_ingested(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    # http.server listens with a backlog of 5: a burst of connects would wait for SYN retries.
    http_server.httpd.socket.listen(LISTEN_BACKLOG)
    base = http_server.url
    healthy = {f"/ok/{n}": Response(200, rss(base, n)) for n in range(HEALTHY)}
    http_server.routes.update(healthy)
    faulty = faulty_routes(base)
    http_server.routes.update({path: route for path, (route, _) in faulty.items()})  # type: ignore[misc]
    feeds = "".join(f'[[feeds]]\nurl = "{base}{p}"\n' for p in [*healthy, *faulty])
    config = tmp_path / "worker.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nseeds_dir = "{tmp_path / "seeds"}"\n'
        f'feeds_dir = "{tmp_path / "feeds"}"\ndatabase_url = "{db_url}"\n'
        f"[fetch]\ntimeout = {TIMEOUT}\nread_timeout = {TIMEOUT / 2}\nper_host = 50\n"
        f"backoff_base = {BACKOFF_BASE}\n\n{feeds}"
    )
    before = datetime.now(UTC)
    done, peak = run_once(tmp_path, config)
    after = datetime.now(UTC)
    assert done.returncode == 0, done.stderr[-3000:]
    assert peak < MAX_RSS_BYTES, f"peak RSS {peak / 2**20:.0f} MiB"

    store = Store(connect(db_url))
    states = {f.url: f for f in store.feeds()}
    items_by_source: dict[str, int] = {}
    for stored in store.items(relevant_only=False):
        items_by_source[stored.item.doc.source] = items_by_source.get(stored.item.doc.source, 0) + 1
    for path in healthy:
        state = states[f"{base}{path}"]
        assert state.last_status == "ok" and state.items_seen == ITEMS, (path, state)
        assert items_by_source.get(f"{base}{path}") == ITEMS, path
    for path, (_, reason) in faulty.items():
        url = f"{base}{path}"
        state = states[url]
        assert state.last_status == "error" and state.error_count == 1, (path, state)
        assert reason in (state.last_error or ""), (path, reason, state.last_error)
        assert f"source={url} status=error" in done.stderr
        if reason == "HTTP 410":
            assert state.disabled_reason and "410" in state.disabled_reason
            assert state.next_check_at is None
            continue
        assert state.disabled_reason is None and state.next_check_at is not None
        if reason == "HTTP 429":
            # Retry-After (7200 s) is longer than the first backoff: it wins.
            assert before + timedelta(seconds=7200) <= state.next_check_at
            assert state.next_check_at <= after + timedelta(seconds=7200)
        else:
            # First error: the backoff base, less up to a quarter of jitter.
            earliest = before + timedelta(seconds=BACKOFF_BASE * 0.75)
            assert earliest <= state.next_check_at <= after + timedelta(seconds=BACKOFF_BASE)
    for path in healthy:
        assert f"source={base}{path} status=ok" in done.stderr
    store.engine.dispose()


def test_metrics_count_fetches_items_and_feeds_in_error(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    from tests.conftest import make_settings
    from worker.jobs import Worker

    base = http_server.url

    def conditional(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-None-Match") == '"v"':
            return Response(304)
        return Response(200, rss(base, 1), {"ETag": '"v"'})

    http_server.routes["/ok"] = conditional
    http_server.routes["/bad"] = Response(500, b"")
    settings = make_settings(
        tmp_path,
        db_url,
        feeds=[{"url": f"{base}/ok"}, {"url": f"{base}/bad"}],
        fetch={"min_interval": 1},
    )
    clock = [datetime(2024, 6, 1, tzinfo=UTC)]
    with Worker(settings, clock=lambda: clock[0], jitter=lambda: 0.0) as worker:
        worker.ingest_feeds()
        clock[0] += timedelta(days=2)  # everything is due again
        worker.ingest_feeds()
        text = worker.metrics.render()
    assert 'worker_feed_fetches_total{code="200",outcome="ok"} 1.0' in text
    assert 'worker_feed_fetches_total{code="304",outcome="not_modified"} 1.0' in text
    assert 'worker_feed_fetches_total{code="500",outcome="error"} 2.0' in text
    assert f"worker_feed_items_seen_total {float(ITEMS)}" in text
    assert f"worker_feed_items_new_total {float(ITEMS)}" in text
    assert "worker_feeds_in_error 1.0" in text
    assert "worker_feed_parse_seconds_count 1.0" in text
