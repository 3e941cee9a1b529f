"""Organizers in Chinese and Japanese prose.

Shapes, each a cue the organizer filter weighs:
- "by": "由A、B联合主办", "由A携手B共同举办", "由A牵头，会同B共同主办";
- "bare": "A主办、B承办的…", "C协办" (the clause before the kind word);
- "subject": "A在西安举办…", "A定于10月9日举办…", "A联合B推出…", "A携手B开展…",
  Japanese "AとBは…開講した", "Aでは…開催します";
- "self": "本会作为协办单位", "我院承办的…": the page's own body, named elsewhere.

Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from worker.pipeline.orgs_names import ORG_LAST_CHARS, clean_cjk, is_org_cjk, split_cjk

#: Kinds of organizing, longest first; every alternative starts with a literal.
_KINDS = "联合主办|共同主办|联合承办|主办|承办|协办|联办|主辦|承辦|協辦"
#: "由A主办", "由A携手B共同举办", "由A牵头，会同B…": the words that end "由A".
_BY = re.compile(
    rf"(?<![理因])由(?!于|此)([^。;；\n]{{2,160}}?)(?:联合|共同|携手|一起)?"
    rf"(?:{_KINDS}|举办|举行|牵头|组织实施|承担)(?!单位|方)"
)
#: "A主办、B承办的…": a bare kind word ends the clause that names A.
_BARE = re.compile(rf"(?:{_KINDS})(?!单位|方|权|城市|地|国|单|機|机构)")
#: Where the clause before a bare kind word starts (brackets are part of names).
_CLAUSE_START = re.compile(r"[，,。；;：:\n由]")
#: "西安市工业和信息化局在西安举办…": the clause's subject organizes the event.
_SUBJECT_VERB = re.compile(r"(?:举办|举行|组织开展|开展|组织(?!部|开展)|推出|开设|开办)")
#: The clause before the verb: its subject, then "(定)于<time>" and "在<place>".
_SUBJECT = re.compile(
    r"\s*([^，,。；;\n]{2,60}?)(?:(?:定|拟|将|计划|准备|已)?于[^，,。；;\n]{1,24}?)?"
    r"(?:在[^，,。；;\n]{1,25}?)?(?:联合|共同|一起|携手|成功|顺利|再次|首次)*"
)
#: The last clause end before a verb (one search instead of a search per character).
_LAST_CLAUSE_END = re.compile(r".*([，,。；;\n])", re.DOTALL)
_TIME_ONLY_START = re.compile(r"\s*(?:定|拟|将|计划|准备)于")
_ORG_LAST = re.compile("[" + "".join(sorted(ORG_LAST_CHARS)) + "]")
_SUBJECT_REACH = 90
#: A clause that is only a time: "A联合B，定于5月12日至16日举办…" — the subject is before it.
_TIME_ONLY = re.compile(r"^\s*(?:定|拟|将|计划|准备)于[^，,。；;\n]{1,24}$")
#: "本会作为协办单位", "我院承办的": the page's own body organizes.
_SELF = re.compile(
    rf"(本会|我会|本协会|我协会|本院|我院|本校|我校|本中心|我中心|本基地|我基地|我司|本公司)"
    rf"(?:作为|是|为)?(?:{_KINDS}|举办|主办单位|承办单位|协办单位)"
)
#: "由A指导", "得到A的支持", "在A的大力支持下": bodies that back the event.
_GUIDED_BY = re.compile(r"由([^，,。；;\n由]{3,60}?)(?:联合|共同)?指导")
_SUPPORTED_BY = re.compile(r"(?:得到|获得|在)([^，,。；;\n]{3,60}?)(?:的)?(?:大力|鼎力)?支持")
#: Japanese: "AとBは24日、…を開講した", "Aでは、…を開催します".
_JA_SUBJECT = re.compile(
    r"([^、。\n「」]{2,60}?)(?:では|は)、?[^。\n]{0,160}?(?:開催|開講|実施|主催)"
)
_JA_SPLIT = re.compile(r"と|、|及び|並びに")


def by_phrases(text: str) -> tuple[list[tuple[str, int, str, int]], list[tuple[int, int]]]:
    """Names of "由…主办" and the spans those phrases cover (the bare pass skips them)."""
    found: list[tuple[str, int, str, int]] = []
    covered: list[tuple[int, int]] = []
    for match in _BY.finditer(text):
        inner = match.group(1)
        # "由A主办，B承办": the first kind word ends A; the rest is handled by the bare pass.
        first = _BARE.search(inner)
        if first:
            inner = inner[: first.start()]
            covered.append((match.start(), match.start() + 1 + first.end()))
        else:
            covered.append((match.start(), match.end()))
        names = [n for n in split_cjk(inner) if is_org_cjk(n)]
        found += [(n, match.start(), "by", len(names)) for n in names]
    return found, covered


def _clause_before(text: str, end: int) -> str:
    """The clause that ends at ``end``: from its last start, brackets kept whole."""
    window = max(0, end - 80)
    starts = [m.end() for m in _CLAUSE_START.finditer(text, window, end)]
    begin = max(starts[-1] if starts else 0, window)
    clause = text[begin:end]
    while clause.count("(") < clause.count(")") and begin > window:
        # the clause start sat inside brackets: "凯斯勒自动化(中国,上海)有限公司"
        begin = max((s for s in starts if s < begin - 1), default=window)
        clause = text[begin:end]
    prior = list(_BARE.finditer(clause))
    if prior:
        clause = clause[prior[-1].end() :].lstrip("、，,")
    return clause


def bare_kinds(text: str, covered: list[tuple[int, int]]) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "bare", listed) for "A主办、B承办的…"."""
    for match in _BARE.finditer(text):
        if any(a <= match.start() < b for a, b in covered):
            continue
        clause = _clause_before(text, match.start())
        if "由" in clause:
            clause = clause[clause.rindex("由") + 1 :]
        clause = clean_cjk(clause)
        if clause[-1:] not in ORG_LAST_CHARS and not clause.endswith(")"):
            continue  # "活动主办": the clause ends on no body
        names = [n for n in split_cjk(clause) if is_org_cjk(n)]
        for name in names:
            yield name, match.start(), "bare", len(names)


def _subject_clause(text: str, verb: int) -> str | None:
    begin = max(0, verb - _SUBJECT_REACH)
    last_end = _LAST_CLAUSE_END.search(text, begin, verb)
    clause_end = last_end.start(1) if last_end else -1
    if clause_end < 0 and begin > 0:
        return None  # the clause starts further back than the subject may
    if not _ORG_LAST.search(text, clause_end + 1, verb) and not _TIME_ONLY_START.match(
        text, clause_end + 1
    ):
        return None  # no body's last character in the clause: no body names it
    if _TIME_ONLY.match(text, clause_end + 1, verb) and text[clause_end] in ",，":
        # "A联合B，定于…举办": the subject is the clause before the time
        prev = _LAST_CLAUSE_END.search(text, begin, clause_end)
        return text[(prev.start(1) if prev else begin - 1) + 1 : clause_end]
    subject = _SUBJECT.fullmatch(text, clause_end + 1, verb)
    return subject.group(1) if subject else None


def subjects(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "subject", listed) for "A在西安举办…", "A联合B推出…"."""
    for verb in _SUBJECT_VERB.finditer(text):
        clause = _subject_clause(text, verb.start())
        if not clause:
            continue
        if "由" in clause:
            clause = clause[clause.rindex("由") + 1 :]
        whole = clean_cjk(clause)
        if whole[-1:] not in ORG_LAST_CHARS and not whole.endswith(")"):
            continue  # the clause must end on a body: "A联合B", not "A的专家"
        parts = split_cjk(whole)
        names = [n for n in parts if is_org_cjk(n)]
        if not names or not is_org_cjk(parts[-1]):
            continue
        for name in names:
            yield name, verb.start(), "subject", len(names)


def self_references(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(self-reference, offset, "self", 1) for "本会作为协办单位", "我院承办的"."""
    for match in _SELF.finditer(text):
        yield match.group(1), match.start(), "self", 1


def japanese_subjects(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "subject", listed) for "AとBは…開講した"."""
    for match in _JA_SUBJECT.finditer(text):
        parts = [clean_cjk(p) for p in _JA_SPLIT.split(match.group(1))]
        names = [p for p in parts if is_org_cjk(p)]
        if names and len(names) == len(parts):
            for name in names:
                yield name, match.start(), "subject", len(names)


def supporters(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "by_sponsor", listed) for "由A指导", "得到A的支持": backers, not
    organizers; the filter learns from them what an organizer is not."""
    for pattern in (_GUIDED_BY, _SUPPORTED_BY):
        for match in pattern.finditer(text):
            names = [n for n in split_cjk(match.group(1)) if is_org_cjk(n)]
            for name in names:
                yield name, match.start(), "by_sponsor", len(names)


def organizers(text: str) -> Iterator[tuple[str, int, str, int]]:
    """Every (name, offset, cue, listed) the Chinese and Japanese shapes find."""
    found, covered = by_phrases(text)
    yield from found
    yield from supporters(text)
    yield from bare_kinds(text, covered)
    yield from subjects(text)
    yield from self_references(text)
    if re.search(r"[\u3040-\u30ff]", text):
        yield from japanese_subjects(text)
