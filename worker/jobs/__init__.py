"""The worker's jobs: ingest seeds, ingest feeds, publish, deliver webhooks.

One module per job (``seeds``, ``feeds``, ``publish``, ``deliver``), plus what the
feed job is made of: ``parse_pool`` (bodies to items, in other processes),
``check`` (what a fetch means: pure), ``recorder`` (the store thread) and
``commit`` (items, dedup decisions and outbox rows in one transaction).

``Worker`` builds them over one store, profile and clock and runs them: each job
runs to completion and returns what it did, so the scheduler (``scheduler.py``),
``worker once`` and the tests drive the same code. ``Worker`` coordinates and
decides nothing itself.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections.abc import Callable

from worker.config import Settings
from worker.jobs.commit import Committer
from worker.jobs.context import DEFAULT_PROFILE, Clock, JobContext, resolve_profile, utcnow
from worker.jobs.deliver import DeliverJob
from worker.jobs.feeds import FeedsJob
from worker.jobs.parse_pool import ParsePool
from worker.jobs.publish import PublishJob
from worker.jobs.recorder import CheckRecorder
from worker.jobs.seeds import SeedsJob
from worker.metrics import Metrics
from worker.notify import DeliveryReport, Notifier
from worker.pipeline.dedup_index import DedupIndex
from worker.pipeline.profile import Profile
from worker.records import CycleReport, SourceReport
from worker.store import Store, connect, migrate

__all__ = ["DEFAULT_PROFILE", "Worker", "resolve_profile", "utcnow"]


class Worker:
    """The jobs over one store, profile and clock."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        profile: Profile | None = None,
        clock: Clock = utcnow,
        stopping: threading.Event | None = None,
        jitter: Callable[[], float] = random.random,
        pipeline_clock: Clock | None = None,
    ) -> None:
        profile = profile or resolve_profile(settings)
        if store is None:
            engine = connect(settings.db_url)
            if settings.migrate_on_start:
                migrate(engine)
            store = Store(engine)
        self.context = JobContext(
            settings=settings,
            store=store,
            profile=profile,
            clock=clock,
            stopping=stopping or threading.Event(),
            metrics=Metrics(),
            holder=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            jitter=jitter,
            pipeline_clock=pipeline_clock or clock,
        )
        #: Webhooks: subscribers' secrets are read here, so a bad one stops start-up.
        self.notifier = Notifier(settings, store, clock=clock)
        self.committer = Committer(store, self.notifier, settings.dedup, clock=clock)
        self.parse_pool = ParsePool(settings.fetch, profile)
        self.seeds_job = SeedsJob(self.context, self.committer)
        recorder = CheckRecorder(self.context, self.committer)
        self.feeds_job = FeedsJob(self.context, recorder, self.parse_pool)
        self.publish_job = PublishJob(self.context)
        self.deliver_job = DeliverJob(self.context, self.notifier)

    # What the jobs share, for the scheduler, the command line and the tests.
    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def profile(self) -> Profile:
        return self.context.profile

    @property
    def clock(self) -> Clock:
        return self.context.clock

    @property
    def stopping(self) -> threading.Event:
        return self.context.stopping

    @property
    def metrics(self) -> Metrics:
        return self.context.metrics

    @property
    def dedup_index(self) -> DedupIndex:
        return self.committer.dedup_index

    def ingest_seeds(self) -> list[SourceReport]:
        return self.seeds_job.run()

    def ingest_feeds(self) -> list[SourceReport]:
        return self.feeds_job.run()

    def publish(self) -> list[str]:
        return self.publish_job.run()

    def deliver(self) -> DeliveryReport:
        return self.deliver_job.run()

    def cycle(self) -> CycleReport:
        """One full cycle: seeds, feeds, publish, deliver webhooks. What ``worker once`` runs."""
        sources = self.ingest_seeds() + self.ingest_feeds()
        report = CycleReport(tuple(sources), tuple(self.publish()))
        self.deliver()
        return report

    def close(self) -> None:
        """Stop the parse processes and close the database connections."""
        self.parse_pool.close()
        self.store.engine.dispose()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
