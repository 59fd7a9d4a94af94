"""Progress of a long command on stderr: a live bar on a terminal, a plain line every few
seconds otherwise (logs, CI, pipes). rich loads only for the bar."""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

import click

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PLAIN_PROGRESS_INTERVAL: Final = 2.0
"""Seconds between progress lines when stderr is not a terminal."""


@dataclass
class Tally:
    """How far a run of ``scaleapi create`` is."""

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


class Counter(Protocol):
    """What a progress display reads: where a run is, out of how much, and a summary."""

    @property
    def done(self) -> int: ...

    @property
    def total(self) -> int: ...

    @property
    def started(self) -> float: ...

    def counts(self) -> str: ...


class Reporter(Protocol):
    def __enter__(self) -> Reporter: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def advance(self) -> None:
        """Show the counter's new state (as often as the display wants)."""

    def note(self, text: str) -> None:
        """A line for the user, above the bar."""


class PlainProgress:
    """A line on stderr every few seconds."""

    def __init__(
        self, counter: Counter, label: str, unit: str, quiet: bool, redact: Callable[[str], str]
    ) -> None:
        self.counter = counter
        self.label = label
        self.unit = unit
        self.quiet = quiet
        self.redact = redact
        self.last = time.monotonic()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def advance(self) -> None:
        now = time.monotonic()
        if self.quiet or now - self.last < PLAIN_PROGRESS_INTERVAL:
            return
        self.last = now
        counter = self.counter
        done, total = counter.done, counter.total
        elapsed = now - counter.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", about {(total - done) / rate:.0f} s left" if rate else ""
        share = f" ({100 * done / total:.0f}%)" if total else ""
        click.echo(
            f"{self.label}: {done:,}/{total:,} {self.unit}{share}, {counter.counts()}, "
            f"{rate:,.0f}/s{left}",
            err=True,
        )

    def note(self, text: str) -> None:
        click.echo(self.redact(text), err=True)


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


class RichProgress:
    """A live bar: done/total, rate, ETA; the counts and elapsed time below."""

    def __init__(
        self,
        counter: Counter,
        description: str,
        rate_unit: str,
        redirect_stdout: bool,
        redact: Callable[[str], str],
    ) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.counter = counter
        self.rate_unit = rate_unit
        self.redact = redact
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
            description, total=counter.total or None, rate="", counts=counter.counts()
        )

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.advance()
        self.progress.stop()

    def advance(self) -> None:
        speed = self.progress.tasks[0].speed
        rate = f"{speed:,.0f} {self.rate_unit}/s" if speed else ""
        self.progress.update(
            self.task, completed=self.counter.done, rate=rate, counts=self.counter.counts()
        )

    def note(self, text: str) -> None:
        self.progress.console.print(self.redact(text), markup=False, highlight=False)


def reporter(
    counter: Counter,
    *,
    label: str,
    description: str,
    unit: str,
    rate_unit: str,
    quiet: bool,
    stdout_is_output: bool,
    redact: Callable[[str], str],
) -> Reporter:
    """A live bar when stderr is a terminal (and not ``quiet``), plain lines otherwise.

    ``unit`` counts the work (lines), ``rate_unit`` what the bar's rate counts (tasks).
    ``stdout_is_output``: results go to a terminal's stdout, which the bar must then wrap.
    """
    if sys.stderr.isatty() and not quiet:
        redirect = stdout_is_output and sys.stdout.isatty()
        return RichProgress(counter, description, rate_unit, redirect, redact)
    return PlainProgress(counter, label, unit, quiet, redact)
