"""The worker's jobs, wired to the pipeline: ingest seeds, ingest feeds, publish.

Each job is one method that runs to completion and returns what it did, so the
scheduler (``scheduler.py``), ``worker once`` and the tests drive the same code.
One log line per source per cycle: ``source=… status=ok|not_modified|unchanged|error``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from worker.config import Settings
from worker.logs import log_fields
from worker.model import Entry
from worker.pipeline import process
from worker.pipeline.profile import Profile, load_profile
from worker.publish import render_all, write_all
from worker.sources import seeds
from worker.sources.feeds import fetch, make_client
from worker.sources.parse import parse_feed
from worker.store import Store, connect, migrate

log = logging.getLogger("worker")

Clock = Callable[[], datetime]
DEFAULT_PROFILE = Path(__file__).parent / "pipeline" / "data" / "profile.toml"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one source gave in one cycle."""

    source: str
    status: str  # ok | unchanged | not_modified | error
    created: int = 0
    updated: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CycleReport:
    sources: tuple[SourceReport, ...]
    published: tuple[str, ...]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.sources if s.status == "error")


def resolve_profile(settings: Settings) -> Profile:
    path = Path(settings.relevance.profile) if settings.relevance.profile else DEFAULT_PROFILE
    return load_profile(path, threshold=settings.relevance.threshold)


class Worker:
    """Holds the store, the profile and the clock; every job reads them from here."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        profile: Profile | None = None,
        clock: Clock = utcnow,
        stopping: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.profile = profile or resolve_profile(settings)
        if store is None:
            engine = connect(settings.db_url)
            migrate(engine)
            store = Store(engine)
        self.store = store
        #: Set on shutdown: jobs stop between sources and leave the rest for next time.
        self.stopping = stopping or threading.Event()

    def close(self) -> None:
        """Close the database connections."""
        self.store.engine.dispose()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- jobs ------------------------------------------------------------------

    def ingest_seeds(self) -> list[SourceReport]:
        folder = self.settings.seeds_dir
        known = self.store.seed_file_hashes()
        reports = []
        for path in seeds.seed_paths(folder):
            if self.stopping.is_set():
                break
            result = seeds.read_seed(folder, path, known)
            if result.status == "ok":
                report = self._store_entries(result.source, result.entries)
            else:
                report = SourceReport(result.source, result.status, error=result.error)
            if report.status != "error" or result.status == "error":
                # An entry that failed to store is retried next time: keep the old hash.
                self.store.record_seed_file(
                    result.path,
                    content_hash=result.content_hash,
                    status=report.status,
                    error=report.error,
                    now=self.clock(),
                )
            self._log(report)
            reports.append(report)
        return reports

    def ingest_feeds(self) -> list[SourceReport]:
        configured = self.settings.feeds
        self.store.sync_feeds((f.url, f.name, f.category, f.every) for f in configured)
        due = self.store.due_feeds([f.url for f in configured], now=self.clock())
        reports = []
        with make_client(self.settings.fetch) as client:
            for feed in due:
                if self.stopping.is_set():
                    break
                result = fetch(
                    client,
                    feed.url,
                    etag=feed.etag,
                    last_modified=feed.last_modified,
                    max_bytes=self.settings.fetch.max_body_bytes,
                )
                every = feed.every or self.settings.schedule.feeds_every
                now = self.clock()
                if result.status == "ok":
                    parsed = parse_feed(result.body, feed.url, result.headers)
                    report = self._store_entries(feed.url, parsed.entries)
                    if parsed.error and not parsed.entries:
                        report = SourceReport(feed.url, "error", error=parsed.error)
                    self.store.record_feed_result(
                        feed.url,
                        status=report.status if report.status == "error" else "ok",
                        error=report.error,
                        now=now,
                        next_check_at=now + timedelta(seconds=every),
                        etag=result.etag,
                        last_modified=result.last_modified,
                        items_seen=len(parsed.entries),
                    )
                else:
                    report = SourceReport(feed.url, result.status, error=result.error)
                    self.store.record_feed_result(
                        feed.url,
                        status=result.status,
                        error=result.error,
                        now=now,
                        next_check_at=now + timedelta(seconds=every),
                    )
                self._log(report)
                reports.append(report)
        return reports

    def publish(self) -> list[str]:
        """Render every output from the store and write the files whose bytes changed."""
        stored = self.store.items(relevant_only=True, limit=self.settings.publish.window)
        written = write_all(render_all(stored, self.settings.publish), self.settings.feeds_dir)
        if written:
            log_fields(log, logging.INFO, "published", files=",".join(written), entries=len(stored))
        return written

    def cycle(self) -> CycleReport:
        """One full cycle: seeds, feeds, publish. What ``worker once`` runs."""
        sources = self.ingest_seeds() + self.ingest_feeds()
        return CycleReport(tuple(sources), tuple(self.publish()))

    # -- helpers ---------------------------------------------------------------

    def _store_entries(self, source: str, entries: Iterable[Entry]) -> SourceReport:
        created = updated = 0
        for entry in entries:
            item = process(entry, self.profile, now=self.clock())
            change = self.store.save_item(item, now=self.clock()).change
            created += change == "created"
            updated += change == "updated"
        return SourceReport(source, "ok", created=created, updated=updated)

    def _log(self, report: SourceReport) -> None:
        level = logging.WARNING if report.status == "error" else logging.INFO
        fields: dict[str, object] = {"source": report.source, "status": report.status}
        if report.status == "ok":
            fields.update(created=report.created, updated=report.updated)
        if report.error:
            fields["error"] = report.error
        log_fields(log, level, "source", **fields)
