"""Dedup: which stored entry an item is, and which published event it belongs to.

Pure functions over records: keys, fingerprints and the decision "which cluster
does this item join, if any" given the candidates an index found. No I/O: the
index (``worker.pipeline.dedup_index``) finds candidates in memory, the store
(``worker.store.clusters``) re-checks the exact keys under unique constraints.

Layers, tried in this order; the first that finds a cluster wins:

1. **The same entry of the same source** (``entry_key``): the source's guid,
   else its link, else (a seed document) its path, else a hash of title and
   content. Enforced by the unique ``items.key``; the entry updates its row.
   This is Miniflux's fallback order (``internal/reader/processor``).
2. **The same article across sources** (``exact_keys``): the canonical URL
   (tracking parameters already removed by ``normalize``), else a hash of the
   normalized text (letters and digits only, case folded) when the text is long
   enough to be specific. Enforced by the unique ``cluster_keys.key``.
3. **Near-duplicate text** (``signature`` / ``similarity``): MinHash over
   character shingles of the normalized text, which needs no word segmentation
   and so works for Chinese; candidates come from banded LSH, then the
   estimated Jaccard similarity (or containment, for a trimmed copy) must
   reach the configured threshold.
4. **The same event across wording and language** (``same_event``): the same
   start date and the same city, and then either a close title, or overlapping
   organizers with a not-unlike title (same language); or, in any language, the
   same facts: start, end, city, kind and most topics (see ``same_event``).

Wrong merges are worse than missed ones, so every layer after the first also
requires that the two reports do not *conflict* (``conflict``): different
known start or end dates, different known cities, or different session
numbers ("first session" / "第二期") mean different events, however alike the
text. That keeps apart two sessions of one training series and one course
given in two cities, which share most of their wording.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from worker.model import Document, Entry, EventFacts, Item
from worker.pipeline.dates import cn_number

SEED_PREFIX = "seed:"

# ------------------------------------------------------------------ constants

#: Characters per shingle. Five characters span a Chinese phrase or most of an
#: English word; shorter shingles make unrelated texts on one topic look alike.
SHINGLE_CHARS = 5
#: Permutations of the MinHash signature: 64 x 4 bytes per item keeps 100k items
#: in about 25 MB, and the estimate's standard error at J=0.6 is about 0.06.
NUM_PERM = 64
#: The seed of the permutations; signatures are persisted, so it must never change.
MINHASH_SEED = 1
#: Texts with fewer shingles than this are too short for the near-duplicate and
#: text-hash layers: "Register now" is the same text under many events.
MIN_SHINGLES = 40
#: A trimmed copy holds most of the original: this share of the smaller set's
#: shingles found in the larger one counts as a near duplicate too.
CONTAINMENT_MIN = 0.9
#: Character-bigram Dice similarity of two titles that name the same event.
CLOSE_TITLE = 0.7
#: Longest key kept as it is (``bounded_key``); a longer one is its first
#: ``KEY_HEAD_CHARS`` and a hash: under 1,000 bytes even in CJK, so within
#: ``items.key`` (2,048) and any database's index entry.
KEY_MAX_CHARS = 1000
KEY_HEAD_CHARS = 200
#: With overlapping organizers the titles must still be this alike: one
#: organiser's two courses on the same day share organizers, not titles.
WEAK_TITLE = 0.5

#: By facts alone, the share of the smaller topic set the other must have too: one
#: shared label of five is a coincidence of the profile, not the same event; a
#: trimmed repost names fewer topics than the report it copies.
FACTS_TOPICS = 0.5
#: When the titles name no kind of event, the opening of the text is read for one.
KIND_TEXT_CHARS = 200

Layer = Literal["new", "url", "text", "near", "event", "event-xlang"]

#: Session numbers in a title: "first session", "2nd session", "第二期", "第3期", "Session 2".
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_SESSION_EN = re.compile(
    r"\b(?:(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d{1,2})(?:st|nd|rd|th)?"
    r"\s+(?:session|phase|cohort|class|batch|edition|round)|"
    r"(?:session|phase|cohort|batch|round)\s+(\d{1,2})\b)",
    re.IGNORECASE,
)
_SESSION_ZH = re.compile(r"第\s*([一二三四五六七八九十\d]{1,3})\s*(?:期|届|批|场|次|轮|季)")
#: Kinds of event, from words of the title; an English and a Chinese report must agree.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("expo", re.compile(r"expo|exhibition|trade fair|trade show|博览会|展览会|展会|工博会", re.I)),
    ("forum", re.compile(r"summit|forum|conference|congress|峰会|论坛|大会|年会", re.I)),
    (
        "training",
        re.compile(
            r"training|course|workshop|bootcamp|boot camp|masterclass|class\b|seminar|"
            r"培训|研修|课程|训练营|工作坊|开班|讲习|公开课|研讨班|进修",
            re.I,
        ),
    ),
)
#: A headline that ends like an event's name ("… Welding Robot Course", "…培训班").
_NAME_END = re.compile(
    r"(?:training|course|workshop|bootcamp|boot camp|masterclass|class|seminar|programme|"
    r"program|camp|school|培训班|研修班|训练营|实训营|工作坊|公开课|研讨班|进修班|讲习班|培训)"
    r"[\s\d()（）第期一二三四五六七八九十]*$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+")
#: The ASCII bytes ``_NON_WORD`` removes (all but letters and digits), for bytes.translate.
_NOT_ALNUM_BYTES = bytes(b for b in range(128) if not chr(b).isalnum())
_EN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
#: Words of any event title, which tell no event from another.
_TITLE_STOP = frozenset(
    """a an the of on in at for and to with by from as its new
    held hold holds opens opened open opening concludes concluded kicks kicked off launched
    launches starts started begins began ends ended takes took place successfully
    training trainings course courses class classes workshop workshops seminar seminars
    bootcamp program programme session sessions event public""".split()  # noqa: SIM905
)
#: The same for Chinese titles (cut out before bigrams are taken).
_ZH_TITLE_STOP = re.compile(
    r"\d+|年|月|日|在|于|举办|举行|召开|开班|开课|开幕|成功|顺利|圆满|结业|闭幕|"
    r"培训班|研修班|培训|研修|专题|第.期"
)


# ------------------------------------------------------------- layer 1: entry


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def bounded_key(key: str) -> str:
    """``key`` itself, or when longer than ``KEY_MAX_CHARS`` its start and a hash of it
    all: a key is only ever compared whole, and a database indexes bounded values
    (PostgreSQL refuses an index entry over 2,704 bytes)."""
    if len(key) <= KEY_MAX_CHARS:
        return key
    return f"{key[:KEY_HEAD_CHARS]}#sha256:{_digest(key)}"


def entry_key(entry: Entry) -> str:
    """The exact identity of ``entry`` within its source (layer 1, see the module doc)."""
    if entry.guid:
        return bounded_key(f"{entry.source}#guid:{entry.guid}")
    if entry.link:
        return bounded_key(f"{entry.source}#link:{entry.link}")
    if entry.source.startswith(SEED_PREFIX):
        return entry.source
    return f"{entry.source}#hash:{_digest(entry.title or '', entry.content)[:32]}"


def content_hash(doc: Document) -> str:
    """A hash of what a reader sees; when it changes the stored item is updated."""
    return _digest(doc.title, doc.link or "", doc.text)


# ---------------------------------------------------------- layer 2: article


@functools.lru_cache(maxsize=16)  # one text is keyed and shingled in turn
def dedup_text(text: str) -> str:
    """The text as the content layers compare it: letters and digits only, case folded.

    Whitespace, punctuation and line breaks differ between a page and its copy;
    the words do not.
    """
    if text.isascii():
        # Same result, an order of magnitude faster: for ASCII, casefold is lower and
        # ``\W`` / ``_`` are exactly the bytes that are not letters or digits.
        return text.lower().encode("ascii").translate(None, _NOT_ALNUM_BYTES).decode("ascii")
    return _NON_WORD.sub("", text.casefold())


def exact_keys(doc: Document) -> tuple[str, ...]:
    """The cross-source keys of ``doc`` (layer 2): canonical URL, then normalized-text hash.

    Each key names one article wherever it was found; the store keeps each key
    once (``cluster_keys.key``), so two workers cannot start two clusters for it.
    """
    keys: list[str] = []
    if doc.link and doc.link.startswith(("http://", "https://")):
        keys.append(bounded_key(f"url:{doc.link}"))
    text = dedup_text(doc.text)
    if len(text) - SHINGLE_CHARS + 1 >= MIN_SHINGLES:
        keys.append(f"text:{_digest(text)[:40]}")
    return tuple(keys)


# ------------------------------------------------------ layer 3: near duplicate


def shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the distinct character shingles of ``dedup_text(text)``.

    A polynomial rolling hash over code points, vectorized: stable across
    processes (unlike ``hash()``), so persisted signatures stay comparable.
    """
    folded = dedup_text(text)
    if len(folded) < SHINGLE_CHARS:
        return np.empty(0, dtype=np.uint32)
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE_CHARS + 1
    # 1_000_003 is the multiplier of CPython's old string hash; wraps mod 2**64 by design.
    # In place, on one array: h = ((c0*M + c1)*M + c2)... without a temporary per step.
    h = codes[:n].copy()
    for j in range(1, SHINGLE_CHARS):
        h *= np.uint64(1_000_003)
        h += codes[j : j + n]
    h ^= h >> np.uint64(29)
    # Sorted distinct values, as np.unique gives, but several times faster on these
    # sizes (np.unique hashes first, then sorts the distinct values anyway).
    hashes = np.sort(h.astype(np.uint32))  # astype keeps the low 32 bits
    distinct = np.empty(len(hashes), dtype=bool)
    distinct[:1] = True
    np.not_equal(hashes[1:], hashes[:-1], out=distinct[1:])
    return hashes[distinct]


#: MurmurHash3's 32-bit finalizer (shifts and multipliers), the pre-mix of datasketch's
#: "affine32" scheme: signatures made here equal datasketch's (``tests/test_dedup.py``).
_FMIX32 = (
    np.uint32(16),
    np.uint32(0x85EBCA6B),
    np.uint32(13),
    np.uint32(0xC2B2AE35),
    np.uint32(16),
)


class Signer:
    """Makes MinHash signatures with one fixed set of permutations.

    The signatures are datasketch's ``MinHash`` of the "affine32" scheme, seeded with
    ``MINHASH_SEED``: the same permutations, drawn the same way, and the same
    arithmetic (``tests/test_dedup.py`` checks them equal), so every signature made
    here, today or after a restart, is comparable with every other. It is computed
    here in one numpy pass; datasketch itself calls a hash function per shingle in
    Python, and importing it (it brings scipy) costs each process about 80 MB.
    """

    def __init__(self, num_perm: int = NUM_PERM) -> None:
        self.num_perm = num_perm
        # datasketch's ``MinHash._init_permutations`` for "affine32": odd multipliers.
        gen = np.random.RandomState(MINHASH_SEED)
        self._a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def sign(self, text: str) -> tuple[np.ndarray | None, int]:
        """(signature, shingle count); no signature for a text under ``MIN_SHINGLES``."""
        hashes = shingle_hashes(text)
        if len(hashes) < MIN_SHINGLES:
            return None, int(len(hashes))
        s1, m1, s2, m2, s3 = _FMIX32
        hv = hashes ^ (hashes >> s1)
        hv = hv * m1  # uint32 arithmetic wraps mod 2**32, as the scheme intends
        hv = hv ^ (hv >> s2)
        hv = hv * m2
        hv = hv ^ (hv >> s3)
        # (num_perm, n) rather than (n, num_perm): the min then runs along contiguous rows.
        permuted = np.multiply.outer(self._a, hv)
        permuted += self._b[:, None]
        signature = permuted.min(axis=1)
        return signature, int(len(hashes))


def similarity(
    sig_a: np.ndarray, sig_b: np.ndarray, size_a: int, size_b: int
) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment of the smaller set in the larger).

    Containment follows from Jaccard and the set sizes: |A∩B| = J(|A|+|B|)/(1+J).
    """
    jaccard = float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
    smaller = min(size_a, size_b)
    if smaller <= 0:
        return jaccard, 0.0
    common = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return jaccard, min(1.0, common / smaller)


def is_near_duplicate(jaccard: float, containment: float, threshold: float) -> bool:
    return jaccard >= threshold or containment >= max(CONTAINMENT_MIN, threshold)


def lsh_bands(num_perm: int, threshold: float) -> tuple[int, int]:
    """(bands, rows) for banded LSH whose S-curve midpoint lies at or below ``threshold``.

    Two signatures become candidates when all rows of one band agree; the
    chance is 1-(1-J^r)^b, which turns at about (1/b)^(1/r). The most rows that
    keep that point at or under the threshold keep recall high and candidates few.
    """
    best = (num_perm // 2, 2)
    for rows in range(2, num_perm + 1):
        if num_perm % rows:
            continue
        bands = num_perm // rows
        if bands >= 2 and (1.0 / bands) ** (1.0 / rows) <= threshold:
            best = (bands, rows)
    return best


# ----------------------------------------------------------- layer 4: event


@dataclass(frozen=True, slots=True)
class MatchFacts:
    """What the event rule compares of one report; small, so the index keeps it for every item."""

    lang: str
    start: date | None
    end: date | None
    city: str | None
    #: The event's name and the headline, for title closeness.
    title: str
    headline: str
    organizers: frozenset[str]
    topics: frozenset[str]
    #: Session numbers named in the title ("second session", "第二期").
    sessions: frozenset[int]
    #: "training" | "expo" | "forum" | None, from the title's words.
    kind: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "city": self.city,
            "title": self.title,
            "headline": self.headline,
            "organizers": sorted(self.organizers),
            "topics": sorted(self.topics),
            "sessions": sorted(self.sessions),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> MatchFacts:
        def day(value: object) -> date | None:
            return date.fromisoformat(str(value)) if value else None

        def names(value: object) -> frozenset[str]:
            return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()

        sessions = data.get("sessions")
        return cls(
            lang=str(data.get("lang") or ""),
            start=day(data.get("start")),
            end=day(data.get("end")),
            city=str(data["city"]) if data.get("city") else None,
            title=str(data.get("title") or ""),
            headline=str(data.get("headline") or ""),
            organizers=names(data.get("organizers")),
            topics=names(data.get("topics")),
            sessions=frozenset(int(s) for s in sessions)
            if isinstance(sessions, list)
            else frozenset(),
            kind=str(data["kind"]) if data.get("kind") else None,
        )


def _session_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if token.lower() in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[token.lower()]
    return cn_number(token)


def session_numbers(*titles: str) -> frozenset[int]:
    """Session numbers named in ``titles``: "the first session of …", "第二期…"."""
    found: set[int] = set()
    for title in titles:
        for match in _SESSION_EN.finditer(title):
            n = _session_number(match.group(1) or match.group(2))
            if n is not None:
                found.add(n)
        for match in _SESSION_ZH.finditer(title):
            n = _session_number(match.group(1))
            if n is not None:
                found.add(n)
    return frozenset(found)


def event_kind(*titles: str) -> str | None:
    for title in titles:
        for kind, pattern in _KINDS:
            if pattern.search(title):
                return kind
    return None


def _org_key(name: str) -> str:
    return dedup_text(name)


def match_facts(doc: Document, event: EventFacts, *, relevant: bool = False) -> MatchFacts:
    """What the event layer compares of a report. A report relevance keeps is a
    training event whatever other words its title has; only others get a kind
    from their words."""
    title = event.title or doc.title
    kind = "training" if relevant else event_kind(title, doc.title, doc.text[:KIND_TEXT_CHARS])
    return MatchFacts(
        lang=doc.lang,
        start=event.start,
        end=event.end,
        city=event.city,
        title=title,
        headline=doc.title,
        organizers=frozenset(_org_key(o) for o in event.organizers if _org_key(o)),
        topics=frozenset(event.topics),
        sessions=session_numbers(title, doc.title),
        kind=kind,
    )


def title_terms(title: str, city: str | None = None) -> frozenset[str]:
    """What names *this* event in a title: English words and Chinese character bigrams,
    without the words every event title has ("training course", "held in", "举办",
    "培训班"), years, or the city.

    Headlines of one organiser's courses share most of their words ("… Training
    Course Opens in Xi'an"); only what is left tells them apart.
    """
    text = title.casefold()
    words = {w for w in _EN_WORD.findall(text) if w not in _TITLE_STOP and not _YEAR.match(w)}
    if city:
        words -= set(_EN_WORD.findall(city.casefold()))
    grams: set[str] = set()
    for run in _CJK_RUN.findall(_ZH_TITLE_STOP.sub(" ", text)):
        run = run.strip()
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            grams.add(run)
    return frozenset(words | grams)


def title_similarity(a: str, b: str, city: str | None = None) -> float:
    """Dice coefficient of the titles' distinctive terms (``title_terms``)."""
    x, y = title_terms(a, city), title_terms(b, city)
    if not x or not y:
        return 0.0
    return 2.0 * len(x & y) / (len(x) + len(y))


def conflict(a: MatchFacts, b: MatchFacts) -> str | None:
    """Why ``a`` and ``b`` cannot be one event, or None when nothing they state disagrees."""
    if a.start and b.start and a.start != b.start:
        return "start dates differ"
    if _ranged(a) and _ranged(b) and a.end != b.end:
        # A single date is often just the opening day a report names ("开班"), so
        # only two stated ranges can disagree on the end.
        return "end dates differ"
    if a.city and b.city and a.city != b.city:
        return "cities differ"
    if a.sessions and b.sessions and a.sessions.isdisjoint(b.sessions):
        return "session numbers differ"
    if a.kind and b.kind and a.kind != b.kind:
        return "kinds of event differ"
    return None


def _ranged(facts: MatchFacts) -> bool:
    return facts.end is not None and facts.end != facts.start


def _languages_differ(a: MatchFacts, b: MatchFacts) -> bool:
    return {a.lang, b.lang} == {"en", "zh"}


def _named(facts: MatchFacts) -> bool:
    """The report names its event: a name found apart from the headline ("… Training
    Course" in "… Training Course Opens in Xi'an"), or a headline that is a name."""
    return facts.title != facts.headline or _NAME_END.search(facts.headline) is not None


def _same_facts(a: MatchFacts, b: MatchFacts) -> str | None:
    """The same start, end, city, kind and most topics: one event however it is worded.

    Unless both reports name their events and the names differ: one organizer's
    two courses side by side share every other fact.
    """
    if not (a.end and b.end and a.end == b.end and a.kind and a.kind == b.kind):
        return None
    shared = a.topics & b.topics
    if len(shared) < FACTS_TOPICS * max(1, min(len(a.topics), len(b.topics))):
        return None
    if (
        _named(a)
        and _named(b)
        and not _languages_differ(a, b)
        and title_similarity(a.title, b.title, a.city) < WEAK_TITLE
    ):
        return None
    return f"same start, end, city and kind; topics {sorted(shared)}"


def same_event(a: MatchFacts, b: MatchFacts) -> tuple[str, bool] | None:
    """Why ``a`` and ``b`` report one event (layer 4), and whether by facts alone; or None.

    Both must state the same start date and the same city, and nothing may
    conflict. Then, in one language: a close title (the event's name or the
    headline), or overlapping organizers with a title not unlike. A repost may
    rewrite the headline but keeps the event's name; one organiser's two
    courses share organizers but not names.

    Failing that, in any language (titles and organizer names of an English and
    a Chinese report share no strings; a rewrite may share no sentence): the
    same start *and* end date, the same city, the same kind of event, and most
    topics in common (topics are the profile's labels, the same in every
    language), unless both name their events and the names differ. Two
    different trainings starting and ending on the same days in the same city
    on the same topics would still merge this way; ``decide`` therefore merges
    by facts alone only when exactly one cluster qualifies.
    """
    if not (a.start and b.start and a.city and b.city):
        return None
    if a.start != b.start or a.city != b.city or conflict(a, b):
        return None
    if not _languages_differ(a, b):
        title = max(
            title_similarity(a.title, b.title, a.city),
            title_similarity(a.headline, b.headline, a.city),
        )
        if title >= CLOSE_TITLE:
            return f"same start and city; titles alike ({title:.2f})", False
        if a.organizers & b.organizers and title >= WEAK_TITLE:
            return f"same start and city; organizers overlap; titles alike ({title:.2f})", False
    why = _same_facts(a, b)
    return (why, True) if why else None


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Everything the dedup layers compare of one item."""

    keys: tuple[str, ...]
    signature: np.ndarray | None
    shingles: int
    facts: MatchFacts


@dataclass(frozen=True, slots=True)
class Candidate:
    """A cluster an index found for an item, by one layer, with all its members' facts."""

    cluster: str
    layer: Layer
    members: tuple[MatchFacts, ...]
    #: Near-duplicate layer: the estimated (Jaccard, containment) with the closest member.
    jaccard: float = 0.0
    containment: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """Which cluster an item joins (None: it starts one), by which layer, and why."""

    cluster: str | None
    layer: Layer
    reason: str


_LAYER_ORDER: tuple[Layer, ...] = ("url", "text", "near", "event")


def kept_fingerprint(item: Item, signer: Signer) -> Fingerprint:
    """The fingerprint the worker keeps of ``item``: whole for an item relevance keeps;
    facts alone (cheap) for one it drops, which never meets the dedup index
    (``worker rescore`` makes the whole one if the item is kept later)."""
    if item.relevance.relevant:
        return fingerprint(item, signer)
    facts = match_facts(item.doc, item.event, relevant=False)
    return Fingerprint(keys=(), signature=None, shingles=0, facts=facts)


def fingerprint(item: Item, signer: Signer) -> Fingerprint:
    signature, shingles = signer.sign(item.doc.text)
    return Fingerprint(
        keys=exact_keys(item.doc),
        signature=signature,
        shingles=shingles,
        facts=match_facts(item.doc, item.event, relevant=item.relevance.relevant),
    )


def _conflicts(facts: MatchFacts, members: Iterable[MatchFacts]) -> str | None:
    for member in members:
        why = conflict(facts, member)
        if why:
            return why
    return None


def decide(
    facts: MatchFacts,
    candidates: Sequence[Candidate],
    *,
    threshold: float,
    cross_language: bool = True,
) -> Decision:
    """The cluster an item with ``facts`` joins, given what the index found.

    Does not interact with any dependency, only processes data. Layers are
    tried in order (see the module doc); within a layer the first candidate
    that passes wins. A candidate whose members conflict with the item is
    skipped at every layer: two reports that state different dates, cities or
    session numbers are never merged, however alike their text.
    """
    by_layer: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_layer.setdefault(c.layer, []).append(c)
    for layer in _LAYER_ORDER:
        for c in by_layer.get(layer, ()):
            if _conflicts(facts, c.members):
                continue
            if layer in ("url", "text"):
                return Decision(c.cluster, layer, f"same {'link' if layer == 'url' else 'text'}")
            if layer == "near" and is_near_duplicate(c.jaccard, c.containment, threshold):
                return Decision(
                    c.cluster,
                    "near",
                    f"near-duplicate text (J={c.jaccard:.2f}, C={c.containment:.2f})",
                )
        if layer == "event":
            return _decide_event(facts, by_layer.get("event", ()), cross_language)
    return Decision(None, "new", "no earlier report")


def _decide_event(
    facts: MatchFacts, candidates: Sequence[Candidate], cross_language: bool
) -> Decision:
    """A report that names the event alike wins; by facts alone, only a single match."""
    by_words: list[tuple[str, str]] = []
    by_facts: dict[str, tuple[str, bool]] = {}
    for c in candidates:
        if _conflicts(facts, c.members):
            continue
        for member in c.members:
            found = same_event(facts, member)
            if found is None:
                continue
            why, facts_only = found
            across = _languages_differ(facts, member)
            if not facts_only:
                by_words.append((c.cluster, why))
                break
            if cross_language or not across:
                by_facts.setdefault(c.cluster, (why, across))
    if by_words:
        cluster, why = by_words[0]
        return Decision(cluster, "event", why)
    if len(by_facts) == 1:
        ((cluster, (why, across)),) = by_facts.items()
        return Decision(cluster, "event-xlang" if across else "event", why)
    if len(by_facts) > 1:
        return Decision(None, "new", f"{len(by_facts)} events qualify by facts; none merged")
    return Decision(None, "new", "no earlier report")
