"""Item queries: store an item once by its key, update it when its content changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, func, select, update

from worker.model import Item, StoredItem, item_from_dict, item_to_dict
from worker.store.base import StoreBase
from worker.store.tables import items

#: Item ids are derived from the dedup key, so they are stable and identical across replicas.
ITEM_ID_NAMESPACE = uuid.UUID("6f1d6c36-3f5e-4c1e-9a53-1b9f0f3f5a10")

Change = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class SaveResult:
    id: str
    change: Change


#: Called inside ``save_item``'s transaction with the connection and what changed.
OnChange = Callable[[Connection, SaveResult], None]


def item_id(key: str) -> str:
    return str(uuid.uuid5(ITEM_ID_NAMESPACE, key))


class ItemQueries(StoreBase):
    def save_item(
        self, item: Item, *, now: datetime, on_change: OnChange | None = None
    ) -> SaveResult:
        """Store ``item`` once by its key; update it in place when its content changed.

        ``on_change`` runs inside the same transaction when the item was created or
        updated: the webhook outbox writes its deliveries there, so an item and the
        news of it are committed together or not at all.
        """
        ident = item_id(item.key)
        row = _item_row(item)
        with self.engine.begin() as conn:
            # RETURNING, not rowcount: some drivers report -1 for ON CONFLICT statements.
            inserted = conn.execute(
                self._insert(items)
                .values(id=ident, key=item.key, first_seen=now, updated=now, **row)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(items.c.id)
            ).first()
            if inserted is not None:
                result = SaveResult(ident, "created")
            else:
                changed = conn.execute(
                    update(items)
                    .where(items.c.key == item.key, items.c.content_hash != item.content_hash)
                    .values(updated=now, **row)
                    .returning(items.c.id)
                ).first()
                result = SaveResult(ident, "updated" if changed else "unchanged")
            if on_change is not None and result.change != "unchanged":
                on_change(conn, result)
        return result

    def rescore_item(self, ident: str, item: Item) -> None:
        """Replace an item's relevance and facts without touching its timestamps."""
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id == ident).values(**_item_row(item)))

    def items(self, *, relevant_only: bool = True, limit: int | None = None) -> list[StoredItem]:
        """Items newest first (by first seen, then id for a stable order)."""
        query = select(items.c.id, items.c.first_seen, items.c.updated, items.c.data)
        if relevant_only:
            query = query.where(items.c.relevant.is_(True))
        query = query.order_by(items.c.first_seen.desc(), items.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [
                StoredItem(
                    id=r.id, first_seen=r.first_seen, updated=r.updated, item=item_from_dict(r.data)
                )
                for r in conn.execute(query)
            ]

    def count_items(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(items)) or 0)


def _item_row(item: Item) -> dict[str, object]:
    return {
        "source": item.doc.source,
        "link": item.doc.link,
        "title": item.doc.title,
        "lang": item.doc.lang,
        "published": item.doc.published,
        "content_hash": item.content_hash,
        "relevant": item.relevance.relevant,
        "score": item.relevance.score,
        "event_start": item.event.start,
        "event_end": item.event.end,
        "city": item.event.city,
        "data": item_to_dict(item),
    }
