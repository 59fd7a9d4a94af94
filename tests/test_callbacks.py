"""`scaleapi.callbacks`: a real sandbox delivers real callbacks to a receiver built on
`http.server`, which checks them with `verify` and reads them with `parse_callback`."""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import scaleapi
from scaleapi import callbacks
from scaleapi.callbacks import Callback, CallbackParseError, CallbackVerificationError
from scaleapi.sandbox import Sandbox
from scaleapi.types import (
    AnnotationResponse,
    Box,
    CategorizationParams,
    CategorizationResponse,
)

KEY = "cb-key-7f3a9c"


class Receiver:
    """A callback endpoint on 127.0.0.1, as a user would write it with the stdlib."""

    def __init__(self, auth_key: str) -> None:
        self.accepted: queue.Queue[Callback] = queue.Queue()
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not callbacks.verify(self.headers, auth_key):
                    self.answer(401, b"not from Scale")
                    return
                try:
                    callback = callbacks.parse_callback(body)
                except CallbackParseError as exc:
                    self.answer(400, exc.message.encode())
                    return
                receiver.accepted.put(callback)
                self.answer(200, b"ok")

            def answer(self, status: int, text: bytes) -> None:
                receiver.answers.append(status)
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/scale-callback"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST as anyone could: no sandbox involved."""
        port = self.server.server_address[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("POST", "/scale-callback", body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def next(self, timeout: float = 10) -> Callback:
        return self.accepted.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(callback_auth_key=KEY, callback_attempts=2, callback_backoff=0.05) as box:
        yield box


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver(KEY)
    yield endpoint
    endpoint.close()


CATEGORIZATION: dict[str, Any] = {
    "instruction": "Is this company public or private?",
    "attachment_type": "website",
    "attachment": "https://example.com",
    "categories": ["public", "private"],
}


def test_a_test_key_task_calls_back_typed(
    sandbox: Sandbox, receiver: Receiver, scale_test_key: str
) -> None:
    with scaleapi.ScaleClient(scale_test_key, base_url=sandbox.base_url) as client:
        task = client.create_categorization_task(callback_url=receiver.url, **CATEGORIZATION)
        callback = receiver.next()
        assert callback.task_id == task.id
        assert isinstance(callback.task, scaleapi.Task)
        assert callback.task.id == task.id and callback.status == "completed"
        assert isinstance(callback.response, CategorizationResponse)
        assert callback.response is callback.task.response  # one object, not two
        assert callback.response.category in ("public", "private")
        assert isinstance(callback.task.params, CategorizationParams)
        assert callback.task.params.categories == ["public", "private"]
        assert callback.body["task_id"] == task.id
        assert client.fetch_task(task.id).response == callback.response
    (delivery,) = sandbox.callbacks(task.id)
    assert delivery["status"] == "delivered" and delivery["last_status_code"] == 200


def test_a_completed_live_task_calls_back_with_its_response(
    sandbox: Sandbox, receiver: Receiver, scale_live_key: str
) -> None:
    with scaleapi.ScaleClient(scale_live_key, base_url=sandbox.base_url) as client:
        task = client.create_annotation_task(
            callback_url=receiver.url,
            attachment_type="image",
            attachment="https://example.com/cows.jpg",
            objects_to_annotate=["baby cow", "big cow"],
            with_labels=True,
        )
        box = {"left": 1, "top": 2, "width": 30, "height": 40, "label": "big cow"}
        sandbox.complete_task(task.id, {"annotations": [box]})
        callback = receiver.next()
        assert callback.task_id == task.id
        assert isinstance(callback.response, AnnotationResponse)
        (found,) = callback.response.annotations
        assert isinstance(found, Box)
        assert (found.left, found.top, found.width, found.height) == (1, 2, 30, 40)
        assert found.label == "big cow"

        # With a client, the callback's task can update itself.
        again = callbacks.receive({"Scale-Callback-Auth": KEY}, callback.body, KEY, client=client)
        assert again.task.refresh().status == "completed"


def test_forged_callbacks_are_rejected(
    sandbox: Sandbox, receiver: Receiver, scale_test_key: str
) -> None:
    body = json.dumps({"task": {"task_id": "x"}, "response": {}, "task_id": "x"}).encode()
    assert receiver.post(body, {"scale-callback-auth": "guess"})[0] == 401
    assert receiver.post(body, {})[0] == 401
    assert receiver.post(body, {"scale-callback-auth": KEY + "x"})[0] == 401

    # A receiver that expects another key refuses the sandbox's real callbacks too.
    stranger = Receiver("some-other-key")
    try:
        with scaleapi.ScaleClient(scale_test_key, base_url=sandbox.base_url) as client:
            task = client.create_categorization_task(callback_url=stranger.url, **CATEGORIZATION)
        delivery: dict[str, Any] = {}
        for _ in range(200):
            (delivery,) = sandbox.callbacks(task.id)
            if delivery["status"] == "failed":
                break
            time.sleep(0.05)
        assert delivery["status"] == "failed" and delivery["last_status_code"] == 401
        assert stranger.accepted.empty() and set(stranger.answers) == {401}
    finally:
        stranger.close()
    assert receiver.accepted.empty()


def test_a_malformed_body_with_the_right_key_is_refused_with_a_reason(receiver: Receiver) -> None:
    status, text = receiver.post(b"{not json", {"scale-callback-auth": KEY})
    assert status == 400 and b"not JSON" in text
    status, text = receiver.post(
        b'{"task": {"type": "categorization"}}', {"scale-callback-auth": KEY}
    )
    assert status == 400 and b"task_id" in text
    assert receiver.accepted.empty()


TASK: dict[str, Any] = {
    "task_id": "5774cc78b01249ab09f089dd",
    "type": "categorization",
    "status": "completed",
    "created_at": "2024-05-01T12:00:00.000Z",
    "completed_at": "2024-05-01T12:01:00.000Z",
    "params": {
        "attachment_type": "website",
        "attachment": "https://example.com",
        "categories": ["public", "private"],
    },
}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "the body is empty"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'{"response": {}}', "no 'task' field"),
        (json.dumps({"task": "abc"}), "'task' is a JSON str"),
        (json.dumps({"task": {**TASK, "params": None}}), "'task' does not fit"),
        (json.dumps({"task": {k: v for k, v in TASK.items() if k != "task_id"}}), "task_id"),
        (json.dumps({"task": TASK, "task_id": 7}), "'task_id' is a JSON int"),
        (json.dumps({"task": TASK, "task_id": "other"}), "is not the id of its task"),
        (json.dumps({"task": TASK, "response": ["public"]}), "'response' is a JSON list"),
        (json.dumps({"task": TASK, "response": {"cat": 1}}), "missing field 'category'"),
    ],
)
def test_parse_callback_names_what_is_wrong(body: bytes | str, problem: str) -> None:
    with pytest.raises(CallbackParseError) as caught:
        callbacks.parse_callback(body)
    assert problem in caught.value.message
    assert isinstance(caught.value, scaleapi.ScaleBadResponse)
    assert caught.value.code == 400


def test_a_response_outside_the_task_is_parsed_with_the_types_model() -> None:
    body = {"task": TASK, "response": {"category": "public"}, "task_id": TASK["task_id"]}
    callback = callbacks.parse_callback(body)
    assert callback.task.response is None
    assert isinstance(callback.response, CategorizationResponse)
    assert callback.response.category == "public"
    assert callbacks.parse_callback(json.dumps(body)).response == callback.response


def test_verify_reads_headers_of_every_shape() -> None:
    from email.message import Message

    from starlette.datastructures import Headers

    message = Message()
    message["Scale-Callback-Auth"] = KEY
    good: list[Any] = [
        {"scale-callback-auth": KEY},
        {"SCALE-CALLBACK-AUTH": f" {KEY} "},
        message,
        [(b"scale-callback-auth", KEY.encode())],
        {"HTTP_SCALE_CALLBACK_AUTH": KEY, "REQUEST_METHOD": "POST"},  # a WSGI environ
        Headers(raw=[(b"scale-callback-auth", KEY.encode())]),
    ]
    for headers in good:
        assert callbacks.verify(headers, KEY), headers
        callbacks.verify_or_raise(headers, KEY)
    doubled = Headers(raw=[(b"scale-callback-auth", KEY.encode())] * 2)
    bad: list[Any] = [{}, {"scale-callback-auth": ""}, {"x": KEY}, doubled]
    for headers in bad:
        assert not callbacks.verify(headers, KEY)
        with pytest.raises(CallbackVerificationError) as caught:
            callbacks.verify_or_raise(headers, KEY)
        assert caught.value.code == 401 and KEY not in str(caught.value)
    with pytest.raises(ValueError, match="empty"):
        callbacks.verify({"scale-callback-auth": ""}, "")
