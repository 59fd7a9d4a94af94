"""Projects, batches, files and teammates through real HTTP (CONTRACT-2x §5-§8): their
rules, per-key isolation, and persistence with `--db`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sandbox_helpers import MORE_PAYLOADS, PAYLOADS, make_client

from scaleapi.sandbox import Sandbox

Conforms = Callable[[str, Any], None]
IMAGE_PROJECT = {
    "type": "imageannotation",
    "params": {
        "instruction": "Draw a box around every kitten.",
        "geometries": {"box": {"objects_to_annotate": ["kitten"]}},
    },
    "rapid": False,
    "studio": False,
    "datasetId": None,
}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def project(client: httpx.Client, **extra: Any) -> str:
    project_name = name("kittens")
    answer = client.post("/projects", json={**IMAGE_PROJECT, "name": project_name, **extra})
    assert answer.status_code == 200, answer.text
    return project_name


def batch(client: httpx.Client, project_name: str) -> dict[str, Any]:
    body = {
        "project": project_name,
        "name": name("july"),
        "calibration_batch": False,
        "self_label_batch": False,
        "callback": "",
        "metadata": {},
    }
    answer = client.post("/batches", json=body)
    assert answer.status_code == 200, answer.text
    created: dict[str, Any] = answer.json()
    return created


# -- projects -----------------------------------------------------------------------------
def test_project_life(client: httpx.Client, conforms: Conforms) -> None:
    project_name = project(client)
    got = client.get(f"/projects/{project_name}").json()
    conforms("Project", got)
    assert (got["name"], got["type"]) == (project_name, "imageannotation")
    assert [v["version"] for v in got["param_history"]] == [0]
    again = client.post("/projects", json={**IMAGE_PROJECT, "name": project_name})
    assert again.status_code == 409
    conforms("Error", again.json())
    listed = client.get("/projects").json()
    assert isinstance(listed, list) and project_name in [p["name"] for p in listed]
    assert client.get("/projects", params={"archived": "true"}).json() == []
    missing = client.get("/projects/no-such-project")
    assert missing.status_code == 404
    conforms("Error", missing.json())
    patched = client.post(
        f"/projects/{project_name}/setParams", json={"patch": True, "instruction": "Cats too."}
    ).json()
    conforms("Project", patched)
    latest = patched["param_history"][-1]
    assert latest["version"] == 1 and latest["instruction"] == "Cats too."
    assert latest["geometries"] == IMAGE_PROJECT["params"]["geometries"]
    replaced = client.post(f"/projects/{project_name}/setParams", json={"instruction": "Only."})
    last = replaced.json()["param_history"][-1]
    assert last["version"] == 2 and "geometries" not in last
    ontology = client.post(
        f"/projects/{project_name}/setOntology",
        json={"ontology": ["kitten", {"choice": "cat", "subchoices": ["tabby"]}], "name": "v2"},
    )
    assert ontology.status_code == 200 and ontology.json()["name"] == "v2"
    assert client.get(f"/projects/{project_name}/taskTemplates").status_code == 400


def test_task_template_of_a_chat_project(client: httpx.Client, conforms: Conforms) -> None:
    chat = name("chat")
    params = {"instruction": "Write about {{topic}} for {{ audience }}."}
    client.post("/projects", json={"type": "chat", "name": chat, "params": params})
    template = client.get(f"/projects/{chat}/taskTemplates").json()
    conforms("TaskTemplate", template)
    assert template["project"] == chat
    assert set(template["template_variables"]) == {"topic", "audience"}


def test_a_task_inherits_its_projects_params(client: httpx.Client) -> None:
    project_name = project(client)
    # No geometries of its own: the project's are used (and the request is valid with them).
    task = client.post(
        "/task/imageannotation",
        json={"project": project_name, "attachment": "https://example.com/k.jpg"},
    ).json()
    assert task["project"] == project_name
    assert task["instruction"] == IMAGE_PROJECT["params"]["instruction"]
    assert task["params"]["geometries"] == IMAGE_PROJECT["params"]["geometries"]
    assert task["project_param_version"] == 0
    own = client.post(
        "/task/imageannotation",
        json={**MORE_PAYLOADS["imageannotation"], "project": project_name, "instruction": "Mine"},
    ).json()
    assert own["instruction"] == "Mine"
    assert own["params"]["geometries"] == MORE_PAYLOADS["imageannotation"]["geometries"]
    listed = client.get("/tasks", params={"project": project_name}).json()
    assert {t["task_id"] for t in listed["docs"]} == {task["task_id"], own["task_id"]}


def test_a_project_that_is_missing_or_of_another_type_is_refused(client: httpx.Client) -> None:
    project_name = project(client)
    wrong = client.post(
        "/task/categorization", json={**PAYLOADS["categorization"], "project": project_name}
    )
    assert wrong.status_code == 400 and "imageannotation" in wrong.json()["error"]
    missing = client.post(
        "/task/categorization", json={**PAYLOADS["categorization"], "project": "nope"}
    )
    assert missing.status_code == 400
    assert missing.json()["error"] == "Project not found: nope"


# -- batches ------------------------------------------------------------------------------
def test_batch_life_with_live_tasks(
    live_client: httpx.Client, scale_sandbox: Sandbox, conforms: Conforms
) -> None:
    project_name = project(live_client)
    created = batch(live_client, project_name)
    conforms("Batch", created)
    batch_name = created["name"]
    assert created["status"] == "in_progress"
    assert (
        live_client.post("/batches", json={"project": project_name, "name": batch_name}).status_code
        == 409
    )
    body = {**MORE_PAYLOADS["imageannotation"], "batch": batch_name}
    tasks = [live_client.post("/task/imageannotation", json=body).json() for _ in range(3)]
    assert {t["project"] for t in tasks} == {project_name}  # the batch implies its project
    live_client.post(f"/task/{tasks[2]['task_id']}/cancel")
    status = live_client.get(f"/batches/{batch_name}/status").json()
    conforms("BatchStatusCounts", status)
    assert status == {
        "status": "in_progress",
        "pending": 2,
        "completed": 0,
        "error": 0,
        "canceled": 1,
    }
    finalized = live_client.post(f"/batches/{batch_name}/finalize")
    assert finalized.status_code == 200 and finalized.json()["status"] == "in_progress"
    refused = live_client.post("/task/imageannotation", json=body)
    assert refused.status_code == 400 and "finalized" in refused.json()["error"]
    scale_sandbox.complete_task(tasks[0]["task_id"])
    assert live_client.get(f"/batches/{batch_name}").json()["status"] == "in_progress"
    scale_sandbox.fail_task(tasks[1]["task_id"])
    done = live_client.get(f"/batches/{batch_name}/status").json()
    assert done == {"status": "completed", "pending": 0, "completed": 1, "error": 1, "canceled": 1}
    assert live_client.get(f"/batches/{batch_name}").json()["status"] == "completed"
    listed = live_client.get("/tasks", params={"batch": batch_name}).json()
    assert {t["task_id"] for t in listed["docs"]} == {t["task_id"] for t in tasks}


def test_test_key_tasks_complete_inside_batches(client: httpx.Client) -> None:
    project_name = project(client)
    batch_name = batch(client, project_name)["name"]
    body = {"attachment": "https://example.com/k.jpg", "batch": batch_name}
    task = client.post("/task/imageannotation", json=body).json()
    assert task["status"] == "pending"
    assert client.get(f"/task/{task['task_id']}").json()["status"] == "completed"
    client.post(f"/batches/{batch_name}/finalize")
    status = client.get(f"/batches/{batch_name}/status").json()
    assert (status["status"], status["completed"], status["pending"]) == ("completed", 1, 0)


def test_a_rapid_batch_is_staging_until_finalized(client: httpx.Client) -> None:
    project_name = project(client, rapid=True)
    created = batch(client, project_name)
    assert created["status"] == "staging"
    body = {**MORE_PAYLOADS["imageannotation"], "batch": created["name"]}
    client.post("/task/imageannotation", json=body)
    finalized = client.post(f"/batches/{created['name']}/finalize").json()
    assert finalized["status"] in ("in_progress", "completed")


def test_batch_rules(client: httpx.Client, conforms: Conforms) -> None:
    missing = client.get("/batches/no-such-batch")
    assert missing.status_code == 404
    conforms("Error", missing.json())
    assert client.get("/batches/no-such-batch/status").status_code == 404
    assert client.post("/batches/no-such-batch/finalize").status_code == 404
    orphan = client.post("/batches", json={"project": "no-such-project", "name": name("b")})
    assert orphan.status_code == 404
    first, second = project(client), project(client)
    batch_name = batch(client, first)["name"]
    other = client.post(
        "/task/imageannotation",
        json={**MORE_PAYLOADS["imageannotation"], "batch": batch_name, "project": second},
    )
    assert other.status_code == 400 and first in other.json()["error"]
    unknown = client.post(
        "/task/imageannotation", json={**MORE_PAYLOADS["imageannotation"], "batch": "nope"}
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "Batch not found: nope"
    meta = client.post(f"/batches/{batch_name}/setMetadata", json={"owner": "vision"})
    assert meta.status_code == 200 and meta.json()["metadata"] == {"owner": "vision"}
    assert client.get(f"/batches/{batch_name}").json()["metadata"] == {"owner": "vision"}


def test_batch_list_filters_and_pages(client: httpx.Client, conforms: Conforms) -> None:
    first, second = project(client), project(client)
    names = [batch(client, first)["name"] for _ in range(3)]
    other = batch(client, second)["name"]
    client.post(f"/batches/{names[0]}/finalize")  # no tasks: completed at once
    page = client.get("/batches", params={"project": first, "limit": 2}).json()
    conforms("BatchList", page)
    assert (page["totalDocs"], page["limit"], page["offset"], page["has_more"]) == (3, 2, 0, True)
    assert [b["name"] for b in page["docs"]] == [names[2], names[1]]
    rest = client.get("/batches", params={"project": first, "limit": 2, "offset": 2}).json()
    assert [b["name"] for b in rest["docs"]] == [names[0]] and rest["has_more"] is False
    done = client.get("/batches", params={"project": first, "status": "completed"}).json()
    assert [b["name"] for b in done["docs"]] == [names[0]]
    every = client.get("/batches", params={"exclude_archived": "false"}).json()
    assert {*names, other} <= {b["name"] for b in every["docs"]}
    created_at = client.get(f"/batches/{names[1]}").json()["created_at"]
    newer = client.get("/batches", params={"project": first, "start_time": created_at}).json()
    # Batches made in the same millisecond as names[1] count as newer too.
    assert {names[2], names[1]} <= {b["name"] for b in newer["docs"]}
    assert all(b["created_at"] >= created_at for b in newer["docs"])


# -- files --------------------------------------------------------------------------------
def test_upload_and_use_a_file(client: httpx.Client, conforms: Conforms) -> None:
    reference = name("ref")
    answer = client.post(
        "/files/upload",
        files={"file": ("kitten.png", b"\x89PNG fake bytes", "image/png")},
        data={
            "project_name": "kittens",
            "display_name": "A kitten",
            "reference_id": reference,
            "metadata": '{"source": "camera"}',
        },
    )
    assert answer.status_code == 200, answer.text
    stored = answer.json()
    conforms("File", stored)
    assert stored["attachment_url"].startswith("scaledata://")
    assert (stored["size"], stored["mime_type"]) == (15, "image/png")
    assert stored["project_names"] == ["kittens"]
    assert stored["metadata"] == {"source": "camera"}
    duplicate = client.post(
        "/files/upload", files={"file": ("k.png", b"x")}, data={"reference_id": reference}
    )
    assert duplicate.status_code == 409
    conforms("Error", duplicate.json())
    task = client.post(
        "/task/imageannotation",
        json={**MORE_PAYLOADS["imageannotation"], "attachment": stored["attachment_url"]},
    )
    assert task.status_code == 200
    assert task.json()["params"]["attachment"] == stored["attachment_url"]


def test_upload_refusals(client: httpx.Client) -> None:
    no_file = client.post("/files/upload", files={"other": ("a", b"x")}, data={"display_name": "x"})
    assert no_file.status_code == 400
    bad_meta = client.post("/files/upload", files={"file": ("a", b"x")}, data={"metadata": "[1]"})
    assert bad_meta.status_code == 400 and "metadata" in bad_meta.json()["error"]
    not_form = client.post("/files/upload", json={"file": "x"})
    assert not_form.status_code == 400


def test_an_upload_too_large_is_a_json_413(client: httpx.Client) -> None:
    from scaleapi.sandbox._files import MAX_FILE_BYTES

    def body() -> Any:
        yield b"--b\r\ncontent-disposition: form-data; name=file; filename=big.bin\r\n\r\n"
        chunk = b"\0" * (1 << 20)
        for _ in range(MAX_FILE_BYTES // len(chunk) + 1):
            yield chunk
        yield b"\r\n--b--\r\n"

    answer = client.post(
        "/files/upload",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]


def test_import_is_recorded_not_fetched(client: httpx.Client, conforms: Conforms) -> None:
    reference = name("ref")
    body = {"file_url": "https://example.com/kitten.jpg", "reference_id": reference}
    stored = client.post("/files/import", json=body)
    assert stored.status_code == 200, stored.text
    conforms("File", stored.json())
    assert stored.json()["mime_type"] == "image/jpeg"
    assert client.post("/files/import", json=body).status_code == 409


# -- teams --------------------------------------------------------------------------------
def test_team_invite_and_roles(client: httpx.Client, conforms: Conforms) -> None:
    assert client.get("/teams").json() == []
    team = client.post(
        "/teams/invite",
        json={"emails": ["ada@example.com", "alan@example.com"], "team_role": "labeler"},
    ).json()
    for member in team:
        conforms("Teammate", member)
    assert {(m["email"], m["role"]) for m in team} == {
        ("ada@example.com", "labeler"),
        ("alan@example.com", "labeler"),
    }
    promoted = client.post(
        "/teams/set_role", json={"emails": ["ada@example.com"], "team_role": "manager"}
    ).json()
    assert {m["email"]: m["role"] for m in promoted}["ada@example.com"] == "manager"
    assert (
        client.post(
            "/teams/invite", json={"emails": ["x@example.com"], "team_role": "admin"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/teams/set_role", json={"emails": ["nobody@example.com"], "team_role": "member"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/teams/invite", json={"emails": ["not-an-email"], "team_role": "member"}
        ).status_code
        == 400
    )


# -- isolation and persistence ------------------------------------------------------------
def test_each_key_sees_only_its_own(scale_sandbox_url: str, scale_test_key: str) -> None:
    with (
        make_client(scale_sandbox_url, scale_test_key) as mine,
        make_client(scale_sandbox_url, scale_test_key + "-other") as theirs,
    ):
        project_name = project(mine)
        batch_name = batch(mine, project_name)["name"]
        mine.post("/teams/invite", json={"emails": ["ada@example.com"], "team_role": "member"})
        assert theirs.get(f"/projects/{project_name}").status_code == 404
        assert theirs.get(f"/batches/{batch_name}").status_code == 404
        assert theirs.get("/projects").json() == []
        assert theirs.get("/teams").json() == []
        assert theirs.get("/batches").json()["totalDocs"] == 0
        # Names are per account: theirs may reuse mine.
        assert (
            theirs.post("/projects", json={**IMAGE_PROJECT, "name": project_name}).status_code
            == 200
        )


def test_everything_survives_a_restart_with_db(tmp_path: Path, scale_live_key: str) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db=db) as sandbox, make_client(sandbox.base_url, scale_live_key) as client:
        project_name = project(client)
        batch_name = batch(client, project_name)["name"]
        task = client.post(
            "/task/imageannotation", json={**MORE_PAYLOADS["imageannotation"], "batch": batch_name}
        ).json()
        client.post(f"/task/{task['task_id']}/tags", json=["kept"])
        stored = client.post("/files/upload", files={"file": ("a.txt", b"hello")}).json()
        client.post("/teams/invite", json={"emails": ["ada@example.com"], "team_role": "member"})
    assert (tmp_path / "sandbox.db.files" / stored["id"]).read_bytes() == b"hello"
    with Sandbox(db=db) as sandbox, make_client(sandbox.base_url, scale_live_key) as client:
        assert client.get(f"/projects/{project_name}").status_code == 200
        assert client.get(f"/batches/{batch_name}/status").json()["pending"] == 1
        assert client.get("/tasks", params={"tags": "kept"}).json()["total"] == 1
        assert [m["email"] for m in client.get("/teams").json()] == ["ada@example.com"]
        again = client.post("/projects", json={**IMAGE_PROJECT, "name": project_name})
        assert again.status_code == 409
