"""Adding a field to the spec and regenerating is all it takes to send it, typed.

A copy of the repository (``openapi/``, ``generator/``, ``scaleapi/``, ``pyproject.toml``)
gets one new optional property, ``review_hours``, on ``CategorizationTaskCreate`` in its spec,
then ``generator/generate.py`` (what ``make generate`` runs). No other file is touched.
Then, in the copy: ``mypy --strict`` (and strict pyright) accept ``review_hours=3`` and reject
``review_hours="high"`` on ``create_categorization_task``, and the call sends ``"review_hours": 3``
to a local HTTP server. The SDK of this repository, not regenerated, refuses the same
call before sending anything. About 4 s in all, most of it the generators.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_server import Connection, HostileServer, Request

import scaleapi

ROOT = Path(__file__).resolve().parent.parent
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
COPIED = ("openapi", "generator", "scaleapi", "pyproject.toml")
SCHEMA = "CategorizationTaskCreate"
REVIEW_HOURS = """\
type: integer
minimum: 1
maximum: 72
description: Hours within which the answer is needed.
"""
REQUIRED = {"attachment_type": "website", "attachment": "http://www.google.com/"}
CATEGORIES = ["public", "private"]

# A call site a user would write; the line that must fail is marked.
CALL = (
    'client.create_categorization_task(attachment_type="website", '
    'attachment="http://www.google.com/", categories=["public", "private"], review_hours={})'
)
CALL_SITE = f"""\
# pyright: strict
import scaleapi


def create(client: scaleapi.ScaleClient) -> None:
    {CALL.format("3")}
    {CALL.format('"high"')}  # expect: error
"""

# Run in a subprocess with the copy first on PYTHONPATH: create a task with review_hours=3.
WIRE_SCRIPT = """\
import json, sys
import scaleapi

client = scaleapi.ScaleClient("test_regenerate", base_url=sys.argv[1], max_retries=0)
task = client.create_categorization_task(
    attachment_type="website",
    attachment="http://www.google.com/",
    categories=["public", "private"],
    review_hours=3,
)
print(json.dumps({"file": scaleapi.__file__, "id": task.id, "type": task.type}))
"""


def add_review_hours(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with ``review_hours`` as a new optional property of CategorizationTaskCreate."""
    schema = spec["components"]["schemas"][SCHEMA]
    own = next(part for part in schema["allOf"] if "properties" in part)
    own["properties"] = {"review_hours": yaml.safe_load(REVIEW_HOURS), **own["properties"]}
    return spec


def run_generator(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The copy's generator/generate.py, as `make generate` (or check-generated) runs it."""
    return subprocess.run(
        [sys.executable, str(root / "generator" / "generate.py"), *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The regenerated copy of the repository."""
    root = tmp_path_factory.mktemp("regenerated")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    spec_path = root / "openapi" / "scaleapi.yaml"
    spec = add_review_hours(yaml.safe_load(spec_path.read_text()))
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))

    # `make check-generated` catches a spec edited without regenerating...
    stale = run_generator(root, "--check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "out of date" in stale.stderr and "make generate" in stale.stderr

    proc = run_generator(root)
    assert proc.returncode == 0, f"generate.py failed:\n{proc.stdout}{proc.stderr}"

    # ...and is satisfied once `make generate` has run.
    fresh = run_generator(root, "--check")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    return root


def mypy_error_lines(output: str, filename: str) -> set[int]:
    """Line numbers of mypy's errors in `filename`."""
    return {int(m[1]) for m in re.finditer(rf"^{re.escape(filename)}:(\d+): error", output, re.M)}


def marked_error_line() -> int:
    lines = CALL_SITE.splitlines()
    return next(i for i, text in enumerate(lines, start=1) if text.endswith("# expect: error"))


def test_mypy_types_the_new_field(regenerated: Path) -> None:
    (regenerated / "call_site.py").write_text(CALL_SITE)
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    cache = str(regenerated / ".mypy_cache")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-pretty",
            "--cache-dir",
            cache,
            "call_site.py",
        ],
        cwd=regenerated,  # mypy puts the working directory first: it reads the copy's scaleapi
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), f"mypy did not run:\n{output}"
    assert mypy_error_lines(output, "call_site.py") == {marked_error_line()}, output
    assert '"review_hours"' in output and '"int"' in output, output


def test_pyright_types_the_new_field(regenerated: Path) -> None:
    if not PYRIGHT.exists():
        pytest.skip("node_modules/.bin/pyright is missing: run `npm ci` to install it")
    (regenerated / "call_site.py").write_text(CALL_SITE)
    proc = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, "call_site.py"],
        cwd=regenerated,  # the execution root comes first: pyright reads the copy's scaleapi
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), f"pyright did not run:\n{proc.stdout}{proc.stderr}"
    result = json.loads(proc.stdout)
    assert result["summary"]["filesAnalyzed"] == 1, result
    errors = [d for d in result["generalDiagnostics"] if d["severity"] == "error"]
    lines = {d["range"]["start"]["line"] + 1 for d in errors}
    assert lines == {marked_error_line()}, errors
    assert all('"review_hours"' in d["message"] for d in errors), errors


@dataclass
class Recorder:
    """What a local HTTP server that answers every request with a categorization task
    was sent."""

    url: str = ""
    bodies: list[Any] = field(default_factory=list[Any])


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()

    def handler(request: Request, conn: Connection) -> None:
        body = json.loads(request.body or b"null")
        recorder.bodies.append({"path": request.target, "json": body})
        task = {
            "task_id": "5774cc78b01249ab09f089dd",
            "type": "categorization",
            "status": "pending",
            "created_at": "2024-01-01T00:00:00.000Z",
            "callback_succeeded": False,
            "params": body,
        }
        conn.answer(200, task)

    with HostileServer(handler) as http:
        recorder.url = http.url
        yield recorder


def test_regenerated_sdk_sends_the_new_field(regenerated: Path, server: Recorder) -> None:
    proc = run_in(regenerated, WIRE_SCRIPT, server.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert Path(result["file"]).resolve() == (regenerated / "scaleapi" / "__init__.py").resolve()
    assert result["type"] == "categorization"
    assert server.bodies == [
        {
            "path": "/v1/task/categorization",
            "json": {**REQUIRED, "categories": CATEGORIES, "review_hours": 3},
        }
    ]


def test_sdk_before_regenerating_refuses_the_field(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Path(scaleapi.__file__).resolve().is_relative_to(ROOT / "scaleapi")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    unknown: dict[str, Any] = {"review_hours": 3}
    client = scaleapi.ScaleClient("test_regenerate", base_url=server.url, max_retries=0)
    with client, pytest.raises(scaleapi.ScaleInvalidRequest, match="'review_hours'"):
        client.create_categorization_task(**REQUIRED, categories=CATEGORIES, **unknown)
    assert server.bodies == []


# -- a new task type and a new operation: spec edits only ----------------------------

NEW_TYPE = "sentiment"
NEW_CALL_SITE = """\
# pyright: strict
import scaleapi


def use(client: scaleapi.ScaleClient, aclient: scaleapi.AsyncScaleClient) -> None:
    task = client.create_sentiment_task(
        attachment_type="text", attachment="I love it", categories=["good", "bad"]
    )
    print(task.params.categories)
    client.escalate_task("t1", reason="needs a second look")
    print(aclient.escalate_task)
    client.create_sentiment_task(attachment="x", categorys=[])  # expect: error
    client.escalate_task("t1", reasons="typo")  # expect: error
"""


def add_type_and_operation(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with a `sentiment` task type (a copy of categorization under a new name)
    and a new operation `POST /task/{task_id}/escalate` with a JSON body."""
    schemas = spec["components"]["schemas"]
    paths = spec["paths"]
    create = json.loads(json.dumps(paths["/task/categorization"]))
    create["post"]["operationId"] = "createSentimentTask"
    create["post"]["x-scaleapi-task-type"] = NEW_TYPE
    create["post"]["summary"] = "Create a sentiment task"
    ok = create["post"]["responses"]["200"]["content"]["application/json"]
    ok["schema"] = {"$ref": "#/components/schemas/SentimentTask"}
    ok.pop("examples", None)
    paths["/task/sentiment"] = create
    task = json.loads(json.dumps(schemas["CategorizationTask"]))
    for part in task["allOf"]:
        if "type" in part.get("properties", {}):
            part["properties"]["type"]["const"] = NEW_TYPE
            part["properties"]["type"]["description"] = "Always `sentiment`."
    task["description"] = "A sentiment task."
    schemas["SentimentTask"] = task
    schemas["TaskType"]["enum"].append(NEW_TYPE)
    schemas["TaskType"]["x-enum-varnames"].append("Sentiment")
    schemas["Task"]["oneOf"].append({"$ref": "#/components/schemas/SentimentTask"})
    schemas["Task"]["discriminator"]["mapping"][NEW_TYPE] = "#/components/schemas/SentimentTask"
    schemas["EscalateTaskBody"] = {
        "type": "object",
        "description": "Why the task needs more attention.",
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "description": "In a sentence."}},
    }
    get_task = paths["/task/{task_id}"]["get"]
    paths["/task/{task_id}/escalate"] = {
        "post": {
            "operationId": "escalateTask",
            "summary": "Escalate a task",
            "description": "Asks for a second look at a task.",
            "parameters": get_task["parameters"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/EscalateTaskBody"}
                    }
                },
            },
            "responses": {"200": get_task["responses"]["200"]},
        }
    }
    return spec


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository whose spec gained a task type and an operation, regenerated."""
    root = tmp_path_factory.mktemp("extended")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(source, root / name)
    before = {
        p: p.read_bytes() for p in (root / "scaleapi").rglob("*.py") if "_generated" not in p.parts
    }
    spec_path = root / "openapi" / "scaleapi.yaml"
    spec = add_type_and_operation(yaml.safe_load(spec_path.read_text()))
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    proc = run_generator(root)
    assert proc.returncode == 0, f"generate.py failed:\n{proc.stdout}{proc.stderr}"
    after = {
        p: p.read_bytes() for p in (root / "scaleapi").rglob("*.py") if "_generated" not in p.parts
    }
    # Zero hand-written files touched (the unasync output is rewritten, byte for byte).
    assert after == before
    return root


def run_in(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_new_type_and_operation_are_typed_for_mypy(extended: Path) -> None:
    (extended / "new_call_site.py").write_text(NEW_CALL_SITE)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-pretty", "--cache-dir",
         str(extended / ".mypy_cache"), "new_call_site.py"],
        cwd=extended, capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    expected = {
        i
        for i, line in enumerate(NEW_CALL_SITE.splitlines(), 1)
        if line.endswith("# expect: error")
    }
    assert mypy_error_lines(output, "new_call_site.py") == expected, output


def test_new_type_and_operation_are_typed_for_pyright(extended: Path) -> None:
    if not PYRIGHT.exists():
        pytest.skip("node_modules/.bin/pyright is missing: run `npm ci` to install it")
    (extended / "new_call_site.py").write_text(NEW_CALL_SITE)
    proc = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, "new_call_site.py"],
        cwd=extended, capture_output=True, text=True, check=False,
    )  # fmt: skip
    result = json.loads(proc.stdout)
    errors = [d for d in result["generalDiagnostics"] if d["severity"] == "error"]
    expected = {
        i
        for i, line in enumerate(NEW_CALL_SITE.splitlines(), 1)
        if line.endswith("# expect: error")
    }
    assert {d["range"]["start"]["line"] + 1 for d in errors} == expected, errors


NEW_OPERATION_SCRIPT = """\
import asyncio, json, sys
import scaleapi

url = sys.argv[1]
client = scaleapi.ScaleClient("test_regenerate", base_url=url, max_retries=0)
sync_task = client.escalate_task("t/1", reason="needs a second look")

async def main():
    async with scaleapi.AsyncScaleClient("test_regenerate", base_url=url, max_retries=0) as c:
        return await c.escalate_task("t2", reason="again")

async_task = asyncio.run(main())
print(json.dumps([type(sync_task).__name__, type(async_task).__name__]))
"""


def test_new_operation_sends_exactly_its_request(extended: Path, server: Recorder) -> None:
    proc = run_in(extended, NEW_OPERATION_SCRIPT, server.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == ["Task", "Task"]
    assert server.bodies == [
        {"path": "/v1/task/t%2F1/escalate", "json": {"reason": "needs a second look"}},
        {"path": "/v1/task/t2/escalate", "json": {"reason": "again"}},
    ]


NEW_TYPE_SCRIPT = """\
import json, sys
import scaleapi
from scaleapi._generated import operations

client = scaleapi.ScaleClient(sys.argv[2], base_url=sys.argv[1], max_retries=0)
params = {"attachment_type": "text", "attachment": "I love it", "categories": ["good", "bad"]}
typed = client.create_sentiment_task(**params)
dynamic = client.create_task("sentiment", **params)
bulk = [r.status for r in client.create_tasks("sentiment", [params, params], concurrency=2)]
fetched = client.fetch_task(typed.id)
print(json.dumps({"types": [typed.type, dynamic.type, fetched.type], "bulk": bulk,
                  "table": "sentiment" in operations.TASK_TYPES,
                  "model": type(fetched.model).__name__}))
"""


def test_new_type_is_created_served_and_listed_against_the_sandbox(extended: Path) -> None:
    with sandbox_in(extended) as url:
        proc = run_in(extended, NEW_TYPE_SCRIPT, url, "test_regenerate")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        result = json.loads(proc.stdout)
        assert result == {
            "types": ["sentiment"] * 3,
            "bulk": ["created", "created"],
            "table": True,
            "model": "SentimentTask",
        }
        lines = '{"attachment_type": "text", "attachment": "a", "categories": ["x", "y"]}\n'
        (extended / "tasks.jsonl").write_text(lines)
        cli = subprocess.run(
            [sys.executable, "-m", "scaleapi", "create", NEW_TYPE, "--file", "tasks.jsonl"],
            cwd=extended, capture_output=True, text=True, check=False, timeout=120,
            env={**os.environ, "PYTHONPATH": str(extended), "SCALE_API_KEY": "test_regenerate",
                 "SCALE_BASE_URL": url, "NO_PROXY": "127.0.0.1,localhost"},
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert json.loads(cli.stdout.splitlines()[0])["status"] == "created"


SANDBOX_SCRIPT = """\
import sys
from scaleapi.sandbox import Sandbox

with Sandbox() as sandbox:
    print(sandbox.base_url, flush=True)
    sys.stdin.read()  # serve until the test closes stdin
"""


@contextlib.contextmanager
def sandbox_in(root: Path) -> Iterator[str]:
    """The copy's own sandbox, serving its regenerated spec, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SANDBOX_SCRIPT],
        cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
