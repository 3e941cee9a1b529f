"""The event's place: city, country and venue of the event a Document reports.

Every city the gazetteer finds in the title and text is a candidate; each
mention is described by what a reader would look at (in a labelled venue line
such as "地点：" / "Venue:" / "Ort:" / "会場：", after "in" / "在", before "举办",
in the title, in the lead, inside an organizer's name, before "-based", in a
dateline, in the footer, in a sentence about another edition of the course …),
and a candidate city gathers the features of its mentions. A linear model
scores the candidates: the ``places`` model of the profile's learned weights
(``worker train``; :func:`training_rows` gives it one row per candidate city of
a labelled document) or, without one, hand-set weights. The best city wins when
its score reaches the model's threshold; an online-only event whose host's city
is not stated gets none.

Pure: the profile carries the gazetteer and the weights; no I/O.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.model import Document
from worker.pipeline.gazetteer import Place, PlaceMention
from worker.pipeline.learn import LinearModel
from worker.pipeline.orgs import find_organizers
from worker.pipeline.profile import Profile

#: The model key in the profile's weights.
MODEL = "places"
#: L2 strength for ``worker train``: few documents, so keep the weights modest.
L2 = 1.0
#: The first this many characters of the body are its lead.
LEAD_CHARS = 400
#: The body's last this share of characters is its footer, where addresses sit ...
FOOTER_SHARE = 0.15
#: ... in a text at least this long.
FOOTER_MIN_CHARS = 800
#: Characters either side of a mention read for cue words.
BEFORE, AFTER = 16, 12
#: How far before a mention, within its sentence, another edition's cue counts.
EDITION_REACH = 60
#: How far before a mention an address that ends with it may begin.
ADDRESS_REACH = 100
#: A line this short may be a label alone ("三、培训地点", "## Venue") with the value below.
LABEL_ALONE_CHARS = 24
#: Features are read from a city's first this many mentions (and any in a labelled line).
READ_MENTIONS = 4

# --------------------------------------------------------------- cue words
# Each pattern is a class of wording, in the languages the worker reads.

#: Right before a place: "in", "at", "held in", "在", "于", "赴", German "in der",
#: Spanish "en", Portuguese "em", Vietnamese "tại" / "ở".
_CUE_BEFORE = re.compile(
    r"(?:\b(?:in|at|near|held in|hosted in|venue|city of|en|em|na|no|tại|ở|in der|im|bei)|"
    r"在|于|赴|到|来到|走进|落地|落户|地点[:：]?|位于)\s*(?:(?:the|its|their|our|his|her)\s+)?$"
)
#: Right after a place: "举办", "开班", "站" (a stop of a series), Japanese "で開催".
_CUE_AFTER = re.compile(
    r"^\s*(?:市)?(?:举办|举行|召开|开班|开幕|开课|开营|开讲|成功举办|顺利举办|隆重举行|站|分站|"
    r"で開催|にて|で|会場)"
)
#: A sentence that says the event happens: held, organised, will run, 举办, 開催, findet statt …
_EVENT_VERB = re.compile(
    r"\b(?:held|hold|holds|hosted|hosts|host|organi[sz]ed|organi[sz]ing|conduct(?:s|ed|ing)?|"
    r"will run|runs|ran|took place|take place|takes place|kick(?:s|ed)? off|opened|"
    r"findet|fand|statt|veranstalt\w*|realiza\w*|celebra\w*|llevará|acontece\w*|"
    r"diễn ra|tổ chức)\b|举办|举行|召开|开班|开展|开营|开课|开幕|培训|研修|開催|実施"
)
#: Another edition or session than the reported one: "also offered", "the next
#: cohort", "following the programme held in", "第二期拟于", "分站", "Nach dem … in".
_OTHER_EDITION = re.compile(
    r"\b(?:also (?:be )?(?:offered|held|run|scheduled|available|planned|organi[sz]ed|conducted)|"
    r"another|previous|earlier|first edition|last edition|edition held|follow(?:s|ed|ing)|"
    r"after the|last (?:year|month)|spring|autumn|upcoming|future|sister|"
    r"auch|zudem|bereits|nach dem|frühjahr\w*|próxim\w*|anterior|también)\b|"
    r"下一期|下期|上一期|往期|此前|前两期|拟于|另行|同步|分站|巡回|也将|还将"
)
#: The end of an address after "at" / "in": "at the LEIA Conference Hall, Focal Point, <city>".
_ADDRESS_TAIL = re.compile(
    r"\b(?:at|in)\b(?:(?!\b(?:and|with|for|by|from|to|which|who|will|was|is)\b)[^.;!?]){0,80},\s*$"
)
#: A WeChat post's header tag: "原创 某某 2025年06月10日 10:00 上海" (where it was posted).
_TAG_BEFORE = re.compile(r"\d{1,2}:\d{2}\s*$")
#: After a place: the organizer's home, not the venue ("a Pune-based provider").
_BASED_AFTER = re.compile(r"^[-\s]?(?:based|headquartered)\b")
#: Before a place: "总部位于", "headquartered in", "con sede en", "mit Sitz in".
_BASED_BEFORE = re.compile(
    r"(?:总部位于|总部设在|坐落于|headquartered in|based in|con sede en|com sede em|"
    r"mit sitz in)\s*$",
)
#: A seat stated with the country or as an address: "Cali, Colombia", "(北九州市八幡東区)".
_SEAT_AFTER = re.compile(r"^,\s*(?:[A-Z][a-z]+ )?[A-Z][a-z]+\b(?! [A-Z])|^[^\s（(）)]{0,8}[区町]")
_SEAT_BEFORE = re.compile(r"[（(]\s*$")
#: After a place: a venue named after the city ("Manchester Science Park", "深圳会展中心").
_VENUE_AFTER = re.compile(
    r"^\s*(?:Science Park|Convention|Exhibition|Expo|Campus|Trade Fair|Messe|International "
    r"Airport|会议中心|会展中心|国际会议中心|展览馆|博览中心|酒店|宾馆|饭店|大厦|校区|实训基地|"
    r"产业园|科技园|创新园)"
)
#: After an English place: a capitalized word makes the name part of a longer
#: one ("Nanyang Drive", "Detroit Regional …"), unless it is the place's own kind.
_LONGER_NAME = re.compile(r"^ (?!Province|City|Municipality|District|Area|Region)[A-Z][a-z]")
#: Before an English place: a capitalized word of the same name ("Polytechnic University").
_NAME_BEFORE = re.compile(r"[A-Z][\w'’.&-]* $")
#: After a Chinese place: an organization's name (温州市委, 南京市工业和信息化局, 苏州大学).
_ORG_AFTER = re.compile(
    r"^(?:市)?(?:委|人民政府|政府|[^\s，。、]{0,12}?(?:局|厅|委员会|协会|学会|商会|大学|学院|公司|"
    r"集团|研究院|中心|管委会))"
)
#: Before a place in a street address: "路", "街" after the name make it a street (南京路).
_STREET_AFTER = re.compile(r"(?:[东西南北中]?路|大街|街|大道|时间)")
#: A dateline: "PUNE, 29 November —", "KUALA LUMPUR, 15 Sept", "新华社北京6月12日电".
_DATELINE_AFTER = re.compile(r"^(?:\s*,\s*(?:\d|[A-Z][a-z]{2,8}\.? \d)|\s*\d{1,2}月\d{1,2}日电)")
#: Where a footer's contact or address lines begin (matched on lowercased text).
_FOOTER_CUES = (
    "联系人",
    "联系电话",
    "联系方式",
    "咨询电话",
    "地址：",
    "地址:",
    "版权所有",
    "copyright",
    "©",
    "contact:",
    "contact us",
    "address:",
    "impressum",
    "kontakt",
    "contacto",
    "お問い合わせ",
    "liên hệ",
)
#: Words without which a page is not about an online event (a cheap test first).
_ONLINE_WORDS = (
    "online",
    "virtual",
    "webinar",
    "zoom",
    "google meet",
    "teams",
    "webex",
    "en línea",
    "trực tuyến",
    "线上",
    "直播",
    "腾讯会议",
    "云上",
    "オンライン",
)
#: An online event: the event's own mode is online ("Mode: Online", "an online FDP",
#: "delivered via Zoom", "webinar", "线上直播", "オンラインで開催", "curso virtual").
_ONLINE = re.compile(
    r"\b(?:mode|format|modality|modalidad|modalidade|format)\s*:\s*\**\s*(?:100\s*%\s*)?"
    r"(?:online|virtual|virtuell)|"
    r"\b(?:live |fully |entirely |100\s*% )?(?:online|virtual)[- ](?:course|programme|program|"
    r"fdp|sttp|workshop|training|session|class|classes|bootcamp|seminar|event|intensive|edition|"
    r"masterclass|certificate|curso|clases|sesiones|seminário|formação)|"
    r"\b(?:curso|taller|seminario|capacitación|formação|curso) (?:virtual|online|en línea)|"
    r"\b(?:held|delivered|conducted|run|taught|offered|streamed) (?:entirely |fully |live )?"
    r"(?:online|virtually)|\bvia (?:zoom|google meet|microsoft teams|webex)|webinar|"
    r"online-(?:seminar|schulung|kurs|training|veranstaltung)|trực tuyến|"
    r"线上|网络直播|在线直播|直播方式|腾讯会议|云上|オンライン"
)
#: An in-person event after all: "in person", "hybrid", "线下", "现场".
_IN_PERSON = re.compile(
    r"\bin[- ]person\b|\bhybrid\b|\bon[- ]site\b|\boffline\b|präsenz|presencial|presencial|"
    r"线下|现场教学|实地"
)

# ------------------------------------------------------------ venue lines

#: Labels of the venue line, in the languages the worker reads.
_VENUE_LABEL = re.compile(
    r"(?:培训地点|活动地点|会议地点|举办地点|上课地点|开班地点|报到地点|地点|会场|场地|"
    r"venue|location|place|where|会場|開催場所|開催地|場所|"
    r"veranstaltungsort|tagungsort|ort|lugar|sede|local|localização|địa điểm)",
    re.IGNORECASE,
)
#: Labels of an address, which is the venue's or the publisher's.
_ADDRESS_LABEL = re.compile(
    r"(?:地址|address|adresse|dirección|endereço|địa chỉ|住所)", re.IGNORECASE
)
#: What decorates a label in Markdown, lists, tables and numbered notices.
_LABEL_LEAD = re.compile(
    r"^[\s>#*_|\-–•·]*(?:[一二三四五六七八九十]+、|[(（]?[\d一二三四五六七八九十]+[.)）、]\s*)?[\s*_]*"
)
_SECOND_LABEL = re.compile(rf"\s*/?\s*(?:{_VENUE_LABEL.pattern}|{_ADDRESS_LABEL.pattern})", re.I)
_LABEL_TAIL = re.compile(r"[\s*_]*(?:[:：|]|$)[\s*_|]*")
_VENUE_VALUE = re.compile(r"[^\n。;；|]{2,120}")

#: A venue named in running text: "在…酒店举办", "at the … Centre".
_VENUE_NOUNS_EN = (
    r"Hotel|Center|Centre|Hall|Campus|Building|Tower|Plaza|Auditorium|Convention Center|"
    r"Conference Center|Park|Institute|University|Academy|Exhibition Center|Resort"
)
_VENUE_EN = re.compile(
    rf"at(?<!\wat)\s+(?:the\s+)?((?:[A-Z0-9][\w'’&.\-]*\s+(?:(?:of|for|and|the|&)\s+)*){{0,7}}(?:{_VENUE_NOUNS_EN}))\b"
)
_VENUE_ZH = re.compile(
    r"(?:在|于)([^，,。；;在于\n]{2,30}?(?:酒店|宾馆|饭店|会议中心|国际会议中心|大厦|会堂|报告厅|"
    r"会议室|培训中心|学院|大学|基地|园区|展览馆|中心|校区|礼堂|实训室))"
)


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled value in the text: [begin, end) and whether it is a venue or an address."""

    begin: int
    end: int
    venue: bool


def labelled_spans(text: str) -> list[Span]:
    """Values of venue and address lines: "地点：…", "**Venue:** …", "| Ort | … |", or a
    label alone on its line ("三、培训地点", "## Venue") with the value on the next."""
    spans: list[Span] = []
    line_start = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        span = _labelled_value(line, line_start, lines, i)
        if span is not None:
            spans.append(span)
        line_start += len(line) + 1
    return spans


def _labelled_value(line: str, line_start: int, lines: list[str], i: int) -> Span | None:
    if len(line) > 200:
        return None
    if ":" not in line and "：" not in line and "|" not in line and len(line) > LABEL_ALONE_CHARS:
        return None  # neither "label: value" nor a label alone on its line
    lead = _LABEL_LEAD.match(line)
    at = lead.end() if lead else 0
    for pattern, venue in ((_VENUE_LABEL, True), (_ADDRESS_LABEL, False)):
        label = pattern.match(line, at)
        if label is None:
            continue
        # A bilingual label: "Venue 地点:", "Ort / Venue:".
        second = _SECOND_LABEL.match(line, label.end())
        tail = _LABEL_TAIL.match(line, second.end() if second else label.end())
        if tail is None:
            continue
        if tail.end() < len(line):  # the value follows on the same line
            value = _VENUE_VALUE.match(line, tail.end())
            return Span(line_start + tail.end(), line_start + value.end(), venue) if value else None
        # A label alone on its line: the value is the next line with text.
        start = line_start + len(line) + 1
        for following in lines[i + 1 : i + 3]:
            if following.strip():
                return Span(start, start + min(len(following), 160), venue)
            start += len(following) + 1
        return None
    return None


def venue_text(text: str, spans: list[Span]) -> str | None:
    """The venue as written: the labelled venue line, else "在…中心" / "at the … Centre"."""
    for span in spans:
        if span.venue:
            value = text[span.begin : span.end].strip(" *_|,，.")
            if value:
                return value
    for pattern in (_VENUE_ZH, _VENUE_EN):
        match = pattern.search(text)
        if match:
            return match.group(1).strip(" ,，.")
    return None


# ------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class _Context:
    """What every mention of one document is read against."""

    text: str
    #: ``text`` lowercased, offsets unchanged: the cue words are matched on it.
    lowered: str
    title_end: int
    body_start: int
    footer_start: int
    spans: tuple[Span, ...]
    organizers: tuple[str, ...]
    online: bool
    #: Where sentences end (see ``_SENTENCE_END``), in order.
    stops: list[int] = field(default_factory=list)
    #: Sentence start -> whether it says an event happens, filled as mentions ask.
    event_sentences: dict[int, bool] = field(default_factory=dict)


@dataclass
class Candidate:
    """One city and what its mentions say about it."""

    place: Place
    features: dict[str, float] = field(default_factory=dict)
    mentions: int = 0


#: Where sentences end: 。！？!? and line breaks, or a full stop before a space.
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?= )")


def _sentence(ctx: _Context, begin: int, end: int) -> tuple[int, int]:
    """[lo, hi): the sentence around the mention at [begin, end)."""
    stops = ctx.stops
    i = bisect_left(stops, begin)
    lo = stops[i - 1] + 1 if i else 0
    j = bisect_left(stops, end, i)
    hi = stops[j] if j < len(stops) else len(ctx.text)
    return lo, hi


def _event_sentence(ctx: _Context, lo: int, hi: int) -> bool:
    """Whether the sentence [lo, hi) says an event happens (once per sentence)."""
    found = ctx.event_sentences.get(lo)
    if found is None:
        found = ctx.event_sentences[lo] = _EVENT_VERB.search(ctx.lowered, lo, hi) is not None
    return found


def _mention_features(m: PlaceMention, ctx: _Context) -> dict[str, float]:
    text, lowered = ctx.text, ctx.lowered
    before = text[max(0, m.begin - BEFORE) : m.begin]
    low_before = lowered[max(0, m.begin - BEFORE) : m.begin]
    after = text[m.end : m.end + AFTER]
    lo, hi = _sentence(ctx, m.begin, m.end)
    sentence_before = lowered[max(lo, m.begin - ADDRESS_REACH) : m.begin]
    line_start = text.rfind("\n", 0, m.begin) + 1
    in_span = [s for s in ctx.spans if s.begin <= m.begin < s.end]
    venue_after = _VENUE_AFTER.match(after) is not None
    longer_name = not venue_after and m.surface.isascii() and _LONGER_NAME.match(after) is not None
    cue = _CUE_BEFORE.search(low_before) is not None
    f = {
        "title": m.begin < ctx.title_end,
        "venue_line": any(s.venue for s in in_span),
        "address_line": any(not s.venue for s in in_span),
        "cue_before": cue and not longer_name,
        # "at the Tokai Industrial Training Center": the cue governs a name the place begins.
        "cue_name": cue and longer_name,
        "address_tail": sentence_before.rstrip().endswith(",")
        and _ADDRESS_TAIL.search(sentence_before) is not None,
        "cue_after": _CUE_AFTER.match(after) is not None,
        "event_sentence": _event_sentence(ctx, lo, hi),
        "other_edition": _OTHER_EDITION.search(sentence_before[-EDITION_REACH:]) is not None,
        "location_tag": _TAG_BEFORE.search(before) is not None,
        "lead": ctx.body_start <= m.begin < ctx.body_start + LEAD_CHARS,
        "footer": m.begin >= ctx.footer_start,
        "dateline": m.begin - line_start <= 2 and _DATELINE_AFTER.match(after) is not None,
        "based": bool(_BASED_AFTER.match(after.lower()) or _BASED_BEFORE.search(low_before)),
        "stated_seat": _SEAT_AFTER.match(after) is not None
        or _SEAT_BEFORE.search(before) is not None,
        "venue_after": venue_after,
        "name_before": m.surface.isascii() and _NAME_BEFORE.search(before) is not None,
        "longer_name": longer_name,
        "org_after": not m.surface.isascii() and _ORG_AFTER.match(after) is not None,
        "in_organizer": any(m.surface in org for org in ctx.organizers),
        "part": m.part,
    }
    return {name: 1.0 for name, on in f.items() if on}


def _is_noise(m: PlaceMention, ctx: _Context) -> bool:
    """A mention that names no place: 南京路 (a street), "Reading" with no place cue."""
    text = ctx.text
    if not m.surface.isascii() and _STREET_AFTER.match(text, m.end):
        return True
    before = text[max(0, m.begin - BEFORE) : m.begin]
    if before.endswith("The ") and m.surface.isascii():
        return True  # "at The Hub Training Centre": a name, not the town of Hub
    if m.common:  # "Reading", "Mobile": a place only after "in" / "at" or in a venue line
        if _NAME_BEFORE.search(before):
            return True  # "Polytechnic University": a word of a longer name
        return not _in_spans(m, ctx) and _CUE_BEFORE.search(before.lower()) is None
    return False


def _choose(m: PlaceMention, countries: frozenset[str]) -> Place:
    """Of the cities of one name, the one in a country the text names, else the likeliest."""
    if m.others:
        for place in m.candidates:
            if place.country in countries:
                return place
    return m.place


def _lower(text: str) -> str:
    """``text`` lowercased, character for character (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def _footer_start(lowered: str, title_end: int) -> int:
    """Where the footer begins: a contact or address cue in the second half, or the last
    lines of a long text."""
    half = len(lowered) // 2
    cues = [at for cue in _FOOTER_CUES if (at := lowered.find(cue, half)) >= 0]
    start = min(cues, default=len(lowered))
    if len(lowered) >= FOOTER_MIN_CHARS:  # a short text's last lines are still its body
        start = min(start, int(len(lowered) * (1 - FOOTER_SHARE)))
    return max(start, title_end + 1)


def _is_online(lowered: str) -> bool:
    if not any(word in lowered for word in _ONLINE_WORDS):  # most pages: no regex at all
        return False
    return _ONLINE.search(lowered) is not None and _IN_PERSON.search(lowered) is None


def _in_spans(m: PlaceMention, ctx: _Context) -> bool:
    return any(s.begin <= m.begin < s.end for s in ctx.spans)


def _context(doc: Document, organizers: tuple[str, ...]) -> _Context:
    text = f"{doc.title}\n{doc.text}"
    lowered = _lower(text)
    return _Context(
        text=text,
        lowered=lowered,
        title_end=len(doc.title),
        body_start=len(doc.title) + 1,
        footer_start=_footer_start(lowered, len(doc.title)),
        spans=tuple(labelled_spans(text)),
        organizers=organizers,
        online=_is_online(lowered),
        stops=[m.start() for m in _SENTENCE_END.finditer(lowered)],
    )


def candidates(
    doc: Document, profile: Profile, organizers: tuple[str, ...]
) -> tuple[list[Candidate], _Context]:
    """Every city the document mentions, with the features of its mentions gathered."""
    ctx = _context(doc, organizers)
    mentions = [m for m in profile.gazetteer.find_cities(ctx.text) if not _is_noise(m, ctx)]
    countries: frozenset[str] = frozenset()
    if any(m.others for m in mentions):  # a name of several cities: which country is meant
        named = {c.place.name for c in profile.gazetteer.find_countries(ctx.text)}
        countries = frozenset(named | {m.place.country for m in mentions if not m.others})
    by_city: dict[tuple[str, str], Candidate] = {}
    for m in mentions:
        place = _choose(m, countries)
        candidate = by_city.setdefault((place.name, place.country), Candidate(place))
        candidate.mentions += 1
        if candidate.mentions > READ_MENTIONS and not _in_spans(m, ctx):
            continue  # a city named again and again: its first mentions say enough
        for name, value in _mention_features(m, ctx).items():
            candidate.features[name] = max(candidate.features.get(name, 0.0), value)
    for candidate in by_city.values():
        _candidate_features(candidate, ctx, len(by_city))
    return list(by_city.values()), ctx


#: Features that state a place outright.
_STATED = ("cue_before", "cue_after", "venue_line", "address_line", "address_tail", "title")


def _candidate_features(candidate: Candidate, ctx: _Context, rivals: int) -> None:
    f = candidate.features
    f["mentions"] = math.log1p(candidate.mentions)
    f["alone"] = 1.0 if rivals == 1 else 0.0
    f["population"] = math.log10(max(candidate.place.population, 10_000)) - 5.0
    if ctx.online:
        f["online"] = 1.0
        # An online event's host city counts where the text states it as the host's seat.
        if f.pop("based", 0.0) or "stated_seat" in f or "dateline" in f:
            f["online_host"] = 1.0
        elif not any(k in f for k in _STATED):
            f["online_unstated"] = 1.0  # only in a name (北京航空航天大学) or in passing
    if not any(k in f for k in ("venue_line", "cue_before", "cue_after", "title", "lead")):
        f["passing"] = 1.0


# --------------------------------------------------------------- decision

#: Weights used when the profile has no learned ``places`` model.
HAND_WEIGHTS = LinearModel(
    weights={
        "title": 1.5,
        "venue_line": 3.0,
        "address_line": 1.0,
        "cue_before": 2.0,
        "cue_name": 0.5,
        "address_tail": 1.0,
        "cue_after": 2.0,
        "event_sentence": 1.0,
        "other_edition": -2.5,
        "lead": 0.8,
        "footer": -1.5,
        "dateline": 0.5,
        "location_tag": -2.0,
        "based": -2.0,
        "stated_seat": 0.3,
        "venue_after": 1.0,
        "longer_name": -1.5,
        "name_before": -1.0,
        "org_after": 0.3,
        "in_organizer": -0.3,
        "part": 0.3,
        "mentions": 1.0,
        "alone": 0.5,
        "population": 0.2,
        "online": -1.0,
        "online_unstated": -3.0,
        "online_host": 2.0,
        "passing": -1.0,
        "none": 1.0,
    },
    bias=0.0,
)


def _model(profile: Profile) -> LinearModel:
    return profile.models.get(MODEL, HAND_WEIGHTS)


#: The features of "no city": the answer when no candidate scores above it.
NO_CITY: dict[str, float] = {"none": 1.0}


def best_city(found: list[Candidate], model: LinearModel) -> Candidate | None:
    """The candidate the model ranks first, unless "no city" ranks above it."""
    if not found:
        return None
    points, best = max(((model.score(c.features), c) for c in found), key=lambda x: x[0])
    return best if points > model.score(NO_CITY) else None


def event_place(
    doc: Document, profile: Profile, organizers: tuple[str, ...]
) -> tuple[str | None, str | None, str | None]:
    """(city, country, venue): the best-ranked candidate city, unless "no city" ranks first."""
    found, ctx = candidates(doc, profile, organizers)
    venue = venue_text(ctx.text, list(ctx.spans))
    best = best_city(found, _model(profile))
    if best is not None:
        return best.place.name, best.place.country, venue
    return None, _country(ctx, profile), venue


def _country(ctx: _Context, profile: Profile) -> str | None:
    """A country stated as the place ("held in Vietnam") when no city is."""
    for mention in profile.gazetteer.find_countries(ctx.text):
        before = ctx.lowered[max(0, mention.begin - BEFORE) : mention.begin]
        if _CUE_BEFORE.search(before):
            return mention.place.name
    return None


def training_rows(
    doc: Document, profile: Profile, label: Mapping[str, Any]
) -> list[tuple[dict[str, float], bool]]:
    """Pairs of options for a relevant labelled document, as rows of a pairwise ranking.

    The options are its candidate cities and "no city" (the answer for an online
    event or a province-wide one). For the labelled option against each other one,
    the row is the difference of their features, True; and the reverse, False. A
    logistic regression on such rows learns weights whose score ranks the options
    (as :func:`best_city` uses them); a document whose city the gazetteer does not
    know teaches nothing and gives no rows.
    """
    if not label.get("relevant") or "city" not in label:
        return []
    organizers = find_organizers(f"{doc.title}\n{doc.text}")
    found, _ = candidates(doc, profile, organizers)
    options = [(c.features, c.place.name == label["city"]) for c in found]
    options.append((NO_CITY, not label["city"]))
    right = [features for features, is_right in options if is_right]
    if not right:
        return []
    rows: list[tuple[dict[str, float], bool]] = []
    for features, is_right in options:
        if not is_right:
            rows.append((_difference(right[0], features), True))
            rows.append((_difference(features, right[0]), False))
    return rows


def _difference(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    return {k: a.get(k, 0.0) - b.get(k, 0.0) for k in {*a, *b} if a.get(k, 0.0) != b.get(k, 0.0)}
