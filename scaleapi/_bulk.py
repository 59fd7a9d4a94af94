"""Creating many tasks at once: a bounded window of concurrent creates, results in order.

Bulk creates go through the very client they are asked of: it hands over its own
``_create_one`` (one create, and the lookup of the task that has a taken ``unique_id``),
so its connections, proxy, TLS settings and retry options are the ones used (an
``http_client`` passed to it included).
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

from ._exceptions import ScaleException, ScaleInvalidRequest
from ._task import Task

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


AsyncOne = Callable[[Any, int, Mapping[str, Any]], Awaitable[BulkResult]]
"""The client's ``_create_one``: one item's create, with its 409 lookup, as a result."""
SyncOne = Callable[[Any, int, Mapping[str, Any]], BulkResult]


def _check(concurrency: int) -> None:
    if concurrency < 1:
        raise ScaleInvalidRequest(f"concurrency must be 1 or more, got {concurrency}", 400)


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
    one: AsyncOne,
    task_type: str,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[BulkResult, None]:
    """See :meth:`AsyncScaleClient.create_tasks`: the results of :func:`bulk_batches`,
    one by one."""
    batches = bulk_batches(one, task_type, items, concurrency)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for result in batch:
                yield result


async def bulk_batches(
    one: AsyncOne,
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
                job = asyncio.ensure_future(one(task_type, started, params))
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


def sync_bulk_create(
    one: SyncOne,
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
                    window[started] = pool.submit(one, task_type, started, params)
                    started += 1
                future = window.pop(yielded, None)
                if future is None:
                    return
                yield future.result()
                yielded += 1
        finally:
            for future in window.values():
                future.cancel()
