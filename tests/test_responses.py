"""How the client reads answers: status to exception, and bad bodies of every kind.

These need answers no honest server gives (HTML 502 pages, truncated JSON, bytes that are
not UTF-8), so they use httpx's in-process MockTransport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scaleapi

KEY = "live_s3cr3tkeyvalue0123456789"

TASK: dict[str, Any] = {
    "task_id": "5774cc78b01249ab09f089dd",
    "type": "categorization",
    "status": "completed",
    "created_at": "2016-06-30T07:38:32.368Z",
    "completed_at": "2016-06-30T07:40:12.001Z",
    "urgency": "day",
    "params": {
        "attachment_type": "website",
        "attachment": "http://www.google.com/",
        "categories": ["public", "private"],
        "shiny_new_param": 7,
    },
    "response": {"category": "public"},
    "metadata": {"order": 17},
    "brand_new_field": {"x": 1},
}


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> scaleapi.ScaleClient:
    options.setdefault("max_retries", 0)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return scaleapi.ScaleClient(KEY, base_url="http://scale.test/v1", http_client=http, **options)


def answer(status: int, content: bytes | str, content_type: str = "application/json") -> Any:
    raw = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(
        status, content=raw, headers={"content-type": content_type}
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, scaleapi.ScaleInvalidRequest),
        (401, scaleapi.ScaleUnauthorized),
        (402, scaleapi.ScaleNotEnabled),
        (404, scaleapi.ScaleResourceNotFound),
        (409, scaleapi.ScaleDuplicateResource),
        (429, scaleapi.ScaleTooManyRequests),
        (500, scaleapi.ScaleInternalError),
        (503, scaleapi.ScaleServiceUnavailable),
        (504, scaleapi.ScaleTimeoutError),
        (418, scaleapi.ScaleException),
    ],
)
def test_status_maps_to_its_exception_with_the_servers_message(
    status: int, cls: type[scaleapi.ScaleException]
) -> None:
    body = json.dumps({"status_code": status, "error": f"the server says {status}"})
    with client_for(answer(status, body)) as client, pytest.raises(cls) as caught:
        client.fetch_task("abc")
    assert type(caught.value) is cls
    assert caught.value.code == status
    assert caught.value.message == f"the server says {status}"
    assert f"HTTP {status}" in str(caught.value)


def test_validation_error_is_the_invalid_request_class() -> None:
    assert scaleapi.ValidationError is scaleapi.ScaleInvalidRequest
    assert issubclass(scaleapi.ScaleInvalidRequest, ValueError)


def test_html_error_page_gives_status_and_excerpt() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    with (
        client_for(answer(502, page, "text/html")) as client,
        pytest.raises(scaleapi.ScaleException) as caught,
    ):
        client.fetch_task("abc")
    assert caught.value.code == 502
    assert "502 Bad Gateway" in caught.value.message


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"task_id": "abc", "type": "categ',  # truncated
        b"\xff\xfe\x00 not utf-8",
        b"[1, 2, 3]",
        b'"just a string"',
        b'{"task_id": 5, "type": "categorization"}',
        b'{"type": "categorization", "status": "pending"}',
        json.dumps({**TASK, "created_at": "yesterday"}).encode(),
        json.dumps({**TASK, "params": "not an object"}).encode(),
        b"[" * 100_000 + b"]" * 100_000,  # deep nesting
    ],
    ids=[
        "empty",
        "truncated",
        "not-utf8",
        "list",
        "string",
        "wrong-types",
        "no-id",
        "bad-date",
        "bad-params",
        "deep",
    ],
)
def test_unreadable_200_is_a_bad_response(content: bytes) -> None:
    with (
        client_for(answer(200, content)) as client,
        pytest.raises(scaleapi.ScaleBadResponse) as caught,
    ):
        client.fetch_task("abc")
    assert caught.value.code == 200
    assert len(str(caught.value)) < 600


def test_oversized_answer_is_refused_unread() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(1 << 40)}, content=b"{}")

    with client_for(handler) as client, pytest.raises(scaleapi.ScaleBadResponse):
        client.fetch_task("abc")


def test_task_reads_typed_fields_and_keeps_unknown_ones() -> None:
    with client_for(answer(200, json.dumps(TASK))) as client:
        task = client.fetch_task("5774cc78b01249ab09f089dd")
    assert task.id == task.task_id == "5774cc78b01249ab09f089dd"
    assert (task.type, task.status) == ("categorization", "completed")
    assert task.created_at.year == 2016 and task.completed_at is not None
    assert task.metadata == {"order": 17}
    assert task.attachment_type == "website"  # from params
    assert task.urgency == "day"  # from the task
    assert task.brand_new_field == {"x": 1}  # unknown task field
    assert task.shiny_new_param == 7  # unknown params field
    assert task.as_dict() == TASK
    assert str(task) == "Task(id=5774cc78b01249ab09f089dd)"
    response = task.response
    assert response is not None and response.to_dict() == {"category": "public"}
    with pytest.raises(AttributeError, match="no_such_field"):
        _ = task.no_such_field
    with pytest.raises(AttributeError):
        task.status = "canceled"  # type: ignore[misc]


def test_tasks_compare_and_hash_by_id() -> None:
    with client_for(answer(200, json.dumps(TASK))) as client:
        a = client.fetch_task("5774cc78b01249ab09f089dd")
        b = client.fetch_task("5774cc78b01249ab09f089dd")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_task_id_is_escaped_into_the_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json=TASK)

    with client_for(handler) as client:
        client.fetch_task("../tasks?x=1")
    assert seen == ["/v1/task/..%2Ftasks%3Fx%3D1"]


bodies = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=20,
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {k: st.sampled_from([v, None, 1, "x", [], {}]) for k, v in TASK.items()}
    ).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(status=st.integers(min_value=100, max_value=599), content=bodies)
def test_any_answer_gives_a_task_or_a_scale_exception(status: int, content: bytes) -> None:
    if status in (101, 204, 304) or status < 200:
        status = 200
    with client_for(answer(status, content)) as client:
        for call in (
            lambda: client.fetch_task("abc"),
            lambda: client.tasks(),
            lambda: client.create_categorization_task(
                attachment_type="text", attachment="x", categories=["a"]
            ),
        ):
            try:
                result = call()
            except scaleapi.ScaleException:
                continue
            assert isinstance(result, scaleapi.Task | scaleapi.Tasklist)


def test_the_key_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def failing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    for handler in (failing, answer(401, '{"error": "bad key"}'), answer(200, b"<html>")):
        with client_for(handler, max_retries=1, initial_retry_delay=0.0) as client:
            texts.append(repr(client))
            try:
                client.fetch_task("abc")
            except scaleapi.ScaleException as exc:
                chain: BaseException | None = exc
                while chain is not None:
                    texts += [str(chain), repr(chain)]
                    chain = chain.__cause__ or chain.__context__
    try:
        scaleapi.ScaleClient(KEY + ":bad")
    except scaleapi.ScaleException as exc:
        texts.append(str(exc))
    texts.append(caplog.text)
    blob = "\n".join(texts)
    assert "connection refused" in blob and "bad key" in blob  # the texts were captured
    assert KEY not in blob
    assert "s3cr3t" not in blob
    assert "Basic " not in blob


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCALE_API_KEY", raising=False)
    with pytest.raises(scaleapi.ScaleException, match="SCALE_API_KEY"):
        scaleapi.ScaleClient()


def test_unknown_kwargs_and_filters_are_refused_before_sending() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/tasks"):
            page = {"docs": [TASK], "total": 1, "limit": 100, "offset": 0, "has_more": False}
            return httpx.Response(200, json=page)
        return httpx.Response(200, json=TASK)

    with client_for(handler) as client:
        with pytest.raises(scaleapi.ScaleInvalidRequest, match="'bogus'"):
            client.tasks(bogus=0)  # type: ignore[call-arg]
        with pytest.raises(scaleapi.ScaleInvalidRequest, match="'categoreis'"):
            client.create_categorization_task(  # type: ignore[call-arg]
                attachment_type="text", attachment="x", categoreis=["a"]
            )
        with pytest.raises(scaleapi.ScaleInvalidRequest, match="'hologram'"):
            client.create_task("hologram", attachment="x")  # type: ignore[arg-type]
        assert sent == []
        client.create_categorization_task(
            attachment_type="text", attachment="x", categories=["a"], extra_body={"priority": 3}
        )
        client.tasks(extra_query={"project": "p1"})
    assert json.loads(sent[0].content) == {
        "attachment_type": "text",
        "attachment": "x",
        "categories": ["a"],
        "priority": 3,
    }
    assert sent[1].url.params["project"] == "p1"


def test_a_task_of_a_type_this_sdk_does_not_know_is_still_a_task() -> None:
    body = json.dumps({**TASK, "type": "hologram", "params": {"depth": 3}}).encode()
    with client_for(answer(200, body)) as client:
        task = client.fetch_task("t1")
    assert task.type == "hologram"
    assert task.params == {"depth": 3}
    assert task.id == TASK["task_id"] and task.as_dict()["params"] == {"depth": 3}
