"""Printing what the API answered: one JSON value (indented, or on one line for scripts),
JSONL streams, and tables of tasks."""

from __future__ import annotations

import datetime
import json
import sys
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .._task import Task

_FORMAT_DECLS = ("--format", "output_format")


def _format_settings() -> dict[str, Any]:
    return {
        "type": click.Choice(["pretty", "json"]),
        "default": "pretty",
        "show_default": True,
        "help": "pretty: indented JSON; json: the answer on one line, for scripts.",
    }


FORMAT_OPTION = click.option(*_FORMAT_DECLS, **_format_settings())
"""``--format pretty|json`` as a decorator."""


def format_option() -> click.Option:
    """``--format pretty|json`` as a parameter of a command built at run time."""
    return click.Option(list(_FORMAT_DECLS), **_format_settings())


PAGE_FACTS = ("total", "limit", "offset", "has_more", "next_token")


def to_json(value: Any) -> Any:
    """An answer of any operation as JSON: SDK objects (tasks, projects, batches, ...) as
    the API sends them, pages (Tasklist, Batchlist) with their facts, generated models by
    their ``to_dict``."""
    if isinstance(value, list | tuple):
        sequence = typing.cast(Sequence[Any], value)
        items = [to_json(item) for item in sequence]
        if not hasattr(sequence, "has_more"):
            return items
        facts = {name: getattr(sequence, name) for name in PAGE_FACTS if hasattr(sequence, name)}
        return {"docs": items, **facts}
    for name in ("as_dict", "to_dict"):
        method = getattr(value, name, None)
        if callable(method):
            return method()
    return value


def show(value: Any, output_format: str) -> None:
    data = to_json(value)
    if output_format == "json":
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print_json(data=data, default=str)
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def jsonl_writer(out: IO[str] | None) -> Callable[[Any], None]:
    """Writes one JSON value per line to ``out``, or to stdout."""

    def emit(value: Any) -> None:
        # sys.stdout is looked up each time: a progress bar may have wrapped it.
        target = out if out is not None else sys.stdout
        target.write(json.dumps(to_json(value), ensure_ascii=False, default=str) + "\n")
        target.flush()

    return emit


def _created(task: Task) -> str:
    return task.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def task_table(tasks: Iterable[Task], caption: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=240)
    table = Table(caption=caption, caption_justify="left")
    for name in ("id", "type", "status", "created", "unique_id"):
        table.add_column(name, no_wrap=name != "unique_id")
    for task in tasks:
        unique_id = task.as_dict().get("unique_id")
        table.add_row(
            task.id,
            task.type,
            task.status,
            _created(task),
            unique_id if isinstance(unique_id, str) else "",
        )
    console.print(table)
