"""The pytest plugin, used the way users use it, and what importing the package costs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sandbox_helpers import REPO_ROOT

SANDBOX_SOURCE = REPO_ROOT / "scaleapi" / "sandbox"


def test_plugin_fixtures_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest

            pytest_plugins = ["scaleapi.sandbox.pytest_plugin"]


            @pytest.fixture(scope="session")
            def scale_sandbox_options():
                return {"callback_auth_key": "from-options"}
            """
        )
    )
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import httpx


            def test_one(scale_sandbox, scale_sandbox_url, scale_test_key):
                assert scale_sandbox_url == scale_sandbox.base_url
                assert scale_sandbox.callback_auth_key == "from-options"
                with httpx.Client(base_url=scale_sandbox_url, auth=(scale_test_key, "")) as c:
                    body = {"attachment_type": "text", "attachment": "a", "categories": ["x"]}
                    assert c.post("/task/categorization", json=body).status_code == 200
                    assert c.get("/tasks").json()["total"] == 1


            def test_two_has_a_key_of_its_own(scale_sandbox_url, scale_test_key, scale_live_key):
                assert scale_test_key.startswith("test_") and scale_live_key.startswith("live_")
                with httpx.Client(base_url=scale_sandbox_url, auth=(scale_test_key, "")) as c:
                    assert c.get("/tasks").json()["total"] == 0
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_importing_the_sandbox_loads_no_server_code() -> None:
    probe = (
        "import sys, scaleapi.sandbox, scaleapi.sandbox.pytest_plugin\n"
        "heavy = {'uvicorn', 'starlette', 'fastjsonschema', 'yaml'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_sandbox_imports_nothing_of_the_client_layer() -> None:
    for path in sorted(SANDBOX_SOURCE.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    assert not (node.module or "").startswith("scaleapi"), (path.name, node.module)
                else:
                    assert node.level == 1, (path.name, node.module)  # only its own modules
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("scaleapi"), (path.name, alias.name)
