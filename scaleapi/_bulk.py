"""Creating many tasks at once: a bounded window of concurrent creates, results in order.

Bulk creates go through the very client they are asked of: it hands over its own
``create_task`` and ``list_tasks`` methods, so its connections, proxy, TLS settings and
retry options are the ones used (an ``http_client`` passed to it included).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, Literal

import attrs

from ._exceptions import ScaleDuplicateResource, ScaleException, ScaleInvalidRequest
from ._task import Task, Tasklist

READ_AHEAD = 4
"""How many windows of results may wait, finished, for a slower item before them."""

Status = Literal["created", "existing", "failed"]


@attrs.frozen
class BulkResult:
    """The outcome of one item of a bulk create.

    ``status`` is ``created``, ``existing`` (the item's ``unique_id`` was already taken:
    ``task`` is the task that has it, made by an earlier run) or ``failed`` (``error``
    says why).
    """

    index: int
    """Position of the item in the input, from 0."""
    params: Mapping[str, Any]
    task: Task | None = None
    error: ScaleException | None = None
    status: Status = "created"

    @property
    def ok(self) -> bool:
        return self.error is None


AsyncCreate = Callable[..., Awaitable[Task]]
AsyncFind = Callable[..., Awaitable[Tasklist]]
SyncCreate = Callable[..., Task]
SyncFind = Callable[..., Tasklist]


def _check(concurrency: int) -> None:
    if concurrency < 1:
        raise ScaleInvalidRequest(f"concurrency must be 1 or more, got {concurrency}", 400)


def _existing(index: int, params: Mapping[str, Any], error: ScaleException) -> str | None:
    """The unique_id to look up when a create was refused as a duplicate."""
    unique_id = params.get("unique_id")
    if isinstance(error, ScaleDuplicateResource) and isinstance(unique_id, str):
        return unique_id
    return None


def _found(
    index: int, params: Mapping[str, Any], page: Tasklist, error: ScaleException
) -> BulkResult:
    if not page:
        return BulkResult(index, params, error=error, status="failed")
    return BulkResult(index, params, task=page[0], status="existing")


async def _one(
    create: AsyncCreate, find: AsyncFind, task_type: str, index: int, params: Mapping[str, Any]
) -> BulkResult:
    try:
        return BulkResult(index, params, task=await create(task_type, **params))
    except ScaleException as exc:
        unique_id = _existing(index, params, exc)
        if unique_id is None:
            return BulkResult(index, params, error=exc, status="failed")
        try:
            return _found(index, params, await find(unique_id=unique_id), exc)
        except ScaleException as lookup:
            return BulkResult(index, params, error=lookup, status="failed")


async def _aiter(
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
) -> AsyncGenerator[Mapping[str, Any], None]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def bulk_create(
    create: AsyncCreate,
    find: AsyncFind,
    task_type: str,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[BulkResult, None]:
    """See :meth:`AsyncScaleClient.create_tasks`: the results of :func:`bulk_batches`,
    one by one."""
    batches = bulk_batches(create, find, task_type, items, concurrency)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for result in batch:
                yield result


async def bulk_batches(
    create: AsyncCreate,
    find: AsyncFind,
    task_type: str,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[list[BulkResult], None]:
    """The bulk create, as lists of the results that are ready, in input order.

    At most ``concurrency`` creates are in flight, and a new one starts as soon as any
    finishes. Results are yielded in input order, so finished ones wait for a slower one
    before them; at most ``READ_AHEAD * concurrency`` items are started and not yet
    yielded, which bounds memory whatever the input's size. When the consumer stops early
    (or is cancelled), the creates still in flight are cancelled and awaited.

    Each finished create is noticed by a callback of its own (``asyncio.wait`` would walk
    every create in flight each time one finishes: a cost that grows with the
    concurrency), and each yield hands over every result that is ready.
    """
    _check(concurrency)
    in_flight: set[asyncio.Future[BulkResult]] = set()
    finished: dict[int, BulkResult] = {}
    crashed: list[BaseException] = []
    ready = asyncio.Event()

    def done(job: asyncio.Future[BulkResult]) -> None:
        in_flight.discard(job)
        if not job.cancelled():
            error = job.exception()
            if error is not None:  # not a ScaleException: a bug, raised to the consumer
                crashed.append(error)
            else:
                result = job.result()
                finished[result.index] = result
        ready.set()

    source = _aiter(items).__aiter__()
    started = yielded = 0
    exhausted = False
    try:
        while True:
            while (
                not exhausted
                and len(in_flight) < concurrency
                and started - yielded < READ_AHEAD * concurrency
            ):
                try:
                    params = await source.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                job = asyncio.ensure_future(_one(create, find, task_type, started, params))
                in_flight.add(job)
                job.add_done_callback(done)
                started += 1
            if crashed:
                raise crashed[0]
            if yielded in finished:
                batch: list[BulkResult] = []
                while yielded in finished:
                    batch.append(finished.pop(yielded))
                    yielded += 1
                yield batch
                continue
            if not in_flight:
                return
            ready.clear()
            await ready.wait()
    finally:
        pending = list(in_flight)
        for waiting in pending:
            waiting.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _sync_one(
    create: SyncCreate, find: SyncFind, task_type: str, index: int, params: Mapping[str, Any]
) -> BulkResult:
    try:
        return BulkResult(index, params, task=create(task_type, **params))
    except ScaleException as exc:
        unique_id = _existing(index, params, exc)
        if unique_id is None:
            return BulkResult(index, params, error=exc, status="failed")
        try:
            return _found(index, params, find(unique_id=unique_id), exc)
        except ScaleException as lookup:
            return BulkResult(index, params, error=lookup, status="failed")


def sync_bulk_create(
    create: SyncCreate,
    find: SyncFind,
    task_type: str,
    items: Iterable[Mapping[str, Any]],
    concurrency: int,
) -> Iterator[BulkResult]:
    """See :meth:`ScaleClient.create_tasks`: ``concurrency`` threads share the client
    (httpx clients are thread-safe), with the same ordering and memory bound as the async
    bulk create."""
    _check(concurrency)
    source = iter(items)
    window: dict[int, concurrent.futures.Future[BulkResult]] = {}
    started = yielded = 0
    with concurrent.futures.ThreadPoolExecutor(concurrency, "scaleapi-bulk") as pool:
        try:
            while True:
                while started - yielded < READ_AHEAD * concurrency:
                    params = next(source, None)
                    if params is None:
                        break
                    window[started] = pool.submit(
                        _sync_one, create, find, task_type, started, params
                    )
                    started += 1
                future = window.pop(yielded, None)
                if future is None:
                    return
                yield future.result()
                yielded += 1
        finally:
            for future in window.values():
                future.cancel()
