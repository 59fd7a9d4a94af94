# ruff: noqa: I001  (here scaleapi is the official package, a third-party import)
"""Run by tests/test_official_sdk.py with the official scaleapi 2.x package, in a venv of
its own (it has our import name). Prints one JSON line of what it saw."""

import json
import sys

import scaleapi
from scaleapi.exceptions import ScaleInvalidRequest, ScaleResourceNotFound
from scaleapi.tasks import TaskType

base_url, test_key, live_key = sys.argv[1:4]
seen = {"version": scaleapi.__version__}

client = scaleapi.ScaleClient(test_key, api_instance_url=base_url)
task = client.create_task(
    TaskType.Categorization,
    callback_url="http://www.example.com/callback",
    instruction="Is this company public or private?",
    attachment_type="website",
    attachment="http://www.google.com/",
    categories=["public", "private"],
)
seen["created"] = {"id": task.id, "status": task.status}
fetched = client.get_task(task.id)
seen["fetched"] = {"id": fetched.id, "status": fetched.status, "response": fetched.response}
page = client.tasks(type="categorization", limit=10)
seen["listed"] = {"ids": [t.id for t in page.docs], "total": page.total}

live = scaleapi.ScaleClient(live_key, api_instance_url=base_url)
pending = live.create_task(
    TaskType.Categorization, attachment_type="text", attachment="ACME", categories=["a", "b"]
)
canceled = live.cancel_task(pending.id)
seen["canceled"] = {"id": canceled.id, "status": canceled.status}

try:
    client.create_task(TaskType.Categorization, callback_url="http://www.example.com/callback")
except ScaleInvalidRequest as exc:
    seen["invalid"] = {"class": type(exc).__name__, "code": exc.code, "message": exc.message}
try:
    client.get_task("0123456789abcdef01234567")
except ScaleResourceNotFound as exc:
    seen["not_found"] = {"class": type(exc).__name__, "code": exc.code}
print(json.dumps(seen))
