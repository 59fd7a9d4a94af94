"""The exceptions the SDK raises, and the table from HTTP status to class."""

from __future__ import annotations

from typing import Final


class ScaleException(Exception):
    """Base class of every error the SDK raises.

    ``code`` is the HTTP status (``None`` when no answer was received), ``message`` the
    server's own error text (or what went wrong on the client side), ``request_id`` the
    server's request id when it sent one.
    """

    code: int | None
    message: str
    request_id: str | None

    def __init__(
        self, message: str, code: int | None = None, *, request_id: str | None = None
    ) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code
        self.request_id = request_id

    @property
    def status_code(self) -> int | None:
        """The HTTP status of the answer, like ``code``."""
        return self.code

    def __str__(self) -> str:
        status = f"HTTP {self.code}: " if self.code is not None else ""
        request = f" (request id {self.request_id})" if self.request_id else ""
        return f"{status}{self.message}{request}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class ScaleInvalidRequest(ScaleException, ValueError):
    """400: the request is invalid (also raised, before sending, for unknown parameters)."""


ValidationError = ScaleInvalidRequest
"""Another name for :class:`ScaleInvalidRequest`; catching either catches the same errors."""


class ScaleUnauthorized(ScaleException):
    """401: the API key is missing or not valid."""


class ScaleNotEnabled(ScaleException):
    """402: the feature is not enabled for this account."""


class ScaleResourceNotFound(ScaleException):
    """404: no such task for this key."""


class ScaleDuplicateResource(ScaleException):
    """409: a task with this ``unique_id`` already exists."""


class ScaleTooManyRequests(ScaleException):
    """429: rate limited. ``retry_after`` is the wait the server asked for, in seconds."""

    retry_after: float | None = None


class ScaleInternalError(ScaleException):
    """500: an error on Scale's side."""


class ScaleServiceUnavailable(ScaleException):
    """503: the service is unavailable for a moment."""


class ScaleTimeoutError(ScaleException):
    """504 from the server, or no answer within the client's timeout."""


class ScaleConnectionError(ScaleException):
    """The server could not be reached, or the connection broke before a full answer."""


class ScaleOutcomeUnknown(ScaleConnectionError):
    """A create got no answer after it may have reached the server.

    The task may or may not exist. Creates that carry a ``unique_id`` are retried safely
    instead of raising this.
    """


class ScaleBadResponse(ScaleException):
    """The server answered with something that is not what the API promises."""


STATUS_EXCEPTIONS: Final[dict[int, type[ScaleException]]] = {
    400: ScaleInvalidRequest,
    401: ScaleUnauthorized,
    402: ScaleNotEnabled,
    404: ScaleResourceNotFound,
    409: ScaleDuplicateResource,
    429: ScaleTooManyRequests,
    500: ScaleInternalError,
    503: ScaleServiceUnavailable,
    504: ScaleTimeoutError,
}


def exception_for_status(status: int) -> type[ScaleException]:
    """The class raised for an error answer with this status (the base class if unlisted)."""
    return STATUS_EXCEPTIONS.get(status, ScaleException)
