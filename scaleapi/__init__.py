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
    from ._generated.enums import BatchStatus, TaskReviewStatus, TaskStatus, TaskType, TeammateRole
    from ._objects import Batch, Batchlist, File, Project, StatusCounts, Teammate
    from ._raw import RawResponse
    from ._retry import RetryPolicy
    from ._sync_client import ScaleClient
    from ._task import Task, Tasklist

_LAZY = {
    "AsyncScaleClient": "._async_client",
    "Batch": "._objects",
    "BatchStatus": "._generated.enums",
    "Batchlist": "._objects",
    "BulkResult": "._bulk",
    "File": "._objects",
    "Project": "._objects",
    "RawResponse": "._raw",
    "StatusCounts": "._objects",
    "TaskReviewStatus": "._generated.enums",
    "TaskStatus": "._generated.enums",
    "TaskType": "._generated.enums",
    "Teammate": "._objects",
    "TeammateRole": "._generated.enums",
    "RetryPolicy": "._retry",
    "ScaleClient": "._sync_client",
    "Task": "._task",
    "Tasklist": "._task",
}

__all__ = [
    "NOT_GIVEN",
    "AsyncScaleClient",
    "Batch",
    "BatchStatus",
    "Batchlist",
    "BulkResult",
    "File",
    "NotGiven",
    "Project",
    "RawResponse",
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
    "StatusCounts",
    "Task",
    "TaskReviewStatus",
    "TaskStatus",
    "TaskType",
    "Tasklist",
    "Teammate",
    "TeammateRole",
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
