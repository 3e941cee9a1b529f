"""Placeholder relevance (to be replaced)."""

from __future__ import annotations

from worker.model import Document, Relevance
from worker.pipeline.profile import Profile


def score(doc: Document, profile: Profile) -> Relevance:
    text = (doc.title + " " + doc.text).lower()
    s = sum(w for t, w in profile.topic_terms.items() if t in text)
    e = sum(w for t, w in profile.event_terms.items() if t in text)
    return Relevance(relevant=s > 0 and e > 0, score=float(s + e))
