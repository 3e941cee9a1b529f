"""Dedup keys: which stored item an entry is.

Pure functions over records; the store enforces the key with a unique
constraint, so two workers can never store the same entry twice.

Fallback order of the exact key, as Miniflux does it (``internal/reader/processor``):

1. the source's own guid (RSS ``guid``, Atom ``id``), scoped to the source;
2. else the entry's link, scoped to the source;
3. else, for a seed document, its path alone, so an edited file updates its
   item instead of adding one;
4. else a hash of its title and content.
"""

from __future__ import annotations

import hashlib

from worker.model import Document, Entry

SEED_PREFIX = "seed:"


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def entry_key(entry: Entry) -> str:
    """The exact identity of ``entry`` within its source."""
    if entry.guid:
        return f"{entry.source}#guid:{entry.guid}"
    if entry.link:
        return f"{entry.source}#link:{entry.link}"
    if entry.source.startswith(SEED_PREFIX):
        return entry.source
    return f"{entry.source}#hash:{_digest(entry.title or '', entry.content)[:32]}"


def content_hash(doc: Document) -> str:
    """A hash of what a reader sees; when it changes the stored item is updated."""
    return _digest(doc.title, doc.link or "", doc.text)
