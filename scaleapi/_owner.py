"""What an object of the API (a task, a batch, ...) needs of the client that read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

T = TypeVar("T")

if TYPE_CHECKING:
    from ._generated.client_async import AsyncOperations
    from ._generated.client_sync import Operations


class Owned:
    """An object that acts through the client it came from (``task.refresh()``)."""

    __slots__ = ("_owner", "_request_id")

    _owner: object

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` of the answer this object was last read from
        (quote it when you report a problem); ``None`` when the server sent none."""
        request_id: str | None = getattr(self, "_request_id", None)
        return request_id

    def _sync_owner(self) -> Operations:
        from ._generated.client_sync import Operations

        owner = self._owner
        if isinstance(owner, Operations):
            return owner
        if owner is None:
            raise RuntimeError(
                f"this {type(self).__name__} was not read by a client; it cannot act"
            )
        name = type(self).__name__
        raise TypeError(
            f"this {name} came from AsyncScaleClient: use the awaitable methods "
            f"(`await obj.arefresh()`, `await obj.aset_metadata(...)`, ...)"
        )

    def _async_owner(self) -> AsyncOperations:
        from ._generated.client_async import AsyncOperations

        owner = self._owner
        if isinstance(owner, AsyncOperations):
            return owner
        raise TypeError(
            f"the a-prefixed methods (arefresh, acancel, ...) are for a {type(self).__name__} "
            "from AsyncScaleClient; use the plain ones"
        )


def stamp(value: T, request_id: str | None) -> T:
    """``value`` (an object, a page or a list of objects) marked with the request id of
    the answer it was read from; other values are left as they are."""
    target: object = value
    if isinstance(target, Owned):
        object.__setattr__(target, "_request_id", request_id)
        return value
    if hasattr(type(target), "request_id"):  # a page (Tasklist, Batchlist) or counts
        setattr(target, "request_id", request_id)  # noqa: B010
    if isinstance(target, list):
        for item in cast("list[object]", target):
            if isinstance(item, Owned):
                object.__setattr__(item, "_request_id", request_id)
    return value
