"""Callbacks: delivered to loopback receivers, signed, retried; never sent elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sandbox_helpers import PAYLOADS, Receiver, wait_until

from scaleapi.sandbox import Sandbox

Conforms = Callable[[str, Any], None]


def deliveries(admin: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.get("/callbacks", params={"task_id": task_id}).json()[
        "deliveries"
    ]
    return found


def test_completed_test_task_is_posted_with_the_auth_header(
    client: httpx.Client,
    admin: httpx.Client,
    receiver: Receiver,
    scale_sandbox: Sandbox,
    conforms: Conforms,
) -> None:
    request = {**PAYLOADS["categorization"], "callback_url": receiver.url}
    task_id = client.post("/task/categorization", json=request).json()["task_id"]
    (call,) = receiver.wait_for(1)
    assert call["path"] == "/callback"
    assert call["headers"]["scale-callback-auth"] == scale_sandbox.callback_auth_key
    assert call["headers"]["content-type"] == "application/json"
    body = call["json"]
    assert set(body) == {"task", "response", "task_id"}
    assert body["task_id"] == task_id
    conforms("Task", body["task"])
    assert body["task"]["status"] == "completed"
    assert body["response"] == body["task"]["response"]
    wait_until(lambda: client.get(f"/task/{task_id}").json()["callback_succeeded"] is True)
    (record,) = deliveries(admin, task_id)
    assert (record["status"], record["attempts"], record["url"]) == ("delivered", 1, receiver.url)
    assert record["last_status_code"] == 200
    assert record["payload"] == body


def test_failed_deliveries_are_retried(
    client: httpx.Client, admin: httpx.Client, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    request = {**PAYLOADS["datacollection"], "callback_url": receiver.url}
    task_id = client.post("/task/datacollection", json=request).json()["task_id"]
    calls = receiver.wait_for(3)
    assert [call["json"] for call in calls[1:]] == [calls[0]["json"]] * 2  # the same payload
    wait_until(lambda: deliveries(admin, task_id)[0]["status"] == "delivered")
    assert deliveries(admin, task_id)[0]["attempts"] == 3
    assert client.get(f"/task/{task_id}").json()["callback_succeeded"] is True


def test_a_delivery_that_keeps_failing_is_recorded(
    client: httpx.Client, admin: httpx.Client, receiver: Receiver
) -> None:
    receiver.always_fail = True
    request = {**PAYLOADS["datacollection"], "callback_url": receiver.url}
    task_id = client.post("/task/datacollection", json=request).json()["task_id"]
    wait_until(lambda: deliveries(admin, task_id)[0]["status"] == "failed")
    (record,) = deliveries(admin, task_id)
    assert record["attempts"] == 3  # callback_attempts of the session sandbox
    assert record["last_status_code"] == 500
    assert "500" in record["last_error"]
    assert len(receiver.calls) == 3
    assert client.get(f"/task/{task_id}").json()["callback_succeeded"] is False


def test_unreachable_receiver_is_recorded_as_failed(
    client: httpx.Client, admin: httpx.Client
) -> None:
    request = {**PAYLOADS["datacollection"], "callback_url": "http://127.0.0.1:9/nobody-listens"}
    task_id = client.post("/task/datacollection", json=request).json()["task_id"]
    wait_until(lambda: deliveries(admin, task_id)[0]["status"] == "failed")
    assert "ConnectError" in deliveries(admin, task_id)[0]["last_error"]


def test_localhost_is_a_loopback_host(
    client: httpx.Client, admin: httpx.Client, receiver: Receiver
) -> None:
    url = f"http://localhost:{receiver.port}/callback"
    request = {**PAYLOADS["datacollection"], "callback_url": url}
    task_id = client.post("/task/datacollection", json=request).json()["task_id"]
    receiver.wait_for(1)
    wait_until(lambda: deliveries(admin, task_id)[0]["status"] == "delivered")


@pytest.mark.parametrize(
    "template",
    [
        "http://example.com/callback",
        "https://192.0.2.10/callback",
        # These reach this machine's listeners on Linux, yet are not loopback addresses:
        # the sandbox must not contact them.
        "http://0.0.0.0:{port}/callback",
        "http://[::ffff:127.0.0.1]:{port}/callback",
        "http://127.1:{port}/callback",
        "ftp://127.0.0.1:{port}/callback",
    ],
)
def test_non_loopback_callbacks_are_never_sent(
    client: httpx.Client, admin: httpx.Client, receiver: Receiver, template: str
) -> None:
    url = template.format(port=receiver.port)
    request = {**PAYLOADS["datacollection"], "callback_url": url}
    task_id = client.post("/task/datacollection", json=request).json()["task_id"]
    (record,) = deliveries(admin, task_id)
    assert record["status"] == "skipped"
    assert record["attempts"] == 0
    assert record["last_error"] in ("not a loopback address", "not an http(s) URL")
    assert receiver.calls == []
    assert client.get(f"/task/{task_id}").json()["callback_succeeded"] is False


def test_live_task_calls_back_when_completed_by_the_admin(
    live_client: httpx.Client, admin: httpx.Client, receiver: Receiver
) -> None:
    request = {**PAYLOADS["comparison"], "callback_url": receiver.url}
    task_id = live_client.post("/task/comparison", json=request).json()["task_id"]
    assert deliveries(admin, task_id) == []
    answer = {"choice": "no", "fields": {"pattern": "checkered"}}
    assert admin.post(f"/tasks/{task_id}/complete", json={"response": answer}).status_code == 200
    (call,) = receiver.wait_for(1)
    assert call["json"]["response"] == answer
    assert call["json"]["task"]["status"] == "completed"
