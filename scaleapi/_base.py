"""What ``ScaleClient`` and ``AsyncScaleClient`` share beyond their operations."""

from __future__ import annotations

import copy
from typing import Any, Generic, Self, TypeVar

import attrs
import httpx

from . import _operations as ops
from ._config import validate_deadline
from ._retry import RetryPolicy
from ._task import Task
from ._transport import Settings
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes, to_timeout

H = TypeVar("H", httpx.Client, httpx.AsyncClient)


class BaseClient(Generic[H]):
    _settings: Settings
    _owns_http: bool
    _auto_unique_id: bool
    _limits: httpx.Limits
    _proxy: str | httpx.Proxy | None

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

    def _task(self, raw: ops.RawTask) -> Task[Any, Any]:
        return Task(raw[0], raw[1], self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"
