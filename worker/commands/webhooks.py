"""``worker webhooks …``: each subscriber's deliveries, and sending them again."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from worker.config import Settings
from worker.store import Store, connect, migrate

EXIT_OK, EXIT_USAGE = 0, 2


def register(sub: Any) -> None:
    hooks = sub.add_parser("webhooks", help="webhook subscribers and their deliveries")
    hooks_sub = hooks.add_subparsers(
        dest="webhooks_command", required=True, parser_class=type(hooks)
    )
    hooks_sub.add_parser(
        "list", help="per subscriber: delivered, pending, failed, dead, last error (JSON Lines)"
    )
    replay = hooks_sub.add_parser(
        "replay",
        help="send deliveries again (same webhook-id); filters combine",
        description="Make deliveries due again with a fresh retry schedule. "
        "Replaying a subscriber also enables it again after a 410 Gone.",
    )
    replay.add_argument("--id", action="append", default=[], help="a webhook-id (repeatable)")
    replay.add_argument("--subscriber", help="a subscriber's name (or URL when it has none)")
    replay.add_argument(
        "--since", type=_timestamp, help="deliveries created at or after this ISO-8601 time"
    )


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from e
    # A time without a zone is taken as UTC, as everything the worker stores is.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(connect(settings.db_url))
    try:
        migrate(store.engine)
        store.sync_subscribers((s.id, s.url) for s in settings.webhooks)
        if args.webhooks_command == "list":
            return list_subscribers(store)
        if args.webhooks_command == "replay":
            return replay(store, args, configured={s.id for s in settings.webhooks})
        raise AssertionError(args.webhooks_command)  # argparse only lets known commands through
    finally:
        store.engine.dispose()


def list_subscribers(store: Store) -> int:
    for s in store.delivery_stats():
        print(
            json.dumps(
                {
                    "subscriber": s.id,
                    "url": s.url,
                    "delivered": s.delivered,
                    "pending": s.pending,
                    "failed": s.failed,
                    "dead": s.dead,
                    "last_error": s.last_error,
                    "last_error_at": _iso(s.last_error_at),
                    "last_success_at": _iso(s.last_success_at),
                    "disabled": s.disabled_reason,
                },
                ensure_ascii=False,
            )
        )
    return EXIT_OK


def replay(store: Store, args: argparse.Namespace, *, configured: set[str]) -> int:
    if not args.id and args.subscriber is None and args.since is None:
        print("worker: webhooks replay: give --id, --subscriber or --since", file=sys.stderr)
        return EXIT_USAGE
    if args.subscriber is not None and args.subscriber not in configured:
        known = ", ".join(sorted(configured)) or "none configured"
        print(
            f"worker: webhooks replay: no subscriber {args.subscriber!r} (known: {known})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    count = store.replay_deliveries(
        now=datetime.now(UTC), ids=args.id, subscriber=args.subscriber, since=args.since
    )
    print(f"replayed: {count} deliveries are due again")
    return EXIT_OK


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
