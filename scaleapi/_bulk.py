"""Creating many tasks at once: a bounded window of concurrent creates, results in order.

The async client's bulk create runs on the caller's event loop, through that very client
(its connections, proxy, TLS settings and retry options; an ``http_client`` passed to it
included). The sync client's runs the same async code on an event loop in a thread of its
own (a :class:`BulkLoop`, kept between runs), through an ``AsyncScaleClient`` with the
sync client's very settings (its "twin"), when the async client would send with aiohttp;
otherwise (its own ``http_client``, say) it runs ``concurrency`` threads over the sync
client itself. Each client hands over its own ``_create_one``: one create, and the lookup
of the task that has a taken ``unique_id``.
"""

# The clients' own helper: it reads their private parts, as their methods would.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import os
import queue
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from ._exceptions import ScaleException, ScaleInvalidRequest
from ._task import Task

if TYPE_CHECKING:
    from ._async_client import AsyncScaleClient
    from ._sync_client import ScaleClient

T = TypeVar("T")

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
    client: AsyncScaleClient,
    task_type: str,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[BulkResult, None]:
    """See :meth:`AsyncScaleClient.create_tasks`: the results of :func:`bulk_batches`,
    one by one."""
    batches = _client_batches(client, task_type, items, concurrency)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for result in batch:
                yield result


def _client_batches(
    client: AsyncScaleClient,
    task_type: str,
    items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    concurrency: int,
) -> AsyncGenerator[list[BulkResult], None]:
    """:func:`bulk_batches` through ``client``, with a connection for each create in
    flight when its driver has a pool of its own."""
    if client._driver is not None:
        client._driver.reserve(concurrency)
    return bulk_batches(client._create_one, task_type, items, concurrency)


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
    client: ScaleClient,
    task_type: str,
    items: Iterable[Mapping[str, Any]],
    concurrency: int,
) -> Iterator[BulkResult]:
    """See :meth:`ScaleClient.create_tasks`: the async bulk create on an event loop of its
    own, through an async twin of ``client``, when that twin would send with aiohttp;
    else threads over ``client``."""
    _check(concurrency)
    loop = _loop_of(client)
    if loop is None:
        if client._driver is not None:
            client._driver.reserve(concurrency)
        yield from _threads(client._create_one, task_type, items, concurrency)
    else:
        yield from _on_loop(loop, loop.twin_of(client), task_type, items, concurrency)


def _async_twin(client: ScaleClient) -> AsyncScaleClient | None:
    """An ``AsyncScaleClient`` with ``client``'s very settings (key, base URL, timeouts,
    retries, deadline, size cap, ``auto_unique_id``) and connection options, made without
    reading the arguments or the environment again. ``None`` when it would not send with
    the fast driver (the async client's own choice, made by the same code)."""
    from ._async_client import AsyncScaleClient

    twin = AsyncScaleClient.__new__(AsyncScaleClient)
    twin._settings = client._settings
    twin._auto_unique_id = client._auto_unique_id
    twin._connect(None, client._connection)
    return twin if twin._driver is not None else None


class BulkLoop:
    """The event loop of a sync client's bulk creates, in a thread of its own
    (``scaleapi-bulk``), with the async driver that sends them: made by the first
    ``create_tasks`` that needs it and kept, connections and all, for the next ones (as
    an async client keeps its pool), until the client is closed or collected, or the
    interpreter exits. It holds no reference to the client. After a ``fork`` the child
    makes its own."""

    def __init__(self, client: ScaleClient, twin: AsyncScaleClient) -> None:
        self._twin = twin  # its connections; settings and owner are each run's
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="scaleapi-bulk", daemon=True
        )
        self.thread.start()
        self._lock = threading.Lock()  # nothing is sent to the loop once it is ending
        self._open = True
        self._end = weakref.finalize(client, self._stop)

    @property
    def usable(self) -> bool:
        return self.pid == os.getpid() and self._end.alive and self.thread.is_alive()

    def twin_of(self, client: ScaleClient) -> AsyncScaleClient:
        """The loop's async client, sending with ``client``'s settings, and reading tasks
        that act through ``client`` (``result.task.refresh()``): a copy per run, so that
        a client and its ``with_options`` copies each send with their own."""
        twin = copy.copy(self._twin)
        twin._settings = client._settings
        twin._auto_unique_id = client._auto_unique_id
        twin._acts_for = client
        return twin

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the loop and wait for its result; a ``ScaleException`` if the
        client is closed before (or while) it runs."""
        with self._lock:
            if not self._open or self.pid != os.getpid():
                work.close()
                raise ScaleException(CLOSED)
            future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise ScaleException(CLOSED) from None

    def close(self) -> None:
        """Close the driver's connections and end the loop and its thread (once)."""
        self._end()

    def _stop(self) -> None:
        if self.pid != os.getpid() or threading.current_thread() is self.thread:
            return  # a parent's loop (no thread here), or a call from the loop itself
        with self._lock:
            self._open = False
            ending = asyncio.run_coroutine_threadsafe(self._shut_down(), self.loop)
        try:
            ending.result()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                self.loop.close()

    async def _shut_down(self) -> None:
        """Stop the bulk creates still running (a client closed from another thread while
        one is iterated: its pump tells the iterating thread), then close the rest."""
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        try:
            await self._twin.aclose()
        finally:
            await self.loop.shutdown_asyncgens()
            await self.loop.shutdown_default_executor()


_MAKING_LOOP = threading.Lock()


def _loop_of(client: ScaleClient) -> BulkLoop | None:
    """``client``'s bulk loop, made now if it has none it can use; ``None`` when the
    client sends over an ``http_client`` it was given (the caller's connections, proxies
    and mounts: theirs to use) or its async twin would not send with aiohttp."""
    if not client._pool.owned:
        return None
    with _MAKING_LOOP:
        loop: BulkLoop | None = client._bulk_loop
        if loop is None or not loop.usable:
            twin = _async_twin(client)
            if twin is None:
                return None
            loop = client._bulk_loop = BulkLoop(client, twin)
    return loop


CLOSED = "the client was closed: its bulk create stopped"

HANDOVER_AFTER = 0.002
"""Seconds a ready result may wait on the loop for more to be handed over with it."""


class _Pump:
    """Runs the bulk create's results into a queue, on the loop, for another thread.

    The pump asks for the next batch as soon as it has one, so that new creates start
    while the caller's thread takes the last results: a thread woken for every few
    results would fight the loop for the GIL (a thread that wants it can wait
    milliseconds) and a bulk create that waited for it would let its creates in flight
    run dry. Results are handed over a window (``concurrency``) at a time, or after
    ``HANDOVER_AFTER`` seconds, or at the end; the pump pauses while two windows are
    held for the caller, and goes on when they are taken.
    """

    def __init__(self, batches: AsyncGenerator[list[BulkResult], None], window: int) -> None:
        self.queue: queue.SimpleQueue[list[BulkResult] | BaseException | None] = queue.SimpleQueue()
        self._batches = batches
        self._window = window
        self._lock = threading.Lock()
        self._held = 0  # results waiting for the caller: buffered here or in the queue
        self._buffer: list[BulkResult] = []
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
        self._room: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._room = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        room = self._room
        assert room is not None
        loop = asyncio.get_running_loop()
        try:
            async for batch in self._batches:
                self._buffer += batch
                with self._lock:
                    self._held += len(batch)
                    self._paused = self._held >= 2 * self._window
                    if self._paused:
                        room.clear()
                if self._paused or len(self._buffer) >= self._window:
                    self._hand_over()
                elif self._timer is None:
                    self._timer = loop.call_later(HANDOVER_AFTER, self._hand_over)
                if self._paused:
                    await room.wait()
            self._hand_over()
            self.queue.put(None)
        except asyncio.CancelledError:
            # Stopped: by the iterating thread (which then reads no more), or because the
            # client was closed (the iterating thread is told).
            self.queue.put(ScaleException(CLOSED))
            raise
        except BaseException as error:  # a bug, not a ScaleException: the caller's to see
            self._hand_over()
            self.queue.put(error)

    def _hand_over(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer:
            self.queue.put(self._buffer)
            self._buffer = []

    def taken(self, loop: asyncio.AbstractEventLoop, batch: list[BulkResult]) -> None:
        """The caller's thread took ``batch``: wake the pump if it waits for room."""
        with self._lock:
            self._held -= len(batch)
            wake = self._paused and self._held < 2 * self._window
            if wake:
                self._paused = False
        if wake and self._room is not None:
            loop.call_soon_threadsafe(self._room.set)

    async def close(self) -> None:
        """Stop the pump and close the generator, which cancels and awaits the creates
        in flight."""
        if self._timer is not None:
            self._timer.cancel()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        await self._batches.aclose()


def sync_read_ahead(concurrency: int) -> int:
    """How many items ``ScaleClient.create_tasks`` may have read and not yet handed over,
    at most, when it runs on an event loop: those started and not yet done or in order
    (``READ_AHEAD`` windows), and those held for the caller (two windows, and the batch
    that filled them, at most ``READ_AHEAD`` windows)."""
    return (2 * READ_AHEAD + 2) * concurrency


def _on_loop(
    loop: BulkLoop,
    twin: AsyncScaleClient,
    task_type: str,
    items: Iterable[Mapping[str, Any]],
    concurrency: int,
) -> Iterator[BulkResult]:
    """The async bulk create of ``twin`` on ``loop`` (whose thread reads ``items``), its
    batches of ready results handed over through a queue. However the iteration ends
    (used up, failed or closed early), no create of it is left in flight."""
    pump = _Pump(_client_batches(twin, task_type, items, concurrency), concurrency)
    try:
        loop.run(pump.start())
        while True:
            batch = pump.queue.get()
            if batch is None:
                return
            if isinstance(batch, BaseException):
                raise batch
            pump.taken(loop.loop, batch)
            yield from batch
    finally:
        if loop.usable:  # else the client was closed: its loop stopped the run
            loop.run(pump.close())


def _threads(
    one: SyncOne,
    task_type: str,
    items: Iterable[Mapping[str, Any]],
    concurrency: int,
) -> Iterator[BulkResult]:
    """``concurrency`` threads share the client (httpx clients are thread-safe), with the
    same ordering and memory bound as the async bulk create."""
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
