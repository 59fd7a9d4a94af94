"""What a hostile or broken server can make the client do, through real sockets: every
answer below ends in a result or a ScaleException, within the call's deadline and the
response-size cap, sync and async alike."""

from __future__ import annotations

import asyncio
import gzip
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hostile_server import TASK, Connection, Handler, Request, head_bytes

import scaleapi
from scaleapi._constants import MAX_RESPONSE_BYTES
from scaleapi._retry import retry_after

KEY = "live_h0stile_k3y_0123456789"
CAP = 1_000_000  # a small size cap keeps these tests quick


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(kind: str, url: str, use: Callable[[Any], Any], **options: Any) -> Any:
    """``use(client)`` with a client of this kind; a coroutine is awaited."""
    options.setdefault("max_retries", 0)
    if kind == "sync":
        with scaleapi.ScaleClient(KEY, base_url=url, **options) as client:
            return use(client)

    async def main() -> Any:
        async with scaleapi.AsyncScaleClient(KEY, base_url=url, **options) as client:
            result = use(client)
            if asyncio.iscoroutine(result):
                return await result
            items = []
            async for item in result:
                items.append(item)
            return items

    return asyncio.run(main())


def fetch(client: Any) -> Any:
    return client.fetch_task("abc")


def all_tasks(client: Any) -> Any:
    return (
        client.iter_tasks()
        if isinstance(client, scaleapi.AsyncScaleClient)
        else list(client.iter_tasks())
    )


# -- size: decoded bytes are counted as they arrive ----------------------------------
def endless_chunks(request: Request, conn: Connection) -> None:
    conn.send(head_bytes(200, {"transfer-encoding": "chunked"}))
    chunk = b"[" * 65536
    while not conn.stopping.is_set():
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def gzip_bomb(expanded: int, with_length: bool) -> Handler:
    body = gzip.compress(b"\x20" * expanded, compresslevel=9)

    def handler(request: Request, conn: Connection) -> None:
        if with_length:
            conn.send(
                head_bytes(200, {"content-encoding": "gzip", "content-length": str(len(body))})
            )
            conn.send(body)
        else:
            conn.send(head_bytes(200, {"content-encoding": "gzip", "transfer-encoding": "chunked"}))
            for start in range(0, len(body), 4096):
                part = body[start : start + 4096]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")

    return handler


def test_an_endless_chunked_body_is_cut_at_the_cap(kind: str, serve: Any) -> None:
    server = serve(endless_chunks)
    with pytest.raises(scaleapi.ScaleBadResponse, match="over the 1000000 byte limit"):
        run(kind, server.url, fetch, max_response_bytes=CAP)


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_a_gzip_bomb_is_cut_at_the_cap_counting_decoded_bytes(
    kind: str, serve: Any, with_length: bool
) -> None:
    server = serve(gzip_bomb(50 * CAP, with_length))
    with pytest.raises(scaleapi.ScaleBadResponse, match="counted after decompression"):
        run(kind, server.url, fetch, max_response_bytes=CAP)


def test_the_default_cap_stops_a_bomb_bigger_than_it(serve: Any) -> None:
    server = serve(gzip_bomb(2 * MAX_RESPONSE_BYTES, with_length=True))
    with pytest.raises(scaleapi.ScaleBadResponse, match=f"over the {MAX_RESPONSE_BYTES} byte"):
        run("sync", server.url, fetch)


def test_a_compressed_task_under_the_cap_reads_as_usual(kind: str, serve: Any) -> None:
    body = gzip.compress(json.dumps(TASK).encode())

    def handler(request: Request, conn: Connection) -> None:
        conn.answer(200, body, {"content-encoding": "gzip"})

    task = run(kind, serve(handler).url, fetch, max_response_bytes=CAP)
    assert task.id == TASK["task_id"] and task.as_dict() == TASK


def test_a_huge_content_length_is_refused_before_reading(kind: str, serve: Any) -> None:
    def handler(request: Request, conn: Connection) -> None:
        conn.send(head_bytes(200, {"content-length": str(2 * 1024**3)}))
        conn.stopping.wait(60)  # a client that waited for the body would time out instead

    with pytest.raises(scaleapi.ScaleBadResponse, match="announces 2147483648 bytes"):
        run(kind, serve(handler).url, fetch, timeout=30)


# -- the deadline bounds the whole call ------------------------------------------------
def dripping_body(request: Request, conn: Connection) -> None:
    body = json.dumps(TASK).encode()  # ~300 bytes: 15 s at this pace
    conn.send(head_bytes(200, {"content-length": str(len(body))}))
    conn.drip(body, 0.05)


def dripping_head(request: Request, conn: Connection) -> None:
    body = json.dumps(TASK).encode()
    head = head_bytes(200, {"content-length": str(len(body)), "x-padding": "p" * 300})
    conn.drip(head, 0.05)
    conn.send(body)


@pytest.mark.parametrize("handler", [dripping_body, dripping_head], ids=["body", "headers"])
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(
    kind: str, serve: Any, handler: Handler
) -> None:
    server = serve(handler)
    with pytest.raises(scaleapi.ScaleTimeoutError, match="deadline") as caught:
        run(kind, server.url, fetch, timeout=5, deadline=0.5, max_retries=3)
    assert caught.value.code is None
    assert len(server.requests) == 1  # the deadline also ends the retries
    assert server.wait_for_note() == "client hung up"  # not waited out to its end


def test_a_create_cut_by_the_deadline_says_the_outcome_is_unknown(kind: str, serve: Any) -> None:
    def create(client: Any) -> Any:
        return client.create_categorization_task(
            attachment_type="text", attachment="x", categories=["a", "b"]
        )

    with pytest.raises(scaleapi.ScaleOutcomeUnknown, match="may or may not"):
        run(kind, serve(dripping_body).url, create, timeout=5, deadline=0.5)


def test_with_options_sets_the_deadline_of_one_call(kind: str, serve: Any) -> None:
    def short_drip(request: Request, conn: Connection) -> None:
        body = json.dumps(TASK).encode()
        conn.send(head_bytes(200, {"content-length": str(len(body))}) + body[:-10])
        conn.drip(body[-10:], 0.1)  # about one second in all

    def patient(client: Any) -> Any:
        return client.with_options(deadline=60).fetch_task("abc")

    url = serve(short_drip).url
    with pytest.raises(scaleapi.ScaleTimeoutError):
        run(kind, url, fetch, deadline=0.3)
    assert run(kind, url, patient, deadline=0.3).id == TASK["task_id"]


def test_a_retry_the_deadline_has_no_room_for_is_not_made(kind: str, serve: Any) -> None:
    def busy(request: Request, conn: Connection) -> None:
        conn.answer(503, {"error": "busy"}, {"retry-after": "2"})

    server = serve(busy)
    with pytest.raises(scaleapi.ScaleServiceUnavailable, match="deadline") as caught:
        run(kind, server.url, fetch, deadline=1, max_retries=5)
    assert caught.value.message.startswith("busy")
    assert len(server.requests) == 1


# -- Retry-After, whatever it says ------------------------------------------------------
RETRY_AFTERS = {
    # header value: is the call retried (else the 429 is raised at once)?
    "NaN": True,
    "nan": True,
    "-5": True,
    "garbage": True,
    "": True,
    "Wed, 99 Foo 2015 07:28:00 GMT": True,
    "9" * 400: True,  # too long to be a real wait: ignored, not a 10**400 s sleep
    "inf": False,  # longer than the 60 s cap: the error now, not a sleep
    "1e999": False,
    "0.01": True,
}


@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
@pytest.mark.parametrize("value", list(RETRY_AFTERS), ids=lambda v: v[:12] or "empty")
def test_any_retry_after_value_gives_a_retry_or_a_scale_exception(
    kind: str, serve: Any, header: str, value: str
) -> None:
    def limited_once(request: Request, conn: Connection) -> None:
        if len(server.requests) == 1:
            conn.answer(429, {"error": "slow down"}, {header: value})
        else:
            conn.answer(200)

    server = serve(limited_once)
    options = {"max_retries": 1, "initial_retry_delay": 0.01}
    if RETRY_AFTERS[value]:
        assert run(kind, server.url, fetch, **options).id == TASK["task_id"]
        assert len(server.requests) == 2
    else:
        with pytest.raises(scaleapi.ScaleTooManyRequests, match="slow down") as caught:
            run(kind, server.url, fetch, **options)
        assert caught.value.retry_after is None or math.isfinite(caught.value.retry_after)
        assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "nan"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "inf"}, math.inf),
        ({"retry-after-ms": "nan", "retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "Fri, 31 Dec 99999 23:59:59 GMT"}, None),
        ({"retry-after": "\x00\xff"}, None),
    ],
)
def test_retry_after_parsing_never_raises(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers, now=lambda: 0.0) == expected


# -- answers that are not what the API promises -----------------------------------------
@pytest.mark.parametrize("task_id", [123, None, [1], ""], ids=["int", "null", "list", "empty"])
def test_a_task_whose_id_is_not_a_string_is_a_bad_response(
    kind: str, serve: Any, task_id: Any
) -> None:
    server = serve(lambda request, conn: conn.answer(200, {**TASK, "task_id": task_id}))
    with pytest.raises(scaleapi.ScaleBadResponse, match="task_id must be a non-empty string"):
        run(kind, server.url, fetch)


def test_metadata_nested_900_deep_reads_and_copies(kind: str, serve: Any) -> None:
    depth = 900
    task = json.dumps({**TASK, "metadata": "@"})
    body = task.replace('"@"', '{"a": ' * depth + "1" + "}" * depth).encode()
    task_read = run(kind, serve(lambda request, conn: conn.answer(200, body)).url, fetch)
    copied = task_read.as_dict()["metadata"]
    for _ in range(depth):
        copied = copied["a"]
    assert copied == 1


@pytest.mark.parametrize("offset", ["0", None, -1, 1.5, True], ids=repr)
def test_a_page_with_an_offset_that_is_not_a_count_is_a_bad_response(
    kind: str, serve: Any, offset: Any
) -> None:
    page = {"docs": [TASK], "total": 2, "limit": 1, "offset": offset, "has_more": True}
    server = serve(lambda request, conn: conn.answer(200, page))
    with pytest.raises(scaleapi.ScaleBadResponse, match="offset must be a whole number"):
        run(kind, server.url, all_tasks)


def test_a_repeated_next_token_ends_the_walk(kind: str, serve: Any) -> None:
    page = {"docs": [TASK], "total": 9, "limit": 1, "offset": 0, "has_more": True}
    server = serve(lambda request, conn: conn.answer(200, {**page, "next_token": "same"}))
    with pytest.raises(scaleapi.ScaleBadResponse, match="next_token 'same' a second time"):
        run(kind, server.url, all_tasks)
    assert len(server.requests) == 2


def test_a_token_cycle_ends_the_walk(kind: str, serve: Any) -> None:
    page = {"docs": [TASK], "total": 9, "limit": 1, "offset": 0, "has_more": True}

    def cycle(request: Request, conn: Connection) -> None:
        conn.answer(200, {**page, "next_token": "ab"[len(server.requests) % 2]})

    server = serve(cycle)
    with pytest.raises(scaleapi.ScaleBadResponse, match="a second time"):
        run(kind, server.url, all_tasks)


def test_an_offset_that_does_not_move_ends_the_walk(kind: str, serve: Any) -> None:
    page = {"docs": [TASK], "total": 9, "limit": 1, "offset": 0, "has_more": True}
    server = serve(lambda request, conn: conn.answer(200, page))  # ignores ?offset=
    with pytest.raises(scaleapi.ScaleBadResponse, match="would not move forward"):
        run(kind, server.url, all_tasks)
    assert [r.target for r in server.requests] == ["/v1/tasks", "/v1/tasks?offset=1"]


def test_pages_that_advance_are_all_read(kind: str, serve: Any) -> None:
    def pages(request: Request, conn: Connection) -> None:
        n = len(server.requests)
        task = {**TASK, "task_id": f"t{n}"}
        token = {"next_token": f"tok{n}"} if n % 2 else {}
        more = n < 4
        conn.answer(
            200,
            {"docs": [task], "total": 4, "limit": 1, "offset": n - 1, "has_more": more, **token},
        )

    server = serve(pages)
    assert [t.id for t in run(kind, server.url, all_tasks)] == ["t1", "t2", "t3", "t4"]
