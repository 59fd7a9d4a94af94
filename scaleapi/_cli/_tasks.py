"""``scaleapi get``, ``cancel`` and ``list``: tasks one at a time, and pages of them.

``get`` and ``cancel`` are the generated ``get_task`` and ``cancel_task`` under short
names. ``list`` takes every query parameter of ``list_tasks`` as an option typed from its
generated TypedDict, so a filter added to the spec is an option here after
``make generate``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import click

from .._generated.operations import LIST_TASKS
from . import _render, _values
from ._root import EXIT_OK, State, context, pass_state
from ._surface import keyword_types, operation_command, option

if TYPE_CHECKING:
    from .._task import Task

get = operation_command(
    "get_task",
    "get",
    summary="Print a task.",
    examples="""
  scaleapi get 5774cc78b01249ab09f089dd
  scaleapi get 5774cc78b01249ab09f089dd --format json | jq .status
""",
)

cancel = operation_command(
    "cancel_task",
    "cancel",
    summary="Cancel a pending task and print it.",
    examples="""
  scaleapi cancel 5774cc78b01249ab09f089dd
  scaleapi cancel 5774cc78b01249ab09f089dd --format json
""",
)

OWN: Final = frozenset({"limit", "offset", "next_token", "since", "until", "all", "format"})
"""Query parameters of list_tasks that ``list`` sets itself (--limit, --all), and names
of its own options."""


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _values.iso_time(f"--{param.name}", value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _filter_options(command: click.Command) -> click.Command:
    """An option per query parameter of list_tasks, in the spec's order, before the rest."""
    filters = keyword_types(LIST_TASKS)
    generated = [option(name, hint) for name, hint in filters.items() if name not in OWN]
    command.params[:0] = generated
    return command


@_filter_options
@click.command(name="list", context_settings=context())
@click.option(
    "--since",
    metavar="ISO",
    callback=_since,
    help="Only tasks created at or after this date or time (UTC unless it says otherwise); "
    "the same as --start-time.",
)
@click.option(
    "--until",
    metavar="ISO",
    callback=_since,
    help="Only tasks created before this; the same as --end-time.",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    help="At most this many tasks [default: one page, the server's page size; no limit "
    "with --all].",
)
@click.option("--all", "every", is_flag=True, help="Every matching task, page after page.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "jsonl"]),
    help="table: a readable table [default]; jsonl: one task per line, as the API sends it "
    "[default with --all].",
)
@pass_state
def list_tasks(
    state: State,
    /,
    since: str | None,
    until: str | None,
    limit: int | None,
    every: bool,
    output_format: str | None,
    **filters: Any,
) -> int:
    """List tasks, newest first.

    Without --all, one page as a table. --all follows every page and streams the tasks
    as JSONL: an export you can read back with jq or pandas. Every query parameter of
    list_tasks is an option of the same name (--status, --type, --unique-id, ...); dates
    are ISO 8601.

    \b
    Examples:
      scaleapi list
      scaleapi list --type categorization --status completed --since 2024-05-01
      scaleapi list --all > tasks.jsonl
      scaleapi list --all --status pending --format table
    """
    query: dict[str, Any] = {name: value for name, value in filters.items() if value is not None}
    for alias, name, value in (("--since", "start_time", since), ("--until", "end_time", until)):
        if value is None:
            continue
        if name in query:
            raise click.UsageError(f"{alias} and --{name.replace('_', '-')} are the same filter")
        query[name] = value
    fmt = output_format or ("jsonl" if every else "table")
    with state.client() as client:
        if not every:
            if limit is not None:
                query["limit"] = limit  # the server refuses a page larger than it serves
            page = client.list_tasks(**query)
            if fmt == "jsonl":
                for task in page:
                    click.echo(json.dumps(task.as_dict(), ensure_ascii=False))
            else:
                more = "; --all lists every one" if page.has_more else ""
                caption = f"{len(page):,} of {page.total:,} tasks, newest first{more}"
                _render.task_table(page, caption)
            return EXIT_OK
        found = 0
        collected: list[Task] = []
        if limit is not None:
            query["limit"] = min(limit, _page_size_cap())
        for task in client.iter_tasks(**query):
            if fmt == "jsonl":
                click.echo(json.dumps(task.as_dict(), ensure_ascii=False))
            else:
                collected.append(task)
            found += 1
            if limit is not None and found >= limit:
                break
        if fmt == "table":
            _render.task_table(collected, f"{found:,} tasks, newest first")
    return EXIT_OK


def _page_size_cap() -> int:
    """The largest page list_tasks serves, from the packaged spec (read only when needed)."""
    from ._spec import query_schema

    schema = query_schema(LIST_TASKS.method, LIST_TASKS.path, "limit")
    maximum = schema.get("maximum", schema.get("x-server-default"))
    if not isinstance(maximum, int):
        raise click.ClickException("the packaged spec states no maximum page size for limit")
    return maximum
