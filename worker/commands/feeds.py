"""``worker feeds …``: the subscriptions and their fetch status."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from worker.config import Settings
from worker.store import Store, connect, migrate


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="subscriptions")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, parser_class=type(feeds))
    feeds_sub.add_parser("list", help="each feed with its fetch status")


def run(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(connect(settings.db_url))
    migrate(store.engine)
    store.sync_feeds((f.url, f.name, f.category, f.every) for f in settings.feeds)
    if args.feeds_command == "list":
        return list_feeds(store)
    raise AssertionError(args.feeds_command)  # argparse only lets known commands through


def list_feeds(store: Store) -> int:
    for feed in store.feeds():
        print(
            json.dumps(
                {
                    "url": feed.url,
                    "name": feed.name,
                    "status": feed.last_status,
                    "last_success": _iso(feed.last_success_at),
                    "last_error": feed.last_error,
                    "error_count": feed.error_count,
                    "next_check": _iso(feed.next_check_at),
                    "etag": feed.etag,
                    "last_modified": feed.last_modified,
                    "items_seen": feed.items_seen,
                    "disabled": feed.disabled_reason,
                },
                ensure_ascii=False,
            )
        )
    return 0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
