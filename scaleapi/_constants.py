"""Every tunable of the client in one place."""

from __future__ import annotations

from typing import Final

import httpx

DEFAULT_BASE_URL: Final = "https://api.scale.com/v1"
API_KEY_ENV: Final = "SCALE_API_KEY"
BASE_URL_ENV: Final = "SCALE_BASE_URL"
LOG_ENV: Final = "SCALE_LOG"
# auto (aiohttp when installed), aiohttp or httpx: what an AsyncScaleClient sends with.
ASYNC_TRANSPORT_ENV: Final = "SCALE_ASYNC_TRANSPORT"

# Connect quickly or fail; give the server a minute to answer (creates can be slow).
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 60.0
DEFAULT_TIMEOUT: Final = httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# The whole call (every attempt, every wait between them, every byte of every answer)
# ends by this many seconds: a server dripping a byte at a time cannot hold it longer.
# Three attempts of the default read timeout, plus backoff, fit in it.
DEFAULT_DEADLINE: Final = 200.0

# An answer is read only up to this many bytes, counted after decompression; a bigger
# one (announced or streamed, gzip bomb or endless chunks) is a ScaleBadResponse.
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5  # seconds before the first retry
MAX_RETRY_DELAY: Final = 8.0  # backoff never waits longer than this
RETRY_JITTER: Final = 0.25  # up to this fraction is taken off each backoff delay
MAX_RETRY_AFTER: Final = 60.0  # a server asking for a longer wait gets an error, not a sleep

# Distinct next_tokens remembered by iter_tasks to spot a server sending one again.
PAGINATION_MEMORY: Final = 1024

# How much of an unreadable body goes into an exception message.
BODY_EXCERPT_CHARS: Final = 200

MAX_UPLOAD_BYTES: Final = 80 * 1000 * 1000
"""The largest file ``upload_file`` sends: the API's own limit (80 MB, per its documentation
and the spec); a bigger one is refused before it is read."""
