"""What one check of a feed means, as a table of cases over the pure ``decide_check``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from worker.config import FetchSettings, ScheduleSettings
from worker.jobs.check import decide_check, policy_for
from worker.jobs.parse_pool import Digest
from worker.model import Document, EventFacts, Item, Relevance
from worker.records import CheckOutcome, FeedState, FeedStatus
from worker.sources.feeds import FetchResponse
from worker.sources.schedule import SchedulePolicy

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
URL = "https://news.example/feed.xml"
MOVED = "https://new.example/feed.xml"
POLICY = SchedulePolicy(interval=1800, adaptive=False, backoff_base=60, backoff_cap=3600)
FEED = FeedState(
    url=URL, name="", category="", every=None, etag='"old"', last_modified=None,
    last_status=FeedStatus.OK, last_error=None, error_count=2, last_success_at=None,
    last_checked_at=None, next_check_at=None, items_seen=0, disabled_reason=None,
    weekly_entries=3, ttl_seconds=None,
)  # fmt: skip
ITEM = Item(
    key="k",
    doc=Document(URL, "g", None, "t", "text", "<p>text</p>", "", None, "en"),
    relevance=Relevance(False, 0.0),
    event=EventFacts(),
    content_hash="h",
)


def digest(items: tuple[Item, ...] = (ITEM,), error: str | None = None, **kw: object) -> Digest:
    values: dict[str, object] = {"seen": len(items), "title": "T", "ttl": None, "weekly": 5}
    values.update(kw)
    return Digest(items=items, error=error, seconds=0.01, **values)  # type: ignore[arg-type]


def response(code: int | None, *, error: str | None = None, **headers: str) -> FetchResponse:
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return FetchResponse(URL, URL, code, named, b"<rss/>", error)


CASES = [
    # (name, feed, response, digest, outcome, status, delay s, error starts with, items stored)
    ("410 disables the feed", FEED, response(410), None,
     CheckOutcome.GONE, FeedStatus.ERROR, None, "fetch: HTTP 410", 0),
    ("304: the interval", FEED, response(304), None,
     CheckOutcome.NOT_MODIFIED, FeedStatus.NOT_MODIFIED, 1800, None, 0),
    ("304 honours max-age", FEED, response(304, cache_control="max-age=7200"), None,
     CheckOutcome.NOT_MODIFIED, FeedStatus.NOT_MODIFIED, 7200, None, 0),
    ("304 honours the ttl the last body gave", replace(FEED, ttl_seconds=5400.0), response(304),
     None, CheckOutcome.NOT_MODIFIED, FeedStatus.NOT_MODIFIED, 5400, None, 0),
    ("500: third error in a row backs off 60·2²", FEED, response(500), None,
     CheckOutcome.ERROR, FeedStatus.ERROR, 240, "fetch: HTTP 500", 0),
    ("429 with Retry-After waits as asked", FEED, response(429, retry_after="3000"), None,
     CheckOutcome.ERROR, FeedStatus.ERROR, 3000, "fetch: HTTP 429 (Retry-After: 3000)", 0),
    ("a failed fetch", FEED, response(None, error="fetch: timed out after 20 s"), None,
     CheckOutcome.ERROR, FeedStatus.ERROR, 240, "fetch: timed out", 0),
    ("200 without a digest", FEED, response(200), None,
     CheckOutcome.ERROR, FeedStatus.ERROR, 240, "parse: no result", 0),
    ("200 whose body gave no entries", FEED, response(200), digest((), "parse: not a feed"),
     CheckOutcome.ERROR, FeedStatus.ERROR, 240, "parse: not a feed", 0),
    ("200 with entries", FEED, response(200), digest(),
     CheckOutcome.OK, FeedStatus.OK, 1800, None, 1),
    ("200, ill-formed but with entries: ok, and why", FEED, response(200),
     digest(error="parse: mismatched tag"),
     CheckOutcome.OK, FeedStatus.OK, 1800, "parse: mismatched tag", 1),
    ("200 honours the body's ttl", FEED, response(200), digest(ttl=7200.0),
     CheckOutcome.OK, FeedStatus.OK, 7200, None, 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("feed", "got", "body", "outcome", "status", "delay", "error", "stored"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide_check(
    feed: FeedState,
    got: FetchResponse,
    body: Digest | None,
    outcome: CheckOutcome,
    status: FeedStatus,
    delay: float | None,
    error: str | None,
    stored: int,
) -> None:
    decision = decide_check(feed, got, body, policy=POLICY, now=NOW, jitter=0.0)
    update = decision.update
    assert (decision.outcome, update.status, update.now) == (outcome, status, NOW)
    expected_at = None if delay is None else NOW + timedelta(seconds=delay)
    assert update.next_check_at == decision.schedule.at == expected_at
    assert (update.error or "").startswith(error or "") and bool(update.error) == bool(error)
    assert len(decision.items) == stored
    assert update.http_status == got.status_code


def test_a_gone_feed_is_disabled_with_the_reason() -> None:
    decision = decide_check(FEED, response(410), None, policy=POLICY, now=NOW, jitter=0.0)
    assert decision.update.disabled_reason and "410" in decision.update.disabled_reason


def test_what_a_body_gave_is_recorded_and_a_304_keeps_it() -> None:
    ok = decide_check(FEED, response(200, etag='"new"', last_modified="Sat, 01 Jun 2024"),
                      digest(ttl=60.0), policy=POLICY, now=NOW, jitter=0.0)  # fmt: skip
    u = ok.update
    assert (u.etag, u.last_modified, u.items_seen, u.weekly_entries, u.ttl_seconds, u.title) == (
        '"new"', "Sat, 01 Jun 2024", 1, 5, 60.0, "T"
    )
    not_modified = decide_check(
        FEED, response(304, etag='"new"'), None, policy=POLICY, now=NOW, jitter=0.0
    ).update
    assert (not_modified.etag, not_modified.weekly_entries, not_modified.items_seen) == (
        '"new"', None, 0
    )


def test_a_permanent_redirect_moves_the_feed_and_a_temporary_one_does_not() -> None:
    for codes, moved in (((301,), MOVED), ((308, 301), MOVED), ((301, 302), None)):
        got = replace(response(200), final_url=MOVED, redirects=codes)
        decision = decide_check(FEED, got, digest(), policy=POLICY, now=NOW, jitter=0.0)
        assert decision.update.fetch_url == moved


def test_jitter_shortens_an_error_delay_only() -> None:
    late = decide_check(FEED, response(500), None, policy=POLICY, now=NOW, jitter=0.99)
    assert late.update.next_check_at is not None
    assert NOW + timedelta(seconds=180) < late.update.next_check_at < NOW + timedelta(seconds=240)
    ok = decide_check(FEED, response(200), digest(), policy=POLICY, now=NOW, jitter=0.99)
    assert ok.update.next_check_at == NOW + timedelta(seconds=1800)


def test_policy_for_a_feed_takes_its_own_interval_else_the_schedule() -> None:
    fetch, schedule = FetchSettings(min_interval=120), ScheduleSettings(feeds_every=900)
    assert policy_for(FEED, fetch, schedule).interval == 900
    own = policy_for(replace(FEED, every=60.0), fetch, schedule)
    assert (own.interval, own.min_interval, own.adaptive) == (60.0, 120, True)
