"""Organizers named on labelled lines, in every language the worker reads.

"主办单位：A、B", "承办：C", "Organised by: D", "| Organiser | E |",
"Veranstalter: F und G", "主催：H", and the same labels alone on a line with
the names on the next one ("Organizan\\nA y B", "Realização\\nI"). The labels of
bodies that do not organize ("指导单位", "支持单位", "後援", "Sponsored by",
"Apoio", "Patrocinio") end a list but give no names.

Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from worker.pipeline.orgs_names import (
    clean_cjk,
    is_org_cjk,
    listed_bodies,
    split_cjk,
)
from worker.pipeline.text import is_cjk

#: Latin-script labels of organizers (lowercase), each with the role it gives.
_HOST_LABELS = (
    "organizers",
    "organizer",
    "organisers",
    "organiser",
    "organized by",
    "organised by",
    "jointly organized by",
    "jointly organised by",
    "organizing bodies",
    "organising bodies",
    "organizing body",
    "organising body",
    "organizing units",
    "organizing unit",
    "organizing committee",
    "organising committee",
    "co-organizers",
    "co-organizer",
    "co-organisers",
    "co-organiser",
    "co-organized by",
    "co-organised by",
    "organizing partners",
    "organising partners",
    "hosted by",
    "co-hosted by",
    "co-hosts",
    "co-host",
    "hosts",
    "host",
    "veranstalter",
    "veranstalterin",
    "veranstaltet von",
    "organizan",
    "organiza",
    "organizado por",
    "organizada por",
    "organizadores",
    "organizador",
    "realização",
    "realizacao",
    "promovido por",
    "đơn vị tổ chức",
    "ban tổ chức",
)
_UNDERTAKE_LABELS = ("implementing partners", "implementing partner")
#: Labels of bodies that back an event without organizing it: their names are
#: candidates too, so the filter learns from them what an organizer is not.
_SUPPORT_LABELS = (
    "sponsored by",
    "sponsors",
    "sponsor",
    "technology sponsor",
    "supported by",
    "support",
    "funded by",
    "financed by",
    "media partners",
    "media partner",
    "knowledge partner",
    "technology partner",
    "apoio",
    "patrocinio",
    "patrocínio",
    "patrocinado por",
    "con el apoyo de",
    "gefördert von",
    "unterstützt von",
    "förderer",
)
_ROLES = {
    **dict.fromkeys(_HOST_LABELS, "host"),
    **dict.fromkeys(_UNDERTAKE_LABELS, "undertake"),
    **dict.fromkeys(_SUPPORT_LABELS, "support"),
}

#: Chinese and Japanese label words and the role each gives.
_CJK_ROLES = {
    "联合主办": "host",
    "共同主办": "host",
    "主办": "host",
    "主辦": "host",
    "主催": "host",
    "共催": "host",
    "承办": "undertake",
    "承辦": "undertake",
    "协办": "cohost",
    "協辦": "cohost",
    "联办": "cohost",
    "運営": "undertake",
    "指导": "support",
    "指導": "support",
    "支持": "support",
    "技术支持": "support",
    "媒体支持": "support",
    "赞助": "support",
    "后援": "support",
    "後援": "support",
    "協賛": "support",
    "协赞": "support",
}
_CJK_LABEL = re.compile(
    r"(联合主办|共同主办|主办|主辦|主催|共催|承办|承辦|协办|協辦|联办|指导|指導|技术支持|媒体支持|"
    r"支持|赞助|后援|後援|協賛|协赞)"
    r"(?:单位|單位|方|机构)?\s*(?:[A-Za-z][A-Za-z ]{0,20})?\s*(?::|\n|$)"
)
#: The next label on the same line ("；承办单位：", "；指导单位：") ends a CJK list.
_CJK_NEXT_LABEL = re.compile(r"[;；]?\s*[^\s;；、，,:：]{1,6}[:：]")
_CELL_END = re.compile(r"\s*[|·•]\s*")
_LINE_PREFIX = re.compile(
    r"^[\s\-*#>|•·]*(?:[一二三四五六七八九十]+、|\(?[一二三四五六七八九十\d]+[)）.、]\s*)?"
)


def _is_label_line(line: str) -> bool:
    bare = _LINE_PREFIX.sub("", line).strip()
    if re.match(r"[^\s:：|]{1,12}\s*[:：|]", bare):
        return True  # "时间：…", "Fee: …", "承办单位：…"
    return bare.lower().rstrip(":：| ") in _ROLES or bare in _CJK_ROLES


def _names_in(value: str) -> list[str]:
    """The names a label's value lists, in its script."""
    value = value.strip().strip("|").strip()
    if is_cjk(value):
        cut = _CJK_NEXT_LABEL.search(value)
        value = value[: cut.start()] if cut else value
        return [n for n in split_cjk(value) if is_org_cjk(n)]
    value = _CELL_END.split(value, 1)[0]
    return listed_bodies(value)


def _continued(text: str, end: int, names: list[str]) -> list[str]:
    """Names one to a line after the label's own line ("承办单位：A\\nB\\n二、…")."""
    more: list[str] = []
    for line in text[end:].split("\n")[1:6]:
        line = line.strip()
        if not line or _is_label_line(line) or not is_cjk(line) or len(line) > 40:
            break
        name = clean_cjk(line)
        if not is_org_cjk(name):
            break
        more.append(name)
    return more if names else []


def cjk_label_names(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, role, listed) for every name on a Chinese or Japanese label."""
    for match in _CJK_LABEL.finditer(text):
        role = _CJK_ROLES[match.group(1)]
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end < 0 else line_end
        value = text[match.end() : line_end] if text[match.end() - 1 : match.end()] != "\n" else ""
        if not value.strip():  # the label alone on its line: the names follow
            nxt = text[match.end() :].lstrip("\n").split("\n", 1)[0]
            if _is_label_line(nxt):
                continue
            value = nxt
            line_end = match.end() + text[match.end() :].find(nxt) + len(nxt)
        names = _names_in(value)
        cut = _CJK_NEXT_LABEL.search(value) if is_cjk(value) else None
        if not cut:
            names += _continued(text, line_end, names)
        for name in names:
            yield name, match.start(), role, len(names)


#: Substrings (lowercase) of every Latin label: only lines holding one are read.
_LATIN_CUES = (
    "organi",
    "host",
    "veranstalt",
    "realiza",
    "promovid",
    "tổ chức",
    "implementing",
    "sponsor",
    "support",
    "funded",
    "financed",
    "partner",
    "apoio",
    "patrocin",
    "apoyo",
    "geförder",
    "unterstütz",
    "förderer",
)
#: Where a label may start on a line: its start, or after a cell or item separator.
_SEGMENT_STARTS = re.compile(r"^|[|·•;]")
_SEGMENT_LABEL = re.compile(
    r"[ \t]*(?:[-*#>]+\s*)?(?:\d+[.)]\s*)?"
    r"([A-Za-zÀ-ỹđĐ][A-Za-zÀ-ỹđĐ\- ]{2,30}?)\s*(?:[:：|]\s*|$)"
)


def _cue_lines(text: str) -> list[int]:
    """Starts of the lines that hold a Latin label's cue word."""
    lowered = text.lower()
    starts: set[int] = set()
    for cue in _LATIN_CUES:
        at = lowered.find(cue)
        while at >= 0:
            starts.add(lowered.rfind("\n", 0, at) + 1)
            at = lowered.find(cue, at + 1)
    return sorted(starts)


def _next_line(text: str, end: int) -> str:
    """The first non-empty line after the one ending at ``end``."""
    for line in text[end:].split("\n", 4)[1:4]:
        if line.strip():
            return line
    return ""


def latin_label_names(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, role, listed) for every name on a Latin-script label line."""
    for start in _cue_lines(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        for segment in _SEGMENT_STARTS.finditer(line):
            match = _SEGMENT_LABEL.match(line, segment.end())
            role = _ROLES.get(match.group(1).strip().lower()) if match else None
            if match is None or role is None:
                continue
            value = line[match.end() :]
            if not value.strip():  # the label alone on its line: the names are on the next
                value = _next_line(text, end)
                if _is_label_line(value):
                    continue
            names = _names_in(value)
            for name in names:
                yield name, start + match.start(), role, len(names)
