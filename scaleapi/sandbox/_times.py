"""Timestamps: epoch milliseconds inside, ISO 8601 with milliseconds and `Z` on the wire."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

__all__ = ["format_ms", "is_iso8601", "now_ms", "parse_iso8601_ms"]

# An unencoded `+` in a query string arrives as a space: ` 05:30` ending a time is `+05:30`.
_SPACED_OFFSET = re.compile(r"(T.*\d) (\d\d:?\d\d)$")


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def format_ms(ms: int) -> str:
    """`2016-06-30T07:38:32.368Z` for a time in epoch milliseconds."""
    seconds, millis = divmod(ms, 1000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def parse_iso8601_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 time, or None when `text` is not one.

    What `datetime.fromisoformat` reads (RFC 3339 times, `Z` and offsets included), with
    a lower-case `t` / `z` as RFC 3339 allows; a time without a zone, or a date alone
    (its midnight), is UTC. Fractions finer than a millisecond are truncated.
    """
    if not 10 <= len(text) <= 64:
        return None
    text = _SPACED_OFFSET.sub(r"\1+\2", text.upper())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_iso8601(value: str) -> bool:
    """Format check used for `format: date-time` (lenient: zone optional)."""
    return parse_iso8601_ms(value) is not None
