"""``scaleapi.exceptions``, as in the official 2.x SDK: the exception classes, and
``ExceptionMap`` from HTTP status to class. ``ScaleDuplicateTask`` is the pre-2.2 name
of ``ScaleDuplicateResource``."""

from ._exceptions import (
    STATUS_EXCEPTIONS,
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

ExceptionMap = STATUS_EXCEPTIONS
ScaleDuplicateTask = ScaleDuplicateResource

__all__ = [
    "ExceptionMap",
    "ScaleBadResponse",
    "ScaleConnectionError",
    "ScaleDuplicateResource",
    "ScaleDuplicateTask",
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
    "ValidationError",
]
