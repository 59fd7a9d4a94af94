"""Facts the generated code does not carry (a parameter's maximum, its ``x-server-default``),
read from the spec shipped in the package. Parsing it takes a noticeable fraction of a
second, so only the commands that need such a fact read it, when they need it."""

from __future__ import annotations

import importlib
import importlib.resources
import typing
from collections.abc import Mapping
from typing import Any


def _load() -> Mapping[str, Any]:
    yaml: Any = importlib.import_module("yaml")  # the [cli] extra brings PyYAML
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = importlib.resources.files("scaleapi").joinpath("openapi.yaml").read_text("utf-8")
    document: Mapping[str, Any] = yaml.load(text, Loader=loader)
    return document


def _resolve(spec: Mapping[str, Any], node: Any) -> dict[str, Any]:
    """A schema or parameter with its ``$ref`` (and those of ``allOf``) followed."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        target: Any = spec
        for part in str(typing.cast(dict[str, Any], node)["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node, seen = target, seen + 1
    if not isinstance(node, dict):
        return {}
    schema = dict(typing.cast(dict[str, Any], node))
    for part in schema.pop("allOf", []):
        schema = {**_resolve(spec, part), **schema}
    return schema


def query_schema(method: str, path: str, name: str) -> dict[str, Any]:
    """The schema of query parameter ``name`` of the operation ``method path``."""
    spec = _load()
    operation = spec["paths"][path][method.lower()]
    for parameter in operation.get("parameters", []):
        resolved = _resolve(spec, parameter)
        if resolved.get("in") == "query" and resolved.get("name") == name:
            return _resolve(spec, resolved.get("schema"))
    raise KeyError(f"{method} {path} has no query parameter {name!r} in the spec")
