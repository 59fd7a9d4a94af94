"""Creating many tasks at once: a bounded window of concurrent creates, results in order."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._exceptions import ScaleException, ScaleInvalidRequest
from ._generated.params import TaskType
from ._task import Task

if TYPE_CHECKING:
    from ._async_client import AsyncScaleClient
    from ._generated.sync_client import ScaleClient


READ_AHEAD = 4
"""How many windows of results may wait, finished, for a slower item before them."""


@attrs.frozen
class BulkResult:
    """The outcome of one item of a bulk create: its ``task`` or its ``error``."""

    index: int
    """Position of the item in the input, from 0."""
    params: Mapping[str, Any]
    task: Task | None = None
    error: ScaleException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def _aiter(
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
) -> AsyncGenerator[Mapping[str, Any], None]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def _one(
    client: AsyncScaleClient, task_type: TaskType, index: int, params: Mapping[str, Any]
) -> BulkResult:
    try:
        task = await client.create_task(task_type, **params)
    except ScaleException as exc:
        return BulkResult(index, params, error=exc)
    return BulkResult(index, params, task=task)


async def bulk_create(
    client: AsyncScaleClient,
    task_type: TaskType,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[BulkResult, None]:
    """See :meth:`AsyncScaleClient.create_tasks`; the results of :func:`_batches`, one
    by one."""
    async with contextlib.aclosing(_batches(client, task_type, items, concurrency)) as batches:
        async for batch in batches:
            for result in batch:
                yield result


async def _batches(
    client: AsyncScaleClient,
    task_type: TaskType,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[list[BulkResult], None]:
    """The bulk create, as lists of the results that are ready, in input order.

    At most ``concurrency`` creates are in flight, and a new one starts as soon as any
    finishes. Results are yielded in input order, so finished ones wait for a slower one
    before them; at most ``READ_AHEAD * concurrency`` items are started and not yet
    yielded, which bounds memory whatever the input's size. When the consumer stops early
    (or is cancelled), the creates still in flight are cancelled and awaited.

    Each yield hands over every result that is ready (the sync client runs its event
    loop once per yield, not once per result), and a finished create is noticed by its
    own callback, not by a scan of every create in flight.
    """
    if concurrency < 1:
        raise ScaleInvalidRequest(f"concurrency must be 1 or more, got {concurrency}", 400)
    # The aiohttp driver gets a connection per concurrent create (httpx's pool does not:
    # its bookkeeping grows with every connection, see BENCHMARKS.md).
    driver = client._driver  # pyright: ignore[reportPrivateUsage]
    sized = driver.for_concurrency(concurrency) if driver is not None else None
    if sized is not None and sized is not driver:
        client = copy.copy(client)
        client._driver = sized  # pyright: ignore[reportPrivateUsage]
        client._owns_http = False  # pyright: ignore[reportPrivateUsage]
    in_flight: set[asyncio.Task[BulkResult]] = set()
    finished: dict[int, BulkResult] = {}
    crashed: list[BaseException] = []
    ready = asyncio.Event()

    def done(task: asyncio.Task[BulkResult]) -> None:
        in_flight.discard(task)
        if not task.cancelled():
            error = task.exception()
            if error is not None:  # not a ScaleException: a bug, raised to the consumer
                crashed.append(error)
            else:
                result = task.result()
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
                task = asyncio.create_task(_one(client, task_type, started, params))
                in_flight.add(task)
                task.add_done_callback(done)
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
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if sized is not None and sized is not driver:
            await sized.aclose()


def sync_bulk_create(
    client: ScaleClient,
    task_type: TaskType,
    items: Iterable[Mapping[str, Any]],
    concurrency: int,
) -> Iterator[BulkResult]:
    """See :meth:`ScaleClient.create_tasks`: the async bulk create, driven step by step
    from this thread (an event loop runs only while the next result is awaited)."""
    from ._async_client import AsyncScaleClient

    runner = asyncio.Runner()
    aclient = AsyncScaleClient._like(client)  # pyright: ignore[reportPrivateUsage]
    batches = _batches(aclient, task_type, items, concurrency)
    try:
        while True:
            try:
                batch = runner.run(batches.__anext__())
            except StopAsyncIteration:
                return
            yield from batch
    finally:
        runner.run(batches.aclose())
        runner.run(aclient.aclose())
        runner.close()
