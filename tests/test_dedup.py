"""The dedup layers, one by one, as pure functions and through the in-memory index."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from worker.model import Document, Entry
from worker.pipeline.dedup import (
    MINHASH_SEED,
    NUM_PERM,
    Candidate,
    Fingerprint,
    MatchFacts,
    Signer,
    conflict,
    decide,
    entry_key,
    exact_keys,
    lsh_bands,
    same_event,
    session_numbers,
    shingle_hashes,
    similarity,
    title_similarity,
)
from worker.pipeline.dedup_index import DedupIndex, IndexRow

LONG_EN = (
    "The MES Implementation Bootcamp was held in Suzhou from November 5 to 7, 2024. Over three "
    "days, 60 production managers studied how to roll out a manufacturing execution system."
)
LONG_ZH = (
    "5月20日至22日，由江苏省工业互联网协会主办的数字化转型与智能工厂建设专题培训班在南京开班，"
    "培训内容涵盖数字化转型路径和智能工厂规划方法。"
)


def doc(
    text: str = LONG_EN, link: str | None = "https://a.example/x", lang: str = "en"
) -> Document:
    return Document(source="s", guid=None, link=link, title="t", text=text, html="", summary="",
                    published=None, lang=lang)  # fmt: skip


def facts(**kw: object) -> MatchFacts:
    base: dict[str, object] = {
        "lang": "en", "start": date(2024, 6, 5), "end": date(2024, 6, 6), "city": "Beijing",
        "title": "Smart Equipment Training Course", "headline": "Smart Equipment Training Course",
        "organizers": frozenset({"cesmp"}), "topics": frozenset({"smart manufacturing"}),
        "sessions": frozenset(), "kind": "training",
    }  # fmt: skip
    base.update(kw)
    return MatchFacts(**base)  # type: ignore[arg-type]


# -- layer 1: the same entry of the same source -------------------------------------


@pytest.mark.parametrize(
    ("guid", "link", "source", "expected"),
    [
        ("g1", "https://x/1", "https://feed", "https://feed#guid:g1"),
        (None, "https://x/1", "https://feed", "https://feed#link:https://x/1"),
        (None, None, "seed:a/b.txt", "seed:a/b.txt"),
        (None, None, "https://feed", "https://feed#hash:"),
    ],
)
def test_entry_key_fallback_order(
    guid: str | None, link: str | None, source: str, expected: str
) -> None:
    key = entry_key(Entry(source=source, guid=guid, link=link, title="T", content="body"))
    assert key.startswith(expected)


# -- layer 2: the same article across sources ---------------------------------------


def test_exact_keys_are_url_then_text_and_ignore_formatting() -> None:
    a = exact_keys(doc(LONG_EN))
    b = exact_keys(doc(LONG_EN.upper().replace(". ", ".\n\n"), link="https://b.example/y"))
    assert a[0] == "url:https://a.example/x" and a[1].startswith("text:")
    assert a[1] == b[1]  # case, spacing and line breaks do not count


def test_short_texts_get_no_text_key() -> None:
    assert exact_keys(doc("Register now!", link=None)) == ()


# -- layer 3: near-duplicate text ------------------------------------------------------


def test_chinese_shingles_need_no_segmentation() -> None:
    hashes = shingle_hashes(LONG_ZH)
    assert len(hashes) > 50 and hashes.dtype == np.uint32
    assert np.array_equal(hashes, shingle_hashes(LONG_ZH.replace("，", " , ")))


def test_signatures_are_stable_across_signers_and_estimate_similarity() -> None:
    first, second = Signer(), Signer()
    sig_a, n_a = first.sign(LONG_ZH)
    sig_b, n_b = second.sign(LONG_ZH)
    assert sig_a is not None and sig_b is not None and len(sig_a) == NUM_PERM
    assert np.array_equal(sig_a, sig_b)
    trimmed, n_t = first.sign(LONG_ZH[: len(LONG_ZH) * 2 // 3])
    assert trimmed is not None
    jaccard, containment = similarity(sig_a, trimmed, n_a, n_t)
    assert 0.4 < jaccard < 0.9 and containment > 0.85
    other, n_o = first.sign(LONG_EN)
    assert other is not None and similarity(sig_a, other, n_a, n_o)[0] < 0.1


@pytest.mark.parametrize("text", [LONG_ZH, LONG_EN, LONG_EN[:300]])
def test_signatures_equal_datasketchs_so_stored_ones_stay_comparable(text: str) -> None:
    from datasketch import MinHash

    ours, _ = Signer().sign(text)
    reference = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme="affine32",
                        hashfunc=int)  # fmt: skip
    reference.update_batch(shingle_hashes(text).tolist())
    assert ours is not None and np.array_equal(ours, reference.hashvalues.astype(np.uint32))


@pytest.mark.parametrize(("threshold", "expected"), [(0.5, (16, 4)), (0.6, (16, 4)), (0.8, (8, 8))])
def test_lsh_bands_turn_at_or_below_the_threshold(
    threshold: float, expected: tuple[int, int]
) -> None:
    bands, rows = lsh_bands(64, threshold)
    assert (bands, rows) == expected
    assert (1 / bands) ** (1 / rows) <= threshold


# -- layer 4: the same event ---------------------------------------------------------


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (facts(start=date(2024, 9, 10), end=date(2024, 9, 11)), "start dates differ"),
        (facts(end=date(2024, 6, 7)), "end dates differ"),
        (facts(city="Shanghai"), "cities differ"),
        (facts(sessions=frozenset({2})), "session numbers differ"),
        (facts(kind="expo"), "kinds of event differ"),
        (facts(start=None, end=None, city=None), None),
        (facts(end=date(2024, 6, 5), start=date(2024, 6, 5)), None),  # an opening day, no range
    ],
)
def test_conflicts(other: MatchFacts, why: str | None) -> None:
    mine = facts(sessions=frozenset({1})) if why == "session numbers differ" else facts()
    if why is None and other.start == other.end:
        mine = facts(end=date(2024, 6, 5), start=date(2024, 6, 5))
    assert conflict(mine, other) == why


def test_session_numbers_in_both_languages() -> None:
    assert session_numbers("Second Session of the Training Series") == {2}
    assert session_numbers("智能制造公开课第3期在广州举办", "公开培训系列第二期") == {3, 2}
    assert session_numbers("Session 4: digital twins") == {4}
    assert session_numbers("Smart Manufacturing Training") == frozenset()


def test_titles_compare_on_what_tells_events_apart() -> None:
    a = "Industrial Internet Security Training Course Opens in Xi'an"
    b = "Industrial Data Governance Training Course Opens in Xi'an"
    assert title_similarity(a, b, "Xi'an") < 0.5
    assert (
        title_similarity(a, "2024 Industrial Internet Security Course held in Xi'an", "Xi'an") == 1
    )
    assert title_similarity("2024年智能制造能力成熟度评估师培训班", "智能制造评估师培训") > 0.5


def test_same_event_rules() -> None:
    assert same_event(facts(), facts(headline="Beijing hosts course")) is not None
    # same organizer, unrelated course names: apart
    assert (
        same_event(facts(), facts(title="Welding Robot Course", headline="Welding Robot Course"))
        is None
    )
    # missing city or start: the event rule does not apply
    assert same_event(facts(city=None), facts()) is None
    zh = facts(lang="zh", title="智能装备培训班", headline="智能装备培训班", organizers=frozenset())
    assert same_event(facts(), zh) is not None  # across languages: dates, city, kind, topic
    assert same_event(facts(), facts(lang="zh", title="x", headline="x", kind=None)) is None
    assert same_event(facts(), facts(lang="zh", topics=frozenset({"digital twin"}))) is None
    assert same_event(facts(), facts(lang="zh", end=None)) is None


# -- the decision ---------------------------------------------------------------------


def test_decide_tries_layers_in_order_and_skips_conflicting_clusters() -> None:
    mine = facts()
    candidates = [
        Candidate("near-c", "near", (facts(),), jaccard=0.9, containment=0.9),
        Candidate("url-c", "url", (facts(city="Shanghai"),)),  # conflicts: skipped
        Candidate("text-c", "text", (facts(city=None),)),
    ]
    decision = decide(mine, candidates, threshold=0.6)
    assert (decision.cluster, decision.layer) == ("text-c", "text")
    low = [Candidate("near-c", "near", (facts(),), jaccard=0.3, containment=0.5)]
    assert decide(mine, low, threshold=0.6).cluster is None


def test_two_clusters_in_the_other_language_means_no_merge() -> None:
    zh = facts(lang="zh", title="甲", headline="甲", organizers=frozenset())
    one = [Candidate("c1", "event", (zh,))]
    assert decide(facts(), one, threshold=0.6).cluster == "c1"
    assert decide(facts(), one, threshold=0.6, cross_language=False).cluster is None
    two = [*one, Candidate("c2", "event", (zh,))]
    decision = decide(facts(), two, threshold=0.6)
    assert decision.cluster is None and "2 events" in decision.reason


# -- the index --------------------------------------------------------------------------


def fp(index: DedupIndex, text: str, link: str | None, **kw: object) -> Fingerprint:
    d = doc(text, link=link)
    sig, n = index.signer.sign(text)
    return Fingerprint(keys=exact_keys(d), signature=sig, shingles=n, facts=facts(**kw))


def test_index_finds_each_layer_and_a_rebuilt_index_finds_the_same() -> None:
    index = DedupIndex(threshold=0.6)
    rng = np.random.default_rng(7)
    words = ["smart", "factory", "training", "robot", "course", "digital", "twin", "plant"]
    rows = []
    for n in range(300):
        text = " ".join(rng.choice(words, 60)) + f" number {n}"
        f = fp(index, text, f"https://x.example/{n}", start=date(2024, 1, 1 + n % 28), city=f"C{n}")
        index.add(f"c{n}", f)
        rows.append((f"c{n}", f))
    target_text = " ".join(rng.choice(words, 80))
    target = fp(index, target_text, "https://x.example/target", start=date(2025, 5, 5))
    index.add("target", target)
    rows.append(("target", target))

    same_url = fp(index, "other text entirely " * 5, "https://x.example/target", start=None)
    assert index.decide(same_url).cluster == "target"
    near = fp(index, target_text[: len(target_text) * 4 // 5], None, start=date(2025, 5, 5))
    assert (index.decide(near).cluster, index.decide(near).layer) == ("target", "near")
    event = fp(index, "unrelated words " * 10, None, start=date(2025, 5, 5))
    assert index.decide(event).layer == "event"

    rebuilt = DedupIndex.load(
        (IndexRow(c, None if f.signature is None else f.signature.tobytes(), f.shingles, f.facts)
         for c, f in rows),
        ((k, c) for c, f in rows for k in f.keys),
        threshold=0.6,
    )  # fmt: skip
    assert rebuilt.stats() == index.stats() | {"band_bytes": rebuilt.stats()["band_bytes"]}
    for probe in (same_url, near, event):
        assert rebuilt.decide(probe) == index.decide(probe)


def test_index_merges_recent_inserts_into_its_sorted_buckets() -> None:
    from worker.pipeline import dedup_index

    index = DedupIndex(threshold=0.6)
    per_item = index._bands.bands
    count = dedup_index.MERGE_EVERY // per_item + 5
    sig = np.arange(NUM_PERM, dtype=np.uint32)
    for n in range(count):
        f = Fingerprint(keys=(), signature=sig + n, shingles=100, facts=facts(city=None))
        index.add(f"c{n}", f)
    assert index._bands.nbytes > 0  # merged at least once
    probe = Fingerprint(keys=(), signature=sig + 3, shingles=100, facts=facts(city=None))
    assert index.decide(probe).cluster == "c3"
    last = Fingerprint(keys=(), signature=sig + count - 1, shingles=100, facts=facts(city=None))
    assert index.decide(last).cluster == f"c{count - 1}"
