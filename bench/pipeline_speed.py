"""Median documents per second of the pipeline (normalize, relevance, extract) on one core.

Documents are the labelled corpora's texts padded or cut to about 2 KB each
(UTF-8), so the figure reflects real sentence shapes in every language they
hold. Two figures: the worker's own path (``pipeline.process``: facts are
extracted for the reports relevance keeps, about half of these), and with
facts extracted for every document (``worker inspect``, the worst case).

    .venv/bin/python bench/pipeline_speed.py [--docs 2000] [--runs 5] [--size 2048]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.corpus import load_corpus  # noqa: E402
from worker.model import Entry  # noqa: E402
from worker.pipeline import process  # noqa: E402
from worker.pipeline.profile import DEFAULT_PROFILE, load_profile  # noqa: E402

CORPORA = (
    ROOT / "tests" / "corpus",
    ROOT.parent / "shared" / "corpora" / "events-a",
    ROOT.parent / "shared" / "corpora" / "events-b",
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _sized(text: str, size: int) -> str:
    """Repeat the body's paragraphs until the UTF-8 size reaches ``size`` bytes, then cut."""
    out = text
    while len(out.encode("utf-8")) < size:
        out += "\n" + text
    return out.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def make_docs(count: int, size: int) -> list[Entry]:
    base = [doc.entry for path in CORPORA for doc in load_corpus(path).docs]
    return [
        Entry(
            source=f"bench:{i}",
            guid=None,
            link=None,
            title=None,
            content=_sized(base[i % len(base)].content, size),
            content_type=base[i % len(base)].content_type,
        )
        for i in range(count)
    ]


def run(docs: list[Entry], profile, *, extract_all: bool = False) -> float:
    start = time.process_time()
    for entry in docs:
        process(entry, profile, now=NOW, extract_all=extract_all)
    return len(docs) / (time.process_time() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=2048, help="bytes per document")
    args = parser.parse_args()
    profile = load_profile(DEFAULT_PROFILE)
    docs = make_docs(args.docs, args.size)
    kept = sum(process(e, profile, now=NOW).relevance.relevant for e in docs)  # and warm up
    print(f"documents {len(docs)} x {args.runs} runs, {args.size} bytes each, {kept} kept")
    paths = (("worker (facts of kept items)", False), ("every item's facts", True))
    for name, extract_all in paths:
        rates = [run(docs, profile, extract_all=extract_all) for _ in range(args.runs)]
        median = statistics.median(rates)
        print(
            f"{name:<30} median {median:,.0f} docs/s of CPU "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
