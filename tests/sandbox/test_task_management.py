"""Every task type, task management, the list filters and authentication before routing,
through real HTTP against the session sandbox (CONTRACT-2x §1-§3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sandbox_helpers import ALL_PAYLOADS, PAYLOADS, basic

Conforms = Callable[[str, Any], None]


def create(client: httpx.Client, task_type: str = "categorization", **extra: Any) -> dict[str, Any]:
    answer = client.post(f"/task/{task_type}", json={**ALL_PAYLOADS[task_type], **extra})
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()
    return task


def test_every_task_type_of_the_spec_has_a_payload(spec: dict[str, Any]) -> None:
    enum = set(spec["components"]["schemas"]["TaskType"]["enum"])
    assert enum == set(ALL_PAYLOADS)


@pytest.mark.parametrize("task_type", sorted(ALL_PAYLOADS))
def test_each_type_is_created_fetched_listed_and_canceled(
    client: httpx.Client, live_client: httpx.Client, conforms: Conforms, task_type: str
) -> None:
    task = create(client, task_type)
    conforms("Task", task)
    assert (task["type"], task["status"]) == (task_type, "pending")
    done = client.get(f"/task/{task['task_id']}").json()
    conforms("Task", done)
    assert done["status"] == "completed"
    page = client.get("/tasks", params={"type": task_type}).json()
    assert [t["task_id"] for t in page["docs"]] == [task["task_id"]]
    live = create(live_client, task_type)
    canceled = live_client.post(f"/task/{live['task_id']}/cancel")
    assert canceled.status_code == 200
    conforms("Task", canceled.json())
    assert canceled.json()["status"] == "canceled"


@pytest.mark.parametrize(
    ("task_type", "lenient"),
    [
        ("annotation", {"min_width": "30", "min_height": "30"}),
        ("categorization", {"force": True}),
        ("audiotranscription", {"phrases": ["avocado", "stone"]}),
        ("categorization", {"priority": 20, "clear_unique_id_on_error": True}),
        ("imageannotation", {"some_option_newer_than_the_spec": {"x": 1}}),
    ],
)
def test_what_the_real_api_takes_is_taken(
    client: httpx.Client, task_type: str, lenient: dict[str, Any]
) -> None:
    task = create(client, task_type, **lenient)
    shown = {**task["params"], **task}
    assert {name: shown[name] for name in lenient} == lenient


def test_an_unknown_task_type_is_a_json_400(client: httpx.Client, conforms: Conforms) -> None:
    answer = client.post("/task/hologram", json={"attachment": "x"})
    assert answer.status_code == 400
    conforms("Error", answer.json())
    assert answer.json() == {"status_code": 400, "error": "Unknown task type: hologram"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/tasks"),
        ("POST", "/task/hologram"),
        ("GET", "/no/such/path"),
        ("DELETE", "/projects"),
        ("GET", "/batches/x%2Fy/status"),
        ("POST", "/files/upload"),
    ],
)
def test_a_bad_key_is_refused_before_routing(
    scale_sandbox_url: str, method: str, path: str
) -> None:
    for headers in ({}, {"authorization": basic("bogus_key")}):
        with httpx.Client(base_url=scale_sandbox_url, trust_env=False) as anonymous:
            answer = anonymous.request(method, path, headers=headers)
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json()["status_code"] == 401


def test_an_unknown_path_with_a_good_key_is_a_json_404(client: httpx.Client) -> None:
    answer = client.get("/no/such/path")
    assert answer.status_code == 404
    assert answer.json() == {"status_code": 404, "error": "Not found."}


def test_an_email_callback_is_recorded_not_sent(client: httpx.Client, scale_sandbox: Any) -> None:
    task = create(client, callback_url="ops@example.com")
    assert task["callback_url"] == "ops@example.com"
    (record,) = scale_sandbox.callbacks(task["task_id"])
    assert (record["status"], record["channel"], record["attempts"]) == ("emailed", "email", 0)
    assert record["payload"]["task"]["status"] == "completed"


# -- task management ----------------------------------------------------------------------
def test_cancel_with_clear_unique_id_frees_it(live_client: httpx.Client) -> None:
    task = create(live_client, unique_id="order-1")
    canceled = live_client.post(f"/task/{task['task_id']}/cancel?clear_unique_id=true")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled" and "unique_id" not in canceled.json()
    again = create(live_client, unique_id="order-1")
    assert again["unique_id"] == "order-1"
    kept = create(live_client, unique_id="order-2")
    live_client.post(f"/task/{kept['task_id']}/cancel")
    assert (
        live_client.post(
            "/task/categorization", json={**PAYLOADS["categorization"], "unique_id": "order-2"}
        ).status_code
        == 409
    )


def test_only_pending_tasks_can_be_canceled(client: httpx.Client) -> None:
    task = create(client)  # a test key's task is completed at once
    answer = client.post(f"/task/{task['task_id']}/cancel?clear_unique_id=true")
    assert answer.status_code == 400
    assert "completed" in answer.json()["error"]


def test_audit_needs_a_completed_task(
    client: httpx.Client, live_client: httpx.Client, conforms: Conforms
) -> None:
    pending = create(live_client)
    refused = live_client.post(f"/task/{pending['task_id']}/audit", json={"accepted": True})
    assert refused.status_code == 400 and "completed" in refused.json()["error"]
    task = create(client)
    answer = client.post(
        f"/task/{task['task_id']}/audit", json={"accepted": False, "comments": "Box too big."}
    )
    assert answer.status_code == 200
    audited = client.get(f"/task/{task['task_id']}").json()
    conforms("Task", audited)
    assert audited["customer_review_status"] == "rejected"
    assert [a["audit_result"] for a in audited["audits"]] == ["rejected"]
    client.post(f"/task/{task['task_id']}/audit", json={"accepted": True, "comments": None})
    again = client.get(f"/task/{task['task_id']}").json()
    assert again["customer_review_status"] == "accepted"
    assert [a["audit_result"] for a in again["audits"]] == ["accepted"]
    missing = client.post(f"/task/{task['task_id']}/audit", json={"comments": "x"})
    assert missing.json()["error"] == "Missing parameter: accepted"


def test_unique_id_update_and_clear(client: httpx.Client, conforms: Conforms) -> None:
    first = create(client, unique_id="u-first")
    second = create(client)
    updated = client.post(f"/task/{second['task_id']}/unique_id", json={"unique_id": "u-second"})
    assert updated.status_code == 200 and updated.json()["unique_id"] == "u-second"
    taken = client.post(f"/task/{second['task_id']}/unique_id", json={"unique_id": "u-first"})
    assert taken.status_code == 409
    conforms("Error", taken.json())
    same = client.post(f"/task/{first['task_id']}/unique_id", json={"unique_id": "u-first"})
    assert same.status_code == 200
    cleared = client.delete(f"/task/{first['task_id']}/unique_id")
    assert cleared.status_code == 200 and "unique_id" not in cleared.json()
    assert "unique_id" not in client.get(f"/task/{first['task_id']}").json()
    assert create(client, unique_id="u-first")["unique_id"] == "u-first"
    assert client.delete(f"/task/{first['task_id']}/unique_id").status_code == 200


def test_set_metadata_replaces_it(client: httpx.Client) -> None:
    task = create(client, metadata={"old": 1})
    answer = client.post(f"/task/{task['task_id']}/setMetadata", json={"myKey": "myValue"})
    assert answer.json()["metadata"] == {"myKey": "myValue"}
    assert client.get(f"/task/{task['task_id']}").json()["metadata"] == {"myKey": "myValue"}
    # The official SDK sends an empty object as no body at all.
    emptied = client.post(f"/task/{task['task_id']}/setMetadata")
    assert emptied.status_code == 200 and emptied.json()["metadata"] == {}
    wrong = client.post(f"/task/{task['task_id']}/setMetadata", json=["not", "an", "object"])
    assert wrong.status_code == 400


def test_tags_are_set_added_and_deleted(client: httpx.Client) -> None:
    task = create(client)
    task_id = task["task_id"]
    assert "tags" not in task and "tags" not in client.get(f"/task/{task_id}").json()
    assert client.post(f"/task/{task_id}/tags", json=["tag1", "tag2"]).json()["tags"] == [
        "tag1",
        "tag2",
    ]
    added = client.put(f"/task/{task_id}/tags", json=["tag2", "tag3"]).json()
    assert added["tags"] == ["tag1", "tag2", "tag3"]
    deleted = client.request("DELETE", f"/task/{task_id}/tags", json=["tag1", "tag2", "nope"])
    assert deleted.json()["tags"] == ["tag3"]
    assert client.post(f"/task/{task_id}/tags").json()["tags"] == []  # [] sent as no body
    assert client.post(f"/task/{task_id}/tags", json="tag1").status_code == 400


def test_management_of_a_missing_or_foreign_task_is_404(
    client: httpx.Client, live_client: httpx.Client
) -> None:
    theirs = create(live_client)["task_id"]
    for task_id in ("0123456789abcdef01234567", theirs):
        assert client.post(f"/task/{task_id}/setMetadata", json={}).status_code == 404
        assert client.put(f"/task/{task_id}/tags", json=["a"]).status_code == 404
        assert client.delete(f"/task/{task_id}/unique_id").status_code == 404


# -- list filters -------------------------------------------------------------------------
def ids(client: httpx.Client, query: Any) -> set[str]:
    answer = client.get("/tasks", params=query)
    assert answer.status_code == 200, answer.text
    return {task["task_id"] for task in answer.json()["docs"]}


def test_tags_unique_id_and_review_status_filters(client: httpx.Client) -> None:
    a = create(client, tags=["red"], unique_id="f-a")["task_id"]
    b = create(client, unique_id="f-b")["task_id"]
    client.post(f"/task/{b}/tags", json=["blue", "green"])
    c = create(client)["task_id"]
    client.post(f"/task/{c}/audit", json={"accepted": True, "comments": None})
    client.post(f"/task/{a}/audit", json={"accepted": False, "comments": None})
    assert ids(client, {"tags": "red"}) == {a}
    assert ids(client, [("tags", "red"), ("tags", "green")]) == {a, b}
    assert ids(client, [("unique_id", "f-a"), ("unique_id", "f-b")]) == {a, b}
    assert ids(client, {"customer_review_status": "accepted"}) == {c}
    assert ids(client, {"customer_review_status": "accepted,rejected"}) == {a, c}
    assert client.get("/tasks", params={"customer_review_status": "happy"}).status_code == 400


def test_time_filters_take_dates_zone_less_times_and_offsets(client: httpx.Client) -> None:
    before = create(client)["task_id"]
    time.sleep(0.01)
    later = create(client)
    after, middle = later["task_id"], later["created_at"]  # test keys: completed at once
    zone_less = middle.rstrip("Z")
    assert ids(client, {"start_time": middle}) == {after}
    assert ids(client, {"start_time": zone_less}) == {after}
    assert ids(client, {"end_time": zone_less}) == {before}
    assert ids(client, {"completed_after": middle}) == {after}
    assert ids(client, {"completed_before": middle}) == {before}
    assert ids(client, {"updated_after": middle}) == {after}
    client.post(f"/task/{before}/setMetadata", json={"touched": True})
    assert ids(client, {"updated_after": middle}) == {before, after}
    today = middle[:10]
    assert ids(client, {"start_time": today}) == {before, after}
    assert ids(client, {"end_time": today}) == set()
    assert ids(client, {"start_time": today + "T00:00:00+14:00"}) == {before, after}


def test_limited_response_and_attachment_urls(client: httpx.Client) -> None:
    task = create(client, metadata={"k": 1})
    limited = client.get("/tasks", params={"limited_response": "true"}).json()["docs"]
    assert limited == [{"task_id": task["task_id"], "status": "completed", "metadata": {"k": 1}}]
    full = client.get("/tasks", params={"include_attachment_url": "true"}).json()["docs"]
    assert full[0]["params"]["attachment_url"] == PAYLOADS["categorization"]["attachment"]
    plain = client.get("/tasks").json()["docs"]
    assert "attachment_url" not in plain[0]["params"]


def test_a_repeated_parameter_that_takes_one_value_is_refused(client: httpx.Client) -> None:
    answer = client.get("/tasks", params=[("status", "pending"), ("status", "completed")])
    assert answer.status_code == 400
    assert answer.json()["error"] == "Invalid parameter status: given more than once"


def test_names_with_a_slash_are_one_path_segment(client: httpx.Client) -> None:
    name = "team/kittens?v=1"
    made = client.post("/projects", json={"type": "categorization", "name": name})
    assert made.status_code == 200
    fetched = client.get(f"/projects/{quote(name, safe='')}")
    assert fetched.status_code == 200 and fetched.json()["name"] == name
