"""Small shared types: the "not given" sentinel and timeout values."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

if TYPE_CHECKING:
    import httpx


class NotGiven(Enum):
    """Tells an argument that was not passed from one passed as ``None``."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"
"""Seconds for every phase, an :class:`httpx.Timeout`, or ``None`` for no limit at all."""


def as_json_object(value: object) -> dict[str, Any] | None:
    """``value`` typed as a JSON object if it is one, else ``None``."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def to_timeout(value: TimeoutTypes) -> httpx.Timeout:
    import httpx  # loaded with the clients, not by ``import scaleapi``

    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)
