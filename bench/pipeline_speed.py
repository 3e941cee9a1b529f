"""Median documents per second of normalize + score + extract on one core.

Documents are the corpus texts padded or cut to about 2 KB each (UTF-8), so
the figure reflects real sentence shapes in both languages.

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
from worker.pipeline.extract import extract  # noqa: E402
from worker.pipeline.normalize import normalize  # noqa: E402
from worker.pipeline.profile import load_profile  # noqa: E402
from worker.pipeline.relevance import score  # noqa: E402

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _sized(text: str, size: int) -> str:
    """Repeat the body's paragraphs until the UTF-8 size reaches ``size`` bytes, then cut."""
    out = text
    while len(out.encode("utf-8")) < size:
        out += "\n" + text
    return out.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def make_docs(count: int, size: int) -> list[Entry]:
    base = [doc.entry for doc in load_corpus(ROOT / "tests" / "corpus").docs]
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


def run(docs: list[Entry], profile) -> float:
    start = time.perf_counter()
    for entry in docs:
        doc = normalize(entry, now=NOW)
        extract(doc, profile, score(doc, profile))
    return len(docs) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=2048, help="bytes per document")
    args = parser.parse_args()
    profile = load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml")
    docs = make_docs(args.docs, args.size)
    run(docs[:100], profile)  # warm up caches
    rates = [run(docs, profile) for _ in range(args.runs)]
    print(f"documents {len(docs)} x {args.runs} runs, {args.size} bytes each")
    median = statistics.median(rates)
    print(f"median {median:,.0f} docs/s (min {min(rates):,.0f}, max {max(rates):,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
