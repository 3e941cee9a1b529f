"""The event's place: city, country and venue of the event a Document reports.

A labelled venue line ("地点：…", "Venue: …") wins; otherwise each city the
gazetteer finds in the lead is scored by the words around it (after "in" /
"在", in the title: the event's; inside an organizer's name or before
"-based": not).

Pure: the profile carries the gazetteer; no I/O.
"""

from __future__ import annotations

import re

from worker.model import Document
from worker.pipeline.gazetteer import PlaceMention
from worker.pipeline.profile import Profile

#: Places are searched in the lead (title and the first this many characters).
LEAD_CHARS = 1500

#: Words near a place that mark it as the event's location.
_PLACE_BEFORE_CUES = re.compile(
    r"(?:\bin|\bat|held in|hosted in|venue|location|place|city|地点|地址|在|于|赴|来到|走进|落地)"
    r"\s*[:：]?\s*(?:the\s+)?$",
    re.IGNORECASE,
)
#: A capitalized word right after an English place name makes the name part of a
#: longer one: "Nanyang Drive", "Nanyang Technological University", "Detroit Regional".
_PART_OF_NAME = re.compile(r" (?!Province|City|Municipality)[A-Z][a-z]")
_PLACE_AFTER_CUES = re.compile(r"^\s*(?:市)?(?:举办|举行|召开|开班|开幕|开课|成功举办|顺利举办|站)")
#: Labelled venue: "地点：…", "Venue: …". Found from the colon backwards: colons
#: are few, and a pattern starting with the labels tries every "l" and "p".
_VENUE_LABELS = ("地点", "venue", "location", "place")
_COLON = re.compile(r"[:：]")
_VENUE_VALUE = re.compile(r"\s*([^\n。;；]{3,80})")
_VENUE_NOUNS_EN = (
    r"Hotel|Center|Centre|Hall|Campus|Building|Tower|Plaza|Auditorium|Convention Center|"
    r"Conference Center|Park|Institute|University|Academy|Exhibition Center|Resort"
)
_VENUE_EN = re.compile(
    rf"at(?<!\wat)\s+(?:the\s+)?((?:[A-Z0-9][\w'’&.\-]*\s+(?:(?:of|for|and|the|&)\s+)*){{0,7}}(?:{_VENUE_NOUNS_EN}))\b"
)
_VENUE_ZH = re.compile(
    r"(?:在|于)([^，,。；;在于\n]{2,30}?(?:酒店|宾馆|饭店|会议中心|国际会议中心|大厦|会堂|报告厅|"
    r"会议室|培训中心|学院|大学|基地|园区|展览馆|中心|校区|礼堂|实训室))"
)


def _place_score(
    mention: PlaceMention, text: str, title_len: int, organizers: tuple[str, ...]
) -> float:
    before = text[max(0, mention.begin - 12) : mention.begin]
    after = text[mention.end : mention.end + 8]
    points = 1.0
    if _PLACE_BEFORE_CUES.search(before) or _PLACE_AFTER_CUES.search(after):
        points += 3.0
    if mention.begin < title_len:
        points += 1.0
    if any(mention.surface in org for org in organizers):
        points -= 2.5
    if re.match(r"^[-\s]?(?:based|headquartered)", after):
        points -= 2.0
    if _in_longer_name(mention, text):
        points -= 2.0
    return points


def _in_longer_name(mention: PlaceMention, text: str) -> bool:
    return mention.surface.isascii() and _PART_OF_NAME.match(text, mention.end) is not None


def event_place(
    doc: Document, profile: Profile, organizers: tuple[str, ...]
) -> tuple[str | None, str | None, str | None]:
    """(city, country, venue): the venue line wins, then a city after "in" / "在"."""
    venue = _venue(doc.text)
    gaz = profile.gazetteer
    if venue:
        in_venue = gaz.find_cities(venue)
        if in_venue:
            # "73 Nanyang Drive, Singapore": a street or building named after a city is not it.
            best = next((m for m in in_venue if not _in_longer_name(m, venue)), in_venue[0])
            return best.place.name, best.place.country, venue
    text = f"{doc.title}\n{doc.text[:LEAD_CHARS]}"
    mentions = gaz.find_cities(text)
    if mentions:
        scored = [
            (_place_score(m, text, len(doc.title), organizers), -i, m)
            for i, m in enumerate(mentions)
        ]
        points, _, best = max(scored, key=lambda x: (x[0], x[1]))
        if points > 0:
            return best.place.name, best.place.country, venue
    for mention in gaz.find_countries(text):
        before = text[max(0, mention.begin - 12) : mention.begin]
        if _PLACE_BEFORE_CUES.search(before):
            return None, mention.place.name, venue
    return None, None, venue


def _venue_label(text: str) -> re.Match[str] | None:
    for colon in _COLON.finditer(text):
        label = text[max(0, colon.start() - 10) : colon.start()].rstrip().lower()
        if label.endswith(_VENUE_LABELS):
            return _VENUE_VALUE.match(text, colon.end())
    return None


def _venue(text: str) -> str | None:
    for pattern in (_venue_label, _VENUE_ZH.search, _VENUE_EN.search):
        match = pattern(text)
        if match:
            return match.group(1).strip(" ,，.")
    return None
