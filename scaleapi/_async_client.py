"""``AsyncScaleClient``: the classic method names over the generated code, async.

This file is the one definition of the client's operations: ``make generate`` turns it
into ``ScaleClient`` (``scaleapi/_generated/sync_client.py``) with unasync, so the sync
and async clients cannot drift apart. Imports are absolute so that the generated copy
resolves them from its own place.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, Unpack

import httpx

from scaleapi import _operations as ops
from scaleapi._base import BaseClient
from scaleapi._config import make_settings
from scaleapi._constants import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
)
from scaleapi._drivers import AsyncDriver, default_ssl_context, fast_async_driver
from scaleapi._exceptions import ScaleInvalidRequest
from scaleapi._generated.params import (
    AnnotationTaskCreate,
    AudiotranscriptionTaskCreate,
    CategorizationTaskCreate,
    ComparisonTaskCreate,
    DatacollectionTaskCreate,
    ListTasksParametersQuery,
    TaskType,
    TranscriptionTaskCreate,
)
from scaleapi._retry import RetryPolicy
from scaleapi._task import Task, Tasklist
from scaleapi._transport import Call, exchange, run_async
from scaleapi._types import NOT_GIVEN, NotGiven, TimeoutTypes

if TYPE_CHECKING:
    from scaleapi._bulk import BulkResult
    from scaleapi.types import (
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

T = TypeVar("T")


class AsyncScaleClient(BaseClient[httpx.AsyncClient]):
    """A client of Scale's task API.

    ``api_key`` defaults to ``$SCALE_API_KEY`` and ``base_url`` to ``$SCALE_BASE_URL``, then
    ``https://api.scale.com/v1``. ``timeout`` is seconds or an :class:`httpx.Timeout`
    (default: 5 s to connect, 60 s for the rest; ``None`` waits forever, only if you say
    so). Failed calls are retried up to ``max_retries`` times where that is safe; see
    the README on retries and ``unique_id``. Use it as a context manager, or close it.
    """

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
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if max_retries < 0:
            raise ScaleInvalidRequest(f"max_retries must be 0 or more, got {max_retries}", 400)
        policy = RetryPolicy(max_retries, initial_retry_delay, max_retry_delay, max_retry_after)
        self._settings = make_settings(api_key, base_url, timeout, policy)
        self._auto_unique_id = auto_unique_id
        self._limits = limits
        self._proxy = proxy
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            limits=limits, proxy=proxy, verify=default_ssl_context()
        )
        # A faster driver than httpx's, where one is installed (see scaleapi/_drivers.py).
        self._driver: AsyncDriver | None = fast_async_driver(http_client, limits, proxy)

    # -- the API ------------------------------------------------------------------

    async def create_categorization_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[CategorizationTaskCreate],
    ) -> Task[CategorizationParams, CategorizationResponse]:
        """Create a categorization task (``POST /task/categorization``)."""
        return await self._create(ops.CATEGORIZATION, params, extra_body)

    async def create_transcription_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[TranscriptionTaskCreate],
    ) -> Task[TranscriptionParams, TranscriptionResponse]:
        """Create a transcription task (``POST /task/transcription``)."""
        return await self._create(ops.TRANSCRIPTION, params, extra_body)

    async def create_comparison_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[ComparisonTaskCreate],
    ) -> Task[ComparisonParams, ComparisonResponse]:
        """Create a comparison task (``POST /task/comparison``)."""
        return await self._create(ops.COMPARISON, params, extra_body)

    async def create_annotation_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[AnnotationTaskCreate],
    ) -> Task[AnnotationParams, AnnotationResponse]:
        """Create an annotation (bounding box) task (``POST /task/annotation``)."""
        return await self._create(ops.ANNOTATION, params, extra_body)

    async def create_datacollection_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[DatacollectionTaskCreate],
    ) -> Task[DatacollectionParams, DatacollectionResponse]:
        """Create a data collection task (``POST /task/datacollection``)."""
        return await self._create(ops.DATACOLLECTION, params, extra_body)

    async def create_audiotranscription_task(
        self,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[AudiotranscriptionTaskCreate],
    ) -> Task[AudiotranscriptionParams, AudiotranscriptionResponse]:
        """Create an audio transcription task (``POST /task/audiotranscription``)."""
        return await self._create(ops.AUDIOTRANSCRIPTION, params, extra_body)

    async def create_task(
        self, task_type: TaskType, *, extra_body: Mapping[str, Any] | None = None, **params: Any
    ) -> Task:
        """Create a task of the type named at run time (the typed methods are preferred)."""
        op = ops.CREATES.get(task_type)
        if op is None:
            raise ScaleInvalidRequest(
                f"unknown task type {task_type!r}; known: {', '.join(ops.CREATES)}", 400
            )
        return await self._create(op, params, extra_body)

    async def fetch_task(self, task_id: str) -> Task:
        """Retrieve a task (``GET /task/{task_id}``)."""
        return self._task(await self._run(ops.fetch_call(task_id)))

    async def cancel_task(self, task_id: str) -> Task:
        """Cancel a pending task (``POST /task/{task_id}/cancel``); returns it, ``canceled``."""
        return self._task(await self._run(ops.cancel_call(task_id)))

    async def tasks(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        **filters: Unpack[ListTasksParametersQuery],
    ) -> Tasklist:
        """One page of tasks, newest first (``GET /tasks``), filtered as given.

        ``extra_query`` sends query parameters this SDK version does not know yet.
        """
        page = await self._run(ops.list_call(filters, extra_query))
        model = page.model
        return Tasklist(
            [self._task(raw) for raw in page.tasks],
            total=model.total,
            limit=model.limit,
            offset=model.offset,
            has_more=model.has_more,
            next_token=model.next_token if isinstance(model.next_token, str) else None,
        )

    async def iter_tasks(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        **filters: Unpack[ListTasksParametersQuery],
    ) -> AsyncIterator[Task]:
        """Every task matching the filters, across pages, newest first.

        The next page is fetched only when this one is used up, so memory stays constant;
        ``limit`` sets the page size. Follows ``next_token`` when the server gives one,
        ``offset`` otherwise.
        """
        query: dict[str, Any] = dict(filters)
        while True:
            page = await self.tasks(extra_query=extra_query, **query)
            for task in page:
                yield task
            if not page.has_more or not page:
                return
            if page.next_token:
                query["next_token"] = page.next_token
                query.pop("offset", None)
            else:
                query["offset"] = page.offset + len(page)

    def create_tasks(
        self,
        task_type: TaskType,
        items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = 16,
    ) -> AsyncIterator[BulkResult]:
        """Create one task of ``task_type`` per item of params, ``concurrency`` at a time.

        Yields a :class:`BulkResult` per item, in input order, as soon as it and all before
        it are done; a failed item carries its exception and does not stop the rest.
        Items are read lazily, so a huge iterable (a file, say) is never held in memory.
        """
        from scaleapi._bulk import bulk_create  # asyncio loads only when it is used

        return bulk_create(self, task_type, items, concurrency)

    # -- plumbing -----------------------------------------------------------------

    @classmethod
    def _like(cls, other: BaseClient[Any]) -> Self:
        """A client of this kind with the settings of ``other`` (its own connections)."""
        client = cls.__new__(cls)
        client._settings = other._settings  # pyright: ignore[reportPrivateUsage]
        client._auto_unique_id = other._auto_unique_id  # pyright: ignore[reportPrivateUsage]
        client._limits = other._limits  # pyright: ignore[reportPrivateUsage]
        client._proxy = other._proxy  # pyright: ignore[reportPrivateUsage]
        client._owns_http = True
        client._http = httpx.AsyncClient(
            limits=client._limits, proxy=client._proxy, verify=default_ssl_context()
        )
        client._driver = fast_async_driver(None, client._limits, client._proxy)
        return client

    async def _create(
        self, op: ops.Create[Any, Any], params: Mapping[str, Any], extra: Mapping[str, Any] | None
    ) -> Task[Any, Any]:
        call = ops.create_call(op, params, extra, auto_unique_id=self._auto_unique_id)
        return self._task(await self._run(call))

    async def _run(self, call: Call[T]) -> T:
        if self._driver is not None:
            return await self._driver.run(exchange(self._settings, call))
        return await run_async(self._http, exchange(self._settings, call))

    async def aclose(self) -> None:
        """Close the connections this client opened (not those of a passed ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()
            if self._driver is not None:
                await self._driver.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
