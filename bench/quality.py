"""Print relevance P/R/F1 and per-fact accuracy per labelled corpus, in-sample and left-out.

    .venv/bin/python bench/quality.py                      # the four corpora, both tables
    .venv/bin/python bench/quality.py tests/corpus -v      # one corpus, every miss listed

The in-sample table scores each corpus with the shipped weights (fitted on
every training corpus, so it overstates quality). The cross-corpus table fits
the learned weights on all training corpora but one and scores the one left
out, for each in turn: only those figures say how the worker does on reports
it never saw. Supplementary labels (publication dates) are read from
``tests/labels/<corpus>.toml``.

The sealed corpus (``tests/corpus_unseen``) was written by someone who had not
read the code: it is never trained on, and its misses are never printed, so
it stays an honest measure of the hand-written rules as well as of the weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.corpus import Corpus, load_corpus  # noqa: E402
from worker.evaluate import Quality, cross_corpus, evaluate  # noqa: E402
from worker.pipeline.profile import load_profile  # noqa: E402

CORPORA = (
    ROOT / "tests" / "corpus",
    ROOT / "tests" / "corpus_holdout",
    ROOT.parent / "shared" / "corpora" / "events-a",
    ROOT.parent / "shared" / "corpora" / "events-b",
)
#: Scored, never trained on, its misses never shown (see the module docstring).
SEALED = ROOT / "tests" / "corpus_unseen"
EXTRA_LABELS = ROOT / "tests" / "labels"
DEFAULT_PROFILE = ROOT / "worker" / "pipeline" / "data" / "profile.toml"
COLUMNS = ("start", "end", "city", "organizers", "published")


def load(path: Path) -> Corpus:
    extra = EXTRA_LABELS / f"{path.name}.toml"
    return load_corpus(path, extra_labels=extra if extra.exists() else None)


def table(title: str, figures: dict[str, Quality]) -> None:
    print(f"\n{title}")
    head = f"{'corpus':<16}{'docs':>5}{'P':>7}{'R':>7}{'F1':>7}" + "".join(
        f"{c:>12}" for c in COLUMNS
    )
    print(head)
    print("-" * len(head))
    for name, q in figures.items():
        cells = "".join(
            f"{q.accuracy[c]:>12.3f}" if c in q.accuracy else f"{'-':>12}" for c in COLUMNS
        )
        print(f"{name:<16}{q.documents:>5}{q.precision:>7.3f}{q.recall:>7.3f}{q.f1:>7.3f}{cells}")


def misses(figures: dict[str, Quality]) -> None:
    for name, q in figures.items():
        if name == SEALED.name:
            continue
        for miss in q.misses:
            print(f"  {name} {miss.doc} {miss.what}: expected {miss.expected!r}, got {miss.got!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, nargs="*", default=list(CORPORA))
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--no-cross", action="store_true", help="in-sample figures only")
    parser.add_argument("--no-sealed", action="store_true", help="leave the sealed corpus out")
    args = parser.parse_args()
    try:
        profile = load_profile(args.profile)
        corpora = [load(path) for path in args.corpora]
        sealed = [] if args.no_sealed or not SEALED.exists() else [load(SEALED)]
    except ValueError as e:
        print(f"quality: {e}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    in_sample = {c.name: evaluate(c, profile) for c in corpora}
    table("in-sample (shipped weights, fitted on every corpus: no evidence)", in_sample)
    if args.verbose:
        misses(in_sample)
    if len(corpora) > 1 and not args.no_cross:
        left_out = cross_corpus(corpora, profile)
        left_out |= {c.name: evaluate(c, profile) for c in sealed}
        table("cross-corpus (weights fitted on the other corpora, this one left out)", left_out)
        if args.verbose:
            misses(left_out)
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
