"""``scaleapi create``: one task per line of a file, resumably, over ``create_tasks``.

The library does the work: ``AsyncScaleClient.create_tasks`` keeps a bounded window of
creates in flight, answers in input order, and reports each item ``created``,
``existing`` (its unique_id was taken: the task that has it) or ``failed``. This module
reads the file, gives every line its unique_id, and writes what comes back.

A line that cannot be sent (bad JSON, a bad cell) still has its place in the ordered
output: it goes through ``create_tasks`` as params under a name no create accepts, which
the client refuses before sending anything. So there is no second queue, and memory
stays bounded by the library's window however many bad lines come in a row.
"""

from __future__ import annotations

import asyncio
import csv
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import click

from .._exceptions import ScaleException, ScaleUnauthorized
from .._generated.operations import CREATE_PARAMS, CREATES, OPERATIONS
from . import _input, _progress, _render, _values
from ._input import Line
from ._root import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, State, context, pass_state

if TYPE_CHECKING:
    from .._bulk import BulkResult
    from .._generated.params import TaskType

MAX_REPORTED_FAILURES: Final = 5
"""Failed lines described on stderr as they happen; the rest are only in the output."""
MAX_CONCURRENCY: Final = 64
"""Beyond a few dozen connections httpx's async client slows down rather than speeding up."""
FINALIZE: Final = "finalize_batch"
UNSENDABLE: Final = "\x00 input line that cannot be sent"
"""The one param of an unsendable line: no create accepts it, so the client refuses it."""


class LineParams(dict[str, Any]):
    """The params of one input line, carrying the line's number back in its BulkResult."""

    __slots__ = ("line", "problem")

    def __init__(self, line: Line) -> None:
        super().__init__(line.params if line.params is not None else {UNSENDABLE: True})
        self.line = line.number
        self.problem = line.problem


def _failed(number: int, unique_id: str | None, code: int | None, message: str) -> dict[str, Any]:
    error = {"status_code": code, "message": message}
    return {"line": number, "unique_id": unique_id, "status": "failed", "error": error}


def outcome(task_type: str, result: BulkResult, redact: Callable[[str], str]) -> dict[str, Any]:
    """The output line of one BulkResult."""
    params = typing.cast(LineParams, result.params)
    if params.problem is not None:
        return _failed(params.line, None, None, params.problem)
    unique_id = str(params["unique_id"])
    task = result.task
    if task is None:
        error = result.error
        assert error is not None
        return _failed(params.line, unique_id, error.code, redact(error.message))
    if task.type != task_type:
        message = f"unique_id {unique_id!r} is taken by {task.type} task {task.id}"
        return _failed(params.line, unique_id, 409, message)
    return {
        "line": params.line,
        "unique_id": unique_id,
        "status": result.status,
        "task_id": task.id,
    }


@dataclass
class Run:
    """One ``scaleapi create``: where results go, the tally and its display."""

    task_type: str
    emit: Callable[[Any], None]
    tally: _progress.Tally
    reporter: _progress.Reporter
    reported_failures: int = 0
    stopped: ScaleException | None = None

    def record(self, result: dict[str, Any]) -> None:
        status = result["status"]
        if status == "created":
            self.tally.created += 1
        elif status == "existing":
            self.tally.existing += 1
        else:
            self.tally.failed += 1
            self.report(result["line"], result["error"])
        self.emit(result)
        self.reporter.advance()

    def report(self, line: int, error: dict[str, Any]) -> None:
        if self.reported_failures < MAX_REPORTED_FAILURES:
            code = error["status_code"]
            status_text = f"HTTP {code}: " if code is not None else ""
            self.reporter.note(f"line {line}: {status_text}{error['message']}")
        elif self.reported_failures == MAX_REPORTED_FAILURES:
            self.reporter.note("(more failures: see the output)")
        self.reported_failures += 1


async def create_all(state: State, run: Run, items: Iterator[LineParams], concurrency: int) -> None:
    """Every item through create_tasks, each result recorded in input order; a 401 stops
    the run (every later line would get it too)."""
    async with state.async_client() as client:
        task_type = typing.cast("TaskType", run.task_type)
        results: AsyncIterator[BulkResult] = client.create_tasks(
            task_type, items, concurrency=concurrency
        )
        try:
            async for result in results:
                run.record(outcome(run.task_type, result, state.redact))
                if isinstance(result.error, ScaleUnauthorized):
                    run.stopped = result.error
                    break
        finally:
            aclose = getattr(results, "aclose", None)
            if aclose is not None:
                await aclose()  # cancels the creates still in flight


def _lines(count: int) -> str:
    return f"{count:,} line" if count == 1 else f"{count:,} lines"


def print_plan(state: State, lines: Iterator[Line], emit: Callable[[Any], None]) -> int:
    bad = good = 0
    for line in lines:
        if line.params is None:
            bad += 1
            emit(_failed(line.number, None, None, line.problem or "cannot be sent"))
            state.error(f"line {line.number}: {line.problem}")
        else:
            good += 1
            emit({"line": line.number, "params": line.params})
    click.echo(f"scaleapi create --dry-run: {_lines(good)} to send, {bad:,} invalid", err=True)
    return EXIT_FAILED if bad else EXIT_OK


def summary(state: State, run: Run, interrupted: bool) -> int:
    tally = run.tally
    elapsed = time.monotonic() - tally.started
    left = tally.total - tally.done
    if interrupted:
        click.echo(
            f"scaleapi create: interrupted after {tally.done:,} of {tally.total:,} lines: "
            f"{tally.counts()}.\nRun the same command again to create the rest; nothing is "
            "created twice.",
            err=True,
        )
        return EXIT_INTERRUPTED
    click.echo(
        f"scaleapi create: {_lines(tally.done)} in {elapsed:.1f} s: {tally.counts()}", err=True
    )
    if run.stopped is not None:
        state.error(f"stopped with {_lines(left)} not sent: {state.describe(run.stopped)}")
        return EXIT_FAILED
    if tally.failed:
        click.echo(
            f"scaleapi create: {tally.failed:,} failed (see the output). Fix those lines and "
            "run the same command\nagain: lines already done are not created twice.",
            err=True,
        )
        return EXIT_FAILED
    return EXIT_OK


@click.command(context_settings=context())
@click.argument("task_type", metavar="TYPE", type=click.Choice(tuple(CREATES)))
@click.option(
    "--file",
    "-f",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The tasks: JSONL (one JSON object of params per line) or CSV with a header.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["auto", "jsonl", "csv"]),
    default="auto",
    show_default=True,
    help="Input format; auto means CSV for a .csv file, JSONL otherwise.",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=16,
    show_default=True,
    help="Creates in flight at once.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results (JSONL, one line per input line) here instead of stdout.",
)
@click.option(
    "--id-namespace",
    metavar="NAME",
    help="Namespace of the derived unique_ids [default: the input file's name]. Keep it when "
    "you rename the file; change it to create the same lines again as new tasks.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the params each line would send; send nothing."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress; only failures and the summary.")
@pass_state
def create(
    state: State,
    /,
    task_type: str,
    path: Path,
    input_format: str,
    concurrency: int,
    out: Path | None,
    id_namespace: str | None,
    dry_run: bool,
    quiet: bool,
    project: str | None = None,
    batch: str | None = None,
    finalize: bool = False,
) -> int:
    """Create one task of TYPE per line of a file, resumably.

    Every line gets a unique_id: its own "unique_id" field, or one derived from the file's
    name, the line number and the line's content. Rerunning the same command after a
    crash or Ctrl-C creates only what is missing: a line whose task exists already is
    reported as "existing", never created twice.

    CSV: the header names the params. An empty cell leaves its param out; cells of list
    or object params (categories, fields, metadata, ...) hold JSON, e.g. ["a","b"];
    true/false and numbers are read as such where the param wants them; a column named
    metadata.KEY sets one key of metadata.

    Output (stdout or --out), one JSON object per input line:
    {"line", "unique_id", "status": "created"|"existing"|"failed", "task_id" or "error"}.
    Exit status: 0 when every line was created or existed, 1 when any failed, 2 for bad
    options or input, 130 when interrupted.

    \b
    Examples:
      scaleapi create categorization --file tasks.jsonl --out results.jsonl
      scaleapi create annotation -f boxes.csv -c 32 > results.jsonl
      scaleapi create categorization -f tasks.jsonl --dry-run | head -3
    """
    fmt = _input.input_format(path, input_format)
    if out is not None and out.resolve() == path.resolve():
        raise click.BadParameter("--out must not be the input file", param_hint="--out")
    namespace = id_namespace if id_namespace is not None else path.name
    if not namespace:
        raise click.BadParameter("must not be empty", param_hint="--id-namespace")
    if finalize and batch is None:
        raise click.UsageError("--finalize needs --batch")
    defaults = {k: v for k, v in (("project", project), ("batch", batch)) if v is not None}
    if not dry_run:
        state.key()  # no key: fail before reading anything
    try:  # a first pass over the whole file: a CSV that cannot be read fails here, not midway
        if fmt == "csv":
            _input.check_csv_header(path)
        total = _input.count(path, fmt)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.BadParameter(f"cannot be read as CSV: {exc}", param_hint="--file") from None
    lines = (
        _input.with_unique_id(_input.with_defaults(line, defaults), namespace, task_type)
        for line in _input.records(path, fmt, task_type)
    )
    handle: IO[str] | None = None
    if out is not None:
        handle = out.open("w", encoding="utf-8", newline="\n")
    try:
        emit = _render.jsonl_writer(handle)
        if dry_run:
            return print_plan(state, lines, emit)
        tally = _progress.Tally(total=total)
        reporter = _progress.reporter(
            tally,
            label="scaleapi create",
            description=task_type,
            unit="lines",
            rate_unit="tasks",
            quiet=quiet,
            stdout_is_output=handle is None,
            redact=state.redact,
        )
        run = Run(task_type, emit, tally, reporter)
        interrupted = False
        with reporter:
            try:
                asyncio.run(create_all(state, run, map(LineParams, lines), concurrency))
            except KeyboardInterrupt:
                interrupted = True
        status = summary(state, run, interrupted)
        if finalize and batch is not None:
            status = finalize_after(state, batch, status)
        return status
    finally:
        if handle is not None:
            handle.close()


def finalize_after(state: State, batch: str, status: int) -> int:
    """``--finalize``: the batch is finalized only after a run where every line was
    created or existed (a rerun that completes it finalizes it then)."""
    if status != EXIT_OK:
        click.echo(
            f"scaleapi create: batch {batch} not finalized: the run is not complete", err=True
        )
        return status
    with state.client() as client:
        finalized: Any = getattr(client, FINALIZE)(batch)
    shown = getattr(finalized, "status", None)
    click.echo(
        f"scaleapi create: batch {batch} finalized" + (f" ({shown})" if shown else ""), err=True
    )
    return EXIT_OK


def _with_spec_options(command: click.Command) -> click.Command:
    """--project and --batch when a create takes them, --finalize when the spec can
    finalize a batch: the command line follows the spec."""
    takes = set[str]().union(*(_values.hints(t) for t in CREATE_PARAMS.values()))
    if "project" in takes:
        command.params.append(
            click.Option(
                ["--project"],
                metavar="NAME",
                help="Create every task in this project (a line's own project wins; part of the "
                "derived unique_ids).",
            )
        )
    if "batch" in takes:
        command.params.append(
            click.Option(
                ["--batch"],
                metavar="NAME",
                help="Create every task in this batch (a line's own batch wins; part of the "
                "derived unique_ids).",
            )
        )
        if FINALIZE in OPERATIONS:
            command.params.append(
                click.Option(
                    ["--finalize"],
                    is_flag=True,
                    help="Finalize the --batch once every line is created or existed.",
                )
            )
    return command


create = _with_spec_options(create)
