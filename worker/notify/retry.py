"""What an attempt's answer means: delivered, retry later, dead, or subscriber gone.

Pure: the answer, the attempt count, the schedule, ``now`` and a random number
come in; a verdict comes out. A retry is a value carrying its own delay (as in
arq). The schedule defaults to Svix's (https://docs.svix.com/retries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.headers import parse_retry_after

#: Answers whose ``Retry-After`` we honour (RFC 9110 §10.2.3: 503 and 3xx; 429 per RFC 6585).
RETRY_AFTER_STATUSES = frozenset({429, 503})
#: The receiver says the endpoint is gone for good: stop posting to it (as Svix does).
GONE = 410
#: Characters of a response body kept in ``last_error``.
ERROR_SNIPPET_CHARS = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status (and a few headers), or an error before any status."""

    status_code: int | None = None
    #: Why there was no status: connection refused, timeout, refused target…
    error: str | None = None
    retry_after: str | None = None
    location: str | None = None
    #: The start of the response body (capped), for the error message.
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        """One line for ``last_error``."""
        if self.status_code is None:
            return self.error or "no answer"
        text = f"HTTP {self.status_code}"
        if 300 <= self.status_code < 400:
            text += f": redirect to {self.location or '?'} not followed"
        snippet = " ".join(self.body.split())[:ERROR_SNIPPET_CHARS]
        return f"{text}: {snippet}" if snippet else text


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again after ``delay``."""

    delay: timedelta
    error: str


@dataclass(frozen=True, slots=True)
class Dead:
    """No more attempts: dead-lettered, kept for ``worker webhooks replay``."""

    error: str


@dataclass(frozen=True, slots=True)
class Gone:
    """The receiver answered 410: this delivery is dead and the subscriber disabled."""

    error: str


Verdict = Delivered | Retry | Dead | Gone


def backoff(attempts: int, schedule: Sequence[float], jitter: float, rand: float) -> timedelta:
    """The wait after failed attempt number ``attempts`` (1-based), jittered.

    ``rand`` in [0, 1) stretches or shrinks the wait by up to ``jitter`` (a fraction),
    so that many deliveries failing together do not all come back at the same moment.
    """
    base = schedule[min(attempts, len(schedule)) - 1]
    factor = 1 + jitter * (2 * rand - 1)
    return timedelta(seconds=max(0.0, base * factor))


def judge_answer(
    answer: Answer,
    *,
    attempts: int,
    schedule: Sequence[float],
    jitter: float,
    rand: float,
    now: datetime,
    max_retry_after: float,
) -> Verdict:
    """What to do after attempt number ``attempts`` (1-based) got ``answer``.

    There are ``1 + len(schedule)`` attempts in all: the first, then one after each wait.
    """
    if answer.ok:
        return Delivered()
    error = answer.describe()
    if answer.status_code == GONE:
        return Gone(error)
    if attempts > len(schedule):
        return Dead(f"{error} (gave up after {attempts} attempts)")
    if answer.status_code in RETRY_AFTER_STATUSES:
        wait = parse_retry_after(answer.retry_after, now)
        if wait is not None:
            return Retry(timedelta(seconds=min(wait, max_retry_after)), error)
    return Retry(backoff(attempts, schedule, jitter, rand), error)
