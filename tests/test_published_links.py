"""Links and text from the network cannot run in a reader, a calendar or the page.

An entry whose link is ``javascript:…`` (or ``data:``, or a scheme hidden behind
a tab or a leading space, as a browser reads it) is published without that link
and still published; plain text goes out escaped wherever a format reads HTML.
"""

from __future__ import annotations

import dataclasses
import json

import feedparser
import pytest
from icalendar import Calendar
from lxml import etree, html

from tests.publish_samples import BASE_URL, NOW, pipeline_item, stored
from worker.config import PublishSettings
from worker.model import Entry
from worker.publish import Snapshot, render_all
from worker.publish.entries import safe_url

SETTINGS = PublishSettings(base_url=BASE_URL)
HOSTILE_LINKS = [
    "javascript:alert(document.domain)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "\x01javascript:alert(1)",
]
EN_TEXT = (
    "The Industrial Internet Alliance will hold a two-day smart manufacturing training "
    "workshop on digital twins and Industry 4.0 in Shanghai from June 12 to June 13, 2024. "
    "<script>alert('seed')</script> The training course is organized by the Shanghai "
    "Smart Manufacturing Association."
)


@pytest.mark.parametrize("link", ["https://events.example.com/ok", "HTTP://Example.com/x"])
def test_http_links_pass(link: str) -> None:
    assert safe_url(link) == link


@pytest.mark.parametrize("link", [*HOSTILE_LINKS, "//example.com/x", "https:///x", "mailto:a@b"])
def test_other_schemes_are_dropped(link: str) -> None:
    assert safe_url(link) is None


def hostile_entries(link: str) -> list:  # type: ignore[type-arg]
    entry = Entry(source="seed:x.txt", guid=None, link=link, title="Smart Manufacturing "
                  "Workshop: Digital Twins", content=EN_TEXT)  # fmt: skip
    item = pipeline_item(entry)
    assert item.relevance.relevant
    return [stored(1, item, days_ago=0, related=(link, "https://ok.example/report"))]


def every_link(outputs: dict[str, bytes]) -> list[str]:
    """Every URL a reader, a calendar app or a browser could follow, in every format."""
    links: list[str] = []
    for name, data in outputs.items():
        if name.endswith("atom.xml"):
            links += etree.fromstring(data).xpath("//*[local-name()='link']/@href")
        elif name.endswith("rss.xml"):
            root = etree.fromstring(data)
            links += [e.text for e in root.iter("link", "comments") if e.text]
            links += root.xpath("//*[local-name()='link']/@href")
        elif name.endswith("feed.json"):
            for item in json.loads(data)["items"]:
                links += [item["url"], item.get("external_url", ""), *item["_event"]["sources"]]
        elif name.endswith(".ics"):
            for event in Calendar.from_ical(data).walk("VEVENT"):
                links.append(str(event["URL"]))
        elif name.endswith(".html"):
            links += html.fromstring(data).xpath("//a/@href | //link/@href")
    # Links inside content HTML count too: a reader renders it.
    for name, data in outputs.items():
        if name.endswith("feed.json"):
            for item in json.loads(data)["items"]:
                links += html.fromstring(item["content_html"]).xpath("//a/@href")
    return links


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_a_hostile_link_is_published_nowhere_and_the_entry_is_kept(link: str) -> None:
    outputs = render_all(Snapshot(window=tuple(hostile_entries(link)), today=NOW.date()), SETTINGS)
    links = every_link(outputs)
    assert links, "the check read some links"
    assert "https://ok.example/report" in links
    for url in links:
        assert url == "" or safe_url(url) == url or url.startswith(("/", "#", "webcal://")), url
    assert not [u for u in links if "script" in u.lower() or u.lower().startswith("data:")]
    # The entry is there in every format, without the link.
    for name in ("atom.xml", "rss.xml"):
        assert len(feedparser.parse(outputs[name]).entries) == 1
    assert len(json.loads(outputs["feed.json"])["items"]) == 1
    assert len(Calendar.from_ical(outputs["events.ics"]).walk("VEVENT")) == 1
    page = html.fromstring(outputs["index.html"])
    assert len(page.xpath("//ol[@class='events']/li")) == 1


def test_plain_text_is_escaped_where_a_format_reads_html() -> None:
    """A seed's text goes into RSS <description>, which readers render as HTML."""
    entries = hostile_entries("https://events.example.com/ok")
    summary = entries[0].item.doc.summary
    assert "<script>" in summary  # the plain text says it, as text
    outputs = render_all(Snapshot(window=tuple(entries), today=NOW.date()), SETTINGS)
    rss = etree.fromstring(outputs["rss.xml"])
    description = rss.findtext("channel/item/description")
    assert description is not None
    # What a reader renders: the description parsed as HTML holds no script element.
    assert html.fromstring(f"<div>{description}</div>").xpath("//script") == []
    assert "alert('seed')" in html.fromstring(f"<div>{description}</div>").text_content()
    # Atom declares the summary as text; JSON Feed's summary is text by the spec.
    atom = etree.fromstring(outputs["atom.xml"])
    node = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    assert node is not None and node.get("type", "text") == "text"
    for name in ("atom.xml", "rss.xml", "feed.json"):
        for entry in feedparser.parse(outputs[name]).entries:
            for content in entry.get("content", []):
                assert "<script" not in content.value


def test_an_item_whose_only_link_is_hostile_links_to_the_page() -> None:
    entries = hostile_entries("javascript:alert(1)")
    entries = [dataclasses.replace(entries[0], related=())]
    outputs = render_all(Snapshot(window=tuple(entries), today=NOW.date()), SETTINGS)
    item = json.loads(outputs["feed.json"])["items"][0]
    assert item["url"].startswith(BASE_URL + "/")
    assert item["_event"]["sources"] == []
