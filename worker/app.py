"""The worker's jobs, wired to the pipeline: ingest seeds, ingest feeds, publish.

Each job is one method that runs to completion and returns what it did, so the
scheduler (``scheduler.py``), ``worker once`` and the tests drive the same code.
One log line per source per cycle: ``source=… status=ok|not_modified|unchanged|error``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from worker.config import Settings
from worker.ingest import (
    Digest,
    decide,
    digest_feed,
    interleave_by_host,
    make_parse_pool,
    policy_for,
)
from worker.logs import log_fields
from worker.metrics import Metrics
from worker.model import Entry, Item
from worker.notify import DeliveryReport, Notifier
from worker.pipeline import process
from worker.pipeline.dedup import Decision, Fingerprint, kept_fingerprint
from worker.pipeline.dedup_index import DedupIndex, load_dedup_index
from worker.pipeline.profile import Profile, load_profile
from worker.publish import Snapshot, notify_hub, render_all, write_all
from worker.sources import seeds
from worker.sources.feeds import Fetcher, FetchResponse
from worker.store import Store, connect, migrate
from worker.store.clusters import DedupPlan
from worker.store.feeds import FeedState, FeedUpdate
from worker.store.items import ItemWrite, item_id

log = logging.getLogger("worker")

Clock = Callable[[], datetime]
DEFAULT_PROFILE = Path(__file__).parent / "pipeline" / "data" / "profile.toml"
#: Leases of the jobs one replica at a time runs. A replica that dies holding one
#: blocks that job for at most this long; a live holder renews while it works.
SEEDS_LEASE = timedelta(minutes=5)
PUBLISH_LEASE = timedelta(minutes=2)
#: Feeds claimed at once, per slot of ``fetch.concurrency``: enough to keep every
#: slot busy while the batch's slowest feeds finish.
CLAIM_BATCH_PER_SLOT = 4
#: Most checks the store thread records in one transaction: enough that a cycle of 304s
#: costs a few commits, few enough that one batch never holds the lock long.
STORE_BATCH = 200
#: Most new items in one such transaction (a feed's items are never split): a batch of
#: fresh feeds commits a few times a second, and the claim of the next feeds, which
#: waits for the write lock on SQLite, never waits long.
STORE_BATCH_ITEMS = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one source gave in one cycle."""

    source: str
    status: str  # ok | unchanged | not_modified | error
    created: int = 0
    updated: int = 0
    error: str | None = None


class Check(NamedTuple):
    """One fetch of a feed and what its body gave, for the store thread to record."""

    feed: FeedState
    response: FetchResponse
    digest: Digest | None
    now: datetime


#: A check as the store thread recorded it: its outcome, the feed's new state, and the
#: report of its items (``None`` when it had none to store).
Decided = tuple[Check, str, FeedUpdate, SourceReport | None]


@dataclass(frozen=True, slots=True)
class CycleReport:
    sources: tuple[SourceReport, ...]
    published: tuple[str, ...]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.sources if s.status == "error")


def resolve_profile(settings: Settings) -> Profile:
    path = Path(settings.relevance.profile) if settings.relevance.profile else DEFAULT_PROFILE
    return load_profile(path, threshold=settings.relevance.threshold)


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


class Worker:
    """Holds the store, the profile and the clock; every job reads them from here."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        profile: Profile | None = None,
        clock: Clock = utcnow,
        stopping: threading.Event | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.clock = clock
        #: Draws the jitter of error backoff, in [0, 1); tests pass a constant.
        self.jitter = jitter
        self.metrics = Metrics()
        #: The parse processes, started on the first feed body and kept for later cycles.
        self._pool: ProcessPoolExecutor | None = None
        self.profile = profile or resolve_profile(settings)
        if store is None:
            engine = connect(settings.db_url)
            if settings.migrate_on_start:
                migrate(engine)
            store = Store(engine)
        self.store = store
        #: Set on shutdown: jobs stop between sources and leave the rest for next time.
        self.stopping = stopping or threading.Event()
        #: Webhooks: subscribers' secrets are read here, so a bad one stops start-up.
        self.notifier = Notifier(settings, self.store, clock=clock)
        #: Built from the store when the first item is stored (``dedup_index``).
        self._dedup: DedupIndex | None = None
        #: The configured feeds as last written to the store (``ingest_feeds``).
        self._synced: tuple[tuple[str, str, str, float | None], ...] | None = None
        #: Names this replica in the store's leases.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def close(self) -> None:
        """Close the database connections and stop the parse processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.store.engine.dispose()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- jobs ------------------------------------------------------------------

    def ingest_seeds(self) -> list[SourceReport]:
        """Scan the seed folder, unless another replica is scanning it right now."""
        with self.store.lock(
            "seeds", holder=self.holder, ttl=SEEDS_LEASE, now=self.clock()
        ) as held:
            if not held:
                log.info("seeds: another worker holds the scan; skipped")
                return []
            return self._ingest_seeds()

    def _ingest_seeds(self) -> list[SourceReport]:
        folder = self.settings.seeds_dir
        known = self.store.seed_file_hashes()
        reports = []
        renewed = time.monotonic()
        for path in seeds.seed_paths(folder):
            if self.stopping.is_set():
                break
            if time.monotonic() - renewed > SEEDS_LEASE.total_seconds() / 3:
                self.store.acquire_lock("seeds", holder=self.holder, ttl=SEEDS_LEASE,
                                        now=self.clock())
                renewed = time.monotonic()
            result = seeds.read_seed(folder, path, known)
            if result.status == "ok":
                report = self._store_entries(result.source, result.entries)
            else:
                report = SourceReport(result.source, result.status, error=result.error)
            if report.status != "error" or result.status == "error":
                # An entry that failed to store is retried next time: keep the old hash.
                self.store.record_seed_file(
                    result.path,
                    content_hash=result.content_hash,
                    status=report.status,
                    error=report.error,
                    now=self.clock(),
                )
            self._log(report)
            reports.append(report)
        return reports

    def ingest_feeds(self) -> list[SourceReport]:
        """Check every due feed: fetch concurrently, parse in the parse processes, store.

        Due feeds are claimed with a lease first, so another worker on the same
        database skips them. One log line per feed; a failing feed is recorded
        (reason, error count, next check) and every other feed goes on.
        """
        configured = tuple((f.url, f.name, f.category, f.every) for f in self.settings.feeds)
        if configured != self._synced:  # a cycle of 1,000 feeds spent a second re-syncing
            self.store.sync_feeds(configured)
            self._synced = configured
        # Claim a batch at a time: the lease then only has to outlast one batch, and
        # replicas sharing the database take turns instead of one taking the whole cycle.
        batch = self.settings.fetch.concurrency * CLAIM_BATCH_PER_SLOT
        checked: set[str] = set()

        def claim() -> list[FeedState]:
            claimed = self.store.claim_due_feeds(
                now=self.clock(), lease=self.settings.fetch.lease, limit=batch
            )
            # A feed due again already (a zero interval) waits for the next cycle.
            fresh = [f for f in claimed if f.url not in checked]
            checked.update(f.url for f in fresh)
            return interleave_by_host(fresh)

        reports = asyncio.run(self._check_feeds(claim))
        active = self.store.feeds(active_only=True)
        self.metrics.feeds_in_error.set(sum(f.last_status == "error" for f in active))
        self.metrics.feeds_disabled.set(sum(f.disabled_reason is not None for f in active))
        return reports

    async def _check_feeds(self, claim: Callable[[], list[FeedState]]) -> list[SourceReport]:
        """Check the feeds ``claim`` hands out, batch after batch, until it has none left."""
        settings = self.settings.fetch
        loop = asyncio.get_running_loop()
        # One thread writes to the store: SQLite has one writer anyway, and the
        # event loop never waits on the database.
        writer = ThreadPoolExecutor(1, thread_name_prefix="feed-store")
        # Bodies in hand (being fetched, parsed or stored) are bounded, and so is memory.
        in_hand = asyncio.Semaphore(settings.concurrency * 2)
        # Checks waiting for the store thread. While it writes one batch the next ones
        # queue up, and it takes them all at once: group commit (``_record_checks``).
        waiting: list[tuple[Check, asyncio.Future[SourceReport]]] = []
        storing: list[asyncio.Task[None]] = []

        def next_batch() -> list[tuple[Check, asyncio.Future[SourceReport]]]:
            size = items = 0
            for check, _ in waiting:
                if size == STORE_BATCH or (size and items >= STORE_BATCH_ITEMS):
                    break
                size += 1
                items += len(check.digest.items) if check.digest else 0
            batch = waiting[:size]
            del waiting[:size]
            return batch

        async def store_waiting() -> None:
            while waiting:
                batch = next_batch()
                try:
                    reports = await loop.run_in_executor(
                        writer, self._record_checks, [c for c, _ in batch]
                    )
                except Exception as e:  # the same error for every check of the batch
                    for _, future in batch:
                        future.set_exception(e)
                else:
                    for (_, future), report in zip(batch, reports, strict=True):
                        future.set_result(report)

        async def check(feed: FeedState) -> SourceReport | None:
            async with in_hand:
                if self.stopping.is_set():
                    return None  # the lease runs out and the feed is due again next time
                response = await fetcher.fetch(
                    feed.target, etag=feed.etag, last_modified=feed.last_modified
                )
                now = self.clock()
                digest = None
                if response.is_success():
                    digest = await self._digest(response, feed.url, now)
                future: asyncio.Future[SourceReport] = loop.create_future()
                waiting.append((Check(feed, response, digest, now), future))
                if not storing or storing[-1].done():
                    storing.append(asyncio.create_task(store_waiting()))
                return await future

        done: list[SourceReport | None] = []
        try:
            async with Fetcher(settings) as fetcher:
                running: set[asyncio.Task[SourceReport | None]] = set()
                more = True
                while True:
                    # The next batch is claimed while the last one's slowest feeds finish,
                    # so no slot waits for a whole batch to end.
                    if more and len(running) <= settings.concurrency * 2:
                        fresh = [] if self.stopping.is_set() else await asyncio.to_thread(claim)
                        more = bool(fresh)
                        running.update(asyncio.create_task(check(feed)) for feed in fresh)
                    if not running:
                        break
                    finished, running = await asyncio.wait(
                        running, return_when=asyncio.FIRST_COMPLETED
                    )
                    done.extend(task.result() for task in finished)
        finally:
            writer.shutdown(wait=True)
        return [r for r in done if r is not None]

    async def _digest(self, response: FetchResponse, source: str, now: datetime) -> Digest | None:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._parse_pool(), digest_feed, response.body, response.headers, source, now
            )
        except BrokenProcessPool as e:
            # A parse process died (killed for memory, say): drop the pool, record the feed.
            self._pool = None
            return Digest((), 0, "", f"parse: parse process died: {e}", None, None, 0.0)

    def _parse_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = make_parse_pool(self.settings.fetch, self.profile)
        return self._pool

    def _record_check(
        self,
        feed: FeedState,
        response: FetchResponse,
        digest: Digest | None,
        now: datetime,
    ) -> SourceReport:
        """Store what one check gave and when to check next (runs on the store thread)."""
        return self._record_checks([Check(feed, response, digest, now)])[0]

    def _record_checks(self, checks: Sequence[Check]) -> list[SourceReport]:
        """Store what several checks gave (runs on the store thread).

        Every feed's items (and the webhook news of them) go in one transaction for the
        whole batch, one commit instead of one per feed; then every feed's new state goes
        in a short transaction of its own, so other workers' claims and syncs never wait
        on the feeds table while items are written. A feed whose state was not recorded
        is checked again once its claim runs out. When the batch's transaction fails (one
        feed's items, or a deadlock with another worker), each feed is stored again in a
        transaction of its own: the others are not lost with it, and a feed whose items
        cannot be stored is recorded as failing, with the reason.
        """
        try:
            with self.store.transaction():
                decided = self._decide_and_store(checks)
        except Exception:
            self._dedup = None  # it took items that were not committed: rebuilt on next use
            decided = self._store_one_by_one(checks)
        except BaseException:
            self._dedup = None
            raise
        self.store.record_feed_results([(c.feed.url, u) for c, _, u, _ in decided])
        reports = []
        m = self.metrics
        for (feed, response, digest, _), outcome, update, stored in decided:
            m.fetches.labels(outcome, str(response.status_code or "none")).inc()
            m.bytes.inc(response.wire_bytes)
            if digest is not None:
                m.parse_seconds.observe(digest.seconds)
                m.items_seen.inc(digest.seen)
            if stored is not None:
                m.items_new.inc(stored.created)
            if update.status == "error":
                report = SourceReport(feed.url, "error", error=update.error)
            elif stored is None:
                report = SourceReport(feed.url, update.status)
            else:
                report = stored
            self._log(report)
            reports.append(report)
        return reports

    def _store_one_by_one(self, checks: Sequence[Check]) -> list[Decided]:
        decided = []
        for check in checks:
            try:
                decided.extend(self._decide_and_store([check]))
            except Exception as e:  # ``_store_items`` dropped the dedup index already
                url = check.feed.url
                reason = (str(e).splitlines() or [""])[0][:300]  # not the SQL and its values
                failed = FetchResponse(url, url, None, error=f"store: {type(e).__name__}: {reason}")
                failure = check._replace(response=failed, digest=None)
                decided.extend(self._decide_and_store([failure]))
        return decided

    def _decide_and_store(self, checks: Sequence[Check]) -> list[Decided]:
        """Each check's outcome and new feed state, its items stored (store thread)."""
        decided = []
        for check in checks:
            feed, response, digest, now = check
            policy = policy_for(feed, self.settings.fetch, self.settings.schedule)
            decision = decide(feed, response, digest, policy=policy, now=now, jitter=self.jitter())
            prints = digest.fingerprints if digest and decision.items is digest.items else ()
            stored = (
                self._store_items(feed.url, decision.items, prints) if decision.items else None
            )
            update = decision.update
            if stored is not None:
                update = dataclasses.replace(update, items_new=stored.created)
            decided.append((check, decision.outcome, update, stored))
        return decided

    def publish(self) -> list[str]:
        """Render every output from the store and write the files whose bytes changed.

        One replica publishes at a time (they share the output folder); the
        others skip, and the next publish picks up whatever they stored.
        """
        with self.store.lock(
            "publish", holder=self.holder, ttl=PUBLISH_LEASE, now=self.clock()
        ) as held:
            if not held:
                log.info("publish: another worker is publishing; skipped")
                return []
            return self._publish()

    def _publish(self) -> list[str]:
        stored = self.store.items(relevant_only=True, limit=self.settings.publish.window)
        snapshot = Snapshot(window=tuple(stored), today=self.clock().date())
        written = write_all(render_all(snapshot, self.settings.publish), self.settings.feeds_dir)
        if written:
            log_fields(log, logging.INFO, "published", files=",".join(written), entries=len(stored))
            notify_hub(written, self.settings.publish)
        return written

    def deliver(self) -> DeliveryReport:
        """Post the webhook deliveries that are due now (retries included), then return."""
        report = self.notifier.deliver(self.stopping)
        if report.attempted:
            log_fields(
                log,
                logging.INFO,
                "delivered",
                attempted=report.attempted,
                delivered=report.delivered,
                retried=report.retried,
                dead=report.dead,
            )
        for subscriber, reason in report.disabled.items():
            log_fields(
                log, logging.WARNING, "subscriber disabled", subscriber=subscriber, reason=reason
            )
        return report

    def cycle(self) -> CycleReport:
        """One full cycle: seeds, feeds, publish, deliver webhooks. What ``worker once`` runs."""
        sources = self.ingest_seeds() + self.ingest_feeds()
        report = CycleReport(tuple(sources), tuple(self.publish()))
        self.deliver()
        return report

    # -- helpers ---------------------------------------------------------------

    def _store_entries(self, source: str, entries: Iterable[Entry]) -> SourceReport:
        return self._store_items(
            source, (process(entry, self.profile, now=self.clock()) for entry in entries)
        )

    def _store_items(
        self, source: str, items: Iterable[Item], prints: Sequence[Fingerprint] = ()
    ) -> SourceReport:
        """Store one source's items in one transaction (``Store.save_items``), or in the
        caller's ``Store.transaction()`` when it holds one.

        An item stored before with the same content is left as it is. Each other item's
        dedup plan is made in order, and a new relevant item joins the index at once, in
        the entry its plan names, so two reports of one event in one feed still end in
        one entry. When the store put an item elsewhere than planned (another worker
        wrote first) or the transaction failed, the index is rebuilt from the store.
        ``prints`` are the items' fingerprints when the parse processes made them already.
        """
        batch = list(items)
        stored = self.store.stored_hashes(item.key for item in batch)
        writes: list[ItemWrite] = []
        planned: list[tuple[DedupPlan, str | None]] = []
        fresh: set[str] = set()
        try:
            for n, item in enumerate(batch):
                if stored.get(item.key) == item.content_hash:
                    continue  # stored already, unchanged: nothing to write
                now = self.clock()
                plan, fp = self._dedup_plan(item, prints[n] if n < len(prints) else None)
                expected = None
                if item.key not in stored and item.key not in fresh:
                    fresh.add(item.key)
                    if item.relevance.relevant:
                        expected = plan.cluster or item_id(item.key)
                        self.dedup_index.add(expected, fp)
                writes.append(ItemWrite(item, now, plan, self.notifier.announcer(item, now)))
                planned.append((plan, expected))
            results = self.store.save_items(writes, fresh=fresh)
        except BaseException:
            # The index took items whose transaction did not commit: rebuild it from the store.
            self._dedup = None
            raise
        for write, (plan, expected), result in zip(writes, planned, results, strict=True):
            if expected is not None and (not result.new_item or result.id != expected):
                self._dedup = None  # the index guessed wrong: rebuilt on next use
            if result.new_item and result.change == "updated":  # joined an existing entry
                log_fields(log, logging.INFO, "merged", source=source, entry=result.id,
                           link=write.item.doc.link or "", why=plan.reason)  # fmt: skip
        created = sum(r.change == "created" for r in results)
        updated = sum(r.change == "updated" for r in results)
        return SourceReport(source, "ok", created=created, updated=updated)

    @property
    def dedup_index(self) -> DedupIndex:
        """The in-memory dedup index, rebuilt from the store on first use (see bench/README.md)."""
        if self._dedup is None:
            started = time.perf_counter()
            dedup = self.settings.dedup
            self._dedup = load_dedup_index(
                self.store, dedup.near_duplicate_threshold, cross_language=dedup.cross_language
            )
            log_fields(
                log,
                logging.INFO,
                "dedup index loaded",
                items=len(self._dedup),
                seconds=round(time.perf_counter() - started, 3),
            )
        return self._dedup

    def _dedup_plan(
        self, item: Item, fp: Fingerprint | None = None
    ) -> tuple[DedupPlan, Fingerprint]:
        """Which cluster ``item`` joins (only relevant items join), as the store will write it.

        ``fp``: the item's fingerprint when a parse process made it already.
        """
        index = self.dedup_index
        if fp is None or (fp.signature is not None and len(fp.signature) != index.num_perm):
            fp = kept_fingerprint(item, index.signer)
        decision = index.decide(fp) if item.relevance.relevant else None
        return dedup_plan(fp, decision), fp

    def _log(self, report: SourceReport) -> None:
        level = logging.WARNING if report.status == "error" else logging.INFO
        fields: dict[str, object] = {"source": report.source, "status": report.status}
        if report.status == "ok":
            fields.update(created=report.created, updated=report.updated)
        if report.error:
            fields["error"] = report.error
        log_fields(log, level, "source", **fields)
