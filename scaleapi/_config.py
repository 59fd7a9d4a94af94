"""What every client, sync or async, is configured with: key, URL, headers, timeout."""

from __future__ import annotations

import base64
import os
import platform

from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_BYTES,
)
from ._exceptions import ScaleException
from ._retry import RetryPolicy
from ._transport import Settings
from ._types import NotGiven, TimeoutTypes, to_timeout
from ._version import __version__

USER_AGENT = (
    f"scaleapi/{__version__} Python/{platform.python_version()} "
    f"OS/{platform.system()}-{platform.release()}"
)


def resolve_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise ScaleException(
            f"No API key: pass ScaleClient(api_key=...) or set the {API_KEY_ENV} environment "
            "variable (keys start with live_ or test_)."
        )
    if any(c in key for c in ":\r\n"):
        raise ScaleException("The API key contains ':' or a line break; check its value.")
    return key


def _clean(source: str) -> str:
    """A source tag (2.x's second argument) fit for a header: printable, one line."""
    return "".join(c for c in source if c.isprintable())[:100]


def check_base_url(url: str, source: str) -> str:
    """The base URL without a trailing slash, or a ScaleException saying what is wrong.

    Credentials in it (``https://user:password@host``) are refused: httpx would send them
    as the ``Authorization`` header in place of the API key, silently."""
    import httpx  # loaded with the clients, not by ``import scaleapi``

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ScaleException(f"{source} is not a valid URL.") from None
    if parsed.userinfo:
        raise ScaleException(
            f"{source} contains credentials (user:password@); they would replace the API "
            "key. Pass the key as api_key (or $SCALE_API_KEY) and the URL without them."
        )
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ScaleException(
            f"{source} must be an http:// or https:// URL with a host, "
            f"like {DEFAULT_BASE_URL}; got {str(parsed)[:100]!r}."
        )
    return url.rstrip("/")


def validate_deadline(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    if not 0 < deadline < float("inf"):  # NaN fails this too
        raise ScaleException(
            f"deadline must be a positive number of seconds or None, got {deadline!r}"
        )
    return float(deadline)


def make_settings(
    api_key: str | None,
    base_url: str | None,
    timeout: TimeoutTypes | NotGiven,
    policy: RetryPolicy,
    *,
    source: str | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> Settings:
    import httpx  # loaded with the clients, not by ``import scaleapi``

    key = resolve_key(api_key)
    token = base64.b64encode(f"{key}:".encode()).decode("ascii")
    if base_url:
        url = check_base_url(base_url, "base_url")
    elif os.environ.get(BASE_URL_ENV):
        url = check_base_url(os.environ[BASE_URL_ENV], f"${BASE_URL_ENV}")
    else:
        url = DEFAULT_BASE_URL
    if max_response_bytes < 1:
        raise ScaleException(f"max_response_bytes must be 1 or more, got {max_response_bytes}")
    return Settings(
        base_url=url,
        deadline=validate_deadline(deadline),
        max_response_bytes=max_response_bytes,
        # httpx.Headers, whose repr hides the Authorization value, so that the dict
        # never shows the key where locals are recorded (pytest -l, Sentry, rich).
        headers=httpx.Headers(
            {
                "Authorization": f"Basic {token}",
                "User-Agent": USER_AGENT if not source else f"{USER_AGENT} {_clean(source)}",
                "Accept": "application/json",
            }
        ),
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        policy=policy,
    )
