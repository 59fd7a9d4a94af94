"""The measured client process for this repository's SDK and for raw httpx.

``python -m benchmarks._worker SECTION ...`` runs one section against a server that is
already running elsewhere and prints its result as one line of JSON. CPU is
``time.process_time()`` of this process: the client's, never the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from benchmarks import _measure as measure
from benchmarks._common import CREATE_PARAMS, LIVE_KEY, TASK_TYPE, TEST_KEY, dumps


def per_call(url: str, task_id: str, rounds: int, calls: int) -> dict[str, Any]:
    """``ScaleClient.fetch_task`` and a raw ``httpx.Client`` GET + ``.json()``, in
    alternating rounds (ABBA...), so that drifts of the machine hit both alike."""
    import httpx

    import scaleapi

    client = scaleapi.ScaleClient(TEST_KEY, base_url=url)
    http = httpx.Client(auth=(TEST_KEY, ""))
    task_url = f"{url}/task/{task_id}"

    def ours() -> object:
        return client.fetch_task(task_id)

    def raw() -> Any:
        return http.get(task_url).json()

    task = client.fetch_task(task_id)
    assert task.id == task_id and task.status == "completed", task
    assert raw()["task_id"] == task_id
    results = measure.rounds({"ours": ours, "httpx": raw}, rounds, calls)
    client.close()
    http.close()
    return results


async def _bulk_async(
    url: str, n: int, concurrency: int, profiler: cProfile.Profile | None
) -> dict[str, Any]:
    import scaleapi

    async with scaleapi.AsyncScaleClient(LIVE_KEY, base_url=url, max_retries=0) as client:
        await client.create_task(TASK_TYPE, **CREATE_PARAMS)  # warm up: imports, a connection
        ok = errors = 0
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        items = (CREATE_PARAMS for _ in range(n))
        async for result in client.create_tasks(TASK_TYPE, items, concurrency=concurrency):
            if result.ok:
                ok += 1
            else:
                errors += 1
        if profiler is not None:
            profiler.disable()
        return measure.bulk_result(n, concurrency, ok, errors, cpu, wall)


async def _bounded(one: Callable[[], Awaitable[bool]], n: int, concurrency: int) -> dict[str, Any]:
    """``n`` calls of ``one``, at most ``concurrency`` at a time (a semaphore over
    ``gather``: the plain way to write it), after one warm-up call."""
    slots = asyncio.Semaphore(concurrency)

    async def limited() -> bool:
        async with slots:
            return await one()

    assert await one()
    cpu, wall = time.process_time(), time.perf_counter()
    done = await asyncio.gather(*(limited() for _ in range(n)))
    ok = sum(done)
    return measure.bulk_result(n, concurrency, ok, n - ok, cpu, wall)


async def _bulk_httpx(url: str, n: int, concurrency: int, transport: str = "") -> dict[str, Any]:
    """The baseline: raw ``httpx.AsyncClient`` POSTs, same pool limits as ours; with
    ``transport="aiohttp"``, over the ``httpx-aiohttp`` transport."""
    import httpx

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    options: dict[str, Any] = {}
    if transport == "aiohttp":
        import aiohttp
        import httpx_aiohttp  # pyright: ignore[reportMissingTypeStubs]

        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=max(100, concurrency))
            return aiohttp.ClientSession(connector=connector)

        options["transport"] = httpx_aiohttp.AiohttpTransport(client=session)
    async with httpx.AsyncClient(auth=(LIVE_KEY, ""), limits=limits, **options) as http:
        create_url = f"{url}/task/{TASK_TYPE}"

        async def one() -> bool:
            try:
                answer = await http.post(create_url, json=CREATE_PARAMS)
                return answer.status_code == 200 and bool(answer.json()["task_id"])
            except httpx.HTTPError:
                return False

        return await _bounded(one, n, concurrency)


async def _bulk_aiohttp(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """Raw ``aiohttp`` POSTs, with a connection for each concurrent one."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=max(100, concurrency))
    headers = {"Authorization": aiohttp.encode_basic_auth(LIVE_KEY, "")}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        create_url = f"{url}/task/{TASK_TYPE}"

        async def one() -> bool:
            try:
                async with http.post(create_url, json=CREATE_PARAMS) as answer:
                    return answer.status == 200 and bool((await answer.json())["task_id"])
            except aiohttp.ClientError:
                return False

        return await _bounded(one, n, concurrency)


async def _bulk_pyreqwest(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """Raw ``pyreqwest`` (Rust's reqwest) POSTs."""
    import base64

    from pyreqwest.client import ClientBuilder  # pyright: ignore[reportMissingTypeStubs]

    token = "Basic " + base64.b64encode(f"{LIVE_KEY}:".encode()).decode()
    create_url = f"{url}/task/{TASK_TYPE}"
    async with ClientBuilder().max_connections(max(100, concurrency)).build() as http:

        async def one() -> bool:
            request = http.post(create_url).header("Authorization", token)
            answer = await request.body_json(CREATE_PARAMS).build().send()
            return answer.status == 200 and bool((await answer.json())["task_id"])

        return await _bounded(one, n, concurrency)


def _bulk_sync(url: str, n: int) -> dict[str, Any]:
    import scaleapi

    with scaleapi.ScaleClient(LIVE_KEY, base_url=url, max_retries=0) as client:
        return measure.sequential(
            lambda: client.create_task(TASK_TYPE, **CREATE_PARAMS), n, scaleapi.ScaleException
        )


def _bulk_sync_create_tasks(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """``ScaleClient.create_tasks``: the sync client's bulk create."""
    import scaleapi

    with scaleapi.ScaleClient(LIVE_KEY, base_url=url, max_retries=0) as client:
        # Warm up: the imports of the async side (aiohttp's take a tenth of a second).
        assert all(r.ok for r in client.create_tasks(TASK_TYPE, [CREATE_PARAMS]))
        ok = errors = 0
        cpu, wall = time.process_time(), time.perf_counter()
        items = (CREATE_PARAMS for _ in range(n))
        for result in client.create_tasks(TASK_TYPE, items, concurrency=concurrency):
            if result.ok:
                ok += 1
            else:
                errors += 1
        return measure.bulk_result(n, concurrency, ok, errors, cpu, wall)


MODES = ("async", "httpx", "httpx_aiohttp", "aiohttp", "pyreqwest", "sync", "sync_bulk")
"""``async`` and ``sync_bulk`` are ``create_tasks`` of the async and the sync client, with
the transport ``$SCALE_ASYNC_TRANSPORT`` says; ``sync`` is ``ScaleClient.create_task`` in
a loop; the rest are raw clients."""


def bulk(
    url: str, mode: str, n: int, concurrency: int, profile: str | None = None
) -> dict[str, Any]:
    """``n`` creates after one warm-up create; ``profile``: cProfile stats of the ``n``
    creates (async only) are written there."""
    if mode == "async":
        profiler = cProfile.Profile() if profile else None
        result = asyncio.run(_bulk_async(url, n, concurrency, profiler))
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        return result
    if mode == "httpx":
        return asyncio.run(_bulk_httpx(url, n, concurrency))
    if mode == "httpx_aiohttp":
        return asyncio.run(_bulk_httpx(url, n, concurrency, transport="aiohttp"))
    if mode == "aiohttp":
        return asyncio.run(_bulk_aiohttp(url, n, concurrency))
    if mode == "pyreqwest":
        return asyncio.run(_bulk_pyreqwest(url, n, concurrency))
    if mode == "sync_bulk":
        return _bulk_sync_create_tasks(url, n, concurrency)
    return _bulk_sync(url, n)


def _max_rss_kib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else float(peak)  # macOS: bytes


def iterate(url: str, key: str, n: int, page: int) -> dict[str, Any]:
    """Peak RSS of this (fresh) process before and after ``iter_tasks`` over ``n`` tasks.

    One page is fetched first, so imports, the connection and the parsers are warm before
    the baseline is taken: what grows after that grows with the number of tasks.
    """
    import scaleapi

    with scaleapi.ScaleClient(key, base_url=url) as client:
        first = client.tasks(limit=page)
        assert first.total == n, (first.total, n)
        del first
        gc.collect()
        before = _max_rss_kib()
        count = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for task in client.iter_tasks(limit=page):
            count += 1
            assert task.id
        seconds = time.perf_counter() - wall
        cpu_seconds = time.process_time() - cpu
        after = _max_rss_kib()
    return {
        "n": n,
        "count": count,
        "page": page,
        "rss_before_kib": before,
        "rss_peak_kib": after,
        "rss_growth_kib": after - before,
        "seconds": seconds,
        "tasks_per_s": count / seconds,
        "client_cpu_us_per_task": cpu_seconds / max(count, 1) * 1e6,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._worker")
    sections = parser.add_subparsers(dest="section", required=True)
    one = sections.add_parser("per-call")
    one.add_argument("--url", required=True)
    one.add_argument("--task-id", required=True)
    one.add_argument("--rounds", type=int, required=True)
    one.add_argument("--calls", type=int, required=True)
    many = sections.add_parser("bulk")
    many.add_argument("--url", required=True)
    many.add_argument("--mode", choices=MODES, required=True)
    many.add_argument("--n", type=int, required=True)
    many.add_argument("--concurrency", type=int, default=1)
    many.add_argument("--profile", help="write cProfile stats of the measured run here")
    pages = sections.add_parser("iter")
    pages.add_argument("--url", required=True)
    pages.add_argument("--key", required=True, help="the account to page through")
    pages.add_argument("--n", type=int, required=True)
    pages.add_argument("--page", type=int, required=True)
    arguments = parser.parse_args(argv)
    result: Any
    if arguments.section == "per-call":
        result = per_call(arguments.url, arguments.task_id, arguments.rounds, arguments.calls)
    elif arguments.section == "bulk":
        result = bulk(
            arguments.url,
            arguments.mode,
            arguments.n,
            arguments.concurrency,
            arguments.profile,
        )
    else:
        result = iterate(arguments.url, arguments.key, arguments.n, arguments.page)
    print(dumps(result), flush=True)
    if arguments.section == "bulk" and arguments.mode == "pyreqwest":
        # pyreqwest's runtime threads can abort the interpreter while it finalizes
        # (seen once: "PyGILState_Release ... must be current"), after the result is out.
        os._exit(0)


if __name__ == "__main__":
    main()
