"""The ``scaleapi`` command line: bulk, resumable creates from JSONL or CSV; get, cancel and
list tasks; run the local sandbox.

Needs the ``cli`` extra (click and rich). ``import scaleapi`` never imports this module;
rich and the clients load inside the commands that use them, so ``--help`` stays quick.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import csv
import datetime
import hashlib
import json
import os
import sys
import time
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

try:
    import click
except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
    raise SystemExit(
        "scaleapi: the command line needs click and rich: pip install 'scaleapi[cli]'"
    ) from None

from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._exceptions import (
    ScaleConnectionError,
    ScaleException,
    ScaleOutcomeUnknown,
    ScaleUnauthorized,
)
from ._generated.operations import CREATE_PARAMS
from ._generated.params import ListTasksParametersQuery, TaskStatus, TaskType
from ._version import __version__

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ._async_client import AsyncScaleClient
    from ._bulk import BulkResult
    from ._sync_client import ScaleClient
    from ._task import Task

__all__ = ["main"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
"""Some lines failed, or the API answered with an error."""
EXIT_USAGE: Final = 2
"""Bad options or an unreadable input (click's own code for usage errors)."""
EXIT_INTERRUPTED: Final = 130
"""Stopped by Ctrl-C (SIGINT), as shells report it."""

PLAIN_PROGRESS_INTERVAL: Final = 2.0
"""Seconds between progress lines when stderr is not a terminal."""
MAX_REPORTED_FAILURES: Final = 5
"""Failed lines described on stderr as they happen; the rest are only in the output."""
MAX_CONCURRENCY: Final = 64
"""Beyond a few dozen connections httpx's async client slows down rather than speeding up."""
MAX_NAMESPACE_IN_ID: Final = 100
"""Characters of the namespace kept, readable, at the start of a derived unique_id."""

TASK_TYPES: Final[tuple[str, ...]] = get_args(TaskType)
TASK_STATUSES: Final[tuple[str, ...]] = get_args(TaskStatus)

_SECRETS: list[str] = []
"""Values never to print (the API key), whatever an error message says."""


def _redact(text: str) -> str:
    for secret in _SECRETS:
        if secret:
            text = text.replace(secret, "***")
    return text


def _error(message: str) -> None:
    click.echo(_redact(f"scaleapi: error: {message}"), err=True)


_BASE_URL: list[str] = []
"""The base URL in use, to name it when it cannot be reached."""


def _describe(exc: ScaleException) -> str:
    text = str(exc)
    if isinstance(exc, ScaleUnauthorized):
        text += f" (check --api-key or ${API_KEY_ENV})"
    elif isinstance(exc, ScaleConnectionError) and not isinstance(exc, ScaleOutcomeUnknown):
        where = _BASE_URL[-1] if _BASE_URL else DEFAULT_BASE_URL
        text += f" (is {where} reachable? see --base-url or ${BASE_URL_ENV})"
    return text


class _ConfigError(click.ClickException):
    """Missing or unusable configuration (exit status 2, like a usage error)."""

    exit_code = EXIT_USAGE

    def show(self, file: IO[Any] | None = None) -> None:
        _error(self.format_message())


# -- global options ------------------------------------------------------------------


@dataclass
class _Options:
    api_key: str | None
    base_url: str | None

    def key(self) -> str:
        if not self.api_key:
            raise _ConfigError(
                f"no API key: set ${API_KEY_ENV} or pass --api-key (keys start with live_ or test_)"
            )
        return self.api_key

    def client(self) -> ScaleClient:
        from ._sync_client import ScaleClient

        return ScaleClient(self.key(), base_url=self.base_url)

    def async_client(self) -> AsyncScaleClient:
        from ._async_client import AsyncScaleClient

        return AsyncScaleClient(self.key(), base_url=self.base_url)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    show_envvar=True,
    metavar="KEY",
    help="Your API key (live_... or test_...). Prefer the environment variable: a command "
    "line is visible to other users of the machine.",
)
@click.option(
    "--base-url",
    envvar=BASE_URL_ENV,
    show_envvar=True,
    metavar="URL",
    help=f"The API's base URL [default: {DEFAULT_BASE_URL}].",
)
@click.version_option(__version__, "--version", prog_name="scaleapi")
@click.pass_context
def cli(ctx: click.Context, api_key: str | None, base_url: str | None) -> None:
    """Scale's task API from the command line.

    \b
    Examples:
      export SCALE_API_KEY=live_...
      scaleapi create categorization --file tasks.jsonl --out results.jsonl
      scaleapi get 5774cc78b01249ab09f089dd
      scaleapi list --status completed --since 2024-05-01
      scaleapi list --all > every-task.jsonl
      scaleapi sandbox --port 8080
    """
    if api_key:
        _SECRETS.append(api_key)
    _BASE_URL.append(base_url or DEFAULT_BASE_URL)
    ctx.obj = _Options(api_key, base_url)


# -- reading the input file --------------------------------------------------------------

InputFormat: TypeAlias = Literal["jsonl", "csv"]
_Kind: TypeAlias = Literal["text", "bool", "number", "list", "object", "auto"]


@dataclass
class _Line:
    """One record of the input: its params, or what is wrong with it."""

    number: int
    """The line of the file the record starts on, from 1."""
    params: dict[str, Any] | None = None
    problem: str | None = None


def _input_format(path: Path, given: str) -> InputFormat:
    if given == "csv" or (given == "auto" and path.suffix.lower() == ".csv"):
        return "csv"
    return "jsonl"


def _read_jsonl(path: Path) -> Iterator[_Line]:
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield _Line(number, problem=f"not UTF-8 text (byte {exc.start + 1})")
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield _Line(number, problem=f"not valid JSON ({exc.msg}, column {exc.colno})")
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield _Line(number, problem=f"a JSON {kind}, not an object of params")
                continue
            yield _Line(number, params=typing.cast(dict[str, Any], value))


def _kind(hint: object) -> _Kind:
    """How a CSV cell becomes the value of a param typed ``hint`` in the spec's TypedDict."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return "bool"
    if hint is int or hint is float:
        return "number"
    if hint is str:
        return "text"
    if origin is Literal:
        return "text" if all(isinstance(a, str) for a in get_args(hint)) else "auto"
    if origin is list or hint is list:
        return "list"
    if origin is dict or hint is dict or typing.is_typeddict(hint):
        return "object"
    if origin is typing.Union or origin is types.UnionType:
        kinds: set[_Kind] = {_kind(arg) for arg in get_args(hint) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "auto"
    return "auto"


def _column_kinds(task_type: str) -> dict[str, _Kind]:
    """Each param's kind, from the generated TypedDict of the type's create params."""
    params_type = CREATE_PARAMS.get(task_type)
    if params_type is None:
        return {}
    hints = typing.get_type_hints(params_type)
    return {name: _kind(hint) for name, hint in hints.items()}


_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def _cell(column: str, kind: _Kind, text: str) -> Any:
    """The value of one non-empty CSV cell; ValueError says what is wrong with it."""
    if kind == "text":
        return text
    stripped = text.strip()
    if kind == "bool":
        if stripped.lower() in _TRUE:
            return True
        if stripped.lower() in _FALSE:
            return False
        raise ValueError(f"column {column!r}: expected true or false, got {text!r}")
    if kind == "number":
        try:
            return int(stripped)
        except ValueError:
            pass
        try:
            return float(stripped)
        except ValueError:
            raise ValueError(f"column {column!r}: expected a number, got {text!r}") from None
    if kind in ("list", "object"):
        want, example = (list, '["a", "b"]') if kind == "list" else (dict, '{"key": "value"}')
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if not isinstance(value, want):
            noun = "array" if kind == "list" else "object"
            raise ValueError(f"column {column!r}: expected a JSON {noun} such as {example}")
        return typing.cast(Any, value)
    # auto: JSON arrays and objects are decoded, anything else stays text
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


def _read_csv(path: Path, task_type: str) -> Iterator[_Line]:
    kinds = _column_kinds(task_type)
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
                yield _Line(number, problem=problem)
                continue
            params: dict[str, Any] = {}
            try:
                for column, text in zip(columns, row, strict=False):
                    if text == "":
                        continue  # an empty cell leaves the param out
                    name, dot, key = column.partition(".")
                    if dot:  # metadata.batch -> {"metadata": {"batch": ...}}
                        target = params.setdefault(name, {})
                        if not isinstance(target, dict):
                            raise ValueError(f"column {column!r}: {name!r} is not an object")
                        typing.cast(dict[str, Any], target)[key] = _cell(column, "auto", text)
                    else:
                        params[name] = _cell(column, kinds.get(name, "auto"), text)
            except ValueError as exc:
                yield _Line(number, problem=str(exc))
                continue
            yield _Line(number, params=params)


def _check_csv_header(path: Path) -> None:
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


def _count(path: Path, fmt: InputFormat) -> int:
    """How many records the file holds (a quick first pass, for the progress bar's total)."""
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row))
        return max(rows - 1, 0)
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


# -- unique_id --------------------------------------------------------------------------

ID_SCHEME: Final = "scaleapi-cli-1"
"""Mixed into every derived unique_id; change it only together with the rule below."""


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


def _with_unique_id(line: _Line, namespace: str, task_type: str) -> _Line:
    assert line.params is not None
    own = line.params.get("unique_id")
    if own is None:
        unique_id = derive_unique_id(namespace, task_type, line.number, line.params)
        return _Line(line.number, params={**line.params, "unique_id": unique_id})
    if not isinstance(own, str) or not own:
        return _Line(line.number, problem="unique_id must be a non-empty string")
    return line


# -- progress -----------------------------------------------------------------------------


@dataclass
class _Tally:
    total: int
    created: int = 0
    existing: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.created + self.existing + self.failed

    def counts(self) -> str:
        return f"{self.created:,} created, {self.existing:,} existing, {self.failed:,} failed"


class _PlainProgress:
    """A line on stderr every few seconds: for logs, CI and pipes."""

    def __init__(self, tally: _Tally, quiet: bool) -> None:
        self.tally = tally
        self.quiet = quiet
        self.last = time.monotonic()

    def __enter__(self) -> _PlainProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def advance(self) -> None:
        now = time.monotonic()
        if self.quiet or now - self.last < PLAIN_PROGRESS_INTERVAL:
            return
        self.last = now
        tally = self.tally
        elapsed = now - tally.started
        rate = tally.done / elapsed if elapsed > 0 else 0.0
        left = f", about {(tally.total - tally.done) / rate:.0f} s left" if rate else ""
        share = f" ({100 * tally.done / tally.total:.0f}%)" if tally.total else ""
        click.echo(
            f"scaleapi create: {tally.done:,}/{tally.total:,} lines{share}, {tally.counts()}, "
            f"{rate:,.0f}/s{left}",
            err=True,
        )

    def note(self, text: str) -> None:
        click.echo(_redact(text), err=True)


def _two_line_progress() -> type[Progress]:
    """rich's Progress with a second line under the bar: the counts and the time so far."""
    from rich.console import RenderableType
    from rich.progress import Progress
    from rich.text import Text

    class TwoLineProgress(Progress):
        def get_renderables(self) -> Iterable[RenderableType]:
            yield self.make_tasks_table(self.tasks)
            for task in self.tasks:
                elapsed = datetime.timedelta(seconds=int(task.elapsed or 0))
                counts = task.fields.get("counts", "")
                yield Text(f"  {task.description}: {counts} · {elapsed} elapsed")

    return TwoLineProgress


class _RichProgress:
    """A live bar on a terminal: done/total, rate, ETA; the counts and elapsed time below."""

    def __init__(self, tally: _Tally, description: str, redirect_stdout: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.tally = tally
        # Two columns to spare: the terminal's "^C" echo must not wrap the bar's line, or
        # the last redraw leaves a stale copy above it.
        console = Console(stderr=True)
        console = Console(stderr=True, width=max(console.width - 2, 20))
        self.progress: Progress = _two_line_progress()(
            SpinnerColumn(),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            expand=True,
            redirect_stdout=redirect_stdout,
            redirect_stderr=False,
        )
        self.task: TaskID = self.progress.add_task(
            description, total=tally.total or None, rate="", counts=tally.counts()
        )

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.advance()
        self.progress.stop()

    def advance(self) -> None:
        speed = self.progress.tasks[0].speed
        rate = f"{speed:,.0f} tasks/s" if speed else ""
        self.progress.update(
            self.task, completed=self.tally.done, rate=rate, counts=self.tally.counts()
        )

    def note(self, text: str) -> None:
        self.progress.console.print(_redact(text), markup=False, highlight=False)


_Reporter: TypeAlias = _PlainProgress | _RichProgress


# -- create ---------------------------------------------------------------------------------


class _Stop(Exception):
    """An answer that every later line would get too (a bad key): stop early."""

    def __init__(self, error: ScaleException) -> None:
        super().__init__(str(error))
        self.error = error


def _error_json(exc: ScaleException) -> dict[str, Any]:
    return {"status_code": exc.code, "message": _redact(exc.message)}


def _failed(number: int, unique_id: str | None, error: dict[str, Any]) -> dict[str, Any]:
    return {"line": number, "unique_id": unique_id, "status": "failed", "error": error}


@dataclass
class _Run:
    """One ``scaleapi create``: the input, where results go, and the tally."""

    task_type: TaskType
    lines: Iterator[_Line]
    concurrency: int
    emit: Callable[[dict[str, Any]], None]
    tally: _Tally
    reporter: _Reporter
    reported_failures: int = 0
    stopped: ScaleException | None = None

    def record(self, result: dict[str, Any]) -> None:
        status = result["status"]
        tally = self.tally
        if status == "created":
            tally.created += 1
        elif status == "existing":
            tally.existing += 1
        else:
            tally.failed += 1
            error = result["error"]
            if self.reported_failures < MAX_REPORTED_FAILURES:
                code = error["status_code"]
                status_text = f"HTTP {code}: " if code is not None else ""
                self.reporter.note(f"line {result['line']}: {status_text}{error['message']}")
            elif self.reported_failures == MAX_REPORTED_FAILURES:
                self.reporter.note("(more failures: see the output)")
            self.reported_failures += 1
        self.emit(result)
        self.reporter.advance()

    async def run(self, client: AsyncScaleClient) -> None:
        loop = asyncio.get_running_loop()
        # Lines that cannot be sent, each with how many sendable lines came before it.
        unsendable: collections.deque[tuple[int, dict[str, Any]]] = collections.deque()
        numbers: collections.deque[int] = collections.deque()

        def sendable() -> Iterator[dict[str, Any]]:
            sent = 0
            for line in self.lines:
                if line.params is None:
                    error = {"status_code": None, "message": line.problem}
                    unsendable.append((sent, _failed(line.number, None, error)))
                    continue
                numbers.append(line.number)
                sent += 1
                yield line.params

        def ready(result: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            future.set_result(result)
            return future

        # Results go out in input order; a 409's lookup runs while later creates go on.
        pending: collections.deque[asyncio.Future[dict[str, Any]]] = collections.deque()

        async def drain(keep: int) -> None:
            while pending and (pending[0].done() or len(pending) > keep):
                result = await pending.popleft()
                self.record(result)
                error = result.get("error")
                if error and error["status_code"] == 401 and self.stopped is None:
                    raise _Stop(ScaleUnauthorized(error["message"], 401))

        results = client.create_tasks(self.task_type, sendable(), concurrency=self.concurrency)
        try:
            async for result in results:
                while unsendable and unsendable[0][0] <= result.index:
                    pending.append(ready(unsendable.popleft()[1]))
                number = numbers.popleft()
                pending.append(asyncio.ensure_future(self.finish(client, number, result)))
                await drain(self.concurrency - 1)
            while unsendable:
                pending.append(ready(unsendable.popleft()[1]))
            await drain(0)
        except _Stop as stop:
            self.stopped = stop.error
        finally:
            aclose = getattr(results, "aclose", None)
            if aclose is not None:
                await aclose()  # cancels the creates still in flight
            # Keep what is finished, in order; drop the rest (a rerun picks them up).
            while pending and pending[0].done() and not pending[0].cancelled():
                self.record(pending.popleft().result())
            for future in pending:
                future.cancel()

    async def finish(
        self, client: AsyncScaleClient, number: int, result: BulkResult
    ) -> dict[str, Any]:
        unique_id = str(result.params["unique_id"])
        task = result.task
        if task is None:
            assert result.error is not None
            return _failed(number, unique_id, _error_json(result.error))
        if task.type != self.task_type:
            message = f"unique_id {unique_id!r} is taken by {task.type} task {task.id}"
            return _failed(number, unique_id, {"status_code": 409, "message": message})
        return {"line": number, "unique_id": unique_id, "status": result.status, "task_id": task.id}


async def _create_all(options: _Options, run: _Run) -> None:
    async with options.async_client() as client:
        await run.run(client)


def _writer(out: IO[str] | None) -> Callable[[dict[str, Any]], None]:
    def emit(result: dict[str, Any]) -> None:
        # sys.stdout is looked up each time: the progress bar may have wrapped it.
        target = out if out is not None else sys.stdout
        target.write(json.dumps(result, ensure_ascii=False) + "\n")
        target.flush()

    return emit


@cli.command(context_settings=CONTEXT)
@click.argument("task_type", metavar="TYPE", type=click.Choice(TASK_TYPES))
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
@click.pass_obj
def create(
    options: _Options,
    task_type: str,
    path: Path,
    input_format: str,
    concurrency: int,
    out: Path | None,
    id_namespace: str | None,
    dry_run: bool,
    quiet: bool,
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
    fmt = _input_format(path, input_format)
    if out is not None and out.resolve() == path.resolve():
        raise click.BadParameter("--out must not be the input file", param_hint="--out")
    namespace = id_namespace if id_namespace is not None else path.name
    if not namespace:
        raise click.BadParameter("must not be empty", param_hint="--id-namespace")
    if not dry_run:
        options.key()  # no key: fail before reading anything
    try:  # a first pass over the whole file: a CSV that cannot be read fails here, not midway
        if fmt == "csv":
            _check_csv_header(path)
        total = _count(path, fmt)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.BadParameter(f"cannot be read as CSV: {exc}", param_hint="--file") from None
    records = _read_csv(path, task_type) if fmt == "csv" else _read_jsonl(path)
    lines = (
        _with_unique_id(ln, namespace, task_type) if ln.params is not None else ln for ln in records
    )

    handle = None if out is None else out.open("w", encoding="utf-8", newline="\n")
    try:
        if dry_run:
            return _dry_run(lines, _writer(handle))
        tally = _Tally(total=total)
        reporter: _Reporter
        if sys.stderr.isatty() and not quiet:
            reporter = _RichProgress(tally, task_type, handle is None and sys.stdout.isatty())
        else:
            reporter = _PlainProgress(tally, quiet)
        run = _Run(
            typing.cast(TaskType, task_type), lines, concurrency, _writer(handle), tally, reporter
        )
        interrupted = False
        with reporter:
            try:
                asyncio.run(_create_all(options, run))
            except KeyboardInterrupt:
                interrupted = True
        return _summary(run, interrupted)
    finally:
        if handle is not None:
            handle.close()


def _lines(count: int) -> str:
    return f"{count:,} line" if count == 1 else f"{count:,} lines"


def _dry_run(lines: Iterator[_Line], emit: Callable[[dict[str, Any]], None]) -> int:
    bad = good = 0
    for line in lines:
        if line.params is None:
            bad += 1
            error = {"status_code": None, "message": line.problem}
            emit(_failed(line.number, None, error))
            _error(f"line {line.number}: {line.problem}")
        else:
            good += 1
            emit({"line": line.number, "params": line.params})
    click.echo(f"scaleapi create --dry-run: {_lines(good)} to send, {bad:,} invalid", err=True)
    return EXIT_FAILED if bad else EXIT_OK


def _summary(run: _Run, interrupted: bool) -> int:
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
        _error(f"stopped with {_lines(left)} not sent: {_describe(run.stopped)}")
        return EXIT_FAILED
    if tally.failed:
        click.echo(
            f"scaleapi create: {tally.failed:,} failed (see the output). Fix those lines and "
            "run the same command\nagain: lines already done are not created twice.",
            err=True,
        )
        return EXIT_FAILED
    return EXIT_OK


# -- get, cancel, list ---------------------------------------------------------------------

_FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["pretty", "json"]),
    default="pretty",
    show_default=True,
    help="pretty: indented JSON; json: the task on one line, for scripts.",
)


def _print_task(task: Task, output_format: str) -> None:
    data = task.as_dict()
    if output_format == "json":
        click.echo(json.dumps(data, ensure_ascii=False))
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print_json(data=data)
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@cli.command(context_settings=CONTEXT)
@click.argument("task_id")
@_FORMAT_OPTION
@click.pass_obj
def get(options: _Options, task_id: str, output_format: str) -> int:
    """Print a task.

    \b
    Examples:
      scaleapi get 5774cc78b01249ab09f089dd
      scaleapi get 5774cc78b01249ab09f089dd --format json | jq .status
    """
    with options.client() as client:
        _print_task(client.fetch_task(task_id), output_format)
    return EXIT_OK


@cli.command(context_settings=CONTEXT)
@click.argument("task_id")
@_FORMAT_OPTION
@click.pass_obj
def cancel(options: _Options, task_id: str, output_format: str) -> int:
    """Cancel a pending task and print it.

    \b
    Examples:
      scaleapi cancel 5774cc78b01249ab09f089dd
      scaleapi cancel 5774cc78b01249ab09f089dd --format json
    """
    with options.client() as client:
        _print_task(client.cancel_task(task_id), output_format)
    return EXIT_OK


def _timestamp(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An ISO 8601 date or time as the API wants it (UTC, milliseconds, Z)."""
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _created(task: Task) -> str:
    return task.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(tasks: list[Task], caption: str | None) -> None:
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


@cli.command(name="list", context_settings=CONTEXT)
@click.option("--type", "task_type", type=click.Choice(TASK_TYPES), help="Only tasks of this type.")
@click.option("--status", type=click.Choice(TASK_STATUSES), help="Only tasks in this status.")
@click.option(
    "--since",
    metavar="ISO",
    callback=_timestamp,
    help="Only tasks created at or after this date or time (UTC unless it says otherwise).",
)
@click.option("--until", metavar="ISO", callback=_timestamp, help="Only tasks created before this.")
@click.option(
    "--limit",
    type=click.IntRange(1),
    help="At most this many tasks [default: 100, one page; no limit with --all].",
)
@click.option("--all", "every", is_flag=True, help="Every matching task, page after page.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "jsonl"]),
    help="table: a readable table [default]; jsonl: one task per line, as the API sends it "
    "[default with --all].",
)
@click.pass_obj
def list_tasks(
    options: _Options,
    task_type: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    every: bool,
    output_format: str | None,
) -> int:
    """List tasks, newest first.

    Without --all, one page (up to 100 tasks) as a table. --all follows every page and
    streams the tasks as JSONL: an export you can read back with jq or pandas.

    \b
    Examples:
      scaleapi list
      scaleapi list --type categorization --status completed --since 2024-05-01
      scaleapi list --all > tasks.jsonl
      scaleapi list --all --status pending --format table
    """
    filters: ListTasksParametersQuery = {}
    if task_type is not None:
        filters["type"] = typing.cast(TaskType, task_type)
    if status is not None:
        filters["status"] = typing.cast(TaskStatus, status)
    if since is not None:
        filters["start_time"] = since
    if until is not None:
        filters["end_time"] = until
    fmt = output_format or ("jsonl" if every else "table")
    with options.client() as client:
        if not every:
            if limit is not None and limit > 100:
                raise click.BadParameter("at most 100 without --all", param_hint="--limit")
            if limit is not None:
                filters["limit"] = limit
            page = client.tasks(**filters)
            if fmt == "jsonl":
                for task in page:
                    click.echo(json.dumps(task.as_dict(), ensure_ascii=False))
            else:
                more = "; --all lists every one" if page.has_more else ""
                _table(list(page), f"{len(page):,} of {page.total:,} tasks, newest first{more}")
            return EXIT_OK
        found = 0
        collected: list[Task] = []
        filters["limit"] = min(limit or 100, 100)
        for task in client.iter_tasks(**filters):
            if fmt == "jsonl":
                click.echo(json.dumps(task.as_dict(), ensure_ascii=False))
            else:
                collected.append(task)
            found += 1
            if limit is not None and found >= limit:
                break
        if fmt == "table":
            _table(collected, f"{found:,} tasks, newest first")
    return EXIT_OK


# -- sandbox ---------------------------------------------------------------------------------

_SANDBOX_EXAMPLES = """
Examples (scaleapi sandbox takes every option of python -m scaleapi.sandbox):
  scaleapi sandbox --port 8080 --db sandbox.sqlite
  scaleapi sandbox --port 0 --latency-ms 50 --callback-auth-key secret
  SCALE_BASE_URL=http://127.0.0.1:8080/v1 SCALE_API_KEY=test_me scaleapi list
"""


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def sandbox(arguments: tuple[str, ...]) -> int:
    """Run the local sandbox server.

    The same as python -m scaleapi.sandbox; --help lists its options.
    """
    try:
        from .sandbox.__main__ import main as sandbox_main
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        _error(f"the sandbox needs the [sandbox] extra ({exc}): pip install 'scaleapi[sandbox]'")
        return EXIT_FAILED
    wants_help = any(arg in ("-h", "--help") for arg in arguments)
    try:
        code = sandbox_main(list(arguments), prog="scaleapi sandbox")
    except SystemExit as exc:  # argparse: --help, or a usage error
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        _error(f"the sandbox needs the [sandbox] extra ({exc}): pip install 'scaleapi[sandbox]'")
        return EXIT_FAILED
    if wants_help:
        click.echo(_SANDBOX_EXAMPLES.rstrip())
    return code


# -- entry point ----------------------------------------------------------------------------


def main(argv: list[str] | None = None, prog_name: str = "scaleapi") -> int:
    """Run the command line; returns the exit status."""
    try:
        result = cli.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("scaleapi: interrupted", err=True)
        return EXIT_INTERRUPTED
    except ScaleException as exc:
        _error(_describe(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`scaleapi list --all | head`): not an error of ours.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:  # the output file cannot be written, say
        where = f": {exc.filename}" if exc.filename else ""
        _error(f"{exc.strerror or exc}{where}")
        return EXIT_FAILED
    return result if isinstance(result, int) else EXIT_OK
