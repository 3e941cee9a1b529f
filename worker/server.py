"""HTTP serving of the published files, ``/healthz`` and ``/metrics``.

Serves like a good static server so polling readers cost almost nothing:
a strong ``ETag`` from the bytes, ``Last-Modified`` from the file, ``304``
on ``If-None-Match`` / ``If-Modified-Since`` (RFC 9110 §13), gzip when the
client accepts it (with its own strong ETag: a different representation,
RFC 9110 §8.8.3.3), ``HEAD``. Files are read as the publisher wrote them
(atomically), so a response is never half a feed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("worker.server")

CONTENT_TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".png": "image/png",
    ".css": "text/css; charset=utf-8",
}
#: Smaller bodies are not worth compressing.
GZIP_MIN_BYTES = 512


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    etag: str
    mtime: float
    content_type: str
    gzipped: bytes | None

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'


class FileCache:
    """Bytes, ETag and gzip of each served file, recomputed only when the file changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], StaticFile]] = {}

    def get(self, path: Path) -> StaticFile | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._files.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            body = path.read_bytes()
        except OSError:
            return None
        entry = StaticFile(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            mtime=stat.st_mtime,
            content_type=content_type(path.name),
            gzipped=gzip.compress(body, mtime=0) if len(body) >= GZIP_MIN_BYTES else None,
        )
        with self._lock:
            self._files[path] = (stamp, entry)
        return entry


def content_type(name: str) -> str:
    if name in CONTENT_TYPES:
        return CONTENT_TYPES[name]
    suffix = Path(name).suffix
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` (RFC 9110 §12.5.3) allows gzip: listed, or ``*``, with q > 0."""
    allowed: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name.strip():
            allowed[name.strip().lower()] = q
    q = allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", 0.0)))
    return q > 0


def not_modified(headers: object, file: StaticFile) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it.

    If-None-Match uses the weak comparison (§13.1.2), and either representation's
    tag matches: both stand for the same bytes on disk.
    """
    get = headers.get  # type: ignore[attr-defined]
    inm = get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or file.etag in tags or file.gzip_etag in tags
    ims = get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return int(file.mtime) <= since
    return False


class FeedRequestHandler(BaseHTTPRequestHandler):
    """Serves the published files, ``/healthz`` and ``/metrics`` (``make_handler`` binds
    the folder and the callbacks)."""

    cache: FileCache
    root: Path
    health: Callable[[], dict[str, object]]
    metrics: Callable[[], str]
    max_age: int
    server_version = "smartmfg-events-worker"
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/healthz":
            status = self.health()
            code = HTTPStatus.OK if status.get("status") == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
            self._send_bytes(code, json.dumps(status).encode(), "application/json", head)
            return
        if path == "/metrics":
            self._send_bytes(
                HTTPStatus.OK,
                self.metrics().encode(),
                "text/plain; version=0.0.4; charset=utf-8",
                head,
            )
            return
        target = self._file_for(path)
        file = self.cache.get(target) if target else None
        if file is None:
            self._send_bytes(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
            return
        gzipped = file.gzipped is not None and accepts_gzip(self.headers.get("Accept-Encoding"))
        common = {
            "ETag": file.gzip_etag if gzipped else file.etag,
            "Last-Modified": formatdate(file.mtime, usegmt=True),
            # Readers need not ask again before the next publish could have changed it.
            "Cache-Control": f"public, max-age={self.max_age}",
            "Vary": "Accept-Encoding",
        }
        if not_modified(self.headers, file):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for k, v in common.items():
                self.send_header(k, v)
            self.end_headers()
            return
        body = file.body
        if gzipped and file.gzipped is not None:
            body = file.gzipped
            common["Content-Encoding"] = "gzip"
        self._send_bytes(HTTPStatus.OK, body, file.content_type, head, common)

    def _file_for(self, path: str) -> Path | None:
        if path in ("/", "/index.html"):
            return self.root / "index.html"
        if not path.startswith("/feeds/"):
            return None
        candidate = (self.root / path.removeprefix("/feeds/")).resolve()
        # No way out of the folder, and never a publisher's temp file.
        if not candidate.is_relative_to(self.root) or candidate.name.startswith("."):
            return None
        return candidate

    def _send_bytes(
        self,
        code: int,
        body: bytes,
        ctype: str,
        head: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


def make_handler(
    feeds_dir: Path,
    *,
    health: Callable[[], dict[str, object]],
    metrics: Callable[[], str],
    max_age: int,
) -> type[BaseHTTPRequestHandler]:
    """A handler class serving ``feeds_dir`` with these callbacks."""
    bound = {
        "cache": FileCache(),
        "root": feeds_dir.resolve(),
        "health": staticmethod(health),
        "metrics": staticmethod(metrics),
        "max_age": max_age,
    }
    return type("Handler", (FeedRequestHandler,), bound)


class FeedServer:
    """A threaded HTTP server running in a background thread."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="http", kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
