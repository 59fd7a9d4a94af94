"""Commands made from the generated per-operation surface.

Every operation of the spec is a method of the clients (``scaleapi/_generated/``): its path
parameters (and those the spec marks ``x-scaleapi-positional``) lead, its query and body
parameters are typed keywords. Here a method becomes a command: the leading parameters
are arguments, each keyword an option typed by the generated TypedDict, ``--param
NAME=VALUE`` reaches any of them, and the answer is printed as JSON.
``scaleapi call`` does this for every operation at run time; the named commands
(``get``, ``cancel``, ``batches finalize``, ...) are the same thing with a friendlier name.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .._generated import client_sync, params
from .._generated.operations import ALIASES, OPERATIONS, Operation
from . import _render, _values
from ._root import EXIT_OK, State, context, pass_state

_SKIPPED = frozenset({"self", "extra_body", "extra_query", "extra_headers"})
_RESERVED = frozenset({"format", "param", "help"})
"""Option names the commands use themselves; such params are set with --param."""
_UNPACK = re.compile(r"Unpack\[(\w+)\]")


def operation(name: str) -> Operation | None:
    """The operation a method name (or alias, or its kebab-case spelling) calls."""
    name = name.replace("-", "_")
    return OPERATIONS.get(ALIASES.get(name, name))


def _namespace() -> dict[str, Any]:
    """The names the generated methods' annotations use (they are strings)."""
    return {**vars(typing), **vars(params), **vars(client_sync)}


def _evaluate(annotation: str) -> object:
    """A generated method's annotation (a string) as a type; ``object`` if unknown here."""
    namespace = _namespace()
    try:
        return typing.cast(object, eval(annotation, namespace))  # text of generated code
    except Exception:  # a type this module cannot name: read as JSON or text
        return object


@dataclass(frozen=True, slots=True)
class Leading:
    """A leading positional parameter of a generated method: a path parameter, or one the
    spec names in ``x-scaleapi-positional`` (``create_batch(project, name)``)."""

    name: str
    hint: object
    required: bool
    is_file: bool

    @property
    def metavar(self) -> str:
        return self.name.upper() if self.required else f"[{self.name.upper()}]"

    def value(self, text: str) -> Any:
        """The argument as the method takes it; ValueError says what is wrong."""
        if self.is_file:
            path = Path(text)
            if not path.is_file():
                raise ValueError(f"{self.metavar}: no such file: {text}")
            return path
        if self.hint is str:
            return text
        return _values.convert(self.metavar, _values.kind(self.hint), text)


@dataclass(frozen=True, slots=True)
class Shape:
    """How an operation's generated method is called: its leading positional parameters,
    then typed keywords."""

    leading: tuple[Leading, ...]
    keywords: Mapping[str, object]

    @property
    def usage(self) -> str:
        return " ".join(arg.metavar for arg in self.leading)


def shape(op: Operation) -> Shape:
    """The parameters of the operation's generated method, with their types."""
    method = getattr(client_sync.Operations, op.name)
    leading: list[Leading] = []
    keywords: dict[str, object] = {}
    for parameter in inspect.signature(method).parameters.values():
        if parameter.name in _SKIPPED:
            continue
        annotation = parameter.annotation
        hint = _evaluate(annotation) if isinstance(annotation, str) else object
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            required = (
                parameter.default is inspect.Parameter.empty
                and parameter.name not in op.optional_positional
            )
            if parameter.name in op.path_params:
                hint = str
            leading.append(Leading(parameter.name, hint, required, parameter.name in op.files))
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            found = _UNPACK.fullmatch(str(annotation))
            typed_dict = _namespace().get(found.group(1)) if found else None
            if typed_dict is None:  # generated code this module does not understand
                raise TypeError(f"{op.name}: cannot read the type of **{parameter.name}")
            wire = dict(op.positional)  # a leading parameter's name on the wire
            given = {wire.get(arg.name, arg.name) for arg in leading} | {a.name for a in leading}
            keywords.update(
                (name, hint)
                for name, hint in _values.hints(typed_dict).items()
                if name not in given
            )
        else:
            keywords[parameter.name] = hint
    return Shape(tuple(leading), keywords)


def keyword_types(op: Operation) -> Mapping[str, object]:
    """Each keyword parameter of the operation's generated method, with its type."""
    return shape(op).keywords


def leading_values(op: Operation, the_shape: Shape, texts: tuple[str, ...]) -> tuple[Any, ...]:
    """The leading arguments given on the command line, typed; UsageError when there are
    too few or too many, BadParameter when one cannot be read."""
    required = sum(1 for arg in the_shape.leading if arg.required)
    if not required <= len(texts) <= len(the_shape.leading):
        wanted = the_shape.usage or "no arguments"
        raise click.UsageError(f"{op.name} takes {wanted}, got {len(texts)} argument(s)")
    try:
        return tuple(arg.value(text) for arg, text in zip(the_shape.leading, texts, strict=False))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _convert_option(
    name: str, hint: object
) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def convert(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or value == ():
            return None
        try:
            if _values.repeatable(hint):
                texts = typing.cast(tuple[str, ...], value)
                if len(texts) == 1 and not _values.only_list(hint):
                    return texts[0]
                return list(texts)
            if _values.is_datetime(hint):
                return _values.iso_time(_flag(name), typing.cast(str, value))
            return _values.convert(_flag(name), _values.kind(hint), typing.cast(str, value))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return convert


def option(name: str, hint: object, help_text: str | None = None) -> click.Option:
    """A typed option for the param ``name`` (``--start-time`` for ``start_time``)."""
    flag = _flag(name)
    choices = _values.choices(hint)
    kind = _values.kind(hint)
    if choices is not None:
        return click.Option([flag, name], type=click.Choice(choices), help=help_text)
    if kind == "bool":
        no = "--no-" + flag.removeprefix("--")
        return click.Option([f"{flag}/{no}", name], default=None, help=help_text)
    if kind == "integer":
        return click.Option([flag, name], type=click.INT, help=help_text)
    if kind == "number":
        return click.Option([flag, name], type=click.FLOAT, help=help_text)
    if _values.repeatable(hint):
        more = "repeat the option for several values"
        return click.Option(
            [flag, name],
            multiple=True,
            metavar="TEXT",
            callback=_convert_option(name, hint),
            help=f"{help_text}; {more}." if help_text else f"{more.capitalize()}.",
        )
    metavar = {"list": "JSON", "object": "JSON", "auto": "VALUE"}.get(kind, "TEXT")
    if _values.is_datetime(hint):
        metavar = "ISO"
    return click.Option(
        [flag, name], metavar=metavar, callback=_convert_option(name, hint), help=help_text
    )


def param_option() -> click.Option:
    return click.Option(
        ["--param", "-p", "assigned"],
        multiple=True,
        metavar="NAME=VALUE",
        help="Any parameter by its API name; the value is typed as the parameter is (JSON "
        "for lists and objects). Repeat for several.",
    )


def call_operation(
    state: State, op: Operation, leading: tuple[Any, ...], keywords: Mapping[str, Any]
) -> Any:
    """Call the operation's method on a client made from the state; its answer."""
    with state.client() as client:
        method: Callable[..., Any] = getattr(client, op.name)
        return method(*leading, **keywords)


def assigned_params(pairs: tuple[str, ...], types: Mapping[str, object]) -> dict[str, Any]:
    """``--param NAME=VALUE`` pairs as keywords, typed as the operation's params are."""
    try:
        return _values.assignments(pairs, types)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None


def _help(op: Operation, summary: str | None, examples: str | None) -> str:
    """The generated method's docstring (the spec's summary and description), under the
    command's own summary if it has one."""
    doc = inspect.getdoc(getattr(client_sync.Operations, op.name)) or op.name
    if summary is not None:
        _, _, details = doc.partition("\n\n")
        doc = f"{summary}\n\n{details}" if details else summary
    if examples:
        doc += "\n\n\b\nExamples:\n" + examples.strip("\n")
    return doc.replace("``", "")


def _argument(arg: Leading) -> click.Argument:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return arg.value(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.Argument(
        [arg.name], required=arg.required, metavar=arg.name.upper(), callback=convert
    )


def operation_command(
    op_name: str,
    name: str,
    *,
    summary: str | None = None,
    examples: str | None = None,
) -> click.Command:
    """A command calling one operation: its leading parameters as arguments, its keywords
    as typed options (and ``--param``), the answer printed as JSON."""
    op = OPERATIONS[op_name]
    the_shape = shape(op)
    required = [arg for arg in the_shape.leading if arg.required]
    # An optional leading parameter (cancel_task's clear_unique_id) reads better as an
    # option; the method takes it by keyword as well.
    optional = {arg.name: arg.hint for arg in the_shape.leading if not arg.required}
    types = {**optional, **the_shape.keywords}
    options: list[click.Parameter] = [
        option(param, hint) for param, hint in types.items() if param not in _RESERVED
    ]

    @pass_state
    def run(state: State, /, output_format: str, assigned: tuple[str, ...], **given: Any) -> int:
        leading = tuple(given.pop(arg.name) for arg in required)
        keywords = {key: value for key, value in given.items() if value is not None}
        keywords.update(assigned_params(assigned, types))
        _render.show(call_operation(state, op, leading, keywords), output_format)
        return EXIT_OK

    return click.Command(
        name,
        context_settings=context(),
        callback=run,
        params=[
            *(_argument(arg) for arg in required),
            *options,
            param_option(),
            _render.format_option(),
        ],
        help=_help(op, summary, examples),
        short_help=summary,
    )


def _operations_table() -> str:
    width = max(len(name) for name in OPERATIONS)
    rows = [
        f"  {name:<{width}}  {op.method:<6} {op.path}  {shape(op).usage}".rstrip()
        for name, op in OPERATIONS.items()
    ]
    return "\n".join(rows)


@click.command(name="call", context_settings=context())
@click.argument("operation_name", metavar="OPERATION", required=False)
@click.argument("texts", metavar="[ARGS]...", nargs=-1)
@click.option(
    "--param",
    "-p",
    "assigned",
    multiple=True,
    metavar="NAME=VALUE",
    help="A query or body parameter by its API name; the value is typed as the parameter "
    "is (JSON for lists and objects). Repeat for several.",
)
@click.option("--list", "show_list", is_flag=True, help="List the operations and stop.")
@_render.FORMAT_OPTION
@pass_state
def call(
    state: State,
    operation_name: str | None,
    texts: tuple[str, ...],
    assigned: tuple[str, ...],
    show_list: bool,
    output_format: str,
) -> int:
    """Call any operation of the API by its method name.

    OPERATION is a method of ScaleClient (get_task, list_tasks, cancel_task, ...); ARGS
    are its leading parameters (path parameters first), in order; --param sets the
    others. Without OPERATION (or with --list), lists every operation and its ARGS.

    \b
    Examples:
      scaleapi call --list
      scaleapi call get_task 5774cc78b01249ab09f089dd
      scaleapi call list_tasks -p status=completed -p limit=10 --format json
      scaleapi call create_categorization_task -p attachment_type=website \\
          -p attachment=https://example.com -p categories='["public", "private"]'
    """
    if operation_name is None or show_list:
        click.echo("Operations (scaleapi call OPERATION ARGS... [-p NAME=VALUE]...):")
        click.echo(_operations_table())
        return EXIT_OK
    op = operation(operation_name)
    if op is None:
        known = ", ".join(OPERATIONS)
        raise click.BadParameter(
            f"no operation {operation_name!r}; known: {known}", param_hint="OPERATION"
        )
    the_shape = shape(op)
    leading = leading_values(op, the_shape, texts)
    keywords = assigned_params(assigned, the_shape.keywords)
    _render.show(call_operation(state, op, leading, keywords), output_format)
    return EXIT_OK


def group(
    name: str, help_text: str, commands: tuple[tuple[str, str, str, str], ...]
) -> click.Group | None:
    """A group of operation commands, (name, operation, summary, examples) each; only the
    operations the spec has are there, and no group at all when it has none of them."""
    found = [entry for entry in commands if entry[1] in OPERATIONS]
    if not found:
        return None
    result = click.Group(name, help=help_text, context_settings=context())
    for sub, op_name, summary, examples in found:
        result.add_command(operation_command(op_name, sub, summary=summary, examples=examples))
    return result
