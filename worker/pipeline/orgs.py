"""Organizers and invited participants, in English and Chinese.

Organizers come from phrases such as "hosted / co-hosted / organized by …",
"主办单位：…", "由…主办", "…承办", "…协办"; participants from "welcomed X as an
invited participant", "特邀X参加", "X应邀出席". A phrase is split into names on
list separators, and a piece counts as an organization only when it looks like
one (it ends in, or contains, an organization noun, or is an acronym): "The
ceremony was hosted by Mei Ke" names a person, not an organizer.

Pure string work; the words here are about organizations in general, not the topic.
"""

from __future__ import annotations

import re

from worker.pipeline.text import is_cjk

#: English nouns that make a phrase an organization.
ORG_NOUNS_EN = frozenset(
    [
        "institute",
        "institution",
        "association",
        "platform",
        "university",
        "polytechnic",
        "ministry",
        "committee",
        "center",
        "centre",
        "council",
        "company",
        "co",
        "co.",
        "ltd",
        "ltd.",
        "limited",
        "group",
        "corporation",
        "corp",
        "corp.",
        "federation",
        "society",
        "alliance",
        "academy",
        "bureau",
        "department",
        "administration",
        "commission",
        "chamber",
        "foundation",
        "lab",
        "laboratory",
        "laboratories",
        "network",
        "consortium",
        "agency",
        "gmbh",
        "ag",
        "inc",
        "inc.",
        "llc",
        "plc",
        "school",
        "college",
        "office",
        "organization",
        "organisation",
        "union",
        "board",
        "hub",
        "initiative",
        "authority",
        "cluster",
        "secretariat",
        "park",
        "zone",
        "partnership",
        "program",
        "programme",
        "agency",
        "fraunhofer",
        "se",
        "s.a.",
        "team",
        "club",
        "enterprises",
        "enterprise",
        "industries",
        "technologies",
        "solutions",
        "systems",
        "administration",
        "government",
    ]
)
#: Chinese endings that make a phrase an organization.
ORG_SUFFIX_ZH = (
    "有限责任公司",
    "有限公司",
    "股份公司",
    "公司",
    "集团",
    "研究院",
    "研究所",
    "研究中心",
    "中心",
    "协会",
    "学会",
    "联合会",
    "商会",
    "联盟",
    "委员会",
    "管委会",
    "工作委员会",
    "平台",
    "大学",
    "学院",
    "学校",
    "部",
    "厅",
    "局",
    "委",
    "办公室",
    "办",
    "院",
    "所",
    "基地",
    "园区",
    "政府",
    "分会",
    "秘书处",
    "促进会",
    "研究会",
    "总会",
    "基金会",
    "实验室",
    "创新中心",
    "网",
    "社",
    "站",
    "署",
    "处",
    "科",
    "会",
)

#: "hosted by", "co-hosted by", "jointly organised by" ... Spelled out in both cases
#: rather than IGNORECASE so every branch starts with a literal (fast to skip to).
_EN_TRIGGER_VERBS = (
    "hosted",
    "organized",
    "organised",
    "convened",
    "run",
    "held",
    "presented",
    "delivered",
)
_EN_TRIGGER = re.compile(
    "(?:" + "|".join(v for verb in _EN_TRIGGER_VERBS for v in (verb, verb.capitalize())) + ")"
    r"\s+(?:jointly\s+)?by\s+"
)
#: "Organizers: A; B" lines, matched on "\n" + the lowercased text (a literal
#: start the engine skips to; the names are then cut from the original text).
_EN_LABEL = re.compile(
    r"\n\s*(?:co-?)?(?:organi[sz]ers?|hosts?|hosted by|organi[sz]ed by|co-?organi[sz]ers?|"
    r"organi[sz]ing (?:bodies|body|units?))\s*:\s*([^\n]+)"
)
#: "The ceremony was hosted by ...": a master of ceremonies, not an organizer.
_EN_NOT_ORGANIZER = re.compile(
    r"(?:ceremony|session|panel|dinner|meeting|discussion|opening|closing|speech|remarks)\s+"
    r"(?:was|were|is|will be)?\s*$",
    re.IGNORECASE,
)
#: Where an English list of organizers ends.
_EN_STOP = re.compile(
    r"(?:[.;:!?](?:\s|$)|\n|,\s+(?!and\b|the\b|[A-Z])|,\s+the\s+[a-z]|"
    r"\s+(?:in(?!\s+(?:cooperation|partnership|collaboration|association)\s+with)|at|on|from|during|under|"
    r"since|was|were|will|is|are|has|have|welcomed|attracted|drew|brought|gathered|took|"
    r"which|where|who|that|to|for the|as part)\b|"
    r"(?<!together)(?<!jointly)(?<!cooperation)(?<!partnership)(?<!collaboration)(?<!association)"
    r"\s+with\b|"
    r"\s+and\s+(?:is\s+|was\s+|are\s+|were\s+)?(?:co-?|jointly\s+)?"
    r"(?:organi[sz]|host|sponsor|support|run|held|deliver))"
)
#: "hosted by A, with B as co-organizer": B organizes too.
_EN_AS_ROLE = re.compile(
    r"\bwith\s+(?:the\s+)?([A-Z][^,;.\n]{2,120}?)\s+as\s+(?:an?\s+|the\s+)?"
    r"(?:co-?)?(?:organi[sz]ers?|hosts?|organi[sz]ing partners?)\b"
)
#: Cheap test before ``_EN_AS_ROLE``: it starts with a literal, so the engine skips ahead.
_EN_AS_ROLE_CUE = re.compile(r" as (?:an? |the )?(?:co-?)?(?:organi|host)")
#: "(ARTC)" after a name: the acronym repeats the name.
_EN_ACRONYM = re.compile(r"\s*\([A-Z][A-Za-z&]{1,9}\)")
#: "A together with B", "A in cooperation with B": a list separator, like "and".
_EN_WITH = re.compile(
    r"\s+(?:together|jointly|in (?:cooperation|partnership|collaboration|association)) with\s+",
    re.IGNORECASE,
)
#: "The Korea Institute for ... held a training program": the subject organizes.
_EN_SUBJECT_VERB = re.compile(
    r"(?:held|hosted|organi[sz]ed|ran|will hold|will host|will run|will organi[sz]e|is holding|"
    r"is hosting|is organi[sz]ing|holds|hosts|runs|organi[sz]es)\s+(?:a|an|the|its|their)\b"
)
#: The capitalized subject right before such a verb, from the start of its sentence.
_EN_SUBJECT = re.compile(
    r"(?:^|\n|[.!?]\s+|[—–]\s*|--\s*)(?:The\s+)?"
    r"([A-Z][\w&'’.\-]*(?:\s+(?:[A-Z][\w&'’.\-]*|of|for|and|the|&|on|in|di|de|für))*)"
    r"(?:\s+\([A-Z][A-Za-z&]{1,9}\))?$"
)
#: How far before the verb its subject may start.
_EN_SUBJECT_REACH = 150

#: Every alternative starts with a literal, so the engine can skip ahead to it.
_ZH_KINDS = "联合主办|共同主办|联合承办|主办|承办|协办|联办"
#: Endings of meetings, which share "会" with associations (协会) but organize nothing.
_ZH_MEETING_ENDINGS = (
    "培训会",
    "研讨会",
    "大会",
    "峰会",
    "年会",
    "座谈会",
    "推进会",
    "发布会",
    "交流会",
    "对接会",
    "宣贯会",
    "说明会",
    "博览会",
    "展览会",
    "展会",
    "报告会",
    "见面会",
    "签约会",
    "推介会",
    "工博会",
)
#: "西安市工业和信息化局在西安举办…": the clause's subject organizes the event.
_ZH_SUBJECT_VERB = re.compile(r"(?:举办|组织开展|组织|开展|主办)(?!单位|方)")
#: The clause before the verb: its subject, then "于<time>" and "在<place>".
_ZH_SUBJECT = re.compile(
    r"\s*([^，,。；;\n]{3,40}?)(?:于[^，,。；;\n]{1,20}?)?(?:在[^，,。；;\n]{1,25}?)?"
)
#: Characters that end a clause, looked up with str.rfind (cheaper than a backwards regex).
_ZH_CLAUSE_ENDS = "，,。；;\n"
#: How far before the verb the subject's clause may start.
_ZH_SUBJECT_REACH = 90
#: "主办单位：A、B" lines; a list may use "；" too ("承办单位：A；B").
_ZH_LABEL = re.compile(rf"(?:{_ZH_KINDS})(?:单位|方|机构)?\s*[:：]\s*([^\n。]+)")
#: The next label on the same line ("；承办单位：", "；指导单位：") ends the list.
_ZH_NEXT_LABEL = re.compile(r"[;；]?\s*[^\s;；、，,:：]{1,6}[:：]")
#: The lines that continue a label's list: each one a name alone, indented in the source.
_ZH_CONTINUATION = re.compile(r"\n([^\n:：。，,]{3,40})(?=\n|$)")
#: "由A、B联合主办" and "由A主办，B承办".
_ZH_BY = re.compile(
    rf"(?<![理因])由(?!于)([^。;；\n]{{2,160}}?)(?:联合|共同|携手)?(?:{_ZH_KINDS})(?!单位|方)"
)
#: "A主办、B承办的…": the clause before a bare 主办/承办/协办.
_ZH_BARE = re.compile(rf"(?:{_ZH_KINDS})(?!单位|方|权|城市|地|国)")
_ZH_CLAUSE_START = re.compile(r"[，,。；;：:\n由（(]")
_ZH_SPLIT = re.compile(r"\s*[、，,；;/]\s*|\s+")
#: "A与B", "A和B", "A及B" split only after an organization ending.
_ZH_AND = re.compile(r"(?:与|和|及|以及|、|联合|携手|会同)")
#: Words that open a clause but are not part of a name.
_ZH_LEAD_NOISE = re.compile(
    r"^(?:本次|此次|这次|该|本期|今年的?|活动|会议|培训|培训班|研修班|论坛|大会|"
    r"的|是|为|经|并|由|将|已|还|在|于|积极)+"
)
#: People words after a participant's organization: "华为公司专家" -> "华为公司".
_ZH_TRAIL_NOISE = re.compile(r"(?:的)?(?:专家|代表|领导|嘉宾|团队|负责人|高管|工程师|讲师)+$")

_EN_PARTICIPANT = (
    re.compile(
        r"welcom(?:ed|es|ing)\s+(.{2,120}?)\s+as\s+(?:an?\s+|the\s+)?(?:invited|special|honou?red)\s+"
        r"(?:participants?|guests?|partners?|attendees?|speakers?)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:invited participants?|special guests?|invited guests?|invited companies)\s+"
        r"(?:included|including|were|was|:)\s+([^.\n;]{2,200})",
        re.IGNORECASE,
    ),
    re.compile(
        r"([A-Z][\w&.\-]*(?:\s+[A-Z][\w&.\-]*){0,6})\s+(?:was|were)\s+invited\s+to\s+"
        r"(?:participate|attend|join|take part)"
    ),
)
#: A word each participant pattern cannot match without (lowercase).
_EN_PARTICIPANT_KEYS = ("welcom", "invited", "invited")
_ZH_PARTICIPANT_KEYS = (("特邀",), ("应邀", "受邀"), ("特邀",))
_ZH_PARTICIPANT = (
    re.compile(
        r"特邀([^，,。；;\n]{2,40}?)(?:参加|出席|参与|莅临|作|进行|担任|到场|加入|讲解|授课)"
    ),
    re.compile(r"([^，,。；;\n、]{2,40}?)(?:应邀|受邀)(?:参加|出席|参与|莅临|到场)"),
    re.compile(r"特邀(?:嘉宾|单位|企业|代表)\s*[:：]\s*([^\n。]+)"),
)


# ---------------------------------------------------------------------- English


def _words(name: str) -> list[str]:
    return name.lower().replace(",", " ").split()


def is_org_en(name: str) -> bool:
    """An organization: has an organization noun, or is an acronym/brand in capitals."""
    words = _words(name)
    if not words:
        return False
    if any(w in ORG_NOUNS_EN for w in words):
        return True
    letters = re.sub(r"[^A-Za-z]", "", name)
    if len(letters) >= 2 and letters.isupper():
        return True
    # "TU Wien", "VDMA Robotics": a leading acronym names a body
    first = name.split()[0]
    return len(first) >= 2 and first.isalpha() and first.isupper()


_JOINERS = frozenset({"of", "for", "and", "the", "&", "di", "de", "für"})
#: Words that "and" joins inside one name ("Ministry of Industry and Information
#: Technology", "Institute of Mechanical and Electrical Engineering"). After any
#: other word, as after an organization noun, "and" starts the next name.
_AND_INSIDE_NAME = frozenset(
    [
        "technology",
        "technologies",
        "engineering",
        "industry",
        "industries",
        "information",
        "science",
        "sciences",
        "economy",
        "economics",
        "trade",
        "research",
        "development",
        "innovation",
        "automation",
        "manufacturing",
        "robotics",
        "education",
        "commerce",
        "communications",
        "management",
        "design",
        "mechanical",
        "electrical",
        "electronic",
        "electronics",
        "chemical",
        "industrial",
        "civil",
        "planning",
        "quality",
        "standardization",
        "energy",
        "environment",
        "materials",
        "physics",
        "mathematics",
        "arts",
        "culture",
        "business",
        "finance",
        "health",
        "safety",
    ]
)


def _and_continues(left: str, right: str) -> bool:
    """Whether "and" between ``left`` and ``right`` may sit inside one name: a field
    word on either side ("Advanced Remanufacturing and Technology Centre")."""
    before, after = left.split(), right.split()
    return bool(before and after) and (
        before[-1].lower().strip(",.") in _AND_INSIDE_NAME
        or after[0].lower().strip(",.") in _AND_INSIDE_NAME
    )


def is_named_body_en(name: str) -> bool:
    """An organization, or a proper name of three or more capitalized words.

    Person names are mostly two words ("Mei Ke"); "High Value Manufacturing
    Catapult" is a body even though no organization noun says so.
    """
    if not name[:1].isupper() and not name[:1].isdigit():
        return False  # "the program is designed ...": prose, not a name
    if is_org_en(name):
        return True
    words = [w for w in name.split() if w.lower() not in _JOINERS]
    return len(words) >= 3 and _is_title_case(name)


def _clean_en(name: str) -> str:
    name = re.sub(r"^(?:the|its|their|both)\s+", "", name.strip(" ,.;:\"'“”()"), flags=re.I)
    return name.strip(" ,.;:\"'“”()")


def _pieces_en(phrase: str) -> list[str]:
    """Split on commas and "and"; in a comma list "A, B and C" the last "and" always splits."""
    phrase = _EN_WITH.sub(", ", _EN_ACRONYM.sub("", phrase))
    chunks = [c for c in re.split(r"\s*[,;]\s*", phrase) if c.strip()]
    pieces: list[str] = []
    for i, chunk in enumerate(chunks):
        chunk = re.sub(r"^and\s+", "", chunk.strip(), flags=re.IGNORECASE)
        parts = [p for p in re.split(r"\s+and\s+|\s*&\s*(?=the\b)", chunk) if p.strip()]
        if len(chunks) > 1 and i == len(chunks) - 1 and len(parts) > 1:
            # the list's own "and": keep it as a boundary, merge nothing across it
            pieces += [" and ".join(parts[:-1]), "\x00" + parts[-1]]
        else:
            pieces += parts
    return pieces


def split_en(phrase: str) -> list[str]:
    """ "A, B and the C and D Institute" -> ["A", "B", "C and D Institute"].

    A piece that is not an organization by itself is joined with the next one:
    "Instrumentation Technology and Economy Research Institute" is one name.
    """
    names: list[str] = []
    pending = ""
    #: The pending piece follows the list's own "and": it never joins the name before.
    hard = False
    for piece in _pieces_en(phrase):
        if piece.startswith("\x00"):
            piece = piece[1:]
            if pending:
                _flush(names, pending, hard=hard)
                pending = ""
            hard = True
        if pending and (
            piece.lower().startswith("the ")
            or (is_org_en(piece) and not _and_continues(pending, piece))
        ):
            _flush(names, pending, hard=hard)  # "the" or a whole name opens a new name
            pending = ""
        joined = f"{pending} and {piece}" if pending else piece
        if is_org_en(joined):
            names.append(joined)
            pending = ""
        else:
            pending = joined
    if pending:
        _flush(names, pending, hard=hard)
    return [n for n in (_clean_en(x) for x in names) if n]


def _is_title_case(text: str) -> bool:
    words = [w for w in text.split() if w.lower() not in _JOINERS]
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() for w in words)


def _flush(names: list[str], pending: str, *, hard: bool) -> None:
    """A leftover in Title Case ends the name before it: "... Ministry of Industry" +
    "Information Technology" is one name; anything else stands alone."""
    if (
        names
        and not hard
        and _is_title_case(pending)
        and not pending.lower().startswith("the ")
        and _and_continues(names[-1], pending)
    ):
        names[-1] = f"{names[-1]} and {pending}"
    else:
        names.append(pending)


def _en_phrase_after(text: str, start: int) -> str:
    stop = _EN_STOP.search(text, start)
    return text[start : stop.start() if stop else len(text)]


def _listed_bodies(phrase: str) -> list[str]:
    """The bodies an organizer phrase lists.

    A two-word proper name ("Automation Alley") could be a person when alone; listed
    beside an organization ("co-organised by Automation Alley and Wayne State
    University") it is one more organizer.
    """
    names = split_en(phrase)
    bodies = [n for n in names if is_named_body_en(n)]
    if not bodies:
        return []
    return [
        n
        for n in names
        if n in bodies or (len(n.split()) >= 2 and _is_title_case(n) and n[:1].isupper())
    ]


def organizers_en(text: str) -> list[str]:
    found: list[str] = []
    for match in _EN_TRIGGER.finditer(text):
        if _EN_NOT_ORGANIZER.search(text[max(0, match.start() - 40) : match.start()]):
            continue
        found += _listed_bodies(_en_phrase_after(text, match.end()))
    lowered = "\n" + text.lower()
    if len(lowered) == len(text) + 1:  # lowercasing kept every offset
        for match in _EN_LABEL.finditer(lowered):
            begin, end = match.span(1)
            found += _listed_bodies(text[begin - 1 : end - 1].rstrip(". "))
    if _EN_AS_ROLE_CUE.search(text):
        for match in _EN_AS_ROLE.finditer(text):
            found += [n for n in split_en(match.group(1)) if is_named_body_en(n)]
    for verb in _EN_SUBJECT_VERB.finditer(text):
        # The verb must start a word; the pattern starts with the verb (a literal the
        # engine skips to) rather than with the space before it.
        space = verb.start() - 1
        if space < 0 or not text[space].isspace():
            continue
        subject = _EN_SUBJECT.search(text, max(0, space - _EN_SUBJECT_REACH), space)
        if subject:
            found += [n for n in split_en(subject.group(1)) if is_org_en(n)]
    return found


# ---------------------------------------------------------------------- Chinese


def is_org_zh(name: str) -> bool:
    """Ends like an organization ("…协会", "…研究院") but not like a meeting ("…培训会")."""
    return (
        3 <= len(name) <= 40
        and name.endswith(ORG_SUFFIX_ZH)
        and not name.endswith(_ZH_MEETING_ENDINGS)
    )


def split_zh(phrase: str) -> list[str]:
    """Split "A、B与C" into names; "与/和/及" split only after an organization ending."""
    names: list[str] = []
    for part in _ZH_SPLIT.split(phrase):
        part = part.strip("“”\"'《》()（）")
        start = 0
        for match in _ZH_AND.finditer(part):
            left = part[start : match.start()]
            if is_org_zh(left):
                names.append(left)
                start = match.end()
        names.append(part[start:])
    return [_ZH_TRAIL_NOISE.sub("", _ZH_LEAD_NOISE.sub("", n)) for n in names if n]


def organizers_zh(text: str) -> list[str]:
    found: list[str] = []
    covered: list[tuple[int, int]] = []
    for match in _ZH_LABEL.finditer(text):
        listed = match.group(1)
        cut = _ZH_NEXT_LABEL.search(listed)
        names = [n for n in split_zh(listed[: cut.start()] if cut else listed) if is_org_zh(n)]
        end = match.end()
        while not cut and names:  # a list may go on over the next lines, one name each
            more = _ZH_CONTINUATION.match(text, end)
            if not more or not is_org_zh(more.group(1).strip()):
                break
            names.append(more.group(1).strip())
            end = more.end()
        found += names
        covered.append((match.start(), end))
    for match in _ZH_BY.finditer(text):
        inner = match.group(1)
        # "由A主办，B承办": the first kind word ends A; the rest is handled below.
        first = _ZH_BARE.search(inner)
        if first:
            inner = inner[: first.start()]
        found += [n for n in split_zh(inner) if is_org_zh(n)]
        covered.append((match.start(), match.start() + 1 + len(inner)))
    for match in _ZH_BARE.finditer(text):
        if any(a <= match.start() < b for a, b in covered):
            continue
        # Only the last 80 characters can hold the clause start that counts.
        window = max(0, match.start() - 80)
        starts = [m.end() for m in _ZH_CLAUSE_START.finditer(text, window, match.start())]
        begin = max(starts[-1] if starts else 0, window)
        clause = text[begin : match.start()]
        prior = list(_ZH_BARE.finditer(clause))
        if prior:
            clause = clause[prior[-1].end() :].lstrip("、，,")
        found += [n for n in split_zh(clause) if is_org_zh(n)]
    for verb in _ZH_SUBJECT_VERB.finditer(text):
        begin = max(0, verb.start() - _ZH_SUBJECT_REACH)
        clause_end = max(text.rfind(ch, begin, verb.start()) for ch in _ZH_CLAUSE_ENDS)
        if clause_end < 0 and begin > 0:
            continue  # the clause starts further back than the subject may
        subject = _ZH_SUBJECT.fullmatch(text, clause_end + 1, verb.start())
        name = _ZH_LEAD_NOISE.sub("", subject.group(1)) if subject else ""
        if is_org_zh(name):
            # "A联合B开展…": both organize.
            found += [n for n in split_zh(name) if is_org_zh(n)]
    return found


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        key = re.sub(r"\W+", "", name.lower())
        if key and key not in seen:
            seen[key] = name
    return tuple(seen.values())


#: Without one of these substrings no English organizer pattern can match
#: ("by", "organiser", "Hosts", "held", "ran", "runs", "holds", "will host").
_EN_CUES = ("by", "rgani", "ost", "held", "ran", "run", "hold", "will")


def find_organizers(text: str) -> tuple[str, ...]:
    """The organizing bodies the text names, in order of appearance, without repeats."""
    # Each language's patterns only run when the text has that language's cue words.
    zh = organizers_zh(text) if is_cjk(text) else []
    en = organizers_en(text) if any(cue in text for cue in _EN_CUES) else []
    return _dedupe(zh + en)


def find_participants(text: str) -> tuple[str, ...]:
    """Invited participants: "welcomed X as an invited participant", "特邀X参加", ..."""
    found: list[str] = []
    lowered = text.lower()
    # Each pattern is costly on a whole page; its keyword is a cheap test first.
    for keyword, pattern in zip(_EN_PARTICIPANT_KEYS, _EN_PARTICIPANT, strict=True):
        if keyword in lowered:
            for match in pattern.finditer(text):
                found += split_en(match.group(1))
    for keywords, pattern in zip(_ZH_PARTICIPANT_KEYS, _ZH_PARTICIPANT, strict=True):
        if any(k in text for k in keywords):
            for match in pattern.finditer(text):
                found += split_zh(match.group(1))
    return _dedupe([n for n in found if 2 <= len(n) <= 80])
