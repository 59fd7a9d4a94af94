"""Schemathesis hooks for `test_schemathesis.py` (loaded through `SCHEMATHESIS_HOOKS`).

Two kinds of value cannot be drawn at random and still mean something:

* `next_token` is an opaque cursor: only tokens the sandbox handed out are valid, and a
  made-up one is rightly refused with 400. Cases that carry one get a real token (from
  `SCALE_SANDBOX_NEXT_TOKEN`), so schemathesis checks that every schema-valid
  combination of filters is accepted together with a cursor.
* A drawn `task_id` almost never exists, so the answers for real tasks would go
  unchecked. About half the cases that carry one get the id of a real task of the
  run's key instead (from `SCALE_SANDBOX_TASK_IDS`, comma-separated, one per type).
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import schemathesis


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    token = os.environ.get("SCALE_SANDBOX_NEXT_TOKEN")
    if token and isinstance(case.query, dict) and "next_token" in case.query:
        case.query["next_token"] = token
    task_ids = [part for part in os.environ.get("SCALE_SANDBOX_TASK_IDS", "").split(",") if part]
    path_parameters = case.path_parameters
    if task_ids and isinstance(path_parameters, dict) and "task_id" in path_parameters:
        drawn = str(path_parameters["task_id"])
        pick = zlib.crc32(drawn.encode("utf-8", "surrogatepass"))
        if pick % 2:
            path_parameters["task_id"] = task_ids[(pick // 2) % len(task_ids)]
    return case
