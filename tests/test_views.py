"""Filtered feeds and event pages, rendered from the store by the real server on loopback.

Every filter parameter alone and combined, in every format; bad values get a
400 with a one-line reason; a filtered feed has its own strong ETag, answers
304 and links to itself; an event page lists every source and offers a
single-event calendar that the icalendar library reads.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from icalendar import Calendar
from lxml import html

from tests.publish_samples import EN_ENTRY, NOW, ZH_ENTRY, hand_item, pipeline_item
from worker.config import PublishSettings
from worker.server import FeedServer, make_app
from worker.server.views import StoreViews
from worker.store import Store

BASE = "http://feeds.test:8080"
SETTINGS = PublishSettings(base_url=BASE, window=20)


def items() -> dict[str, object]:
    suzhou = hand_item("suzhou", lang="zh", title="苏州工业机器人培训班", html="<p>x</p>",
                       link="https://sz.example/robots", start=date(2024, 6, 1),
                       end=date(2024, 6, 3), city="Suzhou",
                       organizers=("苏州工业园区管委会",))  # fmt: skip
    suzhou = dataclasses.replace(
        suzhou, event=dataclasses.replace(suzhou.event, topics=("industrial robots",))
    )
    past = hand_item("past", lang="en", title="Smart factory seminar in Shenzhen",
                     html="<p>y</p>", link="https://sh.example/past", start=date(2024, 3, 1),
                     city="Shenzhen", organizers=("Factory Academy",))  # fmt: skip
    undated = hand_item("undated", lang="en", title="Industry 4.0 webinar series",
                        html="<p>z</p>", link="https://web.example/series")  # fmt: skip
    return {
        "en": pipeline_item(EN_ENTRY),  # Shanghai, 2024-06-12..13
        "zh": pipeline_item(ZH_ENTRY),  # Beijing, 2024-07-08..10
        "suzhou": suzhou,
        "past": past,
        "undated": undated,
    }


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    ids = {}
    for n, (name, item) in enumerate(items().items()):
        result = store.save_item(item, now=NOW - timedelta(hours=n))  # type: ignore[arg-type]
        ids[name] = result.id
    views = StoreViews(store, SETTINGS, today=lambda: NOW.date())
    server = FeedServer(make_app(tmp_path, views=views), host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", ids
    finally:
        server.stop()


def entry_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {e.id.removeprefix("urn:uuid:") for e in feedparser.parse(response.content).entries}


CASES = [
    ("lang=zh", {"zh", "suzhou"}),
    ("lang=en", {"en", "past", "undated"}),
    ("city=Beijing", {"zh"}),
    ("city=北京", {"zh"}),
    ("city=shanghai&city=Suzhou", {"en", "suzhou"}),
    ("province=Jiangsu", {"suzhou"}),
    ("province=江苏", {"suzhou"}),
    ("country=China", {"zh", "suzhou", "past", "en"}),
    ("topic=industrial+robots", {"suzhou"}),
    ("topic=Industrial+Robots&topic=digital+twin", {"suzhou", "en", "zh"}),
    ("organizer=academy", {"past"}),
    ("organizer=园区", {"suzhou"}),
    ("q=webinar", {"undated"}),
    ("q=SMART+factory", {"past"}),
    ("q=机器人", {"suzhou"}),
    ("upcoming=1", {"en", "zh", "suzhou"}),
    ("past=1", {"past"}),
    ("month=2024-07", {"zh"}),
    ("since=2024-06-02", {"en", "zh", "suzhou"}),
    ("until=2024-06-01", {"past", "suzhou"}),
    ("since=2024-06-13&until=2024-07-08", {"en", "zh"}),
    ("lang=zh&upcoming=1&province=Jiangsu", {"suzhou"}),
    ("lang=en&city=Shenzhen&upcoming=1", set()),
    ("q=&lang=", {"en", "zh", "suzhou", "past", "undated"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_each_filter_alone_and_combined(
    site: tuple[str, dict[str, str]], query: str, expected: set[str]
) -> None:
    url, ids = site
    wanted = {ids[name] for name in expected}
    assert entry_ids(httpx.get(f"{url}/feeds/atom.xml?{query}")) == wanted
    assert entry_ids(httpx.get(f"{url}/feeds/rss.xml?{query}")) == wanted
    feed = httpx.get(f"{url}/feeds/feed.json?{query}").json()
    assert {i["id"].removeprefix("urn:uuid:") for i in feed["items"]} == wanted
    calendar = Calendar.from_ical(httpx.get(f"{url}/feeds/events.ics?{query}").content)
    dated = {ids[n] for n in expected if n != "undated"}
    assert {str(e["UID"]).split("@")[0] for e in calendar.walk("VEVENT")} == dated


def test_limit_and_language_folders(site: tuple[str, dict[str, str]]) -> None:
    url, ids = site
    newest_first = [ids[n] for n in ("en", "zh", "suzhou", "past", "undated")]
    parsed = feedparser.parse(httpx.get(f"{url}/feeds/atom.xml?limit=2").content)
    assert [e.id.removeprefix("urn:uuid:") for e in parsed.entries] == newest_first[:2]
    assert entry_ids(httpx.get(f"{url}/feeds/zh/atom.xml?upcoming=1")) == {ids["zh"], ids["suzhou"]}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("color=red", "unknown parameter 'color'"),
        ("lang=fr", "lang: must be one of zh, en"),
        ("lang=zh&lang=en", "lang: given more than once"),
        ("city=Gondor", "city: unknown city 'Gondor'"),  # (Atlantis is a town in Florida)
        ("province=Atlantis", "province: unknown province"),
        ("country=Atlantis", "country: unknown country"),
        ("upcoming=yes", "upcoming: must be 1 or 0"),
        ("since=2024-02-30", "since: not a date YYYY-MM-DD"),
        ("since=2024-06-02&until=2024-06-01", "since: later than until"),
        ("month=2024-13", "month: not a month YYYY-MM"),
        ("limit=0", "limit: must be a whole number from 1 to 20"),
        ("limit=21", "limit: must be a whole number from 1 to 20"),
        ("limit=abc", "limit: must be a whole number"),
        ("q=" + "x" * 300, "q: longer than 200 characters"),
    ],
)
def test_bad_values_are_a_400_with_one_line(
    site: tuple[str, dict[str, str]], query: str, reason: str
) -> None:
    url, _ = site
    for path in ("/feeds/atom.xml", "/feeds/events.ics", "/"):
        response = httpx.get(f"{url}{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.text.startswith("bad request: " + reason)
        assert response.text.count("\n") == 1
    assert httpx.get(f"{url}/feeds/zh/atom.xml?lang=en").status_code == 400


def test_a_filtered_feed_has_its_etag_answers_304_and_links_to_itself(
    site: tuple[str, dict[str, str]],
) -> None:
    url, _ = site
    first = httpx.get(f"{url}/feeds/atom.xml?topic=digital+twin&lang=zh")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    # The same view however the parameters are written: the same bytes and tag.
    again = httpx.get(f"{url}/feeds/atom.xml?lang=zh&topic=Digital+Twin")
    assert again.headers["ETag"] == etag and again.content == first.content
    assert httpx.get(f"{url}/feeds/atom.xml?lang=zh&topic=digital+twin",
                     headers={"If-None-Match": etag}).status_code == 304  # fmt: skip
    other = httpx.get(f"{url}/feeds/atom.xml?lang=en")
    assert other.headers["ETag"] != etag
    parsed = feedparser.parse(first.content)
    self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
    assert self_link == f"{BASE}/feeds/atom.xml?lang=zh&topic=digital+twin"
    assert "digital twin" in parsed.feed.title
    feed = httpx.get(f"{url}/feeds/feed.json?upcoming=1").json()
    assert feed["feed_url"] == f"{BASE}/feeds/feed.json?upcoming=1"


def test_the_event_page_lists_every_source_and_adds_to_a_calendar(
    site: tuple[str, dict[str, str]], store: Store
) -> None:
    url, ids = site
    # A second report of the Suzhou course joins its entry as a further source.
    again = dataclasses.replace(
        items()["suzhou"],  # type: ignore[type-var]
        key="suzhou-again",
        doc=dataclasses.replace(items()["suzhou"].doc, link="https://other.example/r"),  # type: ignore[attr-defined]
        content_hash="other",
    )
    from worker.store.clusters import DedupPlan

    store.save_item(again, now=NOW, dedup=DedupPlan(cluster=ids["suzhou"]))
    page = httpx.get(f"{url}/events/{ids['suzhou']}")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    doc = html.fromstring(page.content)
    sources = doc.xpath("//ol[@class='sources']/li/a/@href")
    assert sources == ["https://sz.example/robots", "https://other.example/r"]
    # Labels in the entry's language.
    assert doc.xpath("//dt/text()")[:3] == ["时间", "地点", "主办单位"]
    assert doc.xpath("//article/@lang") == ["zh"]
    ics = httpx.get(f"{url}/events/{ids['suzhou']}.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(events) == 1
    assert events[0].decoded("DTSTART") == date(2024, 6, 1)
    assert events[0].decoded("DTEND") == date(2024, 6, 4)
    assert str(events[0]["UID"]) == f"{ids['suzhou']}@feeds.test"
    english = html.fromstring(httpx.get(f"{url}/events/{ids['past']}").content)
    assert english.xpath("//dt/text()")[:2] == ["When", "Where"]
    assert httpx.get(f"{url}/events/00000000-0000-4000-8000-000000000000").status_code == 404
    assert httpx.get(f"{url}/events/../feeds/atom.xml").status_code == 404
    assert httpx.get(f"{url}/events/nonsense").status_code == 404


def test_the_filtered_page_offers_this_view_to_subscribe(site: tuple[str, dict[str, str]]) -> None:
    url, ids = site
    page = html.fromstring(httpx.get(f"{url}/?lang=zh&upcoming=1").content)
    titles = page.xpath("//ol[@class='events']/li/a[@class='title']/@href")
    assert sorted(titles) == sorted(f"/events/{ids[n]}" for n in ("zh", "suzhou"))
    links = page.xpath("//a[@class='view']/@href")
    assert "/feeds/atom.xml?lang=zh&upcoming=1" in links
    assert "webcal://feeds.test:8080/feeds/events.ics?lang=zh&upcoming=1" in links
    for link in links:
        if link.startswith("/feeds/"):
            assert httpx.get(url + link).status_code == 200
    assert json.loads(httpx.get(url + "/feeds/feed.json?lang=zh&upcoming=1").content)["items"]
