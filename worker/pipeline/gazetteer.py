"""Place names: which city (and country) a text mentions, in English or Chinese.

The names are data (``data/gazetteer.json``), not code: English canonical
names with Chinese and English aliases, e.g. 北京 / 北京市 / Peking -> Beijing,
China. :func:`parse_gazetteer` turns that data into one compiled matcher;
``profile.load_profile`` reads the file, so this module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from worker.pipeline.terms import TermMatcher, compile_terms


@dataclass(frozen=True, slots=True)
class Place:
    """A canonical place: English name and country ("" for a country itself)."""

    name: str
    country: str


@dataclass(frozen=True, slots=True)
class PlaceMention:
    place: Place
    begin: int
    end: int
    #: The text as written ("北京", "Peking").
    surface: str


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """City and country names compiled into one pattern each."""

    cities: dict[str, Place] = field(default_factory=dict)
    countries: dict[str, Place] = field(default_factory=dict)
    city_pattern: TermMatcher = field(default_factory=lambda: compile_terms(()))
    country_pattern: TermMatcher = field(default_factory=lambda: compile_terms(()))

    def find_cities(self, text: str) -> list[PlaceMention]:
        """Every city mention in ``text``, in order of appearance."""
        return _find(self.city_pattern, self.cities, text)

    def find_countries(self, text: str) -> list[PlaceMention]:
        return _find(self.country_pattern, self.countries, text)


def _find(pattern: TermMatcher, names: dict[str, Place], text: str) -> list[PlaceMention]:
    return [
        PlaceMention(names[m.group().lower()], m.start(), m.end(), m.group())
        for m in pattern.finditer(text)
    ]


def _written_forms(names: dict[str, str]) -> list[str]:
    """Names as written in text: "Beijing" and "BEIJING" (datelines), never "beijing".

    Matching case-sensitively lets the engine skip every position that does not
    start with a capital letter or a CJK character, which is most of an English page.
    """
    forms: list[str] = []
    for written in names.values():
        forms.append(written)
        if written.isascii():
            forms.append(written.upper())
    return forms


def _names(entry: dict[str, Any], where: str) -> list[str]:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: every entry needs a non-empty 'name'")
    aliases = [*entry.get("zh", []), *entry.get("en", [])]
    if not all(isinstance(a, str) for a in aliases):
        raise ValueError(f"{where}: 'zh' and 'en' of {name!r} must be lists of strings")
    return [name, *aliases]


def parse_gazetteer(data: dict[str, Any], *, where: str = "gazetteer") -> Gazetteer:
    """Build the matcher from the JSON structure ``{"cities": [...], "countries": [...]}``."""
    cities: dict[str, Place] = {}
    city_forms: dict[str, str] = {}
    for entry in data.get("cities", []):
        place = Place(entry.get("name", ""), entry.get("country", ""))
        for alias in _names(entry, f"{where}: cities"):
            cities.setdefault(alias.lower(), place)
            city_forms.setdefault(alias.lower(), alias)
    countries: dict[str, Place] = {}
    country_forms: dict[str, str] = {}
    for entry in data.get("countries", []):
        place = Place(entry.get("name", ""), "")
        for alias in _names(entry, f"{where}: countries"):
            countries.setdefault(alias.lower(), place)
            country_forms.setdefault(alias.lower(), alias)
    return Gazetteer(
        cities,
        countries,
        compile_terms(_written_forms(city_forms), lower=False),
        compile_terms(_written_forms(country_forms), lower=False),
    )
