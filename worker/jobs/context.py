"""What every job shares: the settings, the store, the topic profile, the clock, the
stop signal, the metrics and this replica's name in the store's leases; and the one
log line per source per cycle.

This module runs no job and decides nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from worker.config import Settings
from worker.logs import log_fields
from worker.metrics import Metrics
from worker.pipeline.profile import Profile, load_profile
from worker.records import SourceReport, SourceStatus
from worker.store import Store

log = logging.getLogger("worker")

Clock = Callable[[], datetime]
DEFAULT_PROFILE = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "profile.toml"


def utcnow() -> datetime:
    return datetime.now(UTC)


def resolve_profile(settings: Settings) -> Profile:
    """The configured topic profile, else the built-in one."""
    path = Path(settings.relevance.profile) if settings.relevance.profile else DEFAULT_PROFILE
    return load_profile(path, threshold=settings.relevance.threshold)


@dataclass(frozen=True, slots=True)
class JobContext:
    settings: Settings
    store: Store
    profile: Profile
    clock: Clock
    #: Set on shutdown: jobs stop between sources and leave the rest for next time.
    stopping: threading.Event
    metrics: Metrics
    #: Names this replica in the store's leases.
    holder: str
    #: Draws the jitter of error backoff, in [0, 1); tests pass a constant.
    jitter: Callable[[], float]
    #: The pipeline's clock (year-less dates of pages without a date of their own);
    #: ``--now`` pins it so that a quality figure does not change with the day.
    pipeline_clock: Clock = utcnow


def log_source(report: SourceReport) -> None:
    """``source=… status=ok|not_modified|unchanged|error`` (and what it gave, or why not)."""
    failed = report.status is SourceStatus.ERROR
    fields: dict[str, object] = {"source": report.source, "status": report.status.value}
    if report.status is SourceStatus.OK:
        fields.update(created=report.created, updated=report.updated)
    if report.error:
        fields["error"] = report.error
    log_fields(log, logging.WARNING if failed else logging.INFO, "source", **fields)
