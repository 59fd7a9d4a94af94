"""``scaleapi sandbox``: the local sandbox server, with every option of
``python -m scaleapi.sandbox`` (which parses them)."""

from __future__ import annotations

import click

from ._root import EXIT_FAILED, EXIT_USAGE, State, pass_state

_EXAMPLES = """
Examples (scaleapi sandbox takes every option of python -m scaleapi.sandbox):
  scaleapi sandbox --port 8080 --db sandbox.sqlite
  scaleapi sandbox --port 0 --latency-ms 50 --callback-auth-key secret
  SCALE_BASE_URL=http://127.0.0.1:8080/v1 SCALE_API_KEY=test_me scaleapi list
"""


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@pass_state
def sandbox(state: State, arguments: tuple[str, ...]) -> int:
    """Run the local sandbox server.

    The same as python -m scaleapi.sandbox; --help lists its options.
    """
    try:
        from ..sandbox.__main__ import main as sandbox_main
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        state.error(
            f"the sandbox needs the [sandbox] extra ({exc}): pip install 'scaleapi-typed[sandbox]'"
        )
        return EXIT_FAILED
    wants_help = any(arg in ("-h", "--help") for arg in arguments)
    try:
        code = sandbox_main(list(arguments), prog="scaleapi sandbox")
    except SystemExit as exc:  # argparse: --help, or a usage error
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        state.error(
            f"the sandbox needs the [sandbox] extra ({exc}): pip install 'scaleapi-typed[sandbox]'"
        )
        return EXIT_FAILED
    if wants_help:
        click.echo(_EXAMPLES.rstrip())
    return code
