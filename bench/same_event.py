"""Same event, one entry: run ``worker once`` over each corpus's same-event groups and near misses.

    .venv/bin/python bench/same_event.py            # events-a, events-b and the sealed corpus
    .venv/bin/python bench/same_event.py -v         # and which groups split (not the sealed)

For each corpus, every document that belongs to a ``same_event`` group or a
near-miss pair (``tests/labels/near_miss.toml``) is dropped into a fresh seed
folder and ``worker once --now <corpus clock>`` runs over it, the real path of
an item from the seed folder to the store. Then: how many groups came out as
one entry, and how many near-miss pairs as two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.corpus import load_corpus  # noqa: E402
from worker.evaluate import (  # noqa: E402
    clusters_after_once,
    merging,
    near_miss_pairs,
    same_event_groups,
)

CORPORA = (
    ROOT.parent / "shared" / "corpora" / "events-a",
    ROOT.parent / "shared" / "corpora" / "events-b",
    ROOT / "tests" / "corpus_unseen",
)
NEAR_MISS = ROOT / "tests" / "labels" / "near_miss.toml"
SEALED = "corpus_unseen"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, nargs="*", default=list(CORPORA))
    parser.add_argument("-v", "--verbose", action="store_true", help="list the groups that split")
    args = parser.parse_args()
    print(f"{'corpus':<16}{'groups merged':>15}{'near misses apart':>20}{'seconds':>9}")
    for path in args.corpora:
        corpus = load_corpus(path)
        groups = same_event_groups(corpus)
        pairs = near_miss_pairs(NEAR_MISS, corpus.name)
        names = {d for docs in groups.values() for d in docs}
        names |= {d for left, right in pairs for d in left + right}
        files = [p for p in sorted((path / "docs").iterdir()) if p.stem in names]
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            clusters = clusters_after_once(files, corpus.now, Path(tmp))
        result = merging(groups, pairs, clusters)
        took = time.perf_counter() - started
        print(
            f"{corpus.name:<16}{f'{result.merged}/{result.groups}':>15}"
            f"{f'{result.apart}/{result.pairs}':>20}{took:>9.1f}"
        )
        if args.verbose and corpus.name != SEALED:
            for miss in result.misses:
                print(f"  {miss.doc} {miss.what}: got {miss.got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
