"""Webhooks: the outbox written with each item, and its delivery to subscribers.

``plan`` decides who hears of what (pure), ``retry`` what an answer means
(pure), ``safety`` where posting is allowed (pure), ``signing`` the Standard
Webhooks headers, ``deliver`` the loop that posts. This module ties them to
the settings and the store. It does not fetch, parse or publish anything, and
it does not write the outbox: the job that saves an item plans its deliveries
here and writes them in the item's own transaction (``jobs.commit``).
"""

from __future__ import annotations

import os
import random
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import httpx

from worker.config import Settings, WebhookSubscriber, resolve_secret
from worker.model import Item
from worker.notify.deliver import Deliverer, DeliveryReport
from worker.notify.plan import Subscriber, plan_deliveries
from worker.notify.signing import check_secret
from worker.records import NewDelivery, SaveResult
from worker.store import Store

__all__ = ["DeliveryReport", "Notifier", "Subscriber", "resolve_subscribers"]


def resolve_subscribers(
    configured: Sequence[WebhookSubscriber], environ: Mapping[str, str] | None = None
) -> list[Subscriber]:
    """The configured subscribers with their secrets read; ``ConfigError`` names the key."""
    environ = os.environ if environ is None else environ
    subscribers = []
    for index, sub in enumerate(configured):
        key = f"webhooks[{index}].secret"
        secret = resolve_secret(sub.secret, key=key, environ=environ)
        check_secret(secret, key=key)
        subscribers.append(
            Subscriber(
                id=sub.id,
                url=sub.url,
                secret=secret,
                events=tuple(sub.events),
                languages=sub.languages,
                topics=sub.topics,
                min_score=sub.min_score,
            )
        )
    return subscribers


class Notifier:
    """The worker's webhook side: plan the news of saved items, deliver what is due."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Callable[[], datetime],
        rand: Callable[[], float] = random.random,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rand = rand
        self.subscribers = resolve_subscribers(settings.webhooks, environ)
        self._synced = False
        #: Built once: every connection of every run shares it.
        self._tls: ssl.SSLContext | None = None
        self._sync_lock = threading.Lock()

    def sync(self) -> None:
        """Write the configured subscribers to the store, once: deliveries reference
        their subscriber's row. Call it outside any item transaction."""
        if not self.subscribers:
            return
        with self._sync_lock:
            if not self._synced:
                self.store.sync_subscribers((s.id, s.url) for s in self.subscribers)
                self._synced = True

    def wants(self, item: Item) -> bool:
        """Whether a change of ``item`` may be announced at all (a subscriber, a relevant
        item): the caller skips reading the entry otherwise."""
        return bool(self.subscribers) and item.relevance.relevant

    def plan(
        self, saved: SaveResult, shown: Item, *, now: datetime, related: Sequence[str] = ()
    ) -> list[NewDelivery]:
        """The deliveries announcing ``saved`` (the entry ``saved.id``, which shows ``shown``
        and lists ``related``), for the caller to write with the item."""
        return plan_deliveries(
            shown, saved.id, saved.change, self.subscribers, now=now, related=related
        )

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    def deliver(self, stopping: threading.Event | None = None) -> DeliveryReport:
        """Post every delivery that is due now, then return."""
        if not self.subscribers:
            return DeliveryReport()
        self.sync()
        deliverer = Deliverer(
            self.store,
            {s.id: s for s in self.subscribers},
            self.settings.delivery,
            clock=self.clock,
            rand=self.rand,
            stopping=stopping.is_set if stopping is not None else (lambda: False),
            tls=self._tls_context(),
        )
        return deliverer.run()
