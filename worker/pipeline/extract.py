"""Extraction: the facts of the event a Document reports or announces.

Title (the event's name, e.g. "2024 Public Training Series on Smart
Manufacturing and Smart Equipment Development"), start and end dates, city,
country and venue, organizers, invited participants and topics.

Each fact is chosen from candidates by the words around them, not by their
position alone: the event's dates sit next to "held" / "举办", not next to
"deadline" / "截止"; the event's city sits after "in" / "在", not inside an
organizer's name. Years left out are inferred from the publication date.

Pure: works on the Document and the profile (which carries the gazetteer and
the event-name nouns); no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

from worker.model import Document, EventFacts, Relevance
from worker.pipeline.dates import DateSpan, cn_number, find_dates
from worker.pipeline.gazetteer import PlaceMention
from worker.pipeline.orgs import find_organizers, find_participants
from worker.pipeline.profile import Profile
from worker.pipeline.text import is_cjk

# ----------------------------------------------------------------- constants

#: Characters either side of a date or place searched for cue words.
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 30
#: Only this much of the text is searched for the event's name.
NAME_SEARCH_CHARS = 1500
#: Dates and places are searched in the lead (title and the first this many
#: characters): news and notices state them early, and the rest of a page
#: (background, other events, contact lines) mostly misleads.
LEAD_CHARS = 1500
#: Shortest and longest plausible event names.
NAME_MIN_CHARS = 5
NAME_MAX_CHARS = 120

#: Words near a date that mark it as the event's (matched on lowercased text).
_DATE_EVENT_CUES = re.compile(
    r"held|hold|take place|took place|taking place|will run|runs|running|scheduled|"
    r"kick(?:s|ed)? off|"
    r"opened|opens|convened|dates?\s*:|time\s*:|when\s*:|"
    r"举办|举行|召开|开班|开课|开幕|开启|启动|开展|进行|培训时间|会议时间|活动时间|时间[:：]|日期[:：]|期间|为期",
)
#: Words that mark the date after them as the event's, but not the one before them
#: ("17 June: Data from the shop floor" is an agenda line, not the event's start).
_DATE_LEAD_CUES = re.compile(r"\b(?:from|between)\s+(?:\w+day,?\s+)?$")
#: "…截止" / "…前" right after a date: a deadline.
_DATE_DEADLINE_AFTER = re.compile(r"\s*(?:前|之前|截止)")
#: A year in running text: "2024", not "12024" (the look-behind comes after the
#: literal start so the engine skips ahead to "19" / "20").
_YEAR = re.compile(r"(?:19|20)(?<!\d\d\d)\d\d(?!\d)")
#: Words just before a date that mark it as something else (a deadline, a publication).
_DATE_OTHER_CUES = re.compile(
    r"deadline|register by|registration (?:closes|ends|deadline)|apply by|before|no later than|"
    r"until\s*$|published|posted|released|founded|established|since|"
    r"截止|截至|报名时间|报名日期|之前|以前|前报名|发布|印发|成立|报到|出版",
)
#: Words near a place that mark it as the event's location.
_PLACE_BEFORE_CUES = re.compile(
    r"(?:\bin|\bat|held in|hosted in|venue|location|place|city|地点|地址|在|于|赴|来到|走进|落地)"
    r"\s*[:：]?\s*(?:the\s+)?$",
    re.IGNORECASE,
)
#: A capitalized word right after an English place name makes the name part of a
#: longer one: "Nanyang Drive", "Nanyang Technological University", "Detroit Regional".
_PART_OF_NAME = re.compile(r" (?!Province|City|Municipality)[A-Z][a-z]")
_PLACE_AFTER_CUES = re.compile(r"^\s*(?:市)?(?:举办|举行|召开|开班|开幕|开课|成功举办|顺利举办|站)")
#: Labelled venue: "地点：…", "Venue: …". Found from the colon backwards: colons
#: are few, and a pattern starting with the labels tries every "l" and "p".
_VENUE_LABELS = ("地点", "venue", "location", "place")
_COLON = re.compile(r"[:：]")
_VENUE_VALUE = re.compile(r"\s*([^\n。;；]{3,80})")
_VENUE_NOUNS_EN = (
    r"Hotel|Center|Centre|Hall|Campus|Building|Tower|Plaza|Auditorium|Convention Center|"
    r"Conference Center|Park|Institute|University|Academy|Exhibition Center|Resort"
)
_VENUE_EN = re.compile(
    rf"at(?<!\wat)\s+(?:the\s+)?((?:[A-Z0-9][\w'’&.\-]*\s+(?:(?:of|for|and|the|&)\s+)*){{0,7}}(?:{_VENUE_NOUNS_EN}))\b"
)
_VENUE_ZH = re.compile(
    r"(?:在|于)([^，,。；;在于\n]{2,30}?(?:酒店|宾馆|饭店|会议中心|国际会议中心|大厦|会堂|报告厅|"
    r"会议室|培训中心|学院|大学|基地|园区|展览馆|中心|校区|礼堂|实训室))"
)
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


# ---------------------------------------------------------------- event name


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


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


# --------------------------------------------------------------------- dates


def _reference(doc: Document) -> date | None:
    """The date missing years are inferred from: publication, else the text's commonest year."""
    if doc.published is not None:
        return doc.published.date()
    years = Counter(_YEAR.findall(f"{doc.title}\n{doc.text}"))
    if not years:
        return None
    return date(int(years.most_common(1)[0][0]), 7, 1)


def _date_score(span: DateSpan, text: str, order: int) -> float:
    """How much the words around ``span`` say it is the event's date; ``text`` is lowercased."""
    before = text[max(0, span.begin - CONTEXT_BEFORE) : span.begin]
    after = text[span.stop : span.stop + CONTEXT_AFTER]
    points = 1.0 if span.is_range else 0.0
    if (
        _DATE_EVENT_CUES.search(before)
        or _DATE_EVENT_CUES.search(after)
        or _DATE_LEAD_CUES.search(before)
    ):
        points += 2.0
    if _DATE_OTHER_CUES.search(before[-15:]) or _DATE_DEADLINE_AFTER.match(after):
        points -= 4.0
    return points - 0.1 * order


_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
#: "为期三天", "为期5天", "a three-day course", "5-day": how long a single-dated event runs.
_DURATION = re.compile(
    r"为期\s*([一两二三四五六七八九十]|\d{1,2})\s*天|\b(one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})"
    r"[- ]day\b",
    re.IGNORECASE,
)
#: How far after a single date a duration may be stated.
DURATION_WINDOW = 80
#: Longest duration taken from "为期N天".
MAX_DURATION_DAYS = 30


def _duration_days(text: str) -> int | None:
    match = _DURATION.search(text)
    if not match:
        return None
    token = (match.group(1) or match.group(2)).lower()
    days = _EN_NUMBERS.get(token) or cn_number(token)
    return days if days and 1 <= days <= MAX_DURATION_DAYS else None


#: "为期5天", "为期三天": an explicit statement of how long the event runs.
_STATED_LENGTH = re.compile(r"为期\s*([一两二三四五六七八九十]|\d{1,2})\s*天")


def _stated_length(text: str) -> int | None:
    """The length a text states with 为期 anywhere, when it states exactly one."""
    lengths = {m.group(1) for m in _STATED_LENGTH.finditer(text)} if "为期" in text else set()
    return _duration_days(f"为期{lengths.pop()}天") if len(lengths) == 1 else None


def event_dates(doc: Document) -> tuple[date | None, date | None]:
    """The event's (start, end): the best-placed date or range in the title and text."""
    reference = _reference(doc)
    text = f"{doc.title}\n{doc.text[:LEAD_CHARS]}"
    spans = find_dates(text, reference or date.min)
    if reference is None:
        spans = [s for s in spans if s.year_stated]
    if not spans:
        return None, None
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare character changed length: keep offsets right
        lowered = text
    scored = [(_date_score(s, lowered, i), s) for i, s in enumerate(spans)]
    best_points, best = max(scored, key=lambda x: x[0])
    if best_points < -1.0:
        return None, None
    if best.start == best.end:
        window = text[max(0, best.begin - DURATION_WINDOW) : best.stop + DURATION_WINDOW]
        # "为期N天" names the event's length wherever the notice says it.
        days = _duration_days(window) or _stated_length(text)
        if days:
            return best.start, best.start + timedelta(days=days - 1)
    return best.start, best.end


# --------------------------------------------------------------------- place


def _place_score(
    mention: PlaceMention, text: str, title_len: int, organizers: tuple[str, ...]
) -> float:
    before = text[max(0, mention.begin - 12) : mention.begin]
    after = text[mention.end : mention.end + 8]
    points = 1.0
    if _PLACE_BEFORE_CUES.search(before) or _PLACE_AFTER_CUES.search(after):
        points += 3.0
    if mention.begin < title_len:
        points += 1.0
    if any(mention.surface in org for org in organizers):
        points -= 2.5
    if re.match(r"^[-\s]?(?:based|headquartered)", after):
        points -= 2.0
    if _in_longer_name(mention, text):
        points -= 2.0
    return points


def _in_longer_name(mention: PlaceMention, text: str) -> bool:
    return mention.surface.isascii() and _PART_OF_NAME.match(text, mention.end) is not None


def event_place(
    doc: Document, profile: Profile, organizers: tuple[str, ...]
) -> tuple[str | None, str | None, str | None]:
    """(city, country, venue): the venue line wins, then a city after "in" / "在"."""
    venue = _venue(doc.text)
    gaz = profile.gazetteer
    if venue:
        in_venue = gaz.find_cities(venue)
        if in_venue:
            # "73 Nanyang Drive, Singapore": a street or building named after a city is not it.
            best = next((m for m in in_venue if not _in_longer_name(m, venue)), in_venue[0])
            return best.place.name, best.place.country, venue
    text = f"{doc.title}\n{doc.text[:LEAD_CHARS]}"
    mentions = gaz.find_cities(text)
    if mentions:
        scored = [
            (_place_score(m, text, len(doc.title), organizers), -i, m)
            for i, m in enumerate(mentions)
        ]
        points, _, best = max(scored, key=lambda x: (x[0], x[1]))
        if points > 0:
            return best.place.name, best.place.country, venue
    for mention in gaz.find_countries(text):
        before = text[max(0, mention.begin - 12) : mention.begin]
        if _PLACE_BEFORE_CUES.search(before):
            return None, mention.place.name, venue
    return None, None, venue


def _venue_label(text: str) -> re.Match[str] | None:
    for colon in _COLON.finditer(text):
        label = text[max(0, colon.start() - 10) : colon.start()].rstrip().lower()
        if label.endswith(_VENUE_LABELS):
            return _VENUE_VALUE.match(text, colon.end())
    return None


def _venue(text: str) -> str | None:
    for pattern in (_venue_label, _VENUE_ZH.search, _VENUE_EN.search):
        match = pattern(text)
        if match:
            return match.group(1).strip(" ,，.")
    return None


# ---------------------------------------------------------------------- main


def extract(doc: Document, profile: Profile, relevance: Relevance) -> EventFacts:
    """The event's facts as far as the text states them; unknown facts stay None/empty."""
    text = f"{doc.title}\n{doc.text}"
    organizers = find_organizers(text)
    start, end = event_dates(doc)
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
