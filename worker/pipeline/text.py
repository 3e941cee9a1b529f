"""Small text helpers shared by normalize and extract: folding, CJK, sentences.

Pure functions over strings; nothing here knows about the topic.
"""

from __future__ import annotations

import re
import unicodedata

#: CJK Unified Ideographs and Extension A: enough to tell Chinese text apart.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: Spaces that NFKC leaves alone or that scraped pages are full of.
_SPACE_CHARS = r" \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff"
#: Runs of them, except a lone plain space (most of them), which needs no change.
_SPACE_RUNS = re.compile(rf"[{_SPACE_CHARS[1:]}][{_SPACE_CHARS}]*| [{_SPACE_CHARS}]+")
#: A space between two CJK characters is layout, not meaning. The pattern starts
#: with the space itself so the engine skips ahead to spaces.
_CJK_GAP = re.compile(
    r" (?<=[\u3400-\u9fff。，、；：！？）》」』】] )(?=[\u3400-\u9fff（《「『【])"
)
#: Sentence ends: Chinese ones always; English ones when followed by a space.
_SENTENCE_END = re.compile(r"[。！？!?]|[.;](?=\s+[A-Z0-9\"“(\u4e00-\u9fff])")
#: Words whose trailing period does not end a sentence ("Nov. 3", "Co. Ltd").
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "ms",
        "mrs",
        "dr",
        "prof",
        "no",
        "co",
        "inc",
        "ltd",
        "st",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "vs",
        "etc",
        "corp",
        "dept",
        "univ",
        "gov",
        "jr",
        "sr",
    ]
)
_LAST_WORD = re.compile(r"([A-Za-z]+)$")

#: A language is "zh" when CJK characters make up at least this share of words ...
ZH_RATIO = 0.7
#: ... and "en" when at most this share; anything between is "mixed".
EN_RATIO = 0.2
#: English letters per word, to weigh letters against CJK characters.
LETTERS_PER_WORD = 5.0


def fold(text: str) -> str:
    """Fold full-width forms to ASCII (NFKC), unify quotes, collapse spaces per line."""
    if not unicodedata.is_normalized("NFKC", text):  # a quick check; most English is
        text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # ASCII text (most English pages) can only hold a space run as a tab or two
    # spaces, and no CJK gap at all: the substring tests skip scanning every space.
    ascii_only = text.isascii()
    if not ascii_only or "\t" in text or "  " in text:
        text = _SPACE_RUNS.sub(" ", text)
    # Neither pattern spans a line break, so each runs once over the whole text.
    text = "\n".join(line.strip() for line in text.split("\n"))
    return text if ascii_only else _CJK_GAP.sub("", text)


#: Runs of characters that are not CJK / not Latin letters: removing them and
#: measuring what is left counts characters much faster than finding each one.
_NOT_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]+")
#: Every ASCII byte that is not a letter, deleted with bytes.translate to count letters.
_NOT_LETTER_BYTES = bytes(b for b in range(128) if not chr(b).isalpha())


def cjk_count(text: str) -> int:
    if text.isascii():  # O(1) in CPython, and most English text is
        return 0
    return len(_NOT_CJK.sub("", text))


def is_cjk(text: str) -> bool:
    """True when ``text`` contains any CJK character."""
    return not text.isascii() and _CJK.search(text) is not None


def detect_language(text: str) -> str | None:
    """``"zh"``, ``"en"`` or ``"mixed"`` from the CJK share; None for no letters at all."""
    cjk = cjk_count(text)
    letters = text.encode("ascii", "ignore").translate(None, _NOT_LETTER_BYTES)
    latin_words = len(letters) / LETTERS_PER_WORD
    if cjk + latin_words == 0:
        return None
    ratio = cjk / (cjk + latin_words)
    if ratio >= ZH_RATIO:
        return "zh"
    if ratio <= EN_RATIO:
        return "en"
    return "mixed"


def sentences(text: str) -> list[str]:
    """Split into sentences (and lines); keeps the end punctuation."""
    out: list[str] = []
    for line in text.split("\n"):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            if match.group() == ".":
                word = _LAST_WORD.search(line, 0, match.start())
                if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                    continue
            piece = line[start : match.end()].strip()
            if piece:
                out.append(piece)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters on a word or clause boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if is_cjk(cut[-1]):
        for mark in "，、；,;":
            pos = cut.rfind(mark)
            if pos > limit // 2:
                return cut[:pos] + "…"
        return cut[: limit - 1] + "…"
    pos = cut.rfind(" ")
    if pos > limit // 2:
        cut = cut[:pos]
    return cut.rstrip(" ,;:-") + "…"
