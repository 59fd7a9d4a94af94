"""From an operation of the spec and a caller's arguments to a :class:`Call`, and back.

Nothing here names an operation or a task type: the generated table
(``scaleapi/_generated/operations.py``) says where each argument goes and how the answer
is read; this module applies those rules, the same way for every operation.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import attrs

from ._exceptions import ScaleInvalidRequest
from ._generated import operations as ops
from ._generated.api import models
from ._generated.api.types import UNSET, Unset
from ._retry import CallKind
from ._transport import Call
from ._types import as_json_object

if TYPE_CHECKING:
    from ._generated.api.models import TaskList
    from ._task import TaskModel

RawTask = tuple["TaskModel[Any, Any]", dict[str, Any]]
"""A parsed task: its generated model and the JSON it was built from."""

_KINDS = {"read": CallKind.READ, "write": CallKind.CREATE, "create": CallKind.CREATE}


def model(name: str) -> Any:
    """A generated attrs model class by name (its module loads on first use)."""
    return getattr(models, name)


def parse_task(data: Any) -> RawTask:
    """Parse a task of any type, choosing the model by its ``type``."""
    obj = as_json_object(data)
    if obj is None:
        raise TypeError(f"a task must be a JSON object, not {type(data).__name__}")
    kind = obj.get("type")
    name = ops.TASK_MODELS.get(kind) if isinstance(kind, str) else None
    if name is None:
        return cast("TaskModel[Any, Any]", UntypedTask.from_dict(obj)), obj
    return model(name).from_dict(obj), obj


@attrs.frozen
class UntypedTask:
    """The model of a task whose type this SDK version does not know (forward
    compatibility): the fields every task has, typed; ``params`` and ``response`` as JSON."""

    fields: Any  # the generated TaskFields model
    params: dict[str, Any]
    response: dict[str, Any] | Unset

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> UntypedTask:
        response = as_json_object(obj.get("response"))
        return cls(
            model("TaskFields").from_dict(obj),
            as_json_object(obj.get("params")) or {},
            UNSET if response is None else response,
        )

    @property
    def task_id(self) -> str:
        return cast(str, self.fields.task_id)

    @property
    def status(self) -> str:
        return cast(str, self.fields.status)

    @property
    def created_at(self) -> datetime.datetime:
        return cast(datetime.datetime, self.fields.created_at)

    @property
    def completed_at(self) -> datetime.datetime | Unset:
        return cast("datetime.datetime | Unset", self.fields.completed_at)


@attrs.frozen
class Page:
    model: TaskList  # the page's facts (total, limit, ...); its docs are in `tasks`
    tasks: list[RawTask]


def parse_page(data: Any) -> Page:
    obj = as_json_object(data)
    if obj is None:
        raise TypeError(f"a page must be a JSON object, not {type(data).__name__}")
    docs: list[Any] = obj["docs"]
    if not isinstance(docs, list):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"docs must be a list, not {type(docs).__name__}")
    # The generated page model would parse each task by trying every task model in turn;
    # parse_task picks the model by the task's type, which costs half as much per task.
    page: TaskList = model("TaskList").from_dict({**obj, "docs": []})
    return Page(page, [parse_task(doc) for doc in docs])


def _parse_model(name: str | None) -> Callable[[Any], Any]:
    if name is None:
        return lambda data: data
    cls = model(name)

    def parse(data: Any) -> Any:
        if as_json_object(data) is None:
            raise TypeError(f"expected a JSON object, not {type(data).__name__}")
        return cls.from_dict(data)

    return parse


def _parse_list(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(data: Any) -> list[Any]:
        if not isinstance(data, list):
            raise TypeError(f"expected a JSON array, not {type(data).__name__}")
        return [item(x) for x in data]  # pyright: ignore[reportUnknownVariableType]

    return parse


def parser(op: ops.Operation) -> Callable[[Any], Any]:
    """How the answer of ``op`` is read, before the client wraps it."""
    base = op.result.removesuffix("_list")
    if base == "task":
        item: Callable[[Any], Any] = parse_task
    elif base == "task_page":
        item = parse_page
    elif base == "json":
        item = _parse_model(None)
    else:
        item = _parse_model(op.model)
    return _parse_list(item) if op.result.endswith("_list") else item


def _check_names(what: str, given: Mapping[str, Any], known: frozenset[str], escape: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise ScaleInvalidRequest(
            f"{what} got unknown parameter{'s' if len(unknown) > 1 else ''} {names}; "
            f"known: {', '.join(sorted(known)) or '(none)'}. Use {escape}={{...}} to send a "
            "field this SDK version does not know yet.",
            400,
        )


def _path(op: ops.Operation, args: tuple[str, ...]) -> str:
    path = op.path
    for name, value in zip(op.path_params, args, strict=True):
        if not isinstance(value, str) or not value:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ScaleInvalidRequest(f"{name} must be a non-empty string, got {value!r}", 400)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


@attrs.frozen
class Request:
    """A caller's arguments to one operation (what the generated methods hand over)."""

    op: ops.Operation
    path: tuple[str, ...]
    args: Mapping[str, Any]
    positional: Mapping[str, Any]
    body: Any = None
    extra_body: Mapping[str, Any] | None = None
    extra_query: Mapping[str, Any] | None = None
    extra_headers: Mapping[str, str] | None = None


def build_call(request: Request, *, auto_unique_id: bool = False) -> Call[Any]:
    """The call that sends ``request``; only what the caller passed goes on the wire."""
    op = request.op
    escape = "extra_body" if op.body_kind in ("object", "multipart") else "extra_query"
    _check_names(op.name, request.args, op.accepted, escape)
    values: dict[str, Any] = dict(request.args)
    for wire, value in request.positional.items():
        if value is None and wire in op.optional_positional:
            continue
        if wire in values:
            raise ScaleInvalidRequest(f"{op.name} got {wire!r} twice", 400)
        values[wire] = value
    query = {k: v for k, v in values.items() if k in op.query}
    query.update(request.extra_query or {})
    files = {k: v for k, v in values.items() if k in op.files}
    body: Any = request.body
    if op.body_kind in ("object", "multipart"):
        body = {k: v for k, v in values.items() if k in op.body}
        body.update(request.extra_body or {})
    recover: Callable[[], Call[Any]] | None = None
    kind = _KINDS[op.kind]
    if op.kind == "create":
        if auto_unique_id and "unique_id" not in body:
            body["unique_id"] = f"auto-{uuid.uuid4().hex}"
        unique_id = body.get("unique_id")
        if isinstance(unique_id, str):

            def find(uid: str = unique_id) -> Call[Any]:
                return find_by_unique_id_call(uid)

            recover = find
            kind = CallKind.UNIQUE_CREATE
    return Call(
        op.name,
        op.method,
        _path(op, request.path),
        parser(op),
        kind=kind,
        params=query or None,
        body=None if op.body_kind == "multipart" else body,
        recover=recover,
        headers=request.extra_headers,
        files=files or None,
        form=body if op.body_kind == "multipart" else None,
    )


def find_by_unique_id_call(unique_id: str) -> Call[RawTask]:
    """Fetch the task a create with this unique_id made (after an ambiguous create)."""

    def parse(data: Any) -> RawTask:
        docs = data["docs"]
        if not docs:
            raise KeyError(f"no task with unique_id {unique_id!r}")
        return parse_task(docs[0])

    return Call(
        f"find task with unique_id {unique_id!r}",
        ops.LIST_TASKS.method,
        ops.LIST_TASKS.path,
        parse,
        params={"unique_id": unique_id},
    )
