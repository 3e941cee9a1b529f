"""The feeds job: claim due feeds, fetch them concurrently, digest the bodies in the parse
processes, and hand each check to the store thread.

Due feeds are claimed a batch at a time with a lease, so other workers on the
same database skip them; the next batch is claimed while the last one's slowest
feeds finish. One thread writes to the store (SQLite has one writer anyway, and
the event loop never waits on the database); checks that finish while it writes
wait and are written together (group commit). One log line per feed; a failing
feed is recorded and every other feed goes on.

This module does not decide what a check means (``jobs.check``), does not parse
(``jobs.parse_pool``) and does not write to the store itself (``jobs.recorder``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple
from urllib.parse import urlsplit

from worker.jobs.check import Check
from worker.jobs.context import JobContext
from worker.jobs.parse_pool import ParsePool
from worker.jobs.recorder import CheckRecorder
from worker.records import FeedState, SourceReport
from worker.sources.feeds import Fetcher

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
#: How often the cycle looks at the stop signal while checks are in flight.
STOP_CHECK_SECONDS = 0.25


class Claimed(NamedTuple):
    """A feed this worker claimed, and the raw hashes the store holds of its last entries."""

    feed: FeedState
    known: dict[str, str]


#: A check waiting for the store thread, and where its report goes.
Waiting = tuple[Check, "asyncio.Future[SourceReport]"]


class FeedsJob:
    def __init__(self, context: JobContext, recorder: CheckRecorder, parse_pool: ParsePool) -> None:
        self.context = context
        self.recorder = recorder
        self.parse_pool = parse_pool
        #: The configured feeds as last written to the store.
        self._synced: tuple[tuple[str, str, str, float | None], ...] | None = None

    def run(self) -> list[SourceReport]:
        """Check every due feed: fetch concurrently, parse in the parse processes, store."""
        ctx = self.context
        configured = tuple((f.url, f.name, f.category, f.every) for f in ctx.settings.feeds)
        if configured != self._synced:  # a cycle of 1,000 feeds spent a second re-syncing
            ctx.store.sync_feeds(configured)
            self._synced = configured
        self.recorder.committer.notifier.sync()
        # Claim a batch at a time: the lease then only has to outlast one batch, and
        # replicas sharing the database take turns instead of one taking the whole cycle.
        batch = ctx.settings.fetch.concurrency * CLAIM_BATCH_PER_SLOT
        started = ctx.clock()

        def claim() -> list[Claimed]:
            # A feed checked in this cycle and due again already waits, unclaimed, for the
            # next cycle: claimed and skipped, it would sit out its whole lease.
            claimed = ctx.store.claim_due_feeds(
                now=ctx.clock(), lease=ctx.settings.fetch.lease, limit=batch,
                checked_before=started,
            )  # fmt: skip
            # What the store holds of the entries each feed gave last time, for the whole
            # batch at once: an entry read again unchanged then costs its parse a hash.
            known = ctx.store.raw_hashes(k for f in claimed for k in f.entry_keys or ())
            return [
                Claimed(f, {k: known[k] for k in f.entry_keys or () if k in known})
                for f in interleave_by_host(claimed)
            ]

        reports = asyncio.run(_Cycle(self, claim).run())
        active = ctx.store.feeds(active_only=True)
        ctx.metrics.feeds_in_error.set(sum(f.last_status == "error" for f in active))
        ctx.metrics.feeds_disabled.set(sum(f.disabled_reason is not None for f in active))
        return reports


class _Cycle:
    """One run of the feeds job: the checks in flight and the ones waiting to be stored."""

    def __init__(self, job: FeedsJob, claim: Callable[[], list[Claimed]]) -> None:
        self.job = job
        self.claim = claim
        self.settings = job.context.settings.fetch
        # Bodies in hand (being fetched, parsed or stored) are bounded, and so is memory.
        self.in_hand = asyncio.Semaphore(self.settings.concurrency * 2)
        self.waiting: list[Waiting] = []
        self.storing: list[asyncio.Task[None]] = []
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="feed-store")
        #: Claimed feeds not yet handed to the store thread, by URL: released on a stop.
        self.unrecorded: dict[str, FeedState] = {}

    async def run(self) -> list[SourceReport]:
        """Check the feeds ``claim`` hands out, batch after batch, until it has none left
        or the worker stops (then the checks not yet stored are dropped, their claims
        given back)."""
        stopping = self.job.context.stopping
        done: list[SourceReport | None] = []
        running: set[asyncio.Task[SourceReport | None]] = set()
        more = True
        try:
            async with Fetcher(self.settings) as fetcher:
                while more or running:
                    # The next batch is claimed while the last one's slowest feeds finish,
                    # so no slot waits for a whole batch to end.
                    if more and len(running) <= self.settings.concurrency * 2:
                        fresh = [] if stopping.is_set() else await asyncio.to_thread(self.claim)
                        more = bool(fresh)
                        self.unrecorded.update((c.feed.url, c.feed) for c in fresh)
                        running.update(
                            asyncio.create_task(self.check(fetcher, c), name=c.feed.url)
                            for c in fresh
                        )
                    if stopping.is_set():
                        more = False
                        self._drop_unstored(running)
                    if running:
                        finished, running = await asyncio.wait(
                            running, timeout=STOP_CHECK_SECONDS,
                            return_when=asyncio.FIRST_COMPLETED,
                        )  # fmt: skip
                        done.extend(t.result() for t in finished if not t.cancelled())
        finally:
            self.writer.shutdown(wait=True)
            if self.unrecorded:
                await asyncio.to_thread(
                    self.job.context.store.release_feeds, list(self.unrecorded.values())
                )
        return [r for r in done if r is not None]

    def _drop_unstored(self, running: set[asyncio.Task[SourceReport | None]]) -> None:
        """Cancel the checks still fetching or parsing; those with the store thread finish."""
        for task in running:
            if task.get_name() in self.unrecorded:
                task.cancel()

    async def check(self, fetcher: Fetcher, claimed: Claimed) -> SourceReport | None:
        context = self.job.context
        feed = claimed.feed
        async with self.in_hand:
            if context.stopping.is_set():
                return None  # its claim is given back: due again for the next start
            response = await fetcher.fetch(
                feed.target, etag=feed.etag, last_modified=feed.last_modified
            )
            now = context.clock()
            digest = None
            if response.is_success():
                digest = await self.job.parse_pool.digest(
                    response.body, response.headers, feed.url, context.pipeline_clock(),
                    claimed.known,
                )
            future: asyncio.Future[SourceReport] = asyncio.get_running_loop().create_future()
            self.unrecorded.pop(feed.url, None)
            self.waiting.append((Check(feed, response, digest, now), future))
            if not self.storing or self.storing[-1].done():
                self.storing.append(asyncio.create_task(self._store_waiting()))
            return await future

    async def _store_waiting(self) -> None:
        """Hand the waiting checks to the store thread, a batch at a time, until none wait."""
        loop = asyncio.get_running_loop()
        while self.waiting:
            batch = self._next_batch()
            try:
                reports = await loop.run_in_executor(
                    self.writer, self.job.recorder.record, [c for c, _ in batch]
                )
            except Exception as e:  # the same error for every check of the batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
            else:
                for (_, future), report in zip(batch, reports, strict=True):
                    if not future.done():  # its check was cancelled meanwhile: stored anyway
                        future.set_result(report)

    def _next_batch(self) -> list[Waiting]:
        size = items = 0
        for check, _ in self.waiting:
            if size == STORE_BATCH or (size and items >= STORE_BATCH_ITEMS):
                break
            size += 1
            items += len(check.digest.items) if check.digest else 0
        batch = self.waiting[:size]
        del self.waiting[:size]
        return batch


def interleave_by_host(feeds: Sequence[FeedState]) -> list[FeedState]:
    """Feeds in round-robin order of their hosts, so one big host does not queue the rest."""
    by_host: dict[str, list[FeedState]] = defaultdict(list)
    for feed in feeds:
        by_host[(urlsplit(feed.target).hostname or "").lower()].append(feed)
    queues = list(by_host.values())
    ordered: list[FeedState] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[depth] for q in queues if depth < len(q))
    return ordered
