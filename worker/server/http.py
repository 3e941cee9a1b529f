"""HTTP rules the server follows, as pure functions over header values.

Conditional requests (RFC 9110 §13), content coding negotiation (§12.5.3) and
dates (§5.6.7). Nothing here does I/O or knows the ASGI server.
"""

from __future__ import annotations

from email.utils import formatdate, parsedate_to_datetime


def http_date(timestamp: float) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7), as ``Last-Modified`` carries it."""
    return formatdate(timestamp, usegmt=True)


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


def etag_matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    """``If-None-Match`` against the representation's tags, by weak comparison (§13.1.2)."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or any(tag in tags for tag in etags)


def not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    *,
    etags: tuple[str, ...],
    mtime: float | None,
    now: float,
) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it.

    ``etags``: every tag that stands for the same content (the plain and the gzip
    representation). An If-Modified-Since that is not a valid date, or is later than
    the server's clock, is ignored (§13.1.3): a reader's wrong clock must not freeze
    its copy.
    """
    if if_none_match is not None:
        return etag_matches(if_none_match, etags)
    if not if_modified_since or mtime is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False
    if since > now:
        return False
    return int(mtime) <= since
