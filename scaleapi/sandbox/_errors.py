"""The error answers of the API, raised anywhere in the sandbox."""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """An error answer: its status code and the `error` message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
