"""What an organization's name looks like, and how a list of names is cut apart.

Latin-script names (English, German, Spanish, Portuguese, Vietnamese) count as
organizations when they hold an organization noun ("Institute", "Akademie",
"Universidad", "Trung tâm"), are acronyms, or are proper names of three or
more capitalized words; CJK names when they end like one ("协会", "有限公司",
"機構", "センター"). A list ("A, B and the C") is cut on its separators, with
"and" kept inside one name when a field word sits beside it ("Institute of
Engineering and Technology").

Names come out as the page writes them, minus what is not part of the name: a
trailing "(ACRONYM)", a trailing address in brackets, a leading article. CJK
names get their brackets back in full width ("凯斯勒自动化（中国）有限公司"),
as registered names are written; a name whose brackets do not balance is no name.

Pure string work; the words here are about organizations in general, not the topic.
"""

from __future__ import annotations

import re

from worker.pipeline.text import is_cjk


def word_set(text: str) -> frozenset[str]:
    """The set of the words in ``text`` (a readable way to write a word list)."""
    return frozenset(text.split())


def matches_at(text: str, stems: tuple[str, ...], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """``pattern``'s matches that start where one of ``stems`` occurs, in text order.

    A pattern of many alternatives is tried at every position of a page; finding its
    few literal stems with ``str.find`` first and matching only there is several times
    cheaper, and the pipeline runs this on every item.
    """
    found: dict[int, re.Match[str]] = {}
    for stem in stems:
        at = text.find(stem)
        while at >= 0:
            if at not in found and (match := pattern.match(text, at)):
                found[at] = match
            at = text.find(stem, at + 1)
    return [found[at] for at in sorted(found)]


# ---------------------------------------------------------------- Latin script

#: Words that make a phrase an organization (lowercase, any Latin-script language).
ORG_NOUNS = word_set(
    """
    institute institution association platform university polytechnic ministry committee
    center centre council company co co. ltd ltd. limited group corporation corp corp.
    federation society alliance academy bureau department administration commission chamber
    foundation lab laboratory laboratories network consortium agency gmbh ag inc inc. llc
    plc pte school college office organization organisation union board hub initiative
    authority cluster secretariat park zone partnership program programme fraunhofer se
    s.a. team club enterprises enterprise industries technologies solutions systems
    government catapult faculty division unit
    universidad universidade universität universitat hochschule instituto institut centro
    cámara câmara camara akademie kammer verband verein zentrum stiftung fundación fundação
    asociación associação federación federação sociedad servicio corporación corporación
    escuela escola facultad faculdade colegio
    trường trung viện hiệp sở bộ công đại
    """
)
#: Endings of compound organization words ("Technikakademie", "Handelskammer").
ORG_WORD_ENDINGS = (
    "akademie",
    "kammer",
    "verband",
    "institut",
    "zentrum",
    "schule",
    "gesellschaft",
    "verein",
    "stiftung",
    "universität",
)
#: Words that may sit inside a name in lower case.
JOINERS = word_set(
    "of for and the & on in at di de del la las los da do dos das du des der für und e y "
    "et van von zu"
)
#: Words that "and" joins inside one name ("Ministry of Industry and Information
#: Technology", "Institute of Mechanical and Electrical Engineering"). Beside any
#: other word, as after an organization noun, "and" starts the next name.
FIELD_WORDS = word_set(
    """
    technology technologies engineering industry industries information science sciences
    economy economics trade research development innovation automation manufacturing
    education commerce communications management design mechanical electrical
    electronic electronics chemical industrial civil planning quality standardization
    energy environment materials physics mathematics arts culture business finance health
    safety production applied advanced
    """
)
#: Nouns that end a whole organization's name ("… University", "… Association").
ORG_HEADS = word_set(
    """
    institute institution association university polytechnic ministry committee center
    centre council company ltd ltd. limited group corporation federation society alliance
    academy bureau department administration commission chamber foundation laboratory
    network consortium agency gmbh ag inc inc. llc plc school college office organization
    organisation union board hub authority cluster partnership catapult robotics
    """
)
#: Units of a body: "Department of Mechanical Engineering, Kaveri Institute of Technology".
_DEPARTMENT = re.compile(r"^(?:the\s+)?(?:department|dept\.?)\b", re.IGNORECASE)
#: Nouns of a unit that belongs to an institution.
_UNITS = word_set("department dept dept. centre center school faculty laboratory lab division")
#: Heads of an institution a unit belongs to.
_INSTITUTION_HEADS = word_set(
    "university institute college polytechnic academy school universidad universidade "
    "instituto hochschule"
)
#: "(ARTC)", "(AHK Indien)", "(Autonomous)": bracketed additions, not part of a Latin name.
_LATIN_BRACKETS = re.compile(r"\s*\([^()]{1,40}\)")
_LATIN_EDGES = " ,.;:\"'“”–—-·|"
_ARTICLE = re.compile(r"^(?:the|its|their|both|our|die|der|das|el|la|los|las)\s+", re.I)
#: "UNIDO's Centre": a part of another body ("People's Republic" is a name of its own).
_POSSESSIVE = re.compile(r"(?<!People)['’]s\s")
#: Words after which no organization follows ("Trainers from X" names people).
_PEOPLE = word_set(
    """
    trainers participants engineers experts officials students representatives speakers
    teachers members staff delegates faculty lecturers instructors managers technicians
    """
)


#: Last words of an event's name: "The Digital Twin Summer School" runs, it organizes nothing.
_EVENT_HEADS = word_set(
    """
    course courses programme program training workshop bootcamp seminar webinar masterclass
    class camp series session sessions module cohort conference forum summit symposium fair
    expo exhibition meeting event competition hackathon fundamentals fdp sttp lecture
    intensive messe
    """
)


def is_event_name(name: str) -> bool:
    """ "Industry 4.0 Training Course for SMEs", "Seminar on …", "Winter School on …":
    an event, not a body. The head noun stands before the first "of / on / for"."""
    head = re.split(r"\s+(?:of|on|for|in)\s+", bare(name).lower(), maxsplit=1)[0]
    words = [w for w in head.split() if not w.isdigit()]  # "… Summit 2025"
    return bool(words) and (
        words[-1] in _EVENT_HEADS or head.endswith(("summer school", "winter school"))
    )


_NOT_LETTER = re.compile(r"[^A-Za-z]")


def bare(name: str) -> str:
    """A Latin name without its bracketed additions, for judging its shape."""
    return _LATIN_BRACKETS.sub("", name) if "(" in name else name


def _word_is_org(word: str) -> bool:
    w = word.lower().strip(",.;:()")
    return w in ORG_NOUNS or w.endswith(ORG_WORD_ENDINGS)


def is_acronym(name: str) -> bool:
    """ "CESMII", "UNIDO", "MSME-DFO": capitals (and digits) only."""
    letters = _NOT_LETTER.sub("", name)
    return len(letters) >= 2 and letters.isupper() and " " not in name.strip()


def is_org_latin(name: str) -> bool:
    """An organization: has an organization noun, or is an acronym, or leads with one."""
    name = bare(name)
    words = name.replace(",", " ").split()
    if not words:
        return False
    if any(_word_is_org(w) for w in words):
        return True
    letters = _NOT_LETTER.sub("", name)
    if len(letters) >= 2 and letters.isupper():
        return True
    # "TU Wien", "VDMA Robotics": a leading acronym names a body
    first = words[0]
    return len(first) >= 2 and first.isalpha() and first.isupper()


def is_title_case(text: str) -> bool:
    words = [w for w in bare(text).split() if w.lower() not in JOINERS]
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() for w in words)


def is_named_body(name: str) -> bool:
    """An organization, or a proper name of three or more capitalized words.

    Person names are mostly two words ("Mei Ke"); "High Value Manufacturing
    Catapult" is a body even though no organization noun says so.
    """
    if not name[:1].isupper() and not name[:1].isdigit():
        return False  # "the program is designed ...": prose, not a name
    name = bare(name)
    words = name.split()
    if words[0].lower() in _PEOPLE or " from " in name or _POSSESSIVE.search(name):
        return False  # "Trainers from UNIDO's Centre": people, or a part of another body
    if is_event_name(name):
        return False
    if is_org_latin(name):
        return is_title_case(name) or is_acronym(name)
    named = [w for w in words if w.lower() not in JOINERS]
    return len(named) >= 3 and is_title_case(name)


def clean_latin(name: str) -> str:
    """Strip articles and quotes around a Latin-script name; keep its "(ACRONYM)"."""
    name = name.strip(_LATIN_EDGES)
    name = _ARTICLE.sub("", name).strip(_LATIN_EDGES)
    if not balanced(name):
        name = _LATIN_BRACKETS.sub("", name).replace("(", "").replace(")", "").strip(_LATIN_EDGES)
    return name


def _and_splits(left: str, right: str) -> bool:
    """Whether "and" between ``left`` and ``right`` (the rest of the phrase) separates
    two names.

    It does before "the", and before a whole name ("Valtrix Robotics and Northpoint
    Community College"); it sits inside one name when a field word stands beside it
    ("Addis Ababa Science and Technology University", "Commerce and Industry").
    """
    before = [w for w in left.split() if "\x00" not in w]
    after = right.split()
    if not before or not after:
        return False
    first, last = after[0].lower().strip(",."), before[-1].lower().strip(",.")
    if first in ("the", "die", "der", "la", "el"):
        return True
    if first in FIELD_WORDS:
        return False
    # a whole name on the left ("… Institute for Production Technology") ends at "and"
    whole_left = any(_word_is_org(w) for w in before) or is_acronym(left)
    if (is_org_latin(right) or is_acronym(right)) and (whole_left or last not in FIELD_WORDS):
        return True
    return last not in FIELD_WORDS and last in ORG_HEADS and is_title_case(right)


#: Words that join two names in a list, in the languages Latin names come in.
_AND = re.compile(r"\s+(?:and|und|y|e|và|&)\s+")
#: Connectors that list one more organizer: "together with", "in partnership with".
PARTNER_WITH = (
    r"(?:together|jointly|along|in (?:cooperation|co-operation|partnership|collaboration|"
    r"association|conjunction)) with|gemeinsam mit|zusammen mit|in Zusammenarbeit mit|"
    r"junto con|en colaboración con|em parceria com|phối hợp với|cùng với"
)
_PARTNER = re.compile(
    rf"\s*,?\s*\b(?:{PARTNER_WITH})\s+(?:the\s+|der\s+|dem\s+|la\s+|el\s+)?", re.I
)
#: A cheap test before ``_PARTNER``.
_PARTNER_CUE = re.compile(r"with|mit|con|com|với", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*([,;])\s*")
_LEADING_AND = re.compile(r"^(?:and|und|y|e|và)\s+", re.IGNORECASE)
#: ", a maker of collaborative robots," — an appositive, not a name.
_APPOSITIVE = re.compile(r",\s+(?:a|an)\s+[^,;]*(?=,|$)")


def _and_pieces(chunk: str, *, ends_list: bool = False) -> list[str]:
    """Cut one comma-free chunk on "and" where "and" separates names. The chunk that
    ends a comma list ("A, B and C") splits on its "and" unless a field word is beside it."""
    joints = _AND.findall(chunk)
    if not joints:
        return [chunk]
    parts = _AND.split(chunk)
    names = [parts[0]]
    for i, (joint, part) in enumerate(zip(joints, parts[1:], strict=True)):
        rest = "".join(j + p for j, p in zip(joints[i + 1 :], parts[i + 2 :], strict=True))
        listed = ends_list and not (
            {names[-1].split()[-1].lower(), part.split()[0].lower()} & FIELD_WORDS
        )
        if listed or _and_splits(names[-1], part + rest):
            names.append(part)
        else:
            names[-1] = f"{names[-1]}{joint}{part}"
    return names


def _unit_and_parent(unit: str, parent: str) -> str | None:
    """ "Department of X" + "Y Institute of Technology" -> the institution a department
    belongs to; "Centre for Industry 4.0" + "Deccan Institute of Technology" -> both,
    as one name (a named unit of the institution). None when ``parent`` is no institution."""
    words = {w.lower().strip(",.") for w in parent.split()}
    if not words & _INSTITUTION_HEADS or not is_title_case(parent):
        return None
    if _DEPARTMENT.match(unit):
        return parent
    return f"{unit}, {parent}"


def _is_unit(name: str) -> bool:
    """ "Department of X", "Centre for Y", "School of Z": a unit named by its field."""
    words = name.split()
    return len(words) >= 3 and words[0].lower() in _UNITS and words[1].lower() in ("of", "for")


def parent_of_department(name: str) -> str:
    """ "Department of Mechanical Engineering of Bhavani Institute …" -> "Bhavani Institute …"."""
    if not _DEPARTMENT.match(name):
        return name
    for match in re.finditer(r"\s+of\s+", name):
        rest = name[match.end() :]
        first = rest.split()[0].lower() if rest.split() else ""
        if first not in FIELD_WORDS and {w.lower() for w in rest.split()} & _INSTITUTION_HEADS:
            return clean_latin(rest)
    return name


def _mask_brackets(phrase: str) -> tuple[str, list[str]]:
    """Brackets as opaque tokens, so no separator inside them cuts a name."""
    groups: list[str] = []

    def token(match: re.Match[str]) -> str:
        groups.append(match.group().strip())
        return f" \x00{len(groups) - 1}\x00"

    return _LATIN_BRACKETS.sub(token, phrase), groups


def _unmask(name: str, groups: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: groups[int(m.group(1))], name)


def _only_fields(chunk: str) -> bool:
    words = [w for w in chunk.lower().split() if "\x00" not in w]
    return (
        bool(words)
        and words[0] in FIELD_WORDS
        and all(w in FIELD_WORDS or w in JOINERS for w in words)
    )


def split_latin(phrase: str) -> list[str]:
    """ "A, B and the C and D Institute" -> ["A", "B", "C and D Institute"]."""
    groups: list[str] = []
    if "(" in phrase:
        phrase, groups = _mask_brackets(phrase)
    if ", a" in phrase:
        phrase = _APPOSITIVE.sub(",", phrase)
    if _PARTNER_CUE.search(phrase):
        phrase = _PARTNER.sub("; ", phrase)
    names: list[str] = []
    after_comma = False
    chunks = _LIST_SEPARATOR.split(phrase) if "," in phrase or ";" in phrase else [phrase]
    for i, chunk in enumerate(chunks):
        if chunk in (",", ";"):
            after_comma = chunk == ","
            continue
        chunk = _LEADING_AND.sub("", chunk.strip())
        ends_list = after_comma and i == len(chunks) - 1
        pieces = _and_pieces(chunk, ends_list=ends_list) if " " in chunk else [chunk]
        pieces = [clean_latin(_unmask(p, groups) if groups else p) for p in pieces]
        if after_comma and names and _only_fields(chunk):
            # "Ministry of Economy, Trade and Industry": a name that lists its fields
            names[-1] = f"{names[-1]}, {clean_latin(_unmask(chunk, groups) if groups else chunk)}"
            continue
        for piece in pieces:
            if not piece:
                continue
            if after_comma and names and _is_unit(names[-1]) and len(pieces) == 1:
                merged = _unit_and_parent(names[-1], piece)
                if merged:
                    names[-1] = merged
                    continue
            names.append(piece)
    return [parent_of_department(n) for n in names]


def listed_bodies(phrase: str) -> list[str]:
    """The bodies an organizer phrase lists.

    A two-word proper name ("Automation Alley") could be a person when alone; listed
    beside an organization ("co-organised by Automation Alley and Wayne State
    University") it is one more organizer.
    """
    names = split_latin(phrase)
    bodies = [n for n in names if is_named_body(n)]
    if not bodies:
        return []
    return [
        n
        for n in names
        if n in bodies or (len(n.split()) >= 2 and is_title_case(n) and n[:1].isupper())
    ]


# ---------------------------------------------------------------- CJK script

#: Chinese and Japanese endings that make a phrase an organization.
ORG_SUFFIX_CJK = (
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
    "平台",
    "大学",
    "学院",
    "学校",
    "党校",
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
    "网",
    "社",
    "站",
    "署",
    "处",
    "科",
    "会",
    # Traditional and Japanese forms
    "協会",
    "學院",
    "學會",
    "機構",
    "センター",
    "株式会社",
    "財団",
    "會",
    "大學",
)
#: Last characters of those endings: a clause that ends on none of them names no body.
ORG_LAST_CHARS = frozenset(suffix[-1] for suffix in ORG_SUFFIX_CJK)
#: Endings of meetings, which share "会" with associations (协会) but organize nothing.
MEETING_ENDINGS = (
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
    "运动会",
    "招聘会",
)
#: Self-references: "本会", "我院", "我中心" stand for the page's own body.
SELF_REFERENCE = re.compile(r"^(?:本|我)(?:会|协会|院|校|中心|基地|所|司|公司|联盟|局|厅|委)$")

#: List separators between CJK names (the pipeline folds "，" to ",").
_CJK_SPLIT = re.compile(r"\s*[、,;/]\s*|\s+|\|")
#: "A与B", "A和B", "A联合B" split only after an organization ending.
_CJK_AND = re.compile(r"与|和|及|以及|联合|携手|会同|牵头|と|及び|並びに")
#: Words that open a clause but are not part of a name, longest first.
_CJK_LEAD_NOISE = re.compile(
    r"^(?:本次|此次|这次|本期|今年的?|该|活动|会议|培训班|研修班|培训|论坛|大会|"
    r"的|是|为|经|并|由|将|已|还|在|于|积极|同时|其中|并由|会同|联合|携手)+"
)
#: People words after a participant's organization: "华为公司专家" -> "华为公司".
_CJK_TRAIL_NOISE = re.compile(r"(?:的)?(?:专家|代表|领导|嘉宾|团队|负责人|高管|工程师|讲师)+$")
#: Trailing words of a clause that are not part of the name: "…共同", "…联合".
_CJK_TRAIL_VERB = re.compile(r"(?:共同|联合|携手|一起|一道|牵头|负责)+$")
#: First characters of lead noise, last characters of trailing words (cheap tests first).
_LEAD_NOISE_STARTS = frozenset("本此这该今活会培研论大的是为经并由将已还在于积同其联携")
_TRAIL_ENDS = frozenset("同合手起道头责家表导宾队人管师")
#: A bracketed address or acronym after a CJK name: "(北九州市八幡東区)", "(CJMPA)".
_CJK_TAIL_BRACKET = re.compile(r"\(([^()]{1,30})\)$")
_ADDRESS_END = re.compile(r"(?:市|区|県|県|町|村|路|号|街|楼|区域|省)$|\d")


#: Words of a clause, never of a name.
_CLAUSE_WORDS = re.compile(
    r"通过|已有|已经|进行|参加|开展|举办|举行|表示|指出|我们|他们|以及|目前|正在|成功|顺利|"
    r"获悉|了解到|记者|据悉|为了|为帮助|为推动|探讨|共建|推动|的"
)


def balanced(name: str) -> bool:
    depth = 0
    for ch in name:
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def is_org_cjk(name: str) -> bool:
    """Ends like an organization ("…协会", "…研究院") but not like a meeting ("…培训会"),
    and holds no word of a sentence ("全国已有数万家企业通过…平台" is a clause)."""
    if name.endswith(")") and (tail := _CJK_TAIL_BRACKET.search(name)):
        name = name[: tail.start()]  # "…振興協会(CJMPA)": judged without its acronym
    return (
        3 <= len(name) <= 40
        and name.endswith(ORG_SUFFIX_CJK)
        and not name.endswith(MEETING_ENDINGS)
        and balanced(name)
        and not _CLAUSE_WORDS.search(name)
        and not "\u3040" <= name[0] <= "\u309f"  # "このたび弊社": hiragana opens prose
    ) or bool(SELF_REFERENCE.match(name))


def clean_cjk(name: str) -> str:
    """Drop a trailing address in brackets and the words around a name."""
    name = name.strip(" “”\"'《》「」【】—–-·•")
    if name.endswith(")"):
        tail = _CJK_TAIL_BRACKET.search(name)
        if tail and _ADDRESS_END.search(tail.group(1)):
            name = name[: tail.start()]
    if name[:1] in _LEAD_NOISE_STARTS:
        name = _CJK_LEAD_NOISE.sub("", name)
    if name[-1:] in _TRAIL_ENDS:
        name = _CJK_TRAIL_NOISE.sub("", _CJK_TRAIL_VERB.sub("", name))
    return name


def full_width(name: str) -> str:
    """Brackets inside a CJK name as the name is registered: full width."""
    if "(" in name and is_cjk(name):
        return name.replace("(", "（").replace(")", "）")
    return name


def _split_outside_brackets(phrase: str) -> list[str]:
    """Split on list separators, never inside brackets ("西门子(中国,上海)")."""
    parts: list[str] = []
    depth = start = 0
    for match in _CJK_SPLIT.finditer(phrase):
        depth = phrase.count("(", 0, match.start()) - phrase.count(")", 0, match.start())
        if depth == 0:
            parts.append(phrase[start : match.start()])
            start = match.end()
    parts.append(phrase[start:])
    return parts


def split_cjk(phrase: str) -> list[str]:
    """Split "A、B与C" into names; "与/和/及" split only after an organization ending."""
    names: list[str] = []
    for part in _split_outside_brackets(phrase):
        part = clean_cjk(part)
        start = 0
        for match in _CJK_AND.finditer(part):
            left = clean_cjk(part[start : match.start()])
            if is_org_cjk(left):
                names.append(left)
                start = match.end()
        names.append(part[start:])
    return [n for n in (clean_cjk(x) for x in names) if n]
