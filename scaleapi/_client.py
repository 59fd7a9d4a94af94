"""``ScaleClient``: the classic method names over the generated code."""

from __future__ import annotations

import base64
import copy
import os
import platform
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import attrs
import httpx

from . import _operations as ops
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
)
from ._exceptions import ScaleException, ScaleInvalidRequest
from ._generated.api.models import (
    AnnotationParams,
    AnnotationResponse,
    AudiotranscriptionParams,
    AudiotranscriptionResponse,
    CategorizationParams,
    CategorizationResponse,
    ComparisonParams,
    ComparisonResponse,
    DatacollectionParams,
    DatacollectionResponse,
    TranscriptionParams,
    TranscriptionResponse,
)
from ._generated.params import (
    AnnotationTaskCreate,
    AudiotranscriptionTaskCreate,
    CategorizationTaskCreate,
    ComparisonTaskCreate,
    DatacollectionTaskCreate,
    ListTasksParametersQuery,
    TaskType,
    TranscriptionTaskCreate,
)
from ._retry import RetryPolicy
from ._task import Task, Tasklist
from ._transport import Call, Settings, exchange, run_sync
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes, to_timeout
from ._version import __version__

T = TypeVar("T")

USER_AGENT = (
    f"scaleapi/{__version__} Python/{platform.python_version()} "
    f"OS/{platform.system()}-{platform.release()}"
)


def _resolve_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise ScaleException(
            f"No API key: pass ScaleClient(api_key=...) or set the {API_KEY_ENV} environment "
            "variable (keys start with live_ or test_)."
        )
    if any(c in key for c in ":\r\n"):
        raise ScaleException("The API key contains ':' or a line break; check its value.")
    return key


def _settings(
    api_key: str | None,
    base_url: str | None,
    timeout: TimeoutTypes | NotGiven,
    policy: RetryPolicy,
) -> Settings:
    key = _resolve_key(api_key)
    token = base64.b64encode(f"{key}:".encode()).decode("ascii")
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return Settings(
        base_url=url.rstrip("/"),
        headers={
            "Authorization": f"Basic {token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        },
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        policy=policy,
    )


class ScaleClient:
    """A client of Scale's task API.

    ``api_key`` defaults to ``$SCALE_API_KEY`` and ``base_url`` to ``$SCALE_BASE_URL``, then
    ``https://api.scale.com/v1``. ``timeout`` is seconds or an :class:`httpx.Timeout`
    (default: 5 s to connect, 60 s for the rest; ``None`` waits forever, only if you say
    so). Failed calls are retried up to ``max_retries`` times where that is safe; see
    the README on retries and ``unique_id``. Use it as a context manager, or ``close()`` it.
    """

    _settings: Settings
    _http: httpx.Client
    _owns_http: bool
    _auto_unique_id: bool

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        initial_retry_delay: float = INITIAL_RETRY_DELAY,
        max_retry_delay: float = MAX_RETRY_DELAY,
        max_retry_after: float = MAX_RETRY_AFTER,
        auto_unique_id: bool = False,
        limits: httpx.Limits = DEFAULT_LIMITS,
        proxy: str | httpx.Proxy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if max_retries < 0:
            raise ScaleInvalidRequest(f"max_retries must be 0 or more, got {max_retries}", 400)
        policy = RetryPolicy(max_retries, initial_retry_delay, max_retry_delay, max_retry_after)
        self._settings = _settings(api_key, base_url, timeout, policy)
        self._auto_unique_id = auto_unique_id
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(limits=limits, proxy=proxy)

    # -- configuration ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._settings.timeout

    @property
    def max_retries(self) -> int:
        return self._settings.policy.max_retries

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Self:
        """A client that shares this one's connections but sends with other options.

        ``client.with_options(max_retries=0, timeout=5).fetch_task(task_id)``
        """
        clone = copy.copy(self)
        changes: dict[str, Any] = {}
        if not isinstance(timeout, NotGiven):
            changes["timeout"] = to_timeout(timeout)
        if max_retries is not None:
            changes["policy"] = RetryPolicy(
                max_retries,
                self._settings.policy.initial_delay,
                self._settings.policy.max_delay,
                self._settings.policy.max_retry_after,
            )
        clone._settings = attrs.evolve(self._settings, **changes)
        clone._owns_http = False
        return clone

    # -- the API ------------------------------------------------------------------

    def create_categorization_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[CategorizationTaskCreate],
    ) -> Task[CategorizationParams, CategorizationResponse]:
        """Create a categorization task (``POST /task/categorization``)."""
        return self._create(ops.CATEGORIZATION, params, extra_body)

    def create_transcription_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[TranscriptionTaskCreate],
    ) -> Task[TranscriptionParams, TranscriptionResponse]:
        """Create a transcription task (``POST /task/transcription``)."""
        return self._create(ops.TRANSCRIPTION, params, extra_body)

    def create_comparison_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[ComparisonTaskCreate],
    ) -> Task[ComparisonParams, ComparisonResponse]:
        """Create a comparison task (``POST /task/comparison``)."""
        return self._create(ops.COMPARISON, params, extra_body)

    def create_annotation_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[AnnotationTaskCreate],
    ) -> Task[AnnotationParams, AnnotationResponse]:
        """Create an annotation (bounding box) task (``POST /task/annotation``)."""
        return self._create(ops.ANNOTATION, params, extra_body)

    def create_datacollection_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[DatacollectionTaskCreate],
    ) -> Task[DatacollectionParams, DatacollectionResponse]:
        """Create a data collection task (``POST /task/datacollection``)."""
        return self._create(ops.DATACOLLECTION, params, extra_body)

    def create_audiotranscription_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[AudiotranscriptionTaskCreate],
    ) -> Task[AudiotranscriptionParams, AudiotranscriptionResponse]:
        """Create an audio transcription task (``POST /task/audiotranscription``)."""
        return self._create(ops.AUDIOTRANSCRIPTION, params, extra_body)

    def create_task(
        self, task_type: TaskType, *, extra_body: Mapping[str, Any] | None = None, **params: Any
    ) -> Task:
        """Create a task of the type named at run time (the typed methods are preferred)."""
        op = ops.CREATES.get(task_type)
        if op is None:
            raise ScaleInvalidRequest(
                f"unknown task type {task_type!r}; known: {', '.join(ops.CREATES)}", 400
            )
        return self._create(op, params, extra_body)

    def fetch_task(self, task_id: str) -> Task:
        """Retrieve a task (``GET /task/{task_id}``)."""
        return self._task(self._run(ops.fetch_call(task_id)))

    def cancel_task(self, task_id: str) -> Task:
        """Cancel a pending task (``POST /task/{task_id}/cancel``); returns it, ``canceled``."""
        return self._task(self._run(ops.cancel_call(task_id)))

    def tasks(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        **filters: Unpack[ListTasksParametersQuery],
    ) -> Tasklist:
        """One page of tasks, newest first (``GET /tasks``), filtered as given.

        ``extra_query`` sends query parameters this SDK version does not know yet.
        """
        page = self._run(ops.list_call(filters, extra_query))
        model = page.model
        return Tasklist(
            [self._task(raw) for raw in page.tasks],
            total=model.total,
            limit=model.limit,
            offset=model.offset,
            has_more=model.has_more,
            next_token=model.next_token if isinstance(model.next_token, str) else None,
        )

    # -- plumbing -----------------------------------------------------------------

    def _create(
        self, op: ops.Create[Any, Any], params: Mapping[str, Any], extra: Mapping[str, Any] | None
    ) -> Task[Any, Any]:
        call = ops.create_call(op, params, extra, auto_unique_id=self._auto_unique_id)
        return self._task(self._run(call))

    def _task(self, raw: ops.RawTask) -> Task[Any, Any]:
        return Task(raw[0], raw[1], self)

    def _run(self, call: Call[T]) -> T:
        return run_sync(self._http, exchange(self._settings, call))

    def close(self) -> None:
        """Close the connections this client opened (not those of a passed ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ScaleClient(base_url={self.base_url!r}, max_retries={self.max_retries})"
