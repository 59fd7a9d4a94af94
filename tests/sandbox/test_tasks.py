"""Creating and fetching tasks of every type; the placeholder answers of test keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sandbox_helpers import TASK_TYPES

TASK_ID = re.compile(r"[0-9a-f]{24}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TOP_LEVEL = {"callback_url", "instruction", "urgency", "metadata", "unique_id"}


def params_defaults(spec: dict[str, Any], task_type: str) -> dict[str, Any]:
    """The `x-server-default` of each property of the type's create body (its `params`
    ones: not `urgency`, which stays at the top of the task), read from the spec."""
    schemas = spec["components"]["schemas"]
    body = spec["paths"][f"/task/{task_type}"]["post"]["requestBody"]["content"]
    found: dict[str, Any] = {}

    def walk(schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            walk(schemas[schema["$ref"].rsplit("/", 1)[1]])
        for part in schema.get("allOf", []):
            walk(part)
        for name, prop in schema.get("properties", {}).items():
            while "x-server-default" not in prop and "$ref" in prop:
                prop = schemas[prop["$ref"].rsplit("/", 1)[1]]
            if "x-server-default" in prop and name not in TOP_LEVEL:
                found[name] = prop["x-server-default"]

    walk(body["application/json"]["schema"])
    return found


Conforms = Callable[[str, Any], None]


def check_response(task_type: str, params: dict[str, Any], response: dict[str, Any]) -> None:
    """What a worker's answer must be, beyond the schema."""
    if task_type == "categorization":
        category = response["category"]
        if params["allow_multiple"]:
            assert isinstance(category, list) and category
            assert set(category) <= set(params["categories"])
        else:
            assert category in params["categories"]
    elif task_type == "annotation":
        kinds = set(params["objects_to_annotate"])
        for box in response["annotations"]:
            assert box["left"] >= 0 and box["left"] + box["width"] <= 1024
            assert box["top"] >= 0 and box["top"] + box["height"] <= 768
            assert box["width"] >= params.get("min_width", 0)
            assert box["height"] >= params.get("min_height", 0)
            if params["with_labels"]:
                assert box["label"] in kinds
            else:
                assert "label" not in box
    elif task_type == "audiotranscription":
        words = response["alignment"]
        assert response["transcript"] == " ".join(word["word"] for word in words)
        previous_end = 0.0
        for word in words:
            assert previous_end <= word["start"] < word["end"] <= response["duration"]
            assert 0 <= word["confidence"] <= 1
            previous_end = word["end"]
    elif task_type == "transcription":
        assert set(response["fields"]) == set(params["fields"])
        rows = params.get("repeatable_fields") or params.get("row_fields")
        if rows:
            assert response["repeatable_fields"]
            for row in response["repeatable_fields"]:
                assert set(row) == set(rows)
    elif task_type == "comparison":
        if "choices" in params:
            assert response["choice"] in params["choices"]
        assert set(response["fields"]) == set(params.get("fields", {}))
    elif task_type == "datacollection":
        assert set(response["fields"]) == set(params["fields"])
        assert all(isinstance(value, str) and value for value in response["fields"].values())


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_create_returns_pending_then_fetch_shows_completed(
    client: httpx.Client,
    payloads: dict[str, Any],
    conforms: Conforms,
    task_type: str,
    spec: dict[str, Any],
) -> None:
    request = payloads[task_type]
    created = client.post(f"/task/{task_type}", json=request)
    assert created.status_code == 200, created.text
    assert created.headers["content-type"] == "application/json"
    task = created.json()
    conforms("Task", task)
    assert TASK_ID.fullmatch(task["task_id"])
    assert TIMESTAMP.fullmatch(task["created_at"])
    assert task["type"] == task_type
    assert task["status"] == "pending"
    assert task["is_test"] is True
    assert task["urgency"] == "day"
    assert task["metadata"] == {}
    assert "response" not in task and "completed_at" not in task
    expected_params = {**params_defaults(spec, task_type), **request}
    assert task["params"] == expected_params

    fetched = client.get(f"/task/{task['task_id']}")
    assert fetched.status_code == 200
    done = fetched.json()
    conforms("Task", done)
    assert done["status"] == "completed"
    assert TIMESTAMP.fullmatch(done["completed_at"])
    assert done["completed_at"] >= done["created_at"]
    assert done["updated_at"] == done["completed_at"]
    changed = ("status", "completed_at", "updated_at", "response")
    assert {k: v for k, v in done.items() if k not in changed} == {
        k: v for k, v in task.items() if k not in changed
    }
    check_response(task_type, done["params"], done["response"])
    # Deterministic: the same answer every time.
    assert client.get(f"/task/{task['task_id']}").json()["response"] == done["response"]


def test_top_level_fields_are_not_params(client: httpx.Client, payloads: dict[str, Any]) -> None:
    extra = {
        "callback_url": "http://example.com/callback",
        "instruction": "Is this company **public** or private?",
        "urgency": "week",
        "metadata": {"order": 17, "tags": ["a", "b"], "nested": {"x": None}},
        "unique_id": "order-17",
    }
    task = client.post("/task/categorization", json={**payloads["categorization"], **extra}).json()
    for name, value in extra.items():
        assert task[name] == value
    assert not TOP_LEVEL & set(task["params"])
    assert task["callback_succeeded"] is False


def test_old_categorize_path_creates_categorization_tasks(
    client: httpx.Client, payloads: dict[str, Any], conforms: Conforms
) -> None:
    answer = client.post("/task/categorize", json=payloads["categorization"])
    assert answer.status_code == 200
    conforms("CategorizationTask", answer.json())
    assert answer.json()["type"] == "categorization"


def test_allow_multiple_answers_with_a_list(
    client: httpx.Client, payloads: dict[str, Any], conforms: Conforms
) -> None:
    request = {**payloads["categorization"], "allow_multiple": True, "categories": list("abcdef")}
    task_id = client.post("/task/categorization", json=request).json()["task_id"]
    done = client.get(f"/task/{task_id}").json()
    conforms("CategorizationTask", done)
    check_response("categorization", done["params"], done["response"])
    assert isinstance(done["response"]["category"], list)


@pytest.mark.parametrize(
    ("changes", "expect_boxes"),
    [
        ({"with_labels": False}, True),
        ({"min_width": 1000, "min_height": 700}, True),
        ({"min_width": 2000}, False),  # no box that wide fits in the image
    ],
)
def test_annotation_boxes_respect_the_params(
    client: httpx.Client,
    payloads: dict[str, Any],
    conforms: Conforms,
    changes: dict[str, Any],
    expect_boxes: bool,
) -> None:
    request = {**payloads["annotation"], **changes}
    task_id = client.post("/task/annotation", json=request).json()["task_id"]
    done = client.get(f"/task/{task_id}").json()
    conforms("AnnotationTask", done)
    check_response("annotation", done["params"], done["response"])
    assert bool(done["response"]["annotations"]) is expect_boxes


def test_transcription_accepts_repeatable_fields(
    client: httpx.Client, payloads: dict[str, Any], conforms: Conforms
) -> None:
    request = payloads["transcription"]
    request["repeatable_fields"] = request.pop("row_fields")
    task_id = client.post("/task/transcription", json=request).json()["task_id"]
    done = client.get(f"/task/{task_id}").json()
    conforms("TranscriptionTask", done)
    check_response("transcription", done["params"], done["response"])


def test_minimal_requests_get_minimal_answers(client: httpx.Client, conforms: Conforms) -> None:
    comparison = {"attachment_type": "text", "attachments": ["one", "two"]}
    task_id = client.post("/task/comparison", json=comparison).json()["task_id"]
    done = client.get(f"/task/{task_id}").json()
    conforms("ComparisonTask", done)
    assert "choice" not in done["response"]
    audio = {"attachment_type": "audio", "attachment": "https://example.com/a.wav"}
    task_id = client.post("/task/audiotranscription", json=audio).json()["task_id"]
    done = client.get(f"/task/{task_id}").json()
    conforms("AudiotranscriptionTask", done)
    check_response("audiotranscription", done["params"], done["response"])


def test_task_ids_are_unique(client: httpx.Client, payloads: dict[str, Any]) -> None:
    ids = {
        client.post("/task/datacollection", json=payloads["datacollection"]).json()["task_id"]
        for _ in range(50)
    }
    assert len(ids) == 50
