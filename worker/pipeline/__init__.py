"""The pure middle of the flow: Entry -> normalize -> relevance -> extract -> Item.

Nothing here does I/O: no files, no network, no database. ``now`` and the
topic profile are passed in. Dedup decisions that need the store's state live
in ``pipeline.dedup`` and are applied by the caller.
"""

from __future__ import annotations

from datetime import datetime

from worker.model import Entry, EventFacts, Item
from worker.pipeline.dedup import content_hash, entry_key
from worker.pipeline.extract import extract
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import Profile
from worker.pipeline.relevance import score


def process(entry: Entry, profile: Profile, *, now: datetime, extract_all: bool = False) -> Item:
    """Run one entry through every pure stage and return the finished item.

    Facts are extracted for the items relevance keeps (most of a news feed is not),
    or for every item with ``extract_all`` (``worker inspect``, the quality bench).
    """
    doc = normalize(entry, now=now)
    relevance = score(doc, profile)
    relevant = relevance.relevant or extract_all
    if relevant:
        event = extract(doc, profile, relevance, now=now)
    else:
        event = EventFacts(topics=relevance.topics)
    return Item(
        key=entry_key(entry),
        doc=doc,
        relevance=relevance,
        event=event,
        content_hash=content_hash(doc),
    )
