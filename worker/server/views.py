"""Views rendered from the store on request: filtered feeds, the filtered page, event pages.

Each view is rendered once per normal query (``publish.filters``) and kept
until the published entries change (``refresh``, after each publish and on
the server's rescan timer), with a strong ETag of its bytes, so a polling
reader of a filtered feed gets 304s as cheap as a static file's. Rendering
runs on a thread: the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish import variants
from worker.publish.calendar import render_ics
from worker.publish.catalog import Catalog
from worker.publish.event_page import render_event_page
from worker.publish.filters import FeedFilter, FilterError, Places, default_places, parse_filter
from worker.publish.index import PageView, render_index
from worker.publish.jsonfeed import render_json
from worker.publish.syndication import FeedMeta, render_atom, render_rss
from worker.server.app import Rendered, Reply, text_reply
from worker.server.static import content_type
from worker.store import Store

log = logging.getLogger("worker.server")

#: Rendered views kept at once (the least recently used go first).
CACHE_SIZE = 512
#: Serialized calendar events kept across views (an event's bytes change with it).
EVENT_CACHE_SIZE = 20_000
#: A filtered view may be cached this long by a reader or a proxy (seconds).
VIEW_MAX_AGE = 60
FEED_NAMES = ("atom.xml", "rss.xml", "feed.json", "events.ics")
EVENT_ID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\.ics)?$")


class StoreViews:
    """The ``server.app.Views`` of ``worker run``: renders from one ``Store``."""

    def __init__(
        self,
        store: Store,
        settings: PublishSettings,
        *,
        places: Places | None = None,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.store = store
        self.settings = settings
        self.places = places or default_places()
        self.today = today
        self._catalog: Catalog | None = None
        self._version: tuple[int, datetime | None] | None = None
        self._cache: OrderedDict[tuple[str, str, date], Rendered] = OrderedDict()
        #: VEVENT bytes by ``calendar.event_key``, shared by every calendar view.
        self._events: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- the Views protocol ---------------------------------------------------

    async def feed(self, name: str, query: str) -> Rendered | Reply | None:
        prefix, _, file = name.rpartition("/")
        folder = prefix + "/" if prefix else ""
        meta = next((m for m in variants(self.settings) if m.prefix == folder), None)
        if file not in FEED_NAMES or meta is None:
            return None
        try:
            f = parse_filter(query, places=self.places, window=self.settings.window)
        except FilterError as e:
            return text_reply(400, f"bad request: {e}")
        if meta.language and f.lang and f.lang != meta.language:
            reason = f"lang: the /feeds/{folder} feeds are {meta.language}"
            return text_reply(400, f"bad request: {reason}")
        return await self._cached(name, f.query, lambda: self._render_feed(file, meta, f))

    async def page(self, query: str) -> Rendered | Reply:
        try:
            f = parse_filter(query, places=self.places, window=self.settings.window)
        except FilterError as e:
            return text_reply(400, f"bad request: {e}")
        page = await self._cached("index.html", f.query, lambda: self._render_page(f))
        assert page is not None  # the page always renders
        return page

    async def event(self, name: str) -> Rendered | Reply | None:
        match = EVENT_ID.match(name)
        if match is None:
            return None
        ident, ics = match.groups()
        return await self._cached(name, "", lambda: self._render_event(ident, bool(ics)))

    # -- rendering --------------------------------------------------------------

    def refresh(self) -> bool:
        """Rebuild the index when the published entries changed; True when they had."""
        version = self.store.published_version()
        if version == self._version and self._catalog is not None:
            return False
        catalog = Catalog(self.store.published_facets())
        with self._lock:
            self._catalog, self._version = catalog, version
            self._cache.clear()
        return True

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self.refresh()
        assert self._catalog is not None
        return self._catalog

    async def _cached(
        self, name: str, query: str, render: Callable[[], Rendered | None]
    ) -> Rendered | Reply | None:
        # Keyed by day too: "upcoming" and the page's split change at midnight.
        key = (name, query, self.today())
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        rendered = await asyncio.to_thread(render)
        if rendered is None:
            return None
        with self._lock:
            self._cache[key] = rendered
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return rendered

    def _select(self, f: FeedFilter, limit: int | None = None) -> list[StoredItem]:
        limit = limit or f.limit or self.settings.window
        ids = self.catalog().select(f, today=self.today(), limit=limit)
        return self.store.entries_by_id(ids)

    def _render_feed(self, file: str, meta: FeedMeta, f: FeedFilter) -> Rendered:
        if meta.language and not f.lang:
            f = dataclasses.replace(f, lang=meta.language)
        entries = self._select(f)
        described = " · ".join(v for _, v in parse_qsl(f.query) if v)
        view = FeedMeta(
            prefix=meta.prefix,
            language=meta.language or f.lang,
            title=f"{meta.title} · {described}" if described else meta.title,
            as_of=self.catalog().newest,
            query=f.query,
        )
        settings = self.settings
        if file == "atom.xml":
            body = render_atom(entries, settings, view)
        elif file == "rss.xml":
            body = render_rss(entries, settings, view)
        elif file == "feed.json":
            body = render_json(entries, settings, view)
        else:
            body = self._calendar(entries, view.title, view.language)
        return _rendered(body, content_type(file))

    def _calendar(self, entries: list[StoredItem], name: str, language: str | None) -> bytes:
        if len(self._events) > EVENT_CACHE_SIZE:
            self._events.clear()  # entries that changed left stale keys behind; start over
        return render_ics(entries, self.settings, name=name, language=language,
                          cache=self._events)  # fmt: skip

    def _render_page(self, f: FeedFilter) -> Rendered:
        entries = self._select(f, limit=f.limit or self.settings.window)
        view = PageView(filter=f, topics=tuple(self.catalog().topics))
        body = render_index(entries, self.settings, today=self.today(), view=view)
        return _rendered(body, "text/html; charset=utf-8")

    def _render_event(self, ident: str, ics: bool) -> Rendered | None:
        found = self.store.entries_by_id([ident])
        if not found:
            return None
        stored = found[0]
        if ics:
            title = stored.item.event.title or stored.item.doc.title
            body = self._calendar(found, title, None)
            return _rendered(body, "text/calendar; charset=utf-8")
        return _rendered(render_event_page(stored, self.settings), "text/html; charset=utf-8")


def _rendered(body: bytes, ctype: str) -> Rendered:
    etag = '"v' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Rendered(body=body, etag=etag, content_type=ctype, max_age=VIEW_MAX_AGE)

