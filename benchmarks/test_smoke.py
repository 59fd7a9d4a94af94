"""The benchmarks still run: ``python -m benchmarks --smoke`` produces every section.

Sizes are tiny, so nothing here asserts speed: only that each section ran and gave
finite numbers, and that the report and its plot were written.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._procs import ROOT, child_env, official_python

SMOKE_TIMEOUT = 300.0  # generous: about 40 s on a 2-core machine (a process per client)
HEADINGS = (
    "## Goals",
    "## Machine",
    "## 1. Client CPU per call",
    "## 2. Bulk create",
    "## 3. `iter_tasks` memory",
    "## 4. Import time",
    "## 5. `make generate`",
)


def _finite(value: Any, where: str) -> None:
    assert isinstance(value, int | float), f"{where}: {value!r} is not a number"
    assert math.isfinite(value), f"{where}: {value!r} is not finite"
    assert value >= 0, f"{where}: {value!r} is negative"


def test_smoke_run_produces_every_section(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    report = (tmp_path / "BENCHMARKS.md").read_text()
    for heading in HEADINGS:
        assert heading in report
    assert "results.png" in report and str(tmp_path) not in report
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    with_official = official_python() is not None
    server_cpu = Path("/proc/self/stat").exists()  # the servers' CPU is read from /proc

    for server in ("fixed", "sandbox"):
        data = results["per_call"][server]
        _finite(data["ratio_ours_httpx"], f"per_call.{server}.ratio")
        for client in ("ours", "httpx", *(["official"] if with_official else [])):
            _finite(data[client]["cpu_us"], f"per_call.{server}.{client}.cpu_us")
            _finite(data[client]["wall_us"], f"per_call.{server}.{client}.wall_us")

    bulk = results["bulk"]
    for key in ("latency", "no_latency"):
        runs = bulk["runs"][key]
        clients = [run["client"] for run in runs["compare"]]
        expected = ["ours_async", "httpx_async", "ours_sync_bulk", "ours_sync"]
        assert clients == [*expected, *(["official"] if with_official else [])]
        sweep = runs["sweep"]["ours_async"] + runs["sweep"]["httpx_async"]
        assert len(sweep) == 2 * len(results["sizes"]["concurrencies"])
        for run in sweep + runs["compare"]:
            where = f"bulk.{key}.{run['client']}.c{run['concurrency']}"
            assert run["ok"] == run["n"] and run["errors"] == 0, where
            _finite(run["tasks_per_s"], f"{where}.tasks_per_s")
            _finite(run["client_cpu_us_per_task"], f"{where}.client_cpu")
            if server_cpu:
                _finite(run["server_cpu_us_per_task"], f"{where}.server_cpu")
            if key == "latency":
                _finite(run["of_limit"], f"{where}.of_limit")
    assert bulk["profile"]["groups"] and bulk["profile"]["functions"]

    transports = results["transports"]
    assert "ours" in transports["clients"] and "aiohttp" in transports["clients"]
    for run in transports["runs"]:
        where = f"transports.{run['client']}.c{run['concurrency']}"
        assert run["ok"] == run["n"] and run["errors"] == 0, where
        _finite(run["tasks_per_s"], f"{where}.tasks_per_s")
        _finite(run["of_limit"], f"{where}.of_limit")
        if run["client"] != "official":  # sequential: nothing to compare it with
            _finite(run["ratio_to_aiohttp"], f"{where}.ratio_to_aiohttp")
    ceiling = results["ceiling"]
    assert ceiling["n"] > 0 and ceiling["errors"] == 0
    _finite(ceiling["creates_per_s"], "ceiling.creates_per_s")

    assert [r["n"] for r in results["iter"]] == list(results["sizes"]["iter_sizes"])
    for run in results["iter"]:
        assert run["count"] == run["n"]
        _finite(run["rss_before_kib"], f"iter.{run['n']}.rss_before")
        _finite(run["rss_peak_kib"], f"iter.{run['n']}.rss_peak")

    imports = results["import"]
    for name in ("scaleapi_ms", "httpx_ms", "ratio", "ratio_without_httpx_cli", "first_call_ratio"):
        _finite(imports[name], f"import.{name}")

    _finite(results["generate"]["seconds"], "generate.seconds")
