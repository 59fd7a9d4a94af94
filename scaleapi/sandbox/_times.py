"""Timestamps: epoch milliseconds inside, ISO 8601 with milliseconds and `Z` on the wire."""

from __future__ import annotations

import re
import time

__all__ = ["format_ms", "now_ms", "parse_iso8601_ms"]

# A date, optionally a time (seconds and fraction optional), optionally a zone. A space is
# accepted where the `+` of an offset would be: an unencoded `+` in a query string arrives
# as a space.
_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+\- ])(\d{2}):?(\d{2}))?)?"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


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


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, including 0)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_iso8601_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 time, or None when `text` is not one.

    A time without a zone is UTC; `Z` and `+hh:mm` / `-hh:mm` / `+hhmm` offsets are
    honoured; a date alone means its midnight, UTC. Fractions finer than a millisecond
    are truncated.
    """
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12:
        return None
    days_in_month = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days_in_month:
        return None
    hour = int(match[4] or 0)
    minute = int(match[5] or 0)
    second = int(match[6] or 0)
    if hour > 23 or minute > 59 or second > 60:  # 60: a leap second
        return None
    millis = int((match[7] or "0")[:3].ljust(3, "0"))
    offset_minutes = 0
    if match[9] is not None:
        offset_hours, offset_mins = int(match[10]), int(match[11])
        if offset_hours > 23 or offset_mins > 59:
            return None
        offset_minutes = offset_hours * 60 + offset_mins
        if match[9] == "-":
            offset_minutes = -offset_minutes
    days = _days_from_civil(year, month, day)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60
    return seconds * 1000 + millis


def is_iso8601(value: str) -> bool:
    """Format check used for `format: date-time` (lenient: zone optional)."""
    return parse_iso8601_ms(value) is not None
