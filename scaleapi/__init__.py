"""Typed Python SDK for Scale's task API: ``ScaleClient``, ``Task``, ``Tasklist`` and the
exceptions, over code generated from the OpenAPI spec."""

from ._async_client import AsyncScaleClient
from ._bulk import BulkResult
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
from ._generated.sync_client import ScaleClient
from ._retry import RetryPolicy
from ._task import Task, Tasklist
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

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


# Show users scaleapi.ScaleClient, not scaleapi._client.ScaleClient.
def _set_public_module() -> None:
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("scaleapi._"):
            obj.__module__ = "scaleapi"


_set_public_module()
