"""Normalization: text from HTML, debris, date hints, language, canonical URLs, titles."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from worker.model import Entry
from worker.pipeline.normalize import canonical_url, hint_date, normalize, strip_debris
from worker.pipeline.text import detect_language, fold
from worker.sources.parse import parse_feed

NOW = datetime(2025, 1, 15, tzinfo=UTC)


def _entry(content: str, *, title: str | None = None, ctype: str = "text/plain", **kw) -> Entry:
    return Entry(
        source="t",
        guid=None,
        link=kw.pop("link", None),
        title=title,
        content=content,
        content_type=ctype,
        **kw,
    )


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://Example.COM:443/a/b?utm_source=x&id=3&spm=a2c.1#top",
            "https://example.com/a/b?id=3",
        ),
        (
            "http://news.example.cn/x.html?fbclid=abc&gclid=1&utm_medium=y",
            "http://news.example.cn/x.html",
        ),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=22&sn=ab&chksm=f&scene=21#wechat_redirect",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=22&sn=ab",
        ),
        ("http://Example.com:8080", "http://example.com:8080/"),
        (None, None),
    ],
)
def test_canonical_url(url, canonical) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("智能制造培训班在北京举办，学员120人。", "zh"),
        ("The smart manufacturing workshop was held in Berlin.", "en"),
        (
            "MES与Industrial AI双语工作坊 workshop for engineers in English and Chinese 昆山",
            "mixed",
        ),
        ("Training in 北京 for engineers from many companies across the region", "en"),
    ],
)
def test_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_fold_full_width_and_spaces() -> None:
    assert fold("主办单位：北京（协会）\u3000Ａ１  b") == "主办单位:北京(协会) A1 b"


def test_date_fragment_is_removed_and_kept_as_hint() -> None:
    doc = normalize(
        _entry("04\n06月\nFrom June 5 to 6, 2024, a course was held. More text here."), now=NOW
    )
    assert doc.date_hint == "04 06月"
    assert doc.published == datetime(2024, 6, 4, tzinfo=UTC)
    assert not doc.text.startswith("04")


@pytest.mark.parametrize(
    ("hint", "text", "expected"),
    [
        ("04 06月", "2024年的培训", date(2024, 6, 4)),
        ("17 05月", "no year here", date(2024, 5, 17)),  # May 2025 would be after now
        ("2024-06-18", "", date(2024, 6, 18)),
        ("12 01月", "", date(2025, 1, 12)),
    ],
)
def test_hint_date(hint: str, text: str, expected: date) -> None:
    assert hint_date(hint, text, NOW) == expected


def test_debris_lines_are_removed() -> None:
    raw = fold(
        "首页 > 新闻中心 > 协会动态\n发布时间：2024-06-18 09:32 来源：协会 浏览次数：1265\n"
        "培训班在苏州举办\n正文第一段。\n分享到：微信 微博 QQ空间\n【打印本页】【关闭窗口】\n"
        "Share: Facebook | Twitter | LinkedIn"
    )
    text, fragments = strip_debris(raw)
    assert text == "培训班在苏州举办\n正文第一段。"
    assert fragments == ["2024-06-18"]


def test_html_text_title_and_sanitized_body() -> None:
    html = (
        "<html><head><title>T | Site</title><script>alert(1)</script></head><body>"
        "<nav>Home &gt; News</nav><h1>Workshop opens</h1><p>First <b>para</b>.</p>"
        "<p onclick='x()'>Second.</p><footer>© 2024</footer></body></html>"
    )
    doc = normalize(_entry(html, ctype="text/html"), now=NOW)
    assert doc.title == "Workshop opens"
    assert "First para." in doc.text and "Second." in doc.text
    assert "Home" not in doc.text and "alert" not in doc.text
    assert "<script" not in doc.html and "onclick" not in doc.html


def test_plain_text_is_escaped_into_paragraphs() -> None:
    doc = normalize(_entry("A <b> & C\nSecond line", title="T"), now=NOW)
    assert doc.html == "<p>A &lt;b&gt; &amp; C</p>\n<p>Second line</p>"


def test_title_line_is_used_when_present() -> None:
    doc = normalize(_entry("智能制造培训班在苏州举办\n6月12日，培训班开班。"), now=NOW)
    assert doc.title == "智能制造培训班在苏州举办"
    assert doc.text == "6月12日,培训班开班。"


def test_title_is_derived_from_first_sentence_and_trimmed() -> None:
    long = "From June 5 to 6, 2024, the " + "very " * 60 + "long course was held. Next."
    doc = normalize(_entry(long), now=NOW)
    assert doc.title.startswith("The very very")
    assert len(doc.title) <= 141 and doc.title.endswith("…")


def test_html_a_feed_parser_sanitized_is_not_cleaned_again_and_other_html_is() -> None:
    rss = (
        b'<rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        b"<link>https://x.example/a</link><title>A</title><description>"
        b"&lt;p&gt;Smart factory course&lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;"
        b"</description></item></channel></rss>"
    )
    (entry,) = parse_feed(rss, "https://x.example/feed").entries
    assert entry.sanitized and "<script" not in entry.content
    assert normalize(entry, now=NOW).html == entry.content
    raw = _entry("<p>Course<script>x()</script></p>", ctype="text/html")
    assert not raw.sanitized and "<script" not in normalize(raw, now=NOW).html
