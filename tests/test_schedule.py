"""The scheduling rules, as a table of cases over the pure ``next_check``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from worker.sources.schedule import (
    HONOURED_DELAY_CAP,
    CheckFacts,
    SchedulePolicy,
    next_check,
    weekly_entries,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0
#: interval 30 min, window [5 min, 1 day], backoff 60 s doubling up to 6 h.
POLICY = SchedulePolicy(
    interval=1800, min_interval=300, max_interval=24 * HOUR, backoff_base=60, backoff_cap=6 * HOUR
)
FIXED = SchedulePolicy(interval=1800, adaptive=False)

CASES = [
    # (name, policy, facts, jitter, expected delay in seconds, disabled?)
    ("ok, nothing known: the configured interval", POLICY, CheckFacts("ok"), 0.0, 1800, False),
    ("304 keeps the configured interval", POLICY, CheckFacts("not_modified"), 0.0, 1800, False),
    (
        "7 a week: once a day, at the max",
        POLICY,
        CheckFacts("ok", weekly_entries=7),
        0,
        86400,
        False,
    ),
    ("70 a week: every 2.4 h", POLICY, CheckFacts("ok", weekly_entries=70), 0, 8640, False),
    (
        "10000 a week: clamped to the min",
        POLICY,
        CheckFacts("ok", weekly_entries=10000),
        0,
        300,
        False,
    ),
    ("quiet for a week: the max", POLICY, CheckFacts("ok", weekly_entries=0), 0, 86400, False),
    ("not adaptive: rate ignored", FIXED, CheckFacts("ok", weekly_entries=10000), 0, 1800, False),
    ("ttl longer than the interval wins", POLICY, CheckFacts("ok", max_age=7200), 0, 7200, False),
    (
        "max-age shorter than the interval: interval",
        POLICY,
        CheckFacts("ok", max_age=60),
        0,
        1800,
        False,
    ),
    ("max-age on 304 too", POLICY, CheckFacts("not_modified", max_age=7200), 0, 7200, False),
    (
        "max-age of a year is capped",
        POLICY,
        CheckFacts("ok", max_age=365 * 86400),
        0,
        HONOURED_DELAY_CAP,
        False,
    ),
    ("first error: the base", POLICY, CheckFacts("error", error_count=1), 0.0, 60, False),
    ("second error doubles", POLICY, CheckFacts("error", error_count=2), 0.0, 120, False),
    ("fifth error", POLICY, CheckFacts("error", error_count=5), 0.0, 960, False),
    (
        "jitter takes up to a quarter off",
        POLICY,
        CheckFacts("error", error_count=5),
        1.0,
        720,
        False,
    ),
    ("half jitter", POLICY, CheckFacts("error", error_count=1), 0.5, 52.5, False),
    (
        "many errors: capped, never stopped",
        POLICY,
        CheckFacts("error", error_count=50),
        0.0,
        6 * HOUR,
        False,
    ),
    (
        "absurd error count: still the cap",
        POLICY,
        CheckFacts("error", error_count=10**6),
        0.0,
        6 * HOUR,
        False,
    ),
    (
        "Retry-After longer than backoff wins",
        POLICY,
        CheckFacts("error", error_count=1, retry_after=120),
        0.0,
        120,
        False,
    ),
    (
        "Retry-After shorter than backoff: backoff",
        POLICY,
        CheckFacts("error", error_count=5, retry_after=10),
        0.0,
        960,
        False,
    ),
    (
        "Retry-After is not cut by jitter",
        POLICY,
        CheckFacts("error", error_count=1, retry_after=120),
        1.0,
        120,
        False,
    ),
    (
        "Retry-After of a month is capped",
        POLICY,
        CheckFacts("error", error_count=1, retry_after=30 * 86400),
        0.0,
        HONOURED_DELAY_CAP,
        False,
    ),
]


@pytest.mark.parametrize(
    ("policy", "facts", "jitter", "delay", "disabled"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_next_check(
    policy: SchedulePolicy, facts: CheckFacts, jitter: float, delay: float, disabled: bool
) -> None:
    decision = next_check(policy, facts, now=NOW, jitter=jitter)
    assert decision.disabled_reason is None
    assert decision.delay == pytest.approx(delay)
    assert decision.at == NOW + timedelta(seconds=delay)


def test_gone_disables_with_a_reason() -> None:
    decision = next_check(POLICY, CheckFacts("gone", error_count=1), now=NOW, jitter=0.3)
    assert decision.at is None
    assert decision.disabled_reason and "410" in decision.disabled_reason


def test_backoff_grows_then_holds_at_the_cap() -> None:
    delays = [
        next_check(POLICY, CheckFacts("error", error_count=n), now=NOW, jitter=0).delay
        for n in range(1, 20)
    ]
    assert delays == sorted(delays)
    assert delays[-1] == POLICY.backoff_cap and delays[0] == POLICY.backoff_base


def test_weekly_entries_counts_the_last_week_only() -> None:
    dates = [NOW - timedelta(days=d) for d in (0.5, 1, 6.9, 8, 30)] + [NOW + timedelta(days=1)]
    assert weekly_entries(dates, now=NOW) == 3
    assert weekly_entries([], now=NOW) is None
