"""Adding a field to the spec and regenerating is all it takes to send it, typed.

A copy of the repository (``openapi/``, ``generator/``, ``scaleapi/``, ``pyproject.toml``)
gets one new optional property, ``priority``, on ``CategorizationTaskCreate`` in its spec,
then ``generator/generate.py`` (what ``make generate`` runs). No other file is touched.
Then, in the copy: ``mypy --strict`` (and strict pyright) accept ``priority=3`` and reject
``priority="high"`` on ``create_categorization_task``, and the call sends ``"priority": 3``
to a local HTTP server. The SDK of this repository, not regenerated, refuses the same
call before sending anything. About 4 s in all, most of it the generators.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import scaleapi

ROOT = Path(__file__).resolve().parent.parent
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
COPIED = ("openapi", "generator", "scaleapi", "pyproject.toml")
SCHEMA = "CategorizationTaskCreate"
PRIORITY = """\
        priority:
          type: integer
          minimum: 1
          maximum: 10
          description: How soon workers should pick the task up, from 1 (last) to 10 (first).
"""
REQUIRED = {"attachment_type": "website", "attachment": "http://www.google.com/"}
CATEGORIES = ["public", "private"]

# A call site a user would write; the line that must fail is marked.
CALL = (
    'client.create_categorization_task(attachment_type="website", '
    'attachment="http://www.google.com/", categories=["public", "private"], priority={})'
)
CALL_SITE = f"""\
# pyright: strict
import scaleapi


def create(client: scaleapi.ScaleClient) -> None:
    {CALL.format("3")}
    {CALL.format('"high"')}  # expect: error
"""

# Run in a subprocess with the copy first on PYTHONPATH: create a task with priority=3.
WIRE_SCRIPT = """\
import json, sys
import scaleapi

client = scaleapi.ScaleClient("test_regenerate", base_url=sys.argv[1], max_retries=0)
task = client.create_categorization_task(
    attachment_type="website",
    attachment="http://www.google.com/",
    categories=["public", "private"],
    priority=3,
)
print(json.dumps({"file": scaleapi.__file__, "id": task.id, "type": task.type}))
"""


def add_priority(spec: str) -> str:
    """The spec with ``priority`` as the first property of CategorizationTaskCreate."""
    anchor = f"\n    {SCHEMA}:\n"
    start = spec.index(anchor) + len(anchor)
    props = spec.index("\n      properties:\n", start) + len("\n      properties:\n")
    # The next schema must start after that `properties:`, or it was another schema's.
    next_schema = re.compile(r"^    \S", re.MULTILINE).search(spec, start)
    assert next_schema is None or props < next_schema.start()
    return spec[:props] + PRIORITY + spec[props:]


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
    spec_path.write_text(add_priority(spec_path.read_text()))
    schema = yaml.safe_load(spec_path.read_text())["components"]["schemas"][SCHEMA]
    assert schema["properties"]["priority"]["type"] == "integer"
    assert "priority" not in schema.get("required", [])

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
    assert '"priority"' in output and '"int"' in output, output


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
    assert all('"priority"' in d["message"] for d in errors), errors


@dataclass
class Recorder:
    """A local HTTP server that answers every POST with a categorization task."""

    url: str = ""
    bodies: list[Any] = field(default_factory=list[Any])


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            recorder.bodies.append({"path": self.path, "json": body})
            task = {
                "task_id": "5774cc78b01249ab09f089dd",
                "type": "categorization",
                "status": "pending",
                "created_at": "2024-01-01T00:00:00.000Z",
                "callback_succeeded": False,
                "params": body,
            }
            answer = json.dumps(task).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_regenerated_sdk_sends_the_new_field(regenerated: Path, server: Recorder) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(regenerated),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = subprocess.run(
        [sys.executable, "-c", WIRE_SCRIPT, server.url],
        cwd=regenerated,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert Path(result["file"]).resolve() == (regenerated / "scaleapi" / "__init__.py").resolve()
    assert result["type"] == "categorization"
    assert server.bodies == [
        {
            "path": "/v1/task/categorization",
            "json": {**REQUIRED, "categories": CATEGORIES, "priority": 3},
        }
    ]


def test_sdk_before_regenerating_refuses_the_field(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Path(scaleapi.__file__).resolve().is_relative_to(ROOT / "scaleapi")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    unknown: dict[str, Any] = {"priority": 3}
    client = scaleapi.ScaleClient("test_regenerate", base_url=server.url, max_retries=0)
    with client, pytest.raises(scaleapi.ScaleInvalidRequest, match="'priority'"):
        client.create_categorization_task(**REQUIRED, categories=CATEGORIES, **unknown)
    assert server.bodies == []
