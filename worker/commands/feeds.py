"""``worker feeds list|add|remove|import|export``: the subscriptions and their fetch status.

Where subscriptions live: ``[[feeds]]`` tables of ``config/worker.toml`` are
read on every start and cycle (the file is never rewritten: it is the
operator's, comments and all); feeds added by ``add`` or ``import`` are kept in
the database (``origin = command``). Both are fetched alike. ``remove`` removes
a feed added by command; a feed from the config file is removed by editing the
file. ``export`` writes both as OPML 2.0 (http://opml.org/spec2.opml), with
categories as enclosing outlines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from lxml import etree

from worker.config import FeedSource, Settings
from worker.store import Store, connect, migrate

EXIT_OK, EXIT_USAGE = 0, 2
#: OPML files come from other readers; never let one reach the network or expand entities.
OPML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="subscriptions: list, add, remove, import, export")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, parser_class=type(feeds))
    feeds_sub.add_parser("list", help="each feed with its fetch status (JSON Lines)")
    add = feeds_sub.add_parser("add", help="subscribe to a feed (kept in the database)")
    add.add_argument("url")
    add.add_argument("--name", default="")
    add.add_argument("--category", default="")
    remove = feeds_sub.add_parser("remove", help="unsubscribe from a feed added by command")
    remove.add_argument("url")
    imp = feeds_sub.add_parser("import", help="subscribe to every feed of an OPML file")
    imp.add_argument("opml", type=Path)
    exp = feeds_sub.add_parser("export", help="write every subscription as OPML 2.0")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(connect(settings.db_url))
    migrate(store.engine)
    try:
        store.sync_feeds((f.url, f.name, f.category, f.every) for f in settings.feeds)
        command = args.feeds_command
        if command == "list":
            return list_feeds(store)
        if command == "add":
            return add_feed(store, args.url, args.name, args.category)
        if command == "remove":
            return remove_feed(store, args.url, settings.source_path)
        if command == "import":
            return import_opml(store, args.opml)
        if command == "export":
            return export_opml(store, args.output)
        raise AssertionError(command)  # argparse only lets known commands through
    finally:
        store.engine.dispose()


def list_feeds(store: Store) -> int:
    for feed in store.feeds(active_only=True):
        print(
            json.dumps(
                {
                    "url": feed.url,
                    "name": feed.name,
                    "category": feed.category,
                    "origin": feed.origin,
                    "status": feed.last_status,
                    "last_success": _iso(feed.last_success_at),
                    "last_error": feed.last_error,
                    "error_count": feed.error_count,
                    "next_check": _iso(feed.next_check_at),
                    "etag": feed.etag,
                    "last_modified": feed.last_modified,
                    "items_seen": feed.items_seen,
                    "items_new": feed.items_new,
                    "fetch_url": feed.fetch_url,
                    "disabled": feed.disabled_reason,
                },
                ensure_ascii=False,
            )
        )
    return EXIT_OK


def _valid_url(url: str) -> str | None:
    try:
        return FeedSource(url=url).url
    except ValueError:
        return None


def add_feed(store: Store, url: str, name: str, category: str) -> int:
    if _valid_url(url) is None:
        print(f"worker: feeds add: {url}: must be an http:// or https:// URL", file=sys.stderr)
        return EXIT_USAGE
    if store.add_feed(url, name=name, category=category):
        print(f"added: {url}")
    else:
        print(f"already subscribed: {url}")
    return EXIT_OK


def remove_feed(store: Store, url: str, config_path: str) -> int:
    outcome = store.remove_feed(url)
    if outcome == "removed":
        print(f"removed: {url}")
        return EXIT_OK
    if outcome == "config":
        print(
            f"worker: feeds remove: {url} comes from {config_path}: remove its [[feeds]] table",
            file=sys.stderr,
        )
    else:
        print(f"worker: feeds remove: not subscribed: {url}", file=sys.stderr)
    return EXIT_USAGE


def read_opml(path: Path) -> list[tuple[str, str, str]]:
    """(url, title, category) of every feed outline; the category is the enclosing outlines."""
    try:
        root = etree.parse(str(path), OPML_PARSER).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise ValueError(f"{path}: not a readable OPML file: {e}") from e
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ValueError(f"{path}: not OPML (no <opml><body>)")
    found: list[tuple[str, str, str]] = []

    def walk(node: Any, trail: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or "").strip()
            text = (outline.get("text") or outline.get("title") or "").strip()
            if url:
                # OPML 2.0 also allows a comma-separated "category" attribute of paths.
                category = "/".join(trail) or (outline.get("category") or "").strip("/ ")
                found.append((url, text, category))
            walk(outline, (*trail, text) if not url and text else trail)

    walk(body, ())
    return found


def import_opml(store: Store, path: Path) -> int:
    try:
        outlines = read_opml(path)
    except ValueError as e:
        print(f"worker: feeds import: {e}", file=sys.stderr)
        return EXIT_USAGE
    added = known = invalid = 0
    for url, title, category in outlines:
        if _valid_url(url) is None:
            invalid += 1
            print(f"worker: feeds import: skipped {url!r}: not an http(s) URL", file=sys.stderr)
            continue
        if store.add_feed(url, name=title, category=category):
            added += 1
        else:
            known += 1
    print(f"imported {added} feeds from {path} ({known} already subscribed, {invalid} invalid)")
    return EXIT_OK


def export_opml(store: Store, output: Path | None) -> int:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "smartmfg-events-worker subscriptions"
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    by_category: dict[str, list[Any]] = defaultdict(list)
    for feed in store.feeds(active_only=True):
        by_category[feed.category].append(feed)
    for category in sorted(by_category):
        parent = body
        for part in [p for p in category.split("/") if p]:
            existing = next(
                (
                    o
                    for o in parent.findall("outline")
                    if o.get("text") == part and not o.get("xmlUrl")
                ),
                None,
            )
            parent = (
                existing if existing is not None else etree.SubElement(parent, "outline", text=part)
            )
        for feed in by_category[category]:
            text = feed.name or feed.title or feed.url
            etree.SubElement(parent, "outline", type="rss", text=text, title=text, xmlUrl=feed.url)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        output.write_bytes(data)
        print(f"exported {sum(len(v) for v in by_category.values())} feeds to {output}")
    return EXIT_OK


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
