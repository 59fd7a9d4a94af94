"""Every README call, sent by the SDK to Prism: Prism checks each request against the spec
(any ``sl-violations`` fails the test), and the test checks the exact method, path,
Basic auth and JSON body of each request against the contract."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import scaleapi

KEY = "test_x"
BASIC = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(
    prism_base_url: str,
    recorder: Recorder,
    prism_violation_hook: Callable[[httpx.Response], None],
) -> Iterator[scaleapi.ScaleClient]:
    http = httpx.Client(event_hooks={"request": [recorder], "response": [prism_violation_hook]})
    with http, scaleapi.ScaleClient(KEY, base_url=prism_base_url, http_client=http) as c:
        yield c


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def check_request(request: httpx.Request, method: str, path: str) -> None:
    assert request.method == method
    assert request.url.path == path
    assert request.headers["authorization"] == BASIC
    assert request.headers["user-agent"].startswith(f"scaleapi/{scaleapi.__version__} Python/")
    if method == "POST":
        assert request.headers["content-type"] == "application/json"


README_CREATES: list[tuple[str, dict[str, Any]]] = [
    (
        "categorization",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Is this company public or private?",
            "attachment_type": "website",
            "attachment": "http://www.google.com/",
            "categories": ["public", "private"],
        },
    ),
    (
        "transcription",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Transcribe the given fields.",
            "attachment_type": "website",
            "attachment": "http://news.ycombinator.com/",
            "fields": {"title": "Title of Webpage", "top_result": "Title of the top result"},
            "row_fields": {"username": "Username of submitter", "comment_count": "Comments"},
        },
    ),
    (
        "comparison",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Do the objects in these images have the same pattern?",
            "attachment_type": "image",
            "attachments": ["http://i.ebayimg.com/a.JPG", "http://images.wisegeek.com/b.jpg"],
            "choices": ["yes", "no"],
        },
    ),
    (
        "annotation",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Draw a box around each **baby cow** and **big cow**.",
            "attachment_type": "image",
            "attachment": "http://i.imgur.com/v4cBreD.jpg",
            "objects_to_annotate": ["baby cow", "big cow"],
            "with_labels": True,
            "min_width": 30,
            "min_height": 30,
            "examples": [
                {"correct": True, "image": "http://i.imgur.com/lj6e98s.jpg", "explanation": "x"}
            ],
        },
    ),
    (
        "datacollection",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Find the URL for the hiring page for the company.",
            "attachment_type": "website",
            "attachment": "http://www.scaleapi.com/",
            "fields": {"hiring_page": "Hiring Page URL"},
        },
    ),
    (
        "audiotranscription",
        {
            "callback_url": "http://www.example.com/callback",
            "instruction": "Transcribe the audio file.",
            "attachment_type": "audio",
            "attachment": "https://example.com/speaker-3.wav",
            "verbatim": False,
        },
    ),
]


@pytest.mark.parametrize(
    ("task_type", "params"), README_CREATES, ids=[t for t, _ in README_CREATES]
)
def test_each_create_sends_exactly_the_callers_fields(
    client: scaleapi.ScaleClient, recorder: Recorder, task_type: str, params: dict[str, Any]
) -> None:
    method = getattr(client, f"create_{task_type}_task")
    task = method(**params)
    check_request(recorder.last, "POST", f"/task/{task_type}")
    # Only what the caller passed, as passed: no defaults, no nulls.
    assert body(recorder.last) == params
    assert isinstance(task, scaleapi.Task)
    assert task.type == task_type
    assert task.status == "pending"


def test_create_task_by_name_and_legacy_fields(
    client: scaleapi.ScaleClient, recorder: Recorder
) -> None:
    params = dict(README_CREATES[0][1])
    task = client.create_task("categorization", **params)
    check_request(recorder.last, "POST", "/task/categorization")
    assert body(recorder.last) == params
    assert task.attachment_type == "website"  # read through params, as the old SDK did


def test_fetch_cancel_and_list(client: scaleapi.ScaleClient, recorder: Recorder) -> None:
    task = client.fetch_task("5774cc78b01249ab09f089dd")
    check_request(recorder.last, "GET", "/task/5774cc78b01249ab09f089dd")
    assert recorder.last.content == b""
    assert task.id == task.task_id == "5774cc78b01249ab09f089dd"

    canceled = client.cancel_task(task.id)
    check_request(recorder.last, "POST", f"/task/{task.id}/cancel")
    assert body(recorder.last) == {}
    assert canceled.status == "canceled"

    tasks = client.tasks(
        start_time="2015-10-13T22:38:42Z",
        end_time="2016-10-13T22:38:42Z",
        type="categorization",
        limit=100,
        offset=200,
    )
    check_request(recorder.last, "GET", "/tasks")
    assert dict(recorder.last.url.params) == {
        "start_time": "2015-10-13T22:38:42Z",
        "end_time": "2016-10-13T22:38:42Z",
        "type": "categorization",
        "limit": "100",
        "offset": "200",
    }
    assert isinstance(tasks, scaleapi.Tasklist)
    assert (tasks.total, tasks.limit, tasks.offset, tasks.has_more) == (1000, 1, 200, True)
    assert tasks.next_token == "MjAx"
    assert all(isinstance(t, scaleapi.Task) for t in tasks)


def test_list_without_filters_sends_no_query(
    client: scaleapi.ScaleClient, recorder: Recorder
) -> None:
    client.tasks()
    assert recorder.last.url.query == b""


def test_missing_required_field_is_the_servers_400(prism_base_url: str, recorder: Recorder) -> None:
    # Prism flags the missing fields as violations (as it should); use a plain client.
    http = httpx.Client(event_hooks={"request": [recorder]})
    c = scaleapi.ScaleClient(KEY, base_url=prism_base_url, http_client=http)
    with http, c, pytest.raises(scaleapi.ValidationError) as caught:
        c.create_categorization_task(callback_url="http://www.example.com/callback")  # type: ignore[call-arg]
    assert caught.value.code == 400
    assert isinstance(caught.value, scaleapi.ScaleInvalidRequest)
    assert isinstance(caught.value, ValueError)
    assert body(recorder.last) == {"callback_url": "http://www.example.com/callback"}
