"""What a published entry says: its HTML body with the event's facts, its categories.

Pure functions shared by every output format.
"""

from __future__ import annotations

from html import escape

from worker.model import EventFacts, StoredItem


def entry_link(stored: StoredItem, base_url: str) -> str:
    """The entry's own link, or its anchor on the index page when the source had none."""
    return stored.item.doc.link or f"{base_url.rstrip('/')}/#item-{stored.id}"


def date_range(event: EventFacts) -> str | None:
    if event.start is None:
        return None
    if event.end is None or event.end == event.start:
        return event.start.isoformat()
    return f"{event.start.isoformat()} – {event.end.isoformat()}"


def place(event: EventFacts) -> str | None:
    parts = [p for p in (event.venue, event.city, event.country) if p]
    return ", ".join(dict.fromkeys(parts)) or None


def facts_html(event: EventFacts) -> str:
    """The event's facts as a small definition list, escaped."""
    rows = [
        ("When", date_range(event)),
        ("Where", place(event)),
        ("Organizers", "; ".join(event.organizers) or None),
        ("Participants", "; ".join(event.participants) or None),
        ("Topics", ", ".join(event.topics) or None),
    ]
    body = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows if value
    )
    return f'<dl class="event">{body}</dl>' if body else ""


def content_html(stored: StoredItem) -> str:
    """Facts first (what a reader scans for), then the sanitized article."""
    return facts_html(stored.item.event) + stored.item.doc.html


def categories(stored: StoredItem) -> list[str]:
    return list(dict.fromkeys(stored.item.event.topics or stored.item.relevance.topics))
