"""The `scaleapi` console script, run as a real process against a real sandbox."""

from __future__ import annotations

import csv
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import scaleapi
from scaleapi._generated.operations import LIST_TASKS, OPERATIONS
from scaleapi.sandbox import Sandbox
from scaleapi.types import CategorizationParams

CLI = shutil.which("scaleapi", path=os.path.dirname(sys.executable))
pytestmark = pytest.mark.skipif(CLI is None, reason="the scaleapi console script is not installed")

CATEGORIZATION: dict[str, Any] = {
    "instruction": "Is this company public or private?",
    "attachment_type": "website",
    "categories": ["public", "private"],
}


def scaleapi_cli(
    *arguments: str,
    key: str | None = None,
    base_url: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the console script; checks that the key appears in none of its output."""
    assert CLI is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALE_")}
    if key is not None:
        env["SCALE_API_KEY"] = key
    if base_url is not None:
        env["SCALE_BASE_URL"] = base_url
    done = subprocess.run(
        [CLI, *arguments], capture_output=True, text=True, env=env, timeout=timeout
    )
    secrets = [key] if key else []
    if "--api-key" in arguments:
        secrets.append(arguments[arguments.index("--api-key") + 1])
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_tasks(path: Path, count: int, **extra: Any) -> Path:
    with path.open("w") as out:
        for n in range(count):
            params = {**CATEGORIZATION, "attachment": f"https://example.com/{n}", **extra}
            out.write(json.dumps(params) + "\n")
    return path


def all_tasks(base_url: str, key: str) -> list[scaleapi.Task]:
    with scaleapi.ScaleClient(key, base_url=base_url) as client:
        return list(client.iter_tasks(limit=100))


def settled_count(base_url: str, key: str) -> int:
    """How many tasks the account has, once creates still in the server have landed."""
    count = len(all_tasks(base_url, key))
    while True:
        time.sleep(0.3)  # several times the sandbox's latency
        now = len(all_tasks(base_url, key))
        if now == count:
            return count
        count = now


@pytest.fixture
def client(scale_sandbox_url: str, scale_live_key: str) -> Iterator[scaleapi.ScaleClient]:
    with scaleapi.ScaleClient(scale_live_key, base_url=scale_sandbox_url) as c:
        yield c


# -- create ------------------------------------------------------------------------------


def test_bulk_create_of_1000_lines_then_a_rerun_creates_nothing(
    tmp_path: Path, scale_sandbox_url: str, scale_test_key: str
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1000)
    first = scaleapi_cli(
        "create", "categorization", "--file", str(tasks), "--concurrency", "16",
        key=scale_test_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    results = jsonl(first.stdout)
    assert [r["line"] for r in results] == list(range(1, 1001))  # in input order
    assert {r["status"] for r in results} == {"created"}
    assert "1,000 created, 0 existing, 0 failed" in first.stderr

    stored = all_tasks(scale_sandbox_url, scale_test_key)
    assert len(stored) == 1000
    assert {t.id for t in stored} == {r["task_id"] for r in results}
    assert {t.unique_id for t in stored} == {r["unique_id"] for r in results}
    assert len({r["unique_id"] for r in results}) == 1000

    again = scaleapi_cli(
        "create", "categorization", "--file", str(tasks), "--out", str(tmp_path / "again.jsonl"),
        key=scale_test_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    rerun = jsonl((tmp_path / "again.jsonl").read_text())
    assert {r["status"] for r in rerun} == {"existing"}
    assert [r["task_id"] for r in rerun] == [r["task_id"] for r in results]
    assert "0 created, 1,000 existing, 0 failed" in again.stderr
    assert len(all_tasks(scale_sandbox_url, scale_test_key)) == 1000

    # The export gives every task back.
    export = scaleapi_cli(
        "list", "--all", "--format", "jsonl", key=scale_test_key, base_url=scale_sandbox_url
    )
    assert export.returncode == 0, export.stderr
    exported = jsonl(export.stdout)
    assert len(exported) == 1000
    assert {t["task_id"] for t in exported} == {r["task_id"] for r in results}
    assert {t["type"] for t in exported} == {"categorization"}


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path, scale_live_key: str) -> None:
    assert CLI is not None
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1000)
    out = tmp_path / "results.jsonl"
    with Sandbox(latency_ms=40) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCALE_")}
        env.update(SCALE_API_KEY=scale_live_key, SCALE_BASE_URL=sandbox.base_url)
        command = [CLI, "create", "categorization", "--file", str(tasks), "--out", str(out)]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            deadline = time.monotonic() + 30
            while not out.exists() or out.read_text().count("\n") < 200:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "no progress in 30 s"
                time.sleep(0.02)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr and scale_live_key not in stdout + stderr
        assert "interrupted after" in stderr and "Run the same command again" in stderr
        before = jsonl(out.read_text())  # every line written is whole
        assert 200 <= len(before) < 1000
        assert {r["status"] for r in before} == {"created"}
        made = settled_count(sandbox.base_url, scale_live_key)
        assert len(before) <= made < 1000  # creates in flight may have landed too

        sandbox.configure(latency_ms=0)
        rerun = scaleapi_cli(
            "create", "categorization", "--file", str(tasks), "--out", str(out),
            key=scale_live_key, base_url=sandbox.base_url,
        )  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr
        after = jsonl(out.read_text())
        assert [r["line"] for r in after] == list(range(1, 1001))
        statuses = [r["status"] for r in after]
        assert statuses.count("existing") == made
        assert statuses.count("created") == 1000 - made
        for old in before:  # the tasks the first run made are the ones reported now
            assert after[old["line"] - 1]["task_id"] == old["task_id"]

        stored = all_tasks(sandbox.base_url, scale_live_key)
        assert len(stored) == 1000
        assert len({t.unique_id for t in stored}) == 1000
        assert {t.id for t in stored} == {r["task_id"] for r in after}


def test_failed_lines_are_reported_and_the_exit_status_says_so(
    tmp_path: Path, scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    client.create_transcription_task(
        attachment_type="website", attachment="https://example.com", fields={"a": "b"},
        unique_id="taken",
    )  # fmt: skip
    good = {**CATEGORIZATION, "attachment": "https://example.com/ok"}
    lines = [
        json.dumps(good),
        "{not json",
        "",  # blank lines are skipped
        json.dumps(["a", "list"]),
        json.dumps({**good, "categories": None}),  # the server says 400
        json.dumps({**good, "colour": "blue"}),  # the SDK refuses unknown params
        json.dumps({**good, "unique_id": "mine-7"}),
        json.dumps({**good, "unique_id": "taken"}),  # a transcription task has it
    ]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    done = scaleapi_cli(
        "create", "categorization", "-f", str(tmp_path / "mixed.jsonl"),
        key=scale_live_key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert done.returncode == 1
    results = jsonl(done.stdout)
    assert [r["line"] for r in results] == [1, 2, 4, 5, 6, 7, 8]
    by_line = {r["line"]: r for r in results}
    assert by_line[1]["status"] == "created"
    assert by_line[2]["error"]["status_code"] is None
    assert "not valid JSON" in by_line[2]["error"]["message"]
    assert "not an object" in by_line[4]["error"]["message"]
    assert by_line[5]["error"]["status_code"] == 400
    assert by_line[6]["error"]["status_code"] == 400
    assert "colour" in by_line[6]["error"]["message"]
    assert by_line[7] == {**by_line[7], "status": "created", "unique_id": "mine-7"}
    assert by_line[8]["status"] == "failed"
    assert "taken by transcription task" in by_line[8]["error"]["message"]
    assert "2 created, 0 existing, 5 failed" in done.stderr
    assert "line 5: HTTP 400:" in done.stderr


def test_csv_cells_become_typed_params(
    tmp_path: Path, scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    rows = [
        ["instruction", "attachment_type", "attachment", "categories", "allow_multiple",
         "metadata.batch"],
        ["[Urgent] Public,\nor private?", "website", "https://a.example", '["public", "private"]',
         "true", "b1"],
        ["Which?", "website", "https://b.example", '["x"]', "", ""],
        ["Bad", "website", "https://c.example", "public, private", "no", "b1"],
        ["Bad bool", "website", "https://d.example", '["x"]', "maybe", "b1"],
    ]  # fmt: skip
    path = tmp_path / "tasks.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)

    dry = scaleapi_cli("create", "categorization", "-f", str(path), "--dry-run")
    assert dry.returncode == 1  # two rows cannot be sent
    planned = jsonl(dry.stdout)
    assert [p["line"] for p in planned] == [2, 4, 5, 6]  # the first row spans two lines
    first = planned[0]["params"]
    assert first["instruction"] == "[Urgent] Public,\nor private?"  # text stays text
    assert first["categories"] == ["public", "private"]
    assert first["allow_multiple"] is True
    assert first["metadata"] == {"batch": "b1"}
    assert first["unique_id"].startswith("tasks.csv:2:")
    assert planned[1]["params"].keys() == {
        "instruction", "attachment_type", "attachment", "categories", "unique_id",
    }  # fmt: skip
    assert "column 'categories': expected a JSON array" in planned[2]["error"]["message"]
    assert "column 'allow_multiple': expected true or false" in planned[3]["error"]["message"]

    done = scaleapi_cli(
        "create", "categorization", "-f", str(path), key=scale_live_key, base_url=scale_sandbox_url
    )
    assert done.returncode == 1
    created = [r for r in jsonl(done.stdout) if r["status"] == "created"]
    assert len(created) == 2
    task = client.fetch_task(created[0]["task_id"])
    assert isinstance(task.params, CategorizationParams)
    assert task.params.categories == ["public", "private"]
    assert task.params.allow_multiple is True
    assert task.metadata == {"batch": "b1"}
    second = client.fetch_task(created[1]["task_id"]).params
    assert isinstance(second, CategorizationParams) and second.allow_multiple is False


# -- get, cancel, list -------------------------------------------------------------------


def test_get_and_cancel(
    scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    key = scale_live_key  # the client's key: one fixture value per test
    task = client.create_categorization_task(attachment="https://example.com", **CATEGORIZATION)

    pretty = scaleapi_cli("get", task.id, key=key, base_url=scale_sandbox_url)
    assert pretty.returncode == 0
    assert pretty.stdout.count("\n") > 5  # indented
    assert json.loads(pretty.stdout) == task.as_dict()

    compact = scaleapi_cli("get", task.id, "--format", "json", key=key, base_url=scale_sandbox_url)
    assert compact.stdout.count("\n") == 1
    assert json.loads(compact.stdout)["status"] == "pending"

    canceled = scaleapi_cli(
        "cancel", task.id, "--format", "json", key=key, base_url=scale_sandbox_url
    )
    assert canceled.returncode == 0
    assert json.loads(canceled.stdout)["status"] == "canceled"

    again = scaleapi_cli("cancel", task.id, "--format", "json", key=key, base_url=scale_sandbox_url)
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "canceled"

    missing = scaleapi_cli("get", "0" * 24, key=key, base_url=scale_sandbox_url)
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr


def test_list_table_and_filters(
    scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    key = scale_live_key
    made = [
        client.create_categorization_task(
            attachment=f"https://example.com/{n}", unique_id=f"row-{n}", **CATEGORIZATION
        )
        for n in range(3)
    ]
    other = client.create_datacollection_task(
        attachment_type="website", attachment="https://example.com", fields={"a": "b"}
    )
    table = scaleapi_cli("list", key=key, base_url=scale_sandbox_url)
    assert table.returncode == 0
    for name in ("id", "type", "status", "created", "unique_id"):
        assert name in table.stdout
    for task in [*made, other]:
        assert task.id in table.stdout
    assert "row-1" in table.stdout
    assert "4 of 4 tasks" in table.stdout

    two = scaleapi_cli("list", "--limit", "2", key=key, base_url=scale_sandbox_url)
    assert "2 of 4 tasks" in two.stdout and "--all" in two.stdout

    only = scaleapi_cli(
        "list", "--type", "datacollection", "--format", "jsonl", key=key, base_url=scale_sandbox_url
    )
    assert [t["task_id"] for t in jsonl(only.stdout)] == [other.id]

    future = scaleapi_cli(
        "list", "--all", "--since", "2999-01-01", key=key, base_url=scale_sandbox_url
    )
    assert future.returncode == 0 and future.stdout == ""

    bad = scaleapi_cli("list", "--since", "last tuesday", key=key, base_url=scale_sandbox_url)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


# -- keys, errors, help ------------------------------------------------------------------


def test_a_bad_key_is_a_clear_error_and_is_never_printed(
    tmp_path: Path, scale_sandbox_url: str
) -> None:
    secret = "nope_Sup3rSecretValue"
    done = scaleapi_cli("--api-key", secret, "get", "abc", base_url=scale_sandbox_url)
    assert done.returncode == 1
    assert done.stderr.startswith("scaleapi: error: HTTP 401: ")
    assert "--api-key" in done.stderr and done.stderr.count("\n") == 1

    tasks = write_tasks(tmp_path / "tasks.jsonl", 200)
    create = scaleapi_cli(
        "--api-key", secret, "create", "categorization", "-f", str(tasks),
        base_url=scale_sandbox_url,
    )  # fmt: skip
    assert create.returncode == 1
    assert "stopped with" in create.stderr and "HTTP 401" in create.stderr
    assert len(jsonl(create.stdout)) < 200  # it did not try every line

    none = scaleapi_cli("get", "abc", base_url=scale_sandbox_url)
    assert none.returncode == 2 and "no API key" in none.stderr

    nowhere = scaleapi_cli("get", "abc", key="test_k", base_url="http://127.0.0.1:9/v1")
    assert nowhere.returncode == 1 and "reachable" in nowhere.stderr


@pytest.mark.parametrize("command", [[], ["create"], ["get"], ["cancel"], ["list"], ["sandbox"]])
def test_help_everywhere_with_examples_and_no_key(command: list[str]) -> None:
    secret = "live_ShouldNeverBeShown"
    done = scaleapi_cli(*command, "--help", key=secret)
    assert done.returncode == 0
    assert "Examples" in done.stdout
    if not command:
        assert "SCALE_API_KEY" in done.stdout


def test_python_dash_m_scaleapi_is_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scaleapi", "--help"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert "python -m scaleapi" in done.stdout and "create" in done.stdout


def test_import_scaleapi_loads_neither_click_nor_rich() -> None:
    # httpx imports its own command line (click, rich, pygments) whenever they are
    # installed; that is httpx's cost, not ours, so it is switched off here.
    code = (
        "import sys; sys.modules['httpx._main'] = None; "
        "import scaleapi, scaleapi.callbacks; "
        "print([m for m in sys.modules if m.split('.')[0] in ('click', 'rich')] "
        "+ [m for m in sys.modules if m == 'scaleapi._cli'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "[]", done.stderr


def test_sandbox_command_serves_until_interrupted() -> None:
    assert CLI is not None
    process = subprocess.Popen(
        [CLI, "sandbox", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "the sandbox printed nothing in 30 s"
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        answer = httpx.get(base_url + "/tasks", auth=("test_cli", ""), trust_env=False)
        assert answer.status_code == 200 and answer.json()["docs"] == []
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- the generated surface ---------------------------------------------------------------


def test_call_reaches_every_operation_by_its_method_name(
    scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    key = scale_live_key
    listed = scaleapi_cli("call", "--list", key=key)
    assert listed.returncode == 0
    for name in ("create_categorization_task", "get_task", "cancel_task", "list_tasks"):
        assert name in listed.stdout
    assert "/task/{task_id}  TASK_ID" in listed.stdout

    made = scaleapi_cli(
        "call", "create_categorization_task", "-p", "attachment_type=website",
        "-p", "attachment=https://example.com/call", "-p", 'categories=["public", "private"]',
        "-p", "allow_multiple=true", "-p", "unique_id=007", "--format", "json",
        key=key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    task = client.fetch_task(created["task_id"])
    assert isinstance(task.params, CategorizationParams)
    assert task.params.allow_multiple is True  # typed from the TypedDict: a bool
    assert task.unique_id == "007"  # a text param stays text

    fetched = scaleapi_cli(
        "call", "fetch_task", task.id, "--format", "json", key=key, base_url=scale_sandbox_url
    )  # an alias of get_task
    assert json.loads(fetched.stdout) == task.as_dict()

    page = scaleapi_cli(
        "call", "list-tasks", "-p", "unique_id=007", "-p", "limit=5", "--format", "json",
        key=key, base_url=scale_sandbox_url,
    )  # fmt: skip
    assert page.returncode == 0, page.stderr
    answer = json.loads(page.stdout)
    assert [t["task_id"] for t in answer["docs"]] == [task.id]
    assert answer["limit"] == 5 and answer["has_more"] is False

    canceled = scaleapi_cli(
        "call", "cancel_task", task.id, "--format", "json", key=key, base_url=scale_sandbox_url
    )
    assert json.loads(canceled.stdout)["status"] == "canceled"


def test_call_names_what_is_wrong_before_sending(scale_sandbox_url: str) -> None:
    key = "live_call_errors"
    unknown = scaleapi_cli("call", "get_tsk", "x", key=key, base_url=scale_sandbox_url)
    assert unknown.returncode == 2 and "no operation 'get_tsk'" in unknown.stderr
    missing = scaleapi_cli("call", "get_task", key=key, base_url=scale_sandbox_url)
    assert missing.returncode == 2 and "get_task takes TASK_ID" in missing.stderr
    typed = scaleapi_cli("call", "list_tasks", "-p", "limit=many", key=key)
    assert typed.returncode == 2 and "limit: expected a whole number" in typed.stderr
    shape = scaleapi_cli("call", "list_tasks", "-p", "limit", key=key)
    assert shape.returncode == 2 and "expected NAME=VALUE" in shape.stderr
    misspelt = scaleapi_cli(
        "call", "list_tasks", "-p", "statuss=pending", key=key, base_url=scale_sandbox_url
    )
    assert misspelt.returncode == 1 and "statuss" in misspelt.stderr
    assert all_tasks(scale_sandbox_url, key) == []  # nothing was sent


def test_list_takes_every_filter_of_list_tasks(
    scale_sandbox_url: str, client: scaleapi.ScaleClient, scale_live_key: str
) -> None:
    key = scale_live_key
    mine = [
        client.create_categorization_task(
            attachment=f"https://example.com/{n}", unique_id=f"f-{n}", **CATEGORIZATION
        )
        for n in range(3)
    ]
    by_id = scaleapi_cli(
        "list", "--unique-id", "f-1", "--format", "jsonl", key=key, base_url=scale_sandbox_url
    )
    assert by_id.returncode == 0, by_id.stderr
    assert [t["task_id"] for t in jsonl(by_id.stdout)] == [mine[1].id]

    since = mine[0].created_at.isoformat()
    both = scaleapi_cli(
        "list", "--start-time", since, "--since", since, key=key, base_url=scale_sandbox_url
    )
    assert both.returncode == 2 and "the same filter" in both.stderr

    bad = scaleapi_cli("list", "--status", "done", key=key, base_url=scale_sandbox_url)
    assert bad.returncode == 2 and "'done' is not one of" in bad.stderr

    # --all --limit N stops after N tasks, asking for pages no larger than needed.
    capped = scaleapi_cli("list", "--all", "--limit", "2", key=key, base_url=scale_sandbox_url)
    assert capped.returncode == 0, capped.stderr
    assert [t["task_id"] for t in jsonl(capped.stdout)] == [mine[2].id, mine[1].id]

    # Every filter of the generated list_tasks is an option, by its API name.
    described = scaleapi_cli("list", "--help").stdout
    filters = LIST_TASKS.query - {"limit", "offset", "next_token"}
    assert {"start_time", "status", "type", "unique_id"} <= filters
    for name in filters:
        assert f"--{name.replace('_', '-')} " in described


# -- projects, batches, files -------------------------------------------------------------

NEEDED = ("create_project", "get_project", "create_batch", "finalize_batch", "upload_file")
needs_batches = pytest.mark.skipif(
    any(name not in OPERATIONS for name in NEEDED),
    reason="the spec has no projects, batches or files yet",
)


@needs_batches
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


@needs_batches
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


@needs_batches
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
