"""Atom and RSS documents with feedgen, deterministic byte for byte.

Nothing in the output depends on the time of publishing: the feed's
``updated`` / ``lastBuildDate`` is the newest entry's ``updated``, so an
unchanged store gives unchanged bytes and pollers get 304.

feedgen 1.0.0 quirks handled here: ``add_entry`` prepends by default (we
append, newest first as given); ``updated`` defaults to now (always set).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.entries import categories, content_html, entry_link

#: The feed's ``updated`` when it has no entries: a fixed instant, not "now".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def feed_urls(settings: PublishSettings) -> dict[str, str]:
    base = settings.base_url.rstrip("/")
    return {
        "home": base + "/",
        "atom": base + "/feeds/atom.xml",
        "rss": base + "/feeds/rss.xml",
    }


def build_generator(stored: Sequence[StoredItem], settings: PublishSettings) -> FeedGenerator:
    urls = feed_urls(settings)
    fg = FeedGenerator()
    fg.id(urls["home"])
    fg.title(settings.title)
    fg.subtitle(settings.subtitle)
    fg.description(settings.subtitle)
    fg.author({"name": settings.author})
    fg.link(href=urls["home"], rel="alternate", type="text/html")
    fg.generator("smartmfg-events-worker")
    newest = max((s.updated for s in stored), default=EPOCH)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for s in stored:
        item = s.item
        fe = fg.add_entry(order="append")
        fe.id(f"urn:uuid:{s.id}")
        fe.guid(f"urn:uuid:{s.id}", permalink=False)
        fe.title(item.event.title or item.doc.title)
        fe.link(href=entry_link(s, settings.base_url), rel="alternate", type="text/html")
        fe.published(s.first_seen)
        fe.updated(s.updated)
        if item.doc.summary:
            fe.summary(item.doc.summary)
        fe.content(content_html(s), type="html")
        for term in categories(s):
            fe.category(term=term)
    return fg


def render_atom(stored: Sequence[StoredItem], settings: PublishSettings) -> bytes:
    fg = build_generator(stored, settings)
    fg.link(href=feed_urls(settings)["atom"], rel="self", type="application/atom+xml")
    return fg.atom_str(pretty=True)


def render_rss(stored: Sequence[StoredItem], settings: PublishSettings) -> bytes:
    fg = build_generator(stored, settings)
    # In RSS, feedgen writes rel=self as <atom:link>, which the RSS profile recommends.
    fg.link(href=feed_urls(settings)["rss"], rel="self", type="application/rss+xml")
    return fg.rss_str(pretty=True)
