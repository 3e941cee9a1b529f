"""The store: one object holding every query the worker needs, grouped by table.

Writes are single statements or single transactions, safe with several
writers: unique keys decide "new or seen", never a read-then-insert.
"""

from __future__ import annotations

from worker.store.feeds import FeedQueries
from worker.store.items import ItemQueries
from worker.store.locks import LockQueries
from worker.store.outbox import OutboxQueries
from worker.store.published import PublishedQueries
from worker.store.seedfiles import SeedFileQueries


class Store(
    ItemQueries, SeedFileQueries, FeedQueries, OutboxQueries, LockQueries, PublishedQueries
):
    """All database access of the worker goes through here."""
