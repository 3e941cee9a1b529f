"""Place names: which cities (and countries) a text mentions, in any language it is written in.

The names are data (``data/gazetteer.json``, built by ``scripts/build_gazetteer.py``
from GeoNames and China's division table), not code. The file holds:

* ``city_names``, ``city_countries`` (two-letter ISO codes, concatenated) and
  ``city_populations``: one city per row; a city is referred to by its row.
* ``names``: written name (casefolded for Latin script) -> a code: ``row * 4 +
  flags``, where flag 1 says the name is a district, development zone, campus
  or exhibition ground in that city (顺德区 -> Foshan, 亦庄 -> Beijing) and flag
  2 that it is also an everyday word ("Reading", "Nice"); a negative code ``-1 - k``
  points to ``ambiguous[k]``, the codes of several cities of that name, most
  likely first ("Hanover": Hanover DE, then Hanover US).
* ``regions``: provinces and the like, which are not cities (吉林省, 浙江): found
  so that a city's name inside them (吉林) does not count.
* ``countries``: ISO code -> ``[English name, [other names]]``.

:func:`parse_gazetteer` turns that data into matchers; ``profile.load_profile``
reads the file, so this module does no I/O. Latin-script names are found from
capitalized words (a name is written capitalized; "reading" is never Reading)
and looked up in one dict; CJK names by their first two characters. The tables stay as
plain strings and ints, and a :class:`Place` is made only for a name found:
the main process holds the gazetteer, so it must stay small.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from worker.pipeline.terms import TermMatcher, compile_terms

#: Longest Latin name, in words ("Santiago de los Caballeros").
MAX_NAME_WORDS = 5
#: A word of a Latin name: letters only (hyphens, apostrophes and dots join words).
_LETTERS = "[^\\W\\d_]"
#: What may join two words of one name: "Des Moines", "Xi'an", "Stuttgart-Feuerbach", "St. Louis".
_JOIN = re.compile(rf"(?:[ \-'’]|\. ?){_LETTERS}+")
_FIRST_WORD = re.compile(rf"{_LETTERS}+")
_IS_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Place:
    """A canonical place: English name and country ("" for a country itself)."""

    name: str
    country: str
    population: int = 0


@dataclass(frozen=True, slots=True)
class PlaceMention:
    place: Place
    begin: int
    end: int
    #: The text as written ("北京", "Peking", "顺德区").
    surface: str
    #: The name is a district, zone, campus or venue in the city, not the city's own.
    part: bool = False
    #: The name is also an everyday word ("Reading"): only a place cue makes it a place.
    common: bool = False
    #: Other cities of the same name, in order of preference ("Birmingham": the US one).
    others: tuple[Place, ...] = ()

    @property
    def candidates(self) -> tuple[Place, ...]:
        return (self.place, *self.others)


#: Flags in a name's code.
PART, COMMON = 1, 2


@dataclass(frozen=True, slots=True)
class _Index:
    """City and country names, compiled for matching (see the module docstring)."""

    #: Written name (Latin casefolded) -> code.
    names: Mapping[str, int] = field(default_factory=dict)
    ambiguous: tuple[tuple[int, ...], ...] = ()
    city_names: tuple[str, ...] = ()
    #: Each city's country (shared objects).
    city_countries: tuple[Place, ...] = ()
    city_populations: tuple[int, ...] = ()
    #: First words (casefolded) of Latin names of several words ("des" of "Des Moines").
    first_words: frozenset[str] = frozenset()
    #: Provinces and the like (Latin casefolded): matched only to keep the cities
    #: inside them unmatched.
    regions: frozenset[str] = frozenset()
    #: Capitalized words: where a Latin name may begin.
    capitalized: re.Pattern[str] = re.compile(r"(?!x)x")
    #: Characters a CJK name begins with, and each name's first two characters ->
    #: the lengths of the names that begin so, longest first.
    cjk_first: re.Pattern[str] = re.compile(r"(?!x)x")
    cjk_prefixes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    countries: Mapping[str, Place] = field(default_factory=dict)
    country_pattern: TermMatcher = field(default_factory=lambda: compile_terms(()))

    def find_cities(self, text: str) -> list[PlaceMention]:
        """Every city mention in ``text`` (its own name or a part's), in order of appearance."""
        found = list(self._latin(text))
        if not text.isascii():
            found += self._cjk(text)
            found.sort(key=lambda m: m.begin)
        return found

    def find_countries(self, text: str) -> list[PlaceMention]:
        return [
            PlaceMention(self.countries[m.group()], m.start(), m.end(), m.group())
            for m in self.country_pattern.finditer(text)
        ]

    def place(self, row: int) -> Place:
        country = self.city_countries[row]
        return Place(self.city_names[row], country.name, self.city_populations[row])

    def first_row(self, code: int) -> int:
        """The row of the likeliest city of a name's code."""
        return (code if code >= 0 else self.ambiguous[-1 - code][0]) >> 2

    def _mention(self, code: int, surface: str, begin: int, end: int) -> PlaceMention:
        codes = (code,) if code >= 0 else self.ambiguous[-1 - code]
        first = codes[0]
        return PlaceMention(
            self.place(first >> 2),
            begin,
            end,
            surface,
            part=bool(first & PART),
            common=bool(first & COMMON),
            others=tuple(self.place(c >> 2) for c in codes[1:]),
        )

    def _latin(self, text: str) -> Iterator[PlaceMention]:
        names, first_words, regions = self.names, self.first_words, self.regions
        resume = 0
        for word in self.capitalized.finditer(text):
            begin = word.start()
            key = word.group().casefold()
            if begin < resume or (
                key not in names and key not in first_words and key not in regions
            ):
                continue
            if word.group().isupper() and len(key) < 4:
                continue  # "MES", "PLC": acronyms, not towns
            ends = [word.end()]
            for _ in range(MAX_NAME_WORDS - 1):
                more = _JOIN.match(text, ends[-1])
                if more is None:
                    break
                ends.append(more.end())
            for end in reversed(ends):  # the longest name wins: "New Delhi" over "Delhi"
                key = text[begin:end].casefold()
                code = names.get(key)
                if code is not None or key in regions:
                    resume = end
                    if code is not None and key not in regions:
                        yield self._mention(code, text[begin:end], begin, end)
                    break

    def _cjk(self, text: str) -> list[PlaceMention]:
        """Leftmost-longest CJK names: at each character a name may begin with, the
        longest name there. (One trie pattern over 12,000 names is slower: the regex
        engine tries a position's branches one by one.)"""
        names, regions, prefixes = self.names, self.regions, self.cjk_prefixes
        found: list[PlaceMention] = []
        resume = 0
        for first in self.cjk_first.finditer(text):
            begin = first.start()
            lengths = prefixes.get(text[begin : begin + 2]) if begin >= resume else None
            if not lengths:
                continue
            for length in lengths:
                name = text[begin : begin + length]
                if name in regions:
                    resume = begin + length
                    break
                code = names.get(name)
                if code is not None:
                    resume = begin + length
                    found.append(self._mention(code, name, begin, resume))
                    break
        return found


class CityNames(Mapping[str, str]):
    """Casefolded name -> the English name of the city it names: every city's own English
    name and every name the gazetteer knows ("münchen" -> "Munich", "北京" -> "Beijing").

    For a feed's ``?city=`` filter, which accepts a city in any of its names.
    """

    def __init__(self, index: _Index) -> None:
        self._index = index
        self._own: dict[str, str] | None = None

    def _own_names(self) -> dict[str, str]:
        if self._own is None:
            self._own = {name.casefold(): name for name in self._index.city_names}
        return self._own

    def __getitem__(self, key: str) -> str:
        code = self._index.names.get(key)
        if code is not None:
            return self._index.place(self._index.first_row(code)).name
        return self._own_names()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._own_names())

    def __len__(self) -> int:
        return len(self._own_names())


def _get(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ValueError(
            f"{where}: {key!r} missing or not a {kind.__name__} "
            "(rebuild the file with scripts/build_gazetteer.py)"
        )
    return value


def _countries(data: Mapping[str, Any], where: str) -> tuple[dict[str, Place], dict[str, Place]]:
    """ISO code -> country, and every written country name -> country."""
    by_code: dict[str, Place] = {}
    by_name: dict[str, Place] = {}
    for code, row in _get(data, "countries", dict, where).items():
        try:
            name, aliases = row
            place = Place(str(name), "")
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where}: countries[{code!r}] is not [name, [other names]]") from e
        by_code[code] = place
        for written in (name, *aliases):
            by_name.setdefault(written, place)
            if written.isascii() and len(written) > 3:  # "CHINA" in a dateline, not "US"
                by_name.setdefault(written.upper(), place)
    return by_code, by_name


def _cities(
    data: Mapping[str, Any], by_code: Mapping[str, Place], where: str
) -> tuple[tuple[str, ...], tuple[Place, ...], tuple[int, ...]]:
    names = tuple(_get(data, "city_names", list, where))
    codes = _get(data, "city_countries", str, where)
    populations = tuple(_get(data, "city_populations", list, where))
    if not len(names) * 2 == len(codes) == len(populations) * 2:
        raise ValueError(f"{where}: city_names, city_countries and city_populations disagree")
    try:
        countries = tuple(by_code[codes[i : i + 2]] for i in range(0, len(codes), 2))
    except KeyError as e:
        raise ValueError(f"{where}: city_countries names an unknown country {e}") from e
    return names, countries, populations


def _check_codes(
    names: Mapping[str, int], ambiguous: Sequence[Sequence[int]], rows: int, where: str
) -> None:
    highest = max((c for codes in ambiguous for c in codes), default=0)
    highest = max(highest, max(names.values(), default=0))
    lowest = min(names.values(), default=0)
    if highest >> 2 >= rows or -1 - lowest >= len(ambiguous) > 0 or (lowest < 0 and not ambiguous):
        raise ValueError(f"{where}: a name's code points past the cities or the ambiguous list")


def _build(data: Mapping[str, Any], where: str) -> _Index:
    """The matchers for the JSON structure described in the module docstring."""
    by_code, countries = _countries(data, where)
    city_names, city_countries, populations = _cities(data, by_code, where)
    names: dict[str, int] = _get(data, "names", dict, where)
    ambiguous = tuple(tuple(c) for c in _get(data, "ambiguous", list, where))
    _check_codes(names, ambiguous, len(city_names), where)
    regions = frozenset(_get(data, "regions", list, where))
    prefixes: dict[str, set[int]] = {}
    for name in (*names, *regions):
        if _IS_CJK.match(name) and len(name) >= 2:
            prefixes.setdefault(name[:2], set()).add(len(name))
    firsts = "".join(sorted({p[0] for p in prefixes}))
    latin = [s for s in (*names, *regions) if not _IS_CJK.match(s)]
    latin_firsts = {m.group() for s in latin if (m := _FIRST_WORD.match(s)) and m.end() < len(s)}
    initials = {s[0].upper() for s in latin if s[0].isalpha() and len(s[0].upper()) == 1}
    letters = "".join(sorted(initials))
    initials_class = re.escape(letters)
    capitalized = (
        # The class first, the look-behind after it: the engine skips ahead by the class.
        re.compile(rf"[{initials_class}](?<![^\W_][{initials_class}]){_LETTERS}*")
        if letters
        else re.compile("(?!x)x")
    )
    return _Index(
        names=names,
        ambiguous=ambiguous,
        city_names=city_names,
        city_countries=city_countries,
        city_populations=populations,
        first_words=frozenset(latin_firsts),
        regions=regions,
        capitalized=capitalized,
        cjk_first=re.compile(f"[{re.escape(firsts)}]") if firsts else re.compile("(?!x)x"),
        cjk_prefixes={p: tuple(sorted(ls, reverse=True)) for p, ls in prefixes.items()},
        countries=countries,
        country_pattern=compile_terms(countries, lower=False),
    )


#: A gazetteer that knows no place.
EMPTY = orjson.dumps(
    {
        "countries": {},
        "city_names": [],
        "city_countries": "",
        "city_populations": [],
        "names": {},
        "ambiguous": [],
        "regions": [],
    }
)


class Gazetteer:
    """The gazetteer file's contents, compiled into matchers the first time a text is searched.

    Compiled, the tables take about 20 MB; the worker's main process loads the
    profile but leaves documents to its parse processes, so it should not pay
    for them. Pickled (to a parse process), it travels as the file's bytes.
    """

    __slots__ = ("_index", "_lock", "_source", "where")

    def __init__(self, source: bytes = EMPTY, *, where: str = "gazetteer") -> None:
        self._source = source
        self.where = where
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self._source, self.where))

    def index(self) -> _Index:
        """The compiled tables; raises ``ValueError`` naming the file when it is malformed."""
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    try:
                        data = orjson.loads(self._source)
                    except orjson.JSONDecodeError as e:
                        raise ValueError(f"{self.where}: not valid JSON: {e}") from e
                    if not isinstance(data, dict):
                        raise ValueError(f"{self.where}: must be a JSON object")
                    self._index = _build(data, self.where)
                index = self._index
        return index

    def find_cities(self, text: str) -> list[PlaceMention]:
        """Every city mention in ``text`` (its own name or a part's), in order of appearance."""
        return self.index().find_cities(text)

    def find_countries(self, text: str) -> list[PlaceMention]:
        """Every country mention in ``text``, in order of appearance."""
        return self.index().find_countries(text)

    def city_names(self) -> CityNames:
        """Casefolded name -> English name of the city, for any name of a city."""
        return CityNames(self.index())

    def country_names(self) -> dict[str, str]:
        """Casefolded name -> English name of the country, for any name of a country."""
        return {name.casefold(): c.name for name, c in self.index().countries.items()}


def _restore(source: bytes, where: str) -> Gazetteer:
    return Gazetteer(source, where=where)


def parse_gazetteer(source: bytes | Mapping[str, Any], *, where: str = "gazetteer") -> Gazetteer:
    """A gazetteer over the file's bytes (or its parsed JSON), compiled when first searched."""
    if not isinstance(source, bytes):
        source = orjson.dumps(source)
    if not source.lstrip()[:1] == b"{":
        raise ValueError(f"{where}: not a gazetteer (a JSON object is expected)")
    return Gazetteer(source, where=where)
