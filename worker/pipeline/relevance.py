"""Relevance: is this report a training event on our topic? A judgement, with its reasons.

The question a person asks is whether the report announces or reports a
concrete training event whose subject is the topic. This stage looks at the
report the way such a person does and turns what it sees into named features:

* where each role of the profile occurs: in the title, the lead (the first
  lines) or only further down (``topic@title``, ``event@lead``,
  ``cue:act@body``, ``not:job ad@title``...);
* what an event word is about: the nearest topic or other-subject word in the
  same sentence (``subject:topic@title``, ``subject:other``): "消防安全培训" in
  a smart factory is a fire-safety course;
* whether the event is dated and held: an act ("held", "举办") next to a date
  in the lead (``act+date@lead``);
* whether the topic is the report's subject or a passing word (``focus:topic``).

A logistic model (``profile.models["relevance"]``, fitted by ``worker train``)
weighs them; without one, a hand-set prior does. The item's ``score`` is the
probability, ``relevant`` is whether it reaches the profile's threshold, and
``reasons`` name the features that carried the decision, each with a word
that triggered it: ``subject:topic@title[培训班](+1.92)``.

Pure: the profile carries the compiled matcher and the weights; no I/O.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from worker.model import Document, Relevance
from worker.pipeline.dates import find_dates
from worker.pipeline.learn import LinearModel, probability
from worker.pipeline.profile import Profile

#: Characters of the body that make its lead (the first lines of a report).
LEAD_CHARS = 400
#: The judgement reads this much of the body at most: a report says what it is in
#: its first pages, and a 200 KB page must not cost a hundred times a news item.
BODY_CHARS = 6000
#: How far (characters) an event word's subject may be, within its sentence.
SUBJECT_REACH = 40
#: At most this many reasons are listed.
MAX_REASONS = 6
#: The lookalike class whose words name another subject of training or another field.
OTHER_SUBJECTS = ("not:training on another subject", "not:another field")
#: The feature every lookalike class also feeds.
ANY_LOOKALIKE = "not:any"
#: Where a sentence ends: CJK and Latin sentence punctuation, line breaks.
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s)")

#: What a careful reader would weigh, before any labelled report: the model's
#: fallback when the profile has no learned weights, and the centre its fit is
#: pulled towards (see ``learn``). Every lookalike class gets the same prior.
_ROLE_PRIOR = {
    "topic@title": 1.0, "topic@lead": 0.8, "topic@body": 0.8, "topic~weak@title": 0.3,
    "topic~weak@lead": 0.2, "topic~weak@body": 0.2,
    "event@title": 1.0, "event@lead": 0.8, "event@body": 0.6, "event~weak@title": 0.4,
    "event~weak@lead": 0.3, "event~weak@body": 0.2,
    "subject:topic@title": 1.5, "subject:topic": 0.8, "subject:other@title": -2.0,
    "subject:other": -1.0, "date@lead": 0.3, "act+date@lead": 1.0, "cue:act@body": 0.2,
    "cue:curriculum@body": 0.5, "cue:trainee@body": 0.5, "cue:registration@body": 0.4,
    "cue:industry@body": 0.2, "focus:topic": 1.0,
}  # fmt: skip
_LOOKALIKE_PRIOR = {"title": -2.0, "lead": -1.0, "body": -0.6}
PRIOR_BIAS = -5.0


def prior(profile: Profile) -> LinearModel:
    """The hand-set model for ``profile`` (its lookalike classes included)."""
    weights = dict(_ROLE_PRIOR)
    for zone, weight in _LOOKALIKE_PRIOR.items():
        weights[f"{ANY_LOOKALIKE}@{zone}"] = weight
    for group in profile.groups:
        if group.role == "lookalike":
            for zone, weight in _LOOKALIKE_PRIOR.items():
                weights[f"{group.feature}@{zone}"] = weight
    return LinearModel(weights, PRIOR_BIAS)


@dataclass(slots=True)
class _Seen:
    """What the scan found: feature values and, per feature, the first word behind it."""

    values: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)

    def mark(self, feature: str, value: float, word: str) -> None:
        self.values[feature] = value
        self.evidence.setdefault(feature, word)


class _Hit(NamedTuple):
    """One term occurrence: where, which group, in which sentence (a tuple: a page
    has a hundred of them and they are made on every report)."""

    begin: int
    end: int
    group: int
    sentence: int
    zone: str  # "title" | "lead" | "body"
    #: The word as found (lowercased): shown in the reasons.
    word: str


@dataclass(frozen=True, slots=True)
class _Scan:
    """One pass over title and body: the term hits and where sentences start."""

    hits: list[_Hit]
    #: Lowercased title, a line break, lowercased body.
    text: str
    #: Offsets where sentences start in ``text``.
    starts: list[int]
    #: Where the lead ends in ``text``.
    lead_end: int


def _scan(doc: Document, profile: Profile) -> _Scan:
    """Every term occurrence in title + body, with its zone and sentence."""
    title = doc.title.lower()
    text = f"{title}\n{doc.text[:BODY_CHARS].lower()}"
    lead_end = len(title) + 1 + LEAD_CHARS
    starts = [0]
    starts += [m.end() for m in _SENTENCE_END.finditer(text)]
    index = profile.term_index
    groups = profile.groups
    hits = []
    for match in profile.matcher.finditer(text):
        word = match.group()
        group = index.get(word)
        if group is None or not groups[group].feature:
            continue  # an [[ignore]] phrase: its words do not count
        begin = match.start()
        zone = "title" if begin < len(title) else "lead" if begin < lead_end else "body"
        sentence = bisect_right(starts, begin) - 1
        hits.append(_Hit(begin, match.end(), group, sentence, zone, word))
    return _Scan(hits, text, starts, lead_end)


def _role_features(hits: list[_Hit], profile: Profile, seen: _Seen) -> None:
    """``<feature>@title`` / ``@lead`` (present or not) and ``@body`` (log of mentions).

    Lookalike classes also feed ``not:any@…`` together: each class is seen in few
    labelled reports, all of them together in many, so their shared weight is
    learned well and holds for a class no labelled report showed.
    """
    counts: Counter[str] = Counter()
    groups = profile.groups
    for hit in hits:
        group = groups[hit.group]
        names = (group.feature, ANY_LOOKALIKE) if group.role == "lookalike" else (group.feature,)
        for feature in names:
            if hit.zone != "body":
                seen.mark(f"{feature}@{hit.zone}", 1.0, hit.word)
            if feature not in counts:
                seen.evidence.setdefault(f"{feature}@body", hit.word)
            counts[feature] += 1
    for feature, n in counts.items():
        seen.values[f"{feature}@body"] = math.log1p(n)


def _subject_of(event: _Hit, sentence: list[_Hit], profile: Profile) -> str | None:
    """ "topic" or "other": what the nearest subject word in the event word's sentence is.

    A weak or general topic word ("digital transformation", "digital twin") is the
    topic only in an industrial setting: in a sentence that names another field (a
    bank, a hospital, a city) and no industry, the course is about that field.
    """
    best: tuple[int, str] | None = None
    groups = profile.groups
    named = {groups[h.group].feature for h in sentence}
    elsewhere = "not:another field" in named and "cue:industry" not in named
    for hit in sentence:
        if hit is event:
            continue
        group = groups[hit.group]
        if group.role == "topic":
            kind = "other" if group.general and elsewhere else "topic"
        elif group.feature in OTHER_SUBJECTS:
            kind = "other"
        else:
            continue
        gap = event.begin - hit.end if hit.end <= event.begin else hit.begin - event.end
        if gap <= SUBJECT_REACH and (best is None or gap < best[0]):
            best = (gap, kind)
    return best[1] if best else None


def _subject_features(hits: list[_Hit], profile: Profile, seen: _Seen) -> None:
    """``subject:topic`` / ``subject:other``, in the title and over the whole report."""
    by_sentence: dict[int, list[_Hit]] = {}
    for hit in hits:
        by_sentence.setdefault(hit.sentence, []).append(hit)
    counts: Counter[str] = Counter()
    groups = profile.groups
    for hit in hits:
        if groups[hit.group].role != "event":
            continue
        subject = _subject_of(hit, by_sentence[hit.sentence], profile)
        if subject is None:
            continue
        if hit.zone == "title":
            seen.mark(f"subject:{subject}@title", 1.0, hit.word)
        counts[subject] += 1
        seen.evidence.setdefault(f"subject:{subject}", hit.word)
    for subject, n in counts.items():
        seen.values[f"subject:{subject}"] = math.log1p(n)


def _dated_act(scan: _Scan, profile: Profile, seen: _Seen) -> None:
    """``date@lead`` and ``act+date@lead``: the lead dates something, and says it is held."""
    lead = scan.text[: scan.lead_end]
    spans = find_dates(lead, date(2000, 1, 1))
    if not spans:
        return
    seen.mark("date@lead", 1.0, lead[spans[0].begin : spans[0].stop])
    dated = {bisect_right(scan.starts, s.begin) - 1 for s in spans}
    for hit in scan.hits:
        if hit.begin >= scan.lead_end:
            break
        if profile.groups[hit.group].kind == "act" and hit.sentence in dated:
            seen.mark("act+date@lead", 1.0, hit.word)
            return


def _focus(hits: list[_Hit], sentences: int, profile: Profile, seen: _Seen) -> None:
    """``focus:topic``: the share of sentences that speak of the topic."""
    topical = {h.sentence for h in hits if profile.groups[h.group].role == "topic"}
    if topical:
        seen.mark("focus:topic", len(topical) / max(sentences, 1), "")


def features(doc: Document, profile: Profile) -> tuple[dict[str, float], dict[str, str]]:
    """The named feature values of ``doc`` and, for each, the word that triggered it."""
    return _features(_scan(doc, profile), profile)


def _features(scan: _Scan, profile: Profile) -> tuple[dict[str, float], dict[str, str]]:
    hits = scan.hits
    seen = _Seen()
    _role_features(hits, profile, seen)
    _subject_features(hits, profile, seen)
    _dated_act(scan, profile, seen)
    _focus(hits, len(scan.starts), profile, seen)
    return seen.values, seen.evidence


def _topics(hits: list[_Hit], profile: Profile) -> tuple[str, ...]:
    """The labels of the topic groups found, those in the title first, then by mentions."""
    counts: Counter[str] = Counter()
    in_title: set[str] = set()
    for hit in hits:
        group = profile.groups[hit.group]
        if group.role == "topic":
            counts[group.label] += 1
            if hit.zone == "title":
                in_title.add(group.label)
    return tuple(sorted(counts, key=lambda lb: (lb not in in_title, -counts[lb])))


def _reasons(
    model: LinearModel, values: Mapping[str, float], evidence: Mapping[str, str]
) -> tuple[str, ...]:
    out = []
    for name, part in model.contributions(values)[:MAX_REASONS]:
        word = evidence.get(name, "")
        shown = f"{name}[{word}]" if word else name
        out.append(f"{shown}({part:+.2f})")
    return tuple(out)


def score(doc: Document, profile: Profile) -> Relevance:
    """How likely ``doc`` reports a training event on the profile's topic, and why."""
    scan = _scan(doc, profile)
    values, evidence = _features(scan, profile)
    model = profile.models.get("relevance") or prior(profile)
    chance = probability(model.score(values))
    return Relevance(
        relevant=chance >= profile.threshold,
        score=chance,
        reasons=_reasons(model, values, evidence),
        topics=_topics(scan.hits, profile),
    )


def mentions_topic_or_event(title: str, text: str, profile: Profile) -> bool:
    """The cheap prefilter: does the text name the topic or a kind of event at all?

    Used before costly work (fetching an article for a summary-only entry).
    """
    lowered = f"{title}\n{text}".lower()
    index = profile.term_index
    for match in profile.matcher.finditer(lowered):
        group = index.get(match.group())
        if group is not None and profile.groups[group].role in ("topic", "event"):
            return True
    return False


def training_rows(
    doc: Document, profile: Profile, label: Mapping[str, Any]
) -> list[tuple[dict[str, float], bool]]:
    """One row per labelled report: its features and whether it is relevant."""
    return [(features(doc, profile)[0], bool(label.get("relevant")))]
