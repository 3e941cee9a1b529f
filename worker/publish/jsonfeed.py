"""The JSON Feed 1.1 document (https://www.jsonfeed.org/version/1.1/), deterministic.

The event's facts travel in an ``_event`` extension object on each item (the
spec's extension rule: a key starting with ``_``, with an ``about`` URL that
explains it). Dates are RFC 3339. The same ordering and ids as the Atom feed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.entries import (
    categories,
    content_html,
    entry_link,
    entry_title,
    language_tag,
    related,
    sources,
)
from worker.publish.syndication import FeedMeta, feed_url, home_url

VERSION = "https://jsonfeed.org/version/1.1"


def event_extension(stored: StoredItem, settings: PublishSettings) -> dict[str, Any]:
    facts = stored.item.event.to_json()
    facts.pop("title", None)
    return {
        "about": home_url(settings) + "#about-event",
        **facts,
        "sources": sources(stored),
    }


def item_json(stored: StoredItem, settings: PublishSettings) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"urn:uuid:{stored.id}",
        "url": entry_link(stored, settings.base_url),
    }
    others = related(stored)
    if others:
        # One field only: the first further report; _event.sources lists them all.
        item["external_url"] = others[0]
    item["title"] = entry_title(stored)
    item["content_html"] = content_html(stored)
    if stored.item.doc.summary:
        item["summary"] = stored.item.doc.summary
    item["date_published"] = stored.first_seen.isoformat()
    item["date_modified"] = stored.updated.isoformat()
    tags = categories(stored)
    if tags:
        item["tags"] = tags
    lang = language_tag(stored)
    if lang:
        item["language"] = lang
    item["_event"] = event_extension(stored, settings)
    return item


def render_json(stored: Sequence[StoredItem], settings: PublishSettings, meta: FeedMeta) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": home_url(settings),
        "feed_url": feed_url(settings, meta, "feed.json"),
        "description": settings.subtitle,
        "authors": [{"name": settings.author}],
    }
    if meta.language:
        feed["language"] = meta.language
    if settings.hub:
        feed["hubs"] = [{"type": "WebSub", "url": settings.hub}]
    feed["items"] = [item_json(s, settings) for s in stored]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
