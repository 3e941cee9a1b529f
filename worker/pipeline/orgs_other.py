"""Organizers in German, Spanish, Portuguese and Vietnamese prose.

- "by": "veranstaltet / organisiert / ausgerichtet von A", "organizado por A",
  "promovido por A", "realizado por A", "do A tổ chức";
- "subject": "A abre inscripciones para su curso", "A y B invitan a …",
  "O A abre inscrições para a turma", "A phối hợp với B tổ chức khóa đào tạo".

Their labelled lines ("Veranstalter", "Organizan", "Realização") are read by
``orgs_labels``. Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from worker.pipeline.orgs_names import is_named_body, listed_bodies, split_latin

_BY = re.compile(
    r" (?:[Vv]eranstaltet|[Oo]rganisiert|[Aa]usgerichtet|[Oo]rganizad[oa]s?|[Pp]romovid[oa]s?|"
    r"[Rr]ealizad[oa]s?|[Oo]rganizad[oa]s?)\s+(?:gemeinsam\s+)?(?:von|vom|por|pela|pelo|pelas|pelos)\s+"
    r"(?:der\s+|dem\s+|el\s+|la\s+|los\s+|las\s+|o\s+|a\s+)?"
)
_STOP = re.compile(
    r"[.;:!?](?:\s|$)|\n|\s[—–]\s|,\s+(?![A-ZÁÉÍÓÚÀ-Ỹ])|\s(?:en|em|in|am|im|el|para|con|com|mit)\s"
)
#: Romance verbs whose subject organizes the event they name.
_SUBJECT_VERB = re.compile(
    r" (?:(?:abre|abren|abrem)\s+(?:las\s+|as\s+)?(?:inscripciones|inscrições|inscricoes)|"
    r"(?:organiza|organizan|organizará|organizarán|realiza|realizará|realizarán|imparte|"
    r"impartirá|ofrece|ofrecerá|promove|promoverá|realizará|invita|invitan|convida|convidam)\s)"
)
#: Letters these languages write and English does not: a page without any is not theirs.
_ACCENTED = re.compile(r"[À-ÖØ-öø-ɏḀ-ỿ]")
#: Words without which none of these languages' shapes can match.
_CUES = (
    " von ",
    " por ",
    " pel",
    " abre",
    " organiza ",
    " organizan ",
    " organizará",
    " realiza ",
    " realizará",
    " imparte",
    " ofrece",
    " promove",
    " invita",
    " convida",
    "tổ chức",
)
_SENTENCE_START = re.compile(r"(?:^|\n|[.!?]\s+(?=[A-ZÁÉÍÓÚ])|\s[—–]\s)")
_ARTICLE = re.compile(r"^(?:El|La|Los|Las|O|A|Os|As|Die|Der|Das)\s+")
_SUBJECT_REACH = 220

#: Vietnamese: "A phối hợp với B tổ chức …", "A tổ chức khóa đào tạo …", "do A tổ chức".
_VI_ORG = (
    r"(?:Trung tâm|Trường|Viện|Học viện|Hiệp hội|Sở|Bộ|Cục|Tổng cục|Công ty|Đại học|Liên minh|"
    r"Phòng|Ban|Hội)"
)
_VI_NAME = rf"({_VI_ORG}(?:(?!phối hợp|cùng với|tổ chức)[^,.;:\n]){{2,90}}?)"
_VI_JOINT = re.compile(
    rf"{_VI_NAME}\s+(?:phối hợp|cùng)\s+với\s+{_VI_NAME}\s+(?:đồng\s+)?tổ chức\b"
)
_VI_SINGLE = re.compile(rf"(?:^|[,.;:]\s*|\n|\bdo\s+){_VI_NAME}\s+(?:đồng\s+)?tổ chức\b")


def by_phrases(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "by", listed) for "veranstaltet von …", "organizado por …"."""
    for match in _BY.finditer(text):
        stop = _STOP.search(text, match.end())
        phrase = text[match.end() : stop.start() if stop else len(text)]
        names = listed_bodies(phrase)
        for name in names:
            yield name, match.start(), "by", len(names)


def subjects(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "subject", listed) for "A abre inscripciones para su curso"."""
    for verb in _SUBJECT_VERB.finditer(text):
        begin = max(0, verb.start() - _SUBJECT_REACH)
        starts = [m.end() for m in _SENTENCE_START.finditer(text, begin, verb.start())]
        if not starts:
            continue
        region = _ARTICLE.sub("", text[starts[-1] : verb.start()].strip(" ,"))
        if re.search(r"\s(?:y|e|und)\s", region):
            names = listed_bodies(region)
        else:  # one body: what follows a comma is an appositive ("con sede en Cali")
            first = split_latin(region)[:1]
            names = [n for n in first if is_named_body(n)]
        for name in names:
            yield name, starts[-1], "subject", len(names)


def vietnamese(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, cue, listed) for "A phối hợp với B tổ chức …"."""
    for match in _VI_JOINT.finditer(text):
        for group in (1, 2):
            yield match.group(group).strip(), match.start(), "subject", 2
    for match in _VI_SINGLE.finditer(text):
        yield match.group(1).strip(), match.start(), "subject", 1


def organizers(text: str) -> Iterator[tuple[str, int, str, int]]:
    """Every (name, offset, cue, listed) these languages' shapes find."""
    if not _ACCENTED.search(text) or not any(cue in text for cue in _CUES):
        return
    yield from by_phrases(text)
    yield from subjects(text)
    if "tổ chức" in text:
        yield from vietnamese(text)
