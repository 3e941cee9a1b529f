"""Quality evaluation: run the pipeline over labelled corpora and score it.

Corpora are read by ``worker.corpus``.
Figures: relevance precision, recall and F1; the facts (start, end, city,
organizers as a set) as accuracy over the documents labelled relevant; the
publication date as accuracy over the documents that label one.

:func:`cross_corpus` gives the figures that matter: for each corpus in turn,
the learned weights are fitted on all the *other* corpora and the left-out one
is scored, so no figure comes from weights that saw its documents.

This module reads corpora (I/O at the edge); the pipeline it runs stays pure.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from worker.corpus import Corpus, load_corpus
from worker.model import Item
from worker.pipeline import process
from worker.pipeline.profile import Profile
from worker.train import fit_models

#: The facts compared for documents labelled relevant.
FACTS = ("start", "end", "city", "organizers")
#: "Confederation of Indian Industry (CII)": corpora disagree on whether a trailing
#: acronym belongs to the name, so organizers are compared without it.
_TRAILING_ACRONYM = re.compile(r"\s*[(（][A-Za-z0-9&.\- ]{2,12}[)）]\s*$")


@dataclass(frozen=True, slots=True)
class Miss:
    """One disagreement between the pipeline and a label, for the report."""

    doc: str
    what: str
    expected: Any
    got: Any


@dataclass(frozen=True, slots=True)
class Quality:
    """The figures of one evaluation run."""

    documents: int
    precision: float
    recall: float
    f1: float
    #: Fact name -> share of relevant-labelled documents where it was right;
    #: "published" -> share of documents labelling a publication date.
    accuracy: dict[str, float]
    misses: tuple[Miss, ...] = field(default=())
    #: How many documents each accuracy figure was computed over.
    counts: dict[str, int] = field(default_factory=dict)


def organizer_key(names: Sequence[str]) -> frozenset[str]:
    """Organizers as compared: case and spacing folded, a trailing acronym dropped."""
    return frozenset(
        " ".join(_TRAILING_ACRONYM.sub("", n).lower().split()) for n in names if n.strip()
    )


def _facts(item: Item) -> dict[str, Any]:
    event = item.event
    return {
        "start": event.start,
        "end": event.end,
        "city": event.city or "",
        "organizers": organizer_key(event.organizers),
    }


def _expected(label: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": date.fromisoformat(label["start"]) if label.get("start") else None,
        "end": date.fromisoformat(label["end"]) if label.get("end") else None,
        "city": label.get("city", ""),
        "organizers": organizer_key(label.get("organizers", [])),
    }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _published_miss(name: str, item: Item, label: dict[str, Any]) -> Miss | None:
    """None when the publication date is right; the miss otherwise."""
    expected = date.fromisoformat(label["published"]) if label["published"] else None
    got = item.doc.published.date() if item.doc.published else None
    return None if got == expected else Miss(name, "published", expected, got)


def evaluate(corpus: Corpus | Path, profile: Profile) -> Quality:
    """Run every document of ``corpus`` through the pipeline and compare with its label."""
    if isinstance(corpus, Path):
        corpus = load_corpus(corpus)
    tp = fp = fn = 0
    right = dict.fromkeys((*FACTS, "published"), 0)
    counts = dict.fromkeys((*FACTS, "published"), 0)
    misses: list[Miss] = []
    for labelled in corpus.docs:
        name, label = labelled.name, labelled.label
        item = process(labelled.entry, profile, now=corpus.now, extract_all=True)
        if "published" in label:
            counts["published"] += 1
            miss = _published_miss(name, item, label)
            right["published"] += miss is None
            misses += [miss] if miss else []
        expected_relevant = bool(label.get("relevant"))
        got = item.relevance.relevant
        tp += got and expected_relevant
        fp += got and not expected_relevant
        fn += expected_relevant and not got
        if got != expected_relevant:
            misses.append(
                Miss(name, "relevant", expected_relevant, f"{got} ({item.relevance.score:.2f})")
            )
        if not expected_relevant:
            continue
        facts, expected = _facts(item), _expected(label)
        for fact in FACTS:
            counts[fact] += 1
            if facts[fact] == expected[fact]:
                right[fact] += 1
            else:
                misses.append(Miss(name, fact, expected[fact], facts[fact]))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(int(2 * precision * recall * 1e9), int((precision + recall) * 1e9))
    return Quality(
        documents=len(corpus.docs),
        precision=precision,
        recall=recall,
        f1=f1,
        accuracy={fact: _ratio(right[fact], n) for fact, n in counts.items() if n},
        misses=tuple(misses),
        counts=counts,
    )


def cross_corpus(corpora: Sequence[Corpus], profile: Profile) -> dict[str, Quality]:
    """Corpus name -> its figures with every learned weight fitted on the other corpora."""
    out: dict[str, Quality] = {}
    for left_out in corpora:
        others = [c for c in corpora if c is not left_out]
        models = fit_models(others, profile)
        out[left_out.name] = evaluate(left_out, replace(profile, models=models))
    return out


# ------------------------------------------------------------- same event


@dataclass(frozen=True, slots=True)
class Merging:
    """How the reports of one event came out: one entry per event, near misses apart."""

    groups: int
    merged: int
    pairs: int
    apart: int
    misses: tuple[Miss, ...] = ()


def same_event_groups(corpus: Corpus) -> dict[str, list[str]]:
    """``same_event`` value -> the documents that report that event."""
    groups: dict[str, list[str]] = {}
    for labelled in corpus.docs:
        group = labelled.label.get("same_event")
        if group:
            groups.setdefault(str(group), []).append(labelled.name)
    return groups


def near_miss_pairs(path: Path, corpus: str) -> list[tuple[list[str], list[str]]]:
    """The near-miss pairs ``path`` (``tests/labels/near_miss.toml``) lists for ``corpus``."""
    if not path.exists():
        return []
    pairs = tomllib.loads(path.read_text(encoding="utf-8")).get(corpus, {}).get("pairs", [])
    return [(list(a), list(b)) for a, b in pairs]


def merging(
    groups: dict[str, list[str]],
    pairs: list[tuple[list[str], list[str]]],
    clusters: dict[str, str | None],
) -> Merging:
    """Score the entries (``clusters``: document -> entry id, None when not published)."""
    misses: list[Miss] = []
    merged = 0
    for group, docs in sorted(groups.items()):
        entries = {clusters.get(d) for d in docs}
        if len(entries) == 1 and None not in entries:
            merged += 1
        else:
            split = {d: clusters.get(d) for d in docs}
            misses.append(Miss(group, "same event", "one entry", split))
    apart = 0
    for left, right in pairs:
        a = {clusters.get(d) for d in left} - {None}
        b = {clusters.get(d) for d in right} - {None}
        if a and b and a.isdisjoint(b):
            apart += 1
        elif a & b:
            misses.append(Miss(f"{left}/{right}", "near miss", "two entries", "one entry"))
        else:
            apart += 1  # a report not published at all is not a wrong merge
    return Merging(len(groups), merged, len(pairs), apart, tuple(misses))


def clusters_after_once(docs: list[Path], now: datetime, workdir: Path) -> dict[str, str | None]:
    """Run ``worker once --now`` over ``docs`` as seeds; document stem -> its entry id.

    The real path of an item (seed folder, pipeline, dedup index, store) on a fresh
    SQLite database under ``workdir``; irrelevant reports have no entry (None).
    """
    seeds = workdir / "seeds"
    seeds.mkdir(parents=True)
    for doc in docs:
        shutil.copyfile(doc, seeds / doc.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_")}
    result = subprocess.run(
        [sys.executable, "-m", "worker", "once", "--now", now.isoformat()],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"worker once failed: {result.stderr.strip()[-500:]}")
    with sqlite3.connect(workdir / "data" / "worker.db") as db:
        rows = db.execute("SELECT key, cluster_id, relevant FROM items").fetchall()
    out: dict[str, str | None] = {}
    for key, cluster, relevant in rows:
        stem = Path(str(key).removeprefix("seed:").split("#", 1)[0]).stem
        out[stem] = cluster if relevant else None
    return out
