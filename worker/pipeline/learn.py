"""Learned weights: a regularized logistic regression over named features.

The judgements of the pipeline (is this report a training event on our topic?
which date is the event's? which city?) are decided by features a person would
look at, each weighted by what labelled reports taught, not by hand: a
:class:`LinearModel` maps named feature values to a score (a logit) and says
which features carried it. :func:`fit` learns the weights from labelled rows
with numpy (Newton's method on the L2-penalized log-loss: the problems are
small, a few hundred rows and a few dozen features, so it converges in a few
exact steps with no learning rate to tune). The penalty pulls each weight
towards a prior (a hand-set guess, 0 by default) rather than towards 0: where
the labelled data say little (a class of reports seen twice), the weight stays
near what a careful reader would give it; where they say much, they win.

Models are stored as JSON (``weights.json`` beside the profile) by
``worker train``; :func:`models_from_json` and :func:`models_to_json` convert.

Pure: no I/O here; the trainer reads corpora and writes the file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Strength of the L2 penalty on the weights (not on the bias), per row.
DEFAULT_L2 = 1.0
#: Newton steps at most; each is exact on a problem this size.
MAX_STEPS = 50
#: Stop when no weight moves more than this in a step.
TOLERANCE = 1e-7


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Feature name -> weight, a bias, and the score from which the answer is yes."""

    weights: Mapping[str, float] = field(default_factory=dict)
    bias: float = 0.0
    #: A score at or above this is a yes (0.0 is a probability of one half).
    threshold: float = 0.0

    def score(self, features: Mapping[str, float]) -> float:
        """The logit: bias plus the weighted sum of the features the model knows."""
        weights = self.weights
        return self.bias + sum(weights.get(name, 0.0) * value for name, value in features.items())

    def contributions(self, features: Mapping[str, float]) -> list[tuple[str, float]]:
        """Each known feature's part of the score, largest magnitude first."""
        weights = self.weights
        parts = [
            (name, weights[name] * value)
            for name, value in features.items()
            if value and name in weights
        ]
        return sorted(parts, key=lambda p: -abs(p[1]))


def probability(logit: float) -> float:
    """The logistic function, safe for large magnitudes."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1.0 + z)


def fit(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    *,
    l2: float = DEFAULT_L2,
    threshold: float = 0.0,
    prior: LinearModel | None = None,
) -> LinearModel:
    """Learn weights for the features named in ``rows`` (and ``prior``) from yes/no ``labels``.

    Features absent from a row count as 0; a feature no row has keeps its prior
    weight. Rows of one class only, or no rows, give the prior (or a model
    whose bias says the majority answer).
    """
    if len(rows) != len(labels):
        raise ValueError(f"learn: {len(rows)} rows but {len(labels)} labels")
    prior_weights = dict(prior.weights) if prior else {}
    names = sorted({name for row in rows for name in row} | set(prior_weights))
    y = np.array([1.0 if label else 0.0 for label in labels])
    if not len(y) or y.min() == y.max():
        if prior is not None:
            return LinearModel(prior_weights, prior.bias, threshold)
        bias = 0.0 if not len(y) else (5.0 if y[0] else -5.0)
        return LinearModel({}, bias, threshold)
    index = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(rows), len(names) + 1))
    x[:, -1] = 1.0  # the bias column
    for r, row in enumerate(rows):
        for name, value in row.items():
            x[r, index[name]] = value
    centre = np.array([prior_weights.get(name, 0.0) for name in names] + [0.0])
    beta = _newton(x, y, l2, centre)
    weights = {name: float(beta[i]) for name, i in index.items() if abs(beta[i]) > 1e-9}
    return LinearModel(weights, float(beta[-1]), threshold)


def _newton(x: np.ndarray, y: np.ndarray, l2: float, centre: np.ndarray) -> np.ndarray:
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    beta = centre.copy()
    for _ in range(MAX_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35, 35)))
        gradient = x.T @ (p - y) + penalty * (beta - centre)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    return beta


def models_to_json(models: Mapping[str, LinearModel]) -> dict[str, Any]:
    """``{name: {"bias", "threshold", "weights"}}`` with weights sorted by name."""
    return {
        name: {
            "bias": round(model.bias, 6),
            "threshold": model.threshold,
            "weights": {k: round(v, 6) for k, v in sorted(model.weights.items())},
        }
        for name, model in sorted(models.items())
    }


def models_from_json(data: Any, *, where: str) -> dict[str, LinearModel]:
    """The inverse of :func:`models_to_json`; a malformed file raises ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: must be a JSON object of models")
    models: dict[str, LinearModel] = {}
    for name, raw in data.items():
        if name.startswith("_"):
            continue  # "_about" and other notes
        try:
            weights = {str(k): float(v) for k, v in raw["weights"].items()}
            models[name] = LinearModel(
                weights, float(raw["bias"]), float(raw.get("threshold", 0.0))
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"{where}: model {name!r} is malformed: {e!r}") from e
    return models
