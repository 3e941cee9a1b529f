"""Cluster queries: one published entry per event, its members, and the exact keys it owns.

A *cluster* is what a reader sees as one entry: its id is the id of its first
report (the *primary*) and never changes; further reports of the same event
join it as members and are listed as its other sources. The pipeline decides
which cluster an item joins (``pipeline.dedup``, ``pipeline.dedup_index``);
this module only writes that decision, inside ``Store.save_item``'s
transaction, and re-checks the exact keys under the unique constraint of
``cluster_keys`` so that two workers racing on one article end in one cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from worker.model import StoredItem, item_from_dict
from worker.records import DedupPlan
from worker.store.base import StoreBase, pairs_by_keys
from worker.store.tables import cluster_keys, clusters, items

#: Rows read per round trip when the dedup index is rebuilt at start.
LOAD_BATCH = 5000


def dedup_columns(plan: DedupPlan | None) -> dict[str, object]:
    if plan is None:
        return {}
    return {"signature": plan.signature, "shingles": plan.shingles, "facts": plan.facts}


def join_cluster(
    conn: Connection,
    store: StoreBase,
    ident: str,
    *,
    relevant: bool,
    plan: DedupPlan | None,
    now: datetime,
) -> tuple[str, bool]:
    """Put the new item ``ident`` in its cluster; (cluster id, whether the cluster is new).

    Irrelevant items are never published, so they neither join nor own keys: each
    is a cluster of its own. For a relevant item the exact keys are claimed first;
    a key another cluster already owns wins over the index's choice (the index may
    be behind another worker's writes), since layer 2 comes before the fuzzy layers.
    """
    target = plan.cluster if plan is not None and relevant else None
    keys = plan.keys if plan is not None and relevant else ()
    proposed = target or ident
    statements = _statements(store)
    if keys:
        conn.execute(statements.claim_key, [{"key": key, "cluster_id": proposed} for key in keys])
        owners = pairs_by_keys(conn, statements.owners, keys)
        taken = _taken(keys, owners, proposed)
        if taken is not None:
            if target is None:
                _hand_over(conn, keys, ident, taken)
            target = taken
    return _attach(conn, store, ident, target, relevant=relevant, now=now)


def start_clusters(
    conn: Connection,
    store: StoreBase,
    starts: Sequence[tuple[str, DedupPlan | None, bool, datetime]],
) -> list[tuple[str, bool]]:
    """``join_cluster`` for several new items (ident, plan, relevant, now) that the dedup
    stage found no cluster for, in order, with a few statements for all of them.

    Every key is claimed at once and their owners read at once; an item whose key
    another cluster owns joins that cluster as ``join_cluster`` would have it, and
    the owners are read again after it hands its own keys over.
    """
    statements = _statements(store)
    claims = [
        {"key": key, "cluster_id": ident}
        for ident, plan, relevant, _ in starts
        if relevant and plan is not None
        for key in plan.keys
    ]
    owners: dict[str, str] = {}
    every_key = [str(c["key"]) for c in claims]
    if claims:
        conn.execute(statements.claim_key, claims)
        owners = pairs_by_keys(conn, statements.owners, every_key)
    outcome: list[tuple[str, bool]] = []
    new_clusters: list[dict[str, object]] = []
    for ident, plan, relevant, now in starts:
        keys = plan.keys if plan is not None and relevant else ()
        taken = _taken(keys, owners, ident)
        if taken is None:
            new_clusters.append(_new_cluster_row(ident, relevant, now))
            outcome.append((ident, True))
            continue
        if new_clusters:  # the cluster it joins may be one of them
            conn.execute(statements.new_cluster, new_clusters)
            new_clusters = []
        _hand_over(conn, keys, ident, taken)
        owners = pairs_by_keys(conn, statements.owners, every_key)
        outcome.append(_attach(conn, store, ident, taken, relevant=relevant, now=now))
    if new_clusters:
        conn.execute(statements.new_cluster, new_clusters)
    return outcome


def _taken(keys: Sequence[str], owners: dict[str, str], proposed: str) -> str | None:
    """The cluster that owns one of ``keys`` already, when not ``proposed``."""
    return next((owners[k] for k in keys if owners.get(k, proposed) != proposed), None)


def _hand_over(conn: Connection, keys: Sequence[str], ident: str, owner: str) -> None:
    # Keys this item claimed for a cluster that will not exist go to the owner.
    conn.execute(
        update(cluster_keys)
        .where(cluster_keys.c.key.in_(keys), cluster_keys.c.cluster_id == ident)
        .values(cluster_id=owner)
    )


def _attach(
    conn: Connection,
    store: StoreBase,
    ident: str,
    target: str | None,
    *,
    relevant: bool,
    now: datetime,
) -> tuple[str, bool]:
    """Join ``target`` when it exists, else start the item's own cluster."""
    if target is not None and target != ident:
        joined = conn.execute(
            update(clusters)
            .where(clusters.c.id == target)
            .values(updated=now)
            .returning(clusters.c.id)
        ).first()
        if joined is not None:
            conn.execute(update(items).where(items.c.id == ident).values(cluster_id=target))
            return target, False
    conn.execute(_statements(store).new_cluster, _new_cluster_row(ident, relevant, now))
    return ident, True


def _new_cluster_row(ident: str, relevant: bool, now: datetime) -> dict[str, object]:
    return {"id": ident, "primary_item": ident, "first_seen": now, "updated": now,
            "relevant": relevant}  # fmt: skip


class _ClusterStatements:
    """The statements every new item runs, built once per dialect (see ``store.items``)."""

    def __init__(self, store: StoreBase) -> None:
        # The dialect's Insert (``StoreBase._insert``), which has ON CONFLICT.
        claim: Any = store._insert(cluster_keys)
        self.claim_key = claim.on_conflict_do_nothing(index_elements=["key"])
        self.owners = select(cluster_keys.c.key, cluster_keys.c.cluster_id).where(
            cluster_keys.c.key.in_(bindparam("b_keys", expanding=True))
        )
        cluster: Any = store._insert(clusters)
        self.new_cluster = cluster.on_conflict_do_nothing(index_elements=["id"])


#: By dialect name; immutable once built.
_STATEMENTS: dict[str, _ClusterStatements] = {}


def _statements(store: StoreBase) -> _ClusterStatements:
    name = store.engine.dialect.name
    cached = _STATEMENTS.get(name)
    if cached is None:
        cached = _STATEMENTS[name] = _ClusterStatements(store)
    return cached


def member_changed(
    conn: Connection,
    ident: str,
    cluster: str | None,
    *,
    link_changed: bool,
    relevant: bool,
    now: datetime,
) -> bool:
    """A stored member's content changed: does its cluster's entry change with it?

    Yes when the member is the primary (the entry shows its content) or when its
    link changed (the entry lists it as a source); a further source's text is not shown.
    """
    cluster = cluster or ident
    primary = conn.scalar(select(clusters.c.primary_item).where(clusters.c.id == cluster))
    if primary is None or primary == ident:
        conn.execute(
            update(clusters).where(clusters.c.id == cluster).values(updated=now, relevant=relevant)
        )
        return True
    if link_changed:
        conn.execute(update(clusters).where(clusters.c.id == cluster).values(updated=now))
        return True
    return False


class ClusterQueries(StoreBase):
    def published_entries(
        self, *, relevant_only: bool = True, limit: int | None = None
    ) -> list[StoredItem]:
        """One entry per cluster, newest first: the primary's item, the others' links as related.

        Reads the window in index order (``ix_clusters_publish``), then the members of
        just those clusters (``ix_items_cluster_id``): the cost does not grow with the store.
        """
        query = select(
            clusters.c.id, clusters.c.first_seen, clusters.c.updated, clusters.c.primary_item,
            items.c.link, items.c.data,
        ).join(items, items.c.id == clusters.c.primary_item)  # fmt: skip
        if relevant_only:
            query = query.where(clusters.c.relevant.is_(True))
        query = query.order_by(clusters.c.first_seen.desc(), clusters.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            related = self._related(conn, rows)
        return [
            StoredItem(
                id=r.id,
                first_seen=r.first_seen,
                updated=r.updated,
                item=item_from_dict(r.data),
                related=related.get(r.id, ()),
            )
            for r in rows
        ]

    @staticmethod
    def _related(conn: Connection, rows: Sequence[Any]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        ids = [r.id for r in rows]
        own = {r.id: r.link for r in rows}
        for start in range(0, len(ids), 500):  # keep the IN list within every backend's limits
            chunk = ids[start : start + 500]
            members = conn.execute(
                select(items.c.cluster_id, items.c.link)
                .where(items.c.cluster_id.in_(chunk), items.c.link.is_not(None))
                .order_by(items.c.first_seen, items.c.id)
            )
            for cluster, link in members:
                links = found.setdefault(cluster, [])
                if link != own.get(cluster) and link not in links:
                    links.append(link)
        return {k: tuple(v) for k, v in found.items() if v}

    def dedup_rows(self) -> Iterator[tuple[str, bytes | None, int, dict[str, Any]]]:
        """(cluster, signature, shingles, facts) of every relevant item that has facts,
        oldest first, streamed: what the dedup index is rebuilt from at start."""
        query = (
            select(items.c.cluster_id, items.c.signature, items.c.shingles, items.c.facts)
            .where(items.c.relevant.is_(True), items.c.facts.is_not(None))
            .order_by(items.c.first_seen, items.c.id)
            .execution_options(yield_per=LOAD_BATCH)
        )
        with self._connect() as conn:  # inside a batch's transaction: its writes too
            for cluster, signature, shingles, facts in conn.execute(query):
                yield cluster, signature, shingles or 0, facts

    def cluster_key_rows(self) -> Iterator[tuple[str, str]]:
        """(exact key, cluster) pairs, streamed."""
        query = select(cluster_keys.c.key, cluster_keys.c.cluster_id).execution_options(
            yield_per=LOAD_BATCH
        )
        with self._connect() as conn:
            yield from conn.execute(query)

    def count_clusters(self, *, relevant_only: bool = False) -> int:
        query = select(func.count()).select_from(clusters)
        if relevant_only:
            query = query.where(clusters.c.relevant.is_(True))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)
