"""Extraction: the facts of the event a Document reports or announces.

Title (the event's name, e.g. "2024 Public Training Series on Smart
Manufacturing and Smart Equipment Development"), start and end dates, city,
country and venue, organizers, invited participants and topics.

This module names the event and gathers the facts: dates come from
``event_dates``, the place from ``event_place``, organizers and participants
from ``orgs``.

Pure: works on the Document and the profile (which carries the gazetteer and
the event-name nouns); no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime

from worker.model import Document, EventFacts, Relevance
from worker.pipeline.event_dates import event_dates
from worker.pipeline.event_place import event_place
from worker.pipeline.orgs import find_participants, organizers_of
from worker.pipeline.profile import Profile
from worker.pipeline.text import is_cjk

#: Only this much of the text is searched for the event's name.
NAME_SEARCH_CHARS = 1500
#: Shortest and longest plausible event names.
NAME_MIN_CHARS = 5
NAME_MAX_CHARS = 120

#: Where a Chinese event name stops on its left: punctuation and verbs.
_ZH_NAME_STOP = re.compile(
    r"(?:[，,。；;：:！!？?、\s“”\"'《》()（）【】「」]|举办|举行|召开|开展|组织|参加|参与|开设|"
    r"启动|推出|的|在|于|由|了|期间|本次|这次|此次|首期|开班|开幕|围绕|聚焦|面向|即将|成功|顺利)"
)
#: A quoted Chinese name: “…培训班”, 《…》.
_ZH_QUOTED = re.compile(r"[“\"《「]([^”\"》」\n]{4,60})[”\"》」]")
#: Words that may sit inside an English event name without being capitalized.
_EN_NAME_JOINERS = frozenset({"of", "on", "for", "and", "in", "the", "&", "to", "with", "-", "–"})
_EN_WORD = re.compile(r"[\w&'’.\-–]+")
#: Verbs of headlines, capitalized in title case, that end an event's name on
#: either side: "Kaveri Institute Hosts | Smart Factory Bootcamp | Opens in Pune".
_EN_HEADLINE_VERBS = frozenset(
    """opens opened open held holds hold hosts hosted host kicks kicked launches launched
    launch begins began starts started ends ended concludes concluded wraps returns
    announces announced offers offered runs ran trains trained welcomes welcomed
    completes completed celebrates set sets to will is are was were be comes""".split()  # noqa: SIM905
)


# ---------------------------------------------------------------- event name


def _is_name_word(word: str) -> bool:
    return (word[:1].isupper() or word[:1].isdigit()) and word.lower() not in _EN_HEADLINE_VERBS


def _grow_en(text: str, begin: int, end: int) -> str:
    """Extend [begin, end) over capitalized words and joiners on both sides."""
    lo_bound, hi_bound = max(0, begin - NAME_MAX_CHARS), end + NAME_MAX_CHARS
    words = [(m.start(), m.end(), m.group()) for m in _EN_WORD.finditer(text, lo_bound, hi_bound)]
    inside = [i for i, (s, e, _) in enumerate(words) if s >= begin and e <= end]
    if not inside:
        return ""
    lo, hi = inside[0], inside[-1]
    while lo > 0 and (
        _is_name_word(words[lo - 1][2]) or words[lo - 1][2].lower() in _EN_NAME_JOINERS
    ):
        gap = text[words[lo - 1][1] : words[lo][0]]
        if gap.strip() or "\n" in gap:  # punctuation or a line break between: stop
            break
        lo -= 1
    while hi + 1 < len(words) and (
        _is_name_word(words[hi + 1][2]) or words[hi + 1][2].lower() in _EN_NAME_JOINERS
    ):
        gap = text[words[hi][1] : words[hi + 1][0]]
        if gap.strip() or "\n" in gap:
            break
        hi += 1
    while lo < hi and words[lo][2].lower() in _EN_NAME_JOINERS:
        lo += 1
    while hi > lo and words[hi][2].lower() in _EN_NAME_JOINERS:
        hi -= 1
    name = text[words[lo][0] : words[hi][1]]
    return name.rstrip(".")


def _name_en(text: str, profile: Profile) -> str | None:
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare character changed length when lowercased
        return None
    for match in profile.head_matcher.finditer(lowered):
        if is_cjk(match.group()) or not text[match.start()].isupper():
            continue
        name = _grow_en(text, match.start(), match.end())
        capitalized = sum(1 for w in name.split() if _is_name_word(w))
        if capitalized >= 2 and len(name) >= NAME_MIN_CHARS:
            return name[:NAME_MAX_CHARS]
    return None


#: A quoted phrase ending right where a name's left stop is: “…”.
_ZH_QUOTE_BEFORE = re.compile(r"“[^”“\n]{2,60}”$")


def _longest_head_end(text: str, begin: int, end: int, heads: list[str]) -> int:
    """Where the name ends when a longer head overlaps this one ("专题培训" + "培训班")."""
    for head in heads:
        for at in range(begin + 1, end):
            if text.startswith(head, at) and at + len(head) > end:
                end = at + len(head)
    return end


def _name_zh(text: str, profile: Profile) -> str | None:
    heads = [h for h in profile.event_heads if is_cjk(h)]
    for match in _ZH_QUOTED.finditer(text):
        if any(match.group(1).endswith(h) or h in match.group(1) for h in heads):
            return match.group(1)
    for head in sorted(heads, key=len, reverse=True):
        pos = text.find(head)
        while pos >= 0:
            stops = list(_ZH_NAME_STOP.finditer(text, max(0, pos - 40), pos))
            begin = stops[-1].end() if stops else max(0, pos - 40)
            quoted = _ZH_QUOTE_BEFORE.search(text, max(0, begin - 62), begin)
            if quoted:  # “智能工厂与MES系统实施”专题培训班: the quoted part belongs to the name
                begin = quoted.start()
            end = _longest_head_end(text, pos, pos + len(head), heads)
            name = text[begin:end]
            if len(name) >= NAME_MIN_CHARS:
                return name
            pos = text.find(head, pos + 1)
    return None


def event_title(doc: Document, profile: Profile) -> str:
    """The event's own name when the title or text states one, else the document title."""
    for source in (doc.title, doc.text[:NAME_SEARCH_CHARS]):
        name = _name_zh(source, profile) if is_cjk(source) else None
        name = name or _name_en(source, profile)
        if name:
            return name
    return doc.title


# ---------------------------------------------------------------------- main


def extract(
    doc: Document, profile: Profile, relevance: Relevance, *, now: datetime | None = None
) -> EventFacts:
    """The event's facts as far as the text states them; unknown facts stay None/empty.

    ``now`` is the pipeline's clock: the year of a year-less date when the page
    states no date of its own.
    """
    text = f"{doc.title}\n{doc.text}"
    organizers = organizers_of(doc, profile)
    start, end = event_dates(doc, now)
    city, country, venue = event_place(doc, profile, organizers)
    return EventFacts(
        title=event_title(doc, profile),
        start=start,
        end=end,
        city=city,
        country=country,
        venue=venue,
        organizers=organizers,
        participants=find_participants(text),
        topics=relevance.topics,
    )
