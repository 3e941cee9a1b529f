"""Quality evaluation: run the pipeline over a labelled corpus and score it.

A corpus is a folder with ``labels.toml`` and a ``docs/`` folder of ``.txt``,
``.md`` and ``.html`` files; each label is keyed by the file's stem (see
``tests/corpus/labels.toml``). Relevance is scored as precision, recall and F1;
the facts (start, end, city, organizers as a set) as accuracy over the
documents labelled relevant. ``bench/quality.py`` prints the figures, the
tests assert minimums on them, and a CLI can call :func:`evaluate` as well.

This module reads the corpus (I/O at the edge); the pipeline it runs stays pure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from worker.model import Entry, Item
from worker.pipeline import process
from worker.pipeline.dedup import SEED_PREFIX
from worker.sources.decode import DecodeError
from worker.sources.seeds import DOCUMENT_TYPES, FEED_SUFFIXES, read_entries
from worker.pipeline.profile import Profile

#: The facts compared for documents labelled relevant.
FACTS = ("start", "end", "city", "organizers")
LABELS_FILE = "labels.toml"
DOCS_DIR = "docs"


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
    #: Fact name -> share of relevant-labelled documents where it was right.
    accuracy: dict[str, float]
    misses: tuple[Miss, ...] = field(default=())


def _organizer_key(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    return frozenset(" ".join(n.lower().split()) for n in names)


def _facts(item: Item) -> dict[str, Any]:
    event = item.event
    return {
        "start": event.start,
        "end": event.end,
        "city": event.city or "",
        "organizers": _organizer_key(event.organizers),
    }


def _expected(label: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": date.fromisoformat(label["start"]) if label.get("start") else None,
        "end": date.fromisoformat(label["end"]) if label.get("end") else None,
        "city": label.get("city", ""),
        "organizers": _organizer_key(label.get("organizers", [])),
    }


def load_corpus(corpus: Path) -> tuple[datetime, list[tuple[str, Entry, dict[str, Any]]]]:
    """The corpus clock and (name, entry, label) for every labelled document."""
    labels_path = corpus / LABELS_FILE
    try:
        labels = tomllib.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{labels_path}: cannot read the labels: {e}") from e
    now = datetime.fromisoformat(labels.get("now", "2025-01-01T00:00:00+00:00"))
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    docs = labels.get("docs", {})
    out = []
    for path in sorted((corpus / DOCS_DIR).iterdir()):
        if path.suffix not in DOCUMENT_TYPES and path.suffix not in FEED_SUFFIXES:
            continue
        if path.stem not in docs:
            raise ValueError(f"{labels_path}: no label for {path.name} (key 'docs.{path.stem}')")
        try:
            entries = read_entries(SEED_PREFIX + path.name, path.suffix, path.read_bytes())
        except (OSError, DecodeError) as e:
            raise ValueError(f"{path}: {e}") from e
        # A feed file labels what its first entry says.
        out.append((path.stem, entries[0], docs[path.stem]))
    return now, out


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate(corpus: Path, profile: Profile) -> Quality:
    """Run every document of ``corpus`` through the pipeline and compare with its label."""
    now, docs = load_corpus(corpus)
    tp = fp = fn = 0
    right = dict.fromkeys(FACTS, 0)
    labelled_relevant = 0
    misses: list[Miss] = []
    for name, entry, label in docs:
        item = process(entry, profile, now=now, extract_all=True)
        expected_relevant = bool(label.get("relevant"))
        got = item.relevance.relevant
        tp += got and expected_relevant
        fp += got and not expected_relevant
        fn += expected_relevant and not got
        if got != expected_relevant:
            misses.append(
                Miss(name, "relevant", expected_relevant, f"{got} ({item.relevance.score:.1f})")
            )
        if not expected_relevant:
            continue
        labelled_relevant += 1
        facts, expected = _facts(item), _expected(label)
        for fact in FACTS:
            if facts[fact] == expected[fact]:
                right[fact] += 1
            else:
                misses.append(Miss(name, fact, expected[fact], facts[fact]))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(int(2 * precision * recall * 1e9), int((precision + recall) * 1e9))
    return Quality(
        documents=len(docs),
        precision=precision,
        recall=recall,
        f1=f1,
        accuracy={fact: _ratio(n, labelled_relevant) for fact, n in right.items()},
        misses=tuple(misses),
    )
