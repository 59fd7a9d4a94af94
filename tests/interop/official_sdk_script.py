"""Run by tests/test_official_sdk.py with the official scaleapi 2.x package, in a venv of
its own (it has our import name). Prints one JSON line of what it saw."""

import io
import json
import sys
import time
import uuid

import scaleapi
from scaleapi.batches import BatchStatus
from scaleapi.exceptions import (
    ScaleInvalidRequest,
    ScaleResourceNotFound,
)
from scaleapi.tasks import TaskReviewStatus, TaskStatus, TaskType
from scaleapi.teams import TeammateRole

base_url, test_key, live_key, payloads_json = sys.argv[1:5]
payloads = json.loads(payloads_json)
seen = {"version": scaleapi.__version__}


def error_of(call, *args, **kwargs):
    """The class and code of the exception a call raises (None when it raises none)."""
    try:
        call(*args, **kwargs)
    except scaleapi.exceptions.ScaleException as exc:
        return {"class": type(exc).__name__, "code": exc.code}
    return None


client = scaleapi.ScaleClient(test_key, api_instance_url=base_url)
task = client.create_task(
    TaskType.Categorization,
    callback_url="http://www.example.com/callback",
    instruction="Is this company public or private?",
    attachment_type="website",
    attachment="http://www.google.com/",
    categories=["public", "private"],
)
seen["created"] = {"id": task.id, "status": task.status}
fetched = client.get_task(task.id)
seen["fetched"] = {"id": fetched.id, "status": fetched.status, "response": fetched.response}
page = client.tasks(type="categorization", limit=10)
seen["listed"] = {"ids": [t.id for t in page.docs], "total": page.total}

live = scaleapi.ScaleClient(live_key, api_instance_url=base_url)
pending = live.create_task(
    TaskType.Categorization, attachment_type="text", attachment="ACME", categories=["a", "b"]
)
canceled = live.cancel_task(pending.id)
seen["canceled"] = {"id": canceled.id, "status": canceled.status}

try:
    client.create_task(TaskType.Categorization, callback_url="http://www.example.com/callback")
except ScaleInvalidRequest as exc:
    seen["invalid"] = {"class": type(exc).__name__, "code": exc.code, "message": exc.message}
try:
    client.get_task("0123456789abcdef01234567")
except ScaleResourceNotFound as exc:
    seen["not_found"] = {"class": type(exc).__name__, "code": exc.code}

# -- every task type, by the official enum ------------------------------------------
seen["types"] = {}
for task_type in TaskType:
    created = client.create_task(task_type, **payloads[task_type.value])
    seen["types"][task_type.value] = [created.type, client.get_task(created.id).status]

# -- task management ------------------------------------------------------------------
uid = f"uid-{uuid.uuid4().hex[:8]}"
managed = live.create_task(TaskType.Categorization, unique_id=uid, **payloads["categorization"])
seen["duplicate_unique_id"] = error_of(
    live.create_task, TaskType.Categorization, unique_id=uid, **payloads["categorization"]
)
canceled = live.cancel_task(managed.id, clear_unique_id=True)
seen["cancel_cleared"] = {"status": canceled.status, "has_uid": hasattr(canceled, "unique_id")}
reused = live.create_task(TaskType.Categorization, unique_id=uid, **payloads["categorization"])
seen["reused_unique_id"] = reused.unique_id
seen["cancel_completed"] = error_of(client.cancel_task, task.id)
meta = client.set_task_metadata(task.id, {"myKey": "myValue"})
seen["metadata"] = meta.metadata
seen["tags_before"] = hasattr(client.get_task(task.id), "tags")
client.set_task_tags(task.id, ["tag1", "tag2"])
client.add_task_tags(task.id, ["tag3"])
seen["tags"] = client.delete_task_tags(task.id, ["tag1", "tag2"]).tags
seen["new_uid"] = client.update_task_unique_id(task.id, uid + "-b").unique_id
seen["uid_cleared"] = hasattr(client.clear_task_unique_id(task.id), "unique_id")
client.audit_task(task.id, True)
seen["review"] = client.get_task(task.id).as_dict().get("customer_review_status")

# -- a batch's whole life ---------------------------------------------------------------
project_name = f"kittens-{uuid.uuid4().hex[:8]}"
project = client.create_project(
    project_name,
    TaskType.ImageAnnotation,
    params={
        "instruction": "Box every kitten.",
        "geometries": payloads["imageannotation"]["geometries"],
    },
)
seen["project"] = {
    "name": project.name,
    "version": project.version,
    "instruction": project.instruction,
}
seen["duplicate_project"] = error_of(client.create_project, project_name, TaskType.ImageAnnotation)
seen["missing_project"] = error_of(client.get_project, "no-such-project")
updated = client.update_project(project_name, patch=True, instruction="Box kittens and cats.")
seen["project_updated"] = {"version": updated.version, "instruction": updated.instruction}
seen["projects"] = project_name in [p.name for p in client.get_projects()]
batch_name = f"{project_name}/july"  # a slash: the SDK quotes it, the sandbox keeps it whole
batch = client.create_batch(project_name, batch_name, metadata={"owner": "vision"})
seen["batch"] = {"name": batch.name, "status": batch.status, "metadata": batch.metadata}
seen["duplicate_batch"] = error_of(client.create_batch, project_name, batch_name)
seen["missing_batch"] = error_of(client.get_batch, "no-such-batch")
stored = client.upload_file(io.BytesIO(b"\x89PNG kitten"), project_name=project_name)
seen["file"] = {"id": stored.id, "url": stored.attachment_url}
created_ids = []
for attachment in ("https://example.com/k1.jpg", stored.attachment_url):
    made = client.create_task(
        TaskType.ImageAnnotation, project=project_name, batch=batch_name, attachment=attachment
    )
    created_ids.append(made.id)
seen["batch_tasks_project"] = made.as_dict().get("project")
finalized = client.finalize_batch(batch_name)
seen["finalized"] = finalized.status
seen["after_finalize"] = error_of(
    client.create_task, TaskType.ImageAnnotation, batch=batch_name, attachment="https://x.io/a.jpg"
)
for _ in range(50):
    counts = client.batch_status(batch_name)
    if counts.get("completed", 0) + counts.get("error", 0) + counts.get("canceled", 0) == 2:
        break
    time.sleep(0.1)
seen["batch_status"] = counts
got = client.get_batch(batch_name)
got.get_status()
seen["batch_counts"] = [got.status, got.tasks_completed, got.tasks_pending]
client.set_batch_metadata(batch_name, {"owner": "audit"})
seen["batch_metadata"] = client.get_batch(batch_name).metadata
seen["batches_by_project"] = [b.name for b in client.get_batches(project_name=project_name)]
seen["batches_completed"] = [
    b.name
    for b in client.get_batches(project_name=project_name, batch_status=BatchStatus.Completed)
]
seen["tasks_by_project"] = sorted(t.id for t in client.get_tasks(project_name=project_name))
seen["tasks_by_batch"] = sorted(t.id for t in client.get_tasks(batch_name=batch_name))
seen["batch_task_ids"] = sorted(created_ids)
seen["count_by_project"] = client.get_tasks_count(project_name=project_name)
seen["count_completed"] = client.get_tasks_count(
    project_name=project_name, status=TaskStatus.Completed, created_after="2000-01-01"
)
seen["count_none"] = client.get_tasks_count(
    project_name=project_name, created_before="2000-01-01T00:00:00"
)

# -- list filters through get_tasks ---------------------------------------------------
filtered = live.create_task(TaskType.Categorization, **payloads["categorization"])
live.set_task_tags(filtered.id, ["red"])
seen["by_tag"] = [t.id for t in live.tasks(tags=["red", "blue"]).docs] == [filtered.id]
seen["by_uids"] = sorted(t.unique_id for t in live.tasks(unique_id=[uid, "nope"]).docs)
client.audit_task(created_ids[0], True)
seen["audited"] = created_ids[0]
seen["by_review"] = [
    t.id
    for t in client.get_tasks(
        batch_name=batch_name, review_status=[TaskReviewStatus.Accepted, TaskReviewStatus.Fixed]
    )
]
limited = list(client.get_tasks(project_name=project_name, limited_response=True, limit=1))
seen["limited_keys"] = sorted(limited[0].as_dict())

# -- teams -------------------------------------------------------------------------------
team = client.invite_teammates(["ada@example.com"], TeammateRole.Labeler)
seen["team"] = [(m.email, m.role.value if hasattr(m.role, "value") else m.role) for m in team]
team = client.update_teammates_role(["ada@example.com"], TeammateRole.Manager)
seen["team_after"] = [(m.email, m.role.value if hasattr(m.role, "value") else m.role) for m in team]
print(json.dumps(seen))
