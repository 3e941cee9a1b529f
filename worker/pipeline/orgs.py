"""Organizers and invited participants of the event a text reports.

Organizers are found in two steps:
1. Candidates: every name a pattern puts in an organizer's place, with the cue
   that put it there — a labelled line ("主办单位：", "Organizer:", "Veranstalter",
   "主催", "Organizan"), a by-phrase ("由…主办", "organised by"), a bare kind word
   ("A主办、B承办"), a sentence's subject ("A will hold a course", "A举办…"), a
   headline's subject, a self-reference ("本会作为协办单位"). ``orgs_labels``,
   ``orgs_en``, ``orgs_zh`` and ``orgs_other`` find them; ``orgs_names`` says what
   a name looks like.
2. A filter: each distinct name gets named features (its cues, whether it looks
   like an organization, whether the page also names it as a sponsor, whether it
   sits in the footer, whether it is the other language's copy of a bilingual
   page …) and is kept when a linear model scores it at or above its threshold.
   The model is learned (``training_rows``; ``worker train`` fits "organizers")
   and falls back to hand-set weights.

Acronyms a page defines ("… (SVCIM)") are read as the full name; self-references
("我中心", "本会") as the page's own body.

Participants come from "welcomed X as an invited participant", "特邀X参加", "X应邀出席".

Pure string work; the words here are about organizations in general, not the topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from worker.model import Document
from worker.pipeline import orgs_en, orgs_other, orgs_zh
from worker.pipeline.learn import LinearModel
from worker.pipeline.orgs_labels import cjk_label_names, latin_label_names
from worker.pipeline.orgs_names import (
    ORG_NOUNS,
    SELF_REFERENCE,
    full_width,
    is_acronym,
    is_org_cjk,
    is_org_latin,
    split_cjk,
    split_latin,
)
from worker.pipeline.profile import Profile
from worker.pipeline.text import is_cjk

#: The name of the learned model in the profile's weights.
MODEL = "organizers"

#: Hand-set weights, used when no learned model is loaded.
HAND_MODEL = LinearModel(
    weights={
        "cue:label_host": 4.0,
        "cue:label_undertake": 4.0,
        "cue:label_cohost": 4.0,
        "cue:by": 4.0,
        "cue:by_run": 3.5,
        "cue:by_held": 3.0,
        "cue:by_delivered": 1.0,
        "cue:event_by": 3.0,
        "cue:as_role": 4.0,
        "cue:bare": 4.0,
        "cue:subject": 3.0,
        "cue:title": 2.5,
        "cue:self": 4.0,
        "cue:label_support": -6.0,
        "cue:by_sponsor": -6.0,
        "org_noun": 0.5,
        "listed": 0.3,
        "event_near": 0.5,
        "mentions": 0.5,
        "in_title": 0.5,
        "footer": -1.0,
        "sponsor": -2.5,
    },
    bias=-2.0,
)

#: Markdown emphasis and code marks around names: "由**某某厅**主办".
_EMPHASIS = re.compile(r"\*+|__|`")
#: Words before a name that make it something other than an organizer (lowercase text).
_SPONSOR_CUES = re.compile(
    r"sponsor|support|funded|financed|media partner|patrocin|apoio|con el apoyo|gefördert|"
    r"指导|支持|赞助|後援|协赞|協賛"
)
#: How far before a name a sponsor cue counts.
_SPONSOR_REACH = 60
#: Words of an event near a cue (any language the worker reads; lowercase text).
_EVENT_NEAR = re.compile(
    r"培训|研修|训练营|实训|讲座|公开课|沙龙|工作坊|课程|研討|講座|セミナー|"
    r"course|program|training|workshop|bootcamp|seminar|webinar|masterclass|class|camp|school|"
    r"series|fdp|sttp|lecture|kurs|curso|taller|khóa"
)
_EVENT_REACH = 120
#: The share of a long page at its end that counts as its footer.
_FOOTER_SHARE = 0.12
_FOOTER_MIN_CHARS = 800
#: "… (SVCIM)": an acronym a page defines after the full name.
_ACRONYM_DEF = re.compile(r"\(([A-Z][A-Za-z0-9&\-]{1,11}(?: [A-Z][A-Za-z]{1,12})?)\)")
_NAME_WORD = re.compile(r"[A-Z0-9][\w&'’.\-]*|of|for|and|the|&|de|del|für|di|do|da")
#: A line that is only a body's name (a page's masthead or signature), with a date.
_NAME_LINE = re.compile(
    r"^\s*(?:[#*\s]*)([^\s|·:：,，。]{3,40}?)(?:秘书处)?(?:\s*[|·]?\s*[\d年月日\-/. :]*)?$"
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A name a pattern put in an organizer's place."""

    name: str
    #: Where the cue is in the text.
    at: int
    #: Which pattern found it ("by", "subject", "label_host", ...).
    cue: str
    #: How many names the phrase listed.
    listed: int = 1


def plain(text: str) -> str:
    """The text without Markdown emphasis (names inside ``**…**`` read as names)."""
    return _EMPHASIS.sub("", text) if "*" in text or "_" in text or "`" in text else text


# ---------------------------------------------------------------- candidates


def _raw_candidates(text: str) -> Iterable[Candidate]:
    title = text.split("\n", 1)[0]
    if is_cjk(text):
        for name, at, role, listed in cjk_label_names(text):
            yield Candidate(name, at, f"label_{role}", listed)
        for name, at, cue, listed in orgs_zh.organizers(text):
            yield Candidate(name, at, cue, listed)
    if orgs_en.is_english(text):
        for source in (orgs_en.by_phrases(text), orgs_en.subjects(text)):
            for name, at, cue, listed in source:
                yield Candidate(name, at, cue, listed)
    for name, at, cue, listed in orgs_en.headline_subjects(title):
        yield Candidate(name, at, cue, listed)
    for name, at, role, listed in latin_label_names(text):
        yield Candidate(name, at, f"label_{role}", listed)
    for name, at, cue, listed in orgs_other.organizers(text):
        yield Candidate(name, at, cue, listed)


def _acronyms(text: str) -> dict[str, str]:
    """Acronym -> the full name the page puts before it: "SVCIM" -> "Shenzhen …"."""
    found: dict[str, str] = {}
    for match in _ACRONYM_DEF.finditer(text):
        acronym = match.group(1)
        line_start = text.rfind("\n", 0, match.start()) + 1
        words = text[max(line_start, match.start() - 160) : match.start()].split()
        run: list[str] = []
        for word in reversed(words):
            if not _NAME_WORD.fullmatch(word):
                break
            run.insert(0, word)
        # the name starts at the furthest capitalized word with the acronym's initial
        starts = [i for i, w in enumerate(run) if w[:1] == acronym[:1]]
        if starts and len(run) - starts[0] >= 2:
            found.setdefault(acronym, " ".join(run[starts[0] :]))
    return found


def _publisher(text: str, reference: str) -> str | None:
    """The page's own body for a self-reference ("我中心", "本会"): a masthead or
    signature line naming a body of that kind, else the first such name in the text."""
    kind = reference[1:]
    endings = {"校": ("学校", "大学", "学院"), "司": ("公司",), "会": ("会",)}.get(kind, (kind,))
    lines = text.split("\n")
    for line in lines[:6] + lines[-8:][::-1]:
        match = _NAME_LINE.match(line)
        name = match.group(1) if match else ""
        if name.endswith(endings) and is_org_cjk(name) and not SELF_REFERENCE.match(name):
            return name
    return None


def _full_name(noun: str, text: str) -> str | None:
    """ "Association" (from "the Association") -> the page's "Pune Manufacturers Association"."""
    match = re.search(
        rf"((?:[A-Z][\w&'’.\-]*\s+(?:(?:of|for|and|the|&)\s+)*){{1,8}}){noun}\b", text
    )
    return f"{match.group(1)}{noun}".strip() if match else None


def _resolved(candidate: Candidate, text: str, acronyms: dict[str, str]) -> Candidate | None:
    name = candidate.name
    if SELF_REFERENCE.match(name):
        name = _publisher(text, name) or ""
    elif name in acronyms:
        name = acronyms[name]
    elif name.isalpha() and name.lower() in ORG_NOUNS:
        name = _full_name(name, text) or ""  # "the Institute", "the Association"
    if not name:
        return None
    return Candidate(full_width(name), candidate.at, candidate.cue, candidate.listed)


def candidates(text: str) -> list[Candidate]:
    """Every organizer candidate in ``text`` (emphasis already stripped)."""
    raw = list(_raw_candidates(text))
    acronyms = _acronyms(text) if any(is_acronym(c.name) or " " in c.name for c in raw) else {}
    return [r for c in raw if (r := _resolved(c, text, acronyms)) is not None]


# ---------------------------------------------------------------- features


_TRAILING_BRACKET = re.compile(r"\s*\([^()]{1,40}\)\s*$")
_TRAILING_ACRONYM = re.compile(r"\s*[(（][A-Za-z0-9&.\- ]{2,12}[)）]\s*$")


def name_key(name: str) -> str:
    """Names compared: case, spaces, brackets' width and a trailing bracket folded."""
    name = name.replace("（", "(").replace("）", ")")
    if name.endswith(")"):
        name = _TRAILING_BRACKET.sub("", name)
    return " ".join(name.lower().split())


def label_key(name: str) -> str:
    """A name as labels are compared: case and spaces folded, a trailing acronym dropped."""
    return " ".join(_TRAILING_ACRONYM.sub("", name).lower().split())


def _same_body(a: str, b: str) -> bool:
    """The same name inflected ("Deutsch-Indische" / "Deutsch-Indischen Handelskammer")."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb) or len(wa) < 2:
        return False
    return all(x == y or (x[:-2] == y[:-2] and x[:4] == y[:4]) for x, y in zip(wa, wb, strict=True))


_LETTER = re.compile(r"[^\W\d_]")


def _script(text: str) -> str:
    """ "cjk" or "latin": the script of the first letter."""
    letter = _LETTER.search(text)
    return "cjk" if letter and letter.group() >= "\u3040" else "latin"


#: Cues of bodies that back an event without organizing it.
_BACKER_CUES = ("support", "sponsor")
#: A page is bilingual when each script holds at least this share of its letters
#: (a Chinese article that names one foreign company is not).
BILINGUAL_SHARE = 0.1
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ỹ]")


@dataclass(frozen=True, slots=True)
class _Page:
    """What the features of one page's candidates look at."""

    text: str
    lowered: str
    title: str
    #: The script of the title: the language the page leads with.
    leading: str


def _page(text: str) -> _Page:
    title = text.split("\n", 1)[0]
    return _Page(text=text, lowered=text.lower(), title=title, leading=_script(title))


def _as_sponsor(name: str, page: _Page) -> bool:
    """Whether the page names ``name`` right after a sponsor or supporter cue."""
    key = name.lower()
    at = page.lowered.find(key)
    while at >= 0:
        if _SPONSOR_CUES.search(page.lowered, max(0, at - _SPONSOR_REACH), at):
            return True
        at = page.lowered.find(key, at + len(key))
    return False


def _occurrence(c: Candidate, page: _Page) -> dict[str, float]:
    near = _EVENT_NEAR.search(page.lowered, max(0, c.at - _EVENT_REACH), c.at + _EVENT_REACH)
    footer = len(page.text) > _FOOTER_MIN_CHARS and c.at > len(page.text) * (1 - _FOOTER_SHARE)
    return {
        f"cue:{c.cue}": 1.0,
        "listed": float(c.listed > 1),
        "event_near": float(near is not None),
        "footer": float(footer),
    }


def _name_features(name: str, page: _Page) -> dict[str, float]:
    script = _script(name)
    words = len(name) / 4 if script == "cjk" else len(name.split())
    org = is_org_cjk(name) if script == "cjk" else is_org_latin(name)
    return {
        "org_noun": float(org),
        "acronym": float(is_acronym(name)),
        "length": min(words, 12) / 12,
        "mentions": min(page.text.count(name), 4) / 4,
        "in_title": float(name in page.title),
        "sponsor": float(_as_sponsor(name, page)),
    }


def _grouped(found: list[Candidate], page: _Page) -> list[tuple[str, int, dict[str, float]]]:
    """(name, first offset, features) per distinct name, its occurrences' features merged."""
    groups: dict[str, tuple[str, int, dict[str, float]]] = {}
    for c in found:
        key = name_key(c.name)
        if not key:
            continue
        same = key if key in groups else next((k for k in groups if _same_body(k, key)), key)
        labelled = c.cue.startswith("label")
        if same in groups:
            name, at, merged = groups[same]
            if (labelled and not merged["labelled"]) or (
                labelled == bool(merged["labelled"]) and len(c.name) > len(name)
            ):
                name = c.name  # a labelled line writes a name in its plain form; else the fullest
        else:
            name, at = c.name, c.at
            merged = {**_name_features(c.name, page), "labelled": 0.0, "cues": 0.0}
        for feature, value in _occurrence(c, page).items():
            merged[feature] = max(merged.get(feature, 0.0), value)
        merged["labelled"] = max(merged["labelled"], float(labelled))
        merged["cues"] = min(merged["cues"] + 0.25, 1.0)
        groups[same] = (name, min(at, c.at), merged)
    return sorted(groups.values(), key=lambda g: g[1])


def _bilingual(text: str) -> bool:
    """Whether a page is written in both a CJK script and a Latin one, each at length."""
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return BILINGUAL_SHARE <= cjk / (cjk + latin + 1) <= 1 - BILINGUAL_SHARE * 2


def _in_leading_language(found: list[Candidate], page: _Page) -> list[Candidate]:
    """On a page written in two languages, the candidates in the language it leads with
    (its title's): the other names are the same bodies translated."""
    scripts = {_script(c.name) for c in found if not c.cue.endswith(_BACKER_CUES)}
    if len(scripts) < 2 or page.leading not in scripts or not _bilingual(page.text):
        return found
    return [c for c in found if _script(c.name) == page.leading]


def _rows(text: str) -> list[tuple[str, dict[str, float]]]:
    text = plain(text)
    found = candidates(text)
    if not found:
        return []
    page = _page(text)
    found = _in_leading_language(found, page)
    return [(name, features) for name, _, features in _grouped(found, page)]


# ---------------------------------------------------------------- public


def find_organizers(text: str, model: LinearModel | None = None) -> tuple[str, ...]:
    """The organizing bodies the text names, in order of appearance, without repeats."""
    model = model or HAND_MODEL
    return tuple(name for name, features in _rows(text) if model.score(features) >= model.threshold)


def organizers_of(doc: Document, profile: Profile) -> tuple[str, ...]:
    """The organizers of ``doc``, judged by the profile's learned model when it has one."""
    return find_organizers(f"{doc.title}\n{doc.text}", profile.models.get(MODEL))


def training_rows(
    doc: Document, profile: Profile, label: Mapping[str, Any]
) -> list[tuple[dict[str, float], bool]]:
    """One row per distinct candidate name, True when the label lists that name."""
    if not label.get("relevant") or "organizers" not in label:
        return []
    wanted = {label_key(n) for n in label["organizers"]}
    rows = _rows(f"{doc.title}\n{doc.text}")
    return [(features, label_key(name) in wanted) for name, features in rows]


# ---------------------------------------------------------------- participants

_EN_PARTICIPANT = (
    re.compile(
        r"welcom(?:ed|es|ing)\s+(.{2,120}?)\s+as\s+(?:an?\s+|the\s+)?(?:invited|special|honou?red)\s+"
        r"(?:participants?|guests?|partners?|attendees?|speakers?)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:invited participants?|special guests?|invited guests?|invited companies)\s+"
        r"(?:included|including|were|was|:)\s+([^.\n;]{2,200})",
        re.IGNORECASE,
    ),
    re.compile(
        r"([A-Z][\w&.\-]*(?:\s+[A-Z][\w&.\-]*){0,6})\s+(?:was|were)\s+invited\s+to\s+"
        r"(?:participate|attend|join|take part)"
    ),
)
#: A word each participant pattern cannot match without (lowercase).
_EN_PARTICIPANT_KEYS = ("welcom", "invited", "invited")
_ZH_PARTICIPANT_KEYS = (("特邀",), ("应邀", "受邀"), ("特邀",))
_ZH_PARTICIPANT = (
    re.compile(
        r"特邀([^，,。；;\n]{2,40}?)(?:参加|出席|参与|莅临|作|进行|担任|到场|加入|讲解|授课)"
    ),
    re.compile(r"([^，,。；;\n、]{2,40}?)(?:应邀|受邀)(?:参加|出席|参与|莅临|到场)"),
    re.compile(r"特邀(?:嘉宾|单位|企业|代表)\s*[:：]\s*([^\n。]+)"),
)


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        key = re.sub(r"\W+", "", name.lower())
        if key and key not in seen:
            seen[key] = name
    return tuple(seen.values())


def find_participants(text: str) -> tuple[str, ...]:
    """Invited participants: "welcomed X as an invited participant", "特邀X参加", ..."""
    found: list[str] = []
    lowered = text.lower()
    # Each pattern is costly on a whole page; its keyword is a cheap test first.
    for keyword, pattern in zip(_EN_PARTICIPANT_KEYS, _EN_PARTICIPANT, strict=True):
        if keyword in lowered:
            for match in pattern.finditer(text):
                found += split_latin(match.group(1))
    for keywords, pattern in zip(_ZH_PARTICIPANT_KEYS, _ZH_PARTICIPANT, strict=True):
        if any(k in text for k in keywords):
            for match in pattern.finditer(text):
                found += split_cjk(match.group(1))
    return _dedupe([n for n in found if 2 <= len(n) <= 80])


L2 = 0.3
