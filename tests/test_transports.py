"""The async client behaves the same over each transport (httpx, and aiohttp when the
extra is installed): the same failures make the same exceptions, the same size cap,
redirects not followed, proxies honoured, the key never logged.

Each test runs once per transport, against small servers bound to 127.0.0.1 that answer
what no honest server would (nothing, garbage, a cut-off body, too much).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import importlib.util
import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hostile_server import Connection, Handler, HostileServer, Request

import scaleapi
from scaleapi._constants import ASYNC_TRANSPORT_ENV, DEFAULT_LIMITS
from scaleapi._drivers import fast_async_driver
from scaleapi._transport import MAX_RESPONSE_BYTES

KEY = "live_tr4nsp0rt_s3cr3t_0123456789"
PARAMS: dict[str, Any] = {
    "attachment_type": "text",
    "attachment": "ACME Corp",
    "categories": ["public", "private"],
}
TASK: dict[str, Any] = {
    "task_id": "5774cc78b01249ab09f089dd",
    "type": "categorization",
    "status": "pending",
    "created_at": "2016-06-30T07:38:32.368Z",
    "params": PARAMS,
}
HAS_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
TRANSPORTS = [
    "httpx",
    pytest.param(
        "aiohttp",
        marks=pytest.mark.skipif(not HAS_AIOHTTP, reason="the aiohttp extra is not installed"),
    ),
]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, name)
    return name


def hang_up(conn: Connection, data: bytes = b"") -> None:
    """Send ``data`` (if any) and end the connection: no more answers on it."""
    conn.send(data)
    conn.sock.shutdown(socket.SHUT_RDWR)


def answer_task(request: Request, conn: Connection) -> None:
    conn.answer(200, TASK)


def run(
    url: str, body: Callable[[scaleapi.AsyncScaleClient], Awaitable[Any]], **options: Any
) -> Any:
    options.setdefault("max_retries", 0)

    async def main() -> Any:
        async with scaleapi.AsyncScaleClient(KEY, base_url=url, **options) as client:
            return await body(client)

    return asyncio.run(main())


def create(client: scaleapi.AsyncScaleClient) -> Awaitable[Any]:
    return client.create_categorization_task(**PARAMS)


def fetch(client: scaleapi.AsyncScaleClient) -> Awaitable[Any]:
    return client.fetch_task(str(TASK["task_id"]))


def test_the_transport_is_the_one_asked_for(transport: str) -> None:
    async def main() -> str:
        async with scaleapi.AsyncScaleClient(KEY, base_url="http://127.0.0.1:9/v1") as c:
            driver = c._driver  # pyright: ignore[reportPrivateUsage]
            return "httpx" if driver is None else type(driver).__name__

    assert asyncio.run(main()) == ("httpx" if transport == "httpx" else "AiohttpDriver")


def test_an_answer_is_parsed_and_the_request_is_what_httpx_sends(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    server = serve(answer_task)
    task = run(server.url, create)
    assert task.id == TASK["task_id"] and task.status == "pending"
    sent = server.requests[0]
    assert (sent.method, sent.target) == ("POST", "/v1/task/categorization")
    headers, body = sent.headers, sent.body
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    assert headers["authorization"] == f"Basic {token}"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("scaleapi/")
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert json.loads(body) == PARAMS


def test_a_gzip_answer_is_decoded(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    def handler(request: Request, conn: Connection) -> None:
        conn.answer(200, gzip.compress(json.dumps(TASK).encode()), {"content-encoding": "gzip"})

    assert run(serve(handler).url, fetch).id == TASK["task_id"]


def test_a_refused_connection_is_not_sent_and_is_retried(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(scaleapi.ScaleConnectionError, match="could not connect") as caught:
        run(url, create, max_retries=1, initial_retry_delay=0)
    assert "ConnectError" in str(caught.value)
    assert "retry 1 of 1" in caplog.text  # not sent: safe to retry, even a create
    assert KEY not in caplog.text and KEY not in repr(caught.value)


def test_no_answer_in_time_is_a_timeout(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    release = threading.Event()

    def handler(request: Request, conn: Connection) -> None:
        release.wait(5)

    server = serve(handler)
    with pytest.raises(scaleapi.ScaleTimeoutError, match="no answer in time"):
        run(server.url, fetch, timeout=0.2)
    with pytest.raises(scaleapi.ScaleOutcomeUnknown, match="may or may not"):
        run(server.url, create, timeout=0.2)
    release.set()


@pytest.mark.parametrize(
    "answer",
    [b"", b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"task_id"', b"\x00garbage\r\n\r\n"],
    ids=["closed", "cut-short", "garbage"],
)
def test_a_dropped_answer_is_dropped(
    transport: str, serve: Callable[[Handler], HostileServer], answer: bytes
) -> None:
    def handler(request: Request, conn: Connection) -> None:
        hang_up(conn, answer)

    server = serve(handler)
    with pytest.raises(scaleapi.ScaleConnectionError, match="dropped"):
        run(server.url, fetch)
    with pytest.raises(scaleapi.ScaleOutcomeUnknown, match="dropped after the request was sent"):
        run(server.url, create)


def test_an_answer_announced_over_the_cap_is_refused_unread(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    def handler(request: Request, conn: Connection) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_RESPONSE_BYTES + 1}\r\n\r\n"
        hang_up(conn, head.encode() + b"{" * 1024)

    with pytest.raises(scaleapi.ScaleBadResponse, match="byte limit"):
        run(serve(handler).url, fetch)


def test_a_redirect_is_not_followed(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    def handler(request: Request, conn: Connection) -> None:
        conn.answer(302, b"", {"location": "http://127.0.0.1:9/elsewhere"})

    server = serve(handler)
    with pytest.raises(scaleapi.ScaleException) as caught:
        run(server.url, fetch)
    assert caught.value.code == 302 and len(server.requests) == 1


def test_an_http_proxy_is_used(transport: str, serve: Callable[[Handler], HostileServer]) -> None:
    server = serve(answer_task)
    # The API's host does not exist: only the proxy can answer.
    task = run("http://scale.invalid/v1", create, proxy=f"http://127.0.0.1:{server.port}")
    assert task.id == TASK["task_id"]
    sent = [(r.method, r.target) for r in server.requests]
    assert sent == [("POST", "http://scale.invalid/v1/task/categorization")]


def test_a_socks_proxy_is_left_to_httpx_or_refused_when_aiohttp_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not HAS_AIOHTTP:
        pytest.skip("the aiohttp extra is not installed")
    proxy = "socks5://127.0.0.1:9"
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "auto")
    assert fast_async_driver(None, DEFAULT_LIMITS, proxy) is None  # httpx speaks SOCKS
    assert fast_async_driver(None, DEFAULT_LIMITS, "http://127.0.0.1:9") is not None
    monkeypatch.setenv("ALL_PROXY", proxy)
    assert fast_async_driver(None, DEFAULT_LIMITS, None) is None
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "aiohttp")
    with pytest.raises(scaleapi.ScaleException, match="SOCKS proxy"):
        fast_async_driver(None, DEFAULT_LIMITS, proxy)


def test_a_wrong_transport_name_or_a_missing_aiohttp_is_said_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "curl")
    with pytest.raises(scaleapi.ScaleException, match="SCALE_ASYNC_TRANSPORT='curl'"):
        scaleapi.AsyncScaleClient(KEY)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name)
    )
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "aiohttp")
    with pytest.raises(scaleapi.ScaleException, match=r"pip install 'scaleapi-typed\[aiohttp\]'"):
        scaleapi.AsyncScaleClient(KEY)
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "auto")
    client = scaleapi.AsyncScaleClient(KEY)
    assert client._driver is None  # pyright: ignore[reportPrivateUsage]


def test_a_passed_http_client_is_what_sends(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    server = serve(answer_task)
    sent: list[httpx.Request] = []

    async def main() -> None:
        async def hook(request: httpx.Request) -> None:
            sent.append(request)

        http = httpx.AsyncClient(event_hooks={"request": [hook]})
        async with http, scaleapi.AsyncScaleClient(KEY, base_url=server.url, http_client=http) as c:
            await create(c)

    asyncio.run(main())
    assert len(sent) == 1


def test_the_client_works_across_event_loops(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    server = serve(answer_task)
    client = scaleapi.AsyncScaleClient(KEY, base_url=server.url, max_retries=0)
    assert asyncio.run(fetch(client)).id == TASK["task_id"]
    assert asyncio.run(fetch(client)).id == TASK["task_id"]  # a new loop: new connections

    async def close() -> None:
        await client.aclose()

    asyncio.run(close())


def test_nothing_logs_the_key(
    transport: str, serve: Callable[[Handler], HostileServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: Request, conn: Connection) -> None:
        conn.answer(500, {"error": "boom"})

    server = serve(handler)
    with pytest.raises(scaleapi.ScaleInternalError) as caught:
        run(server.url, create, max_retries=1, initial_retry_delay=0)
    assert caplog.records  # the retry was logged
    assert KEY not in caplog.text
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)


def test_import_scaleapi_loads_neither_aiohttp_nor_asyncio() -> None:
    code = "import sys, scaleapi; print(sorted({'aiohttp', 'asyncio'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_bulk_create_opens_a_connection_for_each_create_in_flight(
    transport: str, serve: Callable[[Handler], HostileServer]
) -> None:
    lock = threading.Lock()
    open_now = [0, 0]  # requests being answered now, the most at once

    def handler(request: Request, conn: Connection) -> None:
        with lock:
            open_now[0] += 1
            open_now[1] = max(open_now[1], open_now[0])
        threading.Event().wait(0.05)
        with lock:
            open_now[0] -= 1
        conn.answer(200, TASK)

    server = serve(handler)
    limits = httpx.Limits(max_connections=4)

    async def main() -> list[Any]:
        async with scaleapi.AsyncScaleClient(KEY, base_url=server.url, limits=limits) as c:
            return [
                r async for r in c.create_tasks("categorization", [PARAMS] * 48, concurrency=16)
            ]

    results = asyncio.run(main())
    assert [r.status for r in results] == ["created"] * 48
    if transport == "aiohttp":
        assert open_now[1] > 4  # the pool grew to the concurrency asked for
    else:
        assert open_now[1] <= 4  # httpx keeps the client's pool as it is


@pytest.mark.skipif(not HAS_AIOHTTP, reason="the aiohttp extra is not installed")
def test_every_kind_of_request_is_the_same_on_the_wire_over_both_transports(
    serve: Callable[[Handler], HostileServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The aiohttp driver builds its own requests (no ``httpx.Request``): a JSON body, a
    query, a path to encode, a body-less POST and per-call headers must reach the server
    as httpx would send them."""
    server = serve(answer_task)

    async def calls(client: scaleapi.AsyncScaleClient) -> None:
        await create(client)
        await client.get_task("5774 cc/78", extra_headers={"X-Trace": "t-1"})
        await client.cancel_task(str(TASK["task_id"]))
        with contextlib.suppress(scaleapi.ScaleException):  # one task is not a page
            await client.list_tasks(project="kitten pics", status="pending", tags=["a", "b"])

    def wire(transport: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        monkeypatch.setenv(ASYNC_TRANSPORT_ENV, transport)
        server.requests.clear()
        run(server.url, calls)
        found = [(r.method, r.target, r.headers, r.body) for r in server.requests]
        for _, _, headers, _ in found:
            for computed in ("accept", "accept-encoding", "connection"):  # each client's own
                headers.pop(computed, None)
        return found

    over_httpx, over_aiohttp = wire("httpx"), wire("aiohttp")
    assert len(over_httpx) == 4
    assert over_aiohttp == over_httpx
    assert over_httpx[1][:2] == ("GET", "/v1/task/5774%20cc%2F78")
    assert over_httpx[1][2]["x-trace"] == "t-1"
    assert "project=kitten+pics" in over_httpx[3][1] or "project=kitten%20pics" in over_httpx[3][1]


@pytest.mark.skipif(not HAS_AIOHTTP, reason="the aiohttp extra is not installed")
def test_a_raw_response_over_aiohttp_is_the_answer_as_httpx_would_give_it(
    serve: Callable[[Handler], HostileServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: Request, conn: Connection) -> None:
        packed = gzip.compress(json.dumps(TASK).encode())
        conn.answer(200, packed, {"content-encoding": "gzip", "x-request-id": "req-7", "x-a": "1"})

    server = serve(handler)
    monkeypatch.setenv(ASYNC_TRANSPORT_ENV, "aiohttp")
    raw = run(server.url, lambda c: c.with_raw_response.fetch_task(str(TASK["task_id"])))
    assert raw.status_code == 200 and raw.request_id == "req-7"
    assert raw.parsed.id == TASK["task_id"]
    assert raw.headers["x-a"] == "1" and "content-encoding" not in raw.headers
    assert raw.http_response.json() == TASK
    assert raw.http_response.reason_phrase == "X"  # the hostile server's


@pytest.mark.parametrize(
    "headers", [{"X-Trace": "a\r\nX-Injected: 1"}, {"X Trace": "a"}, {"X-Trace": "a\x00"}]
)
def test_a_header_http_cannot_carry_is_refused_before_anything_is_sent(
    transport: str, serve: Callable[[Handler], HostileServer], headers: dict[str, str]
) -> None:
    server = serve(answer_task)

    async def calls(client: scaleapi.AsyncScaleClient) -> None:
        with pytest.raises(scaleapi.ScaleInvalidRequest, match="header"):
            await client.get_task("t", extra_headers=headers)
        with pytest.raises(scaleapi.ScaleInvalidRequest, match="header"):  # not "may or may not"
            await client.create_categorization_task(**PARAMS, extra_headers=headers)

    run(server.url, calls)
    assert server.requests == []
