"""What every command shares: the global options, the state of one run, exit codes, errors.

There is no module-level state: :func:`scaleapi._cli.main` makes one :class:`State` per
run and click hands it to every command (``@pass_state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final

import click

from .._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from .._exceptions import (
    ScaleConnectionError,
    ScaleException,
    ScaleOutcomeUnknown,
    ScaleUnauthorized,
)
from .._version import __version__

if TYPE_CHECKING:
    from .._async_client import AsyncScaleClient
    from .._sync_client import ScaleClient

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
"""Some lines failed, or the API answered with an error."""
EXIT_USAGE: Final = 2
"""Bad options or an unreadable input (click's own code for usage errors)."""
EXIT_INTERRUPTED: Final = 130
"""Stopped by Ctrl-C (SIGINT), as shells report it."""


def context(**more: Any) -> dict[str, Any]:
    """The context settings of every command (a new dict each time: nothing shared)."""
    return {"help_option_names": ["-h", "--help"], "max_content_width": 100, **more}


@dataclass
class State:
    """One run of the command line: the key and base URL it was given."""

    api_key: str | None = None
    base_url: str | None = None

    def redact(self, text: str) -> str:
        """``text`` with the API key masked, whatever put it there."""
        return text.replace(self.api_key, "***") if self.api_key else text

    def error(self, message: str) -> None:
        click.echo(self.redact(f"scaleapi: error: {message}"), err=True)

    def describe(self, exc: ScaleException) -> str:
        """An API error, with a hint where the fix is on the user's side."""
        text = str(exc)
        if isinstance(exc, ScaleUnauthorized):
            text += f" (check --api-key or ${API_KEY_ENV})"
        elif isinstance(exc, ScaleConnectionError) and not isinstance(exc, ScaleOutcomeUnknown):
            where = self.base_url or DEFAULT_BASE_URL
            text += f" (is {where} reachable? see --base-url or ${BASE_URL_ENV})"
        return text

    def key(self) -> str:
        if not self.api_key:
            raise ConfigError(
                f"no API key: set ${API_KEY_ENV} or pass --api-key (keys start with live_ or test_)"
            )
        return self.api_key

    def client(self) -> ScaleClient:
        from .._sync_client import ScaleClient

        return ScaleClient(self.key(), base_url=self.base_url)

    def async_client(self) -> AsyncScaleClient:
        from .._async_client import AsyncScaleClient

        return AsyncScaleClient(self.key(), base_url=self.base_url)


pass_state = click.make_pass_decorator(State, ensure=True)


class ConfigError(click.ClickException):
    """Missing or unusable configuration (exit status 2, like a usage error)."""

    exit_code = EXIT_USAGE

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"scaleapi: error: {self.format_message()}", err=True)


def root() -> click.Group:
    """The ``scaleapi`` group, without its commands (a new one for every run)."""

    @click.group(context_settings=context())
    @click.option(
        "--api-key",
        envvar=API_KEY_ENV,
        show_envvar=True,
        metavar="KEY",
        help="Your API key (live_... or test_...). Prefer the environment variable: a "
        "command line is visible to other users of the machine.",
    )
    @click.option(
        "--base-url",
        envvar=BASE_URL_ENV,
        show_envvar=True,
        metavar="URL",
        help=f"The API's base URL [default: {DEFAULT_BASE_URL}].",
    )
    @click.version_option(__version__, "--version", prog_name="scaleapi")
    @pass_state
    def scaleapi(state: State, api_key: str | None, base_url: str | None) -> None:
        """Scale's task API from the command line.

        \b
        Examples:
          export SCALE_API_KEY=live_...
          scaleapi create categorization --file tasks.jsonl --out results.jsonl
          scaleapi get 5774cc78b01249ab09f089dd
          scaleapi list --status completed --since 2024-05-01
          scaleapi list --all > every-task.jsonl
          scaleapi call get_task 5774cc78b01249ab09f089dd
          scaleapi sandbox --port 8080
        """
        state.api_key = api_key or None
        state.base_url = base_url or None

    return scaleapi
