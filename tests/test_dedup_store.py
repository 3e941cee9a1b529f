"""Dedup with the store, on real SQLite and PostgreSQL: clusters, their keys, the published
entries, the index rebuilt at start, and ``worker once`` run again over the same inputs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import free_port, make_settings, run_worker, worker_env
from tests.test_dedup_pairs import ALL, NOW, THRESHOLD
from worker.jobs import DEFAULT_PROFILE, Worker
from worker.model import Item
from worker.pipeline import process
from worker.pipeline.dedup import fingerprint
from worker.pipeline.dedup_index import DedupIndex, load_dedup_index
from worker.pipeline.profile import load_profile
from worker.records import DedupPlan
from worker.store import Store, connect

PAIRS = {p.name: p for p in ALL}
LATER = NOW + timedelta(hours=2)


def processed(name: str) -> tuple[Item, Item]:
    pair = PAIRS[name]
    profile = load_profile(DEFAULT_PROFILE)
    return process(pair.a, profile, now=NOW), process(pair.b, profile, now=NOW)


def save(store: Store, index: DedupIndex, item: Item, now: datetime) -> tuple[str, str]:
    """What the worker does for one item: decide, save, record in the index."""
    fp = fingerprint(item, index.signer)
    relevant = item.relevance.relevant
    plan = DedupPlan(
        cluster=index.decide(fp).cluster if relevant else None,
        keys=fp.keys,
        signature=None if fp.signature is None else fp.signature.tobytes(),
        shingles=fp.shingles,
        facts=fp.facts.to_json(),
    )
    saved = store.save_item(item, now=now, dedup=plan)
    if saved.new_item and relevant:
        index.add(saved.id, fp)
    return saved.id, saved.change


def test_a_second_report_joins_the_first_ones_entry(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    en, zh = processed("m09_cross_language_seed")
    first = save(store, index, en, NOW)
    second = save(store, index, zh, LATER)
    assert first[1] == "created" and second == (first[0], "updated")
    assert save(store, index, zh, LATER + timedelta(hours=1)) == (first[0], "unchanged")
    (entry,) = store.items(relevant_only=True, limit=10)
    assert entry.id == first[0]
    assert (entry.first_seen, entry.updated) == (NOW, LATER)  # a joining source is a change
    assert entry.item.doc.link == en.doc.link  # the first report is the primary
    assert entry.related == (zh.doc.link,)
    assert store.count_items() == 2 and store.count_clusters() == 1


def test_different_events_stay_different_entries(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    a, b = processed("a01_series_sessions_en")
    ids = {save(store, index, a, NOW)[0], save(store, index, b, LATER)[0]}
    assert len(ids) == 2
    assert [e.related for e in store.items()] == [(), ()]


def test_only_the_primarys_content_changes_the_entry(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    a, b = processed("m03_rewritten_title_en")
    cluster, _ = save(store, index, a, NOW)
    save(store, index, b, NOW)
    edited_b = b.__class__(**{**_fields(b), "content_hash": "changed-b"})
    assert save(store, index, edited_b, LATER) == (cluster, "unchanged")
    edited_a = a.__class__(**{**_fields(a), "content_hash": "changed-a"})
    assert save(store, index, edited_a, LATER) == (cluster, "updated")
    assert store.items()[0].updated == LATER


def _fields(item: Item) -> dict[str, object]:
    return {f: getattr(item, f) for f in item.__dataclass_fields__}


def test_the_store_rechecks_exact_keys_when_the_index_is_behind(store: Store) -> None:
    """Two workers, each with an index that has not seen the other's write, store two
    copies of one article: the unique key puts both in one cluster."""
    a, b = processed("m01_syndicated_tracking_en")
    one, two = DedupIndex(threshold=THRESHOLD), DedupIndex(threshold=THRESHOLD)
    first = save(store, one, a, NOW)
    second = save(store, two, b, LATER)  # ``two`` knows nothing: it proposes a new cluster
    assert second == (first[0], "updated")
    assert store.count_clusters() == 1


def test_irrelevant_items_never_join_or_own_keys(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    a, b = processed("m03_rewritten_title_en")
    irrelevant = a.__class__(**{**_fields(a), "relevance": a.relevance.__class__(False, 0.0)})
    save(store, index, irrelevant, NOW)
    assert save(store, index, b, LATER)[1] == "created"
    assert [e.item.doc.link for e in store.items()] == [b.doc.link]


def test_the_index_is_rebuilt_from_the_store_and_decides_the_same(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    saved: dict[str, str] = {}
    for n, pair in enumerate(ALL):
        a, _ = processed(pair.name)
        saved[pair.name] = save(store, index, a, NOW + timedelta(minutes=n))[0]
    rebuilt = load_dedup_index(store, THRESHOLD)
    assert rebuilt.stats() | {"band_bytes": 0} == index.stats() | {"band_bytes": 0}
    for pair in ALL:
        _, b = processed(pair.name)
        assert rebuilt.decide(fingerprint(b, rebuilt.signer)) == index.decide(
            fingerprint(b, index.signer)
        )


def test_the_publish_window_is_one_entry_per_cluster_newest_first(store: Store) -> None:
    index = DedupIndex(threshold=THRESHOLD)
    names = ["m09_cross_language_seed", "m04_rewritten_title_zh", "a07_same_course_two_cities_en"]
    for n, name in enumerate(names):
        a, b = processed(name)
        save(store, index, a, NOW + timedelta(minutes=2 * n))
        save(store, index, b, NOW + timedelta(minutes=2 * n + 1))
    window = store.items(relevant_only=True, limit=10)
    # newest first: a07's two entries (two cities stay apart), then m04's and m09's one each
    assert [len(e.related) for e in window] == [0, 0, 1, 1]
    assert [e.first_seen for e in window] == sorted((e.first_seen for e in window), reverse=True)
    assert store.items(relevant_only=True, limit=3) == window[:3]


# -- worker once, twice ---------------------------------------------------------------------


def _write(root: Path, name: str, entry_title: str | None, content: str) -> None:
    text = f"{entry_title}\n{content}" if entry_title else content
    (root / "seeds" / name).write_text(text, encoding="utf-8")


@pytest.fixture
def receiver() -> Iterator[object]:
    from tests.webhook_receiver import Receiver

    server = Receiver()
    yield server
    server.close()


@pytest.mark.slow
def test_worker_once_twice_publishes_the_same_bytes_and_announces_nothing_new(
    tmp_path: Path, receiver: object, db_url: str
) -> None:
    from tests.webhook_receiver import TEST_SECRET

    (tmp_path / "seeds").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "worker.toml").write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {free_port()}\n\n'
        f'[[webhooks]]\nname = "hook"\nurl = "{receiver.url}"\nsecret = "env:HOOK_SECRET"\n\n'  # type: ignore[attr-defined]
        "[delivery]\nallow_private_targets = true\n"
    )
    env = worker_env(HOOK_SECRET=TEST_SECRET, WORKER_DATABASE_URL=db_url)
    en, zh = PAIRS["m09_cross_language_seed"].a, PAIRS["m09_cross_language_seed"].b
    _write(tmp_path, "a_en.txt", en.title, en.content)
    _write(tmp_path, "b_zh.txt", zh.title, zh.content)
    other = PAIRS["a07_same_course_two_cities_en"]
    _write(tmp_path, "c_other.txt", other.a.title, other.a.content)

    first = run_worker("once", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    atom = (tmp_path / "feeds" / "atom.xml").read_bytes()
    got = [r.payload for r in receiver.received]  # type: ignore[attr-defined]
    kinds = sorted((p["type"], p["data"]["id"]) for p in got)
    created = [i for t, i in kinds if t == "item.created"]
    assert len(created) == 2, kinds  # two events, not three entries
    assert [t for t, _ in kinds].count("item.updated") == 1  # the Chinese report joined

    second = run_worker("once", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "feeds" / "atom.xml").read_bytes() == atom
    assert len(receiver.received) == len(got)  # type: ignore[attr-defined]

    # A restart with one more report: the rebuilt index sends it to the existing entry.
    copy = PAIRS["m09_cross_language_seed"].a
    _write(tmp_path, "d_copy.txt", "Beijing training series: a repost", copy.content + "\nCESMP.")
    third = run_worker("once", cwd=tmp_path, env=env)
    assert third.returncode == 0, third.stderr
    new = [r.payload for r in receiver.received][len(got) :]  # type: ignore[attr-defined]
    joined = [i for t, i in kinds if t == "item.updated"]
    assert [(p["type"], p["data"]["id"]) for p in new] == [("item.updated", joined[0])]
    store = Store(connect(db_url))
    # seed documents have no links to list as sources; the store holds 4 reports, 2 entries
    assert len(store.items()) == 2 and store.count_items() == 4
    store.engine.dispose()


def test_worker_reports_and_merges_through_its_jobs(tmp_path: Path, db_url: str) -> None:
    """The Worker's own path (index built lazily from the store) over two cycles."""
    (tmp_path / "seeds").mkdir()
    pair = PAIRS["m08_rewrite_event_zh"]
    _write(tmp_path, "a.txt", pair.a.title, pair.a.content)
    settings = make_settings(tmp_path, db_url)
    clock = iter(NOW + timedelta(minutes=n) for n in range(1000))
    with Worker(settings, clock=lambda: next(clock)) as worker:
        assert [r.created for r in worker.ingest_seeds()] == [1]
    _write(tmp_path, "b.txt", pair.b.title, pair.b.content)
    with Worker(settings, clock=lambda: next(clock)) as worker:  # a restart: the index reloads
        reports = worker.ingest_seeds()
        assert [(r.created, r.updated) for r in reports] == [(0, 0), (0, 1)]  # a.txt, b.txt
        (entry,) = worker.store.items()
        assert len(entry.related) == 0  # seed documents have no links to list
        assert worker.store.count_items() == 2
