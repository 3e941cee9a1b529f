"""Feed bytes to ``Entry`` records: RSS/Atom/CDF with feedparser, JSON Feed here.

Feedparser is given bytes and the response headers, never a URL or a path:
given a string that looks like one, it would go and fetch or open it itself.
Entity declarations in a DOCTYPE are dropped by feedparser before parsing
(``feedparser.encodings.replace_doctype``) and expat does not load external
entities, so neither a billion-laughs feed nor one whose DOCTYPE points at a
local file gets anything expanded (``tests/test_fetch.py`` checks both).

A feed that is not well-formed ("bozo") still yields what feedparser could
read; the problem is returned beside the entries, not raised. HTML bodies are
sanitized by ``nh3``, which also makes their relative links absolute against
the entry's link (else the feed's URL); feedparser's own sanitizer and URI
rewriter are off, since they cost more than the whole parse and nh3 does both
jobs. Plain-text bodies stay ``text/plain`` so the normalizer escapes them
rather than trusting them as markup.

feedparser 6.0.x does not read JSON Feed (https://www.jsonfeed.org/version/1.1/),
so ``application/feed+json`` bodies are read here.

This module does not fetch and does not store.
"""

from __future__ import annotations

import calendar
import html as html_lib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax import expatreader

import feedparser
import nh3
from dateutil import parser as dateparser

from worker.model import Entry

HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"
#: Headers about the transfer, not the document: the body given here is already
#: decoded, and feedparser must not act on them again.
TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
#: Attributes that hold a URL, made absolute in sanitized HTML.
URL_ATTRIBUTES = {"href", "src", "cite", "poster"}
#: RSS ``<ttl>`` is in minutes (RSS 2.0 specification, "ttl").
TTL_UNIT_SECONDS = 60
#: C0 control characters but tab, line feed and carriage return, to delete. A JSON
#: string may hold any of them (``\u0000``), XML may not, no reader shows them, and
#: PostgreSQL refuses NUL in text: an item holding one could never be stored.
_CONTROLS = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def _buffer_expat_text() -> None:
    """Have expat hand feedparser each text node whole (``buffer_text``).

    Unbuffered, expat splits text at every entity, and an escaped HTML description
    (``&lt;p&gt;…``) reaches feedparser's per-chunk handler a hundred times per entry:
    a third of the parse. The entries come out the same (every file of the feedparser
    test corpus parses to equal results either way).
    """
    reset = expatreader.ExpatParser.reset
    if getattr(reset, "buffers_text", False):
        return

    def buffered_reset(self: expatreader.ExpatParser) -> None:
        reset(self)
        self._parser.buffer_text = True  # type: ignore[attr-defined]

    buffered_reset.buffers_text = True  # type: ignore[attr-defined]
    expatreader.ExpatParser.reset = buffered_reset  # type: ignore[method-assign]


_buffer_expat_text()


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What one feed document held."""

    entries: tuple[Entry, ...]
    title: str
    #: Why the feed is not well-formed, when the parser says so (entries may still be there).
    error: str | None
    #: Seconds the feed asks to be cached (RSS ``<ttl>``), if it says.
    ttl: float | None = None
    #: ``rss20``, ``atom10``, ``json11``…; empty when the bytes were not a feed.
    version: str = ""


def parse_feed(data: bytes, source: str, headers: Mapping[str, str] | None = None) -> ParseResult:
    """Parse feed bytes into entries of ``source``; never raises for bad input."""
    if not isinstance(data, bytes):
        # A str would be taken by feedparser as a URL or a file name to open.
        raise TypeError("parse_feed takes the body as bytes")
    headers = {
        k.lower(): v for k, v in (headers or {}).items() if k.lower() not in TRANSFER_HEADERS
    }
    if _looks_like_json(data, headers.get("content-type", "")):
        return parse_json_feed(data, source)
    try:
        parsed = feedparser.parse(
            data, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
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
    return ParseResult(
        entries,
        _plain_text(parsed.feed.get("title"), parsed.feed.get("title_detail")) or "",
        error,
        _ttl(parsed.feed.get("ttl")),
        str(parsed.get("version") or ""),
    )


def _looks_like_json(data: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(data: bytes, source: str) -> ParseResult:
    """JSON Feed 1.0/1.1 into entries; a body that is not one is an error, not an exception."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return ParseResult((), "", f"parse: not valid JSON: {type(e).__name__}: {e}")
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        JSON_FEED_VERSION_PREFIX
    ):
        return ParseResult((), "", "parse: JSON without a JSON Feed version")
    version = "json" + str(doc["version"]).removeprefix(JSON_FEED_VERSION_PREFIX).replace(".", "")
    feed_lang = _str(doc.get("language"))
    items = doc.get("items")
    entries: list[Entry] = []
    skipped = 0
    for raw in items if isinstance(items, list) else []:
        if not isinstance(raw, dict):
            skipped += 1
            continue
        entries.append(_json_entry(raw, source, feed_lang))
    error = None
    if not isinstance(items, list):
        error = "parse: JSON Feed without an items list"
    elif skipped:
        error = f"parse: {skipped} JSON Feed items were not objects"
    return ParseResult(tuple(entries), _str(doc.get("title")) or "", error, None, version)


def _json_entry(raw: dict[str, Any], source: str, feed_lang: str | None) -> Entry:
    html = _str(raw.get("content_html"))
    text = _str(raw.get("content_text"))
    summary = _str(raw.get("summary"))
    if html:
        content, kind = clean_html(html, _base(source, _str(raw.get("url")))), "text/html"
    else:
        content, kind = text or summary or "", "text/plain"
    guid = raw.get("id")
    return Entry(
        source=source,
        # The spec says id is a string, but numbers are common in the wild.
        guid=_str(str(guid)) if isinstance(guid, str | int) else None,
        link=_str(raw.get("url")) or _str(raw.get("external_url")),
        title=_str(raw.get("title")),
        content=content,
        content_type=kind,
        sanitized=kind == "text/html",
        summary=summary,
        published=_iso_date(raw.get("date_published") or raw.get("date_modified")),
        language=_str(raw.get("language")) or feed_lang,
    )


def _str(value: object) -> str | None:
    """A JSON string without control characters; ``None`` for anything else or nothing left."""
    return (value.translate(_CONTROLS) or None) if isinstance(value, str) else None


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _ttl(value: object) -> float | None:
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * TTL_UNIT_SECONDS if minutes > 0 else None


def _is_web_url(value: str) -> bool:
    return urlsplit(value).scheme in ("http", "https")


def clean_html(markup: str, base: str | None) -> str:
    """Sanitized HTML whose relative links point where they did on the page at ``base``."""
    if not base or not _is_web_url(base):
        return nh3.clean(markup)

    def absolute(_tag: str, attribute: str, value: str) -> str:
        return urljoin(base, value) if attribute in URL_ATTRIBUTES else value

    return nh3.clean(markup, attribute_filter=absolute)


def _base(source: str, link: str | None) -> str | None:
    """Where an entry's relative links point from: its own link, read against the feed's URL."""
    feed_url = source if _is_web_url(source) else None
    if feed_url and link:
        return urljoin(feed_url, link)
    return link or feed_url


def _entry(e: Any, source: str, feed_lang: str | None) -> Entry:
    # feedparser resolves links against ``xml:base``; a link still relative is read
    # against the feed's URL here (given to feedparser as a base, it would cost a
    # URL join on every element of the document).
    base = _base(source, e.get("link") or None)
    link = base if e.get("link") else None
    content, content_type, lang = _body(e, source, base)
    summary = e.get("summary") or None
    summary_detail = e.get("summary_detail") or {}
    if summary and summary_detail.get("type", "") in HTML_TYPES:
        # An RSS item with only a description has it as both body and summary.
        raw_body = (e.get("content") or [summary_detail])[0].get("value")
        same = summary == raw_body and content_type == "text/html"
        where = _detail_base(summary_detail, source, base)
        summary = content if same else clean_html(summary, where)
    return Entry(
        source=source,
        guid=e.get("id") or None,
        link=link,
        title=_plain_text(e.get("title"), e.get("title_detail")),
        content=content,
        content_type=content_type,
        sanitized=content_type == "text/html",
        summary=summary,
        published=_when(e.get("published_parsed") or e.get("updated_parsed")),
        language=lang or feed_lang,
    )


def _body(e: Any, source: str, base: str | None) -> tuple[str, str, str | None]:
    """The fullest body the entry has: ``content`` before ``summary``."""
    for detail in list(e.get("content") or []) + [e.get("summary_detail")]:
        if detail and detail.get("value"):
            if detail.get("type", "") in HTML_TYPES:
                cleaned = clean_html(detail["value"], _detail_base(detail, source, base))
                return cleaned, "text/html", detail.get("language")
            return detail["value"], "text/plain", detail.get("language")
    return "", "text/plain", None


def _detail_base(detail: Any, source: str, entry_base: str | None) -> str | None:
    """The ``xml:base`` in force where the text was (read against the feed's URL), else
    the entry's link: text copied from an article page links relative to that page."""
    declared = detail.get("base") or ""
    if not declared:
        return entry_base
    return urljoin(source, declared) if _is_web_url(source) else declared


def _plain_text(value: object, detail: Any) -> str | None:
    """A title as text: one declared as HTML loses its markup (it is a title, not a body)."""
    if not isinstance(value, str) or not value:
        return None
    if (detail or {}).get("type", "") in HTML_TYPES:
        value = html_lib.unescape(nh3.clean(value, tags=set()))
    return value or None


def _when(parsed: time.struct_time | None) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None
