"""The measured client process for the official ``scaleapi`` 2.x package.

The official package has this repository's import name, so it lives in a venv of its own
(``benchmarks/.venv-official``) and this script runs there, isolated (``python -I``): it
imports nothing from this repository. It prints its result as one line of JSON.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

# The official package, untyped; _check() makes sure it is the one imported.
scaleapi: Any = importlib.import_module("scaleapi")


def _check() -> str:
    version = importlib.metadata.version("scaleapi")
    if not version.startswith("2.") or not hasattr(scaleapi, "TaskType"):
        raise SystemExit(f"not the official scaleapi 2.x package: {scaleapi.__file__}")
    return version


def _timed(call: Callable[[], object], calls: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return (
        (time.process_time() - cpu) / calls * 1e6,
        (time.perf_counter() - wall) / calls * 1e6,
    )


def per_call(url: str, key: str, task_id: str, rounds: int, calls: int) -> dict[str, Any]:
    client = scaleapi.ScaleClient(key, api_instance_url=url)

    def get() -> object:
        return client.get_task(task_id)

    task = client.get_task(task_id)
    assert task.id == task_id and task.status == "completed", task
    _timed(get, max(10, calls // 5))
    cpu_us: list[float] = []
    wall_us: list[float] = []
    for _ in range(rounds):
        cpu, wall = _timed(get, calls)
        cpu_us.append(cpu)
        wall_us.append(wall)
    return {"official": {"cpu_us": cpu_us, "wall_us": wall_us}}


def bulk(url: str, key: str, task_type: str, params: dict[str, Any], n: int) -> dict[str, Any]:
    """``create_task`` ``n`` times, one after the other (the official SDK has no bulk call)."""
    client = scaleapi.ScaleClient(key, api_instance_url=url)
    kind = scaleapi.TaskType(task_type)
    client.create_task(kind, **params)
    ok = errors = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        try:
            client.create_task(kind, **params)
        except scaleapi.exceptions.ScaleException:
            errors += 1
        else:
            ok += 1
    seconds = time.perf_counter() - wall
    cpu_seconds = time.process_time() - cpu
    return {
        "n": n,
        "concurrency": 1,
        "ok": ok,
        "errors": errors,
        "seconds": seconds,
        "tasks_per_s": ok / seconds,
        "client_cpu_s": cpu_seconds,
        "client_cpu_us_per_task": cpu_seconds / n * 1e6,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="official_worker.py")
    parser.add_argument("section", choices=["per-call", "bulk", "version"])
    parser.add_argument("--url")
    parser.add_argument("--key")
    parser.add_argument("--task-id")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--task-type")
    parser.add_argument("--params", help="JSON object of create params")
    parser.add_argument("--n", type=int)
    arguments = parser.parse_args(argv)
    version = _check()
    result: dict[str, Any]
    if arguments.section == "per-call":
        result = per_call(
            arguments.url, arguments.key, arguments.task_id, arguments.rounds, arguments.calls
        )
    elif arguments.section == "bulk":
        result = bulk(
            arguments.url,
            arguments.key,
            arguments.task_type,
            json.loads(arguments.params),
            arguments.n,
        )
    else:
        result = {}
    result["version"] = version
    result["requests"] = importlib.metadata.version("requests")
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
