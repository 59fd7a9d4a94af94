"""From text (a CSV cell, an option, ``--param NAME=VALUE``) to the value of a param, by the
param's type in the generated TypedDicts.

The same rules serve every command, so a new param or operation in the spec needs
nothing here.
"""

from __future__ import annotations

import datetime
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeAlias, get_args

Kind: TypeAlias = Literal["text", "bool", "number", "integer", "list", "object", "auto"]
"""``text``: the text as it is; ``bool``: true/false; ``number``/``integer``: a number;
``list``/``object``: JSON of that shape; ``auto``: JSON when it looks like an array or an
object, text otherwise."""

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def bare(hint: object) -> object:
    """The type inside ``NotRequired[...]`` / ``Required[...]``."""
    while typing.get_origin(hint) in (typing.NotRequired, typing.Required):
        hint = get_args(hint)[0]
    return hint


def _members(hint: object) -> list[object]:
    """The members of a union (``None`` left out), or the hint itself."""
    hint = bare(hint)
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return [arg for arg in get_args(hint) if arg is not type(None)]
    return [hint]


def kind(hint: object) -> Kind:
    """How text becomes the value of a param typed ``hint``."""
    hint = bare(hint)
    origin = typing.get_origin(hint)
    if hint is bool:
        return "bool"
    if hint is int:
        return "integer"
    if hint is float:
        return "number"
    if hint is str or hint is datetime.datetime or hint is datetime.date:
        return "text"
    if origin is Literal:
        return "text" if all(isinstance(a, str) for a in get_args(hint)) else "auto"
    if origin is list or hint is list:
        return "list"
    if origin is dict or hint is dict or typing.is_typeddict(hint):
        return "object"
    members = _members(hint)
    if len(members) == 1 and members[0] is not hint:  # X | None
        return kind(members[0])
    if len(members) > 1:
        found: set[Kind] = {kind(arg) for arg in members}
        if found == {"integer", "number"}:
            return "number"
        return found.pop() if len(found) == 1 else "auto"
    return "auto"


def choices(hint: object) -> tuple[str, ...] | None:
    """The values a param may take, when its type is a closed set of strings."""
    hint = bare(hint)
    if typing.get_origin(hint) is Literal and all(isinstance(a, str) for a in get_args(hint)):
        return tuple(typing.cast(tuple[str, ...], get_args(hint)))
    return None


def repeatable(hint: object) -> bool:
    """Whether a param takes one text value or several (``tags``, ``unique_id`` filters)."""
    members = _members(hint)
    lists = [m for m in members if typing.get_origin(m) is list]
    return bool(lists) and all(kind(get_args(m)[0]) == "text" for m in lists if get_args(m))


def only_list(hint: object) -> bool:
    """Whether a repeatable param must be sent as a list even with one value."""
    return all(typing.get_origin(m) is list for m in _members(hint))


def is_datetime(hint: object) -> bool:
    return any(m is datetime.datetime or m is datetime.date for m in _members(hint))


def convert(name: str, kind: Kind, text: str) -> Any:
    """The value of one param given as text; ValueError says what is wrong with it."""
    if kind == "text":
        return text
    stripped = text.strip()
    if kind == "bool":
        if stripped.lower() in _TRUE:
            return True
        if stripped.lower() in _FALSE:
            return False
        raise ValueError(f"{name}: expected true or false, got {text!r}")
    if kind in ("number", "integer"):
        try:
            return int(stripped)
        except ValueError:
            pass
        try:
            if kind == "number":
                return float(stripped)
        except ValueError:
            pass
        expected = "a number" if kind == "number" else "a whole number"
        raise ValueError(f"{name}: expected {expected}, got {text!r}") from None
    if kind in ("list", "object"):
        want: type[Any] = list if kind == "list" else dict
        example = '["a", "b"]' if kind == "list" else '{"key": "value"}'
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if not isinstance(value, want):
            noun = "array" if kind == "list" else "object"
            raise ValueError(f"{name}: expected a JSON {noun} such as {example}")
        return typing.cast(Any, value)
    # auto: JSON arrays and objects are decoded, anything else stays text
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


def hints(params_type: type[Any] | None) -> dict[str, object]:
    """Each param of a generated TypedDict with its type (an empty dict for ``None``)."""
    if params_type is None:
        return {}
    return typing.get_type_hints(params_type)


def kinds(params_type: type[Any] | None) -> dict[str, Kind]:
    return {name: kind(hint) for name, hint in hints(params_type).items()}


def iso_time(name: str, text: str) -> str:
    """An ISO 8601 date or time as the API wants it (UTC, milliseconds, Z); ValueError
    when it is not one. A time without a zone is read as UTC."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name}: {text!r} is not an ISO 8601 date or time "
            "(e.g. 2024-05-01 or 2024-05-01T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return list(typing.cast(Iterable[Any], value))
    return [value]


def assignments(pairs: tuple[str, ...], types_of: Mapping[str, object]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs as params, each value typed by its param's hint (text when the
    name is unknown here: the client refuses unknown names with a clear error)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ValueError(f"{pair!r}: expected NAME=VALUE")
        hint = types_of.get(name)
        if hint is not None and repeatable(hint):
            value = convert(name, "list", text) if text.lstrip()[:1] == "[" else text
            earlier = params.get(name)
            if earlier is not None:  # -p tags=a -p tags=b: several values
                value = [*_as_list(earlier), *_as_list(value)]
            elif only_list(hint) and not isinstance(value, list):
                value = [value]
        else:
            value = convert(name, "auto" if hint is None else kind(hint), text)
        params[name] = value
    return params
