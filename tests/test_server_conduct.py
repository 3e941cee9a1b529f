"""How the server behaves with hostile, broken or simply many clients: real server, loopback.

Bad paths get one-line errors, a client that hangs up leaves no traceback,
idle and slow connections are closed after the header timeout, the connection
cap queues rather than refuses, and every request is one access line in the
worker's log format.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from worker.logs import JsonFormatter
from worker.metrics import Metrics
from worker.server import FeedServer, Health, Limits, make_app

BIG = b"<feed>" + b"x" * 2_000_000 + b"</feed>"


def start(
    feeds: Path, *, limits: Limits | None = None, rescan: bool = False, **app_options: object
) -> FeedServer:
    app = make_app(feeds, **app_options)  # type: ignore[arg-type]
    server = FeedServer(
        app, host="127.0.0.1", port=0, limits=limits, rescan=None if rescan else (lambda: None)
    )
    server.start()
    return server


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    (folder / "zh").mkdir(parents=True)
    (folder / "atom.xml").write_bytes(b"<feed>" + b"a" * 1000 + b"</feed>")
    (folder / "big.xml").write_bytes(BIG)
    (folder / "zh" / "atom.xml").write_bytes(b"<feed>zh</feed>")
    return folder


@pytest.fixture
def server(feeds: Path) -> Iterator[FeedServer]:
    server = start(feeds)
    yield server
    server.stop()


def raw(port: int, request: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and b"Connection: close" not in request:
                break
        return data


def test_control_characters_in_the_path_are_a_400(
    server: FeedServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    base = f"http://127.0.0.1:{server.port}"
    for path in ("/feeds/atom.xml%00", "/feeds/zh%00/atom.xml", "/%0a", "/feeds/a%7f"):
        response = httpx.get(base + path)
        assert response.status_code == 400, path
        assert response.text == "bad request: control character in the path\n"
    assert httpx.get(base + "/feeds/atom.xml").status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # The access log shows the path as it came, percent-encoded: no NUL or newline in a line.
    logged = [r.getMessage() for r in caplog.records if r.name == "worker.access"]
    assert "GET /%0a 400" in logged
    assert all(c.isprintable() for line in logged for c in line)
    assert "Traceback" not in capfd.readouterr().err


def test_clients_that_hang_up_leave_no_traceback(
    server: FeedServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"GET /feeds/big.xml HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(100)  # the response has started; hang up in the middle of it
    for _ in range(30):  # and before it starts
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"GET /feeds/big.xml HTTP/1.1\r\nHost: x\r\n\r\n")
    response = httpx.get(f"http://127.0.0.1:{server.port}/feeds/big.xml")
    assert response.status_code == 200 and response.content == BIG
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info]
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "BrokenPipe" not in captured.err + captured.out


def test_if_modified_since_in_the_future_is_ignored(server: FeedServer, feeds: Path) -> None:
    """RFC 9110 §13.1.3: a date later than the server's clock is not valid."""
    url = f"http://127.0.0.1:{server.port}/feeds/atom.xml"
    modified = httpx.get(url).headers["Last-Modified"]
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    future = formatdate(time.time() + 86400 * 365, usegmt=True)
    assert httpx.get(url, headers={"If-Modified-Since": future}).status_code == 200
    for bad in ("yesterday", "Mon, 99 Foo 2024 00:00:00 GMT", ""):
        assert httpx.get(url, headers={"If-Modified-Since": bad}).status_code == 200
    past = formatdate(time.time() - 86400 * 365, usegmt=True)
    assert httpx.get(url, headers={"If-Modified-Since": past}).status_code == 200


def test_methods_other_than_get_and_head(server: FeedServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        response = httpx.request(method, base + "/feeds/atom.xml")
        assert response.status_code == 405, method
        assert response.headers["Allow"] == "GET, HEAD"
    response = httpx.request("BREW", base + "/feeds/atom.xml")
    assert response.status_code == 501


def test_health_reports_what_the_injected_check_says(feeds: Path) -> None:
    state = {"health": Health()}

    def broken() -> Health:
        raise RuntimeError("state unreadable")

    server = start(feeds, health=lambda: state["health"])
    try:
        url = f"http://127.0.0.1:{server.port}/healthz"
        ok = httpx.get(url)
        assert ok.status_code == 200 and ok.json() == {"status": "ok"}
        state["health"] = Health("failing", ("database: connection refused", "publish: feeds/"))
        failing = httpx.get(url)
        assert failing.status_code == 503
        assert failing.json() == {
            "status": "failing",
            "reasons": ["database: connection refused", "publish: feeds/"],
        }
        assert failing.headers["Cache-Control"] == "no-store"
    finally:
        server.stop()
    server = start(feeds, health=broken)
    try:
        response = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        assert response.status_code == 503
        assert "state unreadable" in response.json()["reasons"][0]
    finally:
        server.stop()


def test_metrics_in_the_prometheus_exposition_format(feeds: Path) -> None:
    metrics = Metrics()
    metrics.items_seen.inc(3)
    server = start(feeds, metrics=lambda: metrics.render().encode())
    try:
        response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        server.stop()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert "worker_feed_items_seen_total 3.0" in response.text


def test_one_access_line_per_request_in_the_log_format(
    server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker.access")
    base = f"http://127.0.0.1:{server.port}"
    plain = {"User-Agent": "Reader/1.0", "Accept-Encoding": "identity"}
    httpx.get(base + "/feeds/atom.xml?x=1", headers=plain)
    httpx.get(base + "/nothing")
    lines = [r for r in caplog.records if r.name == "worker.access"]
    assert [r.getMessage() for r in lines] == [
        "GET /feeds/atom.xml?x=1 200",
        "GET /nothing 404",
    ]
    data = json.loads(JsonFormatter().format(lines[0]))
    assert data["client"] == "127.0.0.1" and data["agent"] == "Reader/1.0"
    assert data["bytes"] == 1013 and data["level"] == "info" and data["ms"] >= 0


def test_files_are_served_from_memory_and_refreshed(feeds: Path) -> None:
    server = start(feeds)
    try:
        url = f"http://127.0.0.1:{server.port}/feeds/zh/atom.xml"
        assert httpx.get(url).content == b"<feed>zh</feed>"
        (feeds / "zh" / "atom.xml").unlink()
        # No request reads the disk: the bytes read at the last refresh are served.
        assert httpx.get(url).content == b"<feed>zh</feed>"
        (feeds / "zh" / "atom.xml").write_bytes(b"<feed>new</feed>")
        assert httpx.get(url).content == b"<feed>zh</feed>"
        assert server.app.site.refresh() == ["zh/atom.xml"]
        assert httpx.get(url).content == b"<feed>new</feed>"
        (feeds / "zh" / "atom.xml").unlink()
        assert server.app.site.refresh() == ["zh/atom.xml"]
        assert httpx.get(url).status_code == 404
    finally:
        server.stop()


def test_files_another_process_writes_are_picked_up(feeds: Path) -> None:
    server = start(feeds, rescan=True)
    try:
        url = f"http://127.0.0.1:{server.port}/feeds/rss.xml"
        assert httpx.get(url).status_code == 404
        (feeds / "rss.xml").write_bytes(b"<rss/>")
        deadline = time.monotonic() + 30
        while httpx.get(url).status_code == 404:
            assert time.monotonic() < deadline, "a new file was never served"
            time.sleep(0.1)
        assert httpx.get(url).content == b"<rss/>"
    finally:
        server.stop()


def test_idle_and_slow_connections_are_closed_after_the_header_timeout(feeds: Path) -> None:
    server = start(feeds, limits=Limits(header_timeout=1))
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.sendall(b"GET /feeds/atom.xml HTTP/1.1\r\nHo")
        kept = httpx.Client(base_url=f"http://127.0.0.1:{server.port}")
        assert kept.get("/healthz").status_code == 200  # a keep-alive connection, now idle
        for s in [*idle, slow]:
            s.settimeout(10)
            assert s.recv(100) == b"", "the server closed the connection"
            s.close()
        # The keep-alive connection was closed too; the client opens a new one.
        assert kept.get("/healthz").status_code == 200
        kept.close()
    finally:
        server.stop()


def test_past_the_connection_cap_new_clients_wait_instead_of_failing(feeds: Path) -> None:
    server = start(feeds, limits=Limits(max_connections=16, header_timeout=3))
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(16)]
        url = f"http://127.0.0.1:{server.port}/healthz"
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url, timeout=httpx.Timeout(5, read=0.5))
        # Queued in the backlog, not refused: served once the idle ones time out.
        assert httpx.get(url, timeout=30).status_code == 200
        for s in idle:
            s.close()
    finally:
        server.stop()


def test_a_taken_port_fails_at_once(feeds: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            FeedServer(make_app(feeds), host="127.0.0.1", port=busy.getsockname()[1])
