"""One cycle of the worker over real sources: a feed on a local HTTP server and the seed folder."""

from __future__ import annotations

from pathlib import Path

import feedparser

from tests.conftest import SEED_FILE, LocalServer, Response, make_settings
from worker.app import Worker

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


def test_a_feed_whose_items_the_database_refuses_is_recorded_and_its_batch_stored(
    tmp_path: Path, postgres_url: str, http_server: LocalServer
) -> None:
    """PostgreSQL refuses an index entry over 2,704 bytes: a 3,000-character link fails
    that feed's items for real. The feeds stored in the same batch are kept."""
    good = serve_feed(http_server)
    long_link = f"{http_server.url}/news/" + "x" * 3000
    http_server.routes["/long.xml"] = Response(
        200,
        RSS.replace("{base}/news/2</link>", long_link + "</link>").format(
            base=http_server.url
        ).encode(),
        {"Content-Type": "application/rss+xml"},
    )
    http_server.routes["/other.xml"] = Response(
        200, RSS.replace("/news/", "/other/").format(base=http_server.url).encode(),
        {"Content-Type": "application/rss+xml"},
    )
    refused, other = f"{http_server.url}/long.xml", f"{http_server.url}/other.xml"
    settings = make_settings(
        tmp_path, postgres_url, feeds=[{"url": good}, {"url": refused}, {"url": other}]
    )
    with Worker(settings) as worker:
        reports = {r.source: r for r in worker.ingest_feeds()}
        states = {f.url: f for f in worker.store.feeds()}
        assert worker.store.count_items() == 4  # both good feeds' items, none of the refused
    assert reports[refused].status == "error"
    assert (reports[refused].error or "").startswith("store: ")
    assert states[refused].error_count == 1 and states[refused].lease_until is None
    assert "[SQL" not in (states[refused].last_error or "")  # the reason, not the statement
    for url in (good, other):
        # The two copies of one feed's text may join each other's entries: stored either way.
        assert reports[url].status == "ok" and reports[url].created + reports[url].updated == 2
        assert states[url].last_status == "ok"


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
