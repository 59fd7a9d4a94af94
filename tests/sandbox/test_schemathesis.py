"""Schemathesis against a running sandbox: every check, positive mode, 1,000+ cases.

The run's configuration is in `schemathesis.toml` and `schemathesis_hooks.py`, next to
this file; both say why they exist. The same run from a shell (with a sandbox running
and SCALE_SANDBOX_TASK_IDS / SCALE_SANDBOX_NEXT_TOKEN set as below):

    cd tests/sandbox && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=. \\
      schemathesis --config-file schemathesis.toml run ../../scaleapi/openapi.yaml \\
      --url http://127.0.0.1:8080/v1 --checks all --mode positive --max-examples 100 \\
      --auth test_schemathesis: --seed 20241129
"""

from __future__ import annotations

import importlib.resources
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from sandbox_helpers import PAYLOADS, TASK_TYPES, make_client

from scaleapi.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = 100  # per operation; 10 operations give about 2,000 cases
MIN_CASES = 1000
SEED = os.environ.get("SCALE_SANDBOX_SCHEMATHESIS_SEED", "20241129")


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    key = f"test_{uuid.uuid4().hex}"
    with Sandbox() as sandbox, make_client(sandbox.base_url, key) as client:
        # Real tasks (one per type) and a real cursor, for the hooks to hand out.
        task_ids = []
        for task_type in TASK_TYPES:
            answer = client.post(f"/task/{task_type}", json=PAYLOADS[task_type])
            task_ids.append(answer.json()["task_id"])
        token = client.get("/tasks", params={"limit": 1}).json()["next_token"]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
            "SCALE_SANDBOX_TASK_IDS": ",".join(task_ids),
            "SCALE_SANDBOX_NEXT_TOKEN": token,
        }
        spec = importlib.resources.files("scaleapi").joinpath("openapi.yaml")
        with importlib.resources.as_file(spec) as spec_path:
            result = subprocess.run(
                [
                    str(Path(sys.executable).with_name("schemathesis")),
                    "--config-file",
                    str(HERE / "schemathesis.toml"),
                    "run",
                    str(spec_path),
                    "--url",
                    sandbox.base_url,
                    "--checks",
                    "all",
                    "--mode",
                    "positive",
                    "--max-examples",
                    str(MAX_EXAMPLES),
                    "--seed",
                    SEED,
                    "--auth",
                    f"{key}:",
                    "--output-truncate",
                    "false",
                    "--no-color",
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,  # where schemathesis and hypothesis keep their caches
                timeout=240,
            )
        stats = sandbox.stats()
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    generated = re.search(r"(\d+) generated, (\d+) passed", report)
    assert generated is not None, report
    assert int(generated[1]) == int(generated[2]) >= MIN_CASES, report
    assert stats["requests"] >= MIN_CASES
