"""Which subscribers hear of which item: pure decisions, no I/O.

Given a stored item and what happened to it (created, updated, deleted), decide
the deliveries to write to the outbox: one per subscriber whose events and filters
match, each with its ``webhook-id`` and the exact JSON body it will carry on
every attempt. The caller writes them in the item's own transaction; this module
reads and writes nothing (it never sees the store).

A ``webhook-id`` is derived from the subscriber, the entry, the event and what the
entry says (``message_id``), never drawn at random: announcing the same change
again (a worker that lost its database and rebuilt it from the same sources)
gives the same id, and receivers drop the repeat as the Standard Webhooks
specification asks them to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from worker.model import Item
from worker.records import Change, NewDelivery

#: The ``type`` of a webhook for each change the store reports.
EVENT_OF_CHANGE = {Change.CREATED: "item.created", Change.UPDATED: "item.updated"}
#: Prefix of webhook ids, as in the Standard Webhooks examples (``msg_…``).
MESSAGE_ID_PREFIX = "msg_"
#: An item whose language is "mixed" matches a filter on either of these.
MIXED_LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A configured subscriber, its secret resolved."""

    id: str
    url: str
    #: The ``whsec_…`` secret (resolved from ``env:`` or ``file:``).
    secret: str
    events: tuple[str, ...] = ("item.created", "item.updated")
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    min_score: float | None = None


def message_id(subscriber: str, event: str, data: Mapping[str, Any]) -> str:
    """The ``webhook-id`` of ``event`` about the entry ``data`` for ``subscriber``: the same
    for the same change, on any worker, before and after any rebuild of the database.
    (The outbox adds a suffix when an entry goes back to something it said before.)"""
    canonical = json.dumps(
        [subscriber, event, data], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return MESSAGE_ID_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def matches(subscriber: Subscriber, item: Item, event: str) -> bool:
    """Whether ``subscriber`` wants ``event`` about ``item`` (its events and filters)."""
    if event not in subscriber.events:
        return False
    if subscriber.min_score is not None and item.relevance.score < subscriber.min_score:
        return False
    if subscriber.languages:
        wanted = {lang.lower() for lang in subscriber.languages}
        lang = item.doc.lang.lower()
        langs = set(MIXED_LANGUAGES) if lang == "mixed" else {lang}
        if not wanted & (langs | {lang}):
            return False
    if subscriber.topics:
        wanted = {t.casefold() for t in subscriber.topics}
        have = {t.casefold() for t in (*item.relevance.topics, *item.event.topics)}
        if not wanted & have:
            return False
    return True


def entry_data(item: Item, item_id: str, related: Sequence[str] = ()) -> dict[str, Any]:
    """A webhook's ``data``: the published entry, its stable ``id``, the item it shows as
    ``worker inspect`` prints it, and ``related``, the links of its other sources."""
    return {"id": item_id, **item.to_json(), "related": list(related)}


def payload(
    event: str, item: Item, item_id: str, now: datetime, related: Sequence[str] = ()
) -> str:
    """The webhook body: ``{"type", "timestamp", "data"}`` (``entry_data``)."""
    return body_of(event, entry_data(item, item_id, related), now)


def body_of(event: str, data: Mapping[str, Any], now: datetime) -> str:
    body = {
        "type": event,
        "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def plan_deliveries(
    item: Item,
    item_id: str,
    change: Change,
    subscribers: Sequence[Subscriber],
    *,
    now: datetime,
    related: Sequence[str] = (),
) -> list[NewDelivery]:
    """The deliveries announcing ``change`` of the entry ``item_id``, which shows ``item``.

    Only relevant entries are published, so only they are announced.
    """
    event = EVENT_OF_CHANGE.get(change)
    if event is None or not item.relevance.relevant:
        return []
    chosen = [s for s in subscribers if matches(s, item, event)]
    if not chosen:
        return []
    data = entry_data(item, item_id, related)
    body = body_of(event, data, now)
    return [
        NewDelivery(
            id=message_id(s.id, event, data),
            subscriber=s.id,
            item_id=item_id,
            event=event,
            body=body,
            created_at=now,
        )
        for s in chosen
    ]
