"""Normalization: one raw Entry -> a clean Document.

Turns HTML or plain text into clean text (lxml, not regexes, reads the HTML),
folds full-width forms and whitespace, removes page debris (navigation
trails, share buttons, view counters, date fragments at the top) while keeping
a date fragment as a hint for the publication date, detects the language,
canonicalizes the link, derives a title when the entry has none, and makes a
sanitized HTML body (nh3) for republishing.

Pure: ``now`` is passed in and nothing is read or written. This module knows
nothing about the topic; relevance and extraction come later.
"""

from __future__ import annotations

import html as html_lib
import re
from collections import Counter
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
import nh3
from lxml import etree

from worker.model import Document, Entry
from worker.pipeline.dates import find_dates
from worker.pipeline.text import detect_language, fold, is_cjk, sentences, shorten

#: Longest title we derive from a first sentence, in characters (English, Chinese).
MAX_TITLE_EN = 140
MAX_TITLE_ZH = 60
#: A first line this short with no sentence-ending punctuation is a title line.
TITLE_LINE_MAX_EN = 120
TITLE_LINE_MAX_ZH = 50
#: Summary length when the entry gives none.
SUMMARY_CHARS = 280
#: How many leading lines may hold date fragments and navigation debris.
HEAD_LINES = 8
#: A line longer than this is prose, never a share bar or a counter.
DEBRIS_MAX_CHARS = 60

#: Elements whose text is never the article.
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "button",
    "select",
    "template",
    "svg",
    "head",
)
#: Elements that start a new line in the extracted text.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "figcaption",
        "figure",
        "address",
        "hr",
        "td",
        "th",
    ]
)

#: Query parameters that only track the reader (Google, Facebook, Alibaba "spm", WeChat, ...).
TRACKING_PARAMS = frozenset(
    [
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "spm",
        "scm",
        "share_token",
        "share_source",
        "sharesource",
        "chksm",
        "scene",
        "isappinstalled",
        "from_source",
        "vd_source",
        "ref_src",
        "ref_url",
        "trk",
        "trackingid",
        "si",
        "wt.mc_id",
    ]
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "__twitter")
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: A line that is only a date fragment: "04", "06月", "2024-06-04", "2024年06月", "Jun 4, 2024".
_DATE_FRAGMENT = re.compile(
    r"^(?:\d{1,2}|\d{1,2}\s*月|\d{4}|\d{4}\s*[-./年]\s*\d{1,2}\s*月?(?:\s*[-./]?\s*\d{1,2}\s*日?)?"
    r"|\d{1,2}\s*[-/]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4})"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
#: Lines that start with these are page furniture, whatever their length.
_DEBRIS_PREFIX = re.compile(
    r"^(?:当前位置|您的位置|你的位置|您现在的位置|所在位置|位置:|首页\s*[>»›/]|home\s*[>»›/|]|"
    r"you are here|分享到|分享至|share\s*(?:this|on|to)?\s*:|上一篇|下一篇|上一条|下一条|"
    r"previous\s*(?:article|post)?\s*:|next\s*(?:article|post)?\s*:|责任编辑|编辑:|审核:|"
    r"copyright|版权所有|©|all rights reserved|扫一扫|扫码|打印本页|关闭窗口|返回顶部|"
    r"back to top|【字体|字体:|字号:|tags?:|标签:|关键词:|阅读量|浏览次数|点击数|访问量)",
    re.IGNORECASE,
)
#: Short lines that contain these are counters, share bars and bylines. Matched
#: on the lowercased line; word boundaries come after a literal start
#: ("print(?<!\wprint)") so that the engine can skip ahead to candidates.
_DEBRIS_WORDS = re.compile(
    r"(?:发布时间|发布日期|来源:|作者:|浏览|阅读\s*:?\s*\d|点击|次数|【大\s*中\s*小】|"
    r"print(?<!\wprint)\b|email(?<!\wemail)\b|"
    r"微信|微博|朋友圈|qq空间|facebook|twitter|linkedin|whatsapp|weibo|wechat|"
    r"share(?<!\wshare)\b|收藏|打印|字体|views?\s*:|posted (?:on|by)|published\s*:|source\s*:|"
    r"by(?<!\wby)\s+[a-z]{2,}\s*\|)"
)
#: A navigation trail: several short parts joined by ">" or "»".
_NAV_MARKS = frozenset(">»›")
_NAV_TRAIL = re.compile(r"^[^>»›]{1,20}(?:\s*[>»›]\s*[^>»›]{1,30}){1,6}$")
#: From a line like this on, the page lists other articles.
_TAIL_MARKER = re.compile(
    r"^(?:相关阅读|相关新闻|相关文章|推荐阅读|热点新闻|相关链接|"
    r"related (?:news|articles|posts|stories)|"
    r"read more|more news|you may also like)\s*:?$",
    re.IGNORECASE,
)
#: A date stated in a debris line: "发布时间: 2024-06-07", "Published: June 7, 2024".
_META_DATE = re.compile(r"(\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?)")
_HINT_PART = re.compile(r"(\d{4})|(\d{1,2})\s*月|(\d{1,2})")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
#: "From June 5 to 6, 2024, " / "2024年6月5日至6日," opening a first sentence.
_LEAD_IN = re.compile(r"^(?:from|on|between|in|during)?\s*$", re.IGNORECASE)
_LEAD_OUT = re.compile(r"^\s*[,，]?\s*")
#: Punctuation a derived title does not end with.
_TITLE_TRAILING = "。.;:,， "
_SENTENCE_PUNCT = "。.!?;:!?;"


# ----------------------------------------------------------------------- URLs


def canonical_url(url: str | None) -> str | None:
    """Lowercase scheme and host, drop default port, fragment and tracking parameters."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    query = ""
    if parts.query:  # most links have none; parsing and re-encoding "" gives ""
        query = urlencode(
            [
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
            ]
        )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# ----------------------------------------------------------------------- HTML

#: lxml.html's parser (same options), but every element is an ``HtmlElement``: the
#: stock one picks a class per tag in Python each time an element is touched, which
#: costs more than the parse itself. Only ``HtmlElement`` methods are used here.
_HTML_PARSER = etree.HTMLParser()
_HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement)
)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """The visible text of ``markup`` (one line per block) and its heading, if any."""
    if not markup.strip():
        return "", None
    try:
        root = lxml.html.fromstring(markup, parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return markup, None
    heading = _heading(root)
    for el in list(root.iter(*_DROP_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in root.iter(etree.Element):
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
            el.text = "\n" + (el.text or "")
    return root.text_content(), heading


def _heading(root: lxml.html.HtmlElement) -> str | None:
    # The first <h1> of the whole document (as "//h1" finds it), else <title>, else <h2>;
    # iter() walks the tree in C, where each xpath() call compiles an expression first.
    tree = root.getroottree()
    for tag in ("h1", "title", "h2"):
        found = next(tree.iter(tag), None)
        if found is not None:
            text = " ".join(found.text_content().split())
            if text:
                return text
    return None


def sanitize_html(markup: str) -> str:
    """HTML fit for republishing: nh3's safe subset of tags and attributes."""
    return nh3.clean(markup)


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs, one per line."""
    return "\n".join(f"<p>{line}</p>" for line in html_lib.escape(text).split("\n") if line)


# --------------------------------------------------------------------- debris


def _is_debris(line: str) -> bool:
    if _DEBRIS_PREFIX.match(line):
        return True
    if len(line) > DEBRIS_MAX_CHARS:
        return False
    if "<" not in line and _NAV_MARKS.intersection(line) and _NAV_TRAIL.match(line):
        return True
    return _DEBRIS_WORDS.search(line.lower()) is not None


def strip_debris(text: str) -> tuple[str, list[str]]:
    """Remove page furniture; return the clean text and the date fragments found."""
    lines = [line for line in text.split("\n") if line]
    fragments: list[str] = []
    kept: list[str] = []
    half = len(lines) // 2
    for i, line in enumerate(lines):
        if i > half and _TAIL_MARKER.match(line):
            break
        if i < HEAD_LINES and not kept and _DATE_FRAGMENT.match(line):
            fragments.append(line)
            continue
        if _is_debris(line):
            meta = _META_DATE.search(line)
            if meta and not fragments:
                fragments.append(meta.group(1).strip())
            continue
        kept.append(line)
    return "\n".join(kept), fragments


# ----------------------------------------------------------------- date hint


def _likely_year(text: str, now: datetime) -> int:
    """The year the text most often names (not in the future), else now's year."""
    years = Counter(int(y) for y in _YEAR_IN_TEXT.findall(text) if int(y) <= now.year)
    if not years:
        return now.year
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


def hint_date(hint: str, text: str, now: datetime) -> date | None:
    """The date a fragment such as "04 06月" or "2024-06-07" stands for, year inferred."""
    spans = find_dates(hint, now.date())
    if spans and spans[0].year_stated:
        return spans[0].start
    year = month = day = None
    for y, m, d in _HINT_PART.findall(hint):
        if y:
            year = int(y)
        elif m:
            month = int(m)
        elif d and day is None:
            day = int(d)
    if month is None or day is None:
        return spans[0].start if spans else None
    year = year or _likely_year(text, now)
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if found > now.date():
        found = found.replace(year=found.year - 1)
    return found


# --------------------------------------------------------------------- title


def _looks_like_title(line: str, rest: str) -> bool:
    limit = TITLE_LINE_MAX_ZH if is_cjk(line) else TITLE_LINE_MAX_EN
    return bool(rest) and len(line) <= limit and line[-1] not in _SENTENCE_PUNCT + ",，、"


def _drop_date_lead(sentence: str, now: datetime) -> str:
    """Remove a leading date clause: "From June 5 to 6, 2024, the ..." -> "The ..."."""
    spans = find_dates(sentence[:60], now.date())
    if not spans or not _LEAD_IN.match(sentence[: spans[0].begin]):
        return sentence
    rest = sentence[spans[0].stop :]
    if not rest[:2].strip(" ").startswith((",", "，")):
        return sentence
    rest = _LEAD_OUT.sub("", rest)
    return rest[:1].upper() + rest[1:] if rest else sentence


def derive_title(text: str, now: datetime) -> str:
    """A title from the first sentence, without a leading date clause, trimmed."""
    first = sentences(text.partition("\n")[0])[0] if text.strip() else ""
    first = _drop_date_lead(first, now).rstrip(_TITLE_TRAILING)
    limit = MAX_TITLE_ZH if is_cjk(first) else MAX_TITLE_EN
    return shorten(first, limit)


def _title_and_body(entry: Entry, text: str, heading: str | None, now: datetime) -> tuple[str, str]:
    if entry.title and entry.title.strip():
        return " ".join(fold(entry.title).split()), text
    if heading:
        return fold(heading), text
    first, _, rest = text.partition("\n")
    if first and _looks_like_title(first, rest):
        return first, rest
    return derive_title(text, now), text


# ---------------------------------------------------------------------- main


def _summary(entry: Entry, text: str, content_folded: str) -> str:
    """The entry's own summary as text, else the body's first lines, shortened.

    ``content_folded``: the entry's content as folded text, reused when the summary
    is the content (an RSS description is both).
    """
    if entry.summary and entry.summary.strip():
        if entry.summary == entry.content:
            folded = content_folded
        else:
            source = entry.summary
            if "<" in source:
                source = html_to_text(source)[0]
            folded = fold(source)
        return shorten(" ".join(folded.split()), SUMMARY_CHARS)
    return shorten(" ".join(text.split("\n")[:3]), SUMMARY_CHARS)


def _published(entry: Entry, fragments: list[str], text: str, now: datetime) -> datetime | None:
    if entry.published is not None:
        return entry.published
    if not fragments:
        return None
    found = hint_date(" ".join(fragments), text, now)
    return datetime(found.year, found.month, found.day, tzinfo=UTC) if found else None


def _republished_html(entry: Entry, body: str, is_html: bool) -> str:
    if not is_html:
        return text_to_html(body)
    return entry.content if entry.sanitized else sanitize_html(entry.content)


def normalize(entry: Entry, *, now: datetime) -> Document:
    """Clean ``entry`` into a Document; see the module docstring for what that means."""
    is_html = "html" in (entry.content_type or "").lower()
    raw, heading = html_to_text(entry.content) if is_html else (entry.content, None)
    folded = fold(raw)
    text, fragments = strip_debris(folded)
    title, body = _title_and_body(entry, text, heading, now)
    lang = detect_language(f"{title}\n{body}") or (entry.language or "en")[:2].lower()
    return Document(
        source=entry.source,
        guid=entry.guid,
        link=canonical_url(entry.link),
        title=title,
        text=body,
        html=_republished_html(entry, body, is_html),
        summary=_summary(entry, body, folded),
        published=_published(entry, fragments, text, now),
        lang=lang,
        date_hint=" ".join(fragments) or None,
    )
