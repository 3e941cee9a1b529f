"""The records that cross the edges: between the jobs, the store and the webhook side.

``model.py`` holds what travels through the pipeline (``Entry`` … ``Item``); this
module holds what the jobs hand to the store and what the store hands back: a
feed's state and the update one check decided, an item write and the result of
saving it, the dedup plan, and the outbox's deliveries. Outcomes are enums (each a
``str``, so logs, metrics and the database see their plain value).

Plain frozen dataclasses only: this module does no I/O and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from worker.model import Item

# -- outcomes ---------------------------------------------------------------------------


class CheckOutcome(StrEnum):
    """What one check of a feed came to (logs and the fetch metric)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    #: ``410 Gone``: the feed is disabled.
    GONE = "gone"


class FeedStatus(StrEnum):
    """A feed's ``last_status``: what its last check left it as."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


class SourceStatus(StrEnum):
    """What one source gave in one cycle (one log line each: ``source=… status=…``)."""

    OK = "ok"
    #: A seed file whose bytes did not change.
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


class Change(StrEnum):
    """What saving an item did to the published entry it belongs to."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# -- feeds ------------------------------------------------------------------------------

ORIGIN_CONFIG = "config"
ORIGIN_COMMAND = "command"
#: Was in the config file, is not any more: kept for its history, not fetched.
ORIGIN_UNLISTED = "unlisted"
ACTIVE_ORIGINS = (ORIGIN_CONFIG, ORIGIN_COMMAND)


@dataclass(frozen=True, slots=True)
class FeedState:
    """A subscription and what the worker remembers of its last fetch."""

    url: str
    name: str
    category: str
    every: float | None
    etag: str | None
    last_modified: str | None
    #: ``None``: never checked.
    last_status: FeedStatus | None
    last_error: str | None
    #: Consecutive errors; 0 after a success.
    error_count: int
    last_success_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    #: Entries read from the feed, all fetches together.
    items_seen: int
    #: Why the feed is no longer fetched (410 Gone); ``None`` while enabled.
    disabled_reason: str | None
    fetch_url: str | None = None
    origin: str = ORIGIN_CONFIG
    title: str | None = None
    last_http_status: int | None = None
    last_error_at: datetime | None = None
    items_new: int = 0
    weekly_entries: int | None = None
    ttl_seconds: float | None = None
    lease_until: datetime | None = None
    spread: int = 0
    #: The entry keys of the last parsed body (whose raw hashes the next parse is given).
    entry_keys: list[str] | None = None

    @property
    def target(self) -> str:
        """The URL to fetch: where a permanent redirect moved the feed, else its own."""
        return self.fetch_url or self.url


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What one check decided for a feed; the store applies it as one statement."""

    status: FeedStatus
    now: datetime
    next_check_at: datetime | None
    http_status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    items_seen: int = 0
    items_new: int = 0
    #: Only written when not ``None`` (a 304 keeps what the last parse found).
    weekly_entries: int | None = None
    ttl_seconds: float | None = None
    title: str | None = None
    #: A permanent redirect's target, to fetch from next time.
    fetch_url: str | None = None
    disabled_reason: str | None = None
    #: The entry keys of the body just parsed; ``None``: keep the last ones.
    entry_keys: tuple[str, ...] | None = None


# -- items ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DedupPlan:
    """What the dedup stage decided for one item, for the store to write."""

    #: The existing cluster the item joins; None: it starts one of its own.
    cluster: str | None
    #: Exact cross-source keys to claim for the cluster (``url:…``, ``text:…``).
    keys: tuple[str, ...] = ()
    #: The MinHash signature as bytes, the shingle count, and the event-rule facts as JSON,
    #: kept so the index can be rebuilt at start without re-reading any text.
    signature: bytes | None = None
    shingles: int = 0
    facts: dict[str, Any] | None = None
    #: Why the dedup stage chose the cluster, for the log.
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One item for the store to save, with the dedup stage's decision."""

    item: Item
    now: datetime
    #: ``None``: the item is its own cluster.
    dedup: DedupPlan | None = None


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What saving one item did: the store's answer, which the caller acts on."""

    #: The published entry's id: the item's cluster (``store.clusters``).
    id: str
    change: Change
    #: True when the item itself was stored for the first time (a new report).
    new_item: bool = False


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one source gave in one cycle."""

    source: str
    status: SourceStatus
    created: int = 0
    updated: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one full cycle (``worker once``) did."""

    sources: tuple[SourceReport, ...]
    published: tuple[str, ...]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.sources if s.status is SourceStatus.ERROR)


# -- the webhook outbox -----------------------------------------------------------------

DeliveryStatus = Literal["pending", "failed", "delivered", "dead"]
#: Statuses the delivery loop may claim: never tried, or tried and due for a retry.
CLAIMABLE: tuple[DeliveryStatus, ...] = ("pending", "failed")


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One event for one subscriber, to be written in the item's own transaction."""

    #: The ``webhook-id`` every attempt of this delivery carries.
    id: str
    subscriber: str
    item_id: str
    event: str
    #: The JSON body, exactly as it is signed and posted on every attempt.
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this worker holds until ``lease_until``."""

    id: str
    subscriber: str
    item_id: str
    event: str
    body: str
    #: Attempts so far, this one included.
    attempts: int
    lease_token: str
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """What became of one attempt: the row's new state."""

    id: str
    subscriber: str
    lease_token: str
    status: DeliveryStatus
    attempted_at: datetime
    #: When to try again (``status == "failed"``); ignored otherwise.
    next_attempt_at: datetime | None = None
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery as stored, for ``webhooks list`` and the tests."""

    id: str
    subscriber: str
    item_id: str
    event: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    lease_token: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """One subscriber's counts for ``worker webhooks list``."""

    id: str
    url: str
    delivered: int
    #: Not yet delivered and not dead (``failed`` included).
    pending: int
    #: Of those pending, how many failed at least once and wait for a retry.
    failed: int
    dead: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    disabled_reason: str | None
