"""Fetching one feed over HTTP: conditional GET, timeouts, a capped body.

The response is summed up in a ``FetchResult`` value; a failing server is a
result with ``status="error"`` and a reason, never an exception for the caller.
This module does not parse and does not store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from worker import USER_AGENT
from worker.config import FetchSettings

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    #: ``ok`` (a body to parse), ``not_modified`` (304) or ``error``.
    status: str
    http_status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


def make_client(settings: FetchSettings) -> httpx.Client:
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
    )


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> FetchResult:
    """GET ``url`` conditionally; the body is read up to ``max_bytes`` after decompression."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(url, "not_modified", 304, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                return FetchResult(
                    url, "error", response.status_code, error=f"fetch: HTTP {response.status_code}"
                )
            body = _read_capped(response, max_bytes)
            return FetchResult(
                url,
                "ok",
                response.status_code,
                body=body,
                headers=dict(response.headers),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    except BodyTooLarge:
        return FetchResult(url, "error", error=f"fetch: body larger than {max_bytes} bytes")
    except httpx.TooManyRedirects:
        return FetchResult(url, "error", error="fetch: too many redirects")
    except httpx.TimeoutException as e:
        return FetchResult(url, "error", error=f"fetch: timed out ({type(e).__name__})")
    except httpx.HTTPError as e:
        return FetchResult(url, "error", error=f"fetch: {type(e).__name__}: {e}")


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    # iter_bytes yields decompressed data, so the cap also stops a gzip bomb early.
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
