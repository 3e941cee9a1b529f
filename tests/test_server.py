"""Serving the feeds as a polling reader sees them: real HTTP on loopback.

A reader's first fetch gets 200 with a strong ETag and Last-Modified; its
conditional requests get 304 until an entry changes; gzip when it asks for it.
"""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.publish_samples import BASE_URL, EN_ENTRY, NOW, ZH_ENTRY, pipeline_item
from worker.config import PublishSettings
from worker.server import FeedServer, accepts_gzip, make_app

MAX_AGE = 300
TYPES = {
    "/feeds/atom.xml": "application/atom+xml; charset=utf-8",
    "/feeds/rss.xml": "application/rss+xml; charset=utf-8",
    "/feeds/feed.json": "application/feed+json; charset=utf-8",
    "/feeds/events.ics": "text/calendar; charset=utf-8",
    "/feeds/zh/atom.xml": "application/atom+xml; charset=utf-8",
    "/feeds/en/events.ics": "text/calendar; charset=utf-8",
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Callable[[], object]]]:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    app = make_app(feeds, metrics=lambda: b"up 1\n", max_age=MAX_AGE)
    server = FeedServer(app, host="127.0.0.1", port=0, rescan=lambda: None)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", feeds, app.site.refresh
    finally:
        server.stop()


def test_a_reader_polls_and_gets_304_until_something_changes(
    tmp_path: Path, db_url: str, served: tuple[str, Path, Callable[[], object]]
) -> None:
    from worker.jobs import Worker

    url, feeds, refresh = served
    settings = make_settings(
        tmp_path, db_url, feeds_dir=feeds, publish=PublishSettings(base_url=BASE_URL)
    )
    with Worker(settings, clock=lambda: NOW) as worker, httpx.Client(base_url=url) as reader:
        worker.store.save_item(pipeline_item(EN_ENTRY), now=NOW - timedelta(days=1))
        worker.publish()
        refresh()
        for path in ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/feeds/events.ics"):
            first = reader.get(path)
            assert first.status_code == 200
            etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
            assert etag.startswith('"') and not etag.startswith("W/")
            assert first.headers["Cache-Control"] == (
                f"public, max-age={MAX_AGE}, stale-while-revalidate={MAX_AGE}"
            )
            assert first.headers["Content-Type"] == TYPES[path]
            again = reader.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["ETag"] == etag
            since = reader.get(path, headers={"If-Modified-Since": modified})
            assert since.status_code == 304
            # A publish with nothing new changes nothing: still 304.
            assert worker.publish() == []
            assert reader.get(path, headers={"If-None-Match": etag}).status_code == 304

        before = reader.get("/feeds/atom.xml")
        worker.store.save_item(pipeline_item(ZH_ENTRY), now=NOW)
        assert "atom.xml" in worker.publish()
        refresh()
        after = reader.get("/feeds/atom.xml", headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200
        assert after.headers["ETag"] != before.headers["ETag"]
        assert ZH_ENTRY.link is not None and ZH_ENTRY.link.encode() in after.content
        # The English variant did not change: its readers still get 304.
        en = reader.get("/feeds/en/atom.xml")
        worker.store.save_item(
            pipeline_item(dataclasses.replace(ZH_ENTRY, link="https://events.example.cn/2")),
            now=NOW,
        )
        worker.publish()
        refresh()
        assert (
            reader.get("/feeds/en/atom.xml", headers={"If-None-Match": en.headers["ETag"]})
        ).status_code == 304


def test_gzip_head_and_content_types(served: tuple[str, Path, Callable[[], object]]) -> None:
    from tests.publish_samples import sample_entries
    from worker.publish import Snapshot, render_all, write_all

    url, feeds, refresh = served
    outputs = render_all(Snapshot(window=tuple(sample_entries())), PublishSettings())
    write_all(outputs, feeds)
    refresh()
    with httpx.Client(base_url=url) as client:
        for path, ctype in TYPES.items():
            plain = client.get(path, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200 and plain.headers["Content-Type"] == ctype
            assert "Content-Encoding" not in plain.headers
            assert plain.content == outputs[path.removeprefix("/feeds/")]
            with client.stream("GET", path, headers={"Accept-Encoding": "gzip, br"}) as zipped:
                raw = b"".join(zipped.iter_raw())
            assert zipped.headers["Content-Encoding"] == "gzip"
            assert zipped.headers["Vary"] == "Accept-Encoding"
            assert gzip.decompress(raw) == plain.content
            assert len(raw) < len(plain.content)
            # Another representation, another strong ETag; either one revalidates.
            assert zipped.headers["ETag"] != plain.headers["ETag"]
            for tag in (zipped.headers["ETag"], plain.headers["ETag"]):
                hit = client.get(path, headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
                assert hit.status_code == 304
            refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
            assert "Content-Encoding" not in refused.headers
            head = client.head(path, headers={"Accept-Encoding": "identity"})
            assert head.status_code == 200 and head.content == b""
            assert head.headers["Content-Length"] == str(len(plain.content))
            assert head.headers["ETag"] == plain.headers["ETag"]
        assert client.get("/feeds/../../etc/passwd").status_code == 404
        assert client.get("/feeds/zh/").status_code == 404
        assert client.get("/feeds/nothing.xml").status_code == 404
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/metrics").text == "up 1\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("*;q=0", False),
        ("br, *;q=0", False),
        ("", False),
        (None, False),
        ("deflate, *;q=0.1", True),
        ("gzip;q=abc", False),
    ],
)
def test_accept_encoding(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected
