"""Live keys: tasks stay pending until the admin completes them or `complete_after` passes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sandbox_helpers import PAYLOADS, Receiver, make_client, wait_until

from scaleapi.sandbox import Sandbox, SandboxError

Conforms = Callable[[str, Any], None]


def create(client: httpx.Client, task_type: str = "categorization", **extra: Any) -> str:
    answer = client.post(f"/task/{task_type}", json={**PAYLOADS[task_type], **extra})
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["task_id"]
    return task_id


def test_live_tasks_stay_pending(live_client: httpx.Client, conforms: Conforms) -> None:
    task_id = create(live_client)
    task = live_client.get(f"/task/{task_id}").json()
    conforms("Task", task)
    assert task["status"] == "pending" and task["is_test"] is False
    assert "response" not in task
    assert live_client.get("/tasks", params={"status": "pending"}).json()["total"] == 1


def test_admin_completes_with_a_placeholder(
    live_client: httpx.Client, admin: httpx.Client, conforms: Conforms
) -> None:
    task_id = create(live_client, "audiotranscription")
    done = admin.post(f"/tasks/{task_id}/complete")
    assert done.status_code == 200
    conforms("Task", done.json())
    fetched = live_client.get(f"/task/{task_id}").json()
    assert fetched == done.json()
    assert fetched["status"] == "completed" and fetched["response"]["transcript"]
    again = admin.post(f"/tasks/{task_id}/complete")
    assert again.status_code == 409 and "completed" in again.json()["error"]


def test_admin_completes_with_a_given_response(
    live_client: httpx.Client, admin: httpx.Client
) -> None:
    task_id = create(live_client)
    bad = admin.post(f"/tasks/{task_id}/complete", json={"response": {"category": 5}})
    assert bad.status_code == 400
    assert "category" in bad.json()["error"]
    missing = admin.post(f"/tasks/{task_id}/complete", json={"response": {}})
    assert missing.status_code == 400
    assert "Missing parameter: category" in missing.json()["error"]
    assert live_client.get(f"/task/{task_id}").json()["status"] == "pending"
    good = admin.post(f"/tasks/{task_id}/complete", json={"response": {"category": "private"}})
    assert good.status_code == 200
    assert live_client.get(f"/task/{task_id}").json()["response"] == {"category": "private"}


def test_admin_errors(admin: httpx.Client) -> None:
    assert admin.post("/tasks/5774cc78b01249ab09f089dd/complete").status_code == 404
    assert admin.post("/tasks/5774cc78b01249ab09f089dd/complete", content=b"[").status_code == 400
    assert admin.get("/tasks/5774cc78b01249ab09f089dd").status_code == 404
    assert admin.get("/health").json() == {"status": "ok"}


def test_cancel_rules(live_client: httpx.Client, client: httpx.Client, conforms: Conforms) -> None:
    task_id = create(live_client)
    canceled = live_client.post(f"/task/{task_id}/cancel", json={})
    assert canceled.status_code == 200
    conforms("Task", canceled.json())
    assert canceled.json()["status"] == "canceled"
    assert live_client.get(f"/task/{task_id}").json()["status"] == "canceled"
    again = live_client.post(f"/task/{task_id}/cancel", json={})  # a repeat: 200, unchanged
    assert again.status_code == 200
    assert again.json() == canceled.json()
    # A test key's task is completed by the time anyone can cancel it.
    test_task = create(client)
    refused = client.post(f"/task/{test_task}/cancel")  # no body at all is fine too
    assert refused.status_code == 400
    assert (
        refused.json()["error"] == f"Task {test_task} is already completed and cannot be canceled."
    )
    conforms("Error", refused.json())


def test_cancel_body_must_be_empty(live_client: httpx.Client) -> None:
    task_id = create(live_client)
    answer = live_client.post(f"/task/{task_id}/cancel", json={"reason": "changed my mind"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "Unknown parameter: reason"
    assert live_client.post(f"/task/{task_id}/cancel").status_code == 200


def test_failed_tasks(live_client: httpx.Client, admin: httpx.Client, conforms: Conforms) -> None:
    task_id = create(live_client)
    assert admin.post(f"/tasks/{task_id}/fail").status_code == 200
    task = live_client.get(f"/task/{task_id}").json()
    conforms("Task", task)
    assert task["status"] == "error"
    assert live_client.post(f"/task/{task_id}/cancel").status_code == 400
    assert live_client.get("/tasks", params={"status": "error"}).json()["total"] == 1


@pytest.fixture(scope="module")
def timed() -> Iterator[Sandbox]:
    with Sandbox(complete_after=0.3, callback_backoff=0.05) as sandbox:
        yield sandbox


def test_complete_after(timed: Sandbox, scale_live_key: str, conforms: Conforms) -> None:
    with make_client(timed.base_url, scale_live_key) as live:
        first, second = create(live), create(live, "annotation")
        assert live.get(f"/task/{first}").json()["status"] == "pending"
        time.sleep(0.35)
        done = live.get(f"/task/{first}").json()  # completed on read, even between sweeps
        conforms("Task", done)
        assert done["status"] == "completed"
        delay = datetime.fromisoformat(done["completed_at"]) - datetime.fromisoformat(
            done["created_at"]
        )
        assert delay.total_seconds() == pytest.approx(0.3)
        page = live.get("/tasks", params={"status": "completed"}).json()
        assert {task["task_id"] for task in page["docs"]} == {first, second}


def test_complete_after_sweeps_and_calls_back(
    timed: Sandbox, scale_live_key: str, receiver: Receiver
) -> None:
    with make_client(timed.base_url, scale_live_key) as live:
        task_id = create(live, callback_url=receiver.url)
        (call,) = receiver.wait_for(1, timeout=5)  # nobody reads the task: the sweeper does it
        assert call["json"]["task_id"] == task_id
        assert call["headers"]["scale-callback-auth"] == timed.callback_auth_key
        wait_until(lambda: live.get(f"/task/{task_id}").json()["callback_succeeded"] is True)


def test_canceled_before_complete_after_stays_canceled(timed: Sandbox, scale_live_key: str) -> None:
    with make_client(timed.base_url, scale_live_key) as live:
        task_id = create(live)
        assert live.post(f"/task/{task_id}/cancel").status_code == 200
        time.sleep(0.4)
        assert live.get(f"/task/{task_id}").json()["status"] == "canceled"


def test_python_helpers(scale_live_key: str, receiver: Receiver) -> None:
    with Sandbox(callback_auth_key="s3cret") as sandbox:
        assert sandbox.running and sandbox.base_url.endswith("/v1")
        assert sandbox.callback_auth_key == "s3cret"
        with make_client(sandbox.base_url, scale_live_key) as live:
            task_id = create(live, callback_url=receiver.url)
            done = sandbox.complete_task(task_id, {"category": "public"})
            assert done["response"] == {"category": "public"}
            receiver.wait_for(1)
            assert receiver.calls[0]["headers"]["scale-callback-auth"] == "s3cret"
            wait_until(lambda: sandbox.callbacks(task_id)[0]["status"] == "delivered")
            with pytest.raises(SandboxError) as refused:
                sandbox.complete_task(task_id)
            assert refused.value.status_code == 409
            other = create(live)
            assert sandbox.fail_task(other)["status"] == "error"
            stats = sandbox.stats()
            assert stats["tasks_created"] == 2 and stats["tasks"] == 2
            assert sandbox.configure(latency_ms=1)["latency_ms"] == 1
            sandbox.reset()
            assert sandbox.stats()["tasks"] == 0
            assert sandbox.callbacks() == []
            assert live.get(f"/task/{task_id}").status_code == 404
    assert not sandbox.running
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url


def test_options_are_checked() -> None:
    with pytest.raises(TypeError, match="bogus"):
        Sandbox(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="fault_rate"):
        Sandbox(fault_rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Sandbox(faults=["404"])


def test_restart_with_a_database(tmp_path: Any, scale_test_key: str) -> None:
    sandbox = Sandbox(db=tmp_path / "tasks.sqlite3")
    with sandbox, make_client(sandbox.base_url, scale_test_key) as client:
        task_id = create(client)
    assert not sandbox.running
    with sandbox, make_client(sandbox.base_url, scale_test_key) as client:  # started again
        assert client.get(f"/task/{task_id}").json()["status"] == "completed"
    with Sandbox() as memory, make_client(memory.base_url, scale_test_key) as client:
        assert client.get(f"/task/{task_id}").status_code == 404
