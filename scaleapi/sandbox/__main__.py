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

from ._config import FAULT_KINDS, SandboxOptions, Settings

__all__ = ["main"]


def _faults(text: str) -> tuple[str, ...]:
    kinds = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind {unknown[0]!r}; choose among {','.join(FAULT_KINDS)}"
        )
    return kinds


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="A local, stateful Scale task API server that speaks the SDK's spec.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks a free one [%(default)s]"
    )
    parser.add_argument(
        "--db", help="SQLite file for the tasks (kept across restarts); in memory if omitted"
    )
    parser.add_argument(
        "--complete-after",
        type=float,
        metavar="SECONDS",
        help="complete tasks of live_ keys this long after creation (default: only via /admin)",
    )
    parser.add_argument(
        "--callback-auth-key",
        metavar="KEY",
        help="scale-callback-auth header value (generated if omitted)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="N",
        help="wait N ms before answering each /v1 request",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of /v1 requests that get a fault [0]",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=FAULT_KINDS,
        metavar="KINDS",
        help=f"fault kinds to inject, comma-separated [{','.join(FAULT_KINDS)}]",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault sequence [0]")
    parser.add_argument(
        "--retry-after", default="1", metavar="VALUE", help="Retry-After of injected 429s [1]"
    )
    parser.add_argument(
        "--callback-attempts", type=int, default=4, metavar="N", help="tries per callback [4]"
    )
    parser.add_argument(
        "--callback-backoff",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="first wait between callback tries, doubling [0.5]",
    )
    parser.add_argument(
        "--spec", metavar="PATH", help="serve another OpenAPI file, e.g. a draft of the spec"
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level [warning]",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
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
            print(f"scaleapi.sandbox: admin routes at {root}/admin", file=sys.stderr)
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
    arguments = _parser(prog).parse_args(argv)
    options: SandboxOptions = {
        "db": arguments.db,
        "complete_after": arguments.complete_after,
        "callback_auth_key": arguments.callback_auth_key,
        "latency_ms": arguments.latency_ms,
        "fault_rate": arguments.fault_rate,
        "faults": arguments.faults,
        "seed": arguments.seed,
        "retry_after": arguments.retry_after,
        "callback_attempts": arguments.callback_attempts,
        "callback_backoff": arguments.callback_backoff,
        "spec": arguments.spec,
    }
    try:
        settings = Settings.from_options(options)
    except ValueError as exc:
        print(f"scaleapi.sandbox: {exc}", file=sys.stderr)
        return 2
    from ._server import run

    try:
        run(_serve(arguments, settings))
    except KeyboardInterrupt:  # a signal that came before the handlers were installed
        pass
    except OSError as exc:
        print(f"scaleapi.sandbox: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
