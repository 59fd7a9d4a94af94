"""The sandbox's options: one TypedDict for callers, one dataclass with the defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

__all__ = [
    "DEFAULT_CALLBACK_ATTEMPTS",
    "DEFAULT_CALLBACK_BACKOFF",
    "DEFAULT_CALLBACK_TIMEOUT",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_URGENCY",
    "FAULT_KINDS",
    "SERVER_DEFAULTS",
    "SandboxOptions",
    "Settings",
]

# Tunables, in one place.
DEFAULT_URGENCY = "day"
"""The `urgency` a task gets when the create request leaves it out."""
DEFAULT_LIST_LIMIT = 100
"""Page size of `GET /v1/tasks` when `limit` is not given (the spec says so in prose)."""
DEFAULT_RETRY_AFTER = "1"
"""`Retry-After` value of injected 429 answers."""
DEFAULT_CALLBACK_ATTEMPTS = 4
"""How many times a callback is tried before it is recorded as failed."""
DEFAULT_CALLBACK_BACKOFF = 0.5
"""Seconds before the first callback retry; each later wait doubles."""
DEFAULT_CALLBACK_TIMEOUT = 5.0
"""Seconds a callback receiver has to answer one attempt."""
FAULT_KINDS = ("500", "503", "429", "drop")
"""Faults the sandbox can inject; `drop` only applies to creates."""

SERVER_DEFAULTS: dict[str, dict[str, object]] = {
    "categorization": {"allow_multiple": False},
    "annotation": {"with_labels": False},
    "audiotranscription": {"verbatim": False},
}
"""Values the server fills into `params` when the create request leaves them out.

The spec states them in prose, not as `default:`, so that generated clients never send
them; this table is the sandbox's reading of that prose.
"""


class SandboxOptions(TypedDict, total=False):
    """Keyword options of `create_app()` and `Sandbox()`; all optional."""

    db: str | os.PathLike[str] | None
    """SQLite file holding the tasks; in memory when None."""
    complete_after: float | None
    """Seconds after which tasks of `live_` keys complete by themselves; never when None."""
    callback_auth_key: str | None
    """Value of the `scale-callback-auth` header; generated when None."""
    latency_ms: float
    """Milliseconds to wait before answering each `/v1` request."""
    fault_rate: float
    """Fraction (0 to 1) of `/v1` requests that get an injected fault."""
    faults: Sequence[str]
    """Enabled fault kinds, among `500`, `503`, `429` and `drop`."""
    seed: int
    """Seed of the fault injector's random numbers."""
    retry_after: str | int
    """`Retry-After` value of injected 429 answers."""
    callback_attempts: int
    """How many times a callback is tried."""
    callback_backoff: float
    """Seconds before the first callback retry; doubled for each later one."""
    callback_timeout: float
    """Seconds a callback receiver has to answer one attempt."""
    spec: str | os.PathLike[str] | Mapping[str, Any] | None
    """Another OpenAPI document to serve (a YAML file or a parsed one), e.g. a draft of
    `openapi/scaleapi.yaml`; the package's spec when None."""


def _generated_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(slots=True, kw_only=True)
class Settings:
    """The resolved options; the fault, latency and completion ones may change at run time."""

    db: str | None = None
    complete_after: float | None = None
    callback_auth_key: str = field(default_factory=_generated_key)
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    retry_after: str = DEFAULT_RETRY_AFTER
    callback_attempts: int = DEFAULT_CALLBACK_ATTEMPTS
    callback_backoff: float = DEFAULT_CALLBACK_BACKOFF
    callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT
    spec: str | Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ValueError when an option is out of range."""
        if self.complete_after is not None and self.complete_after < 0:
            raise ValueError("complete_after must be >= 0")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        unknown = [kind for kind in self.faults if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; choose among {list(FAULT_KINDS)}")
        if self.callback_attempts < 1:
            raise ValueError("callback_attempts must be >= 1")
        if self.callback_backoff < 0 or self.callback_timeout <= 0:
            raise ValueError("callback_backoff must be >= 0 and callback_timeout > 0")
        if not self.callback_auth_key:
            raise ValueError("callback_auth_key must not be empty")

    @classmethod
    def from_options(cls, options: SandboxOptions) -> Settings:
        """Settings from keyword options, defaults filled in."""
        unknown = sorted(set(options) - SandboxOptions.__optional_keys__)
        if unknown:
            raise TypeError(f"unknown sandbox options: {', '.join(unknown)}")
        settings = cls()
        db = options.get("db")
        settings.db = None if db is None else os.fspath(db)
        settings.complete_after = options.get("complete_after")
        key = options.get("callback_auth_key")
        if key is not None:
            settings.callback_auth_key = key
        settings.latency_ms = float(options.get("latency_ms", 0.0))
        settings.fault_rate = float(options.get("fault_rate", 0.0))
        settings.faults = tuple(options.get("faults", FAULT_KINDS))
        settings.seed = int(options.get("seed", 0))
        settings.retry_after = str(options.get("retry_after", DEFAULT_RETRY_AFTER))
        settings.callback_attempts = int(
            options.get("callback_attempts", DEFAULT_CALLBACK_ATTEMPTS)
        )
        settings.callback_backoff = float(options.get("callback_backoff", DEFAULT_CALLBACK_BACKOFF))
        settings.callback_timeout = float(options.get("callback_timeout", DEFAULT_CALLBACK_TIMEOUT))
        spec = options.get("spec")
        settings.spec = spec if spec is None or isinstance(spec, Mapping) else os.fspath(spec)
        settings.check()
        return settings
