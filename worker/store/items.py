"""Item queries: store an item once by its key, update it when its content changed.

Each save says what it did (``SaveResult``: created, updated or unchanged, and the
entry's id); the caller acts on that (the webhook outbox, the dedup index). This
module does not decide which entry an item joins (``pipeline.dedup``) and does not
know who is told about it (``notify``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select, update

from worker.model import Item, StoredItem, item_to_dict
from worker.records import Change, DedupPlan, ItemWrite, SaveResult
from worker.store.base import StoreBase, pairs_by_keys, rows_by_keys
from worker.store.clusters import (
    ClusterQueries,
    dedup_columns,
    join_cluster,
    member_changed,
    start_clusters,
)
from worker.store.tables import clusters, items

#: Item ids are derived from the dedup key, so they are stable and identical across replicas.
ITEM_ID_NAMESPACE = uuid.UUID("6f1d6c36-3f5e-4c1e-9a53-1b9f0f3f5a10")

#: Statements of ``save_items`` by dialect name (immutable once built).
_STATEMENTS: dict[str, _ItemStatements] = {}


class StoredHashes(NamedTuple):
    """What the store holds of an item to tell whether it changed."""

    content: str
    #: ``None``: not known (stored before raw hashes, or invalidated).
    raw: str | None


def item_id(key: str) -> str:
    return str(uuid.uuid5(ITEM_ID_NAMESPACE, key))


class _ItemStatements:
    """The statements of one save, built once per dialect: building and hashing a
    statement per item cost more than running it (SQLAlchemy caches the compiled
    form by the statement's cache key, which is computed once per statement object)."""

    def __init__(self, store: StoreBase) -> None:
        # RETURNING, not rowcount: some drivers report -1 for ON CONFLICT statements.
        insert: Any = store._insert(items)  # the dialect's Insert, which has ON CONFLICT
        self.insert = insert.on_conflict_do_nothing(index_elements=["key"]).returning(items.c.id)
        self.hashes = select(items.c.key, items.c.content_hash, items.c.raw_hash).where(
            items.c.key.in_(bindparam("b_keys", expanding=True))
        )
        self.raw_hashes = select(items.c.key, items.c.raw_hash).where(
            items.c.key.in_(bindparam("b_keys", expanding=True)), items.c.raw_hash.is_not(None)
        )
        self.refresh_raw = (
            update(items)
            .where(items.c.key == bindparam("b_key"))
            .values(raw_hash=bindparam("b_raw"))
        )
        self.prior = select(items.c.cluster_id, items.c.link).where(
            items.c.key == bindparam("b_key")
        )
        # No ``values()``: the SET clause is the parameters given at execution.
        self.update = (
            update(items)
            .where(items.c.key == bindparam("b_key"), items.c.content_hash != bindparam("b_hash"))
            .returning(items.c.id)
        )


class ItemQueries(ClusterQueries):
    def save_item(self, item: Item, *, now: datetime, dedup: DedupPlan | None = None) -> SaveResult:
        """Store ``item`` once by its key; update it in place when its content changed.

        The result names the *cluster* (the published entry, see ``store.clusters``):
        ``created`` when the item starts a new one, ``updated`` when it joins one (the
        entry gains a source) or the entry's content changed, else ``unchanged``.
        ``dedup`` is the dedup stage's decision; without it the item is its own cluster.
        """
        return self.save_items([ItemWrite(item, now, dedup)])[0]

    def save_items(
        self, writes: Sequence[ItemWrite], *, fresh: AbstractSet[str] = frozenset()
    ) -> list[SaveResult]:
        """Store several items in ONE transaction (``iter_saves``); all or nothing."""
        with self.transaction():
            return list(self.iter_saves(writes, fresh=fresh))

    def iter_saves(
        self, writes: Sequence[ItemWrite], *, fresh: AbstractSet[str] = frozenset()
    ) -> Iterator[SaveResult]:
        """Store items, each exactly as ``save_item`` stores it, and yield each one's result
        as soon as it is written: the caller acts on it (writes the webhook outbox, say)
        in the same transaction before the next is written. Use inside ``transaction()``.

        ``fresh``: keys the caller found not stored yet (``stored_hashes``). A run of
        consecutive fresh items that start entries of their own is written together,
        in a few statements (``store.clusters.start_clusters``), and their results come
        after the run; every other item, and one stored meanwhile by another worker, is
        written alone. Either way the items are written in their order, and each ends
        where ``save_item`` would put it.
        """
        statements = self._item_statements()
        first_of_key: set[str] = set()  # a key twice in one feed: the second is an update
        run: list[ItemWrite] = []

        def flush(conn: Connection) -> Iterator[SaveResult]:
            done = self._save_fresh(conn, statements, run) if len(run) > 1 else {}
            for write in run:
                yield done.get(id(write)) or self._save(conn, statements, write)
            run.clear()

        with self._begin() as conn:
            for write in writes:
                key = write.item.key
                starts_alone = write.dedup is None or write.dedup.cluster is None
                if key in fresh and key not in first_of_key and starts_alone:
                    first_of_key.add(key)
                    run.append(write)
                    continue
                first_of_key.add(key)
                yield from flush(conn)
                yield self._save(conn, statements, write)
            yield from flush(conn)

    def stored_hashes(self, keys: Iterable[str]) -> dict[str, StoredHashes]:
        """key -> content and raw hash, of those of ``keys`` that are stored."""
        with self._connect() as conn:
            query = self._item_statements().hashes
            rows = rows_by_keys(conn, query, list(dict.fromkeys(keys)))
        return {row[0]: StoredHashes(row[1], row[2]) for row in rows}

    def raw_hashes(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> raw hash, of those of ``keys`` stored with one: one indexed look-up per
        500 keys, for a whole batch of feeds."""
        with self._connect() as conn:
            return pairs_by_keys(conn, self._item_statements().raw_hashes, list(keys))

    def refresh_raw_hashes(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Set the raw hash of items whose content did not change (key, raw hash)."""
        if pairs:
            with self._begin() as conn:
                rows = [{"b_key": key, "b_raw": raw} for key, raw in pairs]
                conn.execute(self._item_statements().refresh_raw, rows)

    def clear_raw_hashes(self) -> None:
        """Forget every raw hash: each entry is processed again when next read (after a
        profile change, say, whose effect the raw hashes do not cover)."""
        with self._begin() as conn:
            conn.execute(update(items).where(items.c.raw_hash.is_not(None)).values(raw_hash=None))

    def _save_fresh(
        self, conn: Connection, statements: _ItemStatements, writes: Sequence[ItemWrite]
    ) -> dict[int, SaveResult]:
        """Insert new items that start their own entries; by ``id(write)``, those inserted."""
        rows = []
        for write in writes:
            ident = item_id(write.item.key)
            rows.append({
                "id": ident, "key": write.item.key, "first_seen": write.now,
                "updated": write.now, "cluster_id": ident,
                **item_row(write.item), **dedup_columns(write.dedup),
            })  # fmt: skip
        inserted = {row.id for row in conn.execute(statements.insert, rows)}
        mine = [(w, r["id"]) for w, r in zip(writes, rows, strict=True) if r["id"] in inserted]
        if not mine:
            return {}
        starts = [(str(ident), w.dedup, w.item.relevance.relevant, w.now) for w, ident in mine]
        placed = start_clusters(conn, self, starts)
        done: dict[int, SaveResult] = {}
        for (write, _), (cluster, new) in zip(mine, placed, strict=True):
            change = Change.CREATED if new else Change.UPDATED
            done[id(write)] = SaveResult(cluster, change, new_item=True)
        return done

    def _item_statements(self) -> _ItemStatements:
        name = self.engine.dialect.name
        cached = _STATEMENTS.get(name)
        if cached is None:
            cached = _STATEMENTS[name] = _ItemStatements(self)
        return cached

    def _save(self, conn: Connection, statements: _ItemStatements, write: ItemWrite) -> SaveResult:
        item, now, dedup = write.item, write.now, write.dedup
        ident = item_id(item.key)
        row = item_row(item)
        relevant = item.relevance.relevant
        inserted = conn.execute(
            statements.insert,
            {
                "id": ident,
                "key": item.key,
                "first_seen": now,
                "updated": now,
                "cluster_id": ident,
                **row,
                **dedup_columns(dedup),
            },
        ).first()
        if inserted is not None:
            cluster, new = join_cluster(conn, self, ident, relevant=relevant, plan=dedup, now=now)
            result = SaveResult(cluster, Change.CREATED if new else Change.UPDATED, new_item=True)
        else:
            prior = conn.execute(statements.prior, {"b_key": item.key}).first()
            changed = conn.execute(
                statements.update,
                {
                    "b_key": item.key,
                    "b_hash": item.content_hash,
                    "updated": now,
                    **row,
                    **dedup_columns(dedup),
                },
            ).first()
            cluster = (prior.cluster_id if prior is not None else None) or ident
            shown = changed is not None and member_changed(
                conn,
                ident,
                cluster,
                link_changed=prior is not None and prior.link != item.doc.link,
                relevant=relevant,
                now=now,
            )
            result = SaveResult(cluster, Change.UPDATED if shown else Change.UNCHANGED)
        return result

    def rescore_item(self, ident: str, item: Item, *, dedup: DedupPlan | None = None) -> None:
        """Replace an item's relevance and facts without touching its timestamps.

        ``dedup``: the item's fingerprint as the dedup stage gives it (signature, facts),
        which the dedup index is rebuilt from: a dropped item has none until it is kept.
        """
        # The raw hash is of the stored text, not of a raw entry: none.
        values = {**item_row(item), **dedup_columns(dedup), "raw_hash": None}
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id == ident).values(**values))
            # The entry is published when its primary is relevant.
            conn.execute(
                update(clusters)
                .where(clusters.c.primary_item == ident)
                .values(relevant=item.relevance.relevant)
            )

    def items(self, *, relevant_only: bool = True, limit: int | None = None) -> list[StoredItem]:
        """Published entries newest first (by first seen, then id for a stable order).

        One per cluster: id, first seen and updated are the cluster's, the item is its
        primary's, ``related`` the links of its other reports (``store.clusters``).
        """
        return self.published_entries(relevant_only=relevant_only, limit=limit)

    def count_items(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(items)) or 0)


def item_row(item: Item) -> dict[str, object]:
    """The ``items`` columns an item fills (all but id, key and the timestamps)."""
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
        "raw_hash": item.raw_hash or None,
    }
