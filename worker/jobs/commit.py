"""The Committer: one source's items stored with their dedup decisions and webhook news,
in one explicit transaction.

For each item not stored before with the same content, in order: the dedup index
names the entry it joins (a new relevant item joins the index at once, so two
reports of one event in one feed still end in one entry), the store saves it and
says what it did, and a created or updated entry gets its deliveries planned
(``notify``) and written to the outbox, all inside ``Store.transaction()``: an item
and the news of it are committed together or not at all.

This module does not parse or judge items (``pipeline``), does not decide what a
check means (``jobs.check``) and does not post webhooks (``notify.deliver``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from worker.config import DedupSettings
from worker.logs import log_fields
from worker.model import Item
from worker.notify import Notifier
from worker.pipeline.dedup import Decision, Fingerprint, kept_fingerprint
from worker.pipeline.dedup_index import DedupIndex, load_dedup_index
from worker.records import (
    Change,
    DedupPlan,
    ItemWrite,
    SaveResult,
    SourceReport,
    SourceStatus,
)
from worker.store import Store
from worker.store.items import StoredHashes, item_id

log = logging.getLogger("worker")


def dedup_plan(fp: Fingerprint, decision: Decision | None = None) -> DedupPlan:
    """What the store writes of an item's fingerprint and of the dedup stage's decision."""
    return DedupPlan(
        cluster=decision.cluster if decision else None,
        keys=fp.keys,
        signature=fp.signature.tobytes() if fp.signature is not None else None,
        shingles=fp.shingles,
        facts=fp.facts.to_json(),
        reason=f"{decision.layer}: {decision.reason}" if decision else "",
    )


class Committer:
    """Stores sources' items; holds the in-memory dedup index, rebuilt when it may be wrong."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        dedup: DedupSettings,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.dedup = dedup
        self.clock = clock
        #: Built from the store when the first item is stored (``dedup_index``).
        self._index: DedupIndex | None = None

    @property
    def dedup_index(self) -> DedupIndex:
        """The in-memory dedup index, rebuilt from the store on first use (see bench/README.md)."""
        if self._index is None:
            started = time.perf_counter()
            self._index = load_dedup_index(
                self.store,
                self.dedup.near_duplicate_threshold,
                cross_language=self.dedup.cross_language,
            )
            log_fields(log, logging.INFO, "dedup index loaded", items=len(self._index),
                       seconds=round(time.perf_counter() - started, 3))  # fmt: skip
        return self._index

    def forget_index(self) -> None:
        """Drop the index (it took items whose transaction did not commit): rebuilt on next use."""
        self._index = None

    def commit(
        self, source: str, items: Sequence[Item], prints: Sequence[Fingerprint] = ()
    ) -> SourceReport:
        """Store one source's items in one transaction, or in the caller's
        ``Store.transaction()`` when it holds one.

        An item stored before with the same content is left as it is. When the store
        put an item elsewhere than the index planned (another worker wrote first) or
        the transaction failed, the index is rebuilt from the store. ``prints`` are the
        items' fingerprints when the parse processes made them already.
        """
        self.notifier.sync()
        try:
            with self.store.transaction():
                stored = self.store.stored_hashes(item.key for item in items)
                writes, expected, fresh = self._plan(items, prints, stored)
                results = self.write(writes, fresh=fresh)
        except BaseException:
            self.forget_index()
            raise
        for write, planned, result in zip(writes, expected, results, strict=True):
            if planned is not None and (not result.new_item or result.id != planned):
                self.forget_index()  # the index guessed wrong
            if result.new_item and result.change is Change.UPDATED:  # joined an existing entry
                reason = write.dedup.reason if write.dedup else ""
                log_fields(log, logging.INFO, "merged", source=source, entry=result.id,
                           link=write.item.doc.link or "", why=reason)  # fmt: skip
        created = sum(r.change is Change.CREATED for r in results)
        updated = sum(r.change is Change.UPDATED for r in results)
        return SourceReport(source, SourceStatus.OK, created=created, updated=updated)

    def write(
        self, writes: Sequence[ItemWrite], *, fresh: AbstractSet[str] = frozenset()
    ) -> list[SaveResult]:
        """Save items and write the deliveries of every entry they created or updated, in
        one transaction (the caller's, when it holds one)."""
        results = []
        with self.store.transaction():
            saves = self.store.iter_saves(writes, fresh=fresh)
            for write, result in zip(writes, saves, strict=True):
                results.append(result)
                if result.change is not Change.UNCHANGED and self.notifier.wants(write.item):
                    # The entry may show an earlier report of the same event: the webhook
                    # says what the entry shows.
                    entry = self.store.published_entry(result.id)
                    shown, related = entry if entry is not None else (write.item, ())
                    planned = self.notifier.plan(result, shown, now=write.now, related=related)
                    self.store.add_deliveries(planned)
        return results

    def _plan(
        self,
        items: Sequence[Item],
        prints: Sequence[Fingerprint],
        stored: dict[str, StoredHashes],
    ) -> tuple[list[ItemWrite], list[str | None], set[str]]:
        """The writes of the items that changed, the entry the index expects each new
        relevant one to start or join (else ``None``), and the keys not stored yet.
        An unchanged item made from a changed raw entry gets its raw hash refreshed."""
        writes: list[ItemWrite] = []
        expected: list[str | None] = []
        fresh: set[str] = set()
        refreshed: list[tuple[str, str]] = []
        for n, item in enumerate(items):
            known = stored.get(item.key)
            if known is not None and known.content == item.content_hash:
                if item.raw_hash and known.raw != item.raw_hash:
                    refreshed.append((item.key, item.raw_hash))
                continue  # stored already, unchanged: nothing else to write
            now = self.clock()
            plan, fp = self._dedup_plan(item, prints[n] if n < len(prints) else None)
            planned = None
            if known is None and item.key not in fresh:
                fresh.add(item.key)
                if item.relevance.relevant:
                    planned = plan.cluster or item_id(item.key)
                    self.dedup_index.add(planned, fp)
            writes.append(ItemWrite(item, now, plan))
            expected.append(planned)
        self.store.refresh_raw_hashes(refreshed)
        return writes, expected, fresh

    def _dedup_plan(self, item: Item, fp: Fingerprint | None) -> tuple[DedupPlan, Fingerprint]:
        """Which cluster ``item`` joins (only relevant items join), as the store will write it.

        ``fp``: the item's fingerprint when a parse process made it already.
        """
        index = self.dedup_index
        if fp is None or (fp.signature is not None and len(fp.signature) != index.num_perm):
            fp = kept_fingerprint(item, index.signer)
        decision = index.decide(fp) if item.relevance.relevant else None
        return dedup_plan(fp, decision), fp
