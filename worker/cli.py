"""The command line: ``worker run|once|inspect|check-config|feeds|rescore|migrate``.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration (with a
one-line message naming the file, key and what is wrong).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from worker import __version__
from worker.config import ConfigError, Settings, load_settings
from worker.jobs import Worker, resolve_profile, utcnow
from worker.jobs.commit import dedup_plan
from worker.jobs.context import Clock
from worker.logs import setup_logging
from worker.model import Entry
from worker.pipeline import process
from worker.pipeline.dedup import kept_fingerprint
from worker.sources import seeds
from worker.sources.decode import DecodeError
from worker.sources.feeds import fetch_one
from worker.sources.parse import parse_feed
from worker.store import connect, migrate

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("worker")


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"worker: error: {message}\n")


NOW_HELP = (
    "the pipeline's clock, ISO 8601 (e.g. 2025-12-01T00:00:00Z): the year of a year-less "
    "date on a page that states no date of its own; default: now"
)


def _instant(value: str) -> datetime:
    """An ISO 8601 date or time; a time without a zone is UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="worker", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="configuration file (default: config/worker.toml, or $WORKER_CONFIG)",
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="log line format (default: from config, text)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("run", help="run the service: scheduler and HTTP server, until SIGTERM/SIGINT")
    once = sub.add_parser("once", help="run one full cycle (seeds, feeds, publish) and exit")
    once.add_argument("--now", type=_instant, help=NOW_HELP)
    inspect = sub.add_parser(
        "inspect",
        help="run the pipeline on documents or feeds and print JSON Lines; stores nothing",
    )
    inspect.add_argument("targets", nargs="+", metavar="PATH_OR_URL")
    inspect.add_argument("--now", type=_instant, help=NOW_HELP)
    sub.add_parser("check-config", help="validate the configuration and the topic profile")
    sub.add_parser("rescore", help="re-run relevance and extraction on every stored item")
    sub.add_parser("migrate", help="bring the database schema up to date")
    for name in COMMAND_MODULES:
        _command_module(name).register(sub)
    return parser


def _command_module(name: str) -> Any:
    return importlib.import_module(f"worker.commands.{name}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.log_format:
            settings = settings.model_copy(update={"log_format": args.log_format})
        setup_logging(settings.log_format, settings.log_level)
        if args.command in ("run", "once"):
            for name in settings.ignored_environment:
                log.warning("environment %s names no setting; ignored", name)
        if args.command in COMMANDS:
            return COMMANDS[args.command](settings, args)
        return int(_command_module(args.command).run(settings, args))
    except ConfigError as e:
        print(f"worker: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"worker: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _profile(settings: Settings):  # type: ignore[no-untyped-def]
    try:
        return resolve_profile(settings)
    except (OSError, ValueError) as e:
        raise ConfigError(f"relevance.profile: {e}") from e


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from worker.scheduler import Service

    worker = _worker(settings)
    try:
        service = Service(worker)
    except OSError as e:
        print(
            f"worker: cannot listen on {settings.server.host}:{settings.server.port}: {e.strerror}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    if service.run_until_signal():
        worker.close()
    # Leave without the interpreter's finalization: the HTTP server's native threads
    # may still be winding down, and one that touches Python after finalization began
    # aborts the process; and a job that outlived the grace period is left, not joined
    # (its transaction rolls back with its connection, its claims run out). Everything
    # else is closed and written by now; flush the logs.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_OK)


def cmd_once(settings: Settings, args: argparse.Namespace) -> int:
    pinned = args.now
    worker = _worker(settings, pipeline_clock=(lambda: pinned) if pinned else None)
    try:
        report = worker.cycle()
    except OSError as e:
        print(f"worker: cycle failed: {e}", file=sys.stderr)
        return EXIT_FAILURE
    log.info(
        "cycle done: %d sources, %d errors, published %s",
        len(report.sources),
        report.errors,
        ",".join(report.published) or "nothing new",
    )
    return EXIT_OK


def _worker(settings: Settings, *, pipeline_clock: Clock | None = None) -> Worker:
    profile = _profile(settings)
    try:
        return Worker(settings, profile=profile, pipeline_clock=pipeline_clock)
    except OSError as e:
        raise SystemExit(_fail(f"cannot open the database {settings.db_url}: {e}")) from e


def _fail(message: str) -> int:
    print(f"worker: {message}", file=sys.stderr)
    return EXIT_FAILURE


def cmd_inspect(settings: Settings, args: argparse.Namespace) -> int:
    profile = _profile(settings)
    failed = 0
    now = args.now or utcnow()
    for target in args.targets:
        try:
            for entry in _entries_of(target, settings):
                item = process(entry, profile, now=now, extract_all=True)
                print(json.dumps(item.to_json(), ensure_ascii=False), flush=True)
        except (OSError, DecodeError, ValueError) as e:
            failed += 1
            print(f"worker: inspect: {target}: {e}", file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK


def _entries_of(target: str, settings: Settings) -> Iterator[Entry]:
    if target.startswith(("http://", "https://")):
        result = fetch_one(settings.fetch, target)
        if not result.is_success():
            raise ValueError(result.failure() or f"HTTP {result.status_code}")
        parsed = parse_feed(result.body, target, result.headers)
        if not parsed.entries and parsed.error:
            raise ValueError(parsed.error)
        yield from parsed.entries
        return
    path = Path(target)
    if path.is_dir():
        files = [(path, p) for p in seeds.seed_paths(path)]
    elif path.is_file():
        files = [(path.parent, path)]
    else:
        raise OSError(f"no such file or folder: {target}")
    for folder, file in files:
        suffix = file.suffix.lower()
        if suffix not in seeds.DOCUMENT_TYPES and suffix not in seeds.FEED_SUFFIXES:
            suffix = ".txt"  # inspect whatever it is given, as text
        source = seeds.SEED_PREFIX + file.relative_to(folder).as_posix()
        # A folder's files are read as the seed scan reads them: links kept inside it.
        real = seeds.resolve_inside(folder, file) if path.is_dir() else file
        yield from seeds.read_entries(source, suffix, real.read_bytes())


def cmd_check_config(settings: Settings, _args: argparse.Namespace) -> int:
    from worker.notify import resolve_subscribers

    profile = _profile(settings)
    # Reads each webhook secret (env: or file:) and checks its whsec_ format.
    subscribers = resolve_subscribers(settings.webhooks)
    print(
        f"ok: {settings.source_path}: {len(settings.feeds)} feeds, "
        f"{len(subscribers)} webhook subscribers, "
        f"profile '{profile.name}' (threshold {profile.threshold}), database {settings.db_url}"
    )
    for name in settings.ignored_environment:
        print(f"note: environment {name} names no setting; ignored")
    return EXIT_OK


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(connect(settings.db_url))
    print("ok: schema is up to date")
    return EXIT_OK


def cmd_rescore(settings: Settings, _args: argparse.Namespace) -> int:
    worker = _worker(settings)
    changed = 0
    for stored in worker.store.items(relevant_only=False):
        doc = stored.item.doc
        entry = Entry(
            source=doc.source,
            guid=doc.guid,
            link=doc.link,
            title=doc.title,
            content=doc.text,
            content_type="text/plain",
            published=doc.published,
        )
        item = process(entry, worker.profile, now=worker.clock())
        if item.relevance != stored.item.relevance or item.event != stored.item.event:
            fp = kept_fingerprint(item, worker.dedup_index.signer)
            worker.store.rescore_item(stored.id, item, dedup=dedup_plan(fp))
            changed += 1
    # What the profile makes of an entry changed: each is processed again when next read.
    worker.store.clear_raw_hashes()
    worker.publish()
    print(f"rescored: {changed} items changed")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "once": cmd_once,
    "inspect": cmd_inspect,
    "check-config": cmd_check_config,
    "migrate": cmd_migrate,
    "rescore": cmd_rescore,
}
#: Command groups that live in their own module under ``worker.commands``:
#: each has ``register(subparsers)`` and ``run(settings, args) -> int``.
COMMAND_MODULES = ("feeds", "webhooks", "train", "healthcheck")
