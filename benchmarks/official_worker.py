"""The measured client process for the official ``scaleapi`` 2.x package.

The official package has this repository's import name, so it lives in a venv of its own
(``benchmarks/.venv-official``) and this script runs there, isolated (``python -I``): it
imports nothing from this repository. It prints its result as one line of JSON.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The official package, untyped; _check() makes sure it is the one imported.
scaleapi: Any = importlib.import_module("scaleapi")


def _load_measure() -> Any:
    """benchmarks/_measure.py, by its path: ``-I`` keeps this directory off sys.path."""
    path = Path(__file__).with_name("_measure.py")
    spec = importlib.util.spec_from_file_location("_measure", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


measure: Any = _load_measure()


def _check() -> str:
    version = importlib.metadata.version("scaleapi")
    if not version.startswith("2.") or not hasattr(scaleapi, "TaskType"):
        raise SystemExit(f"not the official scaleapi 2.x package: {scaleapi.__file__}")
    return version


def per_call(url: str, key: str, task_id: str, rounds: int, calls: int) -> dict[str, Any]:
    client = scaleapi.ScaleClient(key, api_instance_url=url)

    def get() -> object:
        return client.get_task(task_id)

    task = client.get_task(task_id)
    assert task.id == task_id and task.status == "completed", task
    result: dict[str, Any] = measure.rounds({"official": get}, rounds, calls)
    return result


def bulk(url: str, key: str, task_type: str, params: dict[str, Any], n: int) -> dict[str, Any]:
    """``create_task`` ``n`` times, one after the other (the official SDK has no bulk call)."""
    client = scaleapi.ScaleClient(key, api_instance_url=url)
    kind = scaleapi.TaskType(task_type)
    result: dict[str, Any] = measure.sequential(
        lambda: client.create_task(kind, **params), n, scaleapi.exceptions.ScaleException
    )
    return result


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
