"""Date and date-range expressions in English and Chinese text.

Pure parsing: finds spans such as "June 5 to 6, 2024", "5–6 June 2024",
"from Nov. 3 to 5", "2024年6月5日至6日", "6月5日-6日", "11月3日—5日",
"2024-06-05 至 2024-06-06", and returns them as :class:`DateSpan` values.
A missing year is filled from a reference date (the publication date): the
year that puts the date closest to the reference wins, so "1月5日" in a text
published in December means next January.

This module does not decide *which* span is the event's; ``extract`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: English month names and abbreviations, mapped to month numbers.
MONTHS: dict[str, int] = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}

_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])"
_YEAR = r"(?:19|20)\d{2}(?!\d)"
#: Words and dashes that join the two ends of a range.
_EN_CONN = r"\s*(?:-|–|—|~|\bto\b|\bthrough\b|\bthru\b|\buntil\b|\btill\b|\band\b)\s*"
_ZH_CONN = r"\s*(?:至|到|-|–|—{1,2}|~|―|－)\s*"
#: An optional weekday in parentheses after a Chinese date: "(周三)", "(星期三)".
_ZH_WEEKDAY = r"(?:\s*\((?:周|星期|礼拜)[一二三四五六日天]\))?"
#: An optional weekday before or after an English day: "Wednesday, June 5".
_EN_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"

_FLAGS = re.IGNORECASE

#: Chinese numerals as written in formal notices: "二〇二四年六月五日", "十二月三十一日".
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_ZH_YEAR = rf"(?:{_YEAR}|[一二][〇○零一二三四五六七八九]{{3}})"
_ZH_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_ZH_DAY = r"(?:3[01]|[12]\d|0?[1-9]|三十一?|二?十[一二三四五六七八九]?|[一二三四五六七八九])"

#: Each pattern names the parts it captures; the absent ones are inherited.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "June 5 to 6, 2024", "Nov. 3 to 5", "June 28 to July 2, 2024",
    # "December 30, 2024 to January 2, 2025"
    re.compile(
        rf"\b{_EN_WEEKDAY}(?P<m1>{_MON})\s+(?P<d1>{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?"
        rf"{_EN_CONN}{_EN_WEEKDAY}(?:(?P<m2>{_MON})\s+)?(?P<d2>{_DAY})(?:,?\s+(?P<y2>{_YEAR}))?",
        _FLAGS,
    ),
    # "5–6 June 2024", "28 June – 2 July 2024", "30 December 2024 - 2 January 2025"
    re.compile(
        rf"(?<![\d.])(?P<d1>{_DAY})(?:\s+(?:of\s+)?(?P<m1>{_MON})(?:,?\s+(?P<y1>{_YEAR}))?)?"
        rf"{_EN_CONN}(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MON})(?:,?\s+(?P<y2>{_YEAR}))?",
        _FLAGS,
    ),
    # "2024年6月5日至6日", "6月5日-6日", "6月5-6日", "2024年12月30日至2025年1月2日"
    re.compile(
        rf"(?<![\d〇○零一二三四五六七八九十])(?:(?P<y1>{_ZH_YEAR})\s*年\s*)?(?P<m1>{_ZH_MONTH})\s*月\s*"
        rf"(?P<d1>{_ZH_DAY})\s*[日号]?{_ZH_WEEKDAY}{_ZH_CONN}(?:(?P<y2>{_ZH_YEAR})\s*年\s*)?"
        rf"(?:(?P<m2>{_ZH_MONTH})\s*月\s*)?(?P<d2>{_ZH_DAY})\s*[日号]"
    ),
    # "2024-06-05 至 2024-06-06", "2024.6.5-6.6", "2024/6/5-6"
    re.compile(
        rf"(?<!\d)(?P<y1>{_YEAR})[-/.](?P<m1>1[0-2]|0?[1-9])[-/.](?P<d1>3[01]|[12]\d|0?[1-9])(?!\d)"
        rf"{_ZH_CONN}(?:(?:(?P<y2>{_YEAR})[-/.])?(?P<m2>1[0-2]|0?[1-9])[-/.])?"
        rf"(?P<d2>3[01]|[12]\d|0?[1-9])(?![\d:])"
    ),
    # single dates: "June 5, 2024", "5 June 2024", "2024年6月5日", "6月5日", "2024-06-05"
    re.compile(rf"\b{_EN_WEEKDAY}(?P<m1>{_MON})\s+(?P<d1>{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?", _FLAGS),
    re.compile(
        rf"(?<![\d.])(?P<d1>{_DAY})\s+(?:of\s+)?(?P<m1>{_MON})(?:,?\s+(?P<y1>{_YEAR}))?", _FLAGS
    ),
    re.compile(
        rf"(?<![\d〇○零一二三四五六七八九十])(?:(?P<y1>{_ZH_YEAR})\s*年\s*)?(?P<m1>{_ZH_MONTH})\s*月\s*"
        rf"(?P<d1>{_ZH_DAY})\s*[日号]"
    ),
    re.compile(
        rf"(?<!\d)(?P<y1>{_YEAR})[-/.](?P<m1>1[0-2]|0?[1-9])[-/.](?P<d1>3[01]|[12]\d|0?[1-9])(?![\d.])"
    ),
)

#: A range longer than this is not one event (likely two unrelated dates).
MAX_RANGE_DAYS = 120


@dataclass(frozen=True, slots=True)
class DateSpan:
    """One date or date range found in a text, with where it was found."""

    start: date
    end: date
    #: Character offsets of the expression in the searched text.
    begin: int
    stop: int
    #: Whether the text stated the year (rather than it being inferred).
    year_stated: bool

    @property
    def is_range(self) -> bool:
        return self.end != self.start


def cn_number(token: str) -> int | None:
    """ "二十二" -> 22, "十二" -> 12, "二〇二四" -> 2024 (digit by digit); None if not a number."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        high = _CN_DIGITS.get(tens, -1) if tens else 1
        low = _CN_DIGITS.get(ones, -1) if ones else 0
        return high * 10 + low if high >= 0 and low >= 0 else None
    digits = [_CN_DIGITS.get(ch) for ch in token]
    if not digits or None in digits:
        return None
    return int("".join(str(d) for d in digits))


def _month(token: str | None) -> int | None:
    if token is None:
        return None
    if token.isascii() and token.isdigit():
        return int(token)
    return MONTHS.get(token.lower().rstrip(".")) or cn_number(token)


def _day(token: str | None) -> int | None:
    if token is None:
        return None
    digits = re.sub(r"\D", "", token)
    return int(digits) if digits.isascii() and digits else cn_number(token)


def _year(token: str | None) -> int | None:
    return cn_number(token) if token else None


def infer_year(month: int, day: int, reference: date) -> int:
    """The year that puts month/day closest to ``reference``."""
    best_year, best_gap = reference.year, None
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            gap = abs((date(year, month, day) - reference).days)
        except ValueError:
            continue
        if best_gap is None or gap < best_gap:
            best_year, best_gap = year, gap
    return best_year


def _build(groups: dict[str, str | None], reference: date) -> tuple[date, date, bool] | None:
    """Fill the parts the text left out and build the (start, end) pair."""
    m1, m2 = _month(groups.get("m1")), _month(groups.get("m2"))
    d1, d2 = _day(groups.get("d1")), _day(groups.get("d2"))
    y1, y2 = _year(groups.get("y1")), _year(groups.get("y2"))
    m1 = m1 or m2
    m2 = m2 or m1
    if m1 is None or m2 is None or d1 is None:
        return None
    d2 = d2 or d1
    year_stated = y1 is not None or y2 is not None
    if y1 is None and y2 is not None:
        # "December 30 to January 2, 2025": the start is the year before.
        y1 = y2 - 1 if (m1, d1) > (m2, d2) else y2
    if y1 is None:
        y1 = infer_year(m1, d1, reference)
    if y2 is None:
        y2 = y1 + 1 if (m2, d2) < (m1, d1) else y1
    try:
        start, end = date(y1, m1, d1), date(y2, m2, d2)
    except ValueError:
        return None
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        return None
    return start, end, year_stated


#: Something every date expression contains, by kind: an English month name next
#: to a day number ("june 5", "5th of june"), a number before and after 月, or a
#: year joined to a month by - / . (run on lowercased text). A month name alone
#: is not enough: "smart", "may" and "market" are everywhere in English pages.
_EN_MONTH_WORD = r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?"
_ANCHORS: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"(?=\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"  # cheap first test
        rf"(?:{_EN_MONTH_WORD},?\s+\d|\d(?:st|nd|rd|th)?\s+(?:of\s+)?{_EN_MONTH_WORD})"
    ),
    "zh": re.compile(r"月(?<=[\d〇○零一二三四五六七八九十]月)\s*[\d一二三四五六七八九十]"),
    "num": re.compile(r"(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d"),
}
#: Cheap substring tests: without one of these a kind's anchor cannot match.
_EN_MONTH_PREFIXES: tuple[str, ...] = ("jan", "feb", "mar", "apr", "may", "jun")
_EN_MONTH_PREFIXES += ("jul", "aug", "sep", "oct", "nov", "dec")
#: Which anchor kind each pattern in ``_PATTERNS`` needs, in the same order.
_PATTERN_KINDS = ("en", "en", "zh", "num", "en", "en", "zh", "num")
#: The first this many patterns are ranges; the rest single dates.
_RANGE_PATTERNS = 4
#: How far a date expression starts before its anchor, by kind: "Wednesday, June 5",
#: "from the 21st to 23rd of October" (anchor "23rd of october"), "二〇二四年十二月".
ANCHOR_BEFORE = {"en": 22, "zh": 12, "num": 0}
#: How far it may reach after the anchor: "December 30, 2024 to January 2, 2025".
ANCHOR_AFTER = 50


@dataclass(frozen=True, slots=True)
class _Family:
    """The patterns of one anchor kind as one alternation (ranges first), so each
    stretch of text is scanned once, not once per pattern."""

    pattern: re.Pattern[str]
    #: Alternative group name -> (index into ``_PATTERNS``, [(group name, part name)]).
    alternatives: dict[str, tuple[int, list[tuple[str, str]]]]


#: What a date expression of each kind starts with: checked once per position
#: before the alternatives are tried, which makes scanning several times cheaper.
_STARTS = {
    "en": r"(?=\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun))",
    "zh": r"(?=[\d〇○零一二三四五六七八九十])",
    "num": r"(?=[12])",
}


def _family(kind: str, indexes: list[int], flags: int) -> _Family:
    parts, alternatives = [], {}
    for i in indexes:
        names: list[tuple[str, str]] = []

        def rename(match: re.Match[str], i: int = i, names: list = names) -> str:
            names.append((f"{match.group(1)}_{i}", match.group(1)))
            return f"(?P<{match.group(1)}_{i}>"

        source = re.sub(r"\(\?P<(\w+)>", rename, _PATTERNS[i].pattern)
        parts.append(f"(?P<alt{i}>{source})")
        alternatives[f"alt{i}"] = (i, names)
    return _Family(re.compile(_STARTS[kind] + "(?:" + "|".join(parts) + ")", flags), alternatives)


def _families(*, ranges: bool) -> dict[str, _Family]:
    out = {}
    for kind in _ANCHORS:
        indexes = [
            i
            for i, k in enumerate(_PATTERN_KINDS)
            if k == kind and (ranges or i >= _RANGE_PATTERNS)
        ]
        out[kind] = _family(kind, indexes, _FLAGS if kind == "en" else 0)
    return out


_ALL = _families(ranges=True)
#: Single dates only: re-read inside a range expression that did not make a valid range.
_SINGLES = _families(ranges=False)


def _segments(text: str) -> dict[str, list[tuple[int, int]]]:
    """Kind -> stretches of ``text`` around that kind's anchors, merged.

    Running every pattern over a whole page costs more than everything else the
    pipeline does; a kind is only looked for when a cheap substring test allows
    it, and its patterns only run where its anchors are.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare character changed length: keep offsets right
        lowered = text
    kinds = []
    if any(prefix in lowered for prefix in _EN_MONTH_PREFIXES):
        kinds.append("en")
    if "月" in text:
        kinds.append("zh")
    if "19" in text or "20" in text:
        kinds.append("num")
    out: dict[str, list[tuple[int, int]]] = {}
    for kind in kinds:
        merged: list[tuple[int, int]] = []
        before = ANCHOR_BEFORE[kind]
        for match in _ANCHORS[kind].finditer(lowered):
            begin, end = max(0, match.start() - before), match.end() + ANCHOR_AFTER
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        if merged:
            out[kind] = merged
    return out


def _parts(match: re.Match[str], family: _Family) -> tuple[int, dict[str, str | None]]:
    index, names = family.alternatives[match.lastgroup or ""]
    return index, {part: match.group(group) for group, part in names}


def find_dates(text: str, reference: date) -> list[DateSpan]:
    """Every date or range in ``text``, leftmost first; longer matches win overlaps."""
    found: list[DateSpan] = []
    segments = _segments(text)
    if not segments:
        return found
    #: (is a single date, begin, stop, parts): ranges claim their span first.
    candidates: list[tuple[bool, int, int, dict[str, str | None]]] = []
    for kind, stretches in segments.items():
        family = _ALL[kind]
        for begin, end in stretches:
            for match in family.pattern.finditer(text, begin, end):
                index, parts = _parts(match, family)
                if index < _RANGE_PATTERNS and _build(parts, reference) is None:
                    # not a valid range ("May 5 to 9 June"): its dates may stand alone
                    singles = _SINGLES[kind]
                    for single in singles.pattern.finditer(text, match.start(), match.end()):
                        candidates.append((True, *single.span(), _parts(single, singles)[1]))
                    continue
                candidates.append((index >= _RANGE_PATTERNS, *match.span(), parts))
    candidates.sort(key=lambda c: c[0])
    taken: list[tuple[int, int]] = []
    for _, begin, stop, parts in candidates:
        if any(begin < t_stop and t_begin < stop for t_begin, t_stop in taken):
            continue
        built = _build(parts, reference)
        if built is None:
            continue
        taken.append((begin, stop))
        found.append(DateSpan(built[0], built[1], begin, stop, built[2]))
    found.sort(key=lambda span: span.begin)
    return found


def parse_range(text: str, reference: date) -> tuple[date, date] | None:
    """The first date or range in ``text`` as (start, end); None when there is none."""
    spans = find_dates(text, reference)
    if not spans:
        return None
    return spans[0].start, spans[0].end
