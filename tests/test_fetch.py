"""The HTTP edge and the parser, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import LocalServer, Response
from worker import USER_AGENT
from worker.config import FetchSettings
from worker.headers import parse_retry_after
from worker.sources.feeds import Fetcher, FetchResponse
from worker.sources.parse import parse_feed

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>90</ttl>'
    b"<item><guid>a</guid><title>A</title><description>&lt;p&gt;x&lt;script&gt;alert(1)"
    b"&lt;/script&gt;&lt;/p&gt;</description></item></channel></rss>"
)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def fetch(url: str, **kwargs: object) -> FetchResponse:
    settings = FetchSettings(**{"timeout": 5, **kwargs})  # type: ignore[arg-type]

    async def run() -> FetchResponse:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())


def conditional(url: str, etag: str | None, last_modified: str | None) -> FetchResponse:
    async def run() -> FetchResponse:
        async with Fetcher(FetchSettings()) as fetcher:
            return await fetcher.fetch(url, etag=etag, last_modified=last_modified)

    return asyncio.run(run())


def test_conditional_get_sends_validators_and_a_304_is_not_modified(
    http_server: LocalServer,
) -> None:
    def route(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-None-Match") == '"v1"':
            return Response(304)
        return Response(
            200, RSS, {"ETag": '"v1"', "Last-Modified": "Sat, 01 Jun 2024 00:00:00 GMT"}
        )

    http_server.routes["/f"] = route
    first = fetch(f"{http_server.url}/f")
    assert first.is_success() and first.is_modified() and first.body == RSS
    assert first.etag == '"v1"' and first.last_modified == "Sat, 01 Jun 2024 00:00:00 GMT"
    second = conditional(f"{http_server.url}/f", first.etag, first.last_modified)
    assert not second.is_modified() and second.failure() is None and second.body == b""
    headers = http_server.requests[-1][2]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Sat, 01 Jun 2024 00:00:00 GMT"
    assert headers["User-Agent"] == USER_AGENT and "http" in USER_AGENT


def test_304s_and_error_pages_keep_their_connection_and_a_huge_error_body_does_not(
    http_server: LocalServer,
) -> None:
    http_server.routes["/same"] = Response(304)
    http_server.routes["/oops"] = Response(500, b"<h1>server error</h1>")
    http_server.routes["/huge"] = Response(503, b"x" * (1024 * 1024))
    paths = ["/same", "/oops"] * 5 + ["/huge", "/same"]

    async def run() -> list[FetchResponse]:
        settings = FetchSettings(clients=1, concurrency=1)
        async with Fetcher(settings) as fetcher:
            return [await fetcher.fetch(f"{http_server.url}{p}", etag='"v"') for p in paths]

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [304, 500] * 5 + [503, 304]
    ports = [port for _, port in http_server.peers]
    assert len(set(ports[:11])) == 1  # ten 304s and error pages over one connection
    assert ports[11] != ports[10]  # the 1 MiB error body was not read: a new connection


def test_a_rate_limit_whose_body_stalls_keeps_its_status_and_retry_after(
    http_server: LocalServer,
) -> None:
    def stalling(handler: BaseHTTPRequestHandler) -> Response:
        handler.wfile.write(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\n"
            b"Content-Length: 1000\r\n\r\nslow down"
        )
        handler.wfile.flush()
        time.sleep(3)  # the rest of the body never comes in time
        raise ConnectionAbortedError("test: the body stalls")

    http_server.routes["/stall"] = stalling
    started = time.monotonic()
    response = fetch(f"{http_server.url}/stall")
    assert response.status_code == 429 and response.retry_after(NOW) is not None
    assert time.monotonic() - started < 2.5


def test_gzip_and_deflate_bodies_are_decoded(http_server: LocalServer) -> None:
    http_server.routes["/gz"] = Response(200, gzip.compress(RSS), {"Content-Encoding": "gzip"})
    raw = zlib.compressobj(wbits=-15)
    http_server.routes["/raw"] = Response(
        200, raw.compress(RSS) + raw.flush(), {"Content-Encoding": "deflate"}
    )
    http_server.routes["/zlib"] = Response(200, zlib.compress(RSS), {"Content-Encoding": "deflate"})
    for path in ("/gz", "/raw", "/zlib"):
        response = fetch(f"{http_server.url}{path}")
        assert response.body == RSS, path


def test_a_gzip_bomb_is_stopped_at_the_cap_not_inflated(http_server: LocalServer) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(200)) + packer.flush()  # 200 MiB
    http_server.routes["/bomb"] = Response(200, bomb, {"Content-Encoding": "gzip"})
    response = fetch(f"{http_server.url}/bomb", max_body_bytes=1 << 20)
    assert not response.is_success()
    assert "larger than 1048576 bytes after decompression" in (response.failure() or "")


def test_a_large_body_is_refused(http_server: LocalServer) -> None:
    http_server.routes["/big"] = Response(200, b"x" * (3 << 20))
    response = fetch(f"{http_server.url}/big", max_body_bytes=1 << 20)
    assert "larger than 1048576 bytes" in (response.failure() or "")


def test_redirects_permanent_temporary_and_loops(http_server: LocalServer) -> None:
    base = http_server.url
    http_server.routes["/new"] = Response(200, RSS)
    http_server.routes["/moved"] = Response(301, b"", {"Location": f"{base}/new"})
    http_server.routes["/moved308"] = Response(308, b"", {"Location": f"{base}/moved"})
    http_server.routes["/temp"] = Response(302, b"", {"Location": f"{base}/moved"})
    http_server.routes["/loop"] = Response(302, b"", {"Location": f"{base}/loop"})
    assert fetch(f"{base}/moved").permanent_url() == f"{base}/new"
    assert fetch(f"{base}/moved308").permanent_url() == f"{base}/new"
    temporary = fetch(f"{base}/temp")
    assert temporary.is_success() and temporary.permanent_url() is None
    loop = fetch(f"{base}/loop")
    assert loop.failure() == "fetch: more than 5 redirects"


def test_rate_limits_gone_and_errors(http_server: LocalServer) -> None:
    base = http_server.url
    http_server.routes["/429"] = Response(429, b"slow down", {"Retry-After": "120"})
    http_server.routes["/503"] = Response(
        503, b"", {"Retry-After": "Sat, 01 Jun 2024 00:10:00 GMT"}
    )
    http_server.routes["/410"] = Response(410, b"")
    http_server.routes["/500"] = Response(500, b"", {"Retry-After": "60"})
    limited = fetch(f"{base}/429")
    assert limited.is_rate_limited() and limited.retry_after(NOW) == 120
    assert "429" in (limited.failure() or "") and "Retry-After: 120" in (limited.failure() or "")
    assert fetch(f"{base}/503").retry_after(NOW) == 600
    assert fetch(f"{base}/410").is_gone()
    error = fetch(f"{base}/500")
    assert error.failure() == "fetch: HTTP 500" and error.retry_after(NOW) is None


def test_retry_after_forms() -> None:
    assert parse_retry_after("30", NOW) == 30
    assert parse_retry_after("Fri, 31 May 2024 00:00:00 GMT", NOW) == 0  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_hanging_server_times_out(http_server: LocalServer) -> None:
    def hang(_handler: BaseHTTPRequestHandler) -> Response:
        time.sleep(3)
        return Response(200, RSS)

    http_server.routes["/hang"] = hang
    started = time.monotonic()
    response = fetch(f"{http_server.url}/hang", timeout=0.5, read_timeout=0.3)
    assert time.monotonic() - started < 2
    assert "timed out" in (response.failure() or "")


def test_max_age_is_read() -> None:
    response = FetchResponse("u", "u", 200, {"cache-control": "public, max-age=3600"})
    assert response.max_age() == 3600


# -- parsing ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title>
<item><guid>1</guid><title>&lol9;</title><description>laughs</description></item>
</channel></rss>"""


def test_a_billion_laughs_feed_is_not_expanded() -> None:
    started = time.monotonic()
    result = parse_feed(BILLION_LAUGHS, "http://x/feed")
    assert time.monotonic() - started < 2
    assert result.error is not None  # the undefined entity is reported
    text = "".join((e.title or "") + e.content for e in result.entries)
    assert "lollol" not in text and len(text) < 1000


@pytest.mark.parametrize("form", ["entity", "doctype"])
def test_a_doctype_pointing_at_a_local_file_reads_nothing(tmp_path: Path, form: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    if form == "entity":
        doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        title = "a &xxe; b"
    else:
        doctype = f'<!DOCTYPE rss SYSTEM "file://{secret}">'
        title = "a b"
    body = (
        f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>t</title>'
        f"<item><guid>1</guid><title>{title}</title><description>x</description></item>"
        "</channel></rss>"
    ).encode()
    result = parse_feed(body, "http://x/feed")
    everything = repr(result)
    assert "TOP-SECRET" not in everything


def test_html_is_sanitized_and_plain_text_stays_plain() -> None:
    result = parse_feed(RSS, "http://x/feed", {"Content-Type": "application/rss+xml"})
    (entry,) = result.entries
    assert entry.content_type == "text/html" and "<script" not in entry.content
    assert result.ttl == 90 * 60 and result.error is None
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        b'<title>x</title><content type="text">&lt;b&gt;not markup&lt;/b&gt;</content>'
        b"</entry></feed>"
    )
    (plain,) = parse_feed(atom, "http://x/atom").entries
    assert plain.content_type == "text/plain" and plain.content == "<b>not markup</b>"


def test_relative_links_in_html_point_where_they_did_on_the_page() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><link>/</link><item><guid>1</guid>'
        b"<link>/news/2024/one.html</link><title>x</title><description>"
        b'&lt;p onclick="x()"&gt;&lt;a href="../two.html"&gt;two&lt;/a&gt;'
        b'&lt;img src="pic.png"&gt;&lt;a href="javascript:alert(1)"&gt;j&lt;/a&gt;'
        b'&lt;a href="https://other.example/z"&gt;z&lt;/a&gt;&lt;/p&gt;'
        b"</description></item></channel></rss>"
    )
    (entry,) = parse_feed(body, "https://news.example/feeds/rss.xml").entries
    assert entry.link == "https://news.example/news/2024/one.html"
    assert 'href="https://news.example/news/two.html"' in entry.content
    assert 'src="https://news.example/news/2024/pic.png"' in entry.content
    assert 'href="https://other.example/z"' in entry.content
    assert "javascript" not in entry.content and "onclick" not in entry.content
    # A seed has no URL of its own: relative links stay as they are.
    unlinked = body.replace(b"<link>/news/2024/one.html</link>", b"")
    (seed,) = parse_feed(unlinked, "seed:a.xml").entries
    assert 'href="../two.html"' in seed.content


def test_titles_are_text_and_xml_base_places_relative_links() -> None:
    rss = (
        b'<rss version="2.0"><channel><title>Feed &lt;i&gt;one&lt;/i&gt;</title><item>'
        b"<guid>1</guid><title>&lt;b onmouseover=alert(1)&gt;Bold&lt;/b&gt; news</title>"
        b"<description>x</description></item></channel></rss>"
    )
    result = parse_feed(rss, "https://news.example/rss")
    assert result.title == "Feed one" and result.entries[0].title == "Bold news"
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.example/blog/">'
        b'<title>t</title><entry><id>1</id><title>x</title><link href="2024/05/post.html"/>'
        b'<content type="html">&lt;img src="img/a.png"&gt;</content></entry></feed>'
    )
    (entry,) = parse_feed(atom, "https://ex.example/feed.xml").entries
    assert entry.link == "https://ex.example/blog/2024/05/post.html"
    assert 'src="https://ex.example/blog/img/a.png"' in entry.content


def test_parse_refuses_a_string() -> None:
    with pytest.raises(TypeError):
        parse_feed("http://example.org/feed.xml", "x")  # type: ignore[arg-type]


def test_json_feed() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "language": "en",'
        b'"items": [{"id": "1", "url": "https://x/1", "title": "One",'
        b'"content_html": "<p>hi</p><script>x()</script>",'
        b'"date_published": "2024-05-30T10:00:00+02:00"},'
        b'{"id": 2, "content_text": "<b>plain</b>"}, "junk"]}'
    )
    result = parse_feed(body, "http://x/feed.json", {"Content-Type": "application/feed+json"})
    assert result.title == "J" and result.version == "json11"
    one, two = result.entries
    assert one.guid == "1" and one.link == "https://x/1" and "<script" not in one.content
    assert one.published == datetime(2024, 5, 30, 8, 0, tzinfo=UTC) and one.language == "en"
    assert two.guid == "2" and two.content_type == "text/plain"
    assert result.error == "parse: 1 JSON Feed items were not objects"
    broken = parse_feed(b'{"version": "https://jsonfeed.org/version/1", "items": [', "x")
    assert broken.entries == () and "not valid JSON" in (broken.error or "")


def test_json_feed_strings_lose_control_characters() -> None:
    """JSON may escape any control character; XML cannot hold them and PostgreSQL
    refuses NUL in text, so they are dropped (tab and line breaks stay)."""
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J\\u0007",'
        b'"items": [{"id": "a\\u0000b", "url": "https://x/\\u0000", "title": "T\\u0000itle",'
        b'"content_text": "line\\u0000one\\tcol\\nline two\\u001b"},'
        b'{"id": "\\u0000", "content_text": "x"}]}'
    )
    result = parse_feed(body, "http://x/feed.json")
    one, two = result.entries
    assert result.title == "J"
    assert (one.guid, one.link, one.title) == ("ab", "https://x/", "Title")
    assert one.content == "lineone\tcol\nline two"
    assert two.guid is None  # nothing left of it


def test_a_digest_comes_back_from_a_parse_process_whole() -> None:
    """Digests cross the process boundary pickled by their fields (``jobs.parse_pool``)."""
    import pickle

    import numpy as np

    from worker.config import Settings
    from worker.jobs import resolve_profile
    from worker.jobs.parse_pool import Digester
    from worker.pipeline.dedup import NUM_PERM, Signer

    digester = Digester(resolve_profile(Settings()), Signer(NUM_PERM))
    body = RSS.replace(
        b"<title>A</title>",
        b"<title>Smart manufacturing training course in Suzhou, 2024-06-12</title>",
    ).replace(
        b"x&lt;script",
        b"Engineers from forty plants practised MES and digital twins. " * 4 + b"&lt;script",
    )
    digest = digester.digest(body, {"content-type": "application/rss+xml"}, "https://e.org/f", NOW)
    assert digest.items and digest.fingerprints
    back = pickle.loads(pickle.dumps(digest, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.items == digest.items and type(back.items[0]) is type(digest.items[0])
    assert (back.seen, back.title, back.error, back.ttl, back.weekly) == (
        digest.seen,
        digest.title,
        digest.error,
        digest.ttl,
        digest.weekly,
    )
    for got, sent in zip(back.fingerprints, digest.fingerprints, strict=True):
        assert (got.keys, got.shingles, got.facts) == (sent.keys, sent.shingles, sent.facts)
        assert got.signature is not None and sent.signature is not None
        assert np.array_equal(got.signature, sent.signature)
