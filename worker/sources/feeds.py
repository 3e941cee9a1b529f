"""The HTTP edge of feed ingestion: async conditional GET, limits, a capped body.

One ``Fetcher`` holds a few ``httpx.AsyncClient`` (fetches are spread over them
by host: a single asyncio client tops out at about half of what the loopback
can serve, see ``bench/README.md``), a global concurrency limit and a per-host
limit. Each fetch ends in a ``FetchResponse`` value that answers the questions
the scheduler asks (``is_modified``, ``is_rate_limited``, ``retry_after``…), as
Miniflux's ``ResponseHandler`` does. A failing server is a response with an
``error``, never an exception for the caller.

The body is capped while it streams, *after* decompression: the raw bytes are
inflated here, a bounded amount at a time (``zlib``'s ``max_length``), so a
gzip bomb is stopped at the cap instead of being inflated in memory.

This module does not parse, does not schedule and does not store.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from worker import USER_AGENT
from worker.config import FetchSettings
from worker.headers import parse_max_age, parse_retry_after

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
#: Only what ``_Decoder`` can inflate with a bound: httpx's own decoders inflate
#: a whole network chunk at once (a 64 KiB chunk of a bomb is 64 MiB).
ACCEPT_ENCODING = "gzip, deflate"
#: Statuses that mean "ask me again later" and may carry Retry-After (RFC 9110 §10.2.3).
RATE_LIMITED = {429, 503}
#: Redirects that say the feed has moved for good (RFC 9110 §15.4.2, §15.4.9).
PERMANENT_REDIRECTS = {301, 308}
#: Most bytes of an unwanted body (a 304's, an error page) read to keep the connection.
DRAIN_BYTES = 64 * 1024
#: Longest wait for such a body: a 304 has none, an error page arrives at once.
DRAIN_SECONDS = 1.0
#: Keep-alive connections kept per client, beyond those in use.
KEEPALIVE_PER_CLIENT = 32


class FetchError(Exception):
    """A fetch that cannot give a body; the message is the recorded reason."""


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """What one GET gave: status, headers (lower-case names), the body, or why none."""

    #: The URL asked for.
    url: str
    #: The URL the body came from, after redirects.
    final_url: str
    status_code: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Why there is no usable response (timeout, too large, redirect loop…); ``None`` if there is.
    error: str | None = None
    #: Status codes of the redirects followed, in order.
    redirects: tuple[int, ...] = ()
    #: Bytes received on the wire (before decompression).
    wire_bytes: int = 0

    def is_modified(self) -> bool:
        """False for ``304 Not Modified``: nothing to parse, nothing to write."""
        return self.status_code != 304

    def is_success(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    def is_gone(self) -> bool:
        return self.status_code == 410

    def is_rate_limited(self) -> bool:
        return self.status_code in RATE_LIMITED

    def retry_after(self, now: datetime) -> float | None:
        """Seconds the server asks to wait (delta-seconds or HTTP-date), on 429/503 only."""
        if not self.is_rate_limited():
            return None
        return parse_retry_after(self.headers.get("retry-after"), now)

    def max_age(self) -> float | None:
        """``Cache-Control: max-age`` in seconds, if the response gives one (RFC 9111 §5.2.2.1)."""
        return parse_max_age(self.headers.get("cache-control"))

    def permanent_url(self) -> str | None:
        """The new address when every redirect followed was permanent (301/308), else None."""
        if self.redirects and all(code in PERMANENT_REDIRECTS for code in self.redirects):
            return self.final_url if self.final_url != self.url else None
        return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def failure(self) -> str | None:
        """The reason to record when this response is not a body to parse (nor a 304)."""
        if self.error is not None:
            return self.error
        code = self.status_code
        if code == 304 or (code is not None and 200 <= code < 300):
            return None
        reason = f"fetch: HTTP {code}"
        if self.is_rate_limited() and self.headers.get("retry-after"):
            reason += f" (Retry-After: {self.headers['retry-after']})"
        return reason


class _Decoder:
    """Inflates a Content-Encoding a bounded amount at a time; refuses past ``cap`` bytes."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.encoding = encoding
        self.cap = cap
        self.size = 0
        self._raw_deflate_tried = False
        self._done = False
        self._z: zlib._Decompress | None = self._new()

    def _new(self) -> zlib._Decompress | None:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2); some servers send raw.
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def feed(self, data: bytes) -> bytes:
        z = self._z
        if z is None:
            return self._count(data)
        out: list[bytes] = []
        buf = data
        while buf and not self._done:
            try:
                # Never ask for more than one byte past the cap: this is what stops a bomb.
                chunk = z.decompress(buf, self.cap - self.size + 1)
            except zlib.error as e:
                if self.encoding == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True
                    z = self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(f"fetch: bad {self.encoding} body: {e}") from e
            out.append(self._count(chunk))
            buf = z.unconsumed_tail
            if z.eof:
                # A gzip body may hold several members (RFC 1952 §2.2); anything else after
                # the end is trailing junk that clients ignore.
                rest = z.unused_data
                if rest[:2] == b"\x1f\x8b" and self.encoding in ("gzip", "x-gzip"):
                    z = self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    buf = rest
                else:
                    self._done = True
        return b"".join(out)

    def _count(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.cap:
            what = "after decompression " if self._z is not None else ""
            raise FetchError(f"fetch: body larger than {self.cap} bytes {what}(refused)".strip())
        return chunk


class Fetcher:
    """Async GETs with a global and a per-host concurrency limit, over a few clients."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._host_clients: dict[str, httpx.AsyncClient] = {}
        timeout = httpx.Timeout(
            settings.read_timeout,
            connect=settings.connect_timeout,
            pool=settings.timeout,
        )
        per_client = max(1, -(-settings.concurrency // settings.clients))
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=max(per_client, KEEPALIVE_PER_CLIENT),
        )
        # One TLS context for all clients: loading the CA bundle costs tens of ms each.
        tls = httpx.create_ssl_context()
        self._clients = [
            httpx.AsyncClient(
                verify=tls,
                timeout=timeout,
                limits=limits,
                follow_redirects=True,
                max_redirects=settings.max_redirects,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": ACCEPT,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
            )
            for _ in range(settings.clients)
        ]

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _client_for(self, host: str) -> httpx.AsyncClient:
        # The same host always goes to the same client, so its keep-alive connections are
        # reused; hosts are dealt out in turn, so no client holds two while one holds none.
        # A client checks every connection it holds on each request (httpcore's pool), so
        # few hosts per client keeps that cost flat.
        client = self._host_clients.get(host)
        if client is None:
            client = self._clients[len(self._host_clients) % len(self._clients)]
            self._host_clients[host] = client
        return client

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResponse:
        """GET ``url`` conditionally, within the limits; never raises for a failing server."""
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        # Per host first: a task waiting for its host must not hold a global slot.
        async with per_host, self._global:
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await self._get(self._client_for(host), url, etag, last_modified)
            except TimeoutError:
                return FetchResponse(
                    url, url, None, error=f"fetch: timed out after {self.settings.timeout:g} s"
                )

    async def _get(
        self,
        client: httpx.AsyncClient,
        url: str,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResponse:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cap = self.settings.max_body_bytes
        try:
            async with client.stream("GET", url, headers=headers) as response:
                info = dict(response.headers.items())  # httpx gives lower-case names
                redirects = tuple(r.status_code for r in response.history)
                final = str(response.url)
                code = response.status_code
                if not 200 <= code < 300:
                    # 304, errors, rate limits: the body is not wanted, but a short one is
                    # read so the connection goes back to the pool (a cycle of 304s
                    # otherwise opens a new connection per feed).
                    await _drain(response, DRAIN_BYTES)
                    return FetchResponse(url, final, code, info, redirects=redirects)
                body, wire = await _read_capped(response, cap)
                return FetchResponse(url, final, code, info, body, None, redirects, wire)
        except FetchError as e:
            return FetchResponse(url, url, None, error=str(e))
        except httpx.TooManyRedirects:
            return FetchResponse(
                url, url, None, error=f"fetch: more than {self.settings.max_redirects} redirects"
            )
        except httpx.TimeoutException as e:
            return FetchResponse(url, url, None, error=f"fetch: timed out ({type(e).__name__})")
        except httpx.HTTPError as e:
            return FetchResponse(url, url, None, error=f"fetch: {type(e).__name__}: {e}")


async def _drain(response: httpx.Response, limit: int) -> None:
    """Read and drop up to ``limit`` bytes, briefly; a longer, slow or broken body is
    left and its connection closed. The status stands either way."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            read = 0
            async for raw in response.aiter_raw():
                read += len(raw)
                if read > limit:
                    return
    except (httpx.HTTPError, TimeoutError):
        return


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, int]:
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise FetchError(f"fetch: unsupported Content-Encoding {encoding!r}")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"fetch: body larger than {cap} bytes (Content-Length {declared})")
    decoder = _Decoder(encoding, cap)
    chunks: list[bytes] = []
    wire = 0
    async for raw in response.aiter_raw():
        wire += len(raw)
        chunks.append(decoder.feed(raw))
    return b"".join(chunks), wire


def fetch_one(settings: FetchSettings, url: str) -> FetchResponse:
    """One unconditional GET from synchronous code (``worker inspect``)."""

    async def run() -> FetchResponse:
        async with Fetcher(settings.model_copy(update={"clients": 1})) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())
