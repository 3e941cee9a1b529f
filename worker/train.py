"""Fit the pipeline's learned weights on labelled corpora (``worker train``).

Each judgement that learns (relevance; the choice of the event's dates and
place) exposes ``training_rows(doc, profile, label)``: the feature rows it
would score for one labelled document, each with the answer the label gives.
:func:`fit_models` gathers those rows over every document of the given corpora
and fits one :class:`~worker.pipeline.learn.LinearModel` per judgement;
:func:`write_models` stores them as the JSON file the profile names.

A user who follows another topic swaps the profile, labels a few dozen of
their own reports in the same ``labels.toml`` layout (see ``tests/corpus``)
and runs ``worker train THEIR_CORPUS…``.

This module reads corpora and writes one file; the fitting itself is pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from worker.corpus import Corpus
from worker.model import Document
from worker.pipeline import event_dates, event_place, orgs, relevance
from worker.pipeline.learn import DEFAULT_L2, LinearModel, fit, models_to_json
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import Profile

#: (feature row, answer) pairs for one labelled document.
Rows = list[tuple[dict[str, float], bool]]
TrainingRows = Callable[[Document, Profile, Mapping[str, Any]], Rows]

#: Judgement name -> how it turns a labelled document into rows, its L2 strength,
#: and the hand-set weights its fit is pulled towards (a function of the profile).
TRAINABLE: dict[str, tuple[TrainingRows, float, Callable[[Profile], LinearModel] | None]] = {
    name: (module.training_rows, getattr(module, "L2", DEFAULT_L2), getattr(module, "prior", None))
    for name, module in (
        ("relevance", relevance),
        ("dates", event_dates),
        ("places", event_place),
        ("organizers", orgs),
    )
    if hasattr(module, "training_rows")
}


def gather_rows(corpora: Sequence[Corpus], profile: Profile) -> dict[str, Rows]:
    """Judgement name -> every training row of every document of ``corpora``."""
    rows: dict[str, Rows] = {name: [] for name in TRAINABLE}
    for corpus in corpora:
        for labelled in corpus.docs:
            doc = normalize(labelled.entry, now=corpus.now)
            for name, (training_rows, _, _) in TRAINABLE.items():
                rows[name] += training_rows(doc, profile, labelled.label)
    return rows


def fit_models(corpora: Sequence[Corpus], profile: Profile) -> dict[str, LinearModel]:
    """One model per learned judgement, fitted on every document of ``corpora``."""
    models = dict(profile.models)
    for name, rows in gather_rows(corpora, profile).items():
        if rows:
            threshold = profile.models[name].threshold if name in profile.models else 0.0
            models[name] = fit(
                [r for r, _ in rows],
                [y for _, y in rows],
                l2=TRAINABLE[name][1],
                threshold=threshold,
            )
    return models


def write_models(models: Mapping[str, LinearModel], path: Path, *, trained_on: list[str]) -> None:
    """Write ``models`` as JSON to ``path`` (a temporary file renamed over it)."""
    data = {
        "_about": "Weights fitted by `worker train` on: " + ", ".join(trained_on),
        **models_to_json(models),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
