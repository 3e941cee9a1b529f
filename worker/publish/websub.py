"""WebSub publish pings: tell the hub which feeds changed (https://www.w3.org/TR/websub/).

The spec leaves the publisher-to-hub notification to the hub; the form every
public hub accepts is a ``POST`` of ``hub.mode=publish&hub.url=<feed URL>``
(application/x-www-form-urlencoded), answered with a 2xx. One request per
changed feed. A failing hub is a value returned, never an exception: the feeds
are already written, and readers polling them still get the news.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class PingResult:
    """What the hub answered for one feed."""

    feed_url: str
    ok: bool
    status: int | None = None
    error: str | None = None


def ping_hub(
    hub: str, feed_urls: Sequence[str], *, timeout: float, client: httpx.Client | None = None
) -> list[PingResult]:
    """POST one publish notification per feed URL; return each outcome."""
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    results = []
    try:
        for url in feed_urls:
            try:
                response = http.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as e:
                failure = f"websub: {type(e).__name__}: {e}"
                results.append(PingResult(url, ok=False, error=failure))
                continue
            ok = response.is_success
            refused = None if ok else f"websub: hub answered HTTP {response.status_code}"
            results.append(PingResult(url, ok=ok, status=response.status_code, error=refused))
    finally:
        if own:
            http.close()
    return results
