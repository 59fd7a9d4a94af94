"""`python -m scaleapi.sandbox`: the one-line banner, clean stops, and a database that
survives a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import PAYLOADS, REPO_ROOT, make_client, running


def stop(process: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    return out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_banner_and_clean_stop(signum: int) -> None:
    with running("--callback-auth-key", "k3y") as (process, base_url):
        with httpx.Client(trust_env=False) as plain:
            assert plain.get(base_url.removesuffix("/v1") + "/admin/health").status_code == 200
        out, err = stop(process, signum)
    assert out == ""  # the base URL was the one and only line on stdout
    assert "callback auth key k3y" in err


def test_tasks_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "tasks.sqlite3"
    with running("--db", str(db)) as (process, base_url):
        with (
            make_client(base_url, "test_restart") as test,
            make_client(base_url, "live_restart") as live,
        ):
            kept = [
                test.post("/task/categorization", json=PAYLOADS["categorization"]).json(),
                test.post(
                    "/task/annotation", json={**PAYLOADS["annotation"], "unique_id": "a1"}
                ).json(),
                live.post("/task/datacollection", json=PAYLOADS["datacollection"]).json(),
            ]
            before = [
                test.get(f"/task/{kept[0]['task_id']}").json(),
                test.get(f"/task/{kept[1]['task_id']}").json(),
            ]
        stop(process, signal.SIGINT)
    with running("--db", str(db)) as (process, base_url):
        with (
            make_client(base_url, "test_restart") as test,
            make_client(base_url, "live_restart") as live,
        ):
            assert [test.get(f"/task/{task['task_id']}").json() for task in kept[:2]] == before
            assert live.get(f"/task/{kept[2]['task_id']}").json() == kept[2]  # still pending
            assert test.get("/tasks").json()["total"] == 2
            again = {**PAYLOADS["annotation"], "unique_id": "a1"}
            assert test.post("/task/annotation", json=again).status_code == 409
            assert (
                test.post("/task/datacollection", json=PAYLOADS["datacollection"]).status_code
                == 200
            )
        stop(process, signal.SIGTERM)


def test_bad_arguments_exit_2() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for arguments in (["--faults", "404"], ["--fault-rate", "2"], ["--port", "x"]):
        result = subprocess.run(
            [sys.executable, "-m", "scaleapi.sandbox", *arguments],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert result.returncode == 2, (arguments, result.stderr)
        assert result.stdout == ""
