"""What one check of a feed means: pure, from the feed's state, the response and its digest.

``decide_check`` turns one fetch (and what its body gave) into the update the
store records and the items to store; ``policy_for`` gathers the operator's
scheduling knobs for one feed. Nothing here fetches, parses, stores or reads a
clock: ``now`` and the jitter come in as arguments, so the rules are tested as
a table of cases (``tests/test_check.py``). When the next check falls is
``sources.schedule``'s to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from worker.config import FetchSettings, ScheduleSettings
from worker.jobs.parse_pool import Digest
from worker.model import Item
from worker.records import CheckOutcome, FeedState, FeedStatus, FeedUpdate
from worker.sources.feeds import FetchResponse
from worker.sources.schedule import CheckFacts, NextCheck, SchedulePolicy, next_check


class Check(NamedTuple):
    """One fetch of a feed and what its body gave, for the store thread to record."""

    feed: FeedState
    response: FetchResponse
    digest: Digest | None
    now: datetime


@dataclass(frozen=True, slots=True)
class CheckDecision:
    """What to record for one feed after one check, and what to store."""

    update: FeedUpdate
    schedule: NextCheck
    #: For logs and metrics.
    outcome: CheckOutcome
    items: tuple[Item, ...] = ()


def policy_for(feed: FeedState, fetch: FetchSettings, schedule: ScheduleSettings) -> SchedulePolicy:
    """The scheduling knobs for ``feed``: its own ``every``, else the configured interval."""
    return SchedulePolicy(
        interval=feed.every or schedule.feeds_every,
        adaptive=fetch.adaptive,
        min_interval=fetch.min_interval,
        max_interval=fetch.max_interval,
        backoff_base=fetch.backoff_base,
        backoff_cap=fetch.backoff_cap,
    )


def decide_check(
    feed: FeedState,
    response: FetchResponse,
    digest: Digest | None,
    *,
    policy: SchedulePolicy,
    now: datetime,
    jitter: float,
) -> CheckDecision:
    """The outcome of one check, in the order the rules apply: gone, not modified,
    failed (the fetch, or a body that gave no entries), ok."""
    moved = response.permanent_url()
    if response.is_gone():
        schedule = next_check(policy, CheckFacts("gone"), now=now, jitter=jitter)
        update = FeedUpdate(FeedStatus.ERROR, now, schedule.at, http_status=410,
                            error="fetch: HTTP 410 Gone", fetch_url=moved,
                            disabled_reason=schedule.disabled_reason)  # fmt: skip
        return CheckDecision(update, schedule, CheckOutcome.GONE)
    if not response.is_modified():
        max_age = _largest(response.max_age(), feed.ttl_seconds)
        facts = CheckFacts("not_modified", max_age=max_age, weekly_entries=feed.weekly_entries)
        schedule = next_check(policy, facts, now=now, jitter=jitter)
        update = FeedUpdate(FeedStatus.NOT_MODIFIED, now, schedule.at, http_status=304,
                            etag=response.etag, last_modified=response.last_modified,
                            fetch_url=moved)  # fmt: skip
        return CheckDecision(update, schedule, CheckOutcome.NOT_MODIFIED)
    error = _failure(response, digest)
    if error is not None or digest is None:
        facts = CheckFacts(
            "error", error_count=feed.error_count + 1, retry_after=response.retry_after(now)
        )
        schedule = next_check(policy, facts, now=now, jitter=jitter)
        update = FeedUpdate(FeedStatus.ERROR, now, schedule.at, http_status=response.status_code,
                            error=error, fetch_url=moved)  # fmt: skip
        return CheckDecision(update, schedule, CheckOutcome.ERROR)
    return _parsed(feed, response, digest, policy=policy, now=now, jitter=jitter)


def _failure(response: FetchResponse, digest: Digest | None) -> str | None:
    """Why a modified response gave nothing to store, or ``None``."""
    error = response.failure()
    if error is None and digest is None:
        return "parse: no result"
    if error is None and digest is not None and digest.error and not digest.seen_ok:
        return digest.error
    return error


def _parsed(
    feed: FeedState,
    response: FetchResponse,
    digest: Digest,
    *,
    policy: SchedulePolicy,
    now: datetime,
    jitter: float,
) -> CheckDecision:
    weekly = digest.weekly if digest.weekly is not None else feed.weekly_entries
    facts = CheckFacts(
        "ok", max_age=_largest(response.max_age(), digest.ttl), weekly_entries=weekly
    )
    schedule = next_check(policy, facts, now=now, jitter=jitter)
    update = FeedUpdate(
        FeedStatus.OK,
        now,
        schedule.at,
        http_status=response.status_code,
        error=digest.error,
        etag=response.etag,
        last_modified=response.last_modified,
        items_seen=digest.seen,
        weekly_entries=digest.weekly,
        ttl_seconds=digest.ttl,
        title=digest.title or None,
        fetch_url=response.permanent_url(),
        entry_keys=digest.keys,
    )
    return CheckDecision(update, schedule, CheckOutcome.OK, digest.items)


def _largest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
