"""Webhooks end to end, through the command line: ``worker once`` delivers, ``worker webhooks
list|replay`` report and resend, and a worker killed with SIGKILL in the middle of
deliveries loses nothing once restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.conftest import SEED_FILE, free_port, run_worker, worker_env
from tests.webhook_receiver import TEST_SECRET, Received, Receiver, Reply
from worker.store import Store

pytestmark = pytest.mark.slow

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")


def write_config(root: Path, hook_url: str, database_url: str = "", **tables: str) -> None:
    config = root / "config"
    config.mkdir(exist_ok=True)
    port = free_port()
    while f":{port}/" in hook_url:  # the worker's own server must not take the receiver's port
        port = free_port()
    text = f"""database_url = "{database_url}"

[server]
host = "127.0.0.1"
port = {port}

[[webhooks]]
name = "pipeline"
url = "{hook_url}"
secret = "env:HOOK_SECRET"

[delivery]
allow_private_targets = true
{tables.get("delivery", "")}

[schedule]
{tables.get("schedule", "")}
"""
    (config / "worker.toml").write_text(text)


def env() -> dict[str, str]:
    return worker_env(HOOK_SECRET=TEST_SECRET)


def stored(database_url: str) -> Store:
    # No pool: the test reads while the worker may still be creating the schema, and a
    # pooled connection that saw those errors would outlive the test.
    return Store(create_engine(database_url, poolclass=NullPool))


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    """Wait for a subprocess to get somewhere (it runs on its own clock)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log.exists() else "(no log)"
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{tail}")
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_once_delivers_and_the_cli_lists_and_replays(
    project_dir: Path, receiver: Receiver, db_url: str
) -> None:
    write_config(project_dir, receiver.url, db_url)
    result = run_worker("once", cwd=project_dir, env=env())
    assert result.returncode == 0, result.stderr
    [got] = receiver.received
    assert got.error is None and got.payload is not None
    assert got.payload["type"] == "item.created"
    assert "Smart Manufacturing" in got.payload["data"]["title"]

    listed = run_worker("webhooks", "list", cwd=project_dir, env=env())
    assert listed.returncode == 0, listed.stderr
    [line] = [json.loads(x) for x in listed.stdout.splitlines()]
    assert line["subscriber"] == "pipeline"
    assert (line["delivered"], line["pending"], line["failed"], line["dead"]) == (1, 0, 0, 0)

    replay = run_worker("webhooks", "replay", "--id", got.webhook_id, cwd=project_dir, env=env())
    assert replay.returncode == 0, replay.stderr
    assert "replayed: 1" in replay.stdout
    assert run_worker("once", cwd=project_dir, env=env()).returncode == 0
    assert [r.webhook_id for r in receiver.received] == [got.webhook_id] * 2

    unknown = run_worker("webhooks", "replay", "--subscriber", "nobody", cwd=project_dir, env=env())
    assert unknown.returncode == 2 and "no subscriber 'nobody'" in unknown.stderr
    assert run_worker("webhooks", "replay", cwd=project_dir, env=env()).returncode == 2


def test_a_bad_or_missing_secret_stops_start_up_with_exit_2(project_dir: Path) -> None:
    write_config(project_dir, "http://127.0.0.1:9/hook")
    missing = run_worker("once", cwd=project_dir, env=worker_env())
    assert missing.returncode == 2
    assert "webhooks[0].secret: environment variable HOOK_SECRET is not set" in missing.stderr
    bad = run_worker("once", cwd=project_dir, env=worker_env(HOOK_SECRET="hunter2"))
    assert bad.returncode == 2 and "webhooks[0].secret: the secret must start with 'whsec_'" in (
        bad.stderr
    )
    checked = run_worker("check-config", cwd=project_dir, env=worker_env())
    assert checked.returncode == 2 and "webhooks[0].secret" in checked.stderr
    good = run_worker("check-config", cwd=project_dir, env=env())
    assert good.returncode == 0 and "1 webhook subscribers" in good.stdout


def start_worker(root: Path) -> subprocess.Popen[str]:
    with open(root / "worker.log", "a") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "worker", "run"],
            cwd=root,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            start_new_session=True,  # the kill below takes its parse processes too
        )


def test_sigkill_in_the_middle_of_deliveries_loses_nothing(project_dir: Path, db_url: str) -> None:
    """The receiver is down while items arrive; the worker is killed with SIGKILL while
    requests are in flight and started again; the receiver comes back. In the end every
    item was delivered, every attempt of an event carried one webhook-id, none is lost."""
    items = 8
    seeds = project_dir / "seeds"
    for n in range(1, items):
        (seeds / f"event-{n}.txt").write_text(f"Session {n}.\n{SEED_TEXT}", encoding="utf-8")
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}/hook"
    write_config(
        project_dir,
        hook_url,
        db_url,
        delivery="every = 0.2\nlease = 1.5\ntimeout = 5\nretry_schedule = "
        + "[0.3, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,"
        " 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]",
        schedule="seeds_every = 0.5\nfeeds_every = 3600\npublish_every = 3600",
    )
    store = stored(db_url)
    worker = start_worker(project_dir)
    receiver: Receiver | None = None
    try:
        # 1. The receiver is down: every seed is stored with its deliveries (a report that
        #    joins an earlier item is an "item.updated"), and the attempts fail.
        def all_tried_while_down() -> bool:
            try:
                seen = store.seed_file_status()
                rows = store.deliveries()
            except Exception:  # the worker has not created the schema yet
                return False
            return len(seen) == items and bool(rows) and all(r.attempts >= 1 for r in rows)

        log = project_dir / "worker.log"
        wait_for(all_tried_while_down, 40, "failed attempts while the receiver is down", log)
        #: Each delivery: its webhook-id and the event it announces.
        events = {r.id: (r.item_id, r.event) for r in store.deliveries()}
        assert all(r.status in ("pending", "failed") for r in store.deliveries())

        # 2. The receiver comes back, slow: the worker is killed while requests are in flight.
        # Requests that arrive before the kill get no answer until the worker is dead.
        killed = threading.Event()

        def slow(_received: Received) -> Reply:
            killed.wait(30)
            return Reply(204)

        receiver = Receiver(port=port)
        receiver.reply = slow
        assert receiver.arrived.wait(30), "no delivery reached the receiver"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)
        in_flight = {r.webhook_id for r in receiver.received}
        killed.set()

        # 3. Restarted: the killed worker's claims come back when their lease runs out.
        worker = start_worker(project_dir)

        def all_delivered() -> bool:
            return all(r.status == "delivered" for r in store.deliveries())

        wait_for(all_delivered, 40, "every delivery to be delivered after the restart", log)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:  # a stop past its grace period: test_service's concern
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)
        if receiver is not None:
            receiver.close()
        try:
            rows = store.deliveries()
        finally:
            store.engine.dispose()

    assert receiver is not None
    assert {r.status for r in rows} == {"delivered"}
    assert {r.id: (r.item_id, r.event) for r in rows} == events  # nothing added, nothing lost
    assert [r.error for r in receiver.received if r.error] == []
    for r in receiver.received:  # every attempt of an event carried that event's webhook-id
        assert r.payload is not None
        assert (r.payload["data"]["id"], r.payload["type"]) == events[r.webhook_id]
    assert {r.webhook_id for r in receiver.received} == set(events)
    stored_items = {i.id for i in store.items(relevant_only=True)}
    assert len(stored_items) >= items - 1  # the seeds' variants may merge with the original
    assert {r.payload["data"]["id"] for r in receiver.received if r.payload} == stored_items
    # What was in flight at the kill was sent again after the restart, with the same id.
    counts = {i: sum(r.webhook_id == i for r in receiver.received) for i in in_flight}
    assert in_flight and all(n >= 2 for n in counts.values()), counts
