"""``worker train CORPUS…``: refit the learned weights of the topic profile.

Each CORPUS is a folder of labelled reports: ``docs/`` with the documents or
feed files and ``labels.toml`` with one ``[docs.<file stem>]`` table each
(``relevant``, and for relevant ones ``start``, ``end``, ``city``,
``organizers``; see ``tests/corpus/labels.toml``). The weights are written
beside the profile (``weights.json``, or the file its ``weights`` key names),
or to ``--output``. With two corpora or more it also prints the figures that
say how the weights will do on reports they never saw: each corpus scored with
weights fitted on the others. Then ``worker rescore`` applies them to stored items.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from worker.config import Settings

EXIT_OK, EXIT_USAGE = 0, 2


def register(sub: Any) -> None:
    train = sub.add_parser(
        "train",
        help="refit the profile's learned weights on labelled corpora",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("corpora", nargs="+", type=Path, metavar="CORPUS")
    train.add_argument(
        "-o", "--output", type=Path, help="file to write (default: the profile's weights file)"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from worker.corpus import load_corpus
    from worker.evaluate import cross_corpus
    from worker.jobs import resolve_profile
    from worker.train import fit_models, gather_rows, write_models

    try:
        profile = resolve_profile(settings)
        corpora = [load_corpus(path) for path in args.corpora]
    except (OSError, ValueError) as e:
        print(f"worker: train: {e}", file=sys.stderr)
        return EXIT_USAGE
    rows = gather_rows(corpora, profile)
    models = fit_models(corpora, profile)
    output = args.output or profile.weights_path
    if output is None:
        print("worker: train: the profile names no weights file; give --output", file=sys.stderr)
        return EXIT_USAGE
    write_models(models, output, trained_on=[str(p) for p in args.corpora])
    documents = sum(len(c.docs) for c in corpora)
    fitted = ", ".join(f"{name} ({len(r)} rows)" for name, r in rows.items() if r)
    print(f"ok: {output}: fitted {fitted} on {documents} documents")
    if len(corpora) > 1:
        for name, q in cross_corpus(corpora, profile).items():
            facts = "  ".join(f"{k} {v:.3f}" for k, v in q.accuracy.items())
            print(f"left out {name}: relevance F1 {q.f1:.3f}  {facts}")
    return EXIT_OK
