"""``scaleapi upload FILE...``: the generated ``upload_file``, once per file, with progress.

Each uploaded file's answer (its id and attachment URL) is one JSON line on stdout; a file
that fails is reported on stderr and the rest go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .._exceptions import ScaleException, ScaleUnauthorized
from .._generated.operations import OPERATIONS
from . import _progress, _render
from ._root import EXIT_FAILED, EXIT_OK, State, context, pass_state
from ._surface import assigned_params, option, param_option, shape

OPERATION = "upload_file"
_OWN = frozenset({"paths", "quiet", "param", "help"})
"""Names of this command's own parameters; an upload field by such a name takes --param."""


@dataclass
class Uploads:
    """How far a run of ``scaleapi upload`` is."""

    total: int
    uploaded: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.uploaded + self.failed

    def counts(self) -> str:
        return f"{self.uploaded:,} uploaded, {self.failed:,} failed"


def upload() -> click.Command | None:
    """The command, when the spec has the operation."""
    op = OPERATIONS.get(OPERATION)
    if op is None:
        return None
    the_shape = shape(op)
    file_args = [arg.name for arg in the_shape.leading if arg.is_file]
    if len(file_args) != 1 or len(the_shape.leading) != 1:
        return None  # not the shape this command knows how to call
    keywords = the_shape.keywords

    @pass_state
    def run(
        state: State,
        /,
        paths: tuple[Path, ...],
        quiet: bool,
        assigned: tuple[str, ...],
        **given: Any,
    ) -> int:
        params = {key: value for key, value in given.items() if value is not None}
        params.update(assigned_params(assigned, keywords))
        tally = Uploads(total=len(paths))
        reporter = _progress.reporter(
            tally,
            label="scaleapi upload",
            description="upload",
            unit="files",
            rate_unit="files",
            quiet=quiet,
            stdout_is_output=True,
            redact=state.redact,
        )
        emit = _render.jsonl_writer(None)
        with state.client() as client, reporter:
            for path in paths:
                try:
                    answer = getattr(client, OPERATION)(path, **params)
                except ScaleUnauthorized:
                    raise  # every other file would get it too
                except ScaleException as exc:
                    tally.failed += 1
                    reporter.note(f"{path}: {state.describe(exc)}")
                else:
                    tally.uploaded += 1
                    emit(answer)
                reporter.advance()
        click.echo(f"scaleapi upload: {tally.counts()}", err=True)
        return EXIT_FAILED if tally.failed else EXIT_OK

    return click.Command(
        "upload",
        context_settings=context(),
        callback=run,
        params=[
            click.Argument(
                ["paths"],
                nargs=-1,
                required=True,
                metavar="FILE...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
            ),
            *(option(name, hint) for name, hint in keywords.items() if name not in _OWN),
            param_option(),
            click.Option(["--quiet", "-q"], is_flag=True, help="No progress; only failures."),
        ],
        short_help="Upload files; print each one's id and URL.",
        help="""Upload files, one upload_file call each; print each answer as a JSON line.

        The options are upload_file's fields, the same for every file. A file that fails is
        reported on stderr and the others go on; the exit status is 1 if any failed.

        \b
        Examples:
          scaleapi upload kitten-1.jpg kitten-2.jpg --project-name kittens
          scaleapi upload scans/*.pdf -q > files.jsonl
        """,
    )
