"""Placeholder normalization (to be replaced)."""

from __future__ import annotations

from datetime import datetime

from worker.model import Document, Entry


def normalize(entry: Entry, *, now: datetime) -> Document:
    text = entry.content.strip()
    title = entry.title or text.split(".")[0][:120]
    return Document(
        source=entry.source, guid=entry.guid, link=entry.link, title=title, text=text,
        html=text, summary=text[:300], published=entry.published, lang="en",
    )
