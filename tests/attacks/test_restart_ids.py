"""Attack: a restart re-announced everything under new ids.

With the database lost (deleted under a running worker, then the worker restarted),
the new database announced every entry again as ``item.created`` with new random
``webhook-id`` values, so receivers could not drop them as repeats. Ids are derived
from the subscriber, the entry, the event and what the entry says now: the same
announcements carry the same ids.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_FILE, run_worker
from tests.test_webhooks_e2e import env, write_config
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parent.parent / "corpus" / "docs"

@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()

def test_a_rebuilt_database_announces_under_the_same_ids(
    tmp_path: Path, receiver: Receiver
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_FILE, seeds)
    for name in ("en01.txt", "en03.txt", "zh01.txt", "zh02.txt"):
        shutil.copy(DOCS / name, seeds)
    write_config(tmp_path, receiver.url)
    assert run_worker("once", cwd=tmp_path, env=env()).returncode == 0
    first = {(r.payload or {})["data"]["id"]: r.webhook_id for r in receiver.received}
    assert len(first) == 5

    shutil.rmtree(tmp_path / "data")  # the database is lost; the sources are not
    receiver.received.clear()
    assert run_worker("once", cwd=tmp_path, env=env()).returncode == 0
    again = {(r.payload or {})["data"]["id"]: r.webhook_id for r in receiver.received}
    assert again == first

def test_ids_differ_for_different_changes_and_subscribers() -> None:
    from worker.notify.plan import message_id

    data = {"id": "e1", "title": "A"}
    same = message_id("crm", "item.created", dict(data))
    assert same == message_id("crm", "item.created", data)
    assert same != message_id("lake", "item.created", data)
    assert same != message_id("crm", "item.updated", data)
    assert same != message_id("crm", "item.created", {**data, "title": "B"})
