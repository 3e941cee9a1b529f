"""Relevance: score a Document against the topic profile, with the reasons.

Every term group of the profile that occurs in the title or the body adds to
its axis (``topic``, ``event``, ...); negative groups subtract from the axis
they name. A document is relevant when every axis reaches its minimum (both
"is it about smart manufacturing?" and "is it a training event?" must agree)
and the total reaches the threshold. Each contribution is kept as a reason,
e.g. ``"topic:智能制造@title(+6.0)"``, so a reader can see why.

Pure: the profile carries the compiled matcher; no I/O, no topic words here.
"""

from __future__ import annotations

from collections import defaultdict

from worker.model import Document, Relevance
from worker.pipeline.profile import Profile, TermGroup
from worker.pipeline.terms import find_terms

#: The field names used in reasons.
TITLE = "title"
BODY = "body"
#: At most this many terms are listed in one reason.
REASON_TERMS = 3
#: Prefix of reasons from negative groups.
NEGATIVE = "not"


def _hits(profile: Profile, text: str) -> dict[int, list[str]]:
    """Group index -> the terms of that group found in ``text``, in order, repeated."""
    hits: dict[int, list[str]] = defaultdict(list)
    index = profile.term_index
    for term in find_terms(profile.matcher, text.lower()):
        hits[index[term]].append(term)
    return hits


def _body_factor(profile: Profile, mentions: int) -> float:
    return min(1.0 + profile.repeat_bonus * (mentions - 1), profile.max_body_factor)


def _reason(group: TermGroup, terms: list[str], where: str, points: float) -> str:
    shown = "/".join(list(dict.fromkeys(terms))[:REASON_TERMS])
    prefix = f"{NEGATIVE}-{group.axis}" if group.negative else group.axis
    return f"{prefix}:{shown}@{where}({points:+.1f})"


def score(doc: Document, profile: Profile) -> Relevance:
    """How well ``doc`` matches ``profile``: per-axis sums, decision, reasons, topics."""
    axes = dict.fromkeys(profile.axes, 0.0)
    reasons: list[tuple[float, str]] = []
    topic_points: dict[str, float] = defaultdict(float)
    for where, hits in ((TITLE, _hits(profile, doc.title)), (BODY, _hits(profile, doc.text))):
        for gi, terms in hits.items():
            group = profile.groups[gi]
            factor = profile.title_weight if where == TITLE else _body_factor(profile, len(terms))
            points = group.weight * factor * (-1.0 if group.negative else 1.0)
            axes[group.axis] += points
            reasons.append((points, _reason(group, terms, where, points)))
            if not group.negative:
                topic_points[group.label] += points
    total = sum(axes.values())
    relevant = total >= profile.threshold and all(
        axes[axis] >= minimum for axis, minimum in profile.axes.items()
    )
    topic_axis = next(iter(profile.axes), "")
    labels = profile.labels(topic_axis)
    topics = sorted((lb for lb in labels if lb in topic_points), key=lambda lb: -topic_points[lb])
    ordered = [text for _, text in sorted(reasons, key=lambda r: -abs(r[0]))]
    return Relevance(relevant=relevant, score=total, reasons=tuple(ordered), topics=tuple(topics))
