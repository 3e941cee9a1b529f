"""Dedup at 10k, 50k and 100k items: cost per item as the store grows, rebuild at start, memory.

    .venv/bin/python bench/dedup.py                  # 10k, 50k, 100k
    .venv/bin/python bench/dedup.py --sizes 20000    # one size
    .venv/bin/python bench/dedup.py --pairs          # precision/recall on tests/dedup_pairs

For each size, a child process streams that many synthetic items (English and
Chinese, a known share of them near duplicates of an earlier item: trimmed,
lightly edited, retitled) through what the worker does per item —
fingerprint (MinHash), the index's candidates and decision, adding it to the
index — timing each item, and writes the items to a SQLite store as the worker
would (outside the timing). A second child then rebuilds the index from that
store, as ``worker run`` / ``worker once`` do at start. Each child reports its
peak RSS (the whole process: Python, SQLAlchemy, numpy, datasketch and the index).

Targets (issue: "one event, one entry"): median ≤ 1 ms per item at 100k and flat
as the store grows, rebuild ≤ 10 s at 100k, peak memory ≤ 300 MB at 100k.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from worker.model import Document, EventFacts, Item, Relevance  # noqa: E402
from worker.pipeline.dedup import fingerprint  # noqa: E402
from worker.pipeline.dedup_index import DedupIndex, load_dedup_index  # noqa: E402
from worker.store import Store, connect, migrate  # noqa: E402
from worker.store.items import item_id  # noqa: E402
from worker.store.tables import cluster_keys, clusters, items  # noqa: E402

#: Share of items that are near duplicates of an earlier one (the "known share").
DUP_SHARE = 0.2
THRESHOLD = 0.6
#: ``[dedup] cross_language``; ``--no-cross-language`` turns it off.
CROSS_LANGUAGE = "--no-cross-language" not in sys.argv
#: Items written to the store per transaction.
BATCH = 2000
#: Earlier items a duplicate may copy (a recent window, as reposts follow soon).
RECENT = 2000
CITIES = [f"City{n:02d}" for n in range(60)]
TOPICS = ["smart manufacturing", "industry 4.0", "industrial internet", "smart factory",
          "smart equipment", "industrial robots", "digital twin", "MES",
          "industrial software", "digital transformation"]  # fmt: skip
START = date(2022, 1, 1)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _vocab(rng: random.Random) -> tuple[list[str], list[str]]:
    # Random words of 2-10 letters, a Zipf-like choice below: different articles share
    # common words but few five-letter runs, as real ones do.
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    words = sorted({"".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(20000)})
    hanzi = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA5), 2500)]
    return words, hanzi


def _text(rng: random.Random, lang: str, words: list[str], hanzi: list[str]) -> str:
    if lang == "en":
        weights = [1.0 / (1 + i) for i in range(len(words))]
        return " ".join(rng.choices(words, weights, k=rng.randint(60, 140))) + "."
    return "".join(rng.choices(hanzi, k=rng.randint(150, 400))) + "。"


def _variant(rng: random.Random, text: str) -> str:
    """A repost: trimmed at the end, a few characters changed, a line added."""
    cut = text[: int(len(text) * rng.uniform(0.75, 1.0))]
    chars = list(cut)
    for _ in range(rng.randint(0, 4)):
        chars[rng.randrange(len(chars))] = "x"
    return "".join(chars) + " Source: portal."


def synthetic(count: int, seed: int = 1):  # type: ignore[no-untyped-def]
    """(item, original index or None) for ``count`` items; about DUP_SHARE are duplicates."""
    rng = random.Random(seed)
    words, hanzi = _vocab(rng)
    recent: list[tuple[int, str, str, EventFacts]] = []
    for n in range(count):
        if recent and rng.random() < DUP_SHARE:
            origin, lang, text, event = rng.choice(recent)
            text = _variant(rng, text)
        else:
            origin = None
            lang = "en" if rng.random() < 0.5 else "zh"
            text = _text(rng, lang, words, hanzi)
            start = START + timedelta(days=rng.randrange(3 * 365))
            event = EventFacts(
                title=f"Course {rng.choice(words)} {rng.choice(words)}",
                start=start,
                end=start + timedelta(days=rng.randint(0, 2)),
                city=rng.choice(CITIES),
                organizers=(f"Org {rng.randrange(500)}",),
                topics=tuple(sorted(rng.sample(TOPICS, rng.randint(1, 3)))),
            )
            recent.append((n, lang, text, event))
            if len(recent) > RECENT:
                recent.pop(0)
        doc = Document(
            source=f"https://src{n % 50}.example/feed", guid=f"g{n}",
            link=f"https://src{n % 50}.example/a/{n}", title=event.title or "", text=text,
            html="", summary="", published=NOW, lang=lang,
        )  # fmt: skip
        item = Item(key=f"{doc.source}#guid:g{n}", doc=doc,
                    relevance=Relevance(True, 9.0, (), event.topics), event=event,
                    content_hash=f"h{n}")  # fmt: skip
        yield item, origin


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(count: int, db: Path) -> dict[str, object]:
    """Child: dedup ``count`` items, timing each; store them; report."""
    engine = connect(f"sqlite:///{db}")
    migrate(engine)
    store = Store(engine)
    index = DedupIndex(threshold=THRESHOLD, cross_language=CROSS_LANGUAGE)
    times = array("d")
    cluster_of: dict[int, str] = {}
    tp = fp = fn = 0
    false_layers: dict[str, int] = {}
    pending: list[tuple[Item, str, object]] = []
    for n, (item, origin) in enumerate(synthetic(count)):
        t0 = time.perf_counter()
        f = fingerprint(item, index.signer)
        decision = index.decide(f)
        cluster = decision.cluster or item_id(item.key)
        index.add(cluster, f)
        times.append(time.perf_counter() - t0)
        merged = decision.cluster is not None
        if origin is None:
            fp += merged
            if merged:
                false_layers[decision.layer] = false_layers.get(decision.layer, 0) + 1
        else:
            right = merged and decision.cluster == cluster_of.get(origin)
            tp += right
            fn += not right
        cluster_of[n] = cluster
        cluster_of.pop(n - 10 * RECENT, None)  # duplicates copy recent items only
        pending.append((item, cluster, f))
        if len(pending) == BATCH:
            _write(store, pending)
            pending = []
    if pending:
        _write(store, pending)
    engine.dispose()
    tenth = max(1, count // 10)
    return {
        "items": count,
        "median_ms": statistics.median(times) * 1e3,
        "first_tenth_median_ms": statistics.median(times[:tenth]) * 1e3,
        "last_tenth_median_ms": statistics.median(times[-tenth:]) * 1e3,
        "p99_ms": statistics.quantiles(times, n=100)[98] * 1e3,
        "duplicates": tp + fn,
        "found": tp,
        "false_merges": fp,
        "false_by_layer": false_layers,
        "peak_rss_mb": _rss_mb(),
        "index": index.stats(),
    }


def _write(store: Store, batch: list[tuple[Item, str, object]]) -> None:
    rows, entries, keys = [], [], []
    for n, (item, cluster, f) in enumerate(batch):
        ident = item_id(item.key)
        seen = NOW + timedelta(seconds=n)
        rows.append({
            "id": ident, "key": item.key, "source": item.doc.source, "link": item.doc.link,
            "title": item.doc.title, "lang": item.doc.lang, "published": None,
            "first_seen": seen, "updated": seen, "content_hash": item.content_hash,
            "relevant": True, "score": 9.0, "event_start": item.event.start,
            "event_end": item.event.end, "city": item.event.city, "data": {},
            "cluster_id": cluster, "shingles": f.shingles,  # type: ignore[attr-defined]
            "signature": None if f.signature is None else f.signature.tobytes(),  # type: ignore[attr-defined]
            "facts": f.facts.to_json(),  # type: ignore[attr-defined]
        })  # fmt: skip
        if cluster == ident:
            entries.append({"id": ident, "primary_item": ident, "first_seen": seen,
                            "updated": seen, "relevant": True})  # fmt: skip
            keys.extend({"key": k, "cluster_id": ident} for k in f.keys)  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        conn.execute(insert(items), rows)
        if entries:
            conn.execute(insert(clusters), entries)
        if keys:
            conn.execute(insert(cluster_keys).prefix_with("OR IGNORE"), keys)


def rebuild(db: Path) -> dict[str, object]:
    """Child: rebuild the index from the store, as the worker does at start."""
    before = _rss_mb()
    engine = connect(f"sqlite:///{db}")
    t0 = time.perf_counter()
    index = load_dedup_index(Store(engine), THRESHOLD)
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {"rebuild_s": seconds, "items": len(index), "peak_rss_mb": _rss_mb(),
            "rss_before_mb": before}  # fmt: skip


def pairs() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_dedup_pairs import ALL, judge  # type: ignore[import-not-found]

    tp = fp = fn = tn = 0
    for pair in ALL:
        decision = judge(pair)[2]
        merged, should = decision.cluster is not None, pair.expected == "merge"
        tp, fp = tp + (merged and should), fp + (merged and not should)
        fn, tn = fn + (should and not merged), tn + (not merged and not should)
        print(f"{'ok ' if merged == should else 'BAD'} {pair.name:45} {decision.layer:12} "
              f"{decision.reason}")  # fmt: skip
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    print(f"pairs {len(ALL)}: precision {precision:.2f}, recall {recall:.2f}"
          f" (tp={tp} fp={fp} fn={fn} tn={tn})")  # fmt: skip


def _child(*args: str) -> dict[str, object]:
    flags = [] if CROSS_LANGUAGE else ["--no-cross-language"]
    out = subprocess.run([sys.executable, __file__, *args, *flags], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000, 100_000])
    parser.add_argument("--pairs", action="store_true")
    parser.add_argument("--no-cross-language", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pairs:
        pairs()
        return
    if args.child:
        kind, *rest = args.child
        result = run(int(rest[0]), Path(rest[1])) if kind == "run" else rebuild(Path(rest[0]))
        print(json.dumps(result))
        return
    print(f"{'items':>7} {'median':>8} {'1st 10%':>8} {'last 10%':>8} {'p99':>7} "
          f"{'dups found':>11} {'false':>6} {'peak RSS':>9} {'rebuild':>8} {'RSS':>7}")  # fmt: skip
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            r = _child("--child", "run", str(size), str(db))
            b = _child("--child", "rebuild", str(db))
        print(
            f"{size:>7} {r['median_ms']:>6.3f}ms {r['first_tenth_median_ms']:>6.3f}ms "
            f"{r['last_tenth_median_ms']:>6.3f}ms {r['p99_ms']:>5.2f}ms "
            f"{r['found']:>5}/{r['duplicates']:<5} {r['false_merges']:>6} "
            f"{r['peak_rss_mb']:>6.0f} MB {b['rebuild_s']:>6.2f}s {b['peak_rss_mb']:>4.0f} MB",
            flush=True,
        )
        print(f"{'':>7} false merges by layer: {r['false_by_layer']}; index: {r['index']}")


if __name__ == "__main__":
    main()
