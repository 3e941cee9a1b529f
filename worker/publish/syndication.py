"""Atom (RFC 4287) and RSS 2.0 documents with feedgen, deterministic byte for byte.

Nothing in the output depends on the time of publishing: the feed's
``updated`` / ``lastBuildDate`` is the newest entry's ``updated``, so an
unchanged store gives unchanged bytes and pollers get 304.

feedgen 1.0.0 faults handled here (each has a test in tests/test_publish.py):

- An entry's ``<link>`` is written with ``href`` only: ``rel``, ``type`` and
  ``hreflang`` are dropped (python-feedgen issue 135; the loop variable is
  shadowed by the new element). Every entry link would then be "alternate",
  and several alternates of one type break RFC 4287 §4.1.1. The entry
  extension below removes those elements and writes the links itself.
- ``updated`` (and RSS ``lastBuildDate``) default to now: always set here.
- ``add_entry`` prepends by default: we append, keeping newest first as given.
- RSS keeps only the first ``rel=self`` atom:link and drops ``rel=hub``: the
  feed extension writes the WebSub hub link (https://www.w3.org/TR/websub/#discovery).
- The RSS channel's ``<link>`` is the *last* link given, whatever its ``rel``:
  the alternate (the page) is always added last.
- Elements are built without a namespace under a literal ``xmlns`` attribute,
  so the extensions below add plain ``link`` elements to Atom too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from feedgen.feed import FeedGenerator
from lxml import etree

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.entries import (
    categories,
    content_html,
    entry_link,
    entry_title,
    language_tag,
    related,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: The name the extensions are registered under on the generator and its entries.
EXTENSION = "worker_links"
GENERATOR = "smartmfg-events-worker"


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """One published feed: which language variant, and where it is served."""

    #: Folder under the output folder: ``""`` for the main feeds, ``"zh/"``, ``"en/"``.
    prefix: str
    #: BCP 47 tag of the variant; None for the main feed (all languages).
    language: str | None
    title: str
    #: The feed's ``updated`` when it has no entries of its own: when what it is cut
    #: from last changed (``publish.render_all``), never the time of publishing.
    as_of: datetime | None = None
    #: A filtered view's normal query (``publish.filters``): its self link carries it.
    query: str = ""


def _today() -> datetime:
    """Midnight UTC today: an empty feed's date when nothing says when it last changed."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def feed_url(settings: PublishSettings, meta: FeedMeta, name: str) -> str:
    url = f"{settings.base_url.rstrip('/')}/feeds/{meta.prefix}{name}"
    return f"{url}?{meta.query}" if meta.query else url


def home_url(settings: PublishSettings) -> str:
    return settings.base_url.rstrip("/") + "/"


def _atom_link(parent: etree._Element, tag: str, attrs: dict[str, str | None]) -> None:
    etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})


class _FeedLinks:
    """Feed-level extension: WebSub ``hub`` and ``self`` links in RSS (Atom has them natively)."""

    def __init__(self) -> None:
        self.hub: str | None = None
        self.self_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        if self.hub and channel is not None:
            _atom_link(channel, f"{{{ATOM_NS}}}link", {"rel": "hub", "href": self.hub})
        return feed


class _EntryLinks:
    """Entry-level extension: the entry's links with their ``rel``/``type``, and ``xml:lang``."""

    def __init__(self) -> None:
        self.links: list[dict[str, str | None]] = []
        self.lang: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for broken in entry.findall("link"):
            entry.remove(broken)
        for attrs in self.links:
            _atom_link(entry, "link", attrs)
        if self.lang:
            entry.set(XML_LANG, self.lang)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return item


def build_generator(
    stored: Sequence[StoredItem],
    settings: PublishSettings,
    meta: FeedMeta,
    *,
    self_url: str,
    self_type: str,
    atom: bool,
) -> FeedGenerator:
    """A generator holding the feed, its links and its entries."""
    fg = FeedGenerator()
    fg.register_extension(EXTENSION, _FeedLinks, _EntryLinks, atom=True, rss=True)
    ext: _FeedLinks = getattr(fg, EXTENSION)
    ext.hub = settings.hub or None
    ext.self_url = self_url
    fg.id(home_url(settings) + (f"feeds/{meta.prefix}" if meta.prefix else ""))
    fg.title(meta.title)
    fg.subtitle(settings.subtitle)
    fg.description(settings.subtitle)
    fg.author({"name": settings.author})
    # In RSS, feedgen writes rel=self as <atom:link>, which the RSS profile recommends.
    fg.link(href=self_url, rel="self", type=self_type)
    if settings.hub and atom:
        # Atom writes every feed-level link itself; RSS gets rel=hub from the extension.
        fg.link(href=settings.hub, rel="hub")
    fg.link(href=home_url(settings), rel="alternate", type="text/html")
    fg.generator(GENERATOR)
    # RSS <docs> points at the RSS Advisory Board's specification, the profile we follow.
    fg.docs("https://www.rssboard.org/rss-specification")
    if meta.language:
        # RSS <language>, and xml:lang on the Atom <feed>.
        fg.language(meta.language)
    newest = max((s.updated for s in stored), default=meta.as_of or _today())
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for s in stored:
        item = s.item
        fe = fg.add_entry(order="append")
        fe.id(f"urn:uuid:{s.id}")
        fe.guid(f"urn:uuid:{s.id}", permalink=False)
        fe.title(entry_title(s))
        link = entry_link(s, settings.base_url)
        # Sets RSS <link>; the Atom element feedgen writes for it is replaced below.
        fe.link(href=link, rel="alternate")
        entry_ext: _EntryLinks = getattr(fe, EXTENSION)
        lang = language_tag(s)
        entry_ext.lang = lang
        entry_ext.links = [
            {"rel": "alternate", "type": "text/html", "href": link, "hreflang": lang}
        ]
        entry_ext.links += [{"rel": "related", "type": "text/html", "href": u} for u in related(s)]
        fe.published(s.first_seen)
        fe.updated(s.updated)
        if item.doc.summary:
            fe.summary(item.doc.summary)  # Atom: type="text"
            # RSS readers render <description> as HTML: the plain-text summary is escaped.
            fe.description(escape(item.doc.summary))
        fe.content(content_html(s), type="html")
        for term in categories(s):
            fe.category(term=term)
    return fg


def render_atom(stored: Sequence[StoredItem], settings: PublishSettings, meta: FeedMeta) -> bytes:
    url = feed_url(settings, meta, "atom.xml")
    fg = build_generator(
        stored, settings, meta, self_url=url, self_type="application/atom+xml", atom=True
    )
    return bytes(fg.atom_str(pretty=True))


def render_rss(stored: Sequence[StoredItem], settings: PublishSettings, meta: FeedMeta) -> bytes:
    url = feed_url(settings, meta, "rss.xml")
    fg = build_generator(
        stored, settings, meta, self_url=url, self_type="application/rss+xml", atom=False
    )
    return bytes(fg.rss_str(pretty=True))
