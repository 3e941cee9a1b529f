"""Reads for the server's views: the facets of every published entry, entries by id.

The filtered feeds and the events page select entries by their facts
(``publish.catalog``); these queries feed it without reading any entry's text
or HTML, and then read the few entries a view shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select

from worker.model import StoredItem, item_from_dict
from worker.store.base import StoreBase
from worker.store.tables import clusters, items

#: Rows per round trip when the facets are read.
FACET_BATCH = 5000


class EntryFacets(NamedTuple):
    """What a view filters one published entry on."""

    id: str
    first_seen: datetime
    updated: datetime
    lang: str
    title: str
    summary: str
    city: str | None
    country: str | None
    start: date | None
    end: date | None
    topics: tuple[str, ...]
    organizers: tuple[str, ...]


class PublishedQueries(StoreBase):
    def published_version(self) -> tuple[int, datetime | None]:
        """(published entries, their newest change): a view's cache is good while it holds."""
        query = select(func.count(), func.max(clusters.c.updated)).where(
            clusters.c.relevant.is_(True)
        )
        with self._connect() as conn:
            count, newest = conn.execute(query).one()
        if isinstance(newest, str):  # SQLite's max() loses the column type
            newest = datetime.fromisoformat(newest)
        return int(count), newest

    def published_facets(self, changed_since: datetime | None = None) -> Iterator[EntryFacets]:
        """Every published entry's facets (or those changed after ``changed_since``)."""
        data = items.c.data
        query = select(
            clusters.c.id, clusters.c.first_seen, clusters.c.updated, items.c.lang,
            items.c.title, data[("event", "title")], data[("doc", "summary")], items.c.city,
            data[("event", "country")], items.c.event_start, items.c.event_end,
            data[("event", "topics")], data[("relevance", "topics")],
            data[("event", "organizers")],
        ).join(items, items.c.id == clusters.c.primary_item).where(
            clusters.c.relevant.is_(True)
        )  # fmt: skip
        if changed_since is not None:
            query = query.where(clusters.c.updated > changed_since)
        query = query.execution_options(yield_per=FACET_BATCH)
        with self._connect() as conn:
            for row in conn.execute(query):
                yield _facets(row)

    def entries_by_id(self, ids: Sequence[str]) -> list[StoredItem]:
        """The published entries with these ids, in the order given (unknown ids left out)."""
        if not ids:
            return []
        query = select(
            clusters.c.id, clusters.c.first_seen, clusters.c.updated, items.c.link, items.c.data
        ).join(items, items.c.id == clusters.c.primary_item).where(
            clusters.c.id.in_(list(ids)), clusters.c.relevant.is_(True)
        )  # fmt: skip
        with self._connect() as conn:
            rows = {r.id: r for r in conn.execute(query)}
            related = self._related_links(conn, list(rows.values()))
        return [
            StoredItem(
                id=r.id, first_seen=r.first_seen, updated=r.updated,
                item=item_from_dict(r.data), related=related.get(r.id, ()),
            )
            for r in (rows.get(i) for i in ids)
            if r is not None
        ]  # fmt: skip

    def _related_links(self, conn: Any, rows: Sequence[Any]) -> dict[str, tuple[str, ...]]:
        # ClusterQueries._related: the other members' links of each entry.
        return self._related(conn, rows)  # type: ignore[attr-defined, no-any-return]



def _facets(row: Any) -> EntryFacets:
    (ident, first_seen, updated, lang, title, event_title, summary, city, country, start, end,
     topics, profile_topics, organizers) = row  # fmt: skip
    return EntryFacets(
        id=ident,
        first_seen=first_seen,
        updated=updated,
        lang=lang,
        title=event_title or title or "",
        summary=summary or "",
        city=city,
        country=country,
        start=start,
        end=end,
        topics=tuple(topics or profile_topics or ()),
        organizers=tuple(organizers or ()),
    )
