"""The store on real SQLite and real PostgreSQL: migrations, exact dedup, updates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from worker.model import Document, EventFacts, Item, Relevance
from worker.records import DedupPlan, FeedUpdate, ItemWrite
from worker.store import Store, connect, migrate
from worker.store.items import item_id

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_item(key: str, text: str = "Smart manufacturing training.", relevant: bool = True) -> Item:
    doc = Document(
        source="https://example.org/feed",
        guid=key,
        link=f"https://example.org/{key}",
        title=f"Title {key}",
        text=text,
        html=f"<p>{text}</p>",
        summary=text,
        published=NOW,
        lang="en",
    )
    return Item(
        key=f"https://example.org/feed#guid:{key}",
        doc=doc,
        relevance=Relevance(relevant, 5.0, ("topic:x@title(+5.0)",), ("smart manufacturing",)),
        event=EventFacts(title=doc.title, start=NOW.date(), city="Beijing"),
        content_hash=str(hash(text)),
    )


def test_migrations_run_twice(store: Store) -> None:
    migrate(store.engine)  # the fixture ran them once; again is a no-op
    assert store.count_items() == 0


def test_the_same_entry_is_stored_once(store: Store) -> None:
    item = make_item("a")
    first = store.save_item(item, now=NOW)
    second = store.save_item(item, now=NOW + timedelta(minutes=5))
    assert first.change == "created" and second.change == "unchanged"
    assert first.id == second.id
    assert store.count_items() == 1


def test_changed_content_updates_in_place(store: Store) -> None:
    store.save_item(make_item("a"), now=NOW)
    later = NOW + timedelta(hours=1)
    result = store.save_item(
        make_item("a", text="Smart manufacturing training, moved to May."), now=later
    )
    assert result.change == "updated"
    (stored,) = store.items()
    assert (stored.first_seen, stored.updated) == (NOW, later)
    assert stored.item.doc.text.endswith("moved to May.")
    assert stored.item.event.city == "Beijing"


def test_items_are_newest_first_and_irrelevant_ones_kept_apart(store: Store) -> None:
    for n in range(5):
        store.save_item(make_item(f"k{n}", relevant=n != 2), now=NOW + timedelta(minutes=n))
    assert [s.item.doc.guid for s in store.items()] == ["k4", "k3", "k1", "k0"]
    assert [s.item.doc.guid for s in store.items(limit=2)] == ["k4", "k3"]
    assert store.count_items() == 5
    assert len(store.items(relevant_only=False)) == 5


def test_seed_file_hashes_round_trip(store: Store) -> None:
    store.record_seed_file("a.txt", content_hash="h1", status="ok", error=None, now=NOW)
    store.record_seed_file("b.txt", content_hash="h2", status="error", error="empty", now=NOW)
    store.record_seed_file("a.txt", content_hash="h3", status="ok", error=None, now=NOW)
    assert store.seed_file_hashes() == {"a.txt": "h3", "b.txt": "h2"}


def test_replicas_migrating_at_once_do_not_collide(postgres_url: str) -> None:
    """Three processes start on one empty PostgreSQL at the same moment."""
    import subprocess
    import sys

    code = "import sys; from worker.store import connect, migrate; migrate(connect(sys.argv[1]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    engine = connect(postgres_url)
    with engine.connect() as conn:
        heads = conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar()
    engine.dispose()
    assert heads and heads >= 1


@pytest.mark.parametrize("together", [True, False])
def test_new_items_written_together_end_where_one_at_a_time_would_put_them(
    store: Store, together: bool
) -> None:
    def plan(*keys: str) -> DedupPlan:
        return DedupPlan(cluster=None, keys=keys)

    earlier = store.save_items([ItemWrite(make_item("p"), NOW, plan("url:p"))])[0]
    a, b, c = make_item("a"), make_item("b"), make_item("c")
    d = make_item("d", relevant=False)
    at = [NOW + timedelta(seconds=n) for n in range(1, 7)]
    writes = [
        ItemWrite(a, at[0], plan("url:a")),
        ItemWrite(b, at[1], plan("url:p")),  # a key the earlier entry owns: joins it
        ItemWrite(c, at[2], plan("url:a")),  # a key ``a`` took just before: joins ``a``
        ItemWrite(d, at[3], plan("url:a")),  # irrelevant: owns no key, an entry of its own
        ItemWrite(a, at[4], plan("url:a")),  # the same item twice in one feed
        ItemWrite(make_item("p"), at[5], plan("url:p")),  # said new, but stored already
    ]
    fresh = {w.item.key for w in writes} if together else set()
    results = store.save_items(writes, fresh=fresh)
    got = [(r.id, r.change, r.new_item) for r in results]
    ident = {k: item_id(i.key) for k, i in zip("abcd", (a, b, c, d), strict=True)}
    assert got == [
        (ident["a"], "created", True),
        (earlier.id, "updated", True),
        (ident["a"], "updated", True),
        (ident["d"], "created", True),
        (ident["a"], "unchanged", False),
        (earlier.id, "unchanged", False),
    ]
    assert store.count_items() == 5 and store.count_clusters() == 3
    entries = {e.id: (e.first_seen, e.updated) for e in store.items(relevant_only=False)}
    assert entries == {
        earlier.id: (NOW, at[1]),  # a joining report is a change
        ident["a"]: (at[0], at[2]),
        ident["d"]: (at[3], at[3]),
    }
    hashes = store.stored_hashes([a.key, d.key, "https://example.org/feed#guid:none"])
    assert {key: h.content for key, h in hashes.items()} == {
        a.key: a.content_hash,
        d.key: d.content_hash,
    }


@pytest.mark.parametrize("together", [True, False])
def test_an_item_joining_an_entry_claims_its_keys_before_the_items_after_it(
    store: Store, together: bool
) -> None:
    # ``a`` joins the earlier entry (a fuzzy layer said so) and claims key K for it; ``b``
    # has key K too but no plan (its facts conflicted): the key sends it to that entry.
    earlier = store.save_items([ItemWrite(make_item("e"), NOW, DedupPlan(None, ("url:e",)))])[0]
    a, b = make_item("a"), make_item("b")
    writes = [
        ItemWrite(a, NOW, DedupPlan(cluster=earlier.id, keys=("url:K",))),
        ItemWrite(b, NOW, DedupPlan(cluster=None, keys=("url:K",))),
        ItemWrite(make_item("c"), NOW, DedupPlan(cluster=None, keys=("url:c",))),
    ]
    fresh = {w.item.key for w in writes} if together else set()
    results = store.save_items(writes, fresh=fresh)
    assert [(r.id, r.change) for r in results] == [
        (earlier.id, "updated"),
        (earlier.id, "updated"),
        (item_id(writes[2].item.key), "created"),
    ]


def test_an_item_rescored_relevant_brings_its_dedup_facts(store: Store) -> None:
    item = make_item("r", relevant=False)
    store.save_item(item, now=NOW, dedup=DedupPlan(None, ("url:r",), facts={}))
    assert list(store.dedup_rows()) == []  # irrelevant: not in the dedup index
    now_relevant = Item(
        key=item.key, doc=item.doc, relevance=Relevance(True, 6.0, (), ("x",)),
        event=item.event, content_hash=item.content_hash,
    )  # fmt: skip
    plan = DedupPlan(None, (), b"\x01" * 256, 50, {"city": "Beijing"})
    store.rescore_item(item_id(item.key), now_relevant, dedup=plan)
    ((cluster, signature, shingles, facts),) = store.dedup_rows()
    assert cluster == item_id(item.key) and facts == {"city": "Beijing"}
    assert signature == b"\x01" * 256 and shingles == 50
    assert [e.id for e in store.items(relevant_only=True)] == [cluster]


def test_writes_inside_one_transaction_commit_together_or_not_at_all(store: Store) -> None:
    store.add_feed("https://example.org/feed")
    update = FeedUpdate("ok", NOW, NOW + timedelta(hours=1), http_status=200, items_seen=2)
    with store.transaction():
        store.save_items([ItemWrite(make_item("a"), NOW), ItemWrite(make_item("b"), NOW)])
        # Reads inside the block see its writes (a feed's look-up sees the feed before it).
        assert set(store.stored_hashes([make_item("a").key, make_item("b").key])) == {
            make_item("a").key, make_item("b").key,
        }
        # Another thread (the HTTP server, say) neither joins nor sees the open block.
        with ThreadPoolExecutor(1) as other:
            assert other.submit(store.count_items).result() == 0
        store.record_feed_results([("https://example.org/feed", update)])
    assert store.count_items() == 2
    assert store.feeds()[0].items_seen == 2

    with pytest.raises(RuntimeError), store.transaction():
        store.save_item(make_item("c"), now=NOW)
        store.record_feed_results([("https://example.org/feed", update)])
        raise RuntimeError("the batch fails after its writes")
    assert store.count_items() == 2  # "c" was rolled back with the rest of its batch
    assert make_item("c").key not in store.stored_hashes([make_item("c").key])
