"""The ``scaleapi`` command line: a thin shell over the library.

One module per command group: ``_create`` (bulk, resumable creates over
``create_tasks``), ``_tasks`` (get, cancel, list), ``_projects``, ``_batches``,
``_upload``, ``_surface`` (commands made from the generated operations, and ``call`` for
any of them), ``_sandbox``; reading the input (``_input``, ``_values``), showing progress
(``_progress``) and answers (``_render``) have their own. ``_root`` holds the group and
the state of one run.

Needs the ``cli`` extra (click and rich). ``import scaleapi`` never imports this package;
rich and the clients load inside the commands that use them, so ``--help`` stays quick.
"""

from __future__ import annotations

import contextlib
import os
import sys

try:
    import click
except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
    raise SystemExit(
        "scaleapi: the command line needs click and rich: pip install 'scaleapi-typed[cli]'"
    ) from None

from .._exceptions import ScaleException
from ._root import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, State

__all__ = ["command_line", "main"]


def command_line() -> click.Group:
    """The ``scaleapi`` group with every command."""
    from ._batches import batches
    from ._create import create
    from ._projects import projects
    from ._root import root
    from ._sandbox import sandbox
    from ._surface import call
    from ._tasks import cancel, get, list_tasks
    from ._upload import upload

    # projects, batches and upload are there when the spec has their operations.
    group = root()
    commands = (create, get, cancel, list_tasks, projects(), batches(), upload(), call, sandbox)
    for command in commands:
        if command is not None:
            group.add_command(command)
    return group


def main(argv: list[str] | None = None, prog_name: str = "scaleapi") -> int:
    """Run the command line; returns the exit status."""
    state = State()
    group = command_line()
    try:
        result = group.main(args=argv, prog_name=prog_name, standalone_mode=False, obj=state)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("scaleapi: interrupted", err=True)
        return EXIT_INTERRUPTED
    except ScaleException as exc:
        state.error(state.describe(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`scaleapi list --all | head`): not an error of ours.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:  # the output file cannot be written, say
        where = f": {exc.filename}" if exc.filename else ""
        state.error(f"{exc.strerror or exc}{where}")
        return EXIT_FAILED
    return result if isinstance(result, int) else EXIT_OK
