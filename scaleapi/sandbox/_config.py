"""The sandbox's options, declared once.

`Settings` (attrs) holds every option with its default, its validator, its help text and
whether `/admin/config` may change it at run time. From it come the command-line options
of `python -m scaleapi.sandbox`, the checks of `Sandbox(...)` / `create_app(...)` keyword
options and of `POST /admin/config`, and the answer of `GET /admin/config`.

`SandboxOptions` is the same list of names as a TypedDict, for type checkers only (they
cannot derive a TypedDict from a class); a test checks that the two agree.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict, cast

import attrs

__all__ = [
    "ADMIN_TOKEN_OFF",
    "FAULT_KINDS",
    "OptionError",
    "SandboxOptions",
    "Settings",
    "check_exposure",
    "is_loopback_host",
    "option_fields",
    "runtime_options",
]

FAULT_KINDS = ("500", "503", "429", "drop")
"""Faults the sandbox can inject; `drop` only applies to creates."""
ADMIN_TOKEN_OFF = "off"
"""`admin_token` value that serves the admin routes without a token on any address."""
MAX_LATENCY_MS = 600_000.0
"""Upper bound of `latency_ms` (ten minutes)."""
MAX_COMPLETE_AFTER = 30 * 86_400.0
"""Upper bound of `complete_after` (thirty days)."""
MAX_CALLBACK_TIMEOUT = 300.0
MAX_CALLBACK_BACKOFF = 60.0
MAX_CALLBACK_ATTEMPTS = 10
MAX_HEADER_VALUE = 256
"""Longest `retry_after`, `callback_auth_key` or `admin_token`."""


class SandboxOptions(TypedDict, total=False):
    """Keyword options of `create_app()` and `Sandbox()`, all optional; `Settings` (in
    `scaleapi.sandbox._config`) documents each one and checks its value."""

    db: str | os.PathLike[str] | None
    complete_after: float | None
    callback_auth_key: str | None
    admin_token: str | None
    latency_ms: float
    fault_rate: float
    faults: Sequence[str] | str
    seed: int
    retry_after: str | int
    callback_attempts: int
    callback_backoff: float
    callback_timeout: float
    spec: str | os.PathLike[str] | Mapping[str, Any] | None


class OptionError(ValueError):
    """An option whose value is refused; `name` is the option, `reason` what is wrong."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason


# -- validators and converters ----------------------------------------------------------
Check = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _number(low: float, high: float, *, above: bool = False, optional: bool = False) -> Check:
    """A finite number in [low, high] (or (low, high] with `above`)."""
    lowest = f"> {low:g}" if above else f">= {low:g}"

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionError(attribute.name, "must be a number")
        if not math.isfinite(value):
            raise OptionError(attribute.name, "must be a finite number")
        if value < low or (above and value == low) or value > high:
            raise OptionError(attribute.name, f"must be {lowest} and <= {high:g}")

    return check


def _integer(low: int, high: int) -> Check:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionError(attribute.name, "must be an integer")
        if not low <= value <= high:
            raise OptionError(attribute.name, f"must be between {low} and {high}")

    return check


def _header_value(*, optional: bool = False) -> Check:
    """Text that can go in an HTTP header: 1 to 256 printable ASCII characters."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise OptionError(attribute.name, "must be a string")
        if not 0 < len(value) <= MAX_HEADER_VALUE or not all(" " <= c <= "~" for c in value):
            raise OptionError(
                attribute.name,
                f"must be 1 to {MAX_HEADER_VALUE} printable ASCII characters",
            )

    return check


def _check_faults(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    kinds = cast("tuple[object, ...]", value) if isinstance(value, tuple) else (value,)
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise OptionError(
            attribute.name,
            f"has unknown fault kinds {unknown}; choose among {','.join(FAULT_KINDS)}",
        )


def _check_path(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str | Mapping):
        raise OptionError(attribute.name, "must be a path")


def _faults(value: object) -> object:
    """`"500,429"` or a sequence of kinds, as a tuple."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(cast("Sequence[object]", value))
    return value


def _path(value: object) -> object:
    if isinstance(value, os.PathLike):
        return os.fspath(cast("os.PathLike[str]", value))
    return value


def _text(value: object) -> object:
    """An integer `Retry-After` given as a number is its decimal text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _key_or_new(value: object) -> object:
    return secrets.token_urlsafe(24) if value is None else value


def _option(
    default: Any,
    validator: Check,
    help: str,
    *,
    converter: Callable[[Any], object] | None = None,
    metavar: str | None = None,
    parse: Callable[[str], object] = str,
    runtime: bool = False,
    secret: bool = False,
) -> Any:
    """One option: attrs field plus what the command line and `/admin/config` need."""
    metadata = {"help": help, "metavar": metavar, "parse": parse, "runtime": runtime}
    return attrs.field(
        default=default,
        validator=validator,
        converter=converter,
        metadata=metadata,
        repr=not secret,
    )


@attrs.frozen(kw_only=True)
class Settings:
    """Every option of the sandbox, checked. Immutable: `/admin/config` swaps in a new one."""

    db: str | None = _option(
        None,
        _check_path,
        "SQLite file for the tasks (kept across restarts); in memory if omitted",
        converter=_path,
        metavar="PATH",
    )
    spec: str | Mapping[str, Any] | None = _option(
        None,
        _check_path,
        "serve another OpenAPI file, e.g. a draft of the spec",
        converter=_path,
        metavar="PATH",
    )
    callback_auth_key: str = _option(
        None,
        _header_value(),
        "scale-callback-auth header value of callbacks (generated if omitted)",
        converter=_key_or_new,
        metavar="KEY",
        secret=True,
    )
    admin_token: str | None = _option(
        None,
        _header_value(optional=True),
        "bearer token the /admin routes require; needed to listen on a non-loopback"
        f" address ('{ADMIN_TOKEN_OFF}': no token, on any address)",
        metavar="TOKEN",
        secret=True,
    )
    complete_after: float | None = _option(
        None,
        _number(0, MAX_COMPLETE_AFTER, optional=True),
        "complete tasks of live_ keys this long after creation (default: only via /admin)",
        metavar="SECONDS",
        parse=float,
        runtime=True,
    )
    latency_ms: float = _option(
        0.0,
        _number(0, MAX_LATENCY_MS),
        "wait N ms before answering each /v1 request",
        metavar="N",
        parse=float,
        runtime=True,
    )
    fault_rate: float = _option(
        0.0,
        _number(0, 1),
        "fraction of /v1 requests that get a fault",
        metavar="F",
        parse=float,
        runtime=True,
    )
    faults: tuple[str, ...] = _option(
        FAULT_KINDS,
        _check_faults,
        "fault kinds to inject, comma-separated",
        converter=_faults,
        metavar="KINDS",
        runtime=True,
    )
    seed: int = _option(
        0, _integer(0, 2**63 - 1), "seed of the fault sequence", parse=int, runtime=True
    )
    retry_after: str = _option(
        "1",
        _header_value(),
        "Retry-After of injected 429s (any text, to test clients)",
        converter=_text,
        metavar="VALUE",
        runtime=True,
    )
    callback_attempts: int = _option(
        4,
        _integer(1, MAX_CALLBACK_ATTEMPTS),
        "tries per callback",
        metavar="N",
        parse=int,
        runtime=True,
    )
    callback_backoff: float = _option(
        0.5,
        _number(0, MAX_CALLBACK_BACKOFF),
        "first wait between callback tries, doubling",
        metavar="SECONDS",
        parse=float,
        runtime=True,
    )
    callback_timeout: float = _option(
        5.0,
        _number(0, MAX_CALLBACK_TIMEOUT, above=True),
        "seconds a callback receiver has for one try, reply included",
        metavar="SECONDS",
        parse=float,
        runtime=True,
    )

    @classmethod
    def from_options(cls, options: SandboxOptions | Mapping[str, object]) -> Settings:
        """Settings from keyword options; TypeError names an unknown one, OptionError a
        value out of range."""
        unknown = sorted(set(options) - _NAMES)
        if unknown:
            raise TypeError(f"unknown sandbox options: {', '.join(unknown)}")
        return cls(**cast("dict[str, Any]", options))

    def changed(self, changes: Mapping[str, object]) -> Settings:
        """A copy with run-time options changed (checked); OptionError names a bad one."""
        for name in changes:
            if name not in _RUNTIME:
                raise OptionError(name, "is not an option that can change at run time")
        return attrs.evolve(self, **cast("dict[str, Any]", changes))

    def runtime_values(self) -> dict[str, Any]:
        """The options `/admin/config` can change, as JSON values."""
        values: dict[str, Any] = {}
        for name in _RUNTIME:
            value = getattr(self, name)
            values[name] = (
                list(cast("tuple[str, ...]", value)) if isinstance(value, tuple) else value
            )
        return values

    @property
    def admin_token_required(self) -> str | None:
        """The token admin requests must carry, or None."""
        token = self.admin_token
        return None if token is None or token == ADMIN_TOKEN_OFF else token


_FIELDS: tuple[attrs.Attribute[Any], ...] = attrs.fields(Settings)
_NAMES = frozenset(field.name for field in _FIELDS)
_RUNTIME = tuple(field.name for field in _FIELDS if field.metadata["runtime"])


def runtime_options() -> tuple[str, ...]:
    """Names of the options `/admin/config` can change."""
    return _RUNTIME


def option_fields() -> tuple[attrs.Attribute[Any], ...]:
    """Every option, in declaration order (for the command line)."""
    return _FIELDS


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is loopback."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: Settings) -> None:
    """Refuse to listen beyond loopback unless the admin routes have a token (or it is
    explicitly off)."""
    if settings.admin_token is None and not is_loopback_host(host):
        raise OptionError(
            "admin_token",
            f"is needed to listen on {host}, a non-loopback address: anyone who can reach"
            f" it could reset or slow down the sandbox; give a token, or"
            f" '{ADMIN_TOKEN_OFF}' to serve the admin routes without one",
        )
