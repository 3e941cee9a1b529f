"""The in-memory dedup index: finds the candidate clusters of an item, fast, in little memory.

Holds, for every relevant stored item, what the layers of ``pipeline.dedup``
compare: exact keys (canonical URL, text hash) -> cluster, MinHash signatures
in banded LSH, and (start date, city) -> items for the event rule. It does no
I/O: it is filled from rows the store reads at start (``load``) and from each
item as it is stored (``add``). The store stays the truth: with several
workers sharing one database an index can be behind, so the store re-checks
the exact keys under its unique constraint when it saves (``Store.save_item``).

Memory is the constraint at 100k items (see bench/README.md): signatures live
in one growing ``uint32`` matrix, and the LSH buckets in sorted ``uint64``
arrays searched with ``numpy.searchsorted`` plus a small dict of recent
inserts that is merged in now and then (an LSM in miniature). A dict of sets
per band, as ``datasketch.MinHashLSH`` keeps, costs over 3 KB per item.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from worker.pipeline.dedup import (
    NUM_PERM,
    Candidate,
    Decision,
    Fingerprint,
    MatchFacts,
    Signer,
    decide,
    lsh_bands,
    similarity,
)

#: Recent band entries kept in a dict before they are merged into the sorted arrays;
#: a merge re-sorts everything (about 0.1 s at 100k items), so it happens rarely.
MERGE_EVERY = 1 << 16
#: Near-duplicate candidates checked per item at most; a flood of bucket-mates
#: means boilerplate, and the closest few are enough.
MAX_NEAR_CANDIDATES = 32
#: Odd 64-bit multipliers for the band hashes (splitmix64's constants).
_MIX_A = np.uint64(0x9E3779B97F4A7C15)
_MIX_B = np.uint64(0xBF58476D1CE4E5B9)


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One stored, relevant item as the index needs it (what the store reads at start)."""

    cluster: str
    signature: bytes | None
    shingles: int
    facts: MatchFacts


def key_hash(key: str) -> int:
    """64 bits of SHA-256: 200k keys collide with odds of about 1e-9, and the store re-checks."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")


class _Bands:
    """Banded LSH buckets: (band hash) -> item numbers, in sorted arrays plus a recent dict."""

    def __init__(self, bands: int, rows: int) -> None:
        self.bands, self.rows = bands, rows
        self._keys = np.empty(0, dtype=np.uint64)
        self._items = np.empty(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_count = 0
        self._salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _MIX_B

    def hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint64 band hashes of (n, bands*rows) signatures; vectorized."""
        n = signatures.shape[0]
        used = signatures[:, : self.bands * self.rows].astype(np.uint64)
        cells = used.reshape(n, self.bands, self.rows)
        h = np.zeros((n, self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for r in range(self.rows):
                h = (h ^ cells[:, :, r]) * _MIX_A
            h ^= self._salt  # the same rows in two bands are different buckets
            h = (h ^ (h >> np.uint64(31))) * _MIX_B
        return h

    def bulk(self, signatures: np.ndarray, items: list[int]) -> None:
        """Add many signatures at once (the load at start): one sort instead of many inserts."""
        if len(signatures):
            h = self.hashes(signatures)
            numbers = np.repeat(np.array(items, dtype=np.int32), self.bands)
            self._merge(h.reshape(-1), numbers)

    def add(self, band_hashes: np.ndarray, item: int) -> None:
        for value in band_hashes.tolist():
            self._recent.setdefault(value, []).append(item)
        self._recent_count += len(band_hashes)
        if self._recent_count >= MERGE_EVERY:
            self._flush()

    def _flush(self) -> None:
        keys = [k for k, items in self._recent.items() for _ in items]
        items = [i for its in self._recent.values() for i in its]
        self._recent, self._recent_count = {}, 0
        self._merge(np.array(keys, dtype=np.uint64), np.array(items, dtype=np.int32))

    def _merge(self, keys: np.ndarray, items: np.ndarray) -> None:
        all_keys = np.concatenate([self._keys, keys])
        all_items = np.concatenate([self._items, items])
        order = np.argsort(all_keys, kind="stable")
        self._keys, self._items = all_keys[order], all_items[order]

    def query(self, band_hashes: np.ndarray) -> set[int]:
        found: set[int] = set()
        if len(self._keys):
            left = np.searchsorted(self._keys, band_hashes, side="left")
            right = np.searchsorted(self._keys, band_hashes, side="right")
            for lo, hi in zip(left.tolist(), right.tolist(), strict=True):
                if hi > lo:
                    found.update(self._items[lo:hi].tolist())
        for value in band_hashes.tolist():
            found.update(self._recent.get(value, ()))
        return found

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._items.nbytes)


class DedupIndex:
    """Candidates for the dedup layers, over every relevant item stored so far."""

    def __init__(self, *, threshold: float, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.signer = Signer(num_perm)
        self.num_perm = num_perm
        self._bands = _Bands(*lsh_bands(num_perm, threshold))
        #: Cluster number -> cluster id, and back.
        self._cluster_ids: list[str] = []
        self._cluster_no: dict[str, int] = {}
        #: Cluster number -> its items' numbers.
        self._members: list[list[int]] = []
        #: Item number -> cluster number, facts, shingle count, signature row (-1: none).
        self._item_cluster = array("i")
        self._facts: list[MatchFacts] = []
        self._sizes = array("i")
        self._sig_row = array("i")
        self._sigs = np.empty((0, num_perm), dtype=np.uint32)
        self._sig_count = 0
        #: 64-bit hash of an exact key (``url:…``, ``text:…``) -> cluster number.
        self._exact: dict[int, int] = {}
        #: (start date, city) -> item numbers, for the event rule.
        self._events: dict[tuple[date, str], list[int]] = {}
        #: Interned frozensets and strings: most items share their topics and cities.
        self._interned: dict[object, object] = {}

    def __len__(self) -> int:
        return len(self._facts)

    # -- filling ---------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        rows: Iterable[IndexRow],
        keys: Iterable[tuple[str, str]],
        *,
        threshold: float,
        num_perm: int = NUM_PERM,
    ) -> DedupIndex:
        """An index over ``rows`` (stored relevant items) and ``keys`` ((exact key, cluster))."""
        index = cls(threshold=threshold, num_perm=num_perm)
        width = num_perm * 4
        pending: list[bytes] = []
        signed: list[int] = []
        for row in rows:
            sig_ok = row.signature is not None and len(row.signature) == width
            item = index._add_item(row.cluster, row.facts, row.shingles, has_signature=sig_ok)
            if row.signature is not None and sig_ok:
                pending.append(row.signature)
                signed.append(item)
        if pending:
            # Signature rows were numbered in item order, so row k belongs to signed[k].
            index._sigs = np.frombuffer(b"".join(pending), dtype=np.uint32).reshape(-1, num_perm)
            index._sigs = index._sigs.copy()
            index._bands.bulk(index._sigs, signed)
        for key, cluster in keys:
            index._exact[key_hash(key)] = index._cluster(cluster)
        return index

    def add(self, cluster: str, fp: Fingerprint) -> None:
        """Record a stored item of ``cluster``: its keys, signature and facts."""
        item = self._add_item(
            cluster, fp.facts, fp.shingles, has_signature=fp.signature is not None
        )
        no = self._item_cluster[item]
        for key in fp.keys:
            self._exact.setdefault(key_hash(key), no)
        if fp.signature is not None:
            row = self._sig_row[item]
            if row >= len(self._sigs):
                grown = np.empty((max(1024, 2 * len(self._sigs)), self.num_perm), dtype=np.uint32)
                grown[: len(self._sigs)] = self._sigs
                self._sigs = grown
            self._sigs[row] = fp.signature
            self._bands.add(self._bands.hashes(fp.signature.reshape(1, -1))[0], item)

    def _cluster(self, cluster: str) -> int:
        no = self._cluster_no.get(cluster)
        if no is None:
            no = len(self._cluster_ids)
            self._cluster_ids.append(cluster)
            self._cluster_no[cluster] = no
            self._members.append([])
        return no

    def _intern(self, value: object) -> object:
        return self._interned.setdefault(value, value)

    def _add_item(
        self, cluster: str, facts: MatchFacts, shingles: int, *, has_signature: bool
    ) -> int:
        no = self._cluster(cluster)
        item = len(self._facts)
        facts = MatchFacts(
            lang=self._intern(facts.lang),  # type: ignore[arg-type]
            start=facts.start,
            end=facts.end,
            city=self._intern(facts.city),  # type: ignore[arg-type]
            title=facts.title,
            headline=facts.headline if facts.headline != facts.title else facts.title,
            organizers=self._intern(facts.organizers),  # type: ignore[arg-type]
            topics=self._intern(facts.topics),  # type: ignore[arg-type]
            sessions=self._intern(facts.sessions),  # type: ignore[arg-type]
            kind=self._intern(facts.kind),  # type: ignore[arg-type]
        )
        self._facts.append(facts)
        self._item_cluster.append(no)
        self._sizes.append(shingles)
        self._members[no].append(item)
        if has_signature:
            self._sig_row.append(self._sig_count)
            self._sig_count += 1
        else:
            self._sig_row.append(-1)
        if facts.start and facts.city:
            self._events.setdefault((facts.start, facts.city), []).append(item)
        return item

    # -- asking ----------------------------------------------------------------------

    def _members_facts(self, no: int) -> tuple[MatchFacts, ...]:
        return tuple(self._facts[i] for i in self._members[no])

    def candidates(self, fp: Fingerprint) -> list[Candidate]:
        """The clusters each layer finds for ``fp``, in layer order (see ``pipeline.dedup``)."""
        found: list[Candidate] = []
        for key in fp.keys:
            no = self._exact.get(key_hash(key))
            if no is not None:
                layer = "url" if key.startswith("url:") else "text"
                found.append(Candidate(self._cluster_ids[no], layer, self._members_facts(no)))
        if fp.signature is not None and self._sig_count:
            found.extend(self._near(fp))
        if fp.facts.start and fp.facts.city:
            seen: set[int] = set()
            for item in self._events.get((fp.facts.start, fp.facts.city), ()):
                no = self._item_cluster[item]
                if no not in seen:
                    seen.add(no)
                    found.append(Candidate(self._cluster_ids[no], "event", self._members_facts(no)))
        return found

    def _near(self, fp: Fingerprint) -> list[Candidate]:
        assert fp.signature is not None
        items = self._bands.query(self._bands.hashes(fp.signature.reshape(1, -1))[0])
        best: dict[int, tuple[float, float]] = {}
        for item in items:
            row = self._sig_row[item]
            j, c = similarity(fp.signature, self._sigs[row], fp.shingles, self._sizes[item])
            no = self._item_cluster[item]
            if no not in best or (j, c) > best[no]:
                best[no] = (j, c)
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:MAX_NEAR_CANDIDATES]
        return [
            Candidate(
                self._cluster_ids[no], "near", self._members_facts(no), jaccard=j, containment=c
            )
            for no, (j, c) in ranked
        ]

    def decide(self, fp: Fingerprint) -> Decision:
        """Which cluster ``fp`` joins: the candidates, judged by ``pipeline.dedup.decide``."""
        return decide(fp.facts, self.candidates(fp), threshold=self.threshold)

    def stats(self) -> dict[str, int]:
        return {
            "items": len(self._facts),
            "clusters": len(self._cluster_ids),
            "signatures": self._sig_count,
            "exact_keys": len(self._exact),
            "band_bytes": self._bands.nbytes,
            "signature_bytes": int(self._sig_count * self.num_perm * 4),
        }


class IndexSource(Protocol):
    """What the index is rebuilt from: the store's rows (``store.clusters.ClusterQueries``)."""

    def dedup_rows(self) -> Iterable[tuple[str, bytes | None, int, dict[str, Any]]]: ...

    def cluster_key_rows(self) -> Iterable[tuple[str, str]]: ...


def load_dedup_index(source: IndexSource, threshold: float) -> DedupIndex:
    """Rebuild the index from the store: every relevant item's facts and signature, every key."""
    rows = (
        IndexRow(cluster, signature, shingles, MatchFacts.from_json(facts))
        for cluster, signature, shingles, facts in source.dedup_rows()
    )
    return DedupIndex.load(rows, source.cluster_key_rows(), threshold=threshold)
