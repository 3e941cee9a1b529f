"""The parts of a feed cycle around the network: digesting bodies, deciding outcomes.

``digest_feed`` runs in the parse processes (a ``ProcessPoolExecutor`` sized to
the cores), so feedparser and the pure pipeline never hold up the event loop
that drives the fetches. ``decide`` turns one fetch (and its digest) into what
the store should record and when the feed is checked next; it does no I/O.

This module does not fetch (``sources.feeds``) and does not store (``store``).
"""

from __future__ import annotations

import copyreg
import dataclasses
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from worker.config import FetchSettings, ScheduleSettings
from worker.model import Document, EventFacts, Item, Relevance
from worker.pipeline import process
from worker.pipeline.dedup import NUM_PERM, Fingerprint, MatchFacts, Signer, kept_fingerprint
from worker.pipeline.profile import Profile
from worker.sources.feeds import FetchResponse
from worker.sources.parse import parse_feed
from worker.sources.schedule import (
    CheckFacts,
    NextCheck,
    SchedulePolicy,
    next_check,
    weekly_entries,
)
from worker.store.feeds import FeedState, FeedUpdate

#: The topic profile of *this parse process*, set once by ``_init_parse_process``;
#: the main process never reads it (it passes its own profile to the pool).
_PROCESS_PROFILE: list[Profile] = []
#: The MinHash signer of this parse process (its permutations are drawn once, at start).
_PROCESS_SIGNER: list[Signer] = []


@dataclass(frozen=True, slots=True)
class Digest:
    """What a feed body gave, after parsing and the pure pipeline."""

    items: tuple[Item, ...]
    #: Entries the parser read (``items`` may be fewer when the pipeline refused some).
    seen: int
    title: str
    #: Why the feed is not well-formed, or which entries failed; ``None`` when clean.
    error: str | None
    #: RSS ``<ttl>`` in seconds.
    ttl: float | None
    #: Entries published in the week before the check (``None``: no dated entries).
    weekly: int | None
    #: Seconds spent parsing and processing.
    seconds: float
    #: The dedup fingerprint of each of ``items``, in order: pure and the costliest part of
    #: dedup, so it is made here and not on the one thread that writes to the store.
    fingerprints: tuple[Fingerprint, ...] = ()


def digest_feed(body: bytes, headers: Mapping[str, str], source: str, now: datetime) -> Digest:
    """Parse ``body`` and run each entry through the pipeline; never raises for bad input."""
    started = time.perf_counter()
    profile = _PROCESS_PROFILE[0]
    parsed = parse_feed(body, source, headers)
    signer = _PROCESS_SIGNER[0]
    items: list[Item] = []
    prints: list[Fingerprint] = []
    failures: list[str] = []
    for entry in parsed.entries:
        try:
            item = process(entry, profile, now=now)
            prints.append(kept_fingerprint(item, signer))
            items.append(item)
        except Exception as e:  # one odd entry must not cost the feed its other entries
            failures.append(f"{type(e).__name__}: {e}")
    error = parsed.error
    if failures:
        detail = f"pipeline: {len(failures)} entries failed, first: {failures[0]}"
        error = f"{error}; {detail}" if error else detail
    dates = [e.published for e in parsed.entries if e.published is not None]
    return Digest(
        items=tuple(items),
        seen=len(parsed.entries),
        title=parsed.title,
        error=error,
        ttl=parsed.ttl,
        weekly=weekly_entries(dates, now=now),
        seconds=time.perf_counter() - started,
        fingerprints=tuple(prints),
    )


def _pickle_by_fields(cls: type) -> None:
    """Pickle ``cls`` as the arguments of its constructor.

    A frozen, slotted dataclass pickles by default through ``dataclasses.fields()``
    on every object, both ways; a digest of 20 items took longer to unpickle in the
    main process than its feed took to fetch.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))
    copyreg.pickle(cls, lambda obj: (cls, tuple([getattr(obj, name) for name in names])))


# What a digest holds, as it comes back from a parse process.
for _cls in (Digest, Item, Document, Relevance, EventFacts, Fingerprint, MatchFacts):
    _pickle_by_fields(_cls)


def _init_parse_process(profile: Profile) -> None:
    _PROCESS_PROFILE[:] = [profile]
    # The store's dedup index signs with NUM_PERM permutations drawn from the same seed.
    _PROCESS_SIGNER[:] = [Signer(NUM_PERM)]


def make_parse_pool(settings: FetchSettings, profile: Profile) -> ProcessPoolExecutor:
    """Parse processes, one per core unless configured.

    ``forkserver``: the worker has threads (scheduler, HTTP server, DNS lookups),
    and forking a threaded process can copy a held lock into the child.
    """
    context = multiprocessing.get_context("forkserver")
    # The fork server imports these once; each parse process forks from it ready to go.
    context.set_forkserver_preload(["worker.ingest"])
    workers = settings.parse_workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_parse_process,
        initargs=(profile,),
    )


def policy_for(feed: FeedState, fetch: FetchSettings, schedule: ScheduleSettings) -> SchedulePolicy:
    return SchedulePolicy(
        interval=feed.every or schedule.feeds_every,
        adaptive=fetch.adaptive,
        min_interval=fetch.min_interval,
        max_interval=fetch.max_interval,
        backoff_base=fetch.backoff_base,
        backoff_cap=fetch.backoff_cap,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """What to record for one feed after one check, and what to store."""

    update: FeedUpdate
    schedule: NextCheck
    #: ``ok``, ``not_modified``, ``error`` or ``gone``, for logs and metrics.
    outcome: str
    items: tuple[Item, ...] = ()


def decide(
    feed: FeedState,
    response: FetchResponse,
    digest: Digest | None,
    *,
    policy: SchedulePolicy,
    now: datetime,
    jitter: float,
) -> Decision:
    """The outcome of one check: pure, from the feed's state, the response and its digest."""
    moved = response.permanent_url()
    max_age = _largest(response.max_age(), feed.ttl_seconds)
    if response.is_gone():
        error: str | None = "fetch: HTTP 410 Gone"
        schedule = next_check(policy, CheckFacts("gone"), now=now, jitter=jitter)
        update = FeedUpdate(
            "error",
            now,
            schedule.at,
            http_status=410,
            error=error,
            fetch_url=moved,
            disabled_reason=schedule.disabled_reason,
        )
        return Decision(update, schedule, "gone")
    if not response.is_modified():
        facts = CheckFacts("not_modified", max_age=max_age, weekly_entries=feed.weekly_entries)
        schedule = next_check(policy, facts, now=now, jitter=jitter)
        update = FeedUpdate(
            "not_modified",
            now,
            schedule.at,
            http_status=304,
            etag=response.etag,
            last_modified=response.last_modified,
            fetch_url=moved,
        )
        return Decision(update, schedule, "not_modified")
    error = response.failure()
    if error is None and digest is None:
        error = "parse: no result"
    if error is None and digest is not None and digest.error and not digest.items:
        error = digest.error
    if error is not None or digest is None:
        facts = CheckFacts(
            "error", error_count=feed.error_count + 1, retry_after=response.retry_after(now)
        )
        schedule = next_check(policy, facts, now=now, jitter=jitter)
        update = FeedUpdate(
            "error",
            now,
            schedule.at,
            http_status=response.status_code,
            error=error,
            fetch_url=moved,
        )
        return Decision(update, schedule, "error")
    weekly = digest.weekly if digest.weekly is not None else feed.weekly_entries
    facts = CheckFacts(
        "ok", max_age=_largest(response.max_age(), digest.ttl), weekly_entries=weekly
    )
    schedule = next_check(policy, facts, now=now, jitter=jitter)
    update = FeedUpdate(
        "ok",
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
        fetch_url=moved,
    )
    return Decision(update, schedule, "ok", digest.items)


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


def _largest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
