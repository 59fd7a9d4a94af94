"""Each API operation described once, for the sync and the async client alike.

The facts come from the generated code: method and path from the endpoint modules, the
accepted parameter names from the TypedDicts that also type the client's keyword
arguments, the parsing from the attrs models. Nothing here repeats the spec.
"""

from __future__ import annotations

import functools
import importlib
import uuid
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import quote

import attrs

from ._exceptions import ScaleInvalidRequest
from ._generated import params as P
from ._pagination import check_page
from ._retry import CallKind
from ._task import check_task_json
from ._transport import Call
from ._types import as_json_object

if TYPE_CHECKING:
    from ._generated.api.models import TaskList
    from ._task import TaskModel

PT = TypeVar("PT")
RT = TypeVar("RT")

RawTask = tuple["TaskModel[Any, Any]", dict[str, Any]]
"""A parsed task: its generated model and the JSON it was built from."""


@functools.cache
def endpoint(name: str) -> ModuleType:
    """A generated endpoint module, imported on first use (its models with it)."""
    return importlib.import_module(f"scaleapi._generated.api.api.tasks.{name}")


def _keys(typed_dict: type[Any]) -> frozenset[str]:
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


@attrs.frozen
class Create(Generic[PT, RT]):
    """The create operation of one task type: ``create_<task_type>_task`` in the spec."""

    task_type: str
    params_type: type[Any]  # the generated TypedDict that types the method's kwargs
    fields: frozenset[str]  # its keys: the parameters the method accepts

    @property
    def name(self) -> str:
        return f"create_{self.task_type}_task"

    @property
    def method(self) -> str:
        return cast(str, endpoint(self.name).METHOD)

    @property
    def path(self) -> str:
        return cast(str, endpoint(self.name).PATH)

    def parse(self, data: Any) -> tuple[TaskModel[PT, RT], dict[str, Any]]:
        return endpoint(self.name).parse_success(data), data


def _create(task_type: str, params_type: type[Any]) -> Create[Any, Any]:
    return Create(task_type, params_type, _keys(params_type))


CATEGORIZATION: Create[Any, Any] = _create("categorization", P.CategorizationTaskCreate)
TRANSCRIPTION: Create[Any, Any] = _create("transcription", P.TranscriptionTaskCreate)
COMPARISON: Create[Any, Any] = _create("comparison", P.ComparisonTaskCreate)
ANNOTATION: Create[Any, Any] = _create("annotation", P.AnnotationTaskCreate)
DATACOLLECTION: Create[Any, Any] = _create("datacollection", P.DatacollectionTaskCreate)
AUDIOTRANSCRIPTION: Create[Any, Any] = _create("audiotranscription", P.AudiotranscriptionTaskCreate)

CREATES: Mapping[str, Create[Any, Any]] = {
    op.task_type: op
    for op in (
        CATEGORIZATION,
        TRANSCRIPTION,
        COMPARISON,
        ANNOTATION,
        DATACOLLECTION,
        AUDIOTRANSCRIPTION,
    )
}
LIST_FILTERS = _keys(P.ListTasksParametersQuery)


def parse_task(data: Any) -> RawTask:
    """Parse a task of any type, choosing the model by its ``type``."""
    obj = as_json_object(data)
    if obj is None:
        raise TypeError(f"a task must be a JSON object, not {type(data).__name__}")
    check_task_json(obj)
    kind = obj.get("type")
    op = CREATES.get(kind) if isinstance(kind, str) else None
    if op is not None:
        return op.parse(obj)
    return endpoint("get_task").parse_success(obj), obj


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
    check_page(obj)
    # The generated page model would parse each task by trying every task model in turn;
    # parse_task picks the model by the task's type, which costs half as much per task.
    model: TaskList = endpoint("list_tasks").parse_success({**obj, "docs": []})
    return Page(model, [parse_task(doc) for doc in docs])


def _check_names(
    what: str, given: Mapping[str, Any], known: frozenset[str], escape: str = "extra_body"
) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise ScaleInvalidRequest(
            f"{what} got unknown parameter{'s' if len(unknown) > 1 else ''} {names}; "
            f"known: {', '.join(sorted(known))}. Use {escape}={{...}} to send a field "
            "this SDK version does not know yet.",
            400,
        )


def _check_task_id(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ScaleInvalidRequest(f"task_id must be a non-empty string, got {task_id!r}", 400)
    return quote(task_id, safe="")


def create_call(
    op: Create[PT, RT],
    params: Mapping[str, Any],
    extra_body: Mapping[str, Any] | None,
    *,
    auto_unique_id: bool = False,
) -> Call[tuple[TaskModel[PT, RT], dict[str, Any]]]:
    """The call that creates a task; only what the caller passed goes on the wire."""
    name = op.name
    _check_names(name, params, op.fields)
    body = dict(params)
    if extra_body:
        body.update(extra_body)
    if auto_unique_id and "unique_id" not in body:
        body["unique_id"] = f"auto-{uuid.uuid4().hex}"
    unique_id = body.get("unique_id")
    recover: Callable[[], Call[tuple[TaskModel[PT, RT], dict[str, Any]]]] | None = None
    if isinstance(unique_id, str):

        def find() -> Call[tuple[TaskModel[PT, RT], dict[str, Any]]]:
            return find_by_unique_id_call(op, unique_id)

        recover = find

    kind = CallKind.UNIQUE_CREATE if recover is not None else CallKind.CREATE
    return Call(name, op.method, op.path, op.parse, kind=kind, body=body, recover=recover)


def find_by_unique_id_call(
    op: Create[PT, RT], unique_id: str
) -> Call[tuple[TaskModel[PT, RT], dict[str, Any]]]:
    """Fetch the task a create with this unique_id made (after an ambiguous create)."""

    def parse(data: Any) -> tuple[TaskModel[PT, RT], dict[str, Any]]:
        docs = data["docs"]
        if not docs:
            raise KeyError(f"no task with unique_id {unique_id!r}")
        return op.parse(docs[0])

    return Call(
        f"find task with unique_id {unique_id!r}",
        endpoint("list_tasks").METHOD,
        endpoint("list_tasks").PATH,
        parse,
        params={"unique_id": unique_id},
    )


def fetch_call(task_id: str) -> Call[RawTask]:
    get_task = endpoint("get_task")
    path = get_task.PATH.replace("{task_id}", _check_task_id(task_id))
    return Call("fetch_task", get_task.METHOD, path, parse_task)


def cancel_call(task_id: str) -> Call[RawTask]:
    cancel_task = endpoint("cancel_task")
    path = cancel_task.PATH.replace("{task_id}", _check_task_id(task_id))
    return Call("cancel_task", cancel_task.METHOD, path, parse_task, body={})


def list_call(filters: Mapping[str, Any], extra_query: Mapping[str, Any] | None) -> Call[Page]:
    _check_names("tasks", filters, LIST_FILTERS, escape="extra_query")
    params = {**filters, **(extra_query or {})}
    list_tasks = endpoint("list_tasks")
    return Call("tasks", list_tasks.METHOD, list_tasks.PATH, parse_page, params=params)
