"""Schemathesis hooks for `test_schemathesis.py` (loaded through `SCHEMATHESIS_HOOKS`).

Two kinds of value cannot be drawn at random and still mean something:

* `next_token` is an opaque cursor: only tokens the sandbox handed out are valid, and a
  made-up one is rightly refused with 400. Cases that carry one get a real token (from
  `SCALE_SANDBOX_NEXT_TOKEN`), so schemathesis checks that every schema-valid
  combination of filters is accepted together with a cursor.
* A drawn `task_id` almost never exists, so the answers for real tasks would go
  unchecked. About half the cases that carry one get the id of a real task of the
  run's key instead (from `SCALE_SANDBOX_TASK_IDS`, comma-separated, one per type);
  likewise `project_name` and `batch_name` (`SCALE_SANDBOX_PROJECT`,
  `SCALE_SANDBOX_BATCH`).
* Rules the spec states in prose, which the generator cannot see: a create's `project`
  or `batch` must exist and fit the type (400 otherwise; the sandbox tests cover it),
  `admin` cannot be given to a teammate, only members get a new role, a Rapid quality
  task needs a Rapid project of its type, and an upload's `metadata` text is a JSON
  object. Cases get `project` / `batch` removed from create bodies, `member` for an
  `admin` role, a member's email for a role change, the run's Rapid image project for
  a quality task, and `{}` for upload metadata; everything else is checked as drawn.
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
    real = {
        "task_id": task_ids,
        "project_name": [os.environ.get("SCALE_SANDBOX_PROJECT", "")],
        "batch_name": [os.environ.get("SCALE_SANDBOX_BATCH", "")],
    }
    path_parameters = case.path_parameters
    if isinstance(path_parameters, dict):
        for name, values in real.items():
            values = [value for value in values if value]
            if values and name in path_parameters:
                drawn = str(path_parameters[name])
                pick = zlib.crc32(drawn.encode("utf-8", "surrogatepass"))
                if pick % 2:
                    path_parameters[name] = values[(pick // 2) % len(values)]
    body = case.body
    path = case.operation.path
    if isinstance(body, dict):
        if case.method.upper() == "POST" and path.startswith("/task/") and path.count("/") == 2:
            body.pop("project", None)
            body.pop("batch", None)
        if path.startswith("/teams/") and body.get("team_role") == "admin":
            body["team_role"] = "member"
        if path == "/teams/set_role":  # only members get a new role
            body["emails"] = ["ada@example.com"]
        if path.startswith(("/evaluation_tasks/", "/training_tasks/")):
            # A quality task needs a Rapid project of its type: the run's has one.
            body.pop("batch", None)
            body["project"] = "kitten_labeling"
            if isinstance(path_parameters, dict):
                path_parameters["task_type"] = "imageannotation"
        if path == "/files/upload" and "metadata" in body:
            body["metadata"] = "{}"
    return case
