"""The sandbox validates against the spec it serves: change the spec, not the sandbox."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from sandbox_helpers import PAYLOADS, make_client

from scaleapi.sandbox import Sandbox


def _draft(document: dict[str, Any]) -> dict[str, Any]:
    """The package's spec with a few changes a spec author might make."""
    draft = copy.deepcopy(document)
    schemas = draft["components"]["schemas"]
    # A new optional property, and a field that becomes required.
    schemas["CategorizationTaskCreate"]["properties"]["priority"] = {
        "type": "integer",
        "minimum": 1,
    }
    schemas["DatacollectionTaskCreate"]["required"].append("instruction")
    # Server defaults changed, and a new one on a property reached through allOf and $ref.
    schemas["Urgency"]["x-server-default"] = "week"
    schemas["CategorizationTaskCreate"]["properties"]["allow_multiple"]["x-server-default"] = True
    schemas["ReviewLevel"] = {
        "type": "string",
        "enum": ["light", "full"],
        "x-server-default": "light",
    }
    schemas["CategorizationTaskCreate"]["properties"]["review"] = {
        "allOf": [{"$ref": "#/components/schemas/ReviewLevel"}]
    }
    for parameter in draft["paths"]["/tasks"]["get"]["parameters"]:
        if parameter.get("name") == "limit":
            parameter["schema"]["x-server-default"] = 7
    # A new query parameter on the list.
    draft["paths"]["/tasks"]["get"]["parameters"].append(
        {"name": "project", "in": "query", "schema": {"type": "string", "maxLength": 10}}
    )
    # A new task type: its path, request, task and response schemas.
    schemas["SegmentationTaskCreate"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["attachment", "labels"],
        "properties": {
            "callback_url": {"$ref": "#/components/schemas/CallbackUrl"},
            "unique_id": {"$ref": "#/components/schemas/UniqueId"},
            "attachment": {"$ref": "#/components/schemas/Attachment"},
            "labels": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        },
    }
    schemas["SegmentationResponse"] = {
        "type": "object",
        "required": ["mask_url", "labels_found"],
        "properties": {
            "mask_url": {"type": "string", "minLength": 3},
            "labels_found": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        },
    }
    schemas["SegmentationTask"] = {
        "allOf": [
            {"$ref": "#/components/schemas/TaskFields"},
            {
                "type": "object",
                "required": ["type", "params"],
                "properties": {
                    "type": {"type": "string", "const": "segmentation"},
                    "params": {"type": "object"},
                    "response": {"$ref": "#/components/schemas/SegmentationResponse"},
                },
            },
        ]
    }
    create = copy.deepcopy(draft["paths"]["/task/datacollection"])
    create["post"]["operationId"] = "createSegmentationTask"
    create["post"]["requestBody"]["content"]["application/json"] = {
        "schema": {"$ref": "#/components/schemas/SegmentationTaskCreate"}
    }
    create["post"]["responses"]["200"]["content"]["application/json"] = {
        "schema": {"$ref": "#/components/schemas/SegmentationTask"}
    }
    draft["paths"]["/task/segmentation"] = create
    return draft


@pytest.fixture(scope="module")
def drafted(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    path: Path = tmp_path_factory.mktemp("spec") / "draft.yaml"
    path.write_text(yaml.safe_dump(_draft(spec)))
    with Sandbox(spec=path) as sandbox:
        yield sandbox


@pytest.fixture
def draft_client(drafted: Sandbox, scale_test_key: str) -> Iterator[httpx.Client]:
    with make_client(drafted.base_url, scale_test_key) as c:
        yield c


def test_a_new_property_is_accepted_and_validated(
    client: httpx.Client, draft_client: httpx.Client
) -> None:
    body = {**PAYLOADS["categorization"], "priority": 3}
    assert (
        client.post("/task/categorization", json=body).json()["error"]
        == "Unknown parameter: priority"
    )
    task = draft_client.post("/task/categorization", json=body).json()
    assert task["params"]["priority"] == 3
    wrong = draft_client.post("/task/categorization", json={**body, "priority": 0}).json()
    assert wrong["error"] == "Invalid parameter priority: must be bigger than or equal to 1"


def test_a_newly_required_field(client: httpx.Client, draft_client: httpx.Client) -> None:
    assert client.post("/task/datacollection", json=PAYLOADS["datacollection"]).status_code == 200
    answer = draft_client.post("/task/datacollection", json=PAYLOADS["datacollection"])
    assert answer.json()["error"] == "Missing parameter: instruction"


def test_a_new_query_parameter(client: httpx.Client, draft_client: httpx.Client) -> None:
    assert (
        client.get("/tasks", params={"project": "p1"}).json()["error"]
        == "Unknown parameter: project"
    )
    assert draft_client.get("/tasks", params={"project": "p1"}).status_code == 200
    assert draft_client.get("/tasks", params={"project": "p" * 11}).status_code == 400


def test_a_new_task_type(draft_client: httpx.Client, spec: dict[str, Any]) -> None:
    body = {"attachment": "http://example.com/x.png", "labels": ["sky"], "unique_id": "s1"}
    created = draft_client.post("/task/segmentation", json=body)
    assert created.status_code == 200, created.text
    task = created.json()
    assert (task["type"], task["params"], task["unique_id"]) == (
        "segmentation",
        {"attachment": body["attachment"], "labels": ["sky"]},
        "s1",
    )
    done = draft_client.get(f"/task/{task['task_id']}").json()
    assert done["status"] == "completed"
    schema = {
        "$ref": "#/components/schemas/SegmentationTask",
        "components": _draft(spec)["components"],
    }
    jsonschema.validate(done, schema)
    assert (
        draft_client.get("/tasks", params={"type": "segmentation"}).status_code == 400
    )  # TaskType enum unchanged
    missing = draft_client.post("/task/segmentation", json={"attachment": "x"}).json()
    assert missing["error"] == "Missing parameter: labels"


def test_server_defaults_come_from_the_spec(
    client: httpx.Client, draft_client: httpx.Client, spec: dict[str, Any]
) -> None:
    request = {k: v for k, v in PAYLOADS["categorization"].items() if k not in ("allow_multiple",)}
    served = client.post("/task/categorization", json=request).json()
    drafted = draft_client.post("/task/categorization", json=request).json()
    schemas = spec["components"]["schemas"]
    stated = schemas["CategorizationTaskCreate"]["properties"]["allow_multiple"]
    assert served["urgency"] == schemas["Urgency"]["x-server-default"]
    assert served["params"]["allow_multiple"] is stated["x-server-default"]
    assert "review" not in served["params"]
    assert drafted["urgency"] == "week"
    assert drafted["params"]["allow_multiple"] is True
    assert drafted["params"]["review"] == "light"
    given = draft_client.post(
        "/task/categorization", json={**request, "urgency": "day", "review": "full"}
    ).json()
    assert (given["urgency"], given["params"]["review"]) == ("day", "full")
    (limit,) = [p for p in spec["paths"]["/tasks"]["get"]["parameters"] if p.get("name") == "limit"]
    assert client.get("/tasks").json()["limit"] == limit["schema"]["x-server-default"]
    assert draft_client.get("/tasks").json()["limit"] == 7


def test_defaults_of_a_body_composed_with_all_of() -> None:
    from scaleapi.sandbox._spec import ApiSpec

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "paths": {
            "/task/thing": {
                "post": {
                    "operationId": "createThingTask",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/New"}}
                        }
                    },
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "type": {"const": "thing"},
                                            "urgency": {"type": "string"},
                                        },
                                    }
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Common": {
                    "type": "object",
                    "properties": {"urgency": {"$ref": "#/components/schemas/Urgency"}},
                },
                "Urgency": {"type": "string", "x-server-default": "week"},
                "New": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Common"},
                        {
                            "type": "object",
                            "properties": {
                                "size": {"type": "integer", "x-server-default": 3},
                                "note": {"type": "string"},
                            },
                        },
                    ]
                },
            }
        },
    }
    defaults = ApiSpec(document).create_defaults["thing"]
    assert dict(defaults.top) == {"urgency": "week"}
    assert dict(defaults.params) == {"size": 3}
