"""Publishing: deterministic bytes, stable entries, the feedgen faults worked around,
the window, and files written only when they change."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import feedparser
from lxml import etree
from sqlalchemy import text

from tests.conftest import make_settings
from tests.publish_samples import (
    BASE_URL,
    EN_ENTRY,
    NOW,
    ZH_ENTRY,
    pipeline_item,
    sample_entries,
)
from worker.config import PublishSettings
from worker.publish import Snapshot, render_all, write_all
from worker.publish.syndication import FeedMeta, render_atom

ATOM = "{http://www.w3.org/2005/Atom}"
SETTINGS = PublishSettings(base_url=BASE_URL)
MAIN = FeedMeta(prefix="", language=None, title="t")


def test_same_entries_give_the_same_bytes() -> None:
    first = render_all(Snapshot(window=tuple(sample_entries())), SETTINGS)
    second = render_all(Snapshot(window=tuple(sample_entries())), SETTINGS)
    assert first == second
    assert set(first) >= {
        "atom.xml",
        "rss.xml",
        "feed.json",
        "events.ics",
        "zh/atom.xml",
        "en/feed.json",
        "zh/events.ics",
    }


def test_nothing_depends_on_the_time_of_publishing() -> None:
    """feedgen's ``updated``/``lastBuildDate`` default to now; ours are the newest entry's."""
    entries = sample_entries()
    atom = etree.fromstring(render_atom(entries, SETTINGS, MAIN))
    assert atom.findtext(f"{ATOM}updated") == max(s.updated for s in entries).isoformat()
    rss = feedparser.parse(render_all(Snapshot(window=tuple(entries)), SETTINGS)["rss.xml"])
    assert rss.feed.updated_parsed[:6] == max(s.updated for s in entries).timetuple()[:6]



def test_an_empty_feed_is_dated_by_its_store_not_1970() -> None:
    """A variant with no entries takes the newest change of the window; an empty store
    the day of publishing (stable within the day, so pollers still get 304)."""
    entries = [s for s in sample_entries() if s.item.doc.lang == "en"]
    outputs = render_all(Snapshot(window=tuple(entries), today=NOW.date()), SETTINGS)
    zh = etree.fromstring(outputs["zh/atom.xml"])
    assert zh.findall(f"{ATOM}entry") == []
    assert zh.findtext(f"{ATOM}updated") == max(s.updated for s in entries).isoformat()
    empty = render_all(Snapshot(window=(), today=NOW.date()), SETTINGS)
    assert etree.fromstring(empty["atom.xml"]).findtext(f"{ATOM}updated") == (
        "2024-05-20T00:00:00+00:00"
    )
    assert b"lastBuildDate>Mon, 20 May 2024 00:00:00 +0000" in empty["rss.xml"]
    assert b"1970" not in empty["atom.xml"] + empty["rss.xml"]


def test_entries_keep_the_given_order_newest_first() -> None:
    """feedgen's ``add_entry`` prepends by default; the feed must keep the store's order."""
    entries = sample_entries()
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse(render_all(Snapshot(window=tuple(entries)), SETTINGS)[name])
        assert [e.id for e in parsed.entries] == [f"urn:uuid:{s.id}" for s in entries]


def test_entry_links_carry_rel_and_type() -> None:
    """python-feedgen issue 135: entry links lose rel/type; every one must keep them."""
    entries = sample_entries()
    atom = etree.fromstring(render_atom(entries, SETTINGS, MAIN))
    for entry, s in zip(atom.findall(f"{ATOM}entry"), entries, strict=True):
        links = [
            (link.get("rel"), link.get("type"), link.get("href"))
            for link in entry.findall(f"{ATOM}link")
        ]
        assert all(rel and ctype for rel, ctype, _ in links), links
        alternates = [href for rel, _, href in links if rel == "alternate"]
        assert alternates == [s.item.doc.link or f"{BASE_URL}/#item-{s.id}"]
        related = {href for rel, _, href in links if rel == "related"}
        assert related == set(s.related) - {s.item.doc.link}


def test_entry_fields() -> None:
    entries = sample_entries()
    parsed = feedparser.parse(render_atom(entries, SETTINGS, MAIN))
    for entry, s in zip(parsed.entries, entries, strict=True):
        assert entry.id == f"urn:uuid:{s.id}"
        # published = first seen; updated = when its content last changed.
        assert entry.published == s.first_seen.isoformat()
        assert entry.updated == s.updated.isoformat()
        assert {t.term for t in entry.tags} == set(s.item.event.topics or s.item.relevance.topics)
    by_id = {e.id: e for e in parsed.entries}
    hostile = by_id["urn:uuid:00000000-0000-4000-8000-000000000005"]
    assert hostile.content[0].type == "text/html"
    html = hostile.content[0].value
    assert "<script" not in html and "steal()" not in html and "onclick" not in html
    assert "javascript:" not in html
    assert "Factory &lt;Academy&gt;" in html  # facts escaped, not interpreted
    assert "https://hostile.example/bootcamp?a=1&amp;b=2" in html
    zh = by_id["urn:uuid:00000000-0000-4000-8000-000000000003"]
    assert zh.content[0].language == "zh"
    assert '<div lang="zh">' in zh.content[0].value
    mixed = by_id["urn:uuid:00000000-0000-4000-8000-000000000004"]
    # The primary link once, then the further report; all linked in the content.
    assert mixed.content[0].value.count('href="https://mixed.example/seminar"') == 1
    assert 'href="https://other.example/report"' in mixed.content[0].value


def test_language_variants_carry_their_language() -> None:
    outputs = render_all(Snapshot(window=tuple(sample_entries())), SETTINGS)
    zh = feedparser.parse(outputs["zh/atom.xml"])
    en = feedparser.parse(outputs["en/rss.xml"])
    assert zh.feed.language == "zh" and en.feed.language == "en"
    langs = {s.id: s.item.doc.lang for s in sample_entries()}
    assert {langs[e.id.removeprefix("urn:uuid:")] for e in zh.entries} == {"zh", "mixed"}
    assert {langs[e.id.removeprefix("urn:uuid:")] for e in en.entries} == {"en", "mixed"}
    assert zh.feed.links[0].href == f"{BASE_URL}/feeds/zh/atom.xml"


def test_an_unchanged_store_writes_nothing(tmp_path: Path) -> None:
    entries = sample_entries()
    written = write_all(render_all(Snapshot(window=tuple(entries)), SETTINGS), tmp_path)
    assert "atom.xml" in written and "zh/events.ics" in written
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert write_all(render_all(Snapshot(window=tuple(entries)), SETTINGS), tmp_path) == []
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes
    assert not [p for p in tmp_path.rglob(".*")], "no temp file left behind"
    # One English entry changes: the English and the main files change, the Chinese do not.
    en = entries[3]
    changed = dataclasses.replace(en, updated=en.updated + timedelta(hours=1))
    again = [changed if s is en else s for s in entries]
    written = write_all(render_all(Snapshot(window=tuple(again)), SETTINGS), tmp_path)
    assert "atom.xml" in written and "en/atom.xml" in written
    assert not [n for n in written if n.startswith("zh/")]


def test_worker_publishes_a_window_of_the_newest(tmp_path: Path, db_url: str) -> None:
    from worker.jobs import Worker

    settings = make_settings(tmp_path, db_url, publish=PublishSettings(base_url=BASE_URL, window=2))
    with Worker(settings, clock=lambda: NOW) as worker:
        for days, entry in ((3, EN_ENTRY), (2, ZH_ENTRY)):
            worker.store.save_item(pipeline_item(entry), now=NOW - timedelta(days=days))
        third = dataclasses.replace(EN_ENTRY, link="https://events.example.com/second")
        worker.store.save_item(pipeline_item(third), now=NOW - timedelta(days=1))
        written = worker.publish()
        assert "atom.xml" in written and "events.ics" in written
        parsed = feedparser.parse((tmp_path / "feeds" / "atom.xml").read_bytes())
        assert [e.link for e in parsed.entries] == [
            "https://events.example.com/second",
            ZH_ENTRY.link,
        ]
        ids = [e.id for e in parsed.entries]
        assert worker.publish() == []  # nothing changed, nothing written
        # The same item content saved again (a re-fetch): same id, no new bytes.
        worker.store.save_item(pipeline_item(ZH_ENTRY), now=NOW)
        assert worker.publish() == []
        worker.store.save_item(
            pipeline_item(dataclasses.replace(EN_ENTRY, link="https://events.example.com/3rd")),
            now=NOW,
        )
        assert "atom.xml" in worker.publish()
        parsed = feedparser.parse((tmp_path / "feeds" / "atom.xml").read_bytes())
        assert [e.id for e in parsed.entries] == [
            f"urn:uuid:{_id(worker, 'https://events.example.com/3rd')}",
            ids[0],
        ]


def test_the_window_query_reads_an_index(tmp_path: Path) -> None:
    """The publish query must not grow with the store: SQLite reads it from ix_items_publish."""
    from worker.store import Store, connect, migrate

    engine = connect(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    store = Store(engine)
    store.save_item(pipeline_item(EN_ENTRY), now=NOW)
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM items WHERE relevant = 1 "
                "ORDER BY first_seen DESC, id LIMIT 50"
            )
        ).all()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "ix_items_publish" in detail and "TEMP B-TREE" not in detail, detail
    engine.dispose()


def test_the_page_day_does_not_touch_the_feeds() -> None:
    entries = tuple(sample_entries())
    a = render_all(Snapshot(window=entries, today=date(2024, 5, 1)), SETTINGS)
    b = render_all(Snapshot(window=entries, today=date(2024, 12, 1)), SETTINGS)
    assert {k: v for k, v in a.items() if k != "index.html"} == {
        k: v for k, v in b.items() if k != "index.html"
    }


def _id(worker: object, link: str) -> str:
    for s in worker.store.items(relevant_only=True):  # type: ignore[attr-defined]
        if s.item.doc.link == link:
            return str(s.id)
    raise AssertionError(link)


class Hub:
    """A real WebSub hub stand-in on loopback: records publish pings, answers 204 or 500."""

    def __init__(self, status: int = 204) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        self.pings: list[dict[str, list[str]]] = []
        self.content_types: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hub.content_types.append(self.headers["Content-Type"])
                hub.pings.append(parse_qs(body.decode()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hub"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_websub_hub_is_linked_and_pinged_after_a_change(tmp_path: Path) -> None:
    from worker.jobs import Worker

    hub = Hub()
    try:
        settings = make_settings(
            tmp_path, None, publish=PublishSettings(base_url=BASE_URL, hub=hub.url)
        )
        with Worker(settings, clock=lambda: NOW) as worker:
            worker.store.save_item(pipeline_item(EN_ENTRY), now=NOW)
            worker.publish()
            pinged = {p["hub.url"][0] for p in hub.pings}
            assert all(p["hub.mode"] == ["publish"] for p in hub.pings)
            assert set(hub.content_types) == {"application/x-www-form-urlencoded"}
            # Every changed feed; the English one changed, the (empty) Chinese ones were new too.
            assert f"{BASE_URL}/feeds/atom.xml" in pinged
            assert f"{BASE_URL}/feeds/en/rss.xml" in pinged
            assert f"{BASE_URL}/feeds/feed.json" in pinged
            assert not [u for u in pinged if u.endswith((".ics", ".html"))]
            feeds = tmp_path / "feeds"
            for name in ("atom.xml", "rss.xml", "zh/atom.xml"):
                parsed = feedparser.parse((feeds / name).read_bytes())
                rels = {(link.rel, link.href) for link in parsed.feed.links}
                assert ("hub", hub.url) in rels
                assert ("self", f"{BASE_URL}/feeds/{name}") in rels
            assert f'"url": "{hub.url}"' in (feeds / "feed.json").read_text()
            # Nothing changed: no ping.
            hub.pings.clear()
            assert worker.publish() == []
            assert hub.pings == []
            # A Chinese entry arrives: the main and Chinese feeds are pinged, not the English.
            worker.store.save_item(pipeline_item(ZH_ENTRY), now=NOW)
            worker.publish()
            pinged = {p["hub.url"][0] for p in hub.pings}
            assert f"{BASE_URL}/feeds/zh/atom.xml" in pinged
            assert f"{BASE_URL}/feeds/atom.xml" in pinged
            assert not [u for u in pinged if "/feeds/en/" in u]
    finally:
        hub.close()


def test_a_failing_hub_is_logged_not_fatal(tmp_path: Path, caplog: object) -> None:
    from worker.jobs import Worker
    from worker.publish.websub import ping_hub

    hub = Hub(status=500)
    try:
        settings = make_settings(
            tmp_path, None, publish=PublishSettings(base_url=BASE_URL, hub=hub.url)
        )
        with Worker(settings, clock=lambda: NOW) as worker:
            worker.store.save_item(pipeline_item(EN_ENTRY), now=NOW)
            written = worker.publish()
            assert "atom.xml" in written and hub.pings
            assert "hub answered HTTP 500" in caplog.text  # type: ignore[attr-defined]
    finally:
        hub.close()
    # A hub that is not there at all: a value, not an exception.
    (result,) = ping_hub("http://127.0.0.1:9/hub", ["http://x/feeds/atom.xml"], timeout=2)
    assert not result.ok and result.error and result.error.startswith("websub:")
