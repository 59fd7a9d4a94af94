"""Typed Python SDK for Scale's task API: ``ScaleClient``, ``AsyncScaleClient``, ``Task``,
``Tasklist`` and the exceptions, over code generated from the OpenAPI spec.

The clients and models load on first use, so ``import scaleapi`` stays cheap.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    ScaleBadResponse,
    ScaleConnectionError,
    ScaleDuplicateResource,
    ScaleException,
    ScaleInternalError,
    ScaleInvalidRequest,
    ScaleNotEnabled,
    ScaleOutcomeUnknown,
    ScaleResourceNotFound,
    ScaleServiceUnavailable,
    ScaleTimeoutError,
    ScaleTooManyRequests,
    ScaleUnauthorized,
    ValidationError,
)
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

if TYPE_CHECKING:
    from ._async_client import AsyncScaleClient
    from ._bulk import BulkResult
    from ._retry import RetryPolicy
    from ._sync_client import ScaleClient
    from ._task import Task, Tasklist

_LAZY = {
    "AsyncScaleClient": "._async_client",
    "BulkResult": "._bulk",
    "RetryPolicy": "._retry",
    "ScaleClient": "._sync_client",
    "Task": "._task",
    "Tasklist": "._task",
}

__all__ = [
    "NOT_GIVEN",
    "AsyncScaleClient",
    "BulkResult",
    "NotGiven",
    "RetryPolicy",
    "ScaleBadResponse",
    "ScaleClient",
    "ScaleConnectionError",
    "ScaleDuplicateResource",
    "ScaleException",
    "ScaleInternalError",
    "ScaleInvalidRequest",
    "ScaleNotEnabled",
    "ScaleOutcomeUnknown",
    "ScaleResourceNotFound",
    "ScaleServiceUnavailable",
    "ScaleTimeoutError",
    "ScaleTooManyRequests",
    "ScaleUnauthorized",
    "Task",
    "Tasklist",
    "ValidationError",
    "__version__",
]


def _public(obj: Any) -> Any:
    # Show users scaleapi.ScaleClient, not scaleapi._sync_client.ScaleClient.
    if isinstance(obj, type) and obj.__module__.startswith("scaleapi._"):
        obj.__module__ = "scaleapi"
    return obj


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scaleapi' has no attribute {name!r}")
    value = _public(getattr(importlib.import_module(module, __name__), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


for _name in __all__:
    if _name not in _LAZY:
        _public(globals()[_name])
