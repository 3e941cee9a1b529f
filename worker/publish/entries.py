"""What a published entry says: its HTML body with the event's facts, its sources, its language.

Pure functions shared by every output format (Atom, RSS, JSON Feed, iCalendar,
the HTML page); none of them reads the clock, the store or the disk.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

import nh3

from worker.model import EventFacts, StoredItem

#: BCP 47 tags for the languages the pipeline detects. A "mixed" document gets
#: no tag of its own: it inherits the feed's, which is better than a guess.
LANGUAGE_TAGS = {"zh": "zh", "en": "en"}
#: The only schemes a published link may have: anything else (``javascript:``, ``data:``,
#: ``vbscript:``…) would run in the reader's or the page's origin when followed.
SAFE_SCHEMES = frozenset({"http", "https"})
#: What a browser strips from a URL before reading its scheme (WHATWG URL parsing):
#: tabs and newlines anywhere, C0 controls and spaces at either end.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else None.

    Links come from the network and are hostile until checked: a browser runs
    ``javascript:`` with a tab inside or a space before it too, so the check reads
    the URL as a browser does before it looks at the scheme.
    """
    if not url:
        return None
    cleaned = _URL_IGNORED.sub("", url).strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(cleaned)
    except ValueError:  # an invalid IPv6 literal, say
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return None
    return cleaned


def entry_link(stored: StoredItem, base_url: str) -> str:
    """The entry's own link when it is a safe one, else its anchor on the index page."""
    return safe_url(stored.item.doc.link) or f"{base_url.rstrip('/')}/#item-{stored.id}"


def entry_title(stored: StoredItem) -> str:
    return stored.item.event.title or stored.item.doc.title


def language_tag(stored: StoredItem) -> str | None:
    """The entry's BCP 47 language tag (RFC 5646), or None when it is mixed or unknown."""
    return LANGUAGE_TAGS.get(stored.item.doc.lang)


def sources(stored: StoredItem) -> list[str]:
    """Every report of the event: the primary link first, then the related ones, once each."""
    links = [stored.item.doc.link, *stored.related]
    return list(dict.fromkeys(url for url in map(safe_url, links) if url))


def related(stored: StoredItem) -> list[str]:
    """The further reports of the event, without the primary link."""
    primary = safe_url(stored.item.doc.link)
    return [link for link in sources(stored) if link != primary]


def date_range(event: EventFacts) -> str | None:
    if event.start is None:
        return None
    # An end before the start is an extraction slip: show the one date we trust.
    if event.end is None or event.end <= event.start:
        return event.start.isoformat()
    return f"{event.start.isoformat()} – {event.end.isoformat()}"


def place(event: EventFacts) -> str | None:
    parts = [p for p in (event.venue, event.city, event.country) if p]
    return ", ".join(dict.fromkeys(parts)) or None


def facts_html(event: EventFacts) -> str:
    """The event's facts as a small definition list, escaped."""
    rows = [
        ("When", date_range(event)),
        ("Where", place(event)),
        ("Organizers", "; ".join(event.organizers) or None),
        ("Participants", "; ".join(event.participants) or None),
        ("Topics", ", ".join(event.topics) or None),
    ]
    body = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows if value
    )
    return f"<dl>{body}</dl>" if body else ""


def sources_html(stored: StoredItem) -> str:
    """Every report of the event as a list of links, so a reader can check each one."""
    links = sources(stored)
    if not links:
        return ""
    items = "".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>' for u in links)
    return f"<p>Sources:</p><ul>{items}</ul>"


def content_html(stored: StoredItem) -> str:
    """Facts first (what a reader scans for), the sources, then the article; sanitized.

    The article HTML was sanitized when it was ingested; it is cleaned again
    here because this is the last step before it reaches a reader, and the
    store may hold items written by older versions. The sanitizer runs last.
    """
    lang = language_tag(stored)
    opening = f'<div lang="{lang}">' if lang else "<div>"
    body = facts_html(stored.item.event) + sources_html(stored) + stored.item.doc.html
    return nh3.clean(opening + body + "</div>")


def categories(stored: StoredItem) -> list[str]:
    return list(dict.fromkeys(stored.item.event.topics or stored.item.relevance.topics))
