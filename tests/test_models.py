"""The generated attrs models read every example of the spec, and every model module loads.

A change to the templates (``generator/patches/``) that breaks the models fails here: each
JSON example of a response is parsed by the model of its schema, written back with
``to_dict`` and parsed again to an equal model; a task is also parsed the way the clients
parse it (``parse_task``); and each model module is imported first, on its own, in a fresh
process, so that an import cycle between models or a name a class body needs before it is
imported cannot hide behind the order in which other tests load the models.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import scaleapi
from scaleapi._generated.api import models
from scaleapi._operations import UntypedTask, parse_task

SPEC: dict[str, Any] = yaml.safe_load(
    (Path(scaleapi.__file__).resolve().parent / "openapi.yaml").read_text()
)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = SPEC["components"][section][name]
    return node


def _schema_name(schema: dict[str, Any]) -> str | None:
    """The name of the component a schema refers to; None for an inline schema."""
    ref = schema.get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[-1]


def _response_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) of every JSON response example, each distinct one once."""
    seen: set[tuple[str, str]] = set()
    for item in SPEC["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                content = _resolve(response).get("content", {}).get("application/json")
                if content is None:
                    continue
                examples = dict(content.get("examples", {}))
                if "example" in content:
                    examples["example"] = {"value": content["example"]}
                for name, example in examples.items():
                    schema = content["schema"]
                    value = _resolve(example)["value"]
                    key = (repr(schema), repr(value))
                    if key not in seen:
                        seen.add(key)
                        yield f"{operation['operationId']} {status} {name}", schema, value


EXAMPLES = list(_response_examples())


def _round_trip(cls: Any, value: Any) -> Any:
    parsed = cls.from_dict(value)
    assert cls.from_dict(parsed.to_dict()) == parsed
    return parsed


def _check_task(value: dict[str, Any]) -> Any:
    parsed, data = parse_task(value)
    assert data is value
    if "type" not in value:  # a task of a limited_response page: read, untyped
        assert isinstance(parsed, UntypedTask) and parsed.task_id == value["task_id"]
        return parsed
    assert not isinstance(parsed, UntypedTask), f"no model reads a {value['type']!r} task"
    assert parsed.type_ == value["type"]
    assert type(parsed).from_dict(parsed.to_dict()) == parsed
    return parsed


def test_the_examples_cover_tasks_every_object_and_every_named_example() -> None:
    schemas = {_schema_name(schema) for _, schema, _ in EXAMPLES}
    assert {"Task", "TaskList", "CategorizationTask", "Project", "Batch", "File"} <= schemas
    named = {repr(example["value"]) for example in SPEC["components"]["examples"].values()}
    assert named <= {repr(value) for _, _, value in EXAMPLES}


# Known failures, each to be fixed where it says; strict: a fix makes the test fail until
# its entry here is removed.
KNOWN: dict[str, str] = {}
"""Examples known not to parse, with why (none today)."""


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        pytest.param(
            schema,
            value,
            id=where,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN[where])] if where in KNOWN else [],
        )
        for where, schema, value in EXAMPLES
    ],
)
def test_every_response_example_is_read_by_the_model_of_its_schema(
    schema: dict[str, Any], value: Any
) -> None:
    name = _schema_name(schema)
    definition = _resolve(schema)
    items = _schema_name(definition.get("items", {}))
    if name == "Task":
        _check_task(value)
    elif name is not None and hasattr(models, name):
        parsed = _round_trip(getattr(models, name), value)
        if name.endswith("Task"):
            assert type(_check_task(value)) is type(parsed)
        if name == "TaskList":
            typed = [type(_check_task(doc)) for doc in value["docs"]]
            assert [type(doc) for doc in parsed.docs] == [
                models.OtherTask if kind is UntypedTask else kind for kind in typed
            ]
    elif definition.get("type") == "array" and items is not None and hasattr(models, items):
        assert value, f"an empty example of {schema} checks nothing"
        for item in value:
            _round_trip(getattr(models, items), item)
    else:
        pytest.fail(f"no model for the schema {schema}")


_LOAD_EACH_FIRST = """
import importlib, pkgutil, sys
import scaleapi._generated.api.models as models
prefix = models.__name__ + "."
names = sorted(m.name for m in pkgutil.iter_modules(models.__path__))
kept = set(vars(models))
for name in names:
    for key in [k for k in sys.modules if k.startswith(prefix)]:
        del sys.modules[key]
    for attr in set(vars(models)) - kept:
        delattr(models, attr)
    importlib.import_module(prefix + name)
print(len(names))
"""


def test_every_model_module_loads_first_on_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_EACH_FIRST], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(list((Path(models.__file__).parent).glob("[!_]*.py")))
