"""``worker run``: the long-running service, as an operator starts and stops it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import httpx

from tests.conftest import SEED_TITLE, free_port, worker_env
from tests.webhook_receiver import TEST_SECRET, Received, Receiver, Reply
from worker.store import Store, connect

#: The service must be up and have published within this many seconds.
STARTUP_SECONDS = 30
#: SIGTERM must stop it within this many seconds.
STOP_SECONDS = 10


def start_service(cwd: Path, port: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker", "run"],
        cwd=cwd,
        env=worker_env(WORKER_SERVER__PORT=str(port), WORKER_SERVER__HOST="127.0.0.1", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_feed(url: str, deadline: float, containing: str = "") -> httpx.Response:
    """The feed once it is served (with ``containing`` in it: the first publish may come
    before the first seed cycle has stored anything)."""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200 and containing in response.text:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not served within {STARTUP_SECONDS}s")


def test_run_serves_the_seed_event_then_stops_on_sigterm(project_dir: Path) -> None:
    port = free_port()
    process = start_service(project_dir, port)
    try:
        base = f"http://127.0.0.1:{port}"
        first = wait_for_feed(
            f"{base}/feeds/atom.xml", time.monotonic() + STARTUP_SECONDS, containing=SEED_TITLE
        )
        parsed = feedparser.parse(first.content)
        assert parsed.bozo == 0
        assert any(SEED_TITLE in e.title for e in parsed.entries)
        assert first.headers["Content-Type"].startswith("application/atom+xml")

        etag = first.headers["ETag"]
        again = httpx.get(f"{base}/feeds/atom.xml", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""

        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("worker run did not stop within 10 s of SIGTERM") from None
    assert time.monotonic() - started < STOP_SECONDS
    assert process.returncode == 0, stderr
    assert "received SIGTERM" in stderr and "stopped" in stderr


def test_sigint_stops_it_too_and_the_database_stays_sound(project_dir: Path) -> None:
    port = free_port()
    process = start_service(project_dir, port)
    wait_for_feed(f"http://127.0.0.1:{port}/feeds/atom.xml", time.monotonic() + STARTUP_SECONDS)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=STOP_SECONDS)
    assert process.returncode == 0

    import sqlite3

    with sqlite3.connect(project_dir / "data" / "worker.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM items").fetchone() == (1,)


def test_a_port_in_use_is_a_clear_failure(project_dir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = start_service(project_dir, port)
        _, stderr = process.communicate(timeout=STARTUP_SECONDS)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr


def test_a_delivery_stuck_at_its_receiver_does_not_hold_up_sigterm(project_dir: Path) -> None:
    """The receiver holds the webhook longer than the shutdown grace: the worker leaves
    it (exit 0, within the stop bound); the delivery stays in the outbox for next time."""
    release = threading.Event()
    receiver = Receiver()

    def hold(_received: Received) -> Reply:
        release.wait(30)
        return Reply()

    receiver.reply = hold
    (project_dir / "config").mkdir()
    (project_dir / "config" / "worker.toml").write_text(
        f'''[[webhooks]]
name = "slow"
url = "{receiver.url}"
secret = "env:HOOK_SECRET"

[delivery]
allow_private_targets = true
timeout = 60
'''
    )
    port = free_port()
    process = start_service(project_dir, port, HOOK_SECRET=TEST_SECRET)
    try:
        assert receiver.arrived.wait(STARTUP_SECONDS), "no delivery reached the receiver"
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError("a delivery in flight held up SIGTERM") from None
    finally:
        release.set()
        receiver.close()
    assert process.returncode == 0, stderr
    assert "jobs still running" in stderr
    store = Store(connect(f"sqlite:///{project_dir / 'data' / 'worker.db'}"))
    try:
        (row,) = store.deliveries()
        assert row.status == "pending" and row.delivered_at is None  # posted again later
    finally:
        store.engine.dispose()
