"""When jobs run: APScheduler 3 intervals over the worker's jobs, plus the HTTP server.

The scheduler decides *when*; the jobs (``worker.jobs``) decide *what*. A job that finds
something new publishes right away, so a new event reaches the feeds within
the cycle that found it, not one publish interval later.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from worker.jobs import Worker
from worker.records import SourceReport
from worker.server import FeedServer, Health, Limits, make_app
from worker.server.views import StoreViews

log = logging.getLogger("worker.scheduler")

#: How long shutdown waits for running jobs before it abandons them (their
#: transactions roll back; the work is picked up on the next start).
SHUTDOWN_GRACE_SECONDS = 7.0
#: The main thread looks at the stop flag at least this often, whatever wakes it.
WAKEUP_CHECK_SECONDS = 1.0


class Service:
    """``worker run``: the scheduler and the HTTP server, until a signal stops them."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._publish_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        settings = worker.settings
        server = settings.server
        #: Filtered feeds, the filtered page and event pages, rendered from the store.
        self.views = StoreViews(
            worker.store, settings.publish, today=lambda: worker.clock().date()
        )
        app = make_app(
            settings.feeds_dir,
            health=self.health,
            metrics=lambda: worker.metrics.render().encode(),
            max_age=int(settings.schedule.publish_every),
            access_log=server.access_log,
            views=self.views,
        )
        limits = Limits(server.backlog, server.max_connections, server.header_timeout)
        self.server = FeedServer(
            app, host=server.host, port=server.port, limits=limits, rescan=self._rescan
        )

    def _rescan(self) -> None:
        """What another process changed: published files, published entries."""
        self.server.app.site.refresh()
        self.views.refresh()

    def health(self) -> Health:
        running = self.scheduler.running and not self.worker.stopping.is_set()
        return Health() if running else Health("stopping", ("the service is shutting down",))

    def publish(self) -> None:
        with self._publish_lock:
            if self.worker.publish():
                self._rescan()  # serve the new files and entries now, not at the next scan

    def _ingest(self, job: Callable[[], list[SourceReport]]) -> Callable[[], None]:
        def run() -> None:
            reports = job()
            if any(r.created or r.updated for r in reports):
                self.publish()

        return run

    def start(self) -> None:
        settings = self.worker.settings.schedule
        now = self.worker.clock()
        jobs: list[tuple[str, Callable[[], Any], float, timedelta]] = [
            ("seeds", self._ingest(self.worker.ingest_seeds), settings.seeds_every, timedelta(0)),
            ("feeds", self._ingest(self.worker.ingest_feeds), settings.feeds_every, timedelta(0)),
            ("publish", self.publish, settings.publish_every, timedelta(seconds=1)),
            # Webhooks due now (new items, retries); a run ends when nothing more is due.
            (
                "deliver",
                self.worker.deliver,
                self.worker.settings.delivery.every,
                timedelta(seconds=1),
            ),
        ]
        for name, func, every, delay in jobs:
            self.scheduler.add_job(
                func, "interval", seconds=every, id=name, name=name, next_run_time=now + delay
            )
        self.server.start()
        self.scheduler.start()
        log.info(
            "started: serving http://%s:%d/ (feeds in %s)",
            self.worker.settings.server.host,
            self.server.port,
            self.worker.settings.feeds_dir,
        )

    def stop(self) -> bool:
        """Stop taking work, give running jobs a grace period, close the server; False
        when a job is still running after it (the caller then leaves without waiting)."""
        self.worker.stopping.set()
        stopper = threading.Thread(
            target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True
        )
        stopper.start()
        stopper.join(SHUTDOWN_GRACE_SECONDS)
        self.server.stop()
        if stopper.is_alive():
            log.warning("stopped with jobs still running; their work is redone next start")
            return False
        log.info("stopped")
        return True

    def run_until_signal(self) -> bool:
        """Run until SIGTERM or SIGINT, then stop (``stop``'s answer).

        Python runs a signal's handler in the main thread, but the kernel may hand the
        signal to any thread that does not block it, and a thread that is starting or
        ending (a job's helper threads, the HTTP server's native threads) takes a pending
        one. The main thread, asleep in ``Event.wait()``, was then never woken, and
        SIGTERM went unanswered. So it sleeps on the wakeup socket instead, which the
        C-level handler writes to whichever thread took the signal (``set_wakeup_fd``).
        """
        stop = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            stop.set()

        wakeup, wakeup_writer = socket.socketpair()
        wakeup_writer.setblocking(False)  # the handler must never block on it
        wakeup.settimeout(WAKEUP_CHECK_SECONDS)
        previous = signal.set_wakeup_fd(wakeup_writer.fileno(), warn_on_full_buffer=False)
        try:
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            self.start()
            while not stop.is_set():
                # Returns once a signal arrived (its byte), and the handler runs right after.
                with contextlib.suppress(TimeoutError):
                    wakeup.recv(64)
        finally:
            signal.set_wakeup_fd(previous)
            wakeup.close()
            wakeup_writer.close()
        return self.stop()
