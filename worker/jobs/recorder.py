"""The feed job's store thread: what a batch of checks gave, recorded in few transactions.

Every feed's items (and the webhook news of them) go in one transaction for the
whole batch, one commit instead of one per feed; then every feed's new state goes
in a short transaction of its own, so other workers' claims and syncs never wait
on the feeds table while items are written. A feed whose state was not recorded
is checked again once its claim runs out. When the batch's transaction fails (one
feed's items, or a deadlock with another worker), each feed is stored again in a
transaction of its own: the others are not lost with it, and a feed whose items
cannot be stored is recorded as failing, with the reason.

This module does not fetch or parse (``jobs.feeds``) and decides nothing itself:
what a check means is ``jobs.check``'s, where items go is ``jobs.commit``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

from worker.jobs.check import Check, CheckDecision, decide_check, policy_for
from worker.jobs.commit import Committer
from worker.jobs.context import JobContext, log_source
from worker.records import FeedStatus, FeedUpdate, SourceReport, SourceStatus
from worker.sources.feeds import FetchResponse


class Recorded(NamedTuple):
    """A check as the store thread recorded it."""

    check: Check
    decision: CheckDecision
    #: The feed's new state, with the count of items it stored.
    update: FeedUpdate
    #: The report of its items (``None`` when it had none to store).
    stored: SourceReport | None


class CheckRecorder:
    def __init__(self, context: JobContext, committer: Committer) -> None:
        self.context = context
        self.committer = committer

    def record(self, checks: Sequence[Check]) -> list[SourceReport]:
        """Store what several checks gave (runs on the store thread); one report each."""
        store = self.context.store
        try:
            with store.transaction():
                recorded = [self._decide_and_store(check) for check in checks]
        except Exception:
            self.committer.forget_index()  # it took items that were not committed
            recorded = self._one_by_one(checks)
        except BaseException:
            self.committer.forget_index()
            raise
        store.record_feed_results([(r.check.feed.url, r.update) for r in recorded])
        reports = []
        for r in recorded:
            self._count(r)
            report = self._report(r)
            log_source(report)
            reports.append(report)
        return reports

    def _one_by_one(self, checks: Sequence[Check]) -> list[Recorded]:
        recorded = []
        for check in checks:
            try:
                with self.context.store.transaction():
                    recorded.append(self._decide_and_store(check))
            except Exception as e:
                self.committer.forget_index()
                url = check.feed.url
                reason = (str(e).splitlines() or [""])[0][:300]  # not the SQL and its values
                error = f"store: {type(e).__name__}: {reason}"
                failed = check._replace(response=FetchResponse(url, url, None, error=error))
                recorded.append(self._decide_and_store(failed._replace(digest=None)))
        return recorded

    def _decide_and_store(self, check: Check) -> Recorded:
        """One check's outcome and new feed state, its items stored (store thread)."""
        feed, response, digest, now = check
        settings = self.context.settings
        policy = policy_for(feed, settings.fetch, settings.schedule)
        decision = decide_check(
            feed, response, digest, policy=policy, now=now, jitter=self.context.jitter()
        )
        update, stored = decision.update, None
        if decision.items:
            prints = digest.fingerprints if digest and decision.items is digest.items else ()
            stored = self.committer.commit(feed.url, decision.items, prints)
            update = dataclasses.replace(update, items_new=stored.created)
        return Recorded(check, decision, update, stored)

    def _count(self, r: Recorded) -> None:
        m = self.context.metrics
        response, digest = r.check.response, r.check.digest
        m.fetches.labels(r.decision.outcome.value, str(response.status_code or "none")).inc()
        m.bytes.inc(response.wire_bytes)
        if digest is not None:
            m.parse_seconds.observe(digest.seconds)
            m.items_seen.inc(digest.seen)
            m.items_unchanged.inc(digest.unchanged)
        if r.stored is not None:
            m.items_new.inc(r.stored.created)

    @staticmethod
    def _report(r: Recorded) -> SourceReport:
        url = r.check.feed.url
        if r.update.status is FeedStatus.ERROR:
            return SourceReport(url, SourceStatus.ERROR, error=r.update.error)
        if r.stored is None:
            return SourceReport(url, SourceStatus(r.update.status.value))
        return r.stored
