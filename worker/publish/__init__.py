"""The feed sink: render the newest relevant items and write the files that changed.

``render_all`` is pure: the same snapshot gives the same bytes, so an
unchanged store leaves every file (and its ETag) as it was. ``write_all`` is
the only step that touches the disk.

Files, under the output folder (served at ``/feeds/…``, the page at ``/``)::

    atom.xml rss.xml feed.json events.ics     every language
    zh/…  en/…                                one language each (mixed documents in both)
    index.html                                the page people land on
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.calendar import render_ics
from worker.publish.files import write_if_changed
from worker.publish.index import render_index
from worker.publish.jsonfeed import render_json
from worker.publish.syndication import FeedMeta, feed_url, render_atom, render_rss
from worker.publish.websub import PingResult, ping_hub

log = logging.getLogger("worker.publish")

#: The language variants: folder, BCP 47 tag, the title's suffix.
LANGUAGES: tuple[tuple[str, str], ...] = (("zh", "中文"), ("en", "English"))
#: The pipeline's languages each variant carries: a mixed document belongs to both.
VARIANT_LANGS: Mapping[str, tuple[str, ...]] = {"zh": ("zh", "mixed"), "en": ("en", "mixed")}
#: The files every variant has; the server picks their content types by name.
FEED_FILES = ("atom.xml", "rss.xml", "feed.json", "events.ics")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one publish renders, read from the store in one go; pure data."""

    #: The newest entries of every language, newest first (the feed window). A language
    #: variant carries the entries of its language from this window.
    window: tuple[StoredItem, ...]
    #: The day the page splits its "upcoming" and "recent" lists on; the page (only)
    #: changes when an event moves from one to the other.
    today: date | None = None

    @property
    def as_of(self) -> datetime | None:
        """When the published entries last changed: an empty feed's ``updated``."""
        if self.window:
            return max(s.updated for s in self.window)
        if self.today:
            return datetime(self.today.year, self.today.month, self.today.day, tzinfo=UTC)
        return None


def variants(settings: PublishSettings) -> list[FeedMeta]:
    main = FeedMeta(prefix="", language=None, title=settings.title)
    return [main] + [
        FeedMeta(prefix=f"{lang}/", language=lang, title=f"{settings.title} · {label}")
        for lang, label in LANGUAGES
    ]


def _in_variant(stored: StoredItem, meta: FeedMeta) -> bool:
    return meta.language is None or stored.item.doc.lang in VARIANT_LANGS[meta.language]


def render_all(
    snapshot: Snapshot | Sequence[StoredItem], settings: PublishSettings
) -> dict[str, bytes]:
    """Every published file, by its path under the output folder."""
    if not isinstance(snapshot, Snapshot):
        snapshot = Snapshot(window=tuple(snapshot))
    outputs: dict[str, bytes] = {}
    events: dict[str, bytes] = {}
    for meta in variants(settings):
        meta = dataclasses.replace(meta, as_of=snapshot.as_of)
        entries = [s for s in snapshot.window if _in_variant(s, meta)]
        p = meta.prefix
        outputs[p + "atom.xml"] = render_atom(entries, settings, meta)
        outputs[p + "rss.xml"] = render_rss(entries, settings, meta)
        outputs[p + "feed.json"] = render_json(entries, settings, meta)
        outputs[p + "events.ics"] = render_ics(
            entries, settings, name=meta.title, language=meta.language, cache=events
        )
    outputs["index.html"] = render_index(snapshot.window, settings, today=snapshot.today)
    return outputs


def changed_feed_urls(written: Sequence[str], settings: PublishSettings) -> list[str]:
    """The public URLs of the syndication feeds among the files just written."""
    changed = set(written)
    return [
        feed_url(settings, meta, name)
        for meta in variants(settings)
        for name in FEED_FILES[:3]
        if meta.prefix + name in changed
    ]


def notify_hub(written: Sequence[str], settings: PublishSettings) -> list[PingResult]:
    """After a publish that changed feeds, ping the WebSub hub; failures are logged, not raised."""
    urls = changed_feed_urls(written, settings)
    if not settings.hub or not urls:
        return []
    results = ping_hub(settings.hub, urls, timeout=settings.hub_timeout)
    for r in results:
        level = logging.INFO if r.ok else logging.WARNING
        log.log(
            level,
            "websub hub=%s feed=%s status=%s error=%s",
            settings.hub,
            r.feed_url,
            r.status,
            r.error,
        )
    return results


def write_all(outputs: dict[str, bytes], folder: Path) -> list[str]:
    """Write each output atomically if it changed; return the names written."""
    return [name for name, data in outputs.items() if write_if_changed(folder / name, data)]
