"""``Task`` and ``Tasklist``: the classic objects, over the generated attrs models."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, cast

from ._generated.api.types import Unset
from ._generated.object_methods import TaskMethods
from ._owner import Owned
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


def check_task_json(obj: dict[str, Any]) -> None:
    """Refuse, as ``TypeError`` (which the transport reports as a bad answer), a task whose
    identity is not what the API promises: a ``Task`` is compared and hashed by its id, so
    an id of ``123``, ``null`` or ``[1]`` must not get that far."""
    task_id = obj.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise TypeError(f"a task's task_id must be a non-empty string, not {task_id!r}"[:200])
    kind = obj.get("type")
    if kind is not None and not isinstance(kind, str):  # absent with limited_response
        raise TypeError(f"a task's type must be a string, not {kind!r}"[:200])


def _container(value: object) -> dict[Any, object] | list[object] | None:
    if isinstance(value, dict):
        return cast("dict[Any, object]", value)
    if isinstance(value, list):
        return cast("list[object]", value)
    return None


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars), however deeply it nests: made
    with a loop, not recursion, so metadata nested a thousand deep copies like any other."""
    top = _container(value)
    if top is None:
        return value
    root: dict[Any, object] | list[object] = {} if isinstance(top, dict) else []
    stack = [(top, root)]
    while stack:
        source, target = stack.pop()
        items: Iterable[tuple[Any, object]] = (
            source.items() if isinstance(source, dict) else enumerate(source)
        )
        for key, item in items:
            inner = _container(item)
            copied: object = item
            if inner is not None:
                new: dict[Any, object] | list[object] = {} if isinstance(inner, dict) else []
                stack.append((inner, new))
                copied = new
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


class TaskModel(Protocol[P, R]):
    """What ``Task`` reads of a generated task model (``CategorizationTask``, ...)."""

    @property
    def task_id(self) -> str: ...
    @property
    def status(self) -> TaskStatus | str: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def completed_at(self) -> datetime.datetime | Unset: ...
    @property
    def params(self) -> P: ...
    @property
    def response(self) -> R | Unset: ...


class Task(TaskMethods, Owned, Generic[P, R]):
    """A task, as the server last described it.

    Typed attributes: ``id`` (and ``task_id``), ``type``, ``status``, ``params`` and
    ``response`` (the generated models of the task's type), ``metadata``, ``created_at``,
    ``completed_at``. Any other field of the task, and then of its ``params``, reads as an
    attribute too (``task.attachment_type``), with its JSON value, so fields the server adds
    are never lost. ``as_dict()`` gives the whole task as the server sent it.
    """

    __slots__ = ("_data", "_model")

    _data: dict[str, Any]
    _model: TaskModel[P, R]

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
        return str(self._data.get("type", ""))

    @property
    def status(self) -> TaskStatus | str:
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
        copied: dict[str, Any] = copy_json(self._data)
        return copied

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

    def _replace(self, other: Any) -> None:
        object.__setattr__(self, "_model", other._model)
        object.__setattr__(self, "_data", other._data)

    def _object_key(self) -> str:
        return self.id

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


ItemT = TypeVar("ItemT")


class Paginator(list[ItemT]):
    """One page of a list endpoint: a ``list`` of its items with the page's facts
    (``docs``, ``total``, ``limit``, ``offset``, ``has_more``), as 2.x had it."""

    docs: list[ItemT]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_token: str | None = None
    """The cursor of the next page, where the list has one (newer servers' task lists)."""
    request_id: str | None = None
    """The server's ``x-request-id`` of the answer this page came in."""

    def __init__(
        self, docs: Iterable[ItemT], *, total: int, limit: int, offset: int, has_more: bool
    ) -> None:
        super().__init__(docs)
        self.docs = list(self)
        self.total = total
        self.limit = limit
        self.offset = offset
        self.has_more = has_more

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({len(self)} items, total={self.total}, "
            f"limit={self.limit}, offset={self.offset}, has_more={self.has_more})"
        )


class Tasklist(Paginator[Task]):
    """One page of tasks: a ``list`` of :class:`Task` with the page's facts, and the
    ``next_token`` of the next page (newer servers)."""

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
        super().__init__(docs, total=total, limit=limit, offset=offset, has_more=has_more)
        self.next_token = next_token
