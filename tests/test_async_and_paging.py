"""AsyncScaleClient, iter_tasks and create_tasks against the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import itertools
import json
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest

import scaleapi
from scaleapi._bulk import sync_read_ahead
from scaleapi.sandbox import Sandbox

PARAMS: dict[str, Any] = {
    "attachment_type": "text",
    "attachment": "ACME Corp",
    "categories": ["public", "private"],
}


class Counter:
    """Counts requests, and how many are in flight at once, through httpx event hooks."""

    def __init__(self) -> None:
        self.started = self.finished = self.peak = 0

    def request(self, request: httpx.Request) -> None:
        self.started += 1
        self.peak = max(self.peak, self.started - self.finished)

    def response(self, response: httpx.Response) -> None:
        self.finished += 1

    async def arequest(self, request: httpx.Request) -> None:
        self.request(request)

    async def aresponse(self, response: httpx.Response) -> None:
        self.response(response)


@pytest.fixture
def key(scale_live_key: str) -> str:
    return scale_live_key


@pytest.fixture
def client(scale_sandbox_url: str, key: str) -> Iterator[scaleapi.ScaleClient]:
    with scaleapi.ScaleClient(key, base_url=scale_sandbox_url) as c:
        yield c


def test_async_client_speaks_the_same_api(scale_sandbox_url: str, scale_test_key: str) -> None:
    async def main() -> None:
        async with scaleapi.AsyncScaleClient(scale_test_key, base_url=scale_sandbox_url) as c:
            task = await c.create_categorization_task(**PARAMS)
            assert task.status == "pending"
            assert (await task.arefresh()).status == "completed"
            fetched = await c.fetch_task(task.id)
            assert fetched == task and fetched.response is not None
            page = await c.tasks(type="categorization")
            assert page.total == 1 and page[0] == task
            with pytest.raises(scaleapi.ScaleInvalidRequest):
                await c.cancel_task(task.id)  # completed already
            with pytest.raises(TypeError, match="arefresh"):
                task.refresh()

    asyncio.run(main())


def test_iter_tasks_fetches_a_page_only_when_needed(
    client: scaleapi.ScaleClient, scale_sandbox_url: str, key: str
) -> None:
    made = [t.task for t in client.create_tasks("categorization", [PARAMS] * 250, concurrency=8)]
    counter = Counter()
    http = httpx.Client(event_hooks={"request": [counter.request]})
    with scaleapi.ScaleClient(key, base_url=scale_sandbox_url, http_client=http) as c:
        tasks = c.iter_tasks(limit=100)
        assert counter.started == 0  # nothing is fetched before it is asked for
        first = next(tasks)
        assert counter.started == 1
        rest = [next(tasks) for _ in range(99)]
        assert counter.started == 1  # the first page is not used up yet
        rest.append(next(tasks))
        assert counter.started == 2
        rest += list(tasks)
        assert counter.started == 3
    got = [first, *rest]
    assert len(got) == 250 and {t.id for t in got} == {t.id for t in made if t}
    assert all(a.created_at >= b.created_at for a, b in itertools.pairwise(got))


def test_iter_tasks_follows_offset_without_next_token() -> None:
    """An older server without next_token: paging goes by offset."""
    docs = [
        {
            "task_id": f"t{n}",
            "type": "categorization",
            "status": "pending",
            "created_at": "2016-06-30T07:38:32.368Z",
            "params": {},
        }
        for n in range(5)
    ]
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        seen.append(query)
        offset, limit = int(query.get("offset", 0)), int(query["limit"])
        page = docs[offset : offset + limit]
        more = offset + limit < len(docs)
        body = {"docs": page, "total": 5, "limit": limit, "offset": offset, "has_more": more}
        return httpx.Response(200, content=json.dumps(body))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with scaleapi.ScaleClient("test_x", base_url="http://scale.test/v1", http_client=http) as c:
        ids = [t.id for t in c.iter_tasks(limit=2, status="pending")]
    assert ids == [d["task_id"] for d in docs]
    assert [q.get("offset") for q in seen] == [None, "2", "4"]
    assert all(q["status"] == "pending" for q in seen)


def test_async_iter_tasks(client: scaleapi.ScaleClient, scale_sandbox_url: str, key: str) -> None:
    for _ in range(7):
        client.create_categorization_task(**PARAMS)

    async def main() -> list[str]:
        async with scaleapi.AsyncScaleClient(key, base_url=scale_sandbox_url) as c:
            return [t.id async for t in c.iter_tasks(limit=3)]

    ids = asyncio.run(main())
    assert ids == [t.id for t in client.tasks()]


def test_bulk_create_keeps_order_bounds_concurrency_and_reports_errors_per_item() -> None:
    items = [
        {**PARAMS, "metadata": {"n": n}} if n % 10 else {**PARAMS, "categories": []}
        for n in range(60)
    ]
    counter = Counter()

    async def main(url: str) -> list[scaleapi.BulkResult]:
        http = httpx.AsyncClient(
            event_hooks={"request": [counter.arequest], "response": [counter.aresponse]}
        )
        async with http, scaleapi.AsyncScaleClient("live_b", base_url=url, http_client=http) as c:
            return [r async for r in c.create_tasks("categorization", items, concurrency=8)]

    with Sandbox(latency_ms=20) as sandbox:
        results = asyncio.run(main(sandbox.base_url))
    assert [r.index for r in results] == list(range(60))
    failed = [r.index for r in results if not r.ok]
    assert failed == list(range(0, 60, 10))
    assert all(isinstance(r.error, scaleapi.ScaleInvalidRequest) for r in results if not r.ok)
    assert all(r.task and r.task.metadata == {"n": r.index} for r in results if r.ok)
    assert 2 <= counter.peak <= 8


def test_cancelling_a_bulk_run_leaves_nothing_in_flight() -> None:
    async def main(url: str) -> None:
        http = httpx.AsyncClient()
        async with http, scaleapi.AsyncScaleClient("live_c", base_url=url, http_client=http) as c:
            got: list[scaleapi.BulkResult] = []

            async def consume() -> None:
                async for result in c.create_tasks("categorization", [PARAMS] * 100, concurrency=8):
                    got.append(result)

            runner = asyncio.create_task(consume())
            while len(got) < 2:
                await asyncio.sleep(0.01)
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner
            assert asyncio.all_tasks() == {asyncio.current_task()}  # no create left running
            pool: Any = http._transport._pool  # type: ignore[attr-defined]
            # Every connection is idle or closed: no request is on the wire or waiting.
            assert all(conn.is_idle() or conn.is_closed() for conn in pool.connections)
            assert len(pool._requests) == 0

    with Sandbox(latency_ms=100) as sandbox:
        asyncio.run(main(sandbox.base_url))
        total = scaleapi.ScaleClient("live_c", base_url=sandbox.base_url).tasks(limit=1).total
    assert 2 <= total < 100  # the run stopped early


# ScaleClient.create_tasks runs the async bulk create on an event loop in a thread of its
# own when the async client would send with aiohttp (`make test` runs these tests again
# with SCALE_ASYNC_TRANSPORT=httpx: then threads share the sync client's httpx.Client).
ON_A_LOOP = (
    os.environ.get("SCALE_ASYNC_TRANSPORT", "auto") != "httpx"
    and importlib.util.find_spec("aiohttp") is not None
)


class Reader:
    """Items to create, noting where each was read: the thread, and whether an event
    loop was running there."""

    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        self.items = items
        self.read = 0
        self.where: set[tuple[str, bool]] = set()

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for item in self.items:
            self.read += 1
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            self.where.add((threading.current_thread().name, on_loop))
            yield item


def bulk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("scaleapi-bulk")]


def test_sync_create_tasks_keeps_order_and_statuses_on_its_own_loop(
    client: scaleapi.ScaleClient,
) -> None:
    taken = client.create_task("categorization", unique_id="taken", **PARAMS)
    items = [{**PARAMS, "metadata": {"n": n}} for n in range(30)]
    items[7] = {**PARAMS, "unique_id": "taken"}
    items[20] = {**PARAMS, "categories": []}  # refused by the API
    reader = Reader(items)
    before = threading.active_count()
    results = list(client.create_tasks("categorization", reader, concurrency=4))
    assert [r.index for r in results] == list(range(30))
    statuses = ["created"] * 30
    statuses[7], statuses[20] = "existing", "failed"
    assert [r.status for r in results] == statuses
    assert results[7].task is not None and results[7].task.id == taken.id
    assert isinstance(results[20].error, scaleapi.ScaleInvalidRequest)
    assert all(
        r.task and r.task.metadata == {"n": r.index} for r in results if r.index not in (7, 20)
    )
    assert client.tasks(limit=1).total == 29  # the taken one, and 28 new
    # The tasks are the sync client's, whichever way they were made.
    assert results[0].task is not None and results[0].task.refresh().id == results[0].task.id
    assert results[7].task.refresh().id == taken.id
    # The path taken: the items were read on the bulk's event loop thread, or else (over
    # httpx) by this thread, as the threads sharing the client were fed.
    if ON_A_LOOP:
        assert reader.where == {("scaleapi-bulk", True)}
    else:
        assert reader.where == {(threading.current_thread().name, False)}
    assert threading.active_count() <= before + (1 if ON_A_LOOP else 0)


def test_sync_create_tasks_sends_through_a_given_http_client(
    scale_sandbox_url: str, key: str
) -> None:
    sent: list[str] = []  # list.append: safe from the threads that send
    http = httpx.Client(event_hooks={"request": [lambda r: sent.append(r.url.path)]})
    items = [dict(PARAMS) for _ in range(12)]
    items[3] = {**PARAMS, "unique_id": "taken"}
    reader = Reader(items)
    with http, scaleapi.ScaleClient(key, base_url=scale_sandbox_url, http_client=http) as c:
        c.create_task("categorization", unique_id="taken", **PARAMS)
        sent.clear()
        results = list(c.create_tasks("categorization", reader, concurrency=4))
    assert [r.status for r in results] == ["created"] * 3 + ["existing"] + ["created"] * 8
    # Every create, and the lookup of the taken unique_id, went through the caller's client.
    assert sorted(sent) == sorted(["/v1/task/categorization"] * 12 + ["/v1/tasks"])
    assert reader.where == {(threading.current_thread().name, False)}


def test_sync_create_tasks_reads_the_items_lazily(client: scaleapi.ScaleClient) -> None:
    def endless() -> Iterator[Mapping[str, Any]]:
        for n in itertools.count():
            assert n < 10_000, "the items were read eagerly"
            yield PARAMS

    reader = Reader(endless())
    for got, result in enumerate(client.create_tasks("categorization", reader, concurrency=4), 1):
        assert result.ok
        if got == 10:
            break
    assert 10 <= reader.read <= 10 + sync_read_ahead(4)


@contextlib.contextmanager
def nothing_left_behind(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Asserts that the block leaves no bulk thread, no unclosed socket or session
    (ResourceWarning) and no asyncio error (a task destroyed while pending, say)."""
    gc.collect()  # what earlier tests left is not this block's
    before = threading.active_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert bulk_threads() == [] and threading.active_count() == before


def loop_threads() -> list[str]:
    """What a sync client that made bulk creates keeps until it is closed."""
    return ["scaleapi-bulk"] if ON_A_LOOP else []


@pytest.mark.parametrize("how", ["break", "close"])
def test_stopping_a_sync_bulk_run_early_cancels_it_and_leaves_nothing_behind(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        nothing_left_behind(caplog),
        Sandbox(latency_ms=100) as sandbox,
        scaleapi.ScaleClient("live_s", base_url=sandbox.base_url) as c,
    ):
        results = c.create_tasks("categorization", [PARAMS] * 100, concurrency=8)
        if how == "break":
            for n, result in enumerate(results):
                assert result.ok
                if n == 2:
                    break
            del results
        else:
            assert next(results).ok and next(results).ok
            results.close()
        assert [t.name for t in bulk_threads()] == loop_threads()
        total = c.tasks(limit=1).total
        time.sleep(0.3)  # longer than a create takes: none is still on its way
        assert c.tasks(limit=1).total == total
        assert 2 <= total < 100  # the run stopped early
        again = list(c.create_tasks("categorization", [PARAMS] * 5, concurrency=8))
        assert [r.status for r in again] == ["created"] * 5
        assert c.tasks(limit=1).total == total + 5


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="Ctrl-C is handled elsewhere in this process",
)
def test_ctrl_c_while_a_sync_bulk_run_waits_stops_it_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    main = threading.get_ident()
    with (
        nothing_left_behind(caplog),
        Sandbox(latency_ms=1500) as sandbox,
        scaleapi.ScaleClient("live_k", base_url=sandbox.base_url) as c,
    ):
        # Ctrl-C while the first creates are on the server (each takes 1.5 s).
        timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for _ in c.create_tasks("categorization", [PARAMS] * 100, concurrency=8):
                pass
        waited = time.monotonic() - start
        timer.join()
        assert [t.name for t in bulk_threads()] == loop_threads()
        if ON_A_LOOP:  # threads cannot be stopped: they finish the creates they began
            assert waited < 1.0  # the creates on their way were not waited for
        time.sleep(1.6)
        assert c.tasks(limit=1).total <= 8  # none started after the first ones


def test_a_sync_client_keeps_one_bulk_loop_until_it_is_closed_or_collected(
    scale_sandbox_url: str, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with nothing_left_behind(caplog):
        client = scaleapi.ScaleClient(key, base_url=scale_sandbox_url)
        for _ in range(3):  # one loop, its thread and its connections, for every run
            results = list(client.create_tasks("categorization", [PARAMS] * 20, concurrency=8))
            assert [r.status for r in results] == ["created"] * 20
            assert [t.name for t in bulk_threads()] == loop_threads()
        client.close()
        assert bulk_threads() == []
    if not ON_A_LOOP:
        return  # the threads over httpx keep nothing; an unclosed httpx.Client would warn
    with nothing_left_behind(caplog):  # never closed: collecting the client ends its loop
        client = scaleapi.ScaleClient(key, base_url=scale_sandbox_url)
        assert all(r.ok for r in client.create_tasks("categorization", [PARAMS] * 5))
        assert [t.name for t in bulk_threads()] == loop_threads()
        del client


def test_closing_a_sync_client_while_another_thread_iterates_its_bulk_create_stops_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with nothing_left_behind(caplog), Sandbox(latency_ms=300) as sandbox:
        client = scaleapi.ScaleClient("live_c", base_url=sandbox.base_url)
        seen: list[object] = []

        def iterate() -> None:
            try:
                for result in client.create_tasks("categorization", [PARAMS] * 200, concurrency=4):
                    seen.append(result.status)
            except scaleapi.ScaleException as exc:
                seen.append(exc)

        worker = threading.Thread(target=iterate, daemon=True)  # a failure must not hang
        worker.start()
        time.sleep(0.5)  # the first creates are back, the next are on the server
        client.close()
        worker.join(timeout=5)
        assert not worker.is_alive()  # told, not left waiting for results that never come
        if ON_A_LOOP:
            assert isinstance(seen[-1], scaleapi.ScaleException)
            assert "closed" in str(seen[-1])
            assert 1 <= len(seen) - 1 < 200


def test_a_with_options_copy_bulk_creates_with_its_own_settings_on_the_shared_loop() -> None:
    with (
        Sandbox(latency_ms=300) as sandbox,
        scaleapi.ScaleClient("live_w", base_url=sandbox.base_url) as c,
    ):
        assert [r.status for r in c.create_tasks("categorization", [PARAMS] * 2)] == ["created"] * 2
        hurried = c.with_options(deadline=0.05)
        results = list(hurried.create_tasks("categorization", [PARAMS] * 3))
        assert [r.status for r in results] == ["failed"] * 3
        assert all(isinstance(r.error, scaleapi.ScaleOutcomeUnknown) for r in results), results[0]
        # The copy's deadline stayed the copy's: the client itself still waits.
        assert [r.status for r in c.create_tasks("categorization", [PARAMS] * 2)] == ["created"] * 2
        assert [t.name for t in bulk_threads()] == loop_threads()
