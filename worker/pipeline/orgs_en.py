"""Organizers in English prose.

Four shapes, each a cue the organizer filter weighs:
- "by": "hosted / organised / co-organised / run / conducted / undertaken by A and B",
  "a masterclass by A", "with A as co-organizer";
- "subject": the bodies a sentence opens with when its verb holds an event: "A and
  B will jointly organize a …", "A, in association with B, conducted …", "A invites
  engineers to …", "A is taking its programme to …";
- "title": a headline's subject: "A and B to Host …", "A, B launch … series";
- partners listed with one of them ("… in partnership with C", "together with C").

Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from worker.pipeline.orgs_names import (
    PARTNER_WITH,
    is_named_body,
    listed_bodies,
    matches_at,
    split_latin,
    word_set,
)

#: "hosted by", "jointly organised by", "undertaken by" ... and the cue each gives.
_BY_VERBS = {
    "hosted": "by",
    "co-hosted": "by",
    "organized": "by",
    "organised": "by",
    "co-organized": "by",
    "co-organised": "by",
    "convened": "by",
    "undertaken": "by",
    "run": "by_run",
    "conducted": "by_run",
    "arranged": "by_run",
    "implemented": "by_run",
    "led": "by_run",
    "offered": "by_run",
    "held": "by_held",
    "presented": "by_delivered",
    "delivered": "by_delivered",
    # bodies that back an event without organizing it: candidates the filter refuses
    "sponsored": "by_sponsor",
    "supported": "by_sponsor",
    "funded": "by_sponsor",
    "co-funded": "by_sponsor",
    "financed": "by_sponsor",
    "co-financed": "by_sponsor",
    "endorsed": "by_sponsor",
    "approved": "by_sponsor",
    "certified": "by_sponsor",
    "accredited": "by_sponsor",
    "powered": "by_sponsor",
}
#: Event nouns before " by ": "a Masterclass by A" names the event with its organizer.
_EVENT_BY_WORDS = word_set(
    "course courses programme programmes program programs masterclass masterclasses workshop "
    "workshops bootcamp bootcamps training trainings seminar seminars webinar webinars class "
    "classes camp camps school series fdp sttp"
)
_BY_WORD = re.compile(r" by ")
#: "a joint effort of A and B", "a collaboration between A and B": both organize.
_JOINT_EFFORT = re.compile(
    r"(?:joint (?:effort|initiative|undertaking|venture|project|programme|program)|"
    r"collaboration|partnership|cooperation) (?:of|by|between) (?:the )?"
)
#: "with support from A", "a grant from A": a backer, not an organizer.
_SUPPORT_FROM = re.compile(
    r"(?:support|grant|grants|funding|scholarships|sponsorship) (?:from|of) (?:the )?"
)
#: "The ceremony was hosted by ...": a master of ceremonies, not an organizer.
_NOT_ORGANIZER = re.compile(
    r"(?:ceremony|session|panel|dinner|meeting|discussion|opening|closing|speech|remarks|"
    r"function|inauguration)\s+(?:was|were|is|will be)?\s*$",
    re.IGNORECASE,
)
#: Where an English list of organizers ends.
_STOP = re.compile(
    r"(?:[.;:!?](?:\s|$)|\n|\s[—–]\s|,\s+(?!and\b|the\b|[A-Z])|,\s+the\s+[a-z]|"
    # "German Chamber of Commerce in China": a chamber abroad is named by its country
    r"(?<!Chamber of Commerce)(?<!Commerce and Industry)"
    r"\s+in(?!\s+(?:cooperation|co-operation|partnership|collaboration|association|conjunction)"
    r"\s+with)\b|\s+(?:at|on|from|during|under|since|was|were|will|is|are|has|have|welcomed|attracted|"
    r"drew|brought|gathered|took|which|where|who|that|to|for the|as part|runs|began|ran|"
    r"started|opened|combines|targets|includes|aims|offers|walked)\b|"
    r"(?<!together)(?<!jointly)(?<!cooperation)(?<!partnership)(?<!collaboration)"
    r"(?<!association)(?<!conjunction)(?<!along)\s+with\b|"
    r"\s+and\s+(?:is\s+|was\s+|are\s+|were\s+|has\s+been\s+)?(?:co-?|jointly\s+)?"
    r"(?:organi[sz]|host|sponsor|support|run|held|deliver|undert|fund|hosted|conduct|implement|"
    r"financ|endorse|approv|certif|accredit|is\b|was\b|will\b))"
)
#: "hosted by A, with B as co-organizer": B organizes too.
_AS_ROLE = re.compile(
    r"\bwith\s+(?:the\s+)?([A-Z][^,;.\n]{2,120}?)\s+as\s+(?:an?\s+|the\s+)?"
    r"(?:co-?)?(?:organi[sz]ers?|hosts?|organi[sz]ing partners?)\b"
)
_AS_ROLE_CUE = re.compile(r" as (?:an? |the )?(?:co-?)?(?:organi|host)")

#: Verbs whose subject organizes the event their object names.
_SUBJECT_VERB = re.compile(
    r" (?:hold|holds|holding|host|hosts|hosting|co-host|co-hosts|co-hosting|run|runs|running|"
    r"ran|organi[sz]e|organi[sz]es|organi[sz]ed|organi[sz]ing|co-organi[sz]e|"
    r"co-organi[sz]es|co-organi[sz]ing|conduct|conducts|conducted|conducting|offer|offers|"
    r"offering|launch|launches|launched|open|opens|opened|stage|stages|staged|convene|"
    r"convenes|convened|announce|announces|announced|invite|invites|inviting|bring|brings|"
    r"bringing|take|takes|taking|wrapped up|wraps up|concluded|kicked off|kicks off|held|"
    r"hosted|organise|present|presents)"
    r"(?=\s+(?:(?:a|an|the|its|their|our|this|that)\b|[A-Z\"“])|\s+[^.\n]{0,120}?\sto\s)"
)
#: Literal starts of the verbs above, found with ``str.find`` before the pattern is tried.
_SUBJECT_VERB_STEMS = (
    " hold",
    " held",
    " host",
    " run",
    " ran ",
    " organi",
    " co-",
    " conduct",
    " offer",
    " launch",
    " open",
    " stage",
    " conven",
    " announc",
    " invit",
    " bring",
    " tak",
    " wrap",
    " conclud",
    " kick",
    " present",
)
#: Verbs that need an event noun right after them to count (many other things open).
_WEAK_VERBS = word_set(
    "offer offers offering launch launches launched open opens opened announce announces "
    "announced invite invites inviting bring brings bringing take takes taking stage stages "
    "staged present presents"
)
#: Words of an event (any subject): the object of a subject's verb names one of them.
EVENT_NOUNS_EN = re.compile(
    r"\b(?:course|programme|program|training|workshop|bootcamp|boot camp|seminar|webinar|"
    r"masterclass|class|camp|school|series|session|FDP|STTP|cohort|module|intensive|lecture|"
    r"conference|forum|summit|symposium|fair|expo|exhibition|meeting|event|competition|"
    r"hackathon|tour|fundamentals|practice)s?\b",
    re.IGNORECASE,
)
#: Words between a subject and its verb: auxiliaries, adverbs, time.
_AUX_WORDS = word_set(
    """
    will shall would is are was were has have had be been to also jointly again now soon
    successfully today yesterday recently once pleased proud happy delighted next this on
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday week month set due about
    currently officially formally
    """
)
_BE = word_set("is are was were be been being")
#: Where a sentence starts, looking back from its verb.
_SENTENCE_START = re.compile(r"(?:^|\n|[.!?][\"”]?\s+(?=[A-Z\"“])|\s[—–-]+\s|:\s+(?=[A-Z]))")
#: Words whose period does not end a sentence ("Pvt. Ltd.", "Feb. 3").
_ABBREVIATION = re.compile(
    r"(?:\b(?:Pvt|Ltd|Co|Inc|Corp|Dr|Mr|Ms|Mrs|Prof|St|No|Jr|Sr|Univ|Dept|Jan|Feb|Mar|Apr|"
    r"Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|S\.C|Bhd|Sdn)|\b[A-Z])\.$"
)
_PARTICIPLES = word_set(
    "held hosted organised organized co-hosted co-organised co-organized conducted launched "
    "opened run offered staged convened concluded announced invited"
)
#: Words a fronted phrase opens with: "After a full spring cohort in Des Moines, A …".
_FRONTED = re.compile(
    r"^(?:After|Following|In|On|At|For|From|With|Since|As|Through|Under|This|Last|Next|"
    r"Today|Yesterday|Earlier|Later|Over|During|Building|Despite|Besides|Beyond|Once|"
    r"Starting|Beginning|Now|Again)\b"
)
#: Subjects are searched in the lead: a page names the body that holds its event early,
#: and searching every verb of a long page costs more than it finds.
SUBJECT_LEAD_CHARS = 1500
#: The furthest a subject may start before its verb.
_SUBJECT_REACH = 260
#: Any of "and", "together with", "in partnership with" ...: a subject that lists bodies.
_LIST_WORD = re.compile(rf"\s(?:and|&)\s|(?:{PARTNER_WITH})")
#: ", a maker of collaborative robots," and ", the Smart Manufacturing Institute,".
_APPOSITIVE_THE = re.compile(r",\s+the\s+(?:(?!\sand\s)[^,;])*,")

#: A headline's verb: "A and B to Host …", "A hosts …", "A, B launch …".
_TITLE_VERB = re.compile(
    r"\s(?:to\s+(?:[Hh]ost|[Hh]old|[Rr]un|[Oo]ffer|[Ll]aunch|[Oo]rgani[sz]e|[Tt]rain|"
    r"[Cc]onduct|[Oo]pen|[Dd]eliver|[Ss]tage)|[Hh]osts?|[Hh]olds?|[Rr]uns?|[Oo]ffers?|"
    r"[Ll]aunch(?:es)?|[Oo]rgani[sz]es?|[Tt]rains?|[Cc]onducts?|[Oo]pens?|[Ss]tages?|"
    r"[Tt]eam up)\s"
)

#: Words of English prose: a page holding none of them has no English sentence to read.
_ENGLISH_WORDS = (" the ", " and ", " of ", " by ", " will ", " to ", " a ")


def is_english(text: str) -> bool:
    """Whether ``text`` holds English prose (one of its commonest words)."""
    return any(word in text for word in _ENGLISH_WORDS)


def _phrase_after(text: str, start: int) -> str:
    stop = _STOP.search(text, start)
    return text[start : stop.start() if stop else len(text)]


def _word_before(text: str, end: int) -> tuple[str, int]:
    """The word that ends at ``end`` (lowercase) and where it starts."""
    start = text.rfind(" ", max(0, end - 30), end) + 1 or max(0, end - 30)
    start = max(start, text.rfind("\n", max(0, end - 30), end) + 1)
    return text[start:end].lower(), start


def by_phrases(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, cue, listed) for "organised by …", "a workshop by …", "with … as host"."""
    for by in _BY_WORD.finditer(text):
        word, start = _word_before(text, by.start())
        if word == "jointly":
            word, start = _word_before(text, start - 1)
        verb = word if word in _BY_VERBS else word.removeprefix("co-")
        cue = _BY_VERBS.get(verb) or ("event_by" if word in _EVENT_BY_WORDS else None)
        if cue is None or _NOT_ORGANIZER.search(text[max(0, start - 40) : start]):
            continue
        names = listed_bodies(_phrase_after(text, by.end()))
        for name in names:
            yield name, start, cue, len(names)
    for match in _JOINT_EFFORT.finditer(text):
        names = listed_bodies(_phrase_after(text, match.end()))
        for name in names:
            yield name, match.start(), "by", len(names)
    for match in _SUPPORT_FROM.finditer(text):
        names = listed_bodies(_phrase_after(text, match.end()))
        for name in names:
            yield name, match.start(), "by_sponsor", len(names)
    if _AS_ROLE_CUE.search(text):
        for match in _AS_ROLE.finditer(text):
            for name in split_latin(match.group(1)):
                if is_named_body(name):
                    yield name, match.start(), "as_role", 1


def _sentence_start(text: str, begin: int, end: int) -> int:
    start = begin
    for match in _SENTENCE_START.finditer(text, begin, end):
        dot = match.start()
        if match.group().startswith(".") and _ABBREVIATION.search(text[max(0, dot - 6) : dot + 1]):
            continue
        start = match.end()
    return start


def _subject_end(text: str, verb: int) -> tuple[int, bool] | None:
    """Where the subject before ``verb`` ends, past auxiliaries and adverbs ("will next
    Tuesday", "are pleased to"), and whether a form of "be" was among them; None when
    the word there cannot end a name ("the course will run": lowercase)."""
    end, passive = verb, False
    while True:
        space = text.rfind(" ", max(0, end - 40), end)
        word = text[space + 1 : end].rstrip(",")
        if space < 0 or word not in _AUX_WORDS:
            break
        passive = passive or word in _BE
        end = space
    last = text[max(0, end - 1) : end]
    ends_name = last.isupper() or last.isdigit() or last in "),.’'"
    capitalized = text[end - 2 : end - 1].isupper() or text[space + 1 : space + 2].isupper()
    if not ends_name and not capitalized:
        return None
    return end, passive


def _subject_names(region: str, *, headline: bool = False) -> list[str]:
    """The bodies a sentence opens with. Without "and" (or "together with") a subject
    names one body, so what follows a comma is an appositive or a place."""
    region = region.strip(" ,")
    if _FRONTED.match(region) and ", " in region:
        region = region.split(", ", 1)[1]
    if not headline and not _LIST_WORD.search(_APPOSITIVE_THE.sub(",", region + ",")):
        names = split_latin(region)
        return [names[0]] if names and is_named_body(names[0]) else []
    if not headline:
        region = _APPOSITIVE_THE.sub(",", region + ",")
        first = split_latin(region)[:1]
        if not first or not is_named_body(first[0]):
            return []  # "Forty-two officials from … Africa and Latin America": not a body
    return listed_bodies(region)


def subjects(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, offset, "subject", listed) for the bodies whose verb holds an event."""
    for verb in matches_at(text[:SUBJECT_LEAD_CHARS], _SUBJECT_VERB_STEMS, _SUBJECT_VERB):
        word = verb.group()[1:]
        found = _subject_end(text, verb.start())
        if found is None:
            continue
        end, passive = found
        if passive and word in _PARTICIPLES:
            continue  # "the course was held …": the event is the subject
        if word in _WEAK_VERBS and not EVENT_NOUNS_EN.search(text, verb.end(), verb.end() + 160):
            continue
        begin = max(0, end - _SUBJECT_REACH)
        start = _sentence_start(text, begin, end)
        if start == begin and begin > 0:
            continue  # the sentence starts further back than a subject reaches
        region = text[start:end]
        if not region[:1].isupper() and not region.startswith(("the ", '"', "“")):
            continue
        names = _subject_names(region)
        for name in names:
            yield name, start, "subject", len(names)


def headline_subjects(title: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, 0, "title", listed) for a headline's subject: "A and B to Host …"."""
    verb = _TITLE_VERB.search(title)
    if not verb:
        return
    region = re.split(r"\s[|:–—-]\s", title[: verb.start()])[-1]
    names = _subject_names(region, headline=True)
    for name in names:
        yield name, 0, "title", len(names)
