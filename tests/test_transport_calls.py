"""What a ``Call`` can send and what ``exchange_raw`` gives back, through a real server:
per-call headers, any JSON body or none, a multipart upload, and the raw answer with its
request id, status, headers and retry count."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hostile_server import Connection, HostileServer, Request

from scaleapi._config import make_settings
from scaleapi._retry import CallKind, RetryPolicy
from scaleapi._transport import Call, Raw, Settings, exchange, exchange_raw, run_async, run_sync

KEY = "live_c4lls_0123456789"


def echo(request: Request, conn: Connection) -> None:
    """Answer with what was received; the server's first request, if its path ends in
    /flaky, gets a 503 instead."""
    conn.notes.append(request.target)
    if request.target.endswith("/flaky") and len(conn.notes) == 1:
        conn.answer(503, {"error": "try again"}, {"x-request-id": "req-first"})
        return
    seen = {
        "method": request.method,
        "headers": request.headers,
        "body": request.body.decode("latin-1"),
    }
    conn.answer(200, seen, {"x-request-id": "req-42", "x-extra": "yes"})


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(echo) as s:
        yield s


def settings(url: str) -> Settings:
    return make_settings(KEY, url, 5.0, RetryPolicy(max_retries=2, initial_delay=0.01))


def call(**fields: Any) -> Call[Any]:
    fields.setdefault("method", "POST")
    fields.setdefault("path", "/echo")
    return Call("echo", parse=lambda data: data, **fields)


def send(url: str, c: Call[Any]) -> Raw[Any]:
    with httpx.Client() as http:
        return run_sync(http, exchange_raw(settings(url), c))


def test_raw_gives_the_parsed_value_with_status_headers_and_request_id(
    server: HostileServer,
) -> None:
    raw = send(server.url, call(path="/flaky", method="GET"))
    assert raw.parsed["method"] == "GET"
    assert raw.status_code == 200
    assert raw.request_id == "req-42"
    assert raw.headers["x-extra"] == "yes"
    assert raw.retries == 1  # the 503 was retried once
    assert raw.http_response.json() == raw.parsed  # its body already read
    assert "live_" not in repr(raw)


def test_exchange_still_returns_the_parsed_value(server: HostileServer) -> None:
    with httpx.Client() as http:
        parsed = run_sync(http, exchange(settings(server.url), call(body={"a": 1})))
    assert json.loads(parsed["body"]) == {"a": 1}


def test_per_call_headers_merge_over_the_clients(server: HostileServer) -> None:
    raw = send(server.url, call(headers={"X-Trace": "abc", "Accept": "application/x-test"}))
    seen = raw.parsed["headers"]
    assert seen["x-trace"] == "abc"
    assert seen["accept"] == "application/x-test"  # the call's wins
    assert seen["authorization"].startswith("Basic ")  # the key is still sent
    assert "abc" not in repr(call(headers={"Authorization": "abc"}))


@pytest.mark.parametrize("body", [["tag-a", "tag-b"], {"x": [1, 2]}, "text", 3, []])
def test_any_json_value_is_sent_as_the_body(server: HostileServer, body: Any) -> None:
    raw = send(server.url, call(body=body))
    assert json.loads(raw.parsed["body"]) == body
    assert raw.parsed["headers"]["content-type"] == "application/json"


def test_a_call_without_a_body_sends_none(server: HostileServer) -> None:
    raw = send(server.url, call(kind=CallKind.READ))
    assert raw.parsed["method"] == "POST"
    assert raw.parsed["body"] == ""
    assert "content-type" not in raw.parsed["headers"]


def test_a_multipart_upload_sends_the_file_and_the_fields(server: HostileServer) -> None:
    upload = call(
        path="/flaky",  # the retry sends the file again, whole
        files={"file": ("notes.txt", io.BytesIO(b"hello file"), "text/plain")},
        form={"project_name": "kittens"},
    )
    raw = send(server.url, upload)
    assert raw.retries == 1
    seen = raw.parsed
    assert seen["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="file"; filename="notes.txt"' in seen["body"]
    assert "hello file" in seen["body"]
    assert 'name="project_name"' in seen["body"] and "kittens" in seen["body"]


def test_the_async_driver_gives_the_same_raw_answer(server: HostileServer) -> None:
    async def main() -> Raw[Any]:
        async with httpx.AsyncClient() as http:
            return await run_async(http, exchange_raw(settings(server.url), call(body=[1])))

    raw = asyncio.run(main())
    assert raw.request_id == "req-42" and json.loads(raw.parsed["body"]) == [1]


def test_an_error_carries_the_request_id(server: HostileServer) -> None:
    from scaleapi import ScaleServiceUnavailable

    flaky = call(path="/flaky", method="GET")
    with httpx.Client() as http, pytest.raises(ScaleServiceUnavailable) as caught:
        no_retry = make_settings(KEY, server.url, 5.0, RetryPolicy(max_retries=0))
        run_sync(http, exchange_raw(no_retry, flaky))
    assert caught.value.request_id == "req-first"
