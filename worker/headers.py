"""HTTP response header values the worker acts on, parsed: ``Retry-After`` and
``Cache-Control: max-age``. Shared by feed fetching and webhook delivery.

Pure: a header's text and ``now`` in, seconds out. This module sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``: ``120`` or an HTTP-date (RFC 9110 §10.2.3);
    ``None`` when absent or unreadable, 0 for a date in the past."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC without a claim to be local (RFC 5322 §3.3)
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def parse_max_age(value: str | None) -> float | None:
    """``Cache-Control: max-age`` in seconds (RFC 9111 §5.2.2.1), if given."""
    if not value:
        return None
    for directive in value.split(","):
        name, _, arg = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            arg = arg.strip().strip('"')
            if arg.isdigit():
                return float(arg)
    return None
