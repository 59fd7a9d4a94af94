"""What every client, sync or async, is configured with: key, URL, headers, timeout."""

from __future__ import annotations

import base64
import os
import platform

from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_TIMEOUT
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


def make_settings(
    api_key: str | None,
    base_url: str | None,
    timeout: TimeoutTypes | NotGiven,
    policy: RetryPolicy,
    *,
    source: str | None = None,
) -> Settings:
    key = resolve_key(api_key)
    token = base64.b64encode(f"{key}:".encode()).decode("ascii")
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return Settings(
        base_url=url.rstrip("/"),
        headers={
            "Authorization": f"Basic {token}",
            "User-Agent": USER_AGENT if not source else f"{USER_AGENT} {_clean(source)}",
            "Accept": "application/json",
        },
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        policy=policy,
    )
