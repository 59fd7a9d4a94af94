"""What an object of the API (a task, a batch, ...) needs of the client that read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._generated.client_async import AsyncOperations
    from ._generated.client_sync import Operations


class Owned:
    """An object that acts through the client it came from (``task.refresh()``)."""

    __slots__ = ("_owner",)

    _owner: object

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
