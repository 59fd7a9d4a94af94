"""``Project``, ``Batch``, ``File``, ``Teammate`` and the pages and counts around them: the
2.x objects, over the generated attrs models.

Each keeps the JSON it was read from (``as_dict()``, and any field as an attribute, as
2.x did) and its generated model (``.model``, typed). The operations that act on a
project or a batch are its methods too (generated: ``batch.finalize()``,
``batch.get_status()``, ``project.get_template()``, ...).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._generated.api.models.batch import Batch as BatchModel
from ._generated.api.models.file import File as FileModel
from ._generated.api.models.project import Project as ProjectModel
from ._generated.api.models.teammate import Teammate as TeammateModel
from ._generated.api.types import Unset
from ._generated.object_methods import BatchMethods, ProjectMethods
from ._owner import Owned
from ._task import Paginator
from ._types import as_json_object

if TYPE_CHECKING:
    from ._generated.api.models import BatchStatusCounts, ProjectParamVersion
    from ._generated.enums import TeammateRole
    from ._generated.params import TeammateRole as TeammateRoleName

M = TypeVar("M")


class ApiObject(Owned, Generic[M]):
    """An object of the API: its generated model and the JSON it came from."""

    __slots__ = ("_data", "_model")

    _data: dict[str, Any]
    _model: M
    _key_field = ""

    def __init__(self, model: M, data: dict[str, Any], owner: object = None) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_owner", owner)

    @property
    def model(self) -> M:
        """The generated attrs model of this object."""
        return self._model

    def as_dict(self) -> dict[str, Any]:
        """The object as the server sent it, unknown fields included (a copy)."""
        return copy.deepcopy(self._data)

    def _object_key(self) -> str:
        return str(self._data[self._key_field])

    def _replace(self, other: Any) -> None:
        object.__setattr__(self, "_model", other._model)
        object.__setattr__(self, "_data", other._data)

    def __getattr__(self, name: str) -> Any:
        # Only for names that are not attributes: the object's other JSON fields.
        if not name.startswith("__"):
            data = object.__getattribute__(self, "_data")
            if name in data:
                return data[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; refresh() reads it again")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        return self._object_key() == cast(ApiObject[Any], other)._object_key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._object_key()))

    def __str__(self) -> str:
        return f"{type(self).__name__}({self._key_field}={self._object_key()})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._key_field}={self._object_key()!r})"


def _unset_to_none(value: Any) -> Any:
    return None if isinstance(value, Unset) else value


class Project(ProjectMethods, ApiObject[ProjectModel]):
    """A project: a task type and the default params its tasks inherit."""

    __slots__ = ()
    _key_field = "name"

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def type(self) -> str:
        """The project's task type."""
        return str(self._model.type_)

    @property
    def param_history(self) -> list[ProjectParamVersion]:
        return self._model.param_history

    @property
    def params(self) -> dict[str, Any] | None:
        """The current params (the last version of ``param_history``), or None."""
        history: object = self._data.get("param_history")
        if isinstance(history, list) and history:
            return as_json_object(cast("list[object]", history)[-1])
        return None

    @property
    def version(self) -> int | None:
        params = self.params
        version = params.get("version") if params else None
        return version if isinstance(version, int) else None

    @property
    def instruction(self) -> str | None:
        params = self.params
        instruction = params.get("instruction") if params else None
        return instruction if isinstance(instruction, str) else None


class StatusCounts(dict[str, Any]):
    """A batch's status and its tasks counted by status: a ``dict`` as 2.x returned it
    (``counts["status"]``), with typed attributes (a missing count is 0)."""

    request_id: str | None = None
    """The server's ``x-request-id`` of the answer the counts came in."""

    def __init__(
        self, model: BatchStatusCounts, data: dict[str, Any], owner: object = None
    ) -> None:
        super().__init__(data)
        self.model = model

    @property
    def status(self) -> str:
        return str(self.model.status)

    def _count(self, name: str) -> int:
        value = self.get(name, 0)
        return value if isinstance(value, int) else 0

    @property
    def pending(self) -> int:
        return self._count("pending")

    @property
    def completed(self) -> int:
        return self._count("completed")

    @property
    def error(self) -> int:
        return self._count("error")

    @property
    def canceled(self) -> int:
        return self._count("canceled")


class Batch(BatchMethods, ApiObject[BatchModel]):
    """A batch of tasks in a project: created, filled, finalized, tracked to completion.

    ``tasks_pending``, ``tasks_completed``, ``tasks_error`` and ``tasks_canceled`` are
    None until ``get_status()`` counts them.
    """

    __slots__ = ("_counts",)
    _key_field = "name"

    def __init__(self, model: BatchModel, data: dict[str, Any], owner: object = None) -> None:
        super().__init__(model, data, owner)
        object.__setattr__(self, "_counts", None)

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def status(self) -> str:
        """``staging``, ``in_progress``, ``completed``, or a status newer than this SDK."""
        return str(self._model.status)

    @property
    def project(self) -> str:
        return self._model.project

    @property
    def created_at(self) -> datetime.datetime:
        return self._model.created_at

    @property
    def metadata(self) -> dict[str, Any]:
        return as_json_object(self._data.get("metadata")) or {}

    @property
    def callback(self) -> str | None:
        return cast("str | None", _unset_to_none(self._model.callback))

    def _task_count(self, name: str) -> int | None:
        counts = cast("StatusCounts | None", self._counts)
        return None if counts is None else counts._count(name)  # pyright: ignore[reportPrivateUsage]

    @property
    def tasks_pending(self) -> int | None:
        return self._task_count("pending")

    @property
    def tasks_completed(self) -> int | None:
        return self._task_count("completed")

    @property
    def tasks_error(self) -> int | None:
        return self._task_count("error")

    @property
    def tasks_canceled(self) -> int | None:
        return self._task_count("canceled")

    def _record_counts(self, counts: StatusCounts) -> StatusCounts:
        object.__setattr__(self, "_counts", counts)
        data = {**self._data, "status": counts.get("status", self._data.get("status"))}
        object.__setattr__(self, "_data", data)
        model = copy.copy(self._model)
        model.status = counts.model.status
        object.__setattr__(self, "_model", model)
        return counts

    def get_status(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> StatusCounts:
        """Count the batch's tasks by status (``GET /batches/{batch_name}/status``); also
        updates ``status`` and the ``tasks_*`` counts of this object."""
        counts = super().get_status(extra_query=extra_query, extra_headers=extra_headers)
        return self._record_counts(counts)

    async def aget_status(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> StatusCounts:
        """``get_status()`` for a batch from ``AsyncScaleClient``."""
        counts = await super().aget_status(extra_query=extra_query, extra_headers=extra_headers)
        return self._record_counts(counts)


class File(ApiObject[FileModel]):
    """An uploaded or imported file; use its ``attachment_url`` as a task's attachment."""

    __slots__ = ()
    _key_field = "id"

    @property
    def id(self) -> str:
        return self._model.id

    @property
    def attachment_url(self) -> str:
        return self._model.attachment_url


class Teammate(ApiObject[TeammateModel]):
    """A member of your team."""

    __slots__ = ()
    _key_field = "email"

    @property
    def email(self) -> str:
        return self._model.email

    @property
    def role(self) -> str:
        return str(self._model.role)

    @property
    def company(self) -> str | None:
        return cast("str | None", _unset_to_none(self._model.company))

    @property
    def first_name(self) -> str | None:
        return cast("str | None", _unset_to_none(self._model.first_name))

    @property
    def last_name(self) -> str | None:
        return cast("str | None", _unset_to_none(self._model.last_name))

    @property
    def is_studio_labeler(self) -> bool | None:
        return cast("bool | None", _unset_to_none(self._model.is_studio_labeler))

    @property
    def expiry(self) -> str | None:
        return cast("str | None", _unset_to_none(self._model.expiry))

    def update_teammate_role(self, new_role: TeammateRoleName | TeammateRole) -> list[Teammate]:
        """Give this teammate another role (``POST /teams/set_role``); returns the team."""
        return self._sync_owner().update_teammates_role([self.email], new_role)


class Batchlist(Paginator[Batch]):
    """One page of batches: a ``list`` of :class:`Batch` with the page's facts."""
