"""The ASGI application: published files from memory, views from the store, health, metrics.

Routes::

    /  /index.html            the page (static; with a query: a filtered view)
    /feeds/<file>             a published file (static; with a query: a filtered feed)
    /events/<id>[.ics]        one event: its page, or a single-event calendar
    /healthz  /metrics        the service's health (200 or 503) and Prometheus metrics

Only ``GET`` and ``HEAD``: other known methods get ``405``, unknown ones ``501``.
Every response is logged as one access line in the worker's log format. A
failure inside a view is a ``500`` and one logged traceback; a client that
went away is nothing at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST

from worker.logs import log_fields
from worker.server.health import Health, HealthCheck, always_ok
from worker.server.http import accepts_gzip, http_date, not_modified
from worker.server.static import StaticFile, StaticSite

log = logging.getLogger("worker.server")
access = logging.getLogger("worker.access")

ALLOWED = ("GET", "HEAD")
#: Methods this server knows and refuses with 405 (RFC 9110 §9.3); any other gets 501.
KNOWN_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"})
TEXT = "text/plain; charset=utf-8"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    #: Percent-decoded, as the ASGI server gives it.
    path: str
    #: The raw query string (``a=1&b=2``), not yet decoded.
    query: str
    headers: Mapping[str, str]
    client: str
    #: The path as it came, still percent-encoded: what the access log shows.
    raw_path: str = ""

    @classmethod
    def from_scope(cls, scope: Scope) -> Request:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        return cls(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers=headers,
            client=str(client[0]) if client else "-",
            raw_path=(scope.get("raw_path") or b"").decode("latin-1"),
        )

    @property
    def target(self) -> str:
        """The request target for the log: encoded, so no control character reaches a line."""
        path = self.raw_path or self.path.encode("unicode_escape").decode("ascii")
        return path + ("?" + self.query if self.query else "")


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def text_reply(status: int, message: str, *headers: tuple[str, str]) -> Reply:
    """A short plain-text answer: the one-line reason an error carries."""
    return Reply(status, (message + "\n").encode(), [("Content-Type", TEXT), *headers])


@dataclass(frozen=True, slots=True)
class Rendered:
    """A view rendered from the store: bytes and a strong ETag of them."""

    body: bytes
    etag: str
    content_type: str
    #: Seconds a cache may keep it (``Cache-Control: max-age``).
    max_age: int


class Views(Protocol):
    """What the store renders on request (``server.views``); None answers 400 or 404."""

    async def feed(self, name: str, query: str) -> Rendered | Reply | None: ...

    async def page(self, query: str) -> Rendered | Reply: ...

    async def event(self, name: str) -> Rendered | Reply | None: ...


class FeedApp:
    """The ASGI callable ``worker run`` serves (``server.run.FeedServer``)."""

    def __init__(
        self,
        site: StaticSite,
        *,
        health: HealthCheck = always_ok,
        metrics: Callable[[], bytes] = lambda: b"",
        max_age: int = 60,
        views: Views | None = None,
        access_log: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.site = site
        self.health = health
        self.metrics = metrics
        self.views = views
        self.access_log = access_log
        self.clock = clock
        # Readers need not ask before the next publish could have changed a file; a cache
        # may serve its copy while it revalidates for as long again (RFC 5861).
        self.cache_control = f"public, max-age={max_age}, stale-while-revalidate={max_age}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request.from_scope(scope)
        try:
            reply = await self.respond(request)
        except Exception:
            log.exception("server: %s %s failed", request.method, request.target)
            reply = text_reply(500, "internal error")
        sent = await self._send(send, reply, head=request.method == "HEAD")
        if self.access_log:
            log_fields(
                access,
                logging.INFO,
                f"{request.method} {request.target} {reply.status}",
                client=request.client,
                bytes=len(reply.body) if sent else 0,
                ms=round((time.perf_counter() - started) * 1000, 2),
                agent=request.headers.get("user-agent", "-"),
                **({} if sent else {"disconnected": True}),
            )

    async def respond(self, request: Request) -> Reply:
        if request.method not in ALLOWED:
            allow = ("Allow", ", ".join(ALLOWED))
            if request.method in KNOWN_METHODS:
                return text_reply(405, "method not allowed", allow)
            return text_reply(501, "method not implemented", allow)
        path = request.path
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
            # %00 and friends: no file has such a name, and no name may reach a lower layer.
            return text_reply(400, "bad request: control character in the path")
        if path == "/healthz":
            return await self._health()
        if path == "/metrics":
            body = await asyncio.to_thread(self.metrics)
            return Reply(200, body, [("Content-Type", CONTENT_TYPE_LATEST),
                                     ("Cache-Control", "no-store")])  # fmt: skip
        if path in ("/", "/index.html"):
            if request.query and self.views is not None:
                return self._rendered(request, await self.views.page(request.query))
            return self._static(request, "index.html")
        if path.startswith("/feeds/"):
            name = path.removeprefix("/feeds/")
            if request.query and self.views is not None:
                view = await self.views.feed(name, request.query)
                if view is not None:
                    return self._rendered(request, view)
            return self._static(request, name)
        if path.startswith("/events/") and self.views is not None:
            view = await self.views.event(path.removeprefix("/events/"))
            if view is not None:
                return self._rendered(request, view)
        return text_reply(404, "not found")

    async def _health(self) -> Reply:
        try:
            health = await asyncio.to_thread(self.health)
        except Exception as e:  # a broken check is itself a failure to report
            log.exception("server: the health check failed")
            health = Health("failing", (f"health check: {type(e).__name__}: {e}",))
        return Reply(
            200 if health.ok else 503,
            json.dumps(health.to_json(), ensure_ascii=False).encode(),
            [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        )

    def _static(self, request: Request, name: str) -> Reply:
        file = self.site.get(name)
        if file is None:
            return text_reply(404, "not found")
        headers = request.headers
        gzipped = file.gzipped is not None and accepts_gzip(headers.get("accept-encoding"))
        common = [
            ("ETag", file.gzip_etag if gzipped else file.etag),
            ("Last-Modified", http_date(file.mtime)),
            ("Cache-Control", self.cache_control),
            ("Vary", "Accept-Encoding"),
        ]
        if self._not_modified(headers, file.etags, file.mtime):
            return Reply(304, b"", common)
        return _body_reply(file, gzipped, common)

    def _rendered(self, request: Request, view: Rendered | Reply) -> Reply:
        if isinstance(view, Reply):
            return view
        common = [("ETag", view.etag), ("Cache-Control", f"public, max-age={view.max_age}")]
        if self._not_modified(request.headers, (view.etag,), None):
            return Reply(304, b"", common)
        return Reply(200, view.body, [("Content-Type", view.content_type), *common])

    def _not_modified(
        self, headers: Mapping[str, str], etags: tuple[str, ...], mtime: float | None
    ) -> bool:
        return not_modified(
            headers.get("if-none-match"),
            headers.get("if-modified-since"),
            etags=etags,
            mtime=mtime,
            now=self.clock(),
        )

    @staticmethod
    async def _send(send: Send, reply: Reply, *, head: bool) -> bool:
        """Send the reply; False when the client was gone (nothing to log but that)."""
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        if reply.status != 304:
            headers.append((b"content-length", str(len(reply.body)).encode()))
        try:
            await send({"type": "http.response.start", "status": reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if head else reply.body})
        except (OSError, RuntimeError) as e:  # the client went away mid-response
            log.debug("server: client gone: %s", e)
            return False
        return True


def _body_reply(file: StaticFile, gzipped: bool, common: list[tuple[str, str]]) -> Reply:
    headers = [("Content-Type", file.content_type), *common]
    if gzipped and file.gzipped is not None:
        return Reply(200, file.gzipped, [*headers, ("Content-Encoding", "gzip")])
    return Reply(200, file.body, headers)


def make_app(
    feeds_dir: Path,
    *,
    health: HealthCheck = always_ok,
    metrics: Callable[[], bytes] = lambda: b"",
    max_age: int = 60,
    views: Views | None = None,
    access_log: bool = True,
) -> FeedApp:
    """An app serving ``feeds_dir`` (read now, and again on ``app.site.refresh()``)."""
    site = StaticSite(feeds_dir)
    site.refresh()
    return FeedApp(
        site, health=health, metrics=metrics, max_age=max_age, views=views, access_log=access_log
    )
