"""The plain records that travel through the pipeline, stage to stage.

Every record is a frozen dataclass: a stage takes one and returns a new one,
never mutates what an earlier stage produced.

    Entry (a source read it) -> Document (normalize) -> Relevance (relevance)
    -> EventFacts (extract) -> Item (all of it, ready for dedup and the store)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Entry:
    """One raw document or feed entry, as its source read it (HTML from a feed is sanitized)."""

    #: The source's key: ``seed:<path relative to the seed folder>`` or the feed URL.
    source: str
    #: The entry's own identifier, if the source gives one (RSS guid, Atom id).
    guid: str | None
    #: The entry's link as published (not yet canonical).
    link: str | None
    #: The title as published; ``None`` for documents without a title line.
    title: str | None
    #: The body, HTML or plain text as ``content_type`` says.
    content: str
    #: ``"text/html"`` or ``"text/plain"``.
    content_type: str = "text/plain"
    #: A short summary the source gave separately from the body, if any.
    summary: str | None = None
    #: Publication time (timezone-aware, UTC) as the source states it.
    published: datetime | None = None
    #: Language the source declares (``xml:lang``, ``<language>``), if any.
    language: str | None = None
    #: ``content`` is HTML that nh3 cleaned already (feed entries): not cleaned again.
    sanitized: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """An entry after normalization: clean text, canonical link, language known."""

    source: str
    guid: str | None
    #: Canonical link: tracking parameters and fragment removed.
    link: str | None
    #: Title; derived from the first sentence when the entry had none.
    title: str
    #: Plain text of the body, debris removed, whitespace and punctuation folded.
    text: str
    #: Sanitized HTML fit for republishing (escaped text when the source was plain text).
    html: str
    summary: str
    #: Publication time: the source's, else the date hint found in the text, else None.
    published: datetime | None
    #: ``"zh"``, ``"en"`` or ``"mixed"``.
    lang: str
    #: A date fragment found in page debris (e.g. "04 / 06月"), kept as a hint.
    date_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Relevance:
    """How well a document matches the topic profile, and why."""

    relevant: bool
    score: float
    #: Human-readable reasons, e.g. ``"topic:smart manufacturing@title(+3.0)"``.
    reasons: tuple[str, ...] = ()
    #: Topic labels from the profile that matched.
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The facts of one event, as far as the text states them."""

    title: str | None = None
    start: date | None = None
    end: date | None = None
    city: str | None = None
    country: str | None = None
    venue: str | None = None
    organizers: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "city": self.city,
            "country": self.country,
            "venue": self.venue,
            "organizers": list(self.organizers),
            "participants": list(self.participants),
            "topics": list(self.topics),
        }


@dataclass(frozen=True, slots=True)
class Item:
    """A fully processed entry: what the store keeps and the sinks publish."""

    #: Identity of the entry within its source (see ``pipeline.dedup.entry_key``).
    key: str
    doc: Document
    relevance: Relevance
    event: EventFacts
    #: Hash of the normalized content; a change means the item must be updated.
    content_hash: str
    extra: dict[str, Any] = field(default_factory=dict)
    #: Hash of the raw entry it was made from (``pipeline.raw_hash``): an entry read again
    #: with the same key and raw hash would make the same item, so it is not processed.
    raw_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        """The item as ``worker inspect`` prints it and webhooks carry it."""
        return {
            "title": self.doc.title,
            "link": self.doc.link,
            "lang": self.doc.lang,
            "published": self.doc.published.isoformat() if self.doc.published else None,
            "source": self.doc.source,
            "summary": self.doc.summary,
            "relevant": self.relevance.relevant,
            "score": round(self.relevance.score, 3),
            "reasons": list(self.relevance.reasons),
            "event": self.event.to_json(),
        }


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the store holds it: its stable id and its own timestamps."""

    #: Stable forever: the id the feeds and webhooks carry.
    id: str
    #: When the worker first stored it (a feed's ``published``).
    first_seen: datetime
    #: When what a reader sees last changed (a feed's ``updated``).
    updated: datetime
    #: The primary report of the event (the first one seen).
    item: Item
    #: Links of the further reports of the same event (other sources, other languages).
    related: tuple[str, ...] = ()


def item_to_dict(item: Item) -> dict[str, Any]:
    """Everything in ``item``, as JSON-ready data (the store keeps it so it can rescore)."""
    doc = item.doc
    return {
        "key": item.key,
        "content_hash": item.content_hash,
        "doc": {
            "source": doc.source,
            "guid": doc.guid,
            "link": doc.link,
            "title": doc.title,
            "text": doc.text,
            "html": doc.html,
            "summary": doc.summary,
            "published": doc.published.isoformat() if doc.published else None,
            "lang": doc.lang,
            "date_hint": doc.date_hint,
        },
        "relevance": {
            "relevant": item.relevance.relevant,
            "score": item.relevance.score,
            "reasons": list(item.relevance.reasons),
            "topics": list(item.relevance.topics),
        },
        "event": item.event.to_json(),
        "extra": item.extra,
    }


def item_from_dict(data: dict[str, Any]) -> Item:
    """The inverse of ``item_to_dict``."""
    d = data["doc"]
    r = data["relevance"]
    e = data["event"]
    return Item(
        key=data["key"],
        content_hash=data["content_hash"],
        doc=Document(
            source=d["source"],
            guid=d["guid"],
            link=d["link"],
            title=d["title"],
            text=d["text"],
            html=d["html"],
            summary=d["summary"],
            published=datetime.fromisoformat(d["published"]) if d["published"] else None,
            lang=d["lang"],
            date_hint=d.get("date_hint"),
        ),
        relevance=Relevance(
            relevant=r["relevant"],
            score=r["score"],
            reasons=tuple(r["reasons"]),
            topics=tuple(r["topics"]),
        ),
        event=EventFacts(
            title=e["title"],
            start=date.fromisoformat(e["start"]) if e["start"] else None,
            end=date.fromisoformat(e["end"]) if e["end"] else None,
            city=e["city"],
            country=e["country"],
            venue=e["venue"],
            organizers=tuple(e["organizers"]),
            participants=tuple(e["participants"]),
            topics=tuple(e["topics"]),
        ),
        extra=dict(data.get("extra") or {}),
    )
