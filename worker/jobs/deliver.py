"""The deliver job: post the webhook deliveries that are due now (retries included).

This module only runs the delivery loop (``notify.deliver``) and logs what it did;
it does not decide who hears of what (``notify.plan``) or what an answer means
(``notify.retry``).
"""

from __future__ import annotations

import logging

from worker.jobs.context import JobContext
from worker.logs import log_fields
from worker.notify import DeliveryReport, Notifier

log = logging.getLogger("worker")


class DeliverJob:
    def __init__(self, context: JobContext, notifier: Notifier) -> None:
        self.context = context
        self.notifier = notifier

    def run(self) -> DeliveryReport:
        report = self.notifier.deliver(self.context.stopping)
        if report.attempted:
            log_fields(log, logging.INFO, "delivered", attempted=report.attempted,
                       delivered=report.delivered, retried=report.retried,
                       dead=report.dead)  # fmt: skip
        for subscriber, reason in report.disabled.items():
            log_fields(
                log, logging.WARNING, "subscriber disabled", subscriber=subscriber, reason=reason
            )
        return report
