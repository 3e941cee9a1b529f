"""Fast matching of many literal terms (English and Chinese) in one pass.

The terms are compiled into a single regular expression shaped like a trie
(``smart (?:factory|manufacturing)``), so the engine tries one branch per
character instead of every term at every position; that keeps scoring a 2 KB
document well under a millisecond with hundreds of terms.

Terms are matched case-insensitively on lowercased text. A term that starts or
ends with an ASCII letter or digit must sit on a word boundary there ("MES"
does not match inside "games"); CJK terms match anywhere, as Chinese has no
spaces between words. A ``*`` at either end of a term lifts the boundary check
on that side, for languages that build compounds: ``*seminar`` also finds the
seminar in "Praxisseminar", ``schulung*`` the one in "Schulungen". The key of
such a term (what :func:`find_terms` yields, and what a profile indexes) is the
term without its stars.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: What counts as "inside a word" for the boundary check of ASCII-edged terms.
_WORD_CHAR = "A-Za-z0-9"
_AFTER = rf"(?![{_WORD_CHAR}])"
#: Key marking "a term ends here" in the trie.
_END = ""
#: Key marking "a term ends here, whatever letters follow" (a trailing ``*``).
_OPEN_END = "*"
#: The wildcard that lifts a boundary check.
WILDCARD = "*"
#: Terms that start with at least this many of the 26 lowercase letters are matched
#: with the word-boundary check in front of them all (see ``_compile_trie``).
LOWER_FIRSTS_FOR_UPFRONT_CHECK = 13


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def term_key(term: str) -> str:
    """What a term matches as: the term without its wildcards."""
    return term.strip(WILDCARD)


def _trie(terms: Iterable[str]) -> dict[str, dict]:
    root: dict[str, dict] = {}
    for term in terms:
        node = root
        for ch in term.strip(WILDCARD):
            node = node.setdefault(ch, {})
        node[_OPEN_END if term.endswith(WILDCARD) else _END] = {}
    return root


def _node_regex(node: dict[str, dict], last: str) -> str:
    """The regex for the rest of every term below ``node``; ``last`` is the char above it."""
    branches = [
        re.escape(ch) + _node_regex(child, ch)
        for ch, child in sorted(node.items())
        if ch not in (_END, _OPEN_END)
    ]
    if _END not in node and _OPEN_END not in node:
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    end = _AFTER if _is_word_char(last) and _OPEN_END not in node else ""
    if not branches:
        return end
    # Longer terms first: the optional continuation is tried before stopping here.
    return "(?:" + "|".join(branches) + "|" + end + ")"


@dataclass(frozen=True, slots=True)
class TermMatcher:
    """Terms split by their first character into two trie patterns.

    One pattern over every term is several times slower than two: with Latin
    and CJK first characters mixed, the engine cannot skip ahead cheaply, and
    on English text it tries a CJK-heavy alternation at every letter. The CJK
    pattern only runs on text that has non-ASCII characters at all.
    """

    ascii: re.Pattern[str]
    other: re.Pattern[str]
    #: Terms with a leading ``*``: found inside words too (None when there are none).
    inner: re.Pattern[str] | None = None

    def finditer(self, text: str) -> list[re.Match[str]]:
        """Every term occurrence, in order of position, leftmost-longest, no overlaps."""
        found = list(self.ascii.finditer(text))
        if self.inner is not None:
            found = _merge(found, list(self.inner.finditer(text)))
        if text.isascii():
            return found
        return _merge(found, list(self.other.finditer(text)))


def _merge(found: list[re.Match[str]], more: list[re.Match[str]]) -> list[re.Match[str]]:
    """Two ordered match lists as one, leftmost-longest, without overlaps."""
    if not found or not more:
        return found or more
    merged: list[re.Match[str]] = []
    for match in sorted(found + more, key=lambda m: (m.start(), -m.end())):
        if not merged or match.start() >= merged[-1].end():
            merged.append(match)
    return merged


def compile_terms(terms: Iterable[str], *, lower: bool = True) -> TermMatcher:
    """Patterns that find every term with leftmost-longest preference.

    With ``lower`` (the default) the terms are lowercased and the patterns are
    meant for lowercased text; without it they match exactly as given.
    """
    written = [t.lower() if lower else t for t in terms if term_key(t)]
    inner = [t.lstrip(WILDCARD) for t in written if t.startswith(WILDCARD)]
    written = [t for t in written if not t.startswith(WILDCARD)]
    return TermMatcher(
        _compile_trie([t for t in written if t[0].isascii()]),
        _compile_trie([t for t in written if not t[0].isascii()]),
        _compile_trie(inner, start_check=False) if inner else None,
    )


def _compile_trie(terms: list[str], *, start_check: bool = True) -> re.Pattern[str]:
    root = _trie(terms)
    firsts = sorted(ch for ch in root if ch not in (_END, _OPEN_END))
    if not firsts:
        return re.compile(r"(?!x)x")  # matches nothing
    lower_firsts = sum(1 for ch in firsts if "a" <= ch <= "z")
    if not start_check:
        return re.compile("|".join(re.escape(ch) + _node_regex(root[ch], ch) for ch in firsts))
    if lower_firsts < LOWER_FIRSTS_FOR_UPFRONT_CHECK:
        # The boundary check goes after the first character, not before it, so every
        # branch starts with a literal and the engine can skip ahead by first character.
        branches = []
        for ch in firsts:
            check = rf"(?<![{_WORD_CHAR}]{re.escape(ch)})" if _is_word_char(ch) else ""
            branches.append(re.escape(ch) + check + _node_regex(root[ch], ch))
        return re.compile("|".join(branches))
    # Terms starting with most lowercase letters, on (lowercased) text that is mostly
    # lowercase letters: skipping ahead by first character skips almost nothing, and
    # each letter inside a word would try its branch before failing the boundary
    # check. One check up front, for every term that starts a word, rejects those
    # positions at once (twice as fast on English text; the same matches).
    word = [re.escape(ch) + _node_regex(root[ch], ch) for ch in firsts if _is_word_char(ch)]
    other = [re.escape(ch) + _node_regex(root[ch], ch) for ch in firsts if not _is_word_char(ch)]
    return re.compile("|".join([rf"(?<![{_WORD_CHAR}])(?:" + "|".join(word) + ")", *other]))


def find_terms(matcher: TermMatcher, lowered_text: str) -> Iterator[str]:
    """Every term occurrence in ``lowered_text`` (already lowercased), in order."""
    for match in matcher.finditer(lowered_text):
        yield match.group()
