"""One event's own page (``/events/<id>``): every fact, every source, add to calendar.

Rendered on request from the store (``server.views``); Jinja2 escapes every
value, and links are the safe ones only (``publish.entries.sources``).
"""

from __future__ import annotations

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.index import _ENV, row


def render_event_page(stored: StoredItem, settings: PublishSettings) -> bytes:
    r = row(stored, settings)
    html = _ENV.get_template("event.html.j2").render(
        r=r,
        lang=r.lang,
        site=settings.title,
        participants=stored.item.event.participants,
        summary=stored.item.doc.summary,
    )
    return html.encode("utf-8")
