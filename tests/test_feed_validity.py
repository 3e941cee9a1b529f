"""Every published file is valid for the readers that consume it.

Atom: the RFC 4287 RELAX NG grammar (Appendix B) and the rules it carries as
Schematron, plus the §4.1 MUSTs the grammar cannot say. Atom and RSS: feedparser
with bozo 0, and fastfeedparser as a second, independent parser. JSON Feed: a
JSON Schema of version 1.1. iCalendar: the icalendar library, every event's
facts read back.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import fastfeedparser
import feedparser
import jsonschema
import pytest
import rnc2rng
from icalendar import Calendar
from lxml import etree

from tests.publish_samples import BASE_URL, sample_entries
from worker.config import PublishSettings
from worker.publish import Snapshot, render_all
from worker.publish.entries import sources

SCHEMAS = Path(__file__).parent / "schemas"
ATOM = "{http://www.w3.org/2005/Atom}"
NS = {"atom": "http://www.w3.org/2005/Atom"}
PREFIXES = ["", "zh/", "en/"]


@pytest.fixture(scope="module")
def settings() -> PublishSettings:
    return PublishSettings(base_url=BASE_URL, hub="http://hub.test/websub")


@pytest.fixture(scope="module")
def outputs(settings: PublishSettings) -> dict[str, bytes]:
    return render_all(Snapshot(window=tuple(sample_entries())), settings)


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    rng = rnc2rng.dumps(rnc2rng.loads((SCHEMAS / "atom.rnc").read_text()))
    # rnc2rng declares the empty "local" namespace as a prefix, which XML forbids;
    # the grammar itself refers to it as nsName ns="" and needs no prefix.
    rng = rng.replace('xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(rng.encode()))


def schematron_and_section_4_rules(doc: etree._Element) -> list[str]:
    """RFC 4287's Schematron rules (Appendix B) and the §4.1 MUSTs, as XPath checks."""
    problems = []
    if not (doc.xpath("atom:author", namespaces=NS)) and doc.xpath(
        "atom:entry[not(atom:author)]", namespaces=NS
    ):
        problems.append("feed without author has an entry without author")
    for entry in doc.xpath("atom:entry", namespaces=NS):
        ident = entry.findtext(f"{ATOM}id")
        if not entry.xpath(
            "atom:link[@rel='alternate'] or atom:link[not(@rel)] or atom:content", namespaces=NS
        ):
            problems.append(f"{ident}: no alternate link and no content")
        if not entry.xpath(
            "atom:author or ../atom:author or atom:source/atom:author", namespaces=NS
        ):
            problems.append(f"{ident}: no author")
        # §4.1.1: at most one alternate link per (type, hreflang).
        alternates = Counter(
            (link.get("type"), link.get("hreflang"))
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        )
        if any(n > 1 for n in alternates.values()):
            problems.append(f"{ident}: several alternate links of one type and language")
        for tag in ("id", "title", "updated"):
            if len(entry.findall(f"{ATOM}{tag}")) != 1:
                problems.append(f"{ident}: must have exactly one {tag}")
    return problems


@pytest.mark.parametrize("prefix", PREFIXES)
def test_atom_is_valid_rfc4287(
    outputs: dict[str, bytes], atom_schema: etree.RelaxNG, prefix: str
) -> None:
    doc = etree.fromstring(outputs[prefix + "atom.xml"])
    assert atom_schema.validate(doc), atom_schema.error_log
    assert schematron_and_section_4_rules(doc) == []
    assert doc.xpath("atom:entry", namespaces=NS), "a variant with no entries tests nothing"


def test_the_schema_and_rules_catch_what_they_should(
    outputs: dict[str, bytes], atom_schema: etree.RelaxNG
) -> None:
    """The validation above can fail: broken documents are refused."""
    good = outputs["atom.xml"]
    no_id = etree.fromstring(
        good.replace(b"<id>urn:uuid:", b"<idx>urn:uuid:", 1).replace(
            b"</id>\n    <title>", b"</idx>\n    <title>", 1
        )
    )
    assert not atom_schema.validate(no_id)
    bad_date = etree.fromstring(good.replace(b"<updated>2024", b"<updated>May 2024", 1))
    assert not atom_schema.validate(bad_date)
    # What feedgen 1.0.0 writes on its own (python-feedgen issue 135): every link an alternate.
    doubled = etree.fromstring(good)
    entry = doubled.find(f"{ATOM}entry")
    etree.SubElement(entry, f"{ATOM}link", href="https://a.example/1")
    etree.SubElement(entry, f"{ATOM}link", href="https://a.example/2")
    assert any("several alternate" in p for p in schematron_and_section_4_rules(doubled))


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feedparser_reads_without_complaint(
    outputs: dict[str, bytes], settings: PublishSettings, prefix: str, name: str
) -> None:
    parsed = feedparser.parse(outputs[prefix + name])
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if name == "atom.xml" else "rss20")
    expected = [s for s in sample_entries() if _in(prefix, s.item.doc.lang)]
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{s.id}" for s in expected]
    for entry, s in zip(parsed.entries, expected, strict=True):
        assert entry.link == (s.item.doc.link or f"{BASE_URL}/#item-{s.id}")
        # Titles are plain text: markup in them is text, shown as typed, never run.
        assert entry.title == (s.item.event.title or s.item.doc.title)
        html = entry.content[0].value
        assert "<script" not in html and "onclick" not in html and "javascript:" not in html
        for url in sources(s):
            assert url.replace("&", "&amp;") in html
    hubs = [link.href for link in parsed.feed.links if link.rel == "hub"]
    selfs = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert hubs == [settings.hub]
    assert selfs == [f"{BASE_URL}/feeds/{prefix}{name}"]
    assert parsed.feed.link == f"{BASE_URL}/"


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("name", ["atom.xml", "rss.xml", "feed.json"])
def test_a_second_parser_reads_the_same_entries(
    outputs: dict[str, bytes], prefix: str, name: str
) -> None:
    parsed = fastfeedparser.parse(outputs[prefix + name])
    expected = [s for s in sample_entries() if _in(prefix, s.item.doc.lang)]
    assert [e["id"] for e in parsed.entries] == [f"urn:uuid:{s.id}" for s in expected]
    for entry, s in zip(parsed.entries, expected, strict=True):
        assert entry["link"] == (s.item.doc.link or f"{BASE_URL}/#item-{s.id}")
        assert entry["title"] == (s.item.event.title or s.item.doc.title)
        if name != "rss.xml":  # RSS items carry one link only; the others are in the content
            rels = {(link["rel"], link["href"]) for link in entry["links"] if link["rel"]}
            assert ("alternate", entry["link"]) in rels
            assert {h for r, h in rels if r == "related"} == set(sources(s)) - {s.item.doc.link}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_json_feed_matches_the_1_1_schema(outputs: dict[str, bytes], prefix: str) -> None:
    feed = json.loads(outputs[prefix + "feed.json"])
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(
        feed,
        json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text()),
        format_checker=checker,
    )
    event_schema = json.loads((SCHEMAS / "event-extension.schema.json").read_text())
    expected = [s for s in sample_entries() if _in(prefix, s.item.doc.lang)]
    assert len(feed["items"]) == len(expected)
    for item, s in zip(feed["items"], expected, strict=True):
        jsonschema.validate(item["_event"], event_schema, format_checker=checker)
        assert item["_event"]["sources"] == sources(s)
        assert item["date_published"] == s.first_seen.isoformat()
        assert item["date_modified"] == s.updated.isoformat()


def test_the_json_schema_refuses_what_the_spec_forbids() -> None:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text())
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}
    jsonschema.validate(good, schema)
    bad_items = [
        {"id": "1"},  # neither content_html nor content_text
        {"id": "1", "content_text": "x", "extra": 1},  # unknown key without "_"
        {"content_text": "x"},  # no id
    ]
    for item in bad_items:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "items": [item]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "version": "https://jsonfeed.org/version/1"}, schema)
    jsonschema.validate({**good, "items": [{"id": "1", "content_text": "x", "_x": {}}]}, schema)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_calendar_round_trips_every_event(
    outputs: dict[str, bytes], settings: PublishSettings, prefix: str
) -> None:
    cal = Calendar.from_ical(outputs[prefix + "events.ics"])
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    expected = [s for s in sample_entries() if _in(prefix, s.item.doc.lang) and s.item.event.start]
    assert set(events) == {f"{s.id}@feeds.test" for s in expected}
    assert len(events) == len(list(cal.walk("VEVENT")))
    for s in expected:
        event = events[f"{s.id}@feeds.test"]
        facts = s.item.event
        start = facts.start
        assert start is not None
        last = facts.end if facts.end and facts.end >= start else start
        assert event.decoded("DTSTART") == start
        # All-day DTEND is exclusive (RFC 5545 §3.6.1): the day after the last day.
        assert event.decoded("DTEND") == last + timedelta(days=1)
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        dtstamp = event.decoded("DTSTAMP")
        assert dtstamp == s.updated and dtstamp.utcoffset() == timedelta(0)
        assert event["DTSTAMP"].to_ical().endswith(b"Z")
        assert str(event["SUMMARY"]) == (facts.title or s.item.doc.title)
        assert str(event["URL"]) == (s.item.doc.link or f"{BASE_URL}/#item-{s.id}")
        if facts.city:
            assert facts.city in str(event["LOCATION"])
        description = str(event["DESCRIPTION"])
        for url in sources(s):
            assert url in description
        for name in facts.organizers:
            assert name in description
        # ORGANIZER is a cal-address calendar apps mail; we know names, not addresses.
        assert "ORGANIZER" not in event


def _in(prefix: str, lang: str) -> bool:
    return prefix == "" or lang in (prefix.rstrip("/"), "mixed")
