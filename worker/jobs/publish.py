"""The publish job: render every output from the store and write the files whose bytes changed.

One replica publishes at a time (the ``publish`` lease: they share the output
folder); the others skip, and the next publish picks up whatever they stored.
This module does not render (``publish``) and does not change the store.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from worker.jobs.context import JobContext
from worker.logs import log_fields
from worker.publish import Snapshot, notify_hub, render_all, write_all

log = logging.getLogger("worker")

#: The publish lease; a live holder holds it only while it publishes.
PUBLISH_LEASE = timedelta(minutes=2)


class PublishJob:
    def __init__(self, context: JobContext) -> None:
        self.context = context

    def run(self) -> list[str]:
        """The files written (relative to the feeds folder); none when nothing changed."""
        ctx = self.context
        with ctx.store.lock(
            "publish", holder=ctx.holder, ttl=PUBLISH_LEASE, now=ctx.clock()
        ) as held:
            if not held:
                log.info("publish: another worker is publishing; skipped")
                return []
            return self._publish()

    def _publish(self) -> list[str]:
        ctx = self.context
        settings = ctx.settings
        stored = ctx.store.items(relevant_only=True, limit=settings.publish.window)
        snapshot = Snapshot(window=tuple(stored), today=ctx.clock().date())
        written = write_all(render_all(snapshot, settings.publish), settings.feeds_dir)
        if written:
            log_fields(log, logging.INFO, "published", files=",".join(written), entries=len(stored))
            notify_hub(written, settings.publish)
        return written
