"""What ``ScaleClient`` and ``AsyncScaleClient`` share beyond their operations."""

from __future__ import annotations

import copy
import ssl
from collections.abc import Callable
from typing import Any, Generic, Self, TypeAlias, TypeVar

import attrs
import httpx

from ._config import validate_deadline
from ._generated.operations import Operation
from ._objects import Batch, Batchlist, File, Project, StatusCounts, Teammate
from ._operations import ObjectPage, Page, RawTask
from ._retry import RetryPolicy
from ._task import Task, Tasklist
from ._transport import Settings
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes, to_timeout

H = TypeVar("H", httpx.Client, httpx.AsyncClient)

_OBJECTS: dict[str, Any] = {
    "project": Project,
    "batch": Batch,
    "file": File,
    "teammate": Teammate,
    "batch_status": StatusCounts,
}
"""The hand-written class of each kind of object the generated table names."""

Connection: TypeAlias = tuple[httpx.Limits, str | httpx.Proxy | None, bool | ssl.SSLContext | None]
"""How a client made without ``http_client`` connects: its pool limits, its proxy and the
TLS check of the 2.x options (``None``: the default)."""


class BaseClient(Generic[H]):
    _settings: Settings
    _owns_http: bool
    _auto_unique_id: bool
    _connection: Connection
    _bulk_loop: Any = None
    """The sync client's :class:`~scaleapi._bulk.BulkLoop`, once a bulk create made it."""
    _acts_for: BaseClient[Any] | None = None
    """The client that the tasks and objects this one reads act through (``task.refresh()``):
    ``None``, this one; a sync client's bulk create reads them for the sync client."""

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. ``https://api.scale.com/v1``."""
        return self._settings.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._settings.timeout

    @property
    def deadline(self) -> float | None:
        """Seconds by which a whole call, retries included, ends; ``None``: no deadline."""
        return self._settings.deadline

    @property
    def max_retries(self) -> int:
        return self._settings.policy.max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._settings.policy

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        deadline: float | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A client that shares this one's connections but sends with other options.

        ``client.with_options(max_retries=0, timeout=5, deadline=10).fetch_task(task_id)``
        """
        clone = copy.copy(self)
        changes: dict[str, Any] = {}
        if not isinstance(timeout, NotGiven):
            changes["timeout"] = to_timeout(timeout)
        if not isinstance(deadline, NotGiven):
            changes["deadline"] = validate_deadline(deadline)
        if max_retries is not None:
            changes["policy"] = attrs.evolve(self._settings.policy, max_retries=max_retries)
        clone._settings = attrs.evolve(self._settings, **changes)
        clone._owns_http = False
        return clone

    def _task(self, raw: RawTask) -> Task[Any, Any]:
        return Task(raw[0], raw[1], self._acts_for or self)

    def _tasklist(self, page: Page) -> Tasklist:
        model = page.model
        return Tasklist(
            [self._task(raw) for raw in page.tasks],
            total=model.total,
            limit=model.limit,
            offset=model.offset,
            has_more=model.has_more,
            next_token=model.next_token if isinstance(model.next_token, str) else None,
        )

    def _wrap(self, op: Operation, value: Any) -> Any:
        """The parsed answer of ``op`` as users see it: tasks, objects and pages wrapped."""
        kind = op.result.removesuffix("_list")
        wrap: Callable[[Any], Any]
        if kind == "task":
            wrap = self._task
        elif kind == "task_page":
            wrap = self._tasklist
        elif kind == "batch_page":
            wrap = self._batchlist
        elif kind in _OBJECTS:
            wrap = self._object_maker(_OBJECTS[kind])
        else:
            return value
        return [wrap(v) for v in value] if op.result.endswith("_list") else wrap(value)

    def _object_maker(self, cls: Any) -> Callable[[Any], Any]:
        owner = self._acts_for or self

        def make(pair: tuple[Any, dict[str, Any]]) -> Any:
            return cls(pair[0], pair[1], owner)

        return make

    def _batchlist(self, page: ObjectPage) -> Batchlist:
        model = page.model
        return Batchlist(
            [Batch(m, d, self._acts_for or self) for m, d in page.items],
            total=model.total_docs,
            limit=model.limit,
            offset=model.offset,
            has_more=model.has_more,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"
