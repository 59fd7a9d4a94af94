"""`python -m scaleapi.sandbox`: serve the sandbox until Ctrl-C or SIGTERM.

Once the server accepts connections, stdout gets exactly one line, the API's base URL
(`http://127.0.0.1:8080/v1`); stderr gets the admin URL and the callback auth key.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import cast

from ._config import OptionError, Settings, check_exposure, option_fields

__all__ = ["main"]


def _parser(prog: str) -> argparse.ArgumentParser:
    """The server's own flags, then one flag per sandbox option (from `Settings`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="A local, stateful Scale task API server that speaks the SDK's spec.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks a free one [%(default)s]"
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level [warning]",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
    options = parser.add_argument_group(
        "sandbox options (* also at run time: GET and POST /admin/config)"
    )
    for field in option_fields():
        help_text: str = ("* " if field.metadata["runtime"] else "") + field.metadata["help"]
        default = field.default
        if default is not None and field.repr:
            shown = (
                ",".join(map(str, cast("tuple[object, ...]", default)))
                if isinstance(default, tuple)
                else default
            )
            help_text += f" [{shown}]"
        options.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            type=field.metadata["parse"],
            default=argparse.SUPPRESS,  # the default is Settings'
            metavar=field.metadata["metavar"] or "N",
            help=help_text,
        )
    return parser


async def _serve(arguments: argparse.Namespace, settings: Settings) -> None:
    from ._app import build_app
    from ._server import bind_socket, make_server, root_url

    app = build_app(settings)
    sock = bind_socket(arguments.host, arguments.port)
    server = make_server(app, log_level=arguments.log_level, access_log=arguments.access_log)

    def stop() -> None:
        if server.should_exit:  # a second signal: do not wait for open connections
            server.force_exit = True
        server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(signum, stop)
    serving = loop.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if server.started:
            root = root_url(sock)
            print(root + app.state.engine.spec.base_path, flush=True)
            needs = " (Authorization: Bearer TOKEN)" if settings.admin_token_required else ""
            print(f"scaleapi.sandbox: admin routes at {root}/admin{needs}", file=sys.stderr)
            print(
                f"scaleapi.sandbox: callback auth key {settings.callback_auth_key}",
                file=sys.stderr,
                flush=True,
            )
        await serving
    finally:
        sock.close()
        app.state.engine.store.close()


def main(argv: Sequence[str] | None = None, prog: str = "python -m scaleapi.sandbox") -> int:
    """Run the sandbox until Ctrl-C or SIGTERM; ``prog`` names the command in ``--help``."""
    parser = _parser(prog)
    arguments = parser.parse_args(argv)
    server = {"host", "port", "log_level", "access_log"}
    given = {name: value for name, value in vars(arguments).items() if name not in server}
    try:
        settings = Settings.from_options(given)
        check_exposure(arguments.host, settings)
    except OptionError as exc:
        parser.error(f"argument --{exc.name.replace('_', '-')}: {exc.reason}")
    try:
        asyncio.run(_serve(arguments, settings))
    except KeyboardInterrupt:  # a signal that came before the handlers were installed
        pass
    except OSError as exc:
        print(f"scaleapi.sandbox: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
