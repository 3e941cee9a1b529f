"""Print relevance precision/recall/F1 and per-fact accuracy over a labelled corpus.

.venv/bin/python bench/quality.py tests/corpus [--profile config/profile.toml] [-v]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.evaluate import evaluate  # noqa: E402
from worker.pipeline.profile import load_profile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--profile", type=Path, default=ROOT / "config" / "profile.toml")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    try:
        quality = evaluate(args.corpus, load_profile(args.profile))
    except ValueError as e:
        print(f"quality: {e}", file=sys.stderr)
        return 2
    print(f"documents  {quality.documents}")
    print(
        f"relevance  precision {quality.precision:.3f}  recall {quality.recall:.3f}  "
        f"F1 {quality.f1:.3f}"
    )
    for fact, accuracy in quality.accuracy.items():
        print(f"{fact:<11}accuracy {accuracy:.3f}")
    if args.verbose:
        for miss in quality.misses:
            print(f"  miss {miss.doc} {miss.what}: expected {miss.expected!r}, got {miss.got!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
