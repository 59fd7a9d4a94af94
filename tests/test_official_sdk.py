"""Interoperability: the official ``scaleapi`` 2.x package, pointed at our sandbox with
``api_instance_url``, creates, fetches, cancels and lists tasks, and gets its own
exception classes for 400 and 404. The sandbox must speak the real API, not only our
SDK's dialect. The official package has our import name, so it runs in a venv of its own
(made once, in ``benchmarks/.venv-official/``, which ``make bench`` uses too)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from sandbox_helpers import ALL_PAYLOADS  # tests/sandbox is on the test path

from scaleapi.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_VENV = ROOT / "benchmarks" / ".venv-official"  # shared with make bench
OFFICIAL_REQUIREMENT = "scaleapi>=2,<3"
SCRIPT = Path(__file__).resolve().parent / "interop" / "official_sdk_script.py"


@pytest.fixture(scope="module")
def official_python() -> Path:
    python = OFFICIAL_VENV / "bin" / "python"
    marker = OFFICIAL_VENV / ".installed"
    if not marker.exists():
        venv.create(OFFICIAL_VENV, with_pip=True, clear=True)
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", OFFICIAL_REQUIREMENT],
            check=True,
            timeout=600,
        )
        marker.touch()
    return python


def test_official_sdk_speaks_to_the_sandbox(official_python: Path) -> None:
    payloads = json.dumps(ALL_PAYLOADS)
    with Sandbox(complete_after=0.2) as sandbox:
        run = subprocess.run(
            [
                official_python,
                "-I",
                SCRIPT,
                sandbox.base_url,
                "test_official",
                "live_official",
                payloads,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["version"].startswith("2.")
    created = seen["created"]
    assert created["status"] == "pending"
    assert seen["fetched"]["id"] == created["id"]
    assert seen["fetched"]["status"] == "completed"
    assert seen["fetched"]["response"]["category"] in ("public", "private")
    assert seen["listed"] == {"ids": [created["id"]], "total": 1}
    assert seen["canceled"]["status"] == "canceled"
    assert seen["invalid"]["class"] == "ScaleInvalidRequest"
    assert seen["invalid"]["code"] == 400 and "attachment" in seen["invalid"]["message"]
    assert seen["not_found"] == {"class": "ScaleResourceNotFound", "code": 404}
    # Every type of the official TaskType enum is created and completes.
    assert len(seen["types"]) == 31
    assert all(
        kind == name and status == "completed" for name, (kind, status) in seen["types"].items()
    )
    # Task management, with the error classes the API documents.
    assert seen["duplicate_unique_id"] == {"class": "ScaleDuplicateResource", "code": 409}
    assert seen["cancel_cleared"] == {"status": "canceled", "has_uid": False}
    assert seen["reused_unique_id"] is not None
    assert seen["cancel_completed"] == {"class": "ScaleInvalidRequest", "code": 400}
    assert seen["metadata"] == {"myKey": "myValue"}
    assert seen["tags_before"] is False and seen["tags"] == ["tag3"]
    assert seen["new_uid"].endswith("-b") and seen["uid_cleared"] is False
    assert seen["review"] == "accepted"
    # A batch's whole life.
    assert seen["project"]["version"] == 0 and seen["project"]["instruction"] == "Box every kitten."
    assert seen["duplicate_project"] == {"class": "ScaleDuplicateResource", "code": 409}
    assert seen["missing_project"] == {"class": "ScaleResourceNotFound", "code": 404}
    assert seen["project_updated"] == {"version": 1, "instruction": "Box kittens and cats."}
    assert seen["projects"] is True
    assert seen["batch"]["status"] == "in_progress"
    assert seen["batch"]["metadata"] == {"owner": "vision"}
    assert seen["duplicate_batch"] == {"class": "ScaleDuplicateResource", "code": 409}
    assert seen["missing_batch"] == {"class": "ScaleResourceNotFound", "code": 404}
    assert seen["file"]["url"].startswith("scaledata://")
    assert seen["batch_tasks_project"] == seen["project"]["name"]
    assert seen["finalized"] in ("in_progress", "completed")
    assert seen["after_finalize"] == {"class": "ScaleInvalidRequest", "code": 400}
    assert seen["batch_status"] == {
        "status": "completed",
        "pending": 0,
        "completed": 2,
        "error": 0,
        "canceled": 0,
    }
    assert seen["batch_counts"] == ["completed", 2, 0]
    assert seen["batch_metadata"] == {"owner": "audit"}
    assert seen["batches_by_project"] == [seen["batch"]["name"]]
    assert seen["batches_completed"] == [seen["batch"]["name"]]
    assert seen["tasks_by_project"] == seen["tasks_by_batch"] == seen["batch_task_ids"]
    assert seen["count_by_project"] == seen["count_completed"] == 2
    assert seen["count_none"] == 0
    assert seen["by_tag"] is True
    assert len(seen["by_uids"]) == 1
    assert seen["by_review"] == [seen["audited"]]
    assert seen["limited_keys"] == ["metadata", "project", "status", "task_id"]
    assert seen["team"] == [["ada@example.com", "labeler"]]
    assert seen["team_after"] == [["ada@example.com", "manager"]]


def test_the_script_runs_the_official_package_not_ours(official_python: Path) -> None:
    run = subprocess.run(
        [official_python, "-I", "-c", "import scaleapi, sys; print(scaleapi.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(ROOT / "scaleapi") not in run.stdout
    assert sys.executable != str(official_python)
