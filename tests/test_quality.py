"""The labelled corpus: relevance and fact accuracy must stay above their floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.corpus import load_corpus
from worker.evaluate import evaluate
from worker.pipeline.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"


@pytest.fixture(scope="module")
def quality():
    return evaluate(CORPUS, load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml"))


def test_corpus_shape() -> None:
    docs = load_corpus(CORPUS).docs
    relevant = [d.name for d in docs if d.label["relevant"]]
    chinese = [
        d.name for d in docs if any("\u4e00" <= c <= "\u9fff" for c in d.entry.content[:200])
    ]
    assert len(docs) >= 60
    assert len(relevant) >= 25
    assert len(chinese) * 2 >= len(docs)


def test_relevance_f1(quality) -> None:
    assert quality.f1 >= 0.95, quality.misses


@pytest.mark.parametrize(
    ("fact", "floor"), [("start", 0.95), ("end", 0.95), ("city", 0.95), ("organizers", 0.85)]
)
def test_fact_accuracy(quality, fact: str, floor: float) -> None:
    assert quality.accuracy[fact] >= floor, [m for m in quality.misses if m.what == fact]


# The held-out corpus was written without reading the rules; its misses drove the
# fixes since, so its figures now overstate quality too (less than the first
# corpus's do). Floors sit a little under the measured 1.000 so that a change
# that loses one document's relevance or two documents' facts fails here.
HOLDOUT = ROOT / "tests" / "corpus_holdout"


@pytest.fixture(scope="module")
def holdout_quality():
    return evaluate(HOLDOUT, load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml"))


def test_holdout_shape() -> None:
    docs = load_corpus(HOLDOUT).docs
    relevant = [d.name for d in docs if d.label["relevant"]]
    chinese = [
        d.name
        for d in docs
        if sum("\u4e00" <= c <= "\u9fff" for c in d.entry.content) > len(d.entry.content) // 4
    ]
    assert len(docs) >= 40
    assert len(relevant) * 2 >= len(docs) - 2
    assert len(chinese) * 2 >= len(docs)


def test_holdout_relevance_f1(holdout_quality) -> None:
    assert holdout_quality.f1 >= 0.95, holdout_quality.misses


@pytest.mark.parametrize(
    ("fact", "floor"), [("start", 0.9), ("end", 0.9), ("city", 0.9), ("organizers", 0.9)]
)
def test_holdout_fact_accuracy(holdout_quality, fact: str, floor: float) -> None:
    assert holdout_quality.accuracy[fact] >= floor, [
        m for m in holdout_quality.misses if m.what == fact
    ]
