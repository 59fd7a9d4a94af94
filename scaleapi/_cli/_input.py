"""Reading ``scaleapi create``'s input: JSONL or CSV records, each the params of one task,
and the unique_id that makes a rerun resume instead of creating twice."""

from __future__ import annotations

import csv
import hashlib
import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import click

from .._generated.operations import CREATE_PARAMS
from . import _values

InputFormat: TypeAlias = Literal["jsonl", "csv"]

ID_SCHEME: Final = "scaleapi-cli-1"
"""Mixed into every derived unique_id; change it only together with the rule below."""
MAX_NAMESPACE_IN_ID: Final = 100
"""Characters of the namespace kept, readable, at the start of a derived unique_id."""


@dataclass(frozen=True, slots=True)
class Line:
    """One record of the input: its params, or what is wrong with it."""

    number: int
    """The line of the file the record starts on, from 1."""
    params: dict[str, Any] | None = None
    problem: str | None = None


def input_format(path: Path, given: str) -> InputFormat:
    if given == "csv" or (given == "auto" and path.suffix.lower() == ".csv"):
        return "csv"
    return "jsonl"


def read_jsonl(path: Path) -> Iterator[Line]:
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield Line(number, problem=f"not UTF-8 text (byte {exc.start + 1})")
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Line(number, problem=f"not valid JSON ({exc.msg}, column {exc.colno})")
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield Line(number, problem=f"a JSON {kind}, not an object of params")
                continue
            yield Line(number, params=typing.cast(dict[str, Any], value))


def read_csv(path: Path, task_type: str) -> Iterator[Line]:
    """Rows as params, each cell typed by its param in the type's create TypedDict; a
    column ``metadata.KEY`` sets one key of an object param."""
    kinds = _values.kinds(CREATE_PARAMS.get(task_type))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        columns = [name.strip() for name in header]
        start = reader.line_num + 1
        for row in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                problem = f"{len(row)} cells, but the header names {len(columns)} columns"
                yield Line(number, problem=problem)
                continue
            params: dict[str, Any] = {}
            try:
                for column, text in zip(columns, row, strict=False):
                    if text == "":
                        continue  # an empty cell leaves the param out
                    name, dot, key = column.partition(".")
                    where = f"column {column!r}"
                    if dot:  # metadata.batch -> {"metadata": {"batch": ...}}
                        target = params.setdefault(name, {})
                        if not isinstance(target, dict):
                            raise ValueError(f"{where}: {name!r} is not an object")
                        object_ = typing.cast(dict[str, Any], target)
                        object_[key] = _values.convert(where, "auto", text)
                    else:
                        params[name] = _values.convert(where, kinds.get(name, "auto"), text)
            except ValueError as exc:
                yield Line(number, problem=str(exc))
                continue
            yield Line(number, params=params)


def check_csv_header(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        return
    columns = [name.strip() for name in header]
    if any(not name or name.startswith(".") or name.endswith(".") for name in columns):
        raise click.BadParameter("the CSV header has an empty column name", param_hint="--file")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise click.BadParameter(
            f"the CSV header repeats {', '.join(repeated)}", param_hint="--file"
        )


def count(path: Path, fmt: InputFormat) -> int:
    """How many records the file holds (a quick first pass, for the progress bar's total)."""
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row))
        return max(rows - 1, 0)
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def records(path: Path, fmt: InputFormat, task_type: str) -> Iterator[Line]:
    return read_csv(path, task_type) if fmt == "csv" else read_jsonl(path)


def derive_unique_id(namespace: str, task_type: str, line: int, params: dict[str, Any]) -> str:
    """The unique_id of an input line that has none of its own.

    ``<namespace>:<line>:<16 hex>``, the hex being SHA-256 of the namespace (the input
    file's name, or ``--id-namespace``), the task type, the line number and the
    canonical JSON of the line's params. Rerunning the same file gives the same ids, so
    the server's 409 tells what already exists; an edited line gets a new id (it is new
    work), and so does every line of a renamed file unless ``--id-namespace`` keeps the
    old name.
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    material = "\x1f".join((ID_SCHEME, namespace, task_type, str(line), canonical))
    digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{namespace[:MAX_NAMESPACE_IN_ID]}:{line}:{digest}"


def with_defaults(line: Line, defaults: dict[str, Any]) -> Line:
    """The line with params it does not set itself (``--project``, ``--batch``) added."""
    if line.params is None or not defaults:
        return line
    return Line(line.number, params={**defaults, **line.params})


def with_unique_id(line: Line, namespace: str, task_type: str) -> Line:
    """The line with its own unique_id, or a derived one; a bad unique_id fails the line."""
    if line.params is None:
        return line
    own = line.params.get("unique_id")
    if own is None:
        unique_id = derive_unique_id(namespace, task_type, line.number, line.params)
        return Line(line.number, params={**line.params, "unique_id": unique_id})
    if not isinstance(own, str) or not own:
        return Line(line.number, problem="unique_id must be a non-empty string")
    return line
