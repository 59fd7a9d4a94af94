"""400, 401, 404, 405 and 409 answers, and which key sees which task."""

from __future__ import annotations

import base64
import json
import select
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_helpers import PAYLOADS, basic, make_client

from scaleapi.sandbox import Sandbox

Conforms = Callable[[str, Any], None]


def assert_error(answer: httpx.Response, status: int, conforms: Conforms, text: str = "") -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    conforms("Error", body)
    assert body["status_code"] == status
    assert text in body["error"], body["error"]
    return str(body["error"])


def _without(payload: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key != name}


INVALID_BODIES = [
    (
        "categorization",
        _without(PAYLOADS["categorization"], "attachment"),
        "Missing parameter: attachment",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "categories": []},
        "Invalid parameter categories: must contain at least 1 items",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "categories": "public"},
        "Invalid parameter categories: must be array",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "allow_multiple": "yes"},
        "Invalid parameter allow_multiple: must be boolean",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "urgency": "soon"},
        "Invalid parameter urgency: must be one of",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "force": "yes"},
        "Invalid parameter force: must be boolean",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "attachment_type": "hologram"},
        "Invalid parameter attachment_type",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "metadata": []},
        "Invalid parameter metadata: must be object",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "unique_id": ""},
        "Invalid parameter unique_id",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "callback_url": "not a url"},
        "Invalid parameter callback_url",
    ),
    (
        "categorization",
        {**PAYLOADS["categorization"], "category_ids": {"public": 1}},
        "Invalid parameter category_ids.public: must be string",
    ),
    ("transcription", _without(PAYLOADS["transcription"], "fields"), "Missing parameter: fields"),
    ("transcription", {**PAYLOADS["transcription"], "fields": {}}, "Invalid parameter fields"),
    (
        "transcription",
        {**PAYLOADS["transcription"], "fields": {"a": 1}},
        "Invalid parameter fields.a: must be string",
    ),
    (
        "comparison",
        {**PAYLOADS["comparison"], "attachments": ["only one"]},
        "Invalid parameter attachments: must contain at least 2 items",
    ),
    (
        "annotation",
        {**PAYLOADS["annotation"], "attachment_type": "video"},
        "Invalid parameter attachment_type: must be one of ['image']",
    ),
    ("annotation", {**PAYLOADS["annotation"], "min_width": -1}, "Invalid parameter min_width"),
    (
        "annotation",
        {**PAYLOADS["annotation"], "examples": [{"image": "x"}]},
        "Missing parameter: examples[0].correct",
    ),
    (
        "annotation",
        {**PAYLOADS["annotation"], "examples": [{"correct": True, "image": "x", "why": "?"}]},
        "Unknown parameter: examples[0].why",
    ),
    (
        "datacollection",
        {**PAYLOADS["datacollection"], "fields": "hiring_page"},
        "Invalid parameter fields: must be object",
    ),
    (
        "audiotranscription",
        {**PAYLOADS["audiotranscription"], "attachment_type": "image"},
        "Invalid parameter attachment_type",
    ),
    (
        "audiotranscription",
        {**PAYLOADS["audiotranscription"], "attachment": 7},
        "Invalid parameter attachment: must be string",
    ),
]


@pytest.mark.parametrize(("task_type", "body", "message"), INVALID_BODIES)
def test_invalid_create_names_the_field(
    client: httpx.Client, conforms: Conforms, task_type: str, body: Any, message: str
) -> None:
    assert_error(client.post(f"/task/{task_type}", json=body), 400, conforms, message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b'{"attachment": NaN}', "not valid JSON"),
        (b'{"min_width": 1e999}', "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
    ],
)
def test_bodies_that_are_not_json_objects(
    client: httpx.Client, conforms: Conforms, content: bytes, message: str
) -> None:
    answer = client.post(
        "/task/annotation", content=content, headers={"content-type": "application/json"}
    )
    assert_error(answer, 400, conforms, message)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("bogus=1", "Unknown parameter: bogus"),
        ("limit=0", "Invalid parameter limit: must be bigger than or equal to 1"),
        ("limit=101", "Invalid parameter limit: must be smaller than or equal to 100"),
        ("limit=ten", "Invalid parameter limit: must be integer"),
        ("offset=-1", "Invalid parameter offset"),
        ("status=done", "Invalid parameter status: must be one of"),
        ("type=segmentation", "Invalid parameter type: must be one of"),
        ("start_time=yesterday", "Invalid parameter start_time: must be date-time"),
        ("end_time=2020-13-01T00:00:00Z", "Invalid parameter end_time: must be date-time"),
        ("limit=5&limit=6", "Invalid parameter limit: given more than once"),
        ("next_token=bm9wZQ", "Invalid parameter next_token"),
        ("next_token=***", "Invalid parameter next_token"),
    ],
)
def test_invalid_list_queries(
    client: httpx.Client, conforms: Conforms, query: str, message: str
) -> None:
    assert_error(client.get(f"/tasks?{query}"), 400, conforms, message)


def test_unknown_query_parameter_on_create(client: httpx.Client, conforms: Conforms) -> None:
    answer = client.post("/task/datacollection?bogus=1", json=PAYLOADS["datacollection"])
    assert_error(answer, 400, conforms, "Unknown parameter: bogus")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer test_abc",
        "Basic",
        "Basic !!!not-base64!!!",
        basic("abc_123"),
        basic("test_"),
        basic("TEST_abc"),
        "Basic " + "dGVzdF9hYmM=",  # "test_abc" with no colon
    ],
)
def test_missing_or_bad_keys_get_401(
    scale_sandbox_url: str, conforms: Conforms, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    with make_client(scale_sandbox_url, None) as anonymous:
        for answer in (
            anonymous.post(
                "/task/categorization", json=PAYLOADS["categorization"], headers=headers
            ),
            anonymous.get("/task/5774cc78b01249ab09f089dd", headers=headers),
            anonymous.post("/task/5774cc78b01249ab09f089dd/cancel", json={}, headers=headers),
            anonymous.get("/tasks", headers=headers),
        ):
            assert_error(answer, 401, conforms, "API key")


def test_a_password_is_ignored(scale_sandbox_url: str, scale_test_key: str) -> None:
    with make_client(scale_sandbox_url, None) as c:
        answer = c.get("/tasks", headers={"authorization": basic(scale_test_key, "secret")})
    assert answer.status_code == 200


def test_unknown_task_is_404(client: httpx.Client, conforms: Conforms) -> None:
    for answer in (
        client.get("/task/5774cc78b01249ab09f089dd"),
        client.post("/task/5774cc78b01249ab09f089dd/cancel", json={}),
        client.get("/task/not-a-task-id-at-all"),
    ):
        assert_error(answer, 404, conforms, "Task with that ID not found.")


def test_unknown_paths_are_404_with_an_error_body(client: httpx.Client, conforms: Conforms) -> None:
    assert_error(client.get("/nothing/here"), 404, conforms)
    assert_error(client.post("/task/segmentation/extra/bits", json={}), 404, conforms)


def test_other_methods_are_405_with_allow(client: httpx.Client, conforms: Conforms) -> None:
    task_id = client.post("/task/categorization", json=PAYLOADS["categorization"]).json()["task_id"]
    answer = client.get("/task/categorization")  # the create path, not a task id
    assert_error(answer, 405, conforms)
    assert answer.headers["allow"] == "POST"
    answer = client.delete(f"/task/{task_id}")
    assert_error(answer, 405, conforms)
    assert answer.headers["allow"] == "GET"
    answer = client.post(f"/task/{task_id}")  # a POST there names a task type
    assert_error(answer, 400, conforms, f"Unknown task type: {task_id}")
    assert client.get(f"/task/{task_id}/cancel").headers["allow"] == "POST"


def test_each_key_sees_only_its_own_tasks(
    scale_sandbox_url: str, conforms: Conforms, scale_test_key: str
) -> None:
    with (
        make_client(scale_sandbox_url, scale_test_key) as mine,
        make_client(scale_sandbox_url, scale_test_key + "-other") as theirs,
        make_client(scale_sandbox_url, "live" + scale_test_key[4:]) as live_twin,
    ):
        task_id = mine.post("/task/categorization", json=PAYLOADS["categorization"]).json()[
            "task_id"
        ]
        assert mine.get(f"/task/{task_id}").status_code == 200
        for other in (theirs, live_twin):
            assert_error(other.get(f"/task/{task_id}"), 404, conforms)
            assert_error(other.post(f"/task/{task_id}/cancel", json={}), 404, conforms)
            assert other.get("/tasks").json()["total"] == 0
        assert mine.get("/tasks").json()["total"] == 1


def test_unique_id_is_unique_per_key(
    scale_sandbox_url: str, conforms: Conforms, scale_test_key: str
) -> None:
    request = {**PAYLOADS["datacollection"], "unique_id": "order-17"}
    with (
        make_client(scale_sandbox_url, scale_test_key) as mine,
        make_client(scale_sandbox_url, scale_test_key + "-other") as theirs,
    ):
        first = mine.post("/task/datacollection", json=request)
        assert first.status_code == 200
        assert first.json()["unique_id"] == "order-17"
        message = assert_error(mine.post("/task/datacollection", json=request), 409, conforms)
        assert "order-17" in message
        # Also across types: unique_id is unique per account.
        other_type = {**PAYLOADS["categorization"], "unique_id": "order-17"}
        assert_error(mine.post("/task/categorization", json=other_type), 409, conforms)
        assert theirs.post("/task/datacollection", json=request).status_code == 200
        page = mine.get("/tasks", params={"unique_id": "order-17"}).json()
        assert page["total"] == 1
        assert page["docs"][0]["task_id"] == first.json()["task_id"]


def test_unique_ids_with_unusual_characters(client: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    for unique_id in ("a\u0000b", "\ud800", "é ✓ 🙂", "x" * 256):
        # json.dumps escapes a lone surrogate, which httpx's json= cannot encode.
        body = json.dumps({**PAYLOADS["datacollection"], "unique_id": unique_id})
        first = client.post("/task/datacollection", content=body, headers=headers)
        assert first.status_code == 200
        assert first.json()["unique_id"] == unique_id
        again = client.post("/task/datacollection", content=body, headers=headers)
        assert again.status_code == 409


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        _token(b"c1.1.9999999999999999999.0"),  # a seq beyond SQLite's integers
        _token(b"c1.9999999999999999.9223372036854775808.9999999999"),
        _token(b"c1.1.1.1.1"),
        _token(b"c1.-1.1.1"),
        _token(b"99999999999"),  # an offset of 11 digits
        _token("c1.\u0661.1.1".encode()),  # digits, but not ASCII ones
        _token(b"\xff\xfe"),
        "",
        "=",
        "A" * 5000,
        "%00",
    ],
)
def test_every_bad_cursor_is_a_400(client: httpx.Client, conforms: Conforms, token: str) -> None:
    answer = client.get("/tasks", params={"next_token": token})
    assert_error(answer, 400, conforms, "Invalid parameter next_token")


@given(token=st.text(max_size=80) | st.binary(max_size=60).map(_token))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_cursor_is_a_page_or_a_400(client: httpx.Client, token: str) -> None:
    answer = client.get("/tasks", params={"next_token": token})
    assert answer.status_code in (200, 400), (token, answer.text)
    assert answer.headers["content-type"] == "application/json"
    assert ("docs" in answer.json()) is (answer.status_code == 200)


def _post_huge(url: str, *, sized: bool, key: str, total: int = 50 * 1024 * 1024) -> bytes:
    """POST `total` bytes over a raw socket, reading the answer as soon as it comes (a
    server may answer before the body is sent, then stop reading it); the raw answer."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    head = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.hostname}:{parts.port}",
        "Content-Type: application/json",
        f"Authorization: {basic(key)}",
        f"Content-Length: {total}" if sized else "Transfer-Encoding: chunked",
    ]
    piece = b" " * (1024 * 1024)
    chunk = piece if sized else b"%x\r\n%s\r\n" % (len(piece), piece)
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        pending = memoryview(chunk * (total // len(piece)) + (b"" if sized else b"0\r\n\r\n"))
        sock.setblocking(False)
        while pending:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable or not writable:
                break
            try:
                pending = pending[sock.send(pending[: 1 << 20]) :]
            except BlockingIOError:
                continue
            except OSError:  # it answered and hung up between select() and send()
                break
        sock.setblocking(True)
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 62


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/task/categorization", "/task/x/cancel", "admin"])
def test_a_50_mb_body_is_a_json_413(
    scale_sandbox: Any, scale_test_key: str, conforms: Conforms, sized: bool, path: str
) -> None:
    url = scale_sandbox.admin_url + "/config" if path == "admin" else scale_sandbox.base_url + path
    raw = _post_huge(url, sized=sized, key=scale_test_key)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)
    conforms("Error", error)
    assert error["status_code"] == 413
    assert "larger than" in error["error"]


def test_a_client_gone_before_its_body_was_read_is_no_server_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A client that hangs up while the sandbox waits (--latency-ms) leaves nothing to
    answer: no "Exception in ASGI application" in the server's log."""
    with Sandbox(latency_ms=200) as sandbox:
        port = urlsplit(sandbox.base_url).port
        body = b'{"attachment_type": "text", "attachment": "x", "categories": ["a", "b"]}'
        head = (
            "POST /v1/task/categorization HTTP/1.1\r\nHost: x\r\n"
            "Authorization: Basic bGl2ZV94Og==\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head.encode() + body)
        time.sleep(0.5)  # the sandbox wakes, finds the client gone
        alive = httpx.get(f"{sandbox.base_url}/tasks", auth=("live_x", ""), trust_env=False)
        assert alive.status_code == 200  # and the sandbox serves on
    logged = capfd.readouterr().err
    assert "Exception in ASGI application" not in logged, logged
