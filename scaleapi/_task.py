"""``Task`` and ``Tasklist``: the classic objects, over the generated attrs models."""

from __future__ import annotations

import copy
import datetime
import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, cast

from ._generated.api.types import Unset
from ._types import as_json_object

if TYPE_CHECKING:
    # Only type checkers need these: the models load when a task is parsed, and the
    # defaults that let users write plain ``Task`` need typing_extensions.
    from typing_extensions import TypeVar

    from ._generated.api.models import TaskStatus
    from ._generated.task_types import AnyParams, AnyResponse

    P = TypeVar("P", covariant=True, default=AnyParams)
    R = TypeVar("R", covariant=True, default=AnyResponse)
else:
    from typing import TypeVar

    P = TypeVar("P", covariant=True)
    R = TypeVar("R", covariant=True)


class TaskModel(Protocol[P, R]):
    """What ``Task`` reads of a generated task model (``CategorizationTask``, ...)."""

    @property
    def task_id(self) -> str: ...
    @property
    def status(self) -> TaskStatus: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def completed_at(self) -> datetime.datetime | Unset: ...
    @property
    def params(self) -> P: ...
    @property
    def response(self) -> R | Unset: ...


class TaskOwner(Protocol):
    """What a task needs of its client to refresh or cancel itself."""

    def fetch_task(self, task_id: str) -> Task: ...
    def cancel_task(self, task_id: str) -> Task: ...


class AsyncTaskOwner(Protocol):
    async def fetch_task(self, task_id: str) -> Task: ...
    async def cancel_task(self, task_id: str) -> Task: ...


class Task(Generic[P, R]):
    """A task, as the server last described it.

    Typed attributes: ``id`` (and ``task_id``), ``type``, ``status``, ``params`` and
    ``response`` (the generated models of the task's type), ``metadata``, ``created_at``,
    ``completed_at``. Any other field of the task, and then of its ``params``, reads as an
    attribute too (``task.attachment_type``), with its JSON value, so fields the server adds
    are never lost. ``as_dict()`` gives the whole task as the server sent it.
    """

    __slots__ = ("_data", "_model", "_owner")

    _data: dict[str, Any]
    _model: TaskModel[P, R]
    _owner: object

    def __init__(self, model: TaskModel[P, R], data: dict[str, Any], owner: object = None) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_owner", owner)

    @property
    def id(self) -> str:
        """The task's ID (``task_id`` on the wire)."""
        return self._model.task_id

    @property
    def task_id(self) -> str:
        return self._model.task_id

    @property
    def type(self) -> str:
        """The task type, e.g. ``"categorization"``."""
        return str(self._data["type"])

    @property
    def status(self) -> TaskStatus:
        """``"pending"``, ``"completed"``, ``"canceled"`` or ``"error"``."""
        return self._model.status

    @property
    def params(self) -> P:
        """The task's inputs as the server echoes them (server defaults filled in)."""
        return self._model.params

    @property
    def response(self) -> R | None:
        """The answer, once the task is completed; ``None`` before."""
        response = self._model.response
        return None if isinstance(response, Unset) else response

    @property
    def metadata(self) -> dict[str, Any]:
        """The caller's free JSON, echoed back (``{}`` when none was given)."""
        return as_json_object(self._data.get("metadata")) or {}

    @property
    def created_at(self) -> datetime.datetime:
        return self._model.created_at

    @property
    def completed_at(self) -> datetime.datetime | None:
        value = self._model.completed_at
        return None if isinstance(value, Unset) else value

    @property
    def model(self) -> TaskModel[P, R]:
        """The generated attrs model of this task."""
        return self._model

    def as_dict(self) -> dict[str, Any]:
        """The task as the server sent it, unknown fields included (a copy)."""
        return copy.deepcopy(self._data)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: the task's other fields, then
        # those of its params, as the classic SDK did.
        if name.startswith("__"):
            raise AttributeError(name)
        data = self._data
        if name in data:
            return data[name]
        params = as_json_object(data.get("params"))
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} {self.id} has no field {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Task is read-only; use refresh() to update it from the server")

    def refresh(self) -> Task[P, R]:
        """Fetch the task again and update this object in place; returns it."""
        self._replace(self._sync_owner().fetch_task(self.id))
        return self

    def cancel(self) -> Task[P, R]:
        """Cancel the task and update this object in place; returns it."""
        self._replace(self._sync_owner().cancel_task(self.id))
        return self

    async def arefresh(self) -> Task[P, R]:
        """``refresh()`` for a task from ``AsyncScaleClient``."""
        self._replace(await self._async_owner().fetch_task(self.id))
        return self

    async def acancel(self) -> Task[P, R]:
        """``cancel()`` for a task from ``AsyncScaleClient``."""
        self._replace(await self._async_owner().cancel_task(self.id))
        return self

    def _replace(self, other: Task[Any, Any]) -> None:
        object.__setattr__(self, "_model", other._model)
        object.__setattr__(self, "_data", other._data)

    def _sync_owner(self) -> TaskOwner:
        owner = self._owner
        if owner is None:
            raise RuntimeError("this Task was not made by a client; it cannot update itself")
        if inspect.iscoroutinefunction(getattr(owner, "fetch_task", None)):
            raise TypeError("this Task came from AsyncScaleClient: use `await task.arefresh()`")
        return cast(TaskOwner, owner)

    def _async_owner(self) -> AsyncTaskOwner:
        owner = self._owner
        if owner is None or not inspect.iscoroutinefunction(getattr(owner, "fetch_task", None)):
            raise TypeError("arefresh() and acancel() are for tasks from AsyncScaleClient")
        return cast(AsyncTaskOwner, owner)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("scaleapi.Task", self.id))

    def __str__(self) -> str:
        return f"Task(id={self.id})"

    def __repr__(self) -> str:
        return f"Task(id={self.id!r}, type={self.type!r}, status={self.status!r})"

    def __dir__(self) -> Iterable[str]:
        params = as_json_object(self._data.get("params")) or {}
        return sorted({*super().__dir__(), *self._data, *params})


class Tasklist(list[Task]):
    """One page of tasks: a ``list`` of :class:`Task` with the page's facts."""

    docs: list[Task]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_token: str | None

    def __init__(
        self,
        docs: Iterable[Task],
        *,
        total: int,
        limit: int,
        offset: int,
        has_more: bool,
        next_token: str | None = None,
    ) -> None:
        super().__init__(docs)
        self.docs = list(self)
        self.total = total
        self.limit = limit
        self.offset = offset
        self.has_more = has_more
        self.next_token = next_token

    def __repr__(self) -> str:
        return (
            f"Tasklist({len(self)} tasks, total={self.total}, limit={self.limit}, "
            f"offset={self.offset}, has_more={self.has_more})"
        )
