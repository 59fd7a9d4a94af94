"""Each API operation described once, for the sync and the async client alike.

The facts come from the generated code: method and path from the endpoint modules, the
accepted parameter names from the TypedDicts that also type the client's keyword
arguments, the parsing from the attrs models. Nothing here repeats the spec.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import attrs

from ._exceptions import ScaleInvalidRequest
from ._generated import params as P
from ._generated.api.api.tasks import (
    cancel_task,
    create_annotation_task,
    create_audiotranscription_task,
    create_categorization_task,
    create_comparison_task,
    create_datacollection_task,
    create_transcription_task,
    get_task,
    list_tasks,
)
from ._generated.api.models import TaskList
from ._retry import CallKind
from ._task import TaskModel
from ._transport import Call
from ._types import as_json_object

PT = TypeVar("PT")
RT = TypeVar("RT")

RawTask = tuple[TaskModel[Any, Any], dict[str, Any]]
"""A parsed task: its generated model and the JSON it was built from."""


def _keys(typed_dict: type[Any]) -> frozenset[str]:
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


@attrs.frozen
class Create(Generic[PT, RT]):
    """The create operation of one task type."""

    task_type: str
    method: str
    path: str
    fields: frozenset[str]
    parse_model: Callable[[object], TaskModel[PT, RT]]

    def parse(self, data: Any) -> tuple[TaskModel[PT, RT], dict[str, Any]]:
        return self.parse_model(data), data


def _create(
    endpoint: Any, params_type: type[Any], parse: Callable[[object], TaskModel[PT, RT]]
) -> Create[PT, RT]:
    path: str = endpoint.PATH
    return Create(path.rsplit("/", 1)[1], endpoint.METHOD, path, _keys(params_type), parse)


CATEGORIZATION = _create(
    create_categorization_task,
    P.CategorizationTaskCreate,
    create_categorization_task.parse_success,
)
TRANSCRIPTION = _create(
    create_transcription_task, P.TranscriptionTaskCreate, create_transcription_task.parse_success
)
COMPARISON = _create(
    create_comparison_task, P.ComparisonTaskCreate, create_comparison_task.parse_success
)
ANNOTATION = _create(
    create_annotation_task, P.AnnotationTaskCreate, create_annotation_task.parse_success
)
DATACOLLECTION = _create(
    create_datacollection_task,
    P.DatacollectionTaskCreate,
    create_datacollection_task.parse_success,
)
AUDIOTRANSCRIPTION = _create(
    create_audiotranscription_task,
    P.AudiotranscriptionTaskCreate,
    create_audiotranscription_task.parse_success,
)

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
    kind = obj.get("type")
    op = CREATES.get(kind) if isinstance(kind, str) else None
    model = op.parse_model(obj) if op is not None else get_task.parse_success(obj)
    return model, obj


@attrs.frozen
class Page:
    model: TaskList
    tasks: list[RawTask]


def parse_page(data: Any) -> Page:
    model = list_tasks.parse_success(data)
    docs: list[Any] = data["docs"]
    # The page model parsed each task already; pair each with its JSON for Task.
    return Page(model, [(m, d) for m, d in zip(model.docs, docs, strict=True)])


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
    name = f"create_{op.task_type}_task"
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
        list_tasks.METHOD,
        list_tasks.PATH,
        parse,
        params={"unique_id": unique_id},
    )


def fetch_call(task_id: str) -> Call[RawTask]:
    path = get_task.PATH.replace("{task_id}", _check_task_id(task_id))
    return Call("fetch_task", get_task.METHOD, path, parse_task)


def cancel_call(task_id: str) -> Call[RawTask]:
    path = cancel_task.PATH.replace("{task_id}", _check_task_id(task_id))
    return Call("cancel_task", cancel_task.METHOD, path, parse_task, body={})


def list_call(filters: Mapping[str, Any], extra_query: Mapping[str, Any] | None) -> Call[Page]:
    _check_names("tasks", filters, LIST_FILTERS, escape="extra_query")
    params = {**filters, **(extra_query or {})}
    return Call("tasks", list_tasks.METHOD, list_tasks.PATH, parse_page, params=params)
