"""Which published entries a filtered view shows: an in-memory index of their facets.

Built from ``Store.published_facets`` (no text or HTML is read) and rebuilt
when the store's published entries change. A selection is array arithmetic
over every entry for the facts (language, place, topics, dates), then a scan
of the remaining candidates for the words (organizer, ``q``), newest first.
Pure: the rows come in, entry ids go out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from worker.publish.filters import FeedFilter, fold
from worker.store.published import EntryFacets

#: Language codes in the index; a mixed entry belongs to both variants.
LANG_CODES = {"zh": 0, "en": 1, "mixed": 2}
NO_DATE = -1


class Catalog:
    """Every published entry's facets, newest first."""

    def __init__(self, facets: Iterable[EntryFacets]) -> None:
        rows = sorted(facets, key=lambda f: (-f.first_seen.timestamp(), f.id))
        self.ids = [f.id for f in rows]
        self.newest = max((f.updated for f in rows), default=None)
        self._lang = np.array([LANG_CODES.get(f.lang, 3) for f in rows], dtype=np.int8)
        self._city_codes: dict[str, int] = {}
        self._city = np.array([self._code(self._city_codes, f.city) for f in rows], np.int32)
        self._country_codes: dict[str, int] = {}
        self._country = np.array(
            [self._code(self._country_codes, f.country) for f in rows], np.int32
        )
        self._start = np.array([_ordinal(f.start) for f in rows], dtype=np.int32)
        self._last = np.array([_ordinal(_last_day(f)) for f in rows], dtype=np.int32)
        self._topics: dict[str, list[int]] = {}
        for n, f in enumerate(rows):
            for topic in f.topics:
                self._topics.setdefault(fold(topic), []).append(n)
        self._organizers = [fold("\n".join(f.organizers)) for f in rows]
        self._text = [fold(f.title + "\n" + f.summary) for f in rows]
        #: Topic labels as entries carry them, most used first: the page's topic menu.
        self.topics = sorted(
            {t for f in rows for t in f.topics}, key=lambda t: (-len(self._topics[fold(t)]), t)
        )

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def _code(codes: dict[str, int], value: str | None) -> int:
        return -1 if value is None else codes.setdefault(value, len(codes))

    def select(self, f: FeedFilter, *, today: date, limit: int) -> list[str]:
        """The ids of the newest ``limit`` entries the filter matches."""
        mask = np.ones(len(self.ids), dtype=bool)
        if f.lang is not None:
            mask &= (self._lang == LANG_CODES[f.lang]) | (self._lang == LANG_CODES["mixed"])
        for cities in (f.cities, f.province_cities):
            if cities:
                codes = [self._city_codes[c] for c in cities if c in self._city_codes]
                mask &= np.isin(self._city, codes)
        if f.country is not None:
            mask &= self._country == self._country_codes.get(f.country, -2)
        if f.topics:
            chosen = np.zeros(len(self.ids), dtype=bool)
            for topic in f.topics:
                chosen[self._topics.get(topic, [])] = True
            mask &= chosen
        mask &= self._date_mask(f, today)
        return self._words(np.flatnonzero(mask).tolist(), f, limit)

    def _date_mask(self, f: FeedFilter, today: date) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if not f.dated:
            return mask
        mask &= self._start != NO_DATE
        if f.upcoming:
            mask &= self._last >= today.toordinal()
        if f.past:
            mask &= self._last < today.toordinal()
        since, until = f.date_range()
        if since is not None:
            mask &= self._last >= since.toordinal()
        if until is not None:
            mask &= self._start <= until.toordinal()
        return mask

    def _words(self, candidates: Sequence[int], f: FeedFilter, limit: int) -> list[str]:
        chosen: list[str] = []
        for n in candidates:
            if f.organizer and f.organizer not in self._organizers[n]:
                continue
            if f.words and not all(word in self._text[n] for word in f.words):
                continue
            chosen.append(self.ids[n])
            if len(chosen) == limit:
                break
        return chosen


def _last_day(f: EntryFacets) -> date | None:
    if f.start is None:
        return None
    return max(f.start, f.end or f.start)


def _ordinal(day: date | None) -> int:
    return NO_DATE if day is None else day.toordinal()
