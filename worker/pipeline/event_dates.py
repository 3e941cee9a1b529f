"""The event's dates: which date or range in a Document is the event's own.

``dates`` finds every date expression; this module chooses among them by the
words around each (the event's dates sit next to "held" / "举办", not next to
"deadline" / "截止") and completes a single date with a stated duration
("为期三天", "a three-day course"). Years left out are inferred from the
publication date.

Pure: no I/O; it does not parse date expressions itself (``dates`` does).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta

from worker.model import Document
from worker.pipeline.dates import DateSpan, cn_number, find_dates

#: Characters either side of a date searched for cue words.
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 30
#: Dates are searched in the lead (title and the first this many characters):
#: news and notices state them early, and the rest of a page (background,
#: other events, contact lines) mostly misleads.
LEAD_CHARS = 1500

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


def _reference(doc: Document, now: datetime | None) -> date | None:
    """The date missing years are inferred from: publication, else the text's commonest
    year, else the pipeline's clock (``--now``)."""
    if doc.published is not None:
        return doc.published.date()
    years = Counter(_YEAR.findall(f"{doc.title}\n{doc.text}"))
    if not years:
        return now.date() if now else None
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


def event_dates(doc: Document, now: datetime | None = None) -> tuple[date | None, date | None]:
    """The event's (start, end): the best-placed date or range in the title and text."""
    reference = _reference(doc, now)
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
