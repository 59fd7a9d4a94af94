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
    with Sandbox() as sandbox:
        run = subprocess.run(
            [official_python, "-I", SCRIPT, sandbox.base_url, "test_official", "live_official"],
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


def test_the_script_runs_the_official_package_not_ours(official_python: Path) -> None:
    run = subprocess.run(
        [official_python, "-I", "-c", "import scaleapi, sys; print(scaleapi.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(ROOT / "scaleapi") not in run.stdout
    assert sys.executable != str(official_python)
