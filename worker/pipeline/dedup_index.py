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
    CONTAINMENT_MIN,
    NUM_PERM,
    Candidate,
    Decision,
    Fingerprint,
    Layer,
    MatchFacts,
    Signer,
    decide,
    lsh_bands,
)

#: Recent entries kept in a dict (about 200 bytes each) before they become a sorted run.
MERGE_EVERY = 1 << 13
#: Near-duplicate candidates checked per item at most; a flood of bucket-mates
#: means boilerplate, and the closest few are enough.
MAX_NEAR_CANDIDATES = 32
#: Members of a cluster whose facts are compared with a new item (the first ones).
MAX_MEMBERS = 16
#: Reports with one (start date, city) compared by the event rule (the newest ones).
MAX_EVENT_BUCKET = 256
#: Odd 64-bit multipliers for the band hashes (splitmix64's constants).
_MIX_A = np.uint64(0x9E3779B97F4A7C15)
_MIX_B = np.uint64(0xBF58476D1CE4E5B9)


@dataclass(frozen=True, slots=True)
class _Probe:
    """The hashes one fingerprint is looked up and filed under."""

    keys: list[int]
    bands: np.ndarray | None


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


class _MultiMap:
    """uint64 keys -> int values, several per key, oldest first: sorted runs plus a recent dict.

    12 bytes an entry once in a run, against about 100 for a Python dict entry; a
    lookup is a binary search per run (``numpy.searchsorted``). New entries wait in
    a dict until there are ``MERGE_EVERY`` of them, then become a sorted run; runs
    of similar size are merged (a binary counter, as an LSM tree does), so there
    are never more than about log2(n / MERGE_EVERY) runs and no merge re-sorts
    everything while the worker runs.
    """

    def __init__(self) -> None:
        #: (keys, values) sorted by key, oldest run first.
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._recent: dict[int, list[int]] = {}
        self._recent_count = 0

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self._runs) + self._recent_count

    def bulk(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add many entries at once (the load at start) as one run."""
        self._flush()
        order = np.argsort(keys, kind="stable")  # stable: equal keys stay oldest first
        self._push(keys[order].astype(np.uint64), values[order].astype(np.int32))

    def _push(self, keys: np.ndarray, values: np.ndarray) -> None:
        while self._runs and len(self._runs[-1][0]) <= 2 * len(keys):
            old_keys, old_values = self._runs.pop()
            all_keys = np.concatenate([old_keys, keys])
            all_values = np.concatenate([old_values, values])
            order = np.argsort(all_keys, kind="stable")
            keys, values = all_keys[order], all_values[order]
        self._runs.append((keys, values))

    def add(self, keys: list[int], value: int) -> None:
        for key in keys:
            self._recent.setdefault(key, []).append(value)
        self._recent_count += len(keys)
        if self._recent_count >= MERGE_EVERY:
            self._flush()

    def _flush(self) -> None:
        if not self._recent:
            return
        keys = np.array([k for k, vs in self._recent.items() for _ in vs], dtype=np.uint64)
        values = np.array([v for vs in self._recent.values() for v in vs], dtype=np.int32)
        self._recent, self._recent_count = {}, 0
        order = np.argsort(keys, kind="stable")
        self._push(keys[order], values[order])

    def get_all(self, keys: list[int]) -> set[int]:
        found: set[int] = set()
        wanted = np.array(keys, dtype=np.uint64)
        for run_keys, run_values in self._runs:
            left = np.searchsorted(run_keys, wanted, side="left")
            right = np.searchsorted(run_keys, wanted, side="right")
            for lo, hi in zip(left.tolist(), right.tolist(), strict=True):
                if hi > lo:
                    found.update(run_values[lo:hi].tolist())
        for key in keys:
            found.update(self._recent.get(key, ()))
        return found

    def first(self, key: int) -> int | None:
        """The oldest value of ``key`` (runs are oldest first, the recent dict last)."""
        wanted = np.uint64(key)
        for run_keys, run_values in self._runs:
            lo = int(np.searchsorted(run_keys, wanted, side="left"))
            if lo < len(run_keys) and int(run_keys[lo]) == key:
                return int(run_values[lo])
        values = self._recent.get(key)
        return values[0] if values else None

    @property
    def nbytes(self) -> int:
        return int(sum(k.nbytes + v.nbytes for k, v in self._runs))


class _Bands:
    """Banded LSH: (band number, the band's rows) hashed to 64 bits -> item numbers."""

    def __init__(self, bands: int, rows: int) -> None:
        self.bands, self.rows = bands, rows
        self._map = _MultiMap()
        self._salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _MIX_B

    def hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint64 band hashes of (n, bands*rows) signatures; vectorized."""
        n = signatures.shape[0]
        used = signatures[:, : self.bands * self.rows].astype(np.uint64)
        cells = used.reshape(n, self.bands, self.rows)
        h = np.zeros((n, self.bands), dtype=np.uint64)
        # Array arithmetic wraps mod 2**64 without a warning (only scalar arithmetic warns),
        # so no ``np.errstate``: entering one costs more than the hashing here.
        for r in range(self.rows):
            h = (h ^ cells[:, :, r]) * _MIX_A
        h ^= self._salt  # the same rows in two bands are different buckets
        return (h ^ (h >> np.uint64(31))) * _MIX_B

    def bulk(self, signatures: np.ndarray, items: np.ndarray) -> None:
        """Add many signatures at once (the load at start), in chunks to bound the temporaries."""
        for start in range(0, len(signatures), 20_000):
            chunk = signatures[start : start + 20_000]
            numbers = np.repeat(items[start : start + 20_000], self.bands)
            self._map.bulk(self.hashes(chunk).reshape(-1), numbers)

    def add(self, band_hashes: np.ndarray, item: int) -> None:
        self._map.add(band_hashes.tolist(), item)

    def query(self, band_hashes: np.ndarray) -> set[int]:
        return self._map.get_all(band_hashes.tolist())

    @property
    def nbytes(self) -> int:
        return self._map.nbytes


class DedupIndex:
    """Candidates for the dedup layers, over every relevant item stored so far."""

    def __init__(
        self, *, threshold: float, num_perm: int = NUM_PERM, cross_language: bool = True
    ) -> None:
        self.threshold = threshold
        self.cross_language = cross_language
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
        #: 64-bit hash of an exact key (``url:…``, ``text:…``) -> cluster number, first owner first.
        self._exact = _MultiMap()
        #: (start date, city) -> item numbers, for the event rule.
        self._events: dict[tuple[date, str], list[int]] = {}
        #: Interned frozensets and strings: most items share their topics and cities.
        self._interned: dict[object, object] = {}
        #: The last fingerprint probed, and its hashes: an item is decided, then added.
        self._last_probe: tuple[Fingerprint, _Probe] | None = None

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
        cross_language: bool = True,
    ) -> DedupIndex:
        """An index over ``rows`` (stored relevant items) and ``keys`` ((exact key, cluster))."""
        index = cls(threshold=threshold, num_perm=num_perm, cross_language=cross_language)
        width = num_perm * 4
        signed = array("i")
        for row in rows:
            sig_ok = row.signature is not None and len(row.signature) == width
            item = index._add_item(row.cluster, row.facts, row.shingles, has_signature=sig_ok)
            if row.signature is not None and sig_ok:
                # Straight into the matrix: no list of bytes objects, no joined copy.
                index._put_signature(index._sig_row[item], np.frombuffer(row.signature, np.uint32))
                signed.append(item)
        index._bands.bulk(index._sigs[: index._sig_count], np.frombuffer(signed, dtype=np.int32))
        hashes, owners = array("Q"), array("i")
        for key, cluster in keys:
            hashes.append(key_hash(key))
            owners.append(index._cluster(cluster))
        index._exact.bulk(np.frombuffer(hashes, dtype=np.uint64), np.frombuffer(owners, np.int32))
        return index

    def _put_signature(self, row: int, signature: np.ndarray) -> None:
        if row >= len(self._sigs):
            # Grow by half: amortized O(1) a row, and at most half the matrix left unused.
            grown = np.empty((max(1024, len(self._sigs) * 3 // 2), self.num_perm), dtype=np.uint32)
            grown[: len(self._sigs)] = self._sigs
            self._sigs = grown
        self._sigs[row] = signature

    def add(self, cluster: str, fp: Fingerprint) -> None:
        """Record a stored item of ``cluster``: its keys, signature and facts."""
        item = self._add_item(
            cluster, fp.facts, fp.shingles, has_signature=fp.signature is not None
        )
        no = self._item_cluster[item]
        probe = self._probe(fp)
        fresh = [h for h in probe.keys if self._exact.first(h) is None]
        if fresh:
            self._exact.add(fresh, no)
        if fp.signature is not None and probe.bands is not None:
            self._put_signature(self._sig_row[item], fp.signature)
            self._bands.add(probe.bands, item)

    def _probe(self, fp: Fingerprint) -> _Probe:
        last = self._last_probe
        if last is not None and last[0] is fp:
            return last[1]
        bands = None
        if fp.signature is not None:
            bands = self._bands.hashes(fp.signature.reshape(1, -1))[0]
        probe = _Probe([key_hash(key) for key in fp.keys], bands)
        self._last_probe = (fp, probe)
        return probe

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
            start=self._intern(facts.start),  # type: ignore[arg-type]
            end=self._intern(facts.end),  # type: ignore[arg-type]
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
        # The first members only: a cluster's reports agree on what they state, and a
        # cluster of thousands (a flood of copies) must not make every item cost more.
        return tuple(self._facts[i] for i in self._members[no][:MAX_MEMBERS])

    def candidates(self, fp: Fingerprint) -> list[Candidate]:
        """The clusters each layer finds for ``fp``, in layer order (see ``pipeline.dedup``)."""
        found: list[Candidate] = []
        probe = self._probe(fp)
        for key, hashed in zip(fp.keys, probe.keys, strict=True):
            no = self._exact.first(hashed)
            if no is not None:
                layer: Layer = "url" if key.startswith("url:") else "text"
                found.append(Candidate(self._cluster_ids[no], layer, self._members_facts(no)))
        if fp.signature is not None and probe.bands is not None and self._sig_count:
            found.extend(self._near(fp, probe.bands))
        if fp.facts.start and fp.facts.city:
            seen: set[int] = set()
            bucket = self._events.get((fp.facts.start, fp.facts.city), ())
            for item in reversed(bucket[-MAX_EVENT_BUCKET:]):  # the newest reports first
                no = self._item_cluster[item]
                if no not in seen:
                    seen.add(no)
                    found.append(Candidate(self._cluster_ids[no], "event", self._members_facts(no)))
        return found

    def _near(self, fp: Fingerprint, bands: np.ndarray) -> list[Candidate]:
        assert fp.signature is not None
        found = self._bands.query(bands)
        if not found:
            return []
        # Vectorized over every bucket-mate: a flood of near-identical items costs
        # one numpy pass, not a Python loop per item.
        items = np.fromiter(found, dtype=np.int64, count=len(found))
        rows = np.frombuffer(self._sig_row, dtype=np.int32)[items]
        jaccard = (self._sigs[rows] == fp.signature).sum(axis=1) / self.num_perm
        sizes = np.frombuffer(self._sizes, dtype=np.int32)[items].astype(np.float64)
        smaller = np.maximum(np.minimum(sizes, fp.shingles), 1.0)
        common = jaccard * (sizes + fp.shingles) / (1.0 + jaccard)
        containment = np.minimum(1.0, common / smaller)
        # Only near duplicates (``is_near_duplicate``) can be chosen by this layer; most
        # bucket-mates are not, and building their candidates cost more than finding them.
        near = (jaccard >= self.threshold) | (containment >= max(CONTAINMENT_MIN, self.threshold))
        if not near.any():
            return []
        jaccard, containment, items = jaccard[near], containment[near], items[near]
        clusters = np.frombuffer(self._item_cluster, dtype=np.int32)[items]
        order = np.lexsort((containment, jaccard))[::-1]  # best first
        best: dict[int, tuple[float, float]] = {}
        for k in order.tolist():
            no = int(clusters[k])
            if no not in best:
                best[no] = (float(jaccard[k]), float(containment[k]))
                if len(best) == MAX_NEAR_CANDIDATES:
                    break
        return [
            Candidate(
                self._cluster_ids[no], "near", self._members_facts(no), jaccard=j, containment=c
            )
            for no, (j, c) in best.items()
        ]

    def decide(self, fp: Fingerprint) -> Decision:
        """Which cluster ``fp`` joins: the candidates, judged by ``pipeline.dedup.decide``."""
        return decide(
            fp.facts,
            self.candidates(fp),
            threshold=self.threshold,
            cross_language=self.cross_language,
        )

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


def load_dedup_index(
    source: IndexSource, threshold: float, *, cross_language: bool = True
) -> DedupIndex:
    """Rebuild the index from the store: every relevant item's facts and signature, every key."""
    rows = (
        IndexRow(cluster, signature, shingles, MatchFacts.from_json(facts))
        for cluster, signature, shingles, facts in source.dedup_rows()
    )
    return DedupIndex.load(
        rows, source.cluster_key_rows(), threshold=threshold, cross_language=cross_language
    )
