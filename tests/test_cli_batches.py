"""A batch's whole life through the `scaleapi` console script, against a real sandbox:
projects, batches, a create into the batch that finalizes it, its status, the task list
by project and batch, and uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import CATEGORIZATION, jsonl, scaleapi_cli, write_tasks

from scaleapi._generated.operations import OPERATIONS

NEEDED = ("create_project", "get_project", "create_batch", "finalize_batch", "upload_file")
pytestmark = pytest.mark.skipif(
    any(name not in OPERATIONS for name in NEEDED),
    reason="the spec has no projects, batches or files yet",
)


def test_a_batch_from_creation_to_status(
    tmp_path: Path, scale_sandbox_url: str, scale_live_key: str
) -> None:
    def run(*arguments: str) -> str:
        done = scaleapi_cli(*arguments, key=scale_live_key, base_url=scale_sandbox_url)
        assert done.returncode == 0, (arguments, done.stdout, done.stderr)
        return done.stdout

    defaults = json.dumps({"instruction": CATEGORIZATION["instruction"]})
    project = json.loads(
        run("projects", "create", "kittens", "categorization", "--params", defaults,
            "--format", "json")
    )  # fmt: skip
    assert project["name"] == "kittens" and project["type"] == "categorization"
    assert json.loads(run("projects", "get", "kittens", "--format", "json"))["name"] == "kittens"
    listed = json.loads(run("projects", "list", "--format", "json"))
    assert "kittens" in [p["name"] for p in listed]
    again = scaleapi_cli(
        "projects", "create", "kittens", "categorization",
        key=scale_live_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert again.returncode == 1 and "HTTP 409" in again.stderr

    batch = json.loads(run("batches", "create", "kittens", "kittens-1", "--format", "json"))
    assert batch["name"] == "kittens-1" and batch["project"] == "kittens"

    tasks = write_tasks(tmp_path / "tasks.jsonl", 20)
    created = scaleapi_cli(
        "create", "categorization", "-f", str(tasks), "--project", "kittens",
        "--batch", "kittens-1", "--finalize",
        key=scale_live_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert {r["status"] for r in jsonl(created.stdout)} == {"created"}
    assert "batch kittens-1 finalized" in created.stderr

    status = json.loads(run("batches", "status", "kittens-1", "--format", "json"))
    counted = sum(v for k, v in status.items() if k != "status" and isinstance(v, int))
    assert counted == 20

    in_batch = jsonl(run("list", "--project", "kittens", "--batch", "kittens-1", "--all"))
    assert len(in_batch) == 20
    assert {t["batch"] for t in in_batch} == {"kittens-1"}
    page = json.loads(run("batches", "list", "--project", "kittens", "--format", "json"))
    assert [b["name"] for b in page["docs"]] == ["kittens-1"]
    assert json.loads(run("batches", "get", "kittens-1", "--format", "json"))["name"] == "kittens-1"

    missing = scaleapi_cli(
        "batches", "finalize", "no-such-batch", key=scale_live_key, base_url=scale_sandbox_url
    )
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr


def test_create_finalizes_only_a_complete_run(
    tmp_path: Path, scale_sandbox_url: str, scale_live_key: str
) -> None:
    def run(*arguments: str) -> None:
        done = scaleapi_cli(*arguments, key=scale_live_key, base_url=scale_sandbox_url)
        assert done.returncode == 0, (arguments, done.stderr)

    run("projects", "create", "p1", "categorization")
    run("batches", "create", "p1", "b1")
    tasks = write_tasks(tmp_path / "tasks.jsonl", 3)
    with tasks.open("a") as out:
        out.write("{not json\n")
    first = scaleapi_cli(
        "create", "categorization", "-f", str(tasks), "--project", "p1", "--batch", "b1",
        "--finalize", key=scale_live_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert first.returncode == 1
    assert "batch b1 not finalized" in first.stderr
    no_batch = scaleapi_cli("create", "categorization", "-f", str(tasks), "--finalize")
    assert no_batch.returncode == 2 and "--finalize needs --batch" in no_batch.stderr


def test_upload_prints_each_file_and_goes_on_after_a_failure(
    tmp_path: Path, scale_sandbox_url: str, scale_live_key: str
) -> None:
    first, second = tmp_path / "kitten-1.txt", tmp_path / "kitten-2.txt"
    first.write_text("meow")
    second.write_text("purr")
    done = scaleapi_cli(
        "upload", str(first), str(second), "--reference-id", "same-ref",
        key=scale_live_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert done.returncode == 1  # the second upload reuses the reference_id: 409
    uploaded = jsonl(done.stdout)
    assert len(uploaded) == 1 and uploaded[0]["attachment_url"]
    assert "kitten-2.txt" in done.stderr and "HTTP 409" in done.stderr
    assert "1 uploaded, 1 failed" in done.stderr
