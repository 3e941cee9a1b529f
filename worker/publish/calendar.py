"""The iCalendar file (RFC 5545) that calendar apps subscribe to, with the ``icalendar`` package.

One VEVENT per event that has a start date; an item without one is a report
with no date to put on a calendar, and is left out. Deterministic: DTSTAMP is
the entry's ``updated`` (RFC 5545 §3.8.7.2: without a METHOD property, DTSTAMP
is when the information was last revised), never the time of publishing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vDuration

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.entries import categories, entry_link, entry_title, place, sources

PRODID = "-//smartmfg-events-worker//Events feed//EN"
#: How often a calendar app should fetch the file again (RFC 7986 §5.7 REFRESH-INTERVAL,
#: and Outlook's X-PUBLISHED-TTL). Events are announced weeks ahead; an hour is plenty.
REFRESH = timedelta(hours=1)
ONE_DAY = timedelta(days=1)
END_CALENDAR = b"END:VCALENDAR\r\n"


def event_uid(stored: StoredItem, settings: PublishSettings) -> str:
    """Globally unique and stable forever: the entry id at the publisher's host (§3.8.4.7)."""
    host = urlsplit(settings.base_url).hostname or "localhost"
    return f"{stored.id}@{host}"


def build_event(stored: StoredItem, settings: PublishSettings) -> Event | None:
    facts = stored.item.event
    if facts.start is None:
        return None
    end = facts.end if facts.end and facts.end >= facts.start else facts.start
    event = Event()
    event.add("uid", event_uid(stored, settings))
    event.add("dtstamp", stored.updated)
    event.add("created", stored.first_seen)
    event.add("last-modified", stored.updated)
    event.add("summary", entry_title(stored))
    # All-day: DATE values, and DTEND is exclusive (§3.6.1), so the day after the last day.
    event.add("dtstart", facts.start)
    event.add("dtend", end + ONE_DAY)
    event.add("transp", "TRANSPARENT")
    where = place(facts)
    if where:
        event.add("location", where)
    link = entry_link(stored, settings.base_url)
    event.add("url", link)
    event.add("description", _description(stored, link))
    # No ORGANIZER: it is a cal-address (§3.8.4.3) that calendar apps mail or show as a
    # person to reply to, and we know the organizers' names, not their addresses. The
    # names are in the DESCRIPTION.
    terms = categories(stored)
    if terms:
        event.add("categories", terms)
    return event


def _description(stored: StoredItem, link: str) -> str:
    facts = stored.item.event
    lines = [stored.item.doc.summary or entry_title(stored)]
    if facts.organizers:
        lines.append("Organizers: " + "; ".join(facts.organizers))
    if facts.participants:
        lines.append("Participants: " + "; ".join(facts.participants))
    lines.append("Sources:")
    lines.extend(sources(stored) or [link])
    return "\n".join(lines)


def render_ics(
    stored: Iterable[StoredItem],
    settings: PublishSettings,
    *,
    name: str,
    language: str | None,
    cache: dict[str, bytes] | None = None,
) -> bytes:
    """The calendar; ``cache`` (``event_key`` -> VEVENT bytes) lets the language variants
    of one publish, and the server's filtered calendars, share each event's
    serialization, the costly part (a few ms an event)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("description", settings.subtitle)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    if language:
        cal.add("x-wr-language", language)
    cache = {} if cache is None else cache
    blocks = []
    for s in _soonest_first(stored):
        key = event_key(s)
        if key not in cache:
            event = build_event(s, settings)
            cache[key] = bytes(event.to_ical()) if event is not None else b""
        blocks.append(cache[key])
    head = bytes(cal.to_ical())
    # The VEVENT blocks go inside the VCALENDAR, before its END line (RFC 5545 §3.4).
    assert head.endswith(END_CALENDAR)
    return head[: -len(END_CALENDAR)] + b"".join(blocks) + END_CALENDAR


def event_key(stored: StoredItem) -> str:
    """What a VEVENT's bytes depend on besides the settings: the entry and its last change."""
    return f"{stored.id}@{stored.updated.isoformat()}"


def _soonest_first(stored: Iterable[StoredItem]) -> list[StoredItem]:
    unique = {s.id: s for s in stored}
    return sorted(
        (s for s in unique.values() if s.item.event.start),
        key=lambda s: (s.item.event.start, s.id),
    )
