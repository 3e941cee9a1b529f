"""Prometheus metrics of feed ingestion, rendered in the text exposition format.

Each ``Worker`` owns one ``Metrics`` with its own registry (no process-wide
state), which ``/metrics`` renders. Counters count since the process started,
as Prometheus expects (https://prometheus.io/docs/concepts/metric_types/).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Parse-time buckets in seconds: most feeds parse in milliseconds; a 10 MB one takes seconds.
PARSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.fetches = Counter(
            "worker_feed_fetches",
            "Feed fetches by outcome (ok, not_modified, error, gone) and HTTP status",
            ["outcome", "code"],
            registry=self.registry,
        )
        self.bytes = Counter(
            "worker_feed_bytes",
            "Feed body bytes received on the wire (before decompression)",
            registry=self.registry,
        )
        self.parse_seconds = Histogram(
            "worker_feed_parse_seconds",
            "Seconds to parse and process one feed body",
            buckets=PARSE_BUCKETS,
            registry=self.registry,
        )
        self.items_seen = Counter(
            "worker_feed_items_seen", "Entries read from feeds", registry=self.registry
        )
        self.items_new = Counter(
            "worker_feed_items_new", "Entries stored for the first time", registry=self.registry
        )
        self.items_unchanged = Counter(
            "worker_feed_items_unchanged",
            "Entries read again with the key and raw hash of a stored item: not processed",
            registry=self.registry,
        )
        self.feeds_in_error = Gauge(
            "worker_feeds_in_error",
            "Feeds whose last check failed, after the last feed cycle",
            registry=self.registry,
        )
        self.feeds_disabled = Gauge(
            "worker_feeds_disabled",
            "Feeds no longer fetched (410 Gone), after the last feed cycle",
            registry=self.registry,
        )

    def render(self) -> str:
        return generate_latest(self.registry).decode("utf-8")
