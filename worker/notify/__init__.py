"""Webhooks: the outbox written with each item, and its delivery to subscribers.

``plan`` decides who hears of what (pure), ``retry`` what an answer means
(pure), ``safety`` where posting is allowed (pure), ``signing`` the Standard
Webhooks headers, ``deliver`` the loop that posts. This module ties them to
the settings and the store. It does not fetch, parse or publish anything.
"""

from __future__ import annotations

import os
import random
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import httpx
from sqlalchemy import Connection

from worker.config import Settings, WebhookSubscriber, resolve_secret
from worker.model import Item
from worker.notify.deliver import Deliverer, DeliveryReport
from worker.notify.plan import Subscriber, plan_deliveries
from worker.notify.signing import check_secret
from worker.store import SaveResult, Store
from worker.store.items import OnChange

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
    """The worker's webhook side: announce items into the outbox, deliver what is due."""

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

    def _sync(self) -> None:
        # Deliveries reference their subscriber's row, so it must exist first.
        with self._sync_lock:
            if not self._synced:
                self.store.sync_subscribers((s.id, s.url) for s in self.subscribers)
                self._synced = True

    def announcer(self, item: Item, now: datetime) -> OnChange | None:
        """What ``Store.save_item`` calls, inside its transaction, to write the deliveries."""
        if not self.subscribers or not item.relevance.relevant:
            return None
        self._sync()

        def announce(conn: Connection, saved: SaveResult) -> None:
            # ``saved.id`` is the published entry; when ``item`` joined an earlier report of
            # the same event, the entry shows that one, and the webhook says what it shows.
            entry = self.store.entry_in_transaction(conn, saved.id)
            shown, related = entry if entry is not None else (item, ())
            planned = plan_deliveries(
                shown, saved.id, saved.change, self.subscribers, now=now, related=related
            )
            self.store.enqueue_deliveries(conn, planned)

        return announce

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    def deliver(self, stopping: threading.Event | None = None) -> DeliveryReport:
        """Post every delivery that is due now, then return."""
        if not self.subscribers:
            return DeliveryReport()
        self._sync()
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
