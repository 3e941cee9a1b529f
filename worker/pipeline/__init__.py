"""The pure middle of the flow: Entry -> normalize -> relevance -> extract -> Item.

Nothing here does I/O: no files, no network, no database. ``now`` and the
topic profile are passed in. Dedup decisions that need the store's state live
in ``pipeline.dedup`` and are applied by the caller.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from worker.model import Entry, EventFacts, Item
from worker.pipeline.dedup import content_hash, entry_key
from worker.pipeline.extract import extract
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import Profile
from worker.pipeline.relevance import score

#: The version of what the stages make of an entry. Part of every raw hash
#: (``raw_hash``): an entry whose key and raw hash are stored is not processed again.
#: BUMP IT whenever a change to a stage (normalize, relevance, extract, the content
#: hash or the dedup keys) changes its output for some entry, or stored items keep
#: what the old code made of entries their feeds still carry. (A change of the
#: profile, its weights or the gazetteer changes ``Profile.version``, also hashed.)
PIPELINE_VERSION = 1


def raw_hash(entry: Entry, profile_version: str = "") -> str:
    """A hash of everything the stages read of ``entry``, of ``PIPELINE_VERSION`` and
    of the profile's version (its words, weights and gazetteer)."""
    published = entry.published.isoformat() if entry.published else ""
    fields = (
        str(PIPELINE_VERSION), profile_version, entry.source, entry.guid or "", entry.link or "",
        entry.title if entry.title is not None else "\x00", entry.content, entry.content_type,
        entry.summary if entry.summary is not None else "\x00", published,
        entry.language or "", "1" if entry.sanitized else "0",
    )  # fmt: skip
    return hashlib.blake2b("\x1f".join(fields).encode("utf-8"), digest_size=16).hexdigest()


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
        raw_hash=raw_hash(entry, profile.version),
    )
