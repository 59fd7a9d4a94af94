"""``AsyncScaleClient``: the generated operations over the transport, async.

The per-operation methods come from ``scaleapi/_generated/client_async.py``; this file
holds only what is not per operation: configuration, sending, pagination, bulk creates.
``make generate`` turns it into ``ScaleClient`` (``scaleapi/_sync_client.py``) with
unasync. Imports are absolute so that the generated copy resolves them from its place.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack

import attrs
import httpx

from scaleapi._base import BaseClient, Connection
from scaleapi._compat import (
    LegacyOptions,
    ReviewStatuses,
    TimeFilter,
    query_time,
    task_filters,
)
from scaleapi._config import make_settings
from scaleapi._constants import (
    DEFAULT_DEADLINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RESPONSE_BYTES,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
)
from scaleapi._drivers import AsyncDriver, fast_async_driver
from scaleapi._exceptions import ScaleDuplicateResource, ScaleException, ScaleInvalidRequest
from scaleapi._generated import enums
from scaleapi._generated import operations as ops
from scaleapi._generated.client_async import AsyncOperations, AsyncRawOperations
from scaleapi._generated.operations import ListTasksKwargs
from scaleapi._generated.params import BatchStatus, TaskStatus, TaskType
from scaleapi._objects import Batch, Batchlist
from scaleapi._operations import Request, build_call
from scaleapi._owner import stamp
from scaleapi._pagination import Pager
from scaleapi._pool import make_pool
from scaleapi._raw import RawResponse
from scaleapi._retry import RetryPolicy
from scaleapi._task import Task, Tasklist
from scaleapi._transport import Raw, exchange_raw, run_async
from scaleapi._types import NOT_GIVEN, NotGiven, TimeoutTypes

if TYPE_CHECKING:
    from scaleapi._bulk import BulkResult


class AsyncScaleClient(AsyncOperations, BaseClient[httpx.AsyncClient]):
    """A client of Scale's task API.

    ``api_key`` defaults to ``$SCALE_API_KEY`` and ``base_url`` to ``$SCALE_BASE_URL``, then
    ``https://api.scale.com/v1``. ``timeout`` is seconds or an :class:`httpx.Timeout`
    (default: 5 s to connect, 60 s for the rest; ``None`` waits forever, only if you say
    so). Failed calls are retried up to ``max_retries`` times where that is safe; see
    the README on retries and ``unique_id``. ``deadline`` bounds a whole call, retries
    included (default 200 s; ``None``: no bound), and ``max_response_bytes`` an answer's
    decoded size. One client serves any event loop (a pool per loop) and survives
    ``fork()``. Use it as a context manager, or close it.
    """

    def __init__(
        self,
        api_key: str | None = None,
        source: str | None = None,
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
        deadline: float | None = DEFAULT_DEADLINE,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        api_instance_url: str | None = None,
        verify: bool | str | None = None,
        proxies: Mapping[str, str] | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ScaleInvalidRequest(f"max_retries must be 0 or more, got {max_retries}", 400)
        legacy = LegacyOptions.read(api_instance_url, verify, proxies, cert, http_client)
        policy = RetryPolicy(max_retries, initial_retry_delay, max_retry_delay, max_retry_after)
        self._settings = make_settings(
            api_key,
            base_url or legacy.base_url,
            timeout,
            policy,
            source=source,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        self._auto_unique_id = auto_unique_id
        proxy = proxy if proxy is not None else legacy.proxy
        self._connect(http_client, (limits, proxy, legacy.verify))

    def _connect(self, http_client: httpx.AsyncClient | None, connection: Connection) -> None:
        """Set up how this client sends (``http_client``, or connections of its own made
        as ``connection`` says); nothing is opened before the first call."""
        limits, proxy, verify = connection
        self._connection = connection
        self._owns_http = http_client is None
        self._pool = make_pool(
            http_client, httpx.AsyncClient, limits=limits, proxy=proxy, verify=verify
        )
        # A faster driver than httpx's, where one is installed (see scaleapi/_drivers.py);
        # not with the 2.x TLS options, which only the httpx client takes.
        self._driver: AsyncDriver | None = (
            fast_async_driver(http_client, limits, proxy) if verify is None else None
        )

    # -- what is not one operation ------------------------------------------------

    async def create_task(
        self,
        task_type: TaskType | enums.TaskType,
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Task:
        """Create a task of the type named at run time (the typed methods are preferred):
        ``create_task(TaskType.ImageAnnotation, attachment=..., geometries=...)``."""
        op = ops.CREATES.get(task_type)
        if op is None:
            raise ScaleInvalidRequest(
                f"unknown task type {task_type!r}; known: {', '.join(ops.CREATES)}", 400
            )
        request = Request(op, (), params, {}, extra_body=extra_body)
        task: Task = await self._send(request)
        return task

    async def iter_tasks(
        self,
        *,
        extra_query: Mapping[str, Any] | None = None,
        **filters: Unpack[ListTasksKwargs],
    ) -> AsyncIterator[Task]:
        """Every task matching the filters, across pages, newest first.

        The next page is fetched only when this one is used up, so memory stays constant;
        ``limit`` sets the page size. Follows ``next_token`` when the server gives one,
        ``offset`` otherwise.
        """
        pager = Pager(filters)
        while True:
            page: Tasklist = await self.list_tasks(extra_query=extra_query, **pager.query)
            for task in page:
                yield task
            if not pager.advance(page):
                return

    async def get_tasks(
        self,
        project_name: str | None = None,
        batch_name: str | None = None,
        task_type: TaskType | enums.TaskType | None = None,
        status: TaskStatus | enums.TaskStatus | None = None,
        review_status: ReviewStatuses | None = None,
        unique_id: str | list[str] | None = None,
        completed_after: TimeFilter | None = None,
        completed_before: TimeFilter | None = None,
        updated_after: TimeFilter | None = None,
        updated_before: TimeFilter | None = None,
        created_after: TimeFilter | None = None,
        created_before: TimeFilter | None = None,
        tags: str | list[str] | None = None,
        include_attachment_url: bool = True,
        limited_response: bool | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Task]:
        """Every task of a project or a batch matching the filters, across pages: the 2.x
        generator, with its parameter names (``iter_tasks`` takes the wire's names).

        ``project_name`` or ``batch_name`` is required, as in 2.x. Times are datetimes,
        dates or ISO 8601 strings; ``review_status`` one value or a list of them.
        """
        query = task_filters(
            project_name, batch_name, task_type, status, review_status, unique_id,
            completed_after, completed_before, updated_after, updated_before,
            created_after, created_before, tags, include_attachment_url, limited_response,
        )  # fmt: skip
        if limit is not None:
            query["limit"] = limit
        async for task in self.iter_tasks(**query):
            yield task

    async def get_tasks_count(
        self,
        project_name: str | None = None,
        batch_name: str | None = None,
        task_type: TaskType | enums.TaskType | None = None,
        status: TaskStatus | enums.TaskStatus | None = None,
        review_status: ReviewStatuses | None = None,
        unique_id: str | list[str] | None = None,
        completed_after: TimeFilter | None = None,
        completed_before: TimeFilter | None = None,
        updated_after: TimeFilter | None = None,
        updated_before: TimeFilter | None = None,
        created_after: TimeFilter | None = None,
        created_before: TimeFilter | None = None,
        tags: str | list[str] | None = None,
        include_attachment_url: bool = True,
        limited_response: bool | None = None,
    ) -> int:
        """How many tasks ``get_tasks`` with the same filters would give (one request)."""
        query = task_filters(
            project_name, batch_name, task_type, status, review_status, unique_id,
            completed_after, completed_before, updated_after, updated_before,
            created_after, created_before, tags, include_attachment_url, limited_response,
        )  # fmt: skip
        page: Tasklist = await self.list_tasks(**query, limit=1)
        return page.total

    async def get_batches(
        self,
        project_name: str | None = None,
        batch_status: BatchStatus | enums.BatchStatus | None = None,
        created_after: TimeFilter | None = None,
        created_before: TimeFilter | None = None,
        exclude_archived: bool = False,
    ) -> AsyncIterator[Batch]:
        """Every batch matching the filters, across pages (the 2.x generator)."""
        query: dict[str, Any] = {"exclude_archived": exclude_archived}
        for name, value in (
            ("project", project_name),
            ("status", batch_status),
            ("start_time", query_time(created_after)),
            ("end_time", query_time(created_before)),
        ):
            if value is not None:
                query[name] = value
        pager = Pager(query)  # offsets; and a server that would loop is refused
        while True:
            page: Batchlist = await self.list_batches(**pager.query)
            for batch in page:
                yield batch
            if not pager.advance(page):
                return

    def create_tasks(
        self,
        task_type: TaskType | enums.TaskType,
        items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = 16,
    ) -> AsyncIterator[BulkResult]:
        """Create one task of ``task_type`` per item of params, ``concurrency`` at a time.

        Yields a :class:`BulkResult` per item, in input order, as soon as it and all before
        it are done: ``created``, ``existing`` (its ``unique_id`` was taken: the task that
        has it) or ``failed`` (with its exception; the rest go on). Items are read lazily,
        so a huge iterable (a file, say) is never held in memory. Creates use this
        client's settings (key, timeouts, retries, deadline).

        ``AsyncScaleClient`` runs the creates as tasks of the running event loop, over its
        own connections (an ``http_client`` passed to it included). ``ScaleClient`` runs
        that same async code on an event loop of its own, in a thread named
        ``scaleapi-bulk``, over aiohttp connections of its own; the loop, its thread and
        connections are kept for the next bulk create until the client is closed (or
        collected), and ``items`` is read in that thread. It does so unless
        it was given an ``http_client`` (or the 2.x ``verify``/``cert``), or aiohttp is not
        installed or is turned off (``$SCALE_ASYNC_TRANSPORT=httpx``): then ``concurrency``
        threads share its ``httpx.Client`` (yours: its connections, proxies and mounts).
        """
        from scaleapi._bulk import bulk_create  # asyncio loads only when it is used

        return bulk_create(self, task_type, items, concurrency)

    async def _create_one(
        self, task_type: TaskType | enums.TaskType, index: int, params: Mapping[str, Any]
    ) -> BulkResult:
        """One item of a bulk create: ``created``; ``existing`` when its ``unique_id`` is
        taken (the task that has it); or ``failed``, with the error."""
        from scaleapi._bulk import BulkResult

        try:
            return BulkResult(index, params, task=await self.create_task(task_type, **params))
        except ScaleException as exc:
            unique_id = params.get("unique_id")
            if not isinstance(exc, ScaleDuplicateResource) or not isinstance(unique_id, str):
                return BulkResult(index, params, error=exc, status="failed")
            try:
                found: Tasklist = await self.list_tasks(unique_id=unique_id)
            except ScaleException as lookup:
                return BulkResult(index, params, error=lookup, status="failed")
            if not found:
                return BulkResult(index, params, error=exc, status="failed")
            return BulkResult(index, params, task=found[0], status="existing")

    @property
    def with_raw_response(self) -> AsyncRawView:
        """The same operations, answering with a :class:`RawResponse` (status, headers,
        request id) around the parsed result: ``client.with_raw_response.get_task(id)``."""
        return AsyncRawView(self)

    # -- plumbing -----------------------------------------------------------------

    async def _request(
        self,
        op: ops.Operation,
        path: tuple[str, ...],
        args: Mapping[str, Any],
        positional: Mapping[str, Any],
        body: Any,
        extra_body: Mapping[str, Any] | None,
        extra_query: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> Any:
        request = Request(op, path, args, positional, body, extra_body, extra_query, extra_headers)
        return await self._send(request)

    async def _send(self, request: Request) -> Any:
        raw = await self._send_raw(request)
        return raw.parsed

    async def _send_raw(self, request: Request) -> RawResponse[Any]:
        call = build_call(request, auto_unique_id=self._auto_unique_id)
        driver = self._driver  # sent from here, not from a method of its own: see _aiohttp
        raw: Raw[Any] = await (
            driver.run(exchange_raw(self._settings, call, driver.build))
            if driver is not None
            else run_async(self._pool.get, exchange_raw(self._settings, call))
        )
        return attrs.evolve(raw, parsed=stamp(self._wrap(request.op, raw.parsed), raw.request_id))

    async def aclose(self) -> None:
        """Close the connections this client opened (not those of a passed ``http_client``)."""
        if self._owns_http:
            await self._pool.aclose()
            if self._driver is not None:
                await self._driver.aclose()
            if self._bulk_loop is not None:  # the sync client's, made by create_tasks
                self._bulk_loop.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncRawView(AsyncRawOperations):
    """``client.with_raw_response``: every operation, answering with a RawResponse."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncScaleClient) -> None:
        self._client = client

    async def _request(
        self,
        op: ops.Operation,
        path: tuple[str, ...],
        args: Mapping[str, Any],
        positional: Mapping[str, Any],
        body: Any,
        extra_body: Mapping[str, Any] | None,
        extra_query: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> Any:
        request = Request(op, path, args, positional, body, extra_body, extra_query, extra_headers)
        return await self._client._send_raw(request)  # pyright: ignore[reportPrivateUsage]
