"""AsyncScaleClient, iter_tasks and create_tasks against the sandbox."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import scaleapi
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


def test_sync_create_tasks_wraps_the_async_one(client: scaleapi.ScaleClient) -> None:
    results = list(client.create_tasks("categorization", iter([PARAMS] * 30), concurrency=4))
    assert [r.index for r in results] == list(range(30))
    assert all(r.ok for r in results)
    assert client.tasks(limit=1).total == 30
