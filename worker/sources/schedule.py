"""When to check a feed next: a pure function of the feed's state, what the
last fetch said, and ``now``.

This module does not interact with anything (no clock, no random source, no
network, no database): it only processes data, so the rules are tested as a
table of cases (``tests/test_schedule.py``). The caller passes ``now`` and a
``jitter`` value drawn from ``[0, 1)``.

The rules, in the order they apply:

1. ``410 Gone`` disables the feed, with the reason kept for the operator
   (RFC 9110 §15.5.11: "likely to be permanent").
2. An error backs off exponentially from ``backoff_base`` with jitter, capped
   at ``backoff_cap``. The feed is never given up on: once the cap is reached
   it is retried at the cap, for ever (Miniflux users ask for exactly this,
   miniflux/v2#1084, where a polling limit stops feeds for good).
   ``Retry-After`` on 429/503 (RFC 9110 §10.2.3, RFC 6585 §4) is honoured: the
   next check is never sooner than the server asks (up to ``HONOURED_DELAY_CAP``).
3. Success (200 or 304): the configured interval, or, when ``adaptive``, the
   interval the feed's publishing rate suggests (Miniflux's entry-frequency
   scheduler: a week divided by the entries of the last week), clamped to
   ``[min_interval, max_interval]``; never sooner than the feed's own RSS
   ``<ttl>`` or ``Cache-Control: max-age`` asks (RSS 2.0 "ttl"; RFC 9111 §5.2.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

#: The window Miniflux's entry-frequency scheduler counts entries in.
WEEK_SECONDS = 7 * 24 * 3600.0
#: A server can ask us to wait (Retry-After, max-age, ttl), but not for longer
#: than this: a misconfigured "max-age=31536000" must not silence a feed for a year.
HONOURED_DELAY_CAP = 7 * 24 * 3600.0
#: Share of an error delay that jitter may take off, so feeds that failed
#: together (one host down) do not all come back in the same second.
JITTER_FRACTION = 0.25

Outcome = Literal["ok", "not_modified", "error", "gone"]


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """The operator's knobs (from ``[fetch]`` and the feed's own ``every``), in seconds."""

    #: The configured interval: the feed's ``every`` or ``schedule.feeds_every``.
    interval: float
    #: Adapt the interval to the feed's publishing rate within [min_interval, max_interval].
    adaptive: bool = True
    min_interval: float = 300.0
    max_interval: float = 24 * 3600.0
    #: First delay after an error; doubles with each further error.
    backoff_base: float = 60.0
    #: The longest delay after errors; a failing feed is retried at least this often.
    backoff_cap: float = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class CheckFacts:
    """What one check found, reduced to what scheduling needs."""

    outcome: Outcome
    #: Consecutive errors including this one (0 after a success).
    error_count: int = 0
    #: Seconds the server asked to wait (``Retry-After`` on 429/503), if it did.
    retry_after: float | None = None
    #: Seconds the feed may be cached (``Cache-Control: max-age``, RSS ``<ttl>``), if given.
    max_age: float | None = None
    #: Entries the feed published in the week before ``now``; ``None`` when unknown
    #: (no dated entries seen yet).
    weekly_entries: int | None = None


@dataclass(frozen=True, slots=True)
class NextCheck:
    """The decision: when to look again, or why never to."""

    at: datetime | None
    disabled_reason: str | None = None
    #: The delay chosen, in seconds (for logs and tests).
    delay: float = 0.0


def success_interval(policy: SchedulePolicy, weekly_entries: int | None) -> float:
    """The interval after a successful check, before the feed's own max-age."""
    if not policy.adaptive or weekly_entries is None:
        return policy.interval
    if weekly_entries <= 0:
        # Quiet for a week: look rarely (Miniflux does the same).
        return policy.max_interval
    return _clamp(WEEK_SECONDS / weekly_entries, policy.min_interval, policy.max_interval)


def error_delay(policy: SchedulePolicy, error_count: int, jitter: float) -> float:
    """Exponential backoff with jitter, capped: base·2^(n-1), minus up to a quarter."""
    exponent = max(error_count - 1, 0)
    # Cap the exponent before computing: 2**10000 is not a float.
    raw = policy.backoff_base * 2.0 ** min(exponent, 64)
    capped = min(raw, policy.backoff_cap)
    return capped * (1.0 - JITTER_FRACTION * _clamp(jitter, 0.0, 1.0))


def next_check(
    policy: SchedulePolicy, facts: CheckFacts, *, now: datetime, jitter: float
) -> NextCheck:
    """When to check the feed next, given what this check found; ``jitter`` in [0, 1)."""
    if facts.outcome == "gone":
        return NextCheck(None, "gone: HTTP 410, the feed was removed by its publisher")
    if facts.outcome == "error":
        delay = error_delay(policy, facts.error_count, jitter)
        if facts.retry_after is not None:
            delay = max(delay, min(facts.retry_after, HONOURED_DELAY_CAP))
        return NextCheck(now + timedelta(seconds=delay), delay=delay)
    delay = success_interval(policy, facts.weekly_entries)
    if facts.max_age is not None:
        delay = max(delay, min(facts.max_age, HONOURED_DELAY_CAP))
    return NextCheck(now + timedelta(seconds=delay), delay=delay)


def weekly_entries(published: list[datetime], *, now: datetime) -> int | None:
    """How many of the dated entries were published in the week before ``now``."""
    if not published:
        return None
    start = now - timedelta(seconds=WEEK_SECONDS)
    return sum(1 for p in published if start <= p <= now)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))
