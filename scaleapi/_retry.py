"""The retry policy: which failures are retried, and how long to wait. No I/O here.

Reads (fetch, list) and cancels are idempotent and retried on every transient failure.
A create is retried only where a retry cannot make a second task:

* the request never reached the server (the connection could not be opened);
* the server refused it before doing anything (429, 503);
* the create carries a ``unique_id``: then a 5xx, a timeout or a dropped connection is
  retried too, because the server answers a repeated ``unique_id`` with 409 and the
  client then fetches the task the earlier attempt created.
"""

from __future__ import annotations

import enum
import math
import random
import time
from collections.abc import Callable, Mapping

import attrs

from ._constants import (
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_JITTER,
)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Answers that are worth another try of a request that is safe to repeat."""

REFUSED_STATUSES = frozenset({429, 503})
"""Answers by which the server says it did nothing: safe to retry even for a create."""


class CallKind(enum.Enum):
    READ = "read"  # GET, cancel: repeating it changes nothing
    CREATE = "create"  # a create without unique_id: a repeat may make a second task
    UNIQUE_CREATE = "unique create"  # a create with unique_id: a repeat is answered 409


class Failure(enum.Enum):
    NOT_SENT = "could not connect"  # provably never reached the server
    TIMEOUT = "timed out"
    DROPPED = "connection dropped"
    STATUS = "error status"


@attrs.frozen
class Decision:
    retry: bool
    delay: float
    reason: str


@attrs.frozen
class RetryPolicy:
    """How many times to retry and how long to wait; see the module docstring for what."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    jitter: float = RETRY_JITTER

    def is_retryable(self, kind: CallKind, failure: Failure, status: int | None) -> bool:
        if failure is Failure.NOT_SENT:
            return True
        if failure is Failure.STATUS:
            assert status is not None
            if kind is CallKind.CREATE:
                return status in REFUSED_STATUSES
            if kind is CallKind.UNIQUE_CREATE and status >= 500:
                return True
            return status in RETRYABLE_STATUSES
        return kind is not CallKind.CREATE

    def backoff(self, retries_done: int, rand: Callable[[], float] = random.random) -> float:
        """Exponential backoff, capped, less up to ``jitter`` of itself at random."""
        delay = min(self.initial_delay * 2.0**retries_done, self.max_delay)
        return delay * (1.0 - self.jitter * rand())

    def decide(
        self,
        kind: CallKind,
        failure: Failure,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        retries_done: int,
        now: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> Decision:
        what = f"HTTP {status}" if failure is Failure.STATUS else failure.value
        if not self.is_retryable(kind, failure, status):
            return Decision(False, 0.0, f"{what} is not retried for a {kind.value}")
        if retries_done >= self.max_retries:
            return Decision(False, 0.0, f"{what}, and all {self.max_retries} retries are used")
        asked = retry_after(headers, now) if headers is not None else None
        if asked is not None:
            if asked > self.max_retry_after:
                return Decision(
                    False,
                    0.0,
                    f"{what}; the server asked to wait {asked:.0f}s, "
                    f"over the {self.max_retry_after:.0f}s cap",
                )
            return Decision(True, asked, f"{what}; the server asked to wait {asked:.2f}s")
        delay = self.backoff(retries_done, rand)
        return Decision(True, delay, f"{what}")


def _seconds(text: str, scale: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds from a header value, else ``None``."""
    if len(text) > 64:  # no wait worth honouring needs more digits than this
        return None
    try:
        value = float(text) / scale
    except ValueError:
        return None
    if math.isnan(value) or value < 0.0:
        return None
    return value  # may be inf: the policy's cap turns that into "do not wait"


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The wait a server asked for: ``retry-after-ms``, or ``Retry-After`` in seconds or as
    an HTTP date. ``None`` when there is none or it cannot be read (NaN, a negative number,
    garbage); the caller then backs off as usual. Never raises."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _seconds(millis.strip(), 1000.0)
        if seconds is not None:
            return seconds
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    if len(value) > 64 or not value[:1].isalpha():
        return None
    import email.utils  # only an HTTP-date Retry-After needs it

    try:
        wait = email.utils.parsedate_to_datetime(value).timestamp() - now()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
    return max(wait, 0.0) if math.isfinite(wait) else None
