"""Dedup on pairs of realistic reports: merge what is one event, keep apart what is not.

Every pair in ``tests/dedup_pairs/`` goes through the real pipeline (normalize,
relevance, extract) and the real index; the expected outcome sits beside it.
The precision and recall of merging over all pairs are printed (``pytest -s``)
and held to a floor: no wrong merge at all, and most true merges found.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.jobs import DEFAULT_PROFILE
from worker.model import Entry, Item
from worker.pipeline import process
from worker.pipeline.dedup import Decision, fingerprint
from worker.pipeline.dedup_index import DedupIndex
from worker.pipeline.profile import load_profile

PAIRS = Path(__file__).parent / "dedup_pairs"
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
#: The default of ``[dedup] near_duplicate_threshold``.
THRESHOLD = 0.6
#: Recall the pairs must reach; precision must be 1.0 (a wrong merge is worse than a missed one).
MIN_RECALL = 0.9


@dataclass(frozen=True)
class Pair:
    name: str
    expected: str
    why: str
    a: Entry
    b: Entry


def _entry(data: dict[str, str]) -> Entry:
    published = data.get("published")
    return Entry(
        source=data["source"],
        guid=data.get("guid"),
        link=data.get("link"),
        title=data.get("title"),
        content=data["content"],
        content_type=data.get("content_type", "text/plain"),
        published=datetime.fromisoformat(published) if published else None,
    )


def load_pairs() -> list[Pair]:
    pairs = []
    for path in sorted(PAIRS.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["expected"] in ("merge", "apart"), path
        pairs.append(
            Pair(path.stem, data["expected"], data["why"], _entry(data["a"]), _entry(data["b"]))
        )
    return pairs


def judge(pair: Pair) -> tuple[Item, Item, Decision]:
    """Store ``a`` in an empty index, then ask where ``b`` goes."""
    profile = load_profile(DEFAULT_PROFILE)
    a, b = (process(e, profile, now=NOW) for e in (pair.a, pair.b))
    index = DedupIndex(threshold=THRESHOLD)
    index.add("cluster-a", fingerprint(a, index.signer))
    return a, b, index.decide(fingerprint(b, index.signer))


ALL = load_pairs()


def test_enough_pairs_of_both_kinds_and_languages() -> None:
    assert len(ALL) >= 20
    assert sum(p.expected == "merge" for p in ALL) >= 8
    assert sum(p.expected == "apart" for p in ALL) >= 8


@pytest.mark.parametrize("pair", ALL, ids=[p.name for p in ALL])
def test_pair(pair: Pair) -> None:
    a, b, decision = judge(pair)
    # A pair only tests dedup when both reports are kept: irrelevant items are never merged.
    assert a.relevance.relevant and b.relevance.relevant, (a.relevance, b.relevance)
    merged = decision.cluster == "cluster-a"
    assert merged == (pair.expected == "merge"), f"{pair.why}\n{decision}\na={a.event}\nb={b.event}"


def test_precision_and_recall_of_merging() -> None:
    tp = fp = fn = tn = 0
    for pair in ALL:
        merged = judge(pair)[2].cluster is not None
        should = pair.expected == "merge"
        tp += merged and should
        fp += merged and not should
        fn += should and not merged
        tn += not merged and not should
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"\ndedup pairs: {len(ALL)} (merge {tp + fn}, apart {fp + tn}); "
        f"precision {precision:.2f}, recall {recall:.2f} (tp={tp} fp={fp} fn={fn} tn={tn})"
    )
    assert precision == 1.0
    assert recall >= MIN_RECALL
