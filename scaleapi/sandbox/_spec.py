"""The spec, read once from package data, and the validators compiled from it.

Nothing here knows a field name: the operations, their request bodies and query
parameters, the task types and which create fields stay at the top of a task (the rest
go to `params`) are all read from the spec shipped as `scaleapi/openapi.yaml`. Adding a property
to the spec changes what the sandbox accepts without a change here.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from ._times import is_iso8601

__all__ = [
    "ApiSpec",
    "CreateDefaults",
    "InvalidRequest",
    "Operation",
    "TaskTypeInfo",
    "Validator",
    "api_spec_from",
    "load_api_spec",
]

SERVER_DEFAULT = "x-server-default"
"""The spec's extension stating the value a server uses when a field is left out."""
SPEC_PACKAGE = "scaleapi"
SPEC_RESOURCE = "openapi.yaml"

Validator = Callable[[Any], object]
"""A compiled schema: returns when the value is valid, raises InvalidRequest otherwise."""

_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*")


def _is_uri(value: str) -> bool:
    return _URI_RE.fullmatch(value) is not None


# `format` checks. `date-time` is lenient (a time without a zone is UTC) and agrees with
# the parser that the list filters use.
_FORMATS: dict[str, Callable[[str], bool]] = {"date-time": is_iso8601, "uri": _is_uri}


def as_object(value: object) -> dict[str, Any] | None:
    """`value` when it is a JSON object (a dict), else None."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


class InvalidRequest(Exception):
    """A request the spec rejects; `message` is the `error` of the 400 answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class TaskTypeInfo:
    """What the spec says about one task type."""

    name: str
    response_schema: Mapping[str, Any] | None
    """Schema of the task's `response` once completed."""


@dataclass(frozen=True, slots=True)
class CreateDefaults:
    """What the server fills into a new task when the create request leaves it out."""

    top: Mapping[str, object]
    """Fields of the task itself (such as `urgency`)."""
    params: Mapping[str, object]
    """Fields of its `params` (such as `allow_multiple`)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec, with its validators compiled."""

    operation_id: str
    method: str
    """Upper case, e.g. `POST`."""
    path: str
    """As in the spec, relative to the base path, e.g. `/task/{task_id}`."""
    task_type: str | None
    """For creates: the type of the task created (the `type` const of the 200 answer)."""
    body_validator: Validator | None
    body_required: bool
    query_validator: Validator | None
    query_coercers: Mapping[str, Callable[[str], object]]
    """Per query parameter: turns the string from the URL into the schema's type."""
    rejects_invalid: bool
    """Whether the spec documents a 400 answer (then unknown query parameters get one)."""
    query_defaults: Mapping[str, object]
    """`x-server-default` of each query parameter that states one."""

    @property
    def is_create(self) -> bool:
        return self.task_type is not None

    def parse_query(self, pairs: list[tuple[str, str]]) -> dict[str, object]:
        """Validated query parameters (coerced to their schema types)."""
        query: dict[str, object] = {}
        for name, raw in pairs:
            if name in query:
                raise InvalidRequest(f"Invalid parameter {name}: given more than once")
            coerce = self.query_coercers.get(name)
            query[name] = raw if coerce is None else coerce(raw)
        if self.query_validator is not None:
            self.query_validator(query)
        elif query:
            raise InvalidRequest(f"Unknown parameter: {next(iter(query))}")
        return query


def _coerce_integer(raw: str) -> object:
    if re.fullmatch(r"[+-]?\d{1,30}", raw):
        return int(raw)
    return raw


def _coerce_number(raw: str) -> object:
    try:
        value = float(raw)
    except ValueError:
        return raw
    return value if value == value and value not in (float("inf"), float("-inf")) else raw


def _coerce_boolean(raw: str) -> object:
    return {"true": True, "false": False}.get(raw, raw)


_COERCERS: dict[str, Callable[[str], object]] = {
    "integer": _coerce_integer,
    "number": _coerce_number,
    "boolean": _coerce_boolean,
}


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _describe(exc: Any) -> str:
    """A message naming the offending field, from a fastjsonschema error."""
    name: str = exc.name or "data"
    where = name[4:].lstrip(".") if name.startswith("data") else name
    rule = exc.rule
    value = as_object(exc.value)
    definition = as_object(exc.definition) or {}
    if rule == "required" and value is not None:
        required = cast("list[str]", definition.get("required", []))
        missing = [key for key in required if key not in value]
        if missing:
            return f"Missing parameter: {_join(where, missing[0])}"
    closed = rule == "additionalProperties" or (
        rule == "maxProperties" and definition.get("additionalProperties") is False
    )
    if closed and value is not None:
        known = cast("dict[str, Any]", definition.get("properties", {}))
        patterns = cast("dict[str, Any]", definition.get("patternProperties", {}))
        extra = [
            key
            for key in value
            if key not in known and not any(re.search(p, key) for p in patterns)
        ]
        if extra:
            return f"Unknown parameter: {_join(where, extra[0])}"
    message: str = exc.message
    detail = message[len(name) + 1 :] if message.startswith(name + " ") else message
    if not where:
        if rule == "type":
            return "The request body must be a JSON object."
        return f"Invalid request: {detail}"
    return f"Invalid parameter {where}: {detail}"


class ApiSpec:
    """The operations and task types of the spec, validators compiled once."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.components: Mapping[str, Any] = document.get("components", {})
        servers = document.get("servers") or [{"url": "/"}]
        self.base_path: str = urlsplit(str(servers[0]["url"])).path.rstrip("/")
        self.operations: list[Operation] = []
        self.task_types: dict[str, TaskTypeInfo] = {}
        top_level: set[str] = set()
        create_defaults: dict[str, dict[str, object]] = {}
        for path, item in cast("Mapping[str, Any]", document.get("paths", {})).items():
            item = self.resolve(item)
            shared = list(item.get("parameters", []))
            for method, raw_operation in item.items():
                if method not in {"get", "put", "post", "delete", "patch", "options", "head"}:
                    continue
                operation = self.resolve(raw_operation)
                task_schema = self._success_schema(operation)
                properties = self.properties_of(task_schema) if task_schema else {}
                task_type = self._const_of(properties.get("type"))
                if task_type is not None and method == "post":
                    top_level.update(set(properties) - {"type", "params", "response"})
                    response = properties.get("response")
                    self.task_types.setdefault(
                        task_type,
                        TaskTypeInfo(task_type, self.resolve(response) if response else None),
                    )
                    create_defaults[task_type] = self._body_defaults(operation)
                else:
                    task_type = None
                self.operations.append(
                    self._build_operation(path, method, operation, shared, task_type)
                )
        self.top_level_fields: frozenset[str] = frozenset(top_level)
        """Create fields that stay at the top of the task; the others go to `params`."""
        self.create_defaults: dict[str, CreateDefaults] = {
            task_type: CreateDefaults(
                top={k: v for k, v in found.items() if k in top_level},
                params={k: v for k, v in found.items() if k not in top_level},
            )
            for task_type, found in create_defaults.items()
        }
        """Per task type, the `x-server-default`s of its create body's properties."""

    # -- reading the document -------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        """`node` with local `$ref`s followed."""
        seen = 0
        while (reference := as_object(node)) is not None and "$ref" in reference:
            ref = str(reference["$ref"])
            if not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 64:
                raise ValueError(f"reference loop at {ref!r}")
        return node

    def properties_of(self, schema: Any) -> dict[str, Any]:
        """The properties a schema declares, through `$ref` and `allOf`."""
        schema = as_object(self.resolve(schema))
        if schema is None:
            return {}
        found: dict[str, Any] = {}
        for part in schema.get("allOf", []):
            found.update(self.properties_of(part))
        found.update(schema.get("properties", {}))
        return found

    def server_default(self, schema: Any) -> tuple[bool, object]:
        """(True, value) when `schema` states an `x-server-default` (on itself, its `$ref`
        target or an `allOf` part), else (False, None)."""
        for _ in range(64):  # through $ref chains, with a bound
            node = as_object(schema)
            if node is None:
                return False, None
            if SERVER_DEFAULT in node:
                return True, node[SERVER_DEFAULT]
            for part in node.get("allOf", []):
                found = self.server_default(part)
                if found[0]:
                    return found
            if "$ref" not in node:
                return False, None
            schema = self.resolve({"$ref": node["$ref"]})
        return False, None

    def _body_defaults(self, operation: Mapping[str, Any]) -> dict[str, object]:
        """The `x-server-default` of each property of an operation's JSON body."""
        body = as_object(self.resolve(operation.get("requestBody"))) or {}
        content = as_object(body.get("content")) or {}
        media = as_object(content.get("application/json")) or {}
        found: dict[str, object] = {}
        for name, schema in self.properties_of(media.get("schema")).items():
            stated, value = self.server_default(schema)
            if stated:
                found[name] = value
        return found

    def _const_of(self, schema: Any) -> str | None:
        schema = as_object(self.resolve(schema))
        if schema is None:
            return None
        if isinstance(schema.get("const"), str):
            return str(schema["const"])
        enum = cast("list[object]", schema.get("enum") or [])
        if len(enum) == 1 and isinstance(enum[0], str):
            return enum[0]
        return None

    def _success_schema(self, operation: Mapping[str, Any]) -> Any:
        responses = cast("Mapping[str, Any]", operation.get("responses", {}))
        for status in ("200", "201"):
            if status in responses:
                content = self.resolve(responses[status]).get("content", {})
                media = content.get("application/json")
                if media is not None:
                    return media.get("schema")
        return None

    # -- compiling ------------------------------------------------------------------
    def compile(self, schema: Any) -> Validator:
        """A validator for `schema`, whose `#/components/...` references resolve here."""
        import fastjsonschema

        root = dict(cast("Mapping[str, Any]", schema))
        root["components"] = self.components
        check = fastjsonschema.compile(root, formats=_FORMATS, use_default=False)
        error_class = fastjsonschema.JsonSchemaValueException

        def validate(value: Any) -> object:
            try:
                return check(value)
            except error_class as exc:
                raise InvalidRequest(_describe(exc)) from None

        return validate

    def _build_operation(
        self,
        path: str,
        method: str,
        operation: Mapping[str, Any],
        shared: list[Any],
        task_type: str | None,
    ) -> Operation:
        body_validator: Validator | None = None
        body_required = False
        body = operation.get("requestBody")
        if body is not None:
            body = self.resolve(body)
            media = body.get("content", {}).get("application/json")
            if media is not None and "schema" in media:
                body_validator = self.compile(media["schema"])
                body_required = bool(body.get("required", False))
        query_schemas: dict[str, Any] = {}
        required: list[str] = []
        coercers: dict[str, Callable[[str], object]] = {}
        query_defaults: dict[str, object] = {}
        for raw in [*shared, *operation.get("parameters", [])]:
            parameter = self.resolve(raw)
            if parameter.get("in") != "query":
                continue
            name = str(parameter["name"])
            schema = parameter.get("schema", {})
            stated, value = self.server_default(parameter)
            if not stated:
                stated, value = self.server_default(schema)
            if stated:
                query_defaults[name] = value
            query_schemas[name] = schema
            if parameter.get("required"):
                required.append(name)
            kind = self.resolve(schema).get("type")
            if isinstance(kind, str) and kind in _COERCERS:
                coercers[name] = _COERCERS[kind]
        query_validator: Validator | None = None
        if query_schemas:
            query_validator = self.compile(
                {
                    "type": "object",
                    "properties": query_schemas,
                    "required": required,
                    "additionalProperties": False,
                }
            )
        return Operation(
            operation_id=str(operation.get("operationId", f"{method} {path}")),
            method=method.upper(),
            path=path,
            task_type=task_type,
            body_validator=body_validator,
            body_required=body_required,
            query_validator=query_validator,
            query_coercers=coercers,
            rejects_invalid="400" in cast("Mapping[str, Any]", operation.get("responses", {})),
            query_defaults=query_defaults,
        )

    def response_validator(self, task_type: str) -> Validator | None:
        """A validator of the `response` of a completed task of `task_type`."""
        return _response_validator(self, task_type)


@functools.cache
def _response_validator(spec: ApiSpec, task_type: str) -> Validator | None:
    info = spec.task_types.get(task_type)
    if info is None or info.response_schema is None:
        return None
    return spec.compile(info.response_schema)


def read_spec_text() -> str:
    """The spec as shipped in the package."""
    return importlib.resources.files(SPEC_PACKAGE).joinpath(SPEC_RESOURCE).read_text("utf-8")


def parse_yaml(text: str) -> Mapping[str, Any]:
    yaml: Any = importlib.import_module("yaml")  # typed as Any: no stubs needed
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a safe loader, C if available
    document: Mapping[str, Any] = yaml.load(text, Loader=loader)
    return document


@functools.lru_cache(maxsize=1)
def load_api_spec() -> ApiSpec:
    """The package's spec, parsed and compiled once per process."""
    return ApiSpec(parse_yaml(read_spec_text()))


def api_spec_from(source: str | Mapping[str, Any] | None) -> ApiSpec:
    """The package's spec (None), or another one: a YAML file's path or a parsed document."""
    if source is None:
        return load_api_spec()
    if isinstance(source, str):
        with open(source, encoding="utf-8") as file:
            return ApiSpec(parse_yaml(file.read()))
    return ApiSpec(source)
