"""The HTML page at ``/``: upcoming and recent events, with subscribe links.

One self-contained page: inline CSS, no JavaScript, readable on a phone and
on a desktop. Jinja2 escapes everything it inserts (autoescape). Links to the
feeds are root-relative, so the page works wherever it is served; feed readers
find the feeds through ``<link rel="alternate">`` (autodiscovery).

Deterministic like the feeds: it depends on the entries and on ``today``
(which splits upcoming from recent), never on the time it was built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.entries import (
    date_range,
    entry_title,
    language_tag,
    place,
    sources,
)
from worker.publish.filters import FeedFilter
from worker.publish.labels import labels_for

#: Feed formats offered on the page: file, label, media type for autodiscovery.
FORMATS = (
    ("atom.xml", "Atom", "application/atom+xml"),
    ("rss.xml", "RSS", "application/rss+xml"),
    ("feed.json", "JSON Feed", "application/feed+json"),
    ("events.ics", "Calendar (.ics)", "text/calendar"),
)
VARIANT_LABELS = (("", "All languages"), ("zh/", "中文"), ("en/", "English"))


@dataclass(frozen=True, slots=True)
class PageView:
    """A filtered page: the filter the form shows, and the topics its menu offers."""

    filter: FeedFilter = field(default_factory=FeedFilter)
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    """One event as the page shows it."""

    id: str
    title: str
    link: str
    when: str | None
    where: str | None
    organizers: tuple[str, ...]
    sources: tuple[str, ...]
    lang: str | None
    topics: tuple[str, ...]
    #: Field labels in the entry's language (时间 / 地点 / 主办单位 for Chinese).
    labels: dict[str, str]


def row(stored: StoredItem, settings: PublishSettings) -> Row:
    facts = stored.item.event
    return Row(
        id=stored.id,
        title=entry_title(stored),
        # The event's own page: all its facts, every source, "add to calendar".
        link=f"/events/{stored.id}",
        when=date_range(facts),
        where=place(facts),
        organizers=facts.organizers,
        sources=tuple(sources(stored)),
        lang=language_tag(stored),
        topics=facts.topics,
        labels=labels_for(stored.item.doc.lang),
    )


def split(
    stored: Sequence[StoredItem], today: date | None
) -> tuple[list[StoredItem], list[StoredItem]]:
    """Upcoming (not yet over, soonest first) and recent (the rest, newest first)."""
    if today is None:
        return [], list(stored)
    upcoming = sorted(
        (s for s in stored if (_last_day(s) or date.min) >= today),
        key=lambda s: (_last_day(s) or date.min, s.id),
    )
    chosen = {s.id for s in upcoming}
    return upcoming, [s for s in stored if s.id not in chosen]


def _last_day(stored: StoredItem) -> date | None:
    facts = stored.item.event
    if facts.start is None:
        return None
    return max(facts.start, facts.end or facts.start)


#: Autoescape everything: titles, names and links come from the web.
_ENV = Environment(
    loader=PackageLoader("worker.publish", "templates"),
    autoescape=True,
    keep_trailing_newline=True,
)


def render_index(
    stored: Sequence[StoredItem],
    settings: PublishSettings,
    *,
    today: date | None,
    view: PageView | None = None,
) -> bytes:
    """The page; with ``view``, the entries a filter chose and the links to subscribe to them."""
    view = view or PageView(topics=_topics(stored))
    upcoming, recent = split(stored, today)
    sections = [
        ("Upcoming events", "upcoming", [row(s, settings) for s in upcoming]),
        ("Recent reports", "recent", [row(s, settings) for s in recent]),
    ]
    query = view.filter.query
    html = _ENV.get_template("index.html.j2").render(
        title=settings.title,
        subtitle=settings.subtitle,
        hub=settings.hub,
        formats=FORMATS,
        variants=VARIANT_LABELS,
        sections=sections,
        empty="Nothing here yet." if not query else "No event matches these filters.",
        f=view.filter,
        query=query,
        topics=view.topics,
        webcal="webcal://" + _host(settings.base_url) + "/feeds/events.ics"
        + (f"?{query}" if query else ""),
    )
    return html.encode("utf-8")


def _topics(stored: Sequence[StoredItem]) -> tuple[str, ...]:
    return tuple(sorted({t for s in stored for t in s.item.event.topics}))


def _host(base_url: str) -> str:
    parts = urlsplit(base_url)
    return parts.netloc + parts.path.rstrip("/")
