"""Placeholder extraction (to be replaced)."""

from __future__ import annotations

from worker.model import Document, EventFacts, Relevance
from worker.pipeline.profile import Profile


def extract(doc: Document, profile: Profile, relevance: Relevance) -> EventFacts:
    return EventFacts(title=doc.title, topics=relevance.topics)
