"""The per-operation surface of both clients, read from the spec.

`make generate` calls :func:`write_surface` after the two model generators. For every
operation of openapi/scaleapi.yaml it writes, into scaleapi/_generated/:

* ``operations.py``: one :class:`Operation` record per operation (method, path, which
  names go to the path, the query and the body, how to read the answer), the task-type
  table (``TASK_TYPES``, ``CREATES``) and the parser of a task of any type;
* ``task_types.py``: the unions of every task type's params and response models;
* ``client_async.py`` / ``client_sync.py``: the typed methods of ``AsyncScaleClient``
  and ``ScaleClient`` (and of their ``with_raw_response`` views), each documented from
  the spec's summary and description.

The naming convention, so that anyone can predict a method from the spec:

* method name = snake_case of the ``operationId``; ``x-scaleapi-aliases`` adds names;
  a ``deprecated`` operation gets no method;
* path parameters are leading positional parameters; ``x-scaleapi-positional`` lists
  body or query names also taken positionally after them (``x-scaleapi-python-name``
  renames one for Python); every other body property and query parameter is a keyword
  argument typed by a TypedDict; a body that is not an object of named properties is one
  parameter named by ``x-scaleapi-body-name``;
* the answer is parsed into the model of its 200 response; the schemas in
  :data:`WRAPPERS` become the hand-written objects (a task becomes ``Task``, typed by
  its task type; a page of tasks a ``Tasklist``).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import yaml

HERE = Path(__file__).resolve().parent

WRAPPERS: Mapping[str, tuple[str, str, str]] = {
    # schema name: (result kind, hand-written class, module it lives in)
    "Task": ("task", "Task", "scaleapi._task"),
    "TaskList": ("task_page", "Tasklist", "scaleapi._task"),
}
"""Schemas whose answers the hand-written layer wraps; every other schema is returned as
its generated attrs model. A member of the ``Task`` oneOf is a ``Task`` too."""

PYTHON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class SpecError(Exception):
    """The spec breaks a convention the generator relies on."""


def snake(name: str) -> str:
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    out = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", out)
    return out.lower()


def camel(name: str) -> str:
    return name[:1].upper() + name[1:]


@dataclass
class Param:
    wire: str
    py: str
    annotation: str
    required: bool


@dataclass
class Op:
    op_id: str
    name: str
    aliases: list[str]
    method: str
    path: str
    summary: str
    description: str
    path_params: list[str]
    query: list[str] = field(default_factory=list)
    body_props: list[str] = field(default_factory=list)
    body_kind: str = "none"  # none | object | whole | multipart
    body_name: str | None = None
    body_annotation: str = "Any"
    files: list[str] = field(default_factory=list)
    positional: list[Param] = field(default_factory=list)
    kwargs_td: str | None = None
    kwargs_td_def: str | None = None
    idempotent: bool = False
    task_type: str | None = None
    result_kind: str = "json"
    result_model: str | None = None
    result_annotation: str = "Any"
    models_needed: set[str] = field(default_factory=set)
    wrappers_needed: set[str] = field(default_factory=set)

    @property
    def const(self) -> str:
        return self.name.upper()

    @property
    def kind(self) -> str:
        if self.task_type is not None:
            return "create"
        if self.method == "GET" or self.idempotent:
            return "read"
        return "write"

    @property
    def has_kwargs(self) -> bool:
        return self.kwargs_td is not None

    @property
    def doc(self) -> str:
        text = self.summary.strip().rstrip(".") + "."
        if self.description.strip():
            text += "\n\n" + self.description.strip()
        text += f"\n\n``{self.method} {self.path}``"
        return text


class Spec:
    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text())
        self.schemas: dict[str, Any] = self.doc.get("components", {}).get("schemas", {})

    def deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolve(node["$ref"])
        return node

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SpecError(f"only local $refs are supported, not {ref!r}")
        node: Any = self.doc
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    @staticmethod
    def ref_name(node: Any) -> str | None:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return str(node["$ref"]).rsplit("/", 1)[-1]
        return None

    def properties(self, schema: Any) -> tuple[dict[str, Any], set[str]]:
        """Properties and required names of an object schema, allOf included."""
        schema = self.deref(schema)
        props: dict[str, Any] = {}
        required: set[str] = set()
        for part in schema.get("allOf", []):
            p, r = self.properties(part)
            props.update(p)
            required |= r
        props.update(schema.get("properties", {}))
        required |= set(schema.get("required", []))
        return props, required

    def task_members(self) -> dict[str, str]:
        """Task type -> schema name of its task model, from the Task discriminator."""
        task = self.schemas.get("Task", {})
        mapping = task.get("discriminator", {}).get("mapping", {})
        return {t: ref.rsplit("/", 1)[-1] for t, ref in mapping.items()}

    def request_schemas(self) -> set[str]:
        """Names of the schemas reachable from a request body or a parameter."""
        seen: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                name = Spec.ref_name(node)
                if name is not None and name in self.schemas and name not in seen:
                    seen.add(name)
                    walk(self.schemas[name])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        for item in self.doc.get("paths", {}).values():
            for method, op in item.items():
                if isinstance(op, dict):
                    walk(op.get("requestBody", {}))
                    walk(op.get("parameters", []))
        return seen

    def task_types(self) -> list[str]:
        return list(self.schemas.get("TaskType", {}).get("enum", []))


def _load_params(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_scaleapi_generated_params", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _strip_required(annotation: str) -> str:
    m = re.fullmatch(r"(?:NotRequired|Required)\[(.*)\]", annotation.strip(), re.S)
    return m.group(1) if m else annotation


def _names_in(annotation: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation))


class Builder:
    def __init__(self, spec: Spec, params: ModuleType) -> None:
        self.spec = spec
        self.params = params
        self.param_names: set[str] = set()  # names to import from params.py
        self.members = spec.task_members()

    # -- types of parameters, from the datamodel-code-generator TypedDicts ----------

    def td(self, name: str) -> type[Any] | None:
        cls = getattr(self.params, name, None)
        return cls if isinstance(cls, type) else None

    def td_fields(self, name: str) -> dict[str, tuple[str, bool]]:
        cls = self.td(name)
        if cls is None:
            raise SpecError(f"datamodel-code-generator wrote no TypedDict {name}")
        required: frozenset[str] = cls.__required_keys__  # type: ignore[attr-defined]
        out: dict[str, tuple[str, bool]] = {}
        for klass in reversed(cls.__mro__):
            for key, ann in getattr(klass, "__annotations__", {}).items():
                out[key] = (_strip_required(str(ann)), key in required)
        return out

    def use_params(self, annotation: str) -> str:
        for name in _names_in(annotation):
            if hasattr(self.params, name) and name not in {"Any", "Literal"}:
                self.param_names.add(name)
        return annotation

    # -- one operation ---------------------------------------------------------------

    def operation(self, path: str, method: str, node: dict[str, Any]) -> Op:
        op_id = node["operationId"]
        name = snake(op_id)
        if not name.isidentifier() or keyword.iskeyword(name):
            raise SpecError(f"{op_id}: {name!r} is not a usable method name")
        params = [self.spec.deref(p) for p in node.get("parameters", [])]
        path_params = [p["name"] for p in params if p["in"] == "path"]
        if path_params != re.findall(r"{([^}]+)}", path):
            raise SpecError(f"{op_id}: path parameters must be declared in path order")
        op = Op(
            op_id=op_id,
            name=name,
            aliases=list(node.get("x-scaleapi-aliases", [])),
            method=method.upper(),
            path=path,
            summary=node.get("summary", op_id),
            description=node.get("description", ""),
            path_params=path_params,
            idempotent=bool(node.get("x-scaleapi-idempotent", False)),
            task_type=node.get("x-scaleapi-task-type"),
        )
        fields: dict[str, tuple[str, bool]] = {}
        renames: dict[str, str] = {}
        query = [p for p in params if p["in"] == "query"]
        if query:
            op.query = [p["name"] for p in query]
            fields.update(self.td_fields(f"{camel(op_id)}ParametersQuery"))
            for p in query:
                if "x-scaleapi-python-name" in p:
                    renames[p["name"]] = p["x-scaleapi-python-name"]
        self.body(op, node.get("requestBody"), fields, renames)
        positional = list(node.get("x-scaleapi-positional", []))
        for wire in positional:
            if wire not in fields:
                raise SpecError(f"{op_id}: x-scaleapi-positional names unknown {wire!r}")
            annotation, required = fields[wire]
            op.positional.append(
                Param(wire, renames.get(wire, wire), self.use_params(annotation), required)
            )
        for wire in renames:
            if wire not in positional:
                raise SpecError(f"{op_id}: x-scaleapi-python-name is only for positional names")
        keywords = {k: v for k, v in fields.items() if k not in positional}
        if keywords:
            self.kwargs_typeddict(
                op, keywords, bool(positional) or (bool(op.query) and bool(op.body_props))
            )
        self.result(op, node)
        return op

    def body(
        self,
        op: Op,
        body: Any,
        fields: dict[str, tuple[str, bool]],
        renames: dict[str, str],
    ) -> None:
        if body is None:
            return
        body = self.spec.deref(body)
        content = body.get("content", {})
        if "multipart/form-data" in content:
            schema = content["multipart/form-data"]["schema"]
            props, required = self.spec.properties(schema)
            op.body_kind = "multipart"
            for prop, sub in props.items():
                sub = self.spec.deref(sub)
                if sub.get("format") == "binary" or sub.get("contentMediaType"):
                    op.files.append(prop)
                    op.positional.append(
                        Param(prop, prop, "bytes | IO[bytes] | os.PathLike[str]", prop in required)
                    )
                else:
                    op.body_props.append(prop)
                    ann = PYTHON_TYPES.get(sub.get("type", ""), "str")
                    fields[prop] = (ann, prop in required)
            return
        schema = content["application/json"]["schema"]
        ref = Spec.ref_name(schema)
        resolved = self.spec.deref(schema)
        props, _ = self.spec.properties(resolved)
        body_name = body.get("x-scaleapi-body-name")
        if body_name is not None or not props:
            if body_name is None:
                if resolved.get("type") == "object" and not body.get("required", False):
                    op.body_kind = "object"  # an empty object (cancel's `{}`), as documented
                    return
                raise SpecError(f"{op.op_id}: a body without properties needs x-scaleapi-body-name")
            op.body_kind = "whole"
            op.body_name = body_name
            op.body_annotation = self.json_annotation(resolved)
            return
        if ref is None:
            raise SpecError(f"{op.op_id}: an object request body must be a $ref to a schema")
        op.body_kind = "object"
        op.body_props = list(props)
        fields.update(self.td_fields(ref))
        op.kwargs_td = ref
        self.param_names.add(ref)
        for prop, sub in props.items():
            sub = self.spec.deref(sub)
            if isinstance(sub, dict) and "x-scaleapi-python-name" in sub:
                renames[prop] = sub["x-scaleapi-python-name"]

    def json_annotation(self, schema: Any) -> str:
        schema = self.spec.deref(schema)
        kind = schema.get("type")
        if kind == "array":
            return f"list[{self.json_annotation(schema.get('items', {}))}]"
        if kind == "object":
            return "dict[str, Any]"
        return PYTHON_TYPES.get(kind or "", "Any")

    def kwargs_typeddict(self, op: Op, keywords: dict[str, tuple[str, bool]], own: bool) -> None:
        if not own:
            if op.kwargs_td is None:
                op.kwargs_td = f"{camel(op.op_id)}ParametersQuery"
                self.param_names.add(op.kwargs_td)
            return
        name = f"{camel(op.op_id)}Kwargs"
        lines = [f"class {name}(TypedDict, total=False):"]
        lines.append(f'    """Keyword arguments of ``{op.name}``."""')
        lines.append("")
        for key, (annotation, required) in keywords.items():
            annotation = self.use_params(annotation)
            lines.append(f"    {key}: {'Required[' + annotation + ']' if required else annotation}")
        op.kwargs_td = name
        op.kwargs_td_def = "\n".join(lines)

    # -- the answer ------------------------------------------------------------------

    def result(self, op: Op, node: dict[str, Any]) -> None:
        ok = self.spec.deref(node.get("responses", {}).get("200", {}))
        schema = ok.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            op.result_kind, op.result_annotation = "json", "Any"
            return
        name = Spec.ref_name(schema)
        array = False
        if name is None and self.spec.deref(schema).get("type") == "array":
            name = Spec.ref_name(self.spec.deref(schema).get("items"))
            array = name is not None
        if name is None:
            op.result_kind, op.result_annotation = "json", self.json_annotation(schema)
            return
        if name in self.members.values() or name == "Task":
            kind, cls = "task", "Task"
            op.wrappers_needed.add(cls)
            model = name if name != "Task" else None
            annotation = cls
            if model is not None:
                p, r = self.task_args(model)
                if p and r:
                    op.models_needed |= {p, r}
                    annotation = f"{cls}[{p}, {r}]"
            op.result_model = model
        elif name in WRAPPERS:
            kind, cls, _ = WRAPPERS[name]
            op.wrappers_needed.add(cls)
            annotation = cls
            op.result_model = name
        else:
            kind, annotation = "model", name
            op.models_needed.add(name)
            op.result_model = name
        if array:
            kind, annotation = kind + "_list", f"list[{annotation}]"
        op.result_kind, op.result_annotation = kind, annotation

    def task_args(self, model: str) -> tuple[str | None, str | None]:
        props, _ = self.spec.properties(self.spec.schemas[model])
        return Spec.ref_name(props.get("params")), Spec.ref_name(props.get("response"))


def operations(spec: Spec, builder: Builder) -> Iterator[Op]:
    for path, item in spec.doc.get("paths", {}).items():
        for method, node in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if node.get("deprecated"):
                continue
            yield builder.operation(path, method, node)


def module_of(model: str) -> str:
    return snake(model)


def render(spec_path: Path, out: Path, header: str) -> list[str]:
    """Write the surface modules into ``out`` (the generated package); returns their names."""
    spec = Spec(spec_path)
    builder = Builder(spec, _load_params(out / "params.py"))
    ops = list(operations(spec, builder))
    names = [n for op in ops for n in (op.name, *op.aliases)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"two operations give the method name(s) {', '.join(duplicates)}")
    task_types = spec.task_types()
    creates = {op.task_type: op for op in ops if op.task_type is not None}
    if set(creates) != set(task_types):
        missing = sorted(set(task_types) - set(creates))
        extra = sorted(set(creates) - set(task_types))
        raise SpecError(
            f"TaskType and the x-scaleapi-task-type operations disagree: "
            f"no create for {missing}, not in TaskType: {extra}"
        )
    members = spec.task_members()
    unions = {t: builder.task_args(members[t]) for t in task_types if t in members}
    any_params = list(dict.fromkeys(p for p, _ in unions.values() if p))
    any_responses = list(dict.fromkeys(r for _, r in unions.values() if r))
    # Inputs are TypedDicts, outputs attrs models: a schema reachable from a request body
    # is exported as its TypedDict, any other as its model.
    inputs = spec.request_schemas()
    public_models = sorted(
        name
        for name in spec.schemas
        if name not in inputs and (out / "api" / "models" / f"{snake(name)}.py").exists()
    )
    public_params = sorted(
        name
        for name in inputs | {f"{camel(op.op_id)}ParametersQuery" for op in ops if op.query}
        if builder.td(name) is not None or name in {"TaskStatus", "TaskType", "Urgency"}
    )
    all_names = sorted({*public_models, *public_params, "AnyParams", "AnyResponse"})
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "surface_templates"),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["module_of"] = module_of
    context = {
        "header": header,
        "ops": ops,
        "task_types": task_types,
        "creates": creates,
        "members": members,
        "unions": unions,
        "any_params": any_params,
        "any_responses": any_responses,
        "public_models": public_models,
        "public_params": [n for n in public_params if n not in public_models],
        "all_names": all_names,
        "param_names": sorted(builder.param_names),
        "models": sorted({m for op in ops for m in op.models_needed}),
        "wrappers": sorted({w for op in ops for w in op.wrappers_needed}),
        "wrapper_modules": {cls: mod for _, cls, mod in WRAPPERS.values()},
    }
    written = []
    for template, target, extra in (
        ("operations.py.jinja", "operations.py", {}),
        ("task_types.py.jinja", "task_types.py", {}),
        ("client.py.jinja", "client_async.py", {"is_async": True}),
        ("client.py.jinja", "client_sync.py", {"is_async": False}),
    ):
        text = env.get_template(template).render(**context, **extra)
        (out / target).write_text(text)
        written.append(target)
    return written
