"""Filtered views: the query parameters a subscriber narrows a feed or the page with.

``parse_filter`` turns a query string into a ``FeedFilter`` or raises
``FilterError`` with a one-line reason (the server answers 400 with it).
``FeedFilter.query`` is the filter's normal form: the same view however the
parameters were written, so it keys the cache and makes the feed's self link.
Pure: the place names come in as data, nothing here reads the store.

    lang=zh|en            an entry in that language (a mixed one is in both)
    city=… (repeatable)   the event's city, English or Chinese name
    province=…            a Chinese province: any of its cities
    country=…             the event's country
    topic=… (repeatable)  any of these topics
    organizer=…           words in an organizer's name
    q=…                   every word in the title or the summary
    upcoming=1            events not yet over
    past=1                events already over
    month=YYYY-MM         events that overlap this month
    since=, until=        events that overlap these dates (YYYY-MM-DD)
    limit=N               at most N entries (1 to the feed window)

An empty value counts as absent (a form submits its empty fields).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from urllib.parse import parse_qsl, urlencode

from worker.pipeline.gazetteer import parse_gazetteer

#: Parameters that may be given more than once (any of the values matches).
REPEATABLE = frozenset({"city", "topic"})
KNOWN = ("lang", "city", "province", "country", "topic", "organizer", "q", "upcoming",
         "past", "month", "since", "until", "limit")  # fmt: skip
LANGS = ("zh", "en")
#: The longest value a parameter may have; longer is not a filter but an attack.
MAX_VALUE = 200


class FilterError(ValueError):
    """A bad query: the message is the one line the client gets."""


@dataclass(frozen=True, slots=True)
class Places:
    """Place names the filters accept: folded name -> canonical name."""

    cities: Mapping[str, str] = field(default_factory=dict)
    countries: Mapping[str, str] = field(default_factory=dict)
    #: folded province name -> (its English name, its cities' canonical names)
    provinces: Mapping[str, tuple[str, frozenset[str]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FeedFilter:
    lang: str | None = None
    cities: frozenset[str] = frozenset()
    province: str | None = None
    #: The province's cities (canonical names); empty without a province.
    province_cities: frozenset[str] = frozenset()
    country: str | None = None
    topics: frozenset[str] = frozenset()
    organizer: str | None = None
    words: tuple[str, ...] = ()
    upcoming: bool = False
    past: bool = False
    #: ``YYYY-MM``; it narrows ``since``/``until`` (``month_range``) when the view is read.
    month: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int | None = None

    @property
    def query(self) -> str:
        """The normal form: parameters sorted, values canonical (``city=Beijing&lang=zh``)."""
        pairs: list[tuple[str, str]] = []
        pairs += [("city", c) for c in sorted(self.cities)]
        pairs += [("country", self.country)] if self.country else []
        pairs += [("lang", self.lang)] if self.lang else []
        pairs += [("limit", str(self.limit))] if self.limit else []
        pairs += [("month", self.month)] if self.month else []
        pairs += [("organizer", self.organizer)] if self.organizer else []
        pairs += [("past", "1")] if self.past else []
        pairs += [("province", self.province)] if self.province else []
        pairs += [("q", " ".join(self.words))] if self.words else []
        pairs += [("since", self.since.isoformat())] if self.since else []
        pairs += [("topic", t) for t in sorted(self.topics)]
        pairs += [("until", self.until.isoformat())] if self.until else []
        pairs += [("upcoming", "1")] if self.upcoming else []
        return urlencode(pairs)

    @property
    def dated(self) -> bool:
        """Whether the filter asks about event dates (undated entries never match)."""
        return (
            self.upcoming
            or self.past
            or self.month is not None
            or (self.since is not None or self.until is not None)
        )

    def date_range(self) -> tuple[date | None, date | None]:
        """The dates events must overlap: ``since``/``until`` narrowed by ``month``."""
        since, until = self.since, self.until
        if self.month:
            first, last = month_range(self.month)
            since = max(since or first, first)
            until = min(until or last, last)
        return since, until


def month_range(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def fold(text: str) -> str:
    """Case- and width-insensitive form for matching (NFKC, casefold)."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def parse_filter(query: str, *, places: Places, window: int) -> FeedFilter:
    """The filter a query string asks for; ``FilterError`` names the first bad parameter."""
    values: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=50)  # fmt: skip
    except ValueError as e:
        raise FilterError(f"bad query: {e}") from e
    for name, value in pairs:
        if name not in KNOWN:
            raise FilterError(f"unknown parameter {name!r} (known: {', '.join(KNOWN)})")
        if len(value) > MAX_VALUE:
            raise FilterError(f"{name}: longer than {MAX_VALUE} characters")
        if value.strip():
            values.setdefault(name, []).append(value.strip())
    for name, given in values.items():
        if len(given) > 1 and name not in REPEATABLE:
            raise FilterError(f"{name}: given more than once")

    def one(name: str) -> str | None:
        return values.get(name, [None])[0]

    lang = one("lang")
    if lang is not None and lang not in LANGS:
        raise FilterError(f"lang: must be one of {', '.join(LANGS)}, not {lang!r}")
    province, province_cities = _province(one("province"), places)
    since, until = _date("since", one("since")), _date("until", one("until"))
    if since and until and since > until:
        raise FilterError("since: later than until")
    return FeedFilter(
        lang=lang,
        cities=frozenset(_known("city", c, places.cities) for c in values.get("city", [])),
        province=province,
        province_cities=province_cities,
        country=_known("country", one("country"), places.countries) if one("country") else None,
        topics=frozenset(fold(t) for t in values.get("topic", [])),
        organizer=fold(one("organizer") or "") or None,
        words=tuple(dict.fromkeys(fold(one("q") or "").split())),
        upcoming=_flag("upcoming", one("upcoming")),
        past=_flag("past", one("past")),
        month=_month(one("month")),
        since=since,
        until=until,
        limit=_limit(one("limit"), window),
    )


def _known(name: str, value: str | None, names: Mapping[str, str]) -> str:
    canonical = names.get(fold(value or ""))
    if canonical is None:
        raise FilterError(f"{name}: unknown {name} {value!r}")
    return canonical


def _province(value: str | None, places: Places) -> tuple[str | None, frozenset[str]]:
    if value is None:
        return None, frozenset()
    found = places.provinces.get(fold(value))
    if found is None:
        raise FilterError(f"province: unknown province {value!r}")
    return found


def _date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}: not a date YYYY-MM-DD: {value!r}") from None


def _month(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        month_range(value)
    except ValueError:
        raise FilterError(f"month: not a month YYYY-MM: {value!r}") from None
    return value


def _flag(name: str, value: str | None) -> bool:
    if value in (None, "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise FilterError(f"{name}: must be 1 or 0, not {value!r}")


def _limit(value: str | None, window: int) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= window:
        raise FilterError(f"limit: must be a whole number from 1 to {window}, not {value!r}")
    return int(value)


@cache
def default_places() -> Places:
    """The gazetteer's cities and countries and the Chinese provinces (package data)."""
    gazetteer = parse_gazetteer(
        resources.files("worker.pipeline").joinpath("data/gazetteer.json").read_bytes()
    )
    provinces = json.loads(
        resources.files("worker.publish").joinpath("data/provinces.json").read_text("utf-8")
    )

    by_province: dict[str, tuple[str, frozenset[str]]] = {}
    for province in provinces["provinces"]:
        value = (province["name"], frozenset(province["cities"]))
        for alias in [province["name"], *province["zh"]]:
            by_province[fold(alias)] = value
    return Places(
        cities=gazetteer.city_names(),
        countries=gazetteer.country_names(),
        provinces=by_province,
    )
