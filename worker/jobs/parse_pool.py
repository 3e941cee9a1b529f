"""The parse processes: feed bodies in, digests (finished items and their fingerprints) out.

A ``ParsePool`` holds a ``ProcessPoolExecutor`` sized to the cores, so feedparser
and the pure pipeline never hold up the event loop that drives the fetches. Each
parse process gets its ``Digester`` (the topic profile and the MinHash signer)
once, from the pool's initializer: the main process passes what it has; nothing
is read from the main process's globals. A body's digest is pure: ``Digester.digest``
runs the same in a test as in a parse process.

This module does not fetch (``sources.feeds``), does not decide what a check
means (``jobs.check``) and does not store (``jobs.commit``).
"""

from __future__ import annotations

import asyncio
import copyreg
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from worker.config import FetchSettings
from worker.model import Document, EventFacts, Item, Relevance
from worker.pipeline import process, raw_hash
from worker.pipeline.dedup import (
    NUM_PERM,
    Fingerprint,
    MatchFacts,
    Signer,
    entry_key,
    kept_fingerprint,
)
from worker.pipeline.profile import Profile
from worker.sources.parse import parse_feed
from worker.sources.schedule import weekly_entries


@dataclass(frozen=True, slots=True)
class Digest:
    """What a feed body gave, after parsing and the pure pipeline."""

    items: tuple[Item, ...]
    #: Entries the parser read (``items`` may be fewer when the pipeline refused some).
    seen: int
    title: str
    #: Why the feed is not well-formed, or which entries failed; ``None`` when clean.
    error: str | None
    #: RSS ``<ttl>`` in seconds.
    ttl: float | None
    #: Entries published in the week before the check (``None``: no dated entries).
    weekly: int | None
    #: Seconds spent parsing and processing.
    seconds: float
    #: The dedup fingerprint of each of ``items``, in order: pure and the costliest part of
    #: dedup, so it is made here and not on the one thread that writes to the store.
    fingerprints: tuple[Fingerprint, ...] = ()
    #: Entries stored before with the same key and raw hash: not processed, not in ``items``.
    unchanged: int = 0
    #: The key of every entry read, in order (what the next parse is given raw hashes of).
    keys: tuple[str, ...] = ()

    @property
    def seen_ok(self) -> int:
        """Entries that gave an item, now or when they were stored."""
        return len(self.items) + self.unchanged


class Digester:
    """Parses a feed body and runs each entry through the pipeline."""

    def __init__(self, profile: Profile, signer: Signer) -> None:
        self.profile = profile
        self.signer = signer

    def digest(
        self,
        body: bytes,
        headers: Mapping[str, str],
        source: str,
        now: datetime,
        known: Mapping[str, str] | None = None,
    ) -> Digest:
        """``body``'s items and fingerprints; never raises for bad input.

        ``known``: entry key -> raw hash of what the store holds. An entry with the same
        key and raw hash would give the item stored already: no stage runs on it.
        """
        started = time.perf_counter()
        parsed = parse_feed(body, source, headers)
        known = known or {}
        keys: list[str] = []
        items: list[Item] = []
        prints: list[Fingerprint] = []
        failures: list[str] = []
        for entry in parsed.entries:
            try:
                key = entry_key(entry)
                keys.append(key)
                if key in known and known[key] == raw_hash(entry, self.profile.version):
                    continue
                item = process(entry, self.profile, now=now)
                prints.append(kept_fingerprint(item, self.signer))
                items.append(item)
            except Exception as e:  # one odd entry must not cost the feed its other entries
                failures.append(f"{type(e).__name__}: {e}")
        error = parsed.error
        if failures:
            detail = f"pipeline: {len(failures)} entries failed, first: {failures[0]}"
            error = f"{error}; {detail}" if error else detail
        dates = [e.published for e in parsed.entries if e.published is not None]
        return Digest(
            items=tuple(items),
            seen=len(parsed.entries),
            title=parsed.title,
            error=error,
            ttl=parsed.ttl,
            weekly=weekly_entries(dates, now=now),
            seconds=time.perf_counter() - started,
            fingerprints=tuple(prints),
            unchanged=len(parsed.entries) - len(items) - len(failures),
            keys=tuple(keys),
        )


def _pickle_by_fields(cls: type) -> None:
    """Pickle ``cls`` as the arguments of its constructor.

    A frozen, slotted dataclass pickles by default through ``dataclasses.fields()``
    on every object, both ways; a digest of 20 items took longer to unpickle in the
    main process than its feed took to fetch.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))
    copyreg.pickle(cls, lambda obj: (cls, tuple([getattr(obj, name) for name in names])))


# What a digest holds, as it comes back from a parse process.
for _cls in (Digest, Item, Document, Relevance, EventFacts, Fingerprint, MatchFacts):
    _pickle_by_fields(_cls)

#: This parse process's digester, made once by ``_start_parse_process`` from what the
#: pool was given. Set only in parse processes; the main process never reads it.
_process_digester: Digester | None = None


def _start_parse_process(profile: Profile) -> None:
    global _process_digester
    # The store's dedup index signs with NUM_PERM permutations drawn from the same seed.
    _process_digester = Digester(profile, Signer(NUM_PERM))


def _digest_in_process(
    body: bytes, headers: Mapping[str, str], source: str, now: datetime, known: Mapping[str, str]
) -> Digest:
    assert _process_digester is not None, "not a parse process"
    return _process_digester.digest(body, headers, source, now, known)


class ParsePool:
    """The parse processes, started on the first body and kept for later cycles."""

    def __init__(self, settings: FetchSettings, profile: Profile) -> None:
        self.settings = settings
        self.profile = profile
        self._executor: ProcessPoolExecutor | None = None

    async def digest(
        self,
        body: bytes,
        headers: Mapping[str, str],
        source: str,
        now: datetime,
        known: Mapping[str, str],
    ) -> Digest:
        """``body``'s digest (``Digester.digest``), made in a parse process; a dead process
        is a failed digest."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._started(), _digest_in_process, body, headers, source, now, known
            )
        except BrokenProcessPool as e:
            # A parse process died (killed for memory, say): drop the pool, record the feed.
            self._executor = None
            return Digest((), 0, "", f"parse: parse process died: {e}", None, None, 0.0)

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = self._start()
        return self._executor

    def _start(self) -> ProcessPoolExecutor:
        """One process per core unless configured.

        ``forkserver``: the worker has threads (scheduler, HTTP server, DNS lookups),
        and forking a threaded process can copy a held lock into the child.
        """
        context = multiprocessing.get_context("forkserver")
        # The fork server imports these once; each parse process forks from it ready to go.
        context.set_forkserver_preload([__name__])
        return ProcessPoolExecutor(
            max_workers=self.settings.parse_workers or os.cpu_count() or 1,
            mp_context=context,
            initializer=_start_parse_process,
            initargs=(self.profile,),
        )

    def pids(self) -> list[int]:
        """The parse processes' ids (benchmarks read their CPU time and memory)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        """Stop the parse processes; a body being parsed is abandoned."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
