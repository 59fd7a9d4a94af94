"""Drop-in for every official release, and everything 2.x does, through real HTTP against
the sandbox: scripts written for 0.1/1.x and for 2.x run unchanged; task management,
projects, batches and files work on both clients and as methods of the objects."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_server import Connection, HostileServer, Request, json_answer

import scaleapi
from scaleapi.batches import Batch, BatchStatus
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInvalidRequest,
    ScaleResourceNotFound,
)
from scaleapi.tasks import TaskReviewStatus, TaskStatus, TaskType

IMAGE: dict[str, Any] = {
    "callback_url": "http://www.example.com/callback",
    "instruction": "Draw a box around each baby cow and big cow.",
    "attachment_type": "image",
    "attachment": "http://i.imgur.com/v4cBreD.jpg",
    "geometries": {
        "box": {"objects_to_annotate": ["Baby Cow", "Big Cow"], "min_height": 10, "min_width": 10}
    },
}
CATEGORIZATION: dict[str, Any] = {
    "callback_url": "http://www.example.com/callback",
    "instruction": "Is this company public or private?",
    "attachment_type": "website",
    "attachment": "http://www.google.com/",
    "categories": ["public", "private"],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(scale_sandbox_url: str, scale_test_key: str) -> Iterator[scaleapi.ScaleClient]:
    with scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url) as c:
        yield c


# -- scripts written for earlier releases, run unchanged --------------------------------

SCRIPT_1X = """\
import sys
import scaleapi

client = scaleapi.ScaleClient(sys.argv[1], 'my-integration')
task = client.create_imageannotation_task(
    callback_url='http://www.example.com/callback',
    instruction='Draw a box around each baby cow and big cow.',
    attachment_type='image',
    attachment='http://i.imgur.com/v4cBreD.jpg',
    geometries={'box': {'objects_to_annotate': ['Baby Cow', 'Big Cow'],
                        'min_height': 10, 'min_width': 10}})
task = client.fetch_task(task.id)
assert task.status == 'completed', task.status
tasks = client.tasks(type='imageannotation', limit=10)
assert task.id in [t.id for t in tasks], tasks
print(task.id, tasks.total)
"""

SCRIPT_2X = """\
import sys
import scaleapi
from scaleapi.exceptions import ScaleDuplicateResource, ScaleResourceNotFound
from scaleapi.tasks import TaskType, TaskStatus

client = scaleapi.ScaleClient(sys.argv[1])
project_name = sys.argv[2]
try:
    client.get_project(project_name)
except ScaleResourceNotFound:
    client.create_project(project_name=project_name, task_type=TaskType.ImageAnnotation,
                          params={'instruction': 'Label the cows.'})
try:
    client.create_project(project_name, TaskType.ImageAnnotation)
    raise SystemExit('a second project of the same name was accepted')
except ScaleDuplicateResource:
    pass
payload = dict(
    project=project_name,
    callback_url='http://www.example.com/callback',
    attachment='http://i.imgur.com/v4cBreD.jpg',
    geometries={'box': {'objects_to_annotate': ['Baby Cow', 'Big Cow'],
                        'min_height': 10, 'min_width': 10}},
    unique_id=project_name + '-1',
)
task = client.create_task(TaskType.ImageAnnotation, **payload)
task = client.get_task(task.id)
assert task.status == TaskStatus.Completed.value, task.status
found = list(client.get_tasks(project_name=project_name, task_type=TaskType.ImageAnnotation))
assert [t.id for t in found] == [task.id], found
assert client.get_tasks_count(project_name=project_name) == 1
print(task.id, task.instruction)
"""


def run_script(script: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCALE_BASE_URL": url, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=Path(__file__).parent,
    )


def test_a_script_for_the_1x_readme_runs_unchanged(
    scale_sandbox_url: str, scale_test_key: str
) -> None:
    proc = run_script(SCRIPT_1X, scale_sandbox_url, scale_test_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_script_for_the_2x_readme_runs_unchanged(
    scale_sandbox_url: str, scale_test_key: str
) -> None:
    proc = run_script(SCRIPT_2X, scale_sandbox_url, scale_test_key, unique("cows"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[1:] == ["Label", "the", "cows."]


# -- the 2.x constructor ------------------------------------------------------------------


def test_source_goes_into_the_user_agent() -> None:
    # The sandbox does not echo headers: a recording server on a real socket does.
    with HostileServer(json_answer()) as server:
        with scaleapi.ScaleClient("test_k", "my-app/1.2", base_url=server.url) as client:
            client.get_task("t1")
        agent = server.requests[0].headers["user-agent"]
    assert agent.startswith("scaleapi/") and agent.endswith(" my-app/1.2")


def test_old_options_map_onto_httpx_with_a_deprecation_warning(
    scale_sandbox_url: str, scale_test_key: str
) -> None:
    with pytest.warns(DeprecationWarning, match="base_url"):
        client = scaleapi.ScaleClient(scale_test_key, api_instance_url=scale_sandbox_url)
    with client:
        task = client.create_task(TaskType.Categorization, **CATEGORIZATION)
        assert client.base_url == scale_sandbox_url and task.type == "categorization"
    with pytest.warns(DeprecationWarning, match="verify"):
        scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url, verify=False).close()
    with warnings.catch_warnings(), pytest.raises(ScaleInvalidRequest, match="mounts"):
        warnings.simplefilter("ignore", DeprecationWarning)
        scaleapi.ScaleClient(
            scale_test_key, proxies={"http": "http://127.0.0.1:1", "https": "http://127.0.0.1:2"}
        )
    with pytest.raises(ScaleInvalidRequest, match="http_client"):
        scaleapi.ScaleClient(scale_test_key, verify=False, http_client=httpx.Client())


def test_enums_are_strings_with_the_2x_member_names() -> None:
    assert TaskType.ImageAnnotation == "imageannotation"
    assert TaskType.Federal2dVideoAnnotation == "federal2dvideoannotation"
    assert TaskStatus.Completed == "completed" and TaskReviewStatus.Accepted == "accepted"
    assert BatchStatus.InProgress == "in_progress"
    assert scaleapi.TaskType is TaskType and isinstance(TaskType.Chat, str)
    assert f"{TaskType.Chat}" == "chat"


def test_get_tasks_needs_a_project_or_a_batch(client: scaleapi.ScaleClient) -> None:
    with pytest.raises(ScaleInvalidRequest, match="project_name or batch_name"):
        next(iter(client.get_tasks()))


# -- task management -------------------------------------------------------------------


@pytest.fixture
def live(scale_sandbox_url: str, scale_live_key: str) -> Iterator[scaleapi.ScaleClient]:
    """Tasks of a live key wait for people: they stay pending, so they can be canceled."""
    with scaleapi.ScaleClient(scale_live_key, base_url=scale_sandbox_url) as c:
        yield c


def test_task_management_on_the_client_and_on_the_task(live: scaleapi.ScaleClient) -> None:
    client = live
    uid = unique("uid")
    task = client.create_categorization_task(**CATEGORIZATION, unique_id=uid)
    assert "tags" not in task.as_dict()
    assert task.set_metadata({"order": 1}) is task and task.metadata == {"order": 1}
    task.set_tags(["a", "b", "c"])
    assert task.add_tags(["c", "d"]).tags == ["a", "b", "c", "d"]
    assert client.delete_task_tags(task.id, ["a", "b"]).tags == ["c", "d"]
    new_uid = unique("uid")
    assert task.update_unique_id(new_uid).unique_id == new_uid
    other = client.create_categorization_task(**CATEGORIZATION, unique_id=uid)
    with pytest.raises(ScaleDuplicateResource):
        other.update_unique_id(new_uid)
    assert "unique_id" not in task.clear_unique_id().as_dict()
    canceled = other.cancel(clear_unique_id=True)
    assert other.cancel().status == "canceled"  # a repeat cancel changes nothing
    assert canceled.status == "canceled" and "unique_id" not in canceled.as_dict()
    reused = client.create_categorization_task(**CATEGORIZATION, unique_id=uid)
    assert reused.id != other.id


async def _async_management(url: str, key: str) -> list[Any]:
    async with scaleapi.AsyncScaleClient(key, base_url=url) as client:
        task = await client.create_categorization_task(**CATEGORIZATION)
        await task.aset_tags(["x"])
        await task.aadd_tags(["y"])
        await task.aset_metadata({"k": "v"})
        fetched = await client.get_task(task.id)
        raw = await client.with_raw_response.get_task(task.id)
        return [task.tags, fetched.metadata, raw.status_code, raw.parsed.id == task.id]


def test_async_task_methods_and_raw_response(scale_sandbox_url: str, scale_test_key: str) -> None:
    tags, metadata, status, same = asyncio.run(_async_management(scale_sandbox_url, scale_test_key))
    assert tags == ["x", "y"] and metadata == {"k": "v"} and status == 200 and same


def test_raw_response_carries_status_headers_and_request_id(client: scaleapi.ScaleClient) -> None:
    task = client.create_categorization_task(**CATEGORIZATION)
    raw = client.with_raw_response.fetch_task(task.id)
    assert raw.status_code == 200 and raw.parsed.id == task.id
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.request_id == raw.headers.get("x-request-id")


# -- projects, batches, files --------------------------------------------------------------


def test_a_batch_whole_life(client: scaleapi.ScaleClient, tmp_path: Path) -> None:
    project = client.create_project(
        unique("proj"), TaskType.Categorization, {"instruction": "Pick one."}
    )
    assert project.type == "categorization" and project.instruction == "Pick one."
    with pytest.raises(ScaleDuplicateResource):
        client.create_project(project.name, TaskType.Categorization)
    batch = client.create_batch(project.name, unique("batch"))
    assert isinstance(batch, Batch) and batch.project == project.name
    with pytest.raises(ScaleResourceNotFound):
        client.get_batch(unique("missing"))
    image = tmp_path / "cow.txt"
    image.write_text("a cow")
    uploaded = client.upload_file(image, project_name=project.name)
    params = {k: v for k, v in CATEGORIZATION.items() if k != "instruction"}
    created = [
        client.create_task(
            TaskType.Categorization, **params, batch=batch.name, project=project.name
        )
        for _ in range(3)
    ]
    on_file = client.create_categorization_task(
        **{**params, "attachment": uploaded.attachment_url}, batch=batch.name, project=project.name
    )
    assert on_file.as_dict().get("instruction") == "Pick one."  # inherited from the project
    batch.finalize()
    for task in [*created, on_file]:
        task.refresh()  # test keys complete on the next fetch
    counts = batch.get_status()
    assert counts["status"] == batch.status and batch.tasks_completed == 4
    assert counts.completed + counts.pending + counts.error + counts.canceled == 4
    listed = list(client.get_tasks(project_name=project.name, batch_name=batch.name))
    assert {t.id for t in listed} == {t.id for t in [*created, on_file]}
    assert batch.name in [b.name for b in client.get_batches(project_name=project.name)]
    page = client.batches(project=project.name)
    assert page.total >= 1 and batch.name in [b.name for b in page]


def test_a_limited_response_page_still_reads_as_tasks(client: scaleapi.ScaleClient) -> None:
    project = client.create_project(unique("lim"), TaskType.Categorization)
    made = client.create_categorization_task(**CATEGORIZATION, project=project.name)
    page = client.tasks(project=project.name, limited_response=True)
    assert [t.id for t in page] == [made.id]
    assert page[0].status in ("pending", "completed") and "params" not in page[0].as_dict()


def test_rapid_evaluation_and_training_tasks_need_a_rapid_project(
    client: scaleapi.ScaleClient,
) -> None:
    rapid = client.create_project(unique("rapid"), TaskType.ImageAnnotation, rapid=True)
    plain = client.create_project(unique("plain"), TaskType.ImageAnnotation)
    answer = {"annotations": [{"type": "box", "label": "cow", "left": 1, "top": 2}]}
    body: dict[str, Any] = {k: v for k, v in IMAGE.items() if k != "callback_url"}
    made = client.create_evaluation_task(
        "imageannotation", project=rapid.name, expected_response=answer, **body
    )
    assert made.id and made.expected_response.to_dict() == answer
    trained = client.create_training_task("imageannotation", project=rapid.name,
                                          expected_response=answer, **body)  # fmt: skip
    assert trained.id != made.id
    with pytest.raises(ScaleInvalidRequest, match="not a Rapid project"):
        client.create_training_task("imageannotation", project=plain.name,
                                    expected_response=answer, **body)  # fmt: skip


def test_every_result_carries_the_servers_request_id() -> None:
    # The sandbox sends no x-request-id; a server on a real socket sends one per answer.
    task = {
        "task_id": "t1",
        "type": "categorization",
        "status": "pending",
        "created_at": "2024-01-01T00:00:00.000Z",
        "params": {"attachment_type": "website", "attachment": "a", "categories": ["x"]},
    }

    def handler(request: Request, conn: Connection) -> None:
        body: Any = task
        if request.target.split("?")[0].endswith("/tasks"):
            body = {"docs": [task], "total": 1, "limit": 100, "offset": 0, "has_more": False}
        conn.answer(200, body, {"x-request-id": f"req-{request.method}"})

    with (
        HostileServer(handler) as server,
        scaleapi.ScaleClient("test_k", base_url=server.url) as c,
    ):
        assert c.get_task("t1").request_id == "req-GET"
        page = c.tasks()
        assert page.request_id == "req-GET" and page[0].request_id == "req-GET"
        assert c.cancel_task("t1").request_id == "req-POST"
        assert c.with_raw_response.get_task("t1").request_id == "req-GET"


def test_an_upload_that_cannot_be_read_or_is_too_big_is_refused_before_sending(
    client: scaleapi.ScaleClient, tmp_path: Path
) -> None:
    with pytest.raises(ScaleInvalidRequest, match="cannot read the file"):
        client.upload_file(tmp_path / "missing.jpg")
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:  # sparse: nothing of it is written to disk
        handle.truncate(80 * 1000 * 1000 + 1)
    with pytest.raises(ScaleInvalidRequest, match="over the API's 80000000 byte limit"):
        client.upload_file(huge)
    small = tmp_path / "cow.txt"
    small.write_text("a cow")
    assert client.upload_file(small).attachment_url.startswith("scaledata://")


def test_get_batches_refuses_a_server_that_would_page_for_ever() -> None:
    batch = {"name": "b1", "status": "in_progress", "project": "p", "metadata": {},
             "created_at": "2024-01-01T00:00:00.000Z"}  # fmt: skip
    page = {"docs": [batch], "totalDocs": 10, "limit": 1, "offset": 0, "has_more": True}
    with (
        HostileServer(json_answer(page)) as server,
        scaleapi.ScaleClient("test_k", base_url=server.url) as client,
    ):
        seen: list[str] = []
        with pytest.raises(scaleapi.ScaleBadResponse, match="would not move forward"):
            seen.extend(b.name for b in client.get_batches(project_name="p"))
        assert seen == ["b1", "b1"]  # the two pages read before the loop shows
        offsets = [r.target.partition("offset=")[2][:1] for r in server.requests]
        assert offsets == ["", "1"]
