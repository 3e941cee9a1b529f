"""One cycle of the worker over real sources: a feed on a local HTTP server and the seed folder."""

from __future__ import annotations

from pathlib import Path

import feedparser
from sqlalchemy import text

from tests.conftest import SEED_FILE, LocalServer, Response, make_settings
from worker.jobs import Worker
from worker.pipeline.dedup import KEY_MAX_CHARS, exact_keys

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Association news</title><link>{base}/</link>
<description>News</description>
<item><guid>{base}/news/1</guid><link>{base}/news/1?utm_source=rss</link>
<title>Smart Manufacturing Training Course held in Suzhou</title>
<pubDate>Tue, 10 Sep 2024 08:00:00 GMT</pubDate>
<description>From September 12 to 14, 2024, a smart manufacturing training course on digital
twins and MES was held in Suzhou, organized by the Suzhou Industrial Park Administrative
Committee. Engineers from 40 factories attended the training.</description></item>
<item><guid>{base}/news/2</guid><link>{base}/news/2</link>
<title>Quarterly earnings of a machine tool maker</title>
<description>Revenue grew 5 percent.</description></item>
</channel></rss>"""


def serve_feed(server: LocalServer) -> str:
    server.routes["/feed.xml"] = Response(
        200, RSS.format(base=server.url).encode(), {"Content-Type": "application/rss+xml"}
    )
    return f"{server.url}/feed.xml"


def test_a_cycle_ingests_a_feed_and_the_seed_folder(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    feed_url = serve_feed(http_server)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    settings = make_settings(tmp_path, db_url, feeds=[{"url": feed_url, "name": "assoc"}])

    with Worker(settings) as worker:
        report = worker.cycle()
        by_source = {r.source: r for r in report.sources}
        assert by_source[feed_url].status == "ok" and by_source[feed_url].created == 2
        assert by_source[f"seed:{SEED_FILE.name}"].created == 1
        assert {"atom.xml", "rss.xml", "feed.json", "events.ics"} <= set(report.published)
        stored = worker.store.items(relevant_only=False)
        assert len(stored) == 3
        (state,) = worker.store.feeds()
        assert state.last_status == "ok" and state.items_seen == 2 and state.error_count == 0

        # Same inputs again: nothing new stored, nothing rewritten.
        again = worker.cycle()
        assert again.published == ()
        assert worker.store.count_items() == 3

    atom = feedparser.parse((tmp_path / "feeds" / "atom.xml").read_bytes())
    assert atom.bozo == 0
    titles = [e.title for e in atom.entries]
    assert not any("earnings" in t for t in titles), "irrelevant items are stored, not published"


def test_a_failing_feed_is_recorded_and_the_others_go_on(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    good = serve_feed(http_server)
    http_server.routes["/broken.xml"] = Response(500, b"oops")
    settings = make_settings(tmp_path, db_url,
                             feeds=[{"url": f"{http_server.url}/broken.xml"}, {"url": good}])
    with Worker(settings) as worker:
        reports = {r.source: r for r in worker.ingest_feeds()}
        states = {f.url: f for f in worker.store.feeds()}
    broken = f"{http_server.url}/broken.xml"
    assert reports[broken].status == "error" and "500" in (reports[broken].error or "")
    assert states[broken].error_count == 1 and "500" in (states[broken].last_error or "")
    assert reports[good].status == "ok" and reports[good].created == 2


#: A rule the test adds to the real database: it refuses any item titled with "REFUSE".
REFUSING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.title LIKE '%REFUSE%'"
        " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_items() RETURNS trigger AS $$ BEGIN"
        " IF NEW.title LIKE '%REFUSE%' THEN RAISE EXCEPTION 'refused by the test'; END IF;"
        " RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON items"
        " FOR EACH ROW EXECUTE FUNCTION refuse_items()",
    ],
}


def test_a_feed_whose_items_the_database_refuses_is_recorded_and_its_batch_stored(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    """The database refuses one feed's items (a trigger, for real): that feed is recorded
    as failing with the reason, and the feeds stored in the same batch are kept."""
    good = serve_feed(http_server)
    refused, other = f"{http_server.url}/refused.xml", f"{http_server.url}/other.xml"
    variants = {"/refused.xml": ("Quarterly", "REFUSE"), "/other.xml": ("/news/", "/other/")}
    for path, (old, new) in variants.items():
        body = RSS.replace(old, new).format(base=http_server.url).encode()
        http_server.routes[path] = Response(200, body, {"Content-Type": "application/rss+xml"})
    settings = make_settings(
        tmp_path, db_url, feeds=[{"url": good}, {"url": refused}, {"url": other}]
    )
    with Worker(settings) as worker:
        with worker.store.engine.begin() as conn:
            for statement in REFUSING_TRIGGER[conn.dialect.name]:
                conn.execute(text(statement))
        reports = {r.source: r for r in worker.ingest_feeds()}
        states = {f.url: f for f in worker.store.feeds()}
        assert worker.store.count_items() == 4  # both good feeds' items, none of the refused
    assert reports[refused].status == "error"
    assert (reports[refused].error or "").startswith("store: ")
    assert "refused by the test" in (reports[refused].error or "")
    assert states[refused].error_count == 1 and states[refused].lease_until is None
    assert "[SQL" not in (states[refused].last_error or "")  # the reason, not the statement
    for url in (good, other):
        # The two copies of one feed's text may join each other's entries: stored either way.
        assert reports[url].status == "ok" and reports[url].created + reports[url].updated == 2
        assert states[url].last_status == "ok"


def test_a_link_of_any_length_is_stored_on_either_database(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    """Tracking links run long: 3,000 characters is stored as it is, and keyed by a hash."""
    long_link = f"{http_server.url}/news/2?" + "&".join(f"p{n}=value{n}" for n in range(300))
    assert len(long_link) > 3000
    body = RSS.replace("{base}/news/2</link>", long_link + "</link>")
    http_server.routes["/long.xml"] = Response(
        200, body.format(base=http_server.url).encode(), {"Content-Type": "application/rss+xml"}
    )
    settings = make_settings(tmp_path, db_url, feeds=[{"url": f"{http_server.url}/long.xml"}])
    with Worker(settings) as worker:
        (report,) = worker.ingest_feeds()
        assert report.status == "ok" and report.created == 2
        stored = {s.item.doc.link: s.item for s in worker.store.items(relevant_only=False)}
        assert long_link in stored
        # Its keys are bounded (they are indexed); the link itself is whole.
        keys = [stored[long_link].key, *exact_keys(stored[long_link].doc)]
        assert all(len(key) <= KEY_MAX_CHARS for key in keys)
        assert worker.store.stored_hashes([stored[long_link].key])


def test_a_json_feed_with_nul_characters_is_stored_on_either_database(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J",'
        b'"items": [{"id": "1\\u0000",'
        b'"url": "https://example.org/1", "title": "Smart manufacturing training\\u0000 course",'
        b'"content_text": "A smart manufacturing training course on digital twins and MES'
        b' was held in Suzhou from 12 to 14 September 2024.\\u0000"}]}'
    )
    json_type = {"Content-Type": "application/feed+json"}
    http_server.routes["/feed.json"] = Response(200, body, json_type)
    settings = make_settings(tmp_path, db_url, feeds=[{"url": f"{http_server.url}/feed.json"}])
    with Worker(settings) as worker:
        (report,) = worker.ingest_feeds()
        assert report.status == "ok" and report.created == 1
        (stored,) = worker.store.items(relevant_only=False)
    assert stored.item.doc.title == "Smart manufacturing training course"
