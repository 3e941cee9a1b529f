"""Feed bytes to ``Entry`` records, with feedparser.

Feedparser is given bytes and the response headers, never a URL or a path:
given a string that looks like one, it would go and fetch it itself.
A feed that is not well-formed ("bozo") still yields what feedparser could
read; the problem is returned beside the entries, not raised.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from worker.model import Entry

HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What one feed document held."""

    entries: tuple[Entry, ...]
    title: str
    #: Why the feed is not well-formed, when feedparser says so (entries may still be there).
    error: str | None


def parse_feed(data: bytes, source: str, headers: Mapping[str, str] | None = None) -> ParseResult:
    """Parse feed bytes into entries of ``source``; never raises for bad input."""
    try:
        parsed = feedparser.parse(data, response_headers=dict(headers or {}))
    except Exception as e:  # feedparser should not raise, but a parser bug must not stop a cycle
        return ParseResult((), "", f"parse: feedparser failed: {type(e).__name__}: {e}")
    feed_lang = parsed.feed.get("language")
    entries = tuple(_entry(e, source, feed_lang) for e in parsed.entries)
    error = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        error = f"parse: not well-formed: {type(exc).__name__}: {exc}"
    if not entries and error is None and not parsed.get("version"):
        error = "parse: not a feed (no RSS, Atom or JSON Feed found)"
    return ParseResult(entries, parsed.feed.get("title", ""), error)


def _entry(e: Any, source: str, feed_lang: str | None) -> Entry:
    content, content_type, lang = _body(e)
    return Entry(
        source=source,
        guid=e.get("id") or None,
        link=e.get("link") or None,
        title=e.get("title") or None,
        content=content,
        content_type=content_type,
        summary=e.get("summary") or None,
        published=_when(e.get("published_parsed") or e.get("updated_parsed")),
        language=lang or feed_lang,
    )


def _body(e: Any) -> tuple[str, str, str | None]:
    """The fullest body the entry has: ``content`` before ``summary``."""
    for detail in list(e.get("content") or []) + [e.get("summary_detail")]:
        if detail and detail.get("value"):
            kind = "text/html" if detail.get("type", "") in HTML_TYPES else "text/plain"
            return detail["value"], kind, detail.get("language")
    return "", "text/plain", None


def _when(parsed: time.struct_time | None) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None
