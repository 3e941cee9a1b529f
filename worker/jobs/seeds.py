"""The seeds job: read the seed folder and store what is new or changed.

One replica at a time scans (the ``seeds`` lease); a file is tracked by its path
and the hash of its bytes, so an unchanged file costs a hash. This module does
not read files itself (``sources.seeds``) and does not store items itself
(``jobs.commit``).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from worker.jobs.commit import Committer
from worker.jobs.context import JobContext, log_source
from worker.pipeline import process
from worker.records import SourceReport, SourceStatus
from worker.sources import seeds

log = logging.getLogger("worker")

#: The scan's lease. A replica that dies holding it blocks the scan for at most this
#: long; a live holder renews it while it works.
SEEDS_LEASE = timedelta(minutes=5)


class SeedsJob:
    def __init__(self, context: JobContext, committer: Committer) -> None:
        self.context = context
        self.committer = committer

    def run(self) -> list[SourceReport]:
        """Scan the seed folder, unless another replica is scanning it right now."""
        ctx = self.context
        with ctx.store.lock("seeds", holder=ctx.holder, ttl=SEEDS_LEASE, now=ctx.clock()) as held:
            if not held:
                log.info("seeds: another worker holds the scan; skipped")
                return []
            return self._scan()

    def _scan(self) -> list[SourceReport]:
        ctx = self.context
        folder = ctx.settings.seeds_dir
        known = ctx.store.seed_file_hashes()
        self.committer.notifier.sync()
        reports = []
        renewed = time.monotonic()
        for path in seeds.seed_paths(folder):
            if ctx.stopping.is_set():
                break
            if time.monotonic() - renewed > SEEDS_LEASE.total_seconds() / 3:
                ctx.store.acquire_lock("seeds", holder=ctx.holder, ttl=SEEDS_LEASE,
                                       now=ctx.clock())  # fmt: skip
                renewed = time.monotonic()
            result = seeds.read_seed(folder, path, known)
            if result.status == "ok":
                items = [
                    process(entry, ctx.profile, now=ctx.pipeline_clock())
                    for entry in result.entries
                ]
                report = self.committer.commit(result.source, items)
            else:
                status = SourceStatus(result.status)
                report = SourceReport(result.source, status, error=result.error)
            if report.status is not SourceStatus.ERROR or result.status == "error":
                # An entry that failed to store is retried next time: keep the old hash.
                ctx.store.record_seed_file(result.path, content_hash=result.content_hash,
                                           status=report.status.value, error=report.error,
                                           now=ctx.clock())  # fmt: skip
            log_source(report)
            reports.append(report)
        return reports
